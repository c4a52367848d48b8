"""Writes of the risk register: create, change, delete, start the contingency plan, bands.

Every service validates, writes in one transaction with the actor attached to the audit
history (pghistory), and announces the change with ``project_changed`` so the worker
recomputes the project's risk scores after commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from projects.models import Membership, Project
from risks.metrics import RiskScoreResult
from risks.models import Risk, RiskItemLink, RiskSettings
from sprints.models import WorkItem
from sprints.services.items import work_item_create
from tpm.errors import Conflict, StaleVersion
from tpm.events import project_changed
from tpm.models import User

EDITABLE = {
    "title",
    "description",
    "category",
    "probability",
    "impact",
    "residual_probability",
    "residual_impact",
    "cost_impact",
    "owner",
    "status",
    "response",
    "mitigation_plan",
    "contingency_plan",
    "trigger",
    "review_date",
    "linked_items",
    "compliance_tags",
}
MAX_COST = Decimal("999999999999.99")
MAX_LINKS = 100
# Allowed status moves. ``occurred → closed`` lets a PM close a risk once its contingency is
# done; without it an occurred risk would stay at exposure 100 for ever.
TRANSITIONS: dict[str, frozenset[str]] = {
    Risk.Status.OPEN: frozenset({Risk.Status.MITIGATING, Risk.Status.CLOSED, Risk.Status.OCCURRED}),
    Risk.Status.MITIGATING: frozenset({Risk.Status.CLOSED, Risk.Status.OCCURRED}),
    Risk.Status.CLOSED: frozenset({Risk.Status.OPEN}),
    Risk.Status.OCCURRED: frozenset({Risk.Status.CLOSED}),
}
INITIAL_STATUSES = (Risk.Status.OPEN, Risk.Status.MITIGATING)
# Foreign keys and the project are checked by the rules below; cleaning them costs a query each.
_NOT_CLEANED = ["project", "owner", "contingency_item", "created_by"]


# --- validation helpers ------------------------------------------------------------------------


def _choices(choices: Any) -> str:
    return ", ".join(choices.values)


def _one_to_five(value: Any, field: str, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError({field: ["Give a whole number from 1 to 5."]})
    return value


def _cost(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"cost_impact": ["Enter an amount."]}) from exc
    if not number.is_finite():
        raise ValidationError({"cost_impact": ["Enter an amount."]})
    if number < 0:
        raise ValidationError({"cost_impact": ["Must not be negative."]})
    if number > MAX_COST:
        raise ValidationError({"cost_impact": [f"Must be at most {MAX_COST}."]})
    return number.quantize(Decimal("0.01"))


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError({"compliance_tags": ["Give a list of tags."]})
    tags: list[str] = []
    for raw in value:
        tag = raw.strip().lower() if isinstance(raw, str) else raw
        if tag not in Risk.ComplianceTag.values:
            raise ValidationError(
                {"compliance_tags": [f"Unknown tag {raw!r}. Use: {_choices(Risk.ComplianceTag)}."]}
            )
        if tag not in tags:
            tags.append(tag)
    return tags


def _check_owner(project: Project, user: User | None) -> None:
    if user is None:
        return
    if not Membership.objects.filter(
        project=project,
        user=user,
        role__in=[Membership.Role.OWNER, Membership.Role.MEMBER],
    ).exists():
        raise ValidationError(
            {"owner": [f"{user.username} is not an owner or member of {project.key}."]}
        )


def _check_items(project: Project, items: list[WorkItem]) -> list[WorkItem]:
    if len(items) > MAX_LINKS:
        raise ValidationError({"linked_items": [f"Link at most {MAX_LINKS} items."]})
    unique: dict[int, WorkItem] = {}
    for item in items:
        if item.project_id != project.pk:
            raise ValidationError({"linked_items": [f"Linked items must belong to {project.key}."]})
        unique.setdefault(item.pk, item)
    return list(unique.values())


def _check_transition(current: str, target: str) -> None:
    if current == target:
        return
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise ValidationError(
            {"status": [f"A risk that is {current} cannot become {target}; allowed: {allowed}."]}
        )


def _apply(risk: Risk, fields: dict[str, Any]) -> None:
    """Validate and set the plain fields of ``risk`` (no status, owner or links)."""
    if "title" in fields:
        risk.title = (fields["title"] or "").strip()
    if "category" in fields:
        if fields["category"] not in Risk.Category.values:
            raise ValidationError({"category": [f"Choose one of: {_choices(Risk.Category)}."]})
        risk.category = fields["category"]
    for name in ("probability", "impact"):
        if name in fields:
            setattr(risk, name, _one_to_five(fields[name], name))
    for name in ("residual_probability", "residual_impact"):
        if name in fields:
            setattr(risk, name, _one_to_five(fields[name], name, nullable=True))
    if "cost_impact" in fields:
        risk.cost_impact = _cost(fields["cost_impact"])
    if "response" in fields:
        response = fields["response"] or ""
        if response and response not in Risk.Response.values:
            raise ValidationError({"response": [f"Choose one of: {_choices(Risk.Response)}."]})
        risk.response = response
    for plain in ("description", "mitigation_plan", "contingency_plan", "trigger"):
        if plain in fields:
            setattr(risk, plain, (fields[plain] or "").strip())
    if "review_date" in fields:
        if fields["review_date"] is not None and not isinstance(fields["review_date"], date):
            raise ValidationError({"review_date": ["Enter a date as YYYY-MM-DD."]})
        risk.review_date = fields["review_date"]
    if "compliance_tags" in fields:
        risk.compliance_tags = _tags(fields["compliance_tags"])
    if not risk.title:
        raise ValidationError({"title": ["Give the risk a title."]})


def _links_replace(risk: Risk, items: list[WorkItem]) -> None:
    wanted = {item.pk for item in items}
    current = set(RiskItemLink.objects.filter(risk=risk).values_list("item_id", flat=True))
    if current - wanted:
        RiskItemLink.objects.filter(risk=risk, item_id__in=current - wanted).delete()
    if wanted - current:
        RiskItemLink.objects.bulk_create(
            [RiskItemLink(risk=risk, item_id=pk) for pk in sorted(wanted - current)]
        )


# --- services -----------------------------------------------------------------------------------


@transaction.atomic
def risk_create(
    *,
    actor: User,
    project: Project,
    title: str,
    category: str,
    probability: int,
    impact: int,
    owner: User | None = None,
    status: str = Risk.Status.OPEN,
    linked_items: Iterable[WorkItem] = (),
    **fields: Any,
) -> Risk:
    """Add a risk to the register. The owner must be an owner or member of the project.

    A new risk is open or mitigating. Linked items must be the project's own. Rules as in
    ``risk_update``; the audit history records the actor.
    """
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    if status not in INITIAL_STATUSES:
        raise ValidationError({"status": ["A new risk is open or mitigating."]})
    risk = Risk(project=project, status=status, created_by=actor)
    _apply(
        risk,
        {
            **fields,
            "title": title,
            "category": category,
            "probability": probability,
            "impact": impact,
        },
    )
    _check_owner(project, owner)
    risk.owner = owner
    items = _check_items(project, list(linked_items))
    risk.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    with pghistory.context(user=actor.pk):
        risk.save()
        _links_replace(risk, items)
    project_changed(project.pk, reason="risks.risk.created")
    return risk


@transaction.atomic
def risk_update(
    *, actor: User, risk: Risk, expected_version: int | None = None, **changes: Any
) -> Risk:
    """Change a risk. ``expected_version`` refuses the change (409) if someone changed it since.

    Rules: probability and impact 1–5 (residual ones may be null); cost impact not negative;
    the owner an owner or member of the project; linked items of this project (the list
    replaces the links); compliance tags from the known set; status moves follow
    ``TRANSITIONS`` (open → mitigating → closed, open → closed, open/mitigating → occurred,
    occurred → closed, closed → open). The row is locked, so the version check cannot race.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    project = risk.project
    locked = Risk.objects.select_for_update(of=("self",)).get(pk=risk.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(current=locked)
    locked.project = project
    if "status" in changes:
        target = changes.pop("status")
        if target not in Risk.Status.values:
            raise ValidationError({"status": [f"Choose one of: {_choices(Risk.Status)}."]})
        _check_transition(locked.status, target)
        locked.status = target
    if "owner" in changes:
        owner = changes.pop("owner")
        _check_owner(project, owner)
        locked.owner = owner
    items = changes.pop("linked_items", None)
    if items is not None:
        items = _check_items(project, list(items))
    _apply(locked, changes)
    locked.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    locked.version += 1
    with pghistory.context(user=actor.pk):
        locked.save()
        if items is not None:
            _links_replace(locked, items)
    project_changed(project.pk, reason="risks.risk.updated")
    return locked


@transaction.atomic
def risk_delete(*, actor: User, risk: Risk) -> None:
    """Delete a risk with its links and scores; the audit history keeps its last state."""
    with pghistory.context(user=actor.pk):
        Risk.objects.filter(pk=risk.pk).delete()
    project_changed(risk.project_id, reason="risks.risk.deleted")


def _contingency_title(risk: Risk) -> str:
    first_line = next((line.strip() for line in risk.contingency_plan.splitlines() if line), "")
    title = f"Contingency: {first_line or risk.title}"
    return title if len(title) <= 255 else title[:254] + "…"


@transaction.atomic
def risk_start_contingency(*, actor: User, risk: Risk) -> WorkItem:
    """Start the contingency plan: one new work item from the plan, linked to the risk.

    The item is a high-priority task titled from the plan's first line, described by the
    whole plan; it becomes the risk's ``contingency_item`` and one of its linked items. An
    open or mitigating risk becomes occurred (that is when a contingency runs). Refused with
    400 when there is no plan, 409 when the risk is closed or the plan was already started.
    All in one transaction: the item and the risk change together or not at all.
    """
    locked = Risk.objects.select_for_update(of=("self",)).get(pk=risk.pk)
    locked.project = risk.project
    if not locked.contingency_plan.strip():
        raise ValidationError(
            {"contingency_plan": ["Write the contingency plan before starting it."]}
        )
    if locked.contingency_item_id is not None:
        raise Conflict("The contingency plan was already started.", code="contingency_started")
    if locked.status == Risk.Status.CLOSED:
        raise Conflict(
            "The risk is closed; reopen it before starting its contingency plan.",
            code="risk_closed",
        )
    item = work_item_create(
        actor=actor,
        project=risk.project,
        title=_contingency_title(locked),
        type=WorkItem.Type.TASK,
        priority=WorkItem.Priority.HIGH,
        position="top",
        description=f"Contingency plan of risk {locked.pk}, {locked.title}:\n\n"
        f"{locked.contingency_plan}",
    )
    locked.contingency_item = item
    locked.status = Risk.Status.OCCURRED
    locked.version += 1
    with pghistory.context(user=actor.pk):
        locked.save()
        RiskItemLink.objects.get_or_create(risk=locked, item=item)
    project_changed(risk.project_id, reason="risks.risk.contingency_started")
    return item


@transaction.atomic
def risk_settings_update(
    *, actor: User, project: Project, low_max: int, medium_max: int, high_max: int
) -> RiskSettings:
    """Set the project's score bands; they must increase: 1 ≤ low < medium < high < 25."""
    values = {"low_max": low_max, "medium_max": medium_max, "high_max": high_max}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24:
            raise ValidationError({name: ["Give a whole number from 1 to 24."]})
    if not low_max < medium_max < high_max:
        raise ValidationError(
            {"non_field_errors": ["Bands must increase: low < medium < high maximum."]}
        )
    settings_row, _ = RiskSettings.objects.update_or_create(project=project, defaults=values)
    project_changed(project.pk, reason="risks.settings.updated")
    return settings_row


# --- worker writes ------------------------------------------------------------------------------


_SCORES_UPSERT = """
    INSERT INTO risks_riskscore (risk_id, project_id, score, level, residual_score,
        residual_level, emv, exposure, reasons, trend, computed_at)
    SELECT u.risk_id, %(project)s, u.score, u.level, u.residual_score, u.residual_level, u.emv,
           u.exposure, u.reasons::jsonb, u.trend, %(computed_at)s
    FROM unnest(%(risk_ids)s::bigint[], %(scores)s::int[], %(levels)s::text[],
                %(residual_scores)s::int[], %(residual_levels)s::text[], %(emvs)s::numeric[],
                %(exposures)s::int[], %(reasons)s::text[], %(trends)s::text[])
         AS u(risk_id, score, level, residual_score, residual_level, emv, exposure, reasons, trend)
    JOIN risks_risk r ON r.id = u.risk_id AND r.project_id = %(project)s
    ON CONFLICT (risk_id) DO UPDATE SET
        score = EXCLUDED.score, level = EXCLUDED.level,
        residual_score = EXCLUDED.residual_score, residual_level = EXCLUDED.residual_level,
        emv = EXCLUDED.emv, exposure = EXCLUDED.exposure, reasons = EXCLUDED.reasons,
        trend = EXCLUDED.trend, computed_at = EXCLUDED.computed_at
"""

_HISTORY_UPSERT = """
    INSERT INTO risks_riskscorehistory (risk_id, project_id, day, exposure, score, reasons)
    SELECT u.risk_id, %(project)s, %(day)s, u.exposure, u.score, u.reasons::jsonb
    FROM unnest(%(risk_ids)s::bigint[], %(exposures)s::int[], %(scores)s::int[],
                %(reasons)s::text[]) AS u(risk_id, exposure, score, reasons)
    JOIN risks_risk r ON r.id = u.risk_id AND r.project_id = %(project)s
    ON CONFLICT (risk_id, day) DO UPDATE SET
        exposure = EXCLUDED.exposure, score = EXCLUDED.score, reasons = EXCLUDED.reasons
"""


@dataclass(frozen=True)
class ScoreRow:
    """One computed risk, ready to store."""

    risk_id: int
    result: RiskScoreResult
    trend: str


@transaction.atomic
def risk_scores_replace(
    *, project_id: int, day: date, rows: list[ScoreRow], computed_at: datetime
) -> None:
    """Upsert every risk's score row and its history row for ``day``; drop rows of gone risks.

    Two set-based ``INSERT … ON CONFLICT`` statements whatever the number of risks, plus one
    prune. Recomputing from the same inputs gives the same rows (idempotent). Risks deleted
    since the inputs were loaded are skipped by the join, not reinserted.
    """
    reasons = [json.dumps(row.result.reasons) for row in rows]
    params = {
        "project": project_id,
        "computed_at": computed_at,
        "day": day,
        "risk_ids": [row.risk_id for row in rows],
        "scores": [row.result.score for row in rows],
        "levels": [row.result.level for row in rows],
        "residual_scores": [row.result.residual_score for row in rows],
        "residual_levels": [row.result.residual_level for row in rows],
        "emvs": [row.result.emv for row in rows],
        "exposures": [row.result.exposure for row in rows],
        "reasons": reasons,
        "trends": [row.trend for row in rows],
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM risks_riskscore WHERE project_id = %s AND NOT (risk_id = ANY(%s))",
            [project_id, params["risk_ids"]],
        )
        if rows:
            cursor.execute(_SCORES_UPSERT, params)
            cursor.execute(_HISTORY_UPSERT, params)
