"""Pure risk scoring: inherent and residual score, level, expected monetary value, live exposure.

No Django. The worker (``risks.tasks.recompute_risks``) loads plain inputs with set-based SQL,
calls ``risk_score_compute`` per risk and upserts the results; the API and pages compute
score, level and EMV from the row the same way.

Score and level
    score = probability × impact (1–25). Levels come from per-project bands, by default
    low ≤ 4, medium 5–9, high 10–14, critical ≥ 15 (DESIGN.md).
    residual score = residual probability × residual impact, when both are set.
    EMV (expected monetary value) = probability / 5 × cost impact, rounded to cents.

Exposure (0–100): how much attention the risk needs today
    closed risk      0, reason "closed"
    occurred risk  100, reason "occurred"
    otherwise the base is the score × 4 (1 → 4 … 25 → 100); a mitigating risk with both
    residual values set uses its residual score instead. Signals then add to the base
    (linked items count only while not in a done status):

    review overdue       review date before today: +5, or +10 when more than 30 days late;
                         "review overdue by 12 days"
    mitigation overdue   linked items whose due date is before today: +8 each, at most +24;
                         "mitigation overdue: 2 linked items past due"
    blocked              linked items flagged blocked: +8 each, at most +24;
                         "2 linked items blocked"
    overdue in sprint    linked items in a sprint that ended before today and not already
                         past their own due date: +4 each, at most +12;
                         "1 linked item past its sprint's end"
    sprint carry-over    schedule and scope risks, when the last closed sprint completed less
                         than 90% of its committed points: round(40 × (1 − completed ÷
                         committed)); "last sprint completed 60% of committed points"
    SPI                  schedule risks with SPI < 0.95: round(100 × (0.95 − SPI)), at most
                         +30; "SPI 0.80: schedule behind plan"
    CPI                  budget risks with CPI < 0.95: round(100 × (0.95 − CPI)), at most
                         +30; "CPI 0.85: over budget"

    The sum is capped at 100. Rounding is half up. The first reason always names the base
    ("inherent score 12 of 25" or "residual score 6 of 25 while mitigating").

Trend compares today's exposure with the exposure stored for the latest earlier day:
rising, falling or steady (steady when there is no earlier day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")
ZERO = Decimal("0")

LOW, MEDIUM, HIGH, CRITICAL = "low", "medium", "high", "critical"
RISING, FALLING, STEADY = "rising", "falling", "steady"

OPEN, MITIGATING, CLOSED, OCCURRED = "open", "mitigating", "closed", "occurred"
SCHEDULE, SCOPE, BUDGET = "schedule", "scope", "budget"

# Exposure weights (see the module docstring and docs/risks.md).
EXPOSURE_PER_SCORE_POINT = 4
REVIEW_OVERDUE = 5
REVIEW_LONG_OVERDUE = 10
REVIEW_LONG_OVERDUE_DAYS = 30
MITIGATION_OVERDUE_PER_ITEM, MITIGATION_OVERDUE_MAX = 8, 24
BLOCKED_PER_ITEM, BLOCKED_MAX = 8, 24
SPRINT_OVERDUE_PER_ITEM, SPRINT_OVERDUE_MAX = 4, 12
CARRY_OVER_THRESHOLD = Decimal("0.90")
CARRY_OVER_WEIGHT = 40
INDEX_THRESHOLD = Decimal("0.95")
INDEX_WEIGHT = 100
INDEX_MAX = 30
EXPOSURE_MAX = 100


@dataclass(frozen=True)
class Bands:
    """Highest score of each level; anything above ``high_max`` is critical."""

    low_max: int = 4
    medium_max: int = 9
    high_max: int = 14


DEFAULT_BANDS = Bands()


@dataclass(frozen=True)
class ExposureInput:
    """Everything the exposure of one risk depends on, as plain values."""

    status: str
    category: str
    probability: int
    impact: int
    today: date
    residual_probability: int | None = None
    residual_impact: int | None = None
    review_date: date | None = None
    items_past_due: int = 0  # linked items not done whose due date is before today
    items_blocked: int = 0  # linked items not done and flagged blocked
    items_sprint_overdue: int = 0  # not done, in a sprint ended before today, not past due
    last_sprint_committed: Decimal | None = None  # last closed sprint of the project
    last_sprint_completed: Decimal | None = None
    spi: Decimal | None = None  # from the budget's earned value, when it exists
    cpi: Decimal | None = None


@dataclass(frozen=True)
class RiskScoreResult:
    score: int
    level: str
    residual_score: int | None
    residual_level: str | None
    emv: Decimal
    exposure: int
    reasons: list[str] = field(default_factory=list)


def score_for(probability: int, impact: int) -> int:
    """Inherent (or residual) score: probability × impact, 1–25."""
    return probability * impact


def residual_score_for(probability: int | None, impact: int | None) -> int | None:
    """Residual score when both residual values are set, else None."""
    if probability is None or impact is None:
        return None
    return probability * impact


def level_for(score: int, bands: Bands = DEFAULT_BANDS) -> str:
    """The level of a score under the project's bands (edges belong to the lower level)."""
    if score <= bands.low_max:
        return LOW
    if score <= bands.medium_max:
        return MEDIUM
    if score <= bands.high_max:
        return HIGH
    return CRITICAL


def emv_for(probability: int, cost_impact: Decimal) -> Decimal:
    """Expected monetary value: probability / 5 × cost impact, rounded half up to cents."""
    return (Decimal(probability) * cost_impact / 5).quantize(CENTS, rounding=ROUND_HALF_UP)


def trend_for(exposure: int, previous: int | None) -> str:
    """Rising or falling against the latest earlier day's exposure; steady otherwise."""
    if previous is None or exposure == previous:
        return STEADY
    return RISING if exposure > previous else FALLING


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _items(count: int, singular: str = "linked item", plural: str = "linked items") -> str:
    return f"{count} {singular if count == 1 else plural}"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _index_addition(value: Decimal) -> int:
    return min(_round((INDEX_THRESHOLD - value) * INDEX_WEIGHT), INDEX_MAX)


def exposure_compute(inputs: ExposureInput) -> tuple[int, list[str]]:
    """Live exposure 0–100 of one risk and the reasons behind it, in a PM's words.

    Rules and weights are in the module docstring. Closed risks are 0, occurred ones 100.
    """
    if inputs.status == CLOSED:
        return 0, ["closed"]
    if inputs.status == OCCURRED:
        return EXPOSURE_MAX, ["occurred"]
    residual = residual_score_for(inputs.residual_probability, inputs.residual_impact)
    if inputs.status == MITIGATING and residual is not None:
        exposure = residual * EXPOSURE_PER_SCORE_POINT
        reasons = [f"residual score {residual} of 25 while mitigating"]
    else:
        score = score_for(inputs.probability, inputs.impact)
        exposure = score * EXPOSURE_PER_SCORE_POINT
        reasons = [f"inherent score {score} of 25"]

    if inputs.review_date is not None and inputs.review_date < inputs.today:
        late = (inputs.today - inputs.review_date).days
        exposure += REVIEW_LONG_OVERDUE if late > REVIEW_LONG_OVERDUE_DAYS else REVIEW_OVERDUE
        reasons.append(f"review overdue by {_days(late)}")
    if inputs.items_past_due > 0:
        exposure += min(inputs.items_past_due * MITIGATION_OVERDUE_PER_ITEM, MITIGATION_OVERDUE_MAX)
        reasons.append(f"mitigation overdue: {_items(inputs.items_past_due)} past due")
    if inputs.items_blocked > 0:
        exposure += min(inputs.items_blocked * BLOCKED_PER_ITEM, BLOCKED_MAX)
        reasons.append(f"{_items(inputs.items_blocked)} blocked")
    if inputs.items_sprint_overdue > 0:
        exposure += min(inputs.items_sprint_overdue * SPRINT_OVERDUE_PER_ITEM, SPRINT_OVERDUE_MAX)
        whose = "its" if inputs.items_sprint_overdue == 1 else "their"
        reasons.append(f"{_items(inputs.items_sprint_overdue)} past {whose} sprint's end")

    if inputs.category in (SCHEDULE, SCOPE):
        committed, completed = inputs.last_sprint_committed, inputs.last_sprint_completed
        if committed is not None and committed > 0:
            share = (completed or ZERO) / committed
            if share < CARRY_OVER_THRESHOLD:
                exposure += _round((1 - share) * CARRY_OVER_WEIGHT)
                reasons.append(f"last sprint completed {_round(share * 100)}% of committed points")
    if inputs.category == SCHEDULE and inputs.spi is not None and inputs.spi < INDEX_THRESHOLD:
        exposure += _index_addition(inputs.spi)
        reasons.append(f"SPI {inputs.spi:.2f}: schedule behind plan")
    if inputs.category == BUDGET and inputs.cpi is not None and inputs.cpi < INDEX_THRESHOLD:
        exposure += _index_addition(inputs.cpi)
        reasons.append(f"CPI {inputs.cpi:.2f}: over budget")
    return min(exposure, EXPOSURE_MAX), reasons


def risk_score_compute(
    inputs: ExposureInput, *, cost_impact: Decimal, bands: Bands = DEFAULT_BANDS
) -> RiskScoreResult:
    """Score, level, residual score and level, EMV and exposure with reasons of one risk."""
    score = score_for(inputs.probability, inputs.impact)
    residual = residual_score_for(inputs.residual_probability, inputs.residual_impact)
    exposure, reasons = exposure_compute(inputs)
    return RiskScoreResult(
        score=score,
        level=level_for(score, bands),
        residual_score=residual,
        residual_level=level_for(residual, bands) if residual is not None else None,
        emv=emv_for(inputs.probability, cost_impact),
        exposure=exposure,
        reasons=reasons,
    )
