"""Reads of the risk register for the API, the pages and the overview: fixed query counts.

Score, level, residual score and level and EMV are computed in SQL from the row itself (they
are deterministic), so they are right before the worker has run; exposure, reasons, trend and
``computed_at`` come from the worker's ``RiskScore`` row and are null until it has run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pghistory.models
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Round, Trim
from django.http import Http404

from projects.models import Membership, Project
from risks.metrics import CRITICAL, DEFAULT_BANDS, HIGH, LOW, MEDIUM, Bands
from risks.models import Risk, RiskItemLink, RiskScoreHistory, RiskSettings
from sprints.models import WorkItem
from tpm.models import User
from tpm.permissions import remember_role

LEVELS = (LOW, MEDIUM, HIGH, CRITICAL)
ACTIVE_STATUSES = (Risk.Status.OPEN, Risk.Status.MITIGATING)
ORDERINGS: dict[str, list[Any]] = {
    "score": [F("score").asc(), "pk"],
    "-score": [F("score").desc(), "pk"],
    "exposure": [F("exposure").asc(nulls_last=True), F("score").asc(), "pk"],
    "-exposure": [F("exposure").desc(nulls_last=True), F("score").desc(), "pk"],
    "review_date": [F("review_date").asc(nulls_last=True), "pk"],
    "-review_date": [F("review_date").desc(nulls_last=True), "pk"],
}
DEFAULT_ORDERING = "-exposure"
MATRIX_BASES = ("inherent", "residual")


def _level(score: str) -> Case:
    return Case(
        When(**{f"{score}__isnull": True}, then=Value(None)),
        When(**{f"{score}__lte": F("band_low")}, then=Value(LOW)),
        When(**{f"{score}__lte": F("band_medium")}, then=Value(MEDIUM)),
        When(**{f"{score}__lte": F("band_high")}, then=Value(HIGH)),
        default=Value(CRITICAL),
    )


def _emv() -> Round:
    return Round(
        ExpressionWrapper(
            F("cost_impact") * F("probability") / Value(5),
            output_field=DecimalField(max_digits=20, decimal_places=6),
        ),
        2,
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


def _risk_rows(queryset: QuerySet[Risk]) -> QuerySet[Risk]:
    """What a register row or the API shows, in one query whatever the number of risks.

    Bands come from the project's ``RiskSettings`` (DESIGN.md defaults without a row); linked
    items come as their numbers (``linked_numbers``), keys being ``<project_key>-<number>``.
    The owner's name and the project key are columns, not joined model instances: a row
    carries no user or project object (``risk_get_for_user`` adds the project for checks).
    """
    return queryset.annotate(
        project_key=F("project__key"),
        # Subqueries, not joins: evaluated only for the rows of the page.
        owner_name=Subquery(
            User.objects.filter(pk=OuterRef("owner_id"))
            .annotate(
                name=Coalesce(
                    NullIf(Trim(Concat("first_name", Value(" "), "last_name")), Value("")),
                    "username",
                )
            )
            .order_by()
            .values("name")[:1]
        ),
        contingency_number=Subquery(
            WorkItem.objects.filter(pk=OuterRef("contingency_item_id"))
            .order_by()
            .values("number")[:1]
        ),
        band_low=Coalesce("project__risk_settings__low_max", Value(DEFAULT_BANDS.low_max)),
        band_medium=Coalesce("project__risk_settings__medium_max", Value(DEFAULT_BANDS.medium_max)),
        band_high=Coalesce("project__risk_settings__high_max", Value(DEFAULT_BANDS.high_max)),
        score=ExpressionWrapper(F("probability") * F("impact"), output_field=IntegerField()),
        residual_score=ExpressionWrapper(
            F("residual_probability") * F("residual_impact"), output_field=IntegerField()
        ),
    ).annotate(
        level=_level("score"),
        residual_level=_level("residual_score"),
        emv=_emv(),
        exposure=F("live_score__exposure"),
        reasons=F("live_score__reasons"),
        trend=F("live_score__trend"),
        computed_at=F("live_score__computed_at"),
        linked_numbers=ArraySubquery(
            RiskItemLink.objects.filter(risk=OuterRef("pk"))
            .order_by("item__number")
            .values("item__number")
        ),
    )


def risk_bands_for_project(*, project: Project) -> Bands:
    """The project's score bands (1 query); DESIGN.md's defaults when none were set."""
    row = RiskSettings.objects.filter(project=project).first()
    if row is None:
        return DEFAULT_BANDS
    return Bands(row.low_max, row.medium_max, row.high_max)


def risk_list_for_project(*, project: Project) -> QuerySet[Risk]:
    """The project's risks with score, level, EMV, exposure, owner and links: one query."""
    return _risk_rows(Risk.objects.filter(project=project)).order_by(*ORDERINGS[DEFAULT_ORDERING])


def risk_get_for_user(*, user: Any, risk_id: Any) -> Risk:
    """One risk of a project the user can see (the caller's role comes along); else 404."""
    try:
        pk = int(risk_id)
    except (TypeError, ValueError) as exc:
        raise Http404("No such risk.") from exc
    risk = (
        _risk_rows(Risk.objects.filter(pk=pk, project__in=Project.objects.visible_to(user)))
        .select_related("project")
        .annotate(
            user_role=Subquery(
                Membership.objects.filter(
                    project=OuterRef("project_id"), user_id=getattr(user, "pk", None)
                )
                .order_by()
                .values("role")[:1]
            )
        )
        .first()
    )
    if risk is None:
        raise Http404("No such risk.")
    remember_role(user, risk.project, risk.user_role)  # type: ignore[attr-defined]
    return risk


# --- filters (API and register page) ------------------------------------------------------------


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def risk_list_filter(
    queryset: QuerySet[Risk], *, user: Any, params: Mapping[str, Any]
) -> QuerySet[Risk]:
    """Apply the register's filters: status, category, level, owner (id, "me", "none"), tag, q.

    Unknown values raise a ValidationError naming the parameter (a 400 in the API).
    """
    status = (params.get("status") or "").strip().lower()
    if status:
        if status not in Risk.Status.values:
            raise _invalid("status", f"Choose one of: {', '.join(Risk.Status.values)}.")
        queryset = queryset.filter(status=status)
    category = (params.get("category") or "").strip().lower()
    if category:
        if category not in Risk.Category.values:
            raise _invalid("category", f"Choose one of: {', '.join(Risk.Category.values)}.")
        queryset = queryset.filter(category=category)
    level = (params.get("level") or "").strip().lower()
    if level:
        if level not in LEVELS:
            raise _invalid("level", f"Choose one of: {', '.join(LEVELS)}.")
        queryset = queryset.filter(level=level)
    owner = (params.get("owner") or "").strip().lower()
    if owner:
        if owner == "me":
            queryset = queryset.filter(owner_id=getattr(user, "pk", None))
        elif owner in ("none", "null"):
            queryset = queryset.filter(owner__isnull=True)
        elif owner.isdigit():
            queryset = queryset.filter(owner_id=int(owner))
        else:
            raise _invalid("owner", 'Give a user id, "me" or "none".')
    tag = (params.get("tag") or "").strip().lower()
    if tag:
        if tag not in Risk.ComplianceTag.values:
            raise _invalid("tag", f"Choose one of: {', '.join(Risk.ComplianceTag.values)}.")
        queryset = queryset.filter(compliance_tags__contains=[tag])
    q = (params.get("q") or "").strip()
    if q:
        queryset = queryset.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return queryset


def risk_list_order(queryset: QuerySet[Risk], ordering: str | None) -> QuerySet[Risk]:
    """Order by score, exposure or review date (``-`` for descending); exposure nulls last."""
    key = (ordering or DEFAULT_ORDERING).strip()
    if key not in ORDERINGS:
        raise _invalid("ordering", f"Choose one of: {', '.join(ORDERINGS)}.")
    return queryset.order_by(*ORDERINGS[key])


def risk_list_for_register(
    *, project: Project, user: Any, params: Mapping[str, Any]
) -> QuerySet[Risk]:
    """Register rows (risk, score, level, exposure, trend, owner, links), filtered and ordered.

    ``params`` are the page's query parameters (the same names as the API's). One query for
    the rows; paginate or slice it in the view.
    """
    queryset = risk_list_filter(risk_list_for_project(project=project), user=user, params=params)
    return risk_list_order(queryset, params.get("ordering"))


# --- matrix, top risks, contingency, history -----------------------------------------------------


def risk_matrix_for_project(*, project: Project, basis: str = "inherent") -> list[list[int]]:
    """5 × 5 counts of open and mitigating risks; ``matrix[p - 1][i - 1]`` (1 query).

    With ``basis="residual"`` a risk counts at its residual probability and impact; a value
    not yet assessed falls back to the inherent one, so both views count the same risks.
    """
    if basis not in MATRIX_BASES:
        raise _invalid("basis", 'Choose "inherent" or "residual".')
    if basis == "inherent":
        p, i = F("probability"), F("impact")
    else:
        p = Coalesce("residual_probability", "probability")
        i = Coalesce("residual_impact", "impact")
    counts = (
        Risk.objects.filter(project=project, status__in=ACTIVE_STATUSES)
        .annotate(p=p, i=i)
        .values("p", "i")
        .annotate(n=Count("pk"))
        .order_by()
    )
    matrix = [[0] * 5 for _ in range(5)]
    for row in counts:
        matrix[row["p"] - 1][row["i"] - 1] = row["n"]
    return matrix


def risk_top_for_project(*, project: Project, n: int = 5) -> list[Risk]:
    """The ``n`` open or mitigating risks with the highest exposure (then score): 1 query."""
    return list(
        risk_list_for_project(project=project)
        .filter(status__in=ACTIVE_STATUSES)
        .order_by(*ORDERINGS["-exposure"])[:n]
    )


def risk_contingency_suggestion(*, project: Project) -> Decimal:
    """Suggested contingency reserve: the sum of open and mitigating risks' EMVs (1 query)."""
    total = (
        Risk.objects.filter(project=project, status__in=ACTIVE_STATUSES)
        .annotate(emv=_emv())
        .aggregate(total=Sum("emv"))["total"]
    )
    return (total or Decimal("0")).quantize(Decimal("0.01"))


def risk_linked_items_for_risk(*, risk: Risk) -> QuerySet[WorkItem]:
    """The risk's linked items with their live status and assignee, by number (1 query)."""
    return (
        WorkItem.objects.filter(risk_links__risk=risk)
        .select_related("project", "status", "assignee")
        .order_by("number")
    )


def risk_history_for_risk(*, risk: Risk) -> QuerySet[RiskScoreHistory]:
    """The risk's daily exposure and score, newest day first."""
    return RiskScoreHistory.objects.filter(risk=risk).order_by("-day")


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    label: str
    changes: list[tuple[str, Any, Any]]


_HIDDEN_DIFF_FIELDS = {"updated_at", "version", "created_at", "id", "project_id", "created_by_id"}


def risk_audit_for_risk(*, risk: Risk, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    """Who changed what on a risk and its item links, newest first (3 queries)."""
    events = list(
        pghistory.models.Events.objects.references(risk)
        .filter(pgh_model__in=["risks.RiskEvent", "risks.RiskItemLinkEvent"])
        .order_by("-pgh_created_at", "pgh_model", "-pgh_id")[offset : offset + limit]
    )
    actor_ids = {
        int(event.pgh_context["user"])
        for event in events
        if event.pgh_context and event.pgh_context.get("user")
    }
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=actor_ids)}
    item_ids = {
        int(event.pgh_data["item_id"])
        for event in events
        if event.pgh_model == "risks.RiskItemLinkEvent"
    }
    numbers = dict(WorkItem.objects.filter(pk__in=item_ids).values_list("pk", "number"))
    entries = []
    for event in events:
        actor_id = (event.pgh_context or {}).get("user")
        actor = names.get(int(actor_id), "deleted user") if actor_id else "system"
        if event.pgh_model == "risks.RiskItemLinkEvent":
            verb = "linked" if event.pgh_label == "insert" else "unlinked"
            number = numbers.get(int(event.pgh_data["item_id"]))
            label = f"{verb} {risk.project.key}-{number}" if number else f"{verb} a deleted item"
            changes: list[tuple[str, Any, Any]] = []
        else:
            label = {
                "insert": "created the risk",
                "update": "changed the risk",
                "delete": "deleted the risk",
            }.get(event.pgh_label, event.pgh_label)
            changes = [
                (name, old_new[0], old_new[1])
                for name, old_new in sorted((event.pgh_diff or {}).items())
                if name not in _HIDDEN_DIFF_FIELDS
            ]
            if event.pgh_label == "update" and not changes:
                continue
        entries.append(
            AuditEntry(at=event.pgh_created_at, actor=actor, label=label, changes=changes)
        )
    return entries


# --- pages: register extras, summary, linked items ----------------------------------------------
# Page-only needs on top of the API's filters: the heat map's cells link to the register filtered
# by probability and impact (on either basis) and to open-or-mitigating risks only ("active").


PAGE_ORDERINGS: dict[str, list[Any]] = {
    "title": [F("title").asc(), "pk"],
    "-title": [F("title").desc(), "pk"],
}
ACTIVE_FILTER = "active"


def _one_to_five_param(params: Mapping[str, Any], name: str) -> int | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise _invalid(name, "Give a whole number from 1 to 5.")
    return int(raw)


def risk_list_for_register_page(
    *, project: Project, user: Any, params: Mapping[str, Any]
) -> QuerySet[Risk]:
    """The register page's rows: the API's filters plus ``status=active``, ``probability``,
    ``impact`` (with ``basis=residual``: residual values, falling back to inherent ones like the
    heat map) and ordering by title. One query for the rows; bad values raise ValidationError.
    """
    rest = dict(params)
    active = str(rest.get("status") or "").strip().lower() == ACTIVE_FILTER
    if active:
        rest.pop("status")
    ordering = str(rest.pop("ordering", "") or "").strip()
    basis = str(rest.get("basis") or "inherent").strip()
    if basis not in MATRIX_BASES:
        raise _invalid("basis", 'Choose "inherent" or "residual".')
    probability = _one_to_five_param(rest, "probability")
    impact = _one_to_five_param(rest, "impact")
    queryset = risk_list_filter(risk_list_for_project(project=project), user=user, params=rest)
    if active:
        queryset = queryset.filter(status__in=ACTIVE_STATUSES)
    if probability is not None or impact is not None:
        if basis == "residual":
            queryset = queryset.annotate(
                cell_p=Coalesce("residual_probability", "probability"),
                cell_i=Coalesce("residual_impact", "impact"),
            )
        else:
            queryset = queryset.annotate(cell_p=F("probability"), cell_i=F("impact"))
        if probability is not None:
            queryset = queryset.filter(cell_p=probability)
        if impact is not None:
            queryset = queryset.filter(cell_i=impact)
    if ordering in PAGE_ORDERINGS:
        return queryset.order_by(*PAGE_ORDERINGS[ordering])
    return risk_list_order(queryset, ordering or None)


def risk_summary_for_project(*, project: Project, today: date) -> dict[str, int]:
    """Counts for the register's header (1 query): all risks, open or mitigating ones, those
    critical or high, reviews overdue (before ``today``) among them, and occurred ones."""
    rows = (
        Risk.objects.filter(project=project)
        .annotate(
            band_low=Coalesce("project__risk_settings__low_max", Value(DEFAULT_BANDS.low_max)),
            band_medium=Coalesce(
                "project__risk_settings__medium_max", Value(DEFAULT_BANDS.medium_max)
            ),
            band_high=Coalesce("project__risk_settings__high_max", Value(DEFAULT_BANDS.high_max)),
            score=ExpressionWrapper(F("probability") * F("impact"), output_field=IntegerField()),
        )
        .annotate(level=_level("score"))
        .order_by()
    )
    active = Q(status__in=ACTIVE_STATUSES)
    counts: dict[str, int] = rows.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=active),
        critical=Count("pk", filter=active & Q(level=CRITICAL)),
        high=Count("pk", filter=active & Q(level=HIGH)),
        review_overdue=Count("pk", filter=active & Q(review_date__lt=today)),
        occurred=Count("pk", filter=Q(status=Risk.Status.OCCURRED)),
    )
    return counts


def risk_linked_items_for_page(*, risk: Risk) -> list[WorkItem]:
    """The risk's linked work items with their live status, sprint and assignee (1 query)."""
    return list(
        WorkItem.objects.filter(risk_links__risk=risk)
        .select_related("status", "sprint", "assignee")
        .order_by("number")
    )
