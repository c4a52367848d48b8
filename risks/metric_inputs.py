"""Loader for the risk worker: set-based queries returning plain inputs, no model objects.

(A selector in spirit; kept apart from selectors.py because it returns metrics inputs.)
Four queries whatever the number of risks or links: the project with its bands, the last
closed sprint, every risk with its linked-item signals aggregated in SQL, and each risk's
exposure on the latest earlier day (for the trend).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F
from django.utils import timezone

from projects.models import Project
from risks.metrics import DEFAULT_BANDS, Bands, ExposureInput
from sprints.models import Sprint


@dataclass(frozen=True)
class RiskRow:
    risk_id: int
    cost_impact: Decimal
    inputs: ExposureInput
    previous_exposure: int | None


@dataclass(frozen=True)
class ProjectRiskInputs:
    project_id: int
    today: date
    bands: Bands
    risks: list[RiskRow]


_RISKS_SQL = """
    SELECT r.id, r.status, r.category, r.probability, r.impact, r.residual_probability,
           r.residual_impact, r.cost_impact, r.review_date,
           COALESCE(l.past_due, 0), COALESCE(l.blocked, 0), COALESCE(l.sprint_overdue, 0)
    FROM risks_risk r
    LEFT JOIN (
        SELECT k.risk_id,
               count(*) FILTER (WHERE w.due_date < %(today)s) AS past_due,
               count(*) FILTER (WHERE w.blocked) AS blocked,
               count(*) FILTER (
                   WHERE sp.end_date < %(today)s
                     AND (w.due_date IS NULL OR w.due_date >= %(today)s)
               ) AS sprint_overdue
        FROM risks_riskitemlink k
        JOIN risks_risk lr ON lr.id = k.risk_id AND lr.project_id = %(project)s
        JOIN sprints_workitem w ON w.id = k.item_id
        JOIN sprints_status s ON s.id = w.status_id AND s.category <> 'done'
        LEFT JOIN sprints_sprint sp ON sp.id = w.sprint_id
        GROUP BY k.risk_id
    ) l ON l.risk_id = r.id
    WHERE r.project_id = %(project)s
    ORDER BY r.id
"""

_PREVIOUS_SQL = """
    SELECT DISTINCT ON (risk_id) risk_id, exposure
    FROM risks_riskscorehistory
    WHERE project_id = %s AND day < %s
    ORDER BY risk_id, day DESC
"""


def risk_inputs_load(
    *, project_id: int, spi: Decimal | None = None, cpi: Decimal | None = None
) -> ProjectRiskInputs | None:
    """Inputs for every risk of a project; None when the project is gone.

    ``today`` is the project's calendar day in its time zone. ``spi``/``cpi`` come from the
    budget's earned value once that app exists; until then they are None and ignored.
    """
    project = (
        Project.objects.filter(pk=project_id)
        .values_list(
            "timezone",
            "risk_settings__low_max",
            "risk_settings__medium_max",
            "risk_settings__high_max",
        )
        .first()
    )
    if project is None:
        return None
    zone, low_max, medium_max, high_max = project
    bands = Bands(low_max, medium_max, high_max) if low_max is not None else DEFAULT_BANDS
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    last_sprint = (
        Sprint.objects.filter(project_id=project_id, state=Sprint.State.CLOSED)
        .order_by(F("closed_at").desc(nulls_last=True), "-end_date", "-pk")
        .values_list("committed_points", "completed_points")
        .first()
    )
    committed, completed = last_sprint or (None, None)
    with connection.cursor() as cursor:
        cursor.execute(_RISKS_SQL, {"project": project_id, "today": today})
        rows = cursor.fetchall()
        cursor.execute(_PREVIOUS_SQL, [project_id, today])
        previous = dict(cursor.fetchall())
    risks = [
        RiskRow(
            risk_id=pk,
            cost_impact=cost,
            previous_exposure=previous.get(pk),
            inputs=ExposureInput(
                status=status,
                category=category,
                probability=probability,
                impact=impact,
                residual_probability=residual_probability,
                residual_impact=residual_impact,
                review_date=review_date,
                today=today,
                items_past_due=past_due,
                items_blocked=blocked,
                items_sprint_overdue=sprint_overdue,
                last_sprint_committed=committed,
                last_sprint_completed=completed,
                spi=spi,
                cpi=cpi,
            ),
        )
        for (
            pk,
            status,
            category,
            probability,
            impact,
            residual_probability,
            residual_impact,
            cost,
            review_date,
            past_due,
            blocked,
            sprint_overdue,
        ) in rows
    ]
    return ProjectRiskInputs(project_id=project_id, today=today, bands=bands, risks=risks)
