"""Pure risk scoring on hand-computed cases: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from risks.metrics import (
    Bands,
    ExposureInput,
    RiskScoreResult,
    emv_for,
    exposure_compute,
    level_for,
    residual_score_for,
    risk_score_compute,
    score_for,
    trend_for,
)

TODAY = date(2026, 3, 13)


def _risk(**fields) -> ExposureInput:
    """A technical risk, probability 3 × impact 4 = 12 (base 48), no signals."""
    values = {"status": "open", "category": "technical", "probability": 3, "impact": 4}
    return ExposureInput(today=TODAY, **(values | fields))


# --- score, level, EMV, trend --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probability", "impact", "score"), [(1, 1, 1), (2, 3, 6), (3, 4, 12), (5, 5, 25)]
)
def test_score_is_probability_times_impact(probability, impact, score):
    assert score_for(probability, impact) == score


def test_residual_score_needs_both_values():
    assert residual_score_for(2, 3) == 6
    assert residual_score_for(None, 3) is None
    assert residual_score_for(2, None) is None


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (1, "low"),
        (4, "low"),
        (5, "medium"),
        (9, "medium"),
        (10, "high"),
        (14, "high"),
        (15, "critical"),
        (25, "critical"),
    ],
)
def test_level_uses_design_bands_at_their_edges(score, level):
    assert level_for(score) == level


@pytest.mark.parametrize(
    ("score", "level"),
    [(2, "low"), (3, "medium"), (6, "medium"), (7, "high"), (12, "high"), (13, "critical")],
)
def test_level_uses_project_bands_at_their_edges(score, level):
    assert level_for(score, Bands(low_max=2, medium_max=6, high_max=12)) == level


@pytest.mark.parametrize(
    ("probability", "cost", "emv"),
    [
        (3, Decimal("1000.00"), Decimal("600.00")),
        (5, Decimal("1234.56"), Decimal("1234.56")),
        (1, Decimal("333.33"), Decimal("66.67")),  # 66.666 rounds half up
        (2, Decimal("0.05"), Decimal("0.02")),  # 0.02 exactly
        (1, Decimal("0.00"), Decimal("0.00")),
    ],
)
def test_emv_is_probability_fifths_of_cost(probability, cost, emv):
    assert emv_for(probability, cost) == emv


@pytest.mark.parametrize(
    ("exposure", "previous", "trend"),
    [(50, None, "steady"), (50, 50, "steady"), (60, 50, "rising"), (40, 50, "falling")],
)
def test_trend_compares_with_the_previous_day(exposure, previous, trend):
    assert trend_for(exposure, previous) == trend


# --- exposure: base ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probability", "impact", "exposure"), [(1, 1, 4), (2, 3, 24), (3, 4, 48), (5, 5, 100)]
)
def test_exposure_base_is_four_times_the_inherent_score(probability, impact, exposure):
    assert exposure_compute(_risk(probability=probability, impact=impact)) == (
        exposure,
        [f"inherent score {probability * impact} of 25"],
    )


def test_mitigating_risk_with_residual_values_starts_from_the_residual_score():
    inputs = _risk(status="mitigating", residual_probability=2, residual_impact=2)
    assert exposure_compute(inputs) == (16, ["residual score 4 of 25 while mitigating"])


def test_mitigating_risk_without_both_residual_values_keeps_the_inherent_score():
    inputs = _risk(status="mitigating", residual_probability=2)
    assert exposure_compute(inputs) == (48, ["inherent score 12 of 25"])


def test_open_risk_ignores_its_residual_values():
    inputs = _risk(residual_probability=1, residual_impact=1)
    assert exposure_compute(inputs) == (48, ["inherent score 12 of 25"])


def test_closed_risk_has_no_exposure_whatever_its_signals():
    inputs = _risk(status="closed", items_blocked=3, review_date=TODAY - timedelta(days=40))
    assert exposure_compute(inputs) == (0, ["closed"])


def test_occurred_risk_is_fully_exposed():
    assert exposure_compute(_risk(status="occurred", probability=1, impact=1)) == (
        100,
        ["occurred"],
    )


# --- exposure: each signal alone -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_late", "addition", "reason"),
    [
        (1, 5, "review overdue by 1 day"),
        (12, 5, "review overdue by 12 days"),
        (30, 5, "review overdue by 30 days"),
        (31, 10, "review overdue by 31 days"),
    ],
)
def test_review_overdue_adds_five_then_ten_after_a_month(days_late, addition, reason):
    inputs = _risk(review_date=TODAY - timedelta(days=days_late))
    assert exposure_compute(inputs) == (48 + addition, ["inherent score 12 of 25", reason])


@pytest.mark.parametrize("review_date", [TODAY, TODAY + timedelta(days=3), None])
def test_review_due_today_or_later_adds_nothing(review_date):
    assert exposure_compute(_risk(review_date=review_date)) == (48, ["inherent score 12 of 25"])


@pytest.mark.parametrize(
    ("count", "addition", "reason"),
    [
        (1, 8, "mitigation overdue: 1 linked item past due"),
        (2, 16, "mitigation overdue: 2 linked items past due"),
        (3, 24, "mitigation overdue: 3 linked items past due"),
        (7, 24, "mitigation overdue: 7 linked items past due"),
    ],
)
def test_mitigation_overdue_adds_eight_per_item_up_to_24(count, addition, reason):
    inputs = _risk(items_past_due=count)
    assert exposure_compute(inputs) == (48 + addition, ["inherent score 12 of 25", reason])


@pytest.mark.parametrize(
    ("count", "addition", "reason"),
    [
        (1, 8, "1 linked item blocked"),
        (2, 16, "2 linked items blocked"),
        (4, 24, "4 linked items blocked"),
    ],
)
def test_blocked_linked_items_add_eight_each_up_to_24(count, addition, reason):
    inputs = _risk(items_blocked=count)
    assert exposure_compute(inputs) == (48 + addition, ["inherent score 12 of 25", reason])


@pytest.mark.parametrize(
    ("count", "addition", "reason"),
    [
        (1, 4, "1 linked item past its sprint's end"),
        (3, 12, "3 linked items past their sprint's end"),
        (5, 12, "5 linked items past their sprint's end"),
    ],
)
def test_items_past_their_sprint_add_four_each_up_to_12(count, addition, reason):
    inputs = _risk(items_sprint_overdue=count)
    assert exposure_compute(inputs) == (48 + addition, ["inherent score 12 of 25", reason])


@pytest.mark.parametrize("category", ["schedule", "scope"])
@pytest.mark.parametrize(
    ("committed", "completed", "addition", "reason"),
    [
        ("20", "12", 16, "last sprint completed 60% of committed points"),
        ("20", "17", 6, "last sprint completed 85% of committed points"),
        ("30", "20", 13, "last sprint completed 67% of committed points"),  # 13.33
        ("20", None, 40, "last sprint completed 0% of committed points"),
    ],
)
def test_carry_over_raises_schedule_and_scope_risks(
    category, committed, completed, addition, reason
):
    inputs = _risk(
        category=category,
        last_sprint_committed=Decimal(committed),
        last_sprint_completed=Decimal(completed) if completed else None,
    )
    assert exposure_compute(inputs) == (48 + addition, ["inherent score 12 of 25", reason])


@pytest.mark.parametrize(
    ("category", "committed", "completed"),
    [
        ("schedule", "20", "18"),  # exactly 90%: the threshold is not reached
        ("schedule", "20", "25"),  # more than committed
        ("schedule", "0", "0"),  # nothing committed
        ("schedule", None, None),  # no closed sprint yet
        ("technical", "20", "5"),  # not a schedule or scope risk
        ("budget", "20", "5"),
    ],
)
def test_carry_over_ignored_when_small_missing_or_not_applicable(category, committed, completed):
    inputs = _risk(
        category=category,
        last_sprint_committed=Decimal(committed) if committed else None,
        last_sprint_completed=Decimal(completed) if completed else None,
    )
    assert exposure_compute(inputs) == (48, ["inherent score 12 of 25"])


@pytest.mark.parametrize(
    ("spi", "addition", "reason"),
    [
        ("0.80", 15, "SPI 0.80: schedule behind plan"),
        ("0.94", 1, "SPI 0.94: schedule behind plan"),
        ("0.50", 30, "SPI 0.50: schedule behind plan"),  # 45, capped at 30
    ],
)
def test_low_spi_raises_schedule_risks(spi, addition, reason):
    inputs = _risk(category="schedule", spi=Decimal(spi))
    assert exposure_compute(inputs) == (48 + addition, ["inherent score 12 of 25", reason])


def test_low_cpi_raises_budget_risks():
    inputs = _risk(category="budget", cpi=Decimal("0.85"))
    assert exposure_compute(inputs) == (58, ["inherent score 12 of 25", "CPI 0.85: over budget"])


@pytest.mark.parametrize(
    ("category", "spi", "cpi"),
    [
        ("schedule", "0.95", None),  # at the threshold
        ("schedule", "1.10", None),
        ("schedule", None, "0.50"),  # CPI is for budget risks
        ("budget", "0.50", None),  # SPI is for schedule risks
        ("budget", None, "0.95"),
        ("technical", "0.50", "0.50"),
        ("schedule", None, None),  # no budget yet
    ],
)
def test_indices_ignored_at_threshold_absent_or_other_category(category, spi, cpi):
    inputs = _risk(
        category=category,
        spi=Decimal(spi) if spi else None,
        cpi=Decimal(cpi) if cpi else None,
    )
    assert exposure_compute(inputs) == (48, ["inherent score 12 of 25"])


# --- exposure: signals combined ------------------------------------------------------------------


def test_signals_add_up_in_a_fixed_order():
    inputs = _risk(
        probability=2,
        impact=3,  # base 24
        review_date=TODAY - timedelta(days=12),  # +5
        items_past_due=1,  # +8
        items_blocked=2,  # +16
        items_sprint_overdue=1,  # +4
    )
    assert exposure_compute(inputs) == (
        57,
        [
            "inherent score 6 of 25",
            "review overdue by 12 days",
            "mitigation overdue: 1 linked item past due",
            "2 linked items blocked",
            "1 linked item past its sprint's end",
        ],
    )


def test_schedule_risk_with_every_signal_is_capped_at_100():
    inputs = _risk(
        category="schedule",  # base 48
        review_date=TODAY - timedelta(days=12),  # +5
        items_past_due=2,  # +16
        items_blocked=1,  # +8
        last_sprint_committed=Decimal("20"),
        last_sprint_completed=Decimal("12"),  # +16
        spi=Decimal("0.80"),  # +15 → 108
    )
    assert exposure_compute(inputs) == (
        100,
        [
            "inherent score 12 of 25",
            "review overdue by 12 days",
            "mitigation overdue: 2 linked items past due",
            "1 linked item blocked",
            "last sprint completed 60% of committed points",
            "SPI 0.80: schedule behind plan",
        ],
    )


def test_mitigating_risk_adds_signals_to_its_residual_base():
    inputs = _risk(
        status="mitigating",
        residual_probability=1,
        residual_impact=3,  # base 12
        items_blocked=1,  # +8
        review_date=TODAY - timedelta(days=45),  # +10
    )
    assert exposure_compute(inputs) == (
        30,
        [
            "residual score 3 of 25 while mitigating",
            "review overdue by 45 days",
            "1 linked item blocked",
        ],
    )


def test_blocking_one_more_item_raises_exposure_by_its_weight():
    calm = _risk(items_blocked=1)
    worse = replace(calm, items_blocked=2)
    assert exposure_compute(worse)[0] - exposure_compute(calm)[0] == 8


# --- the whole score -----------------------------------------------------------------------------


def test_risk_score_compute_gives_every_figure():
    inputs = _risk(
        probability=4,
        impact=4,
        status="mitigating",
        residual_probability=2,
        residual_impact=3,
        items_past_due=1,
    )
    assert risk_score_compute(inputs, cost_impact=Decimal("25000.00")) == RiskScoreResult(
        score=16,
        level="critical",
        residual_score=6,
        residual_level="medium",
        emv=Decimal("20000.00"),
        exposure=32,  # 6 × 4 + 8
        reasons=[
            "residual score 6 of 25 while mitigating",
            "mitigation overdue: 1 linked item past due",
        ],
    )


def test_risk_score_compute_uses_the_project_bands():
    result = risk_score_compute(
        _risk(probability=2, impact=2), cost_impact=Decimal("10"), bands=Bands(3, 6, 12)
    )
    assert (result.score, result.level, result.residual_score, result.residual_level) == (
        4,
        "medium",
        None,
        None,
    )
    assert result.emv == Decimal("4.00")
