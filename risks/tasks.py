"""Celery tasks that keep risk scores, exposure, reasons and trends current."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.db import OperationalError, connection
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from risks.metric_inputs import risk_inputs_load
from risks.metrics import risk_score_compute, trend_for
from risks.services import ScoreRow, risk_scores_replace
from tpm import events

logger = logging.getLogger(__name__)

RISK_KIND = "risk_scores"
TASK_OPTIONS = {
    "acks_late": True,
    "soft_time_limit": 300,
    "autoretry_for": (OperationalError, RedisConnectionError),
    "retry_backoff": True,
    "max_retries": 5,
}


def risks_recompute(project_id: int, *, computed_at: datetime | None = None) -> int | None:
    """Recompute and store every risk of one project; None when the project is gone.

    Loads inputs with four set-based queries, computes each risk with the pure
    ``risk_score_compute`` and stores all of them with two bulk upserts. Idempotent.
    """
    inputs = risk_inputs_load(project_id=project_id)
    if inputs is None:
        return None
    rows = []
    for risk in inputs.risks:
        result = risk_score_compute(risk.inputs, cost_impact=risk.cost_impact, bands=inputs.bands)
        rows.append(
            ScoreRow(
                risk_id=risk.risk_id,
                result=result,
                trend=trend_for(result.exposure, risk.previous_exposure),
            )
        )
    risk_scores_replace(
        project_id=project_id,
        day=inputs.today,
        rows=rows,
        computed_at=computed_at or timezone.now(),
    )
    return len(rows)


@shared_task(name="risks.recompute_risks", **TASK_OPTIONS)
def recompute_risks(project_id: int) -> int:
    """Recompute the scores of every risk of a project after any change to its data.

    Subscribed to ``tpm.events`` (coalesced per project), run hourly at each project's
    midnight by beat, and re-dispatched by reconcile when a run was lost.
    """
    started_at = events.recompute_started(RISK_KIND, project_id)
    count = risks_recompute(project_id, computed_at=started_at)
    if count is None:
        logger.info("project %s is gone; no risks to score", project_id)
    events.metric_computed(RISK_KIND, project_id, started_at=started_at)
    return count or 0


@shared_task(name="risks.refresh_at_midnight", **TASK_OPTIONS)
def refresh_at_midnight(all_projects: bool = False) -> int:
    """Beat, hourly: rescore the risks of projects whose local day has just begun.

    A new day can make a review or a linked item overdue without any change to the data, so
    each project with risks is refreshed once a night in its own time zone (all of them with
    ``all_projects``). Dispatch is coalesced like any other change.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id FROM projects_project p
            WHERE EXISTS (SELECT 1 FROM risks_risk r WHERE r.project_id = p.id)
              AND (%s OR extract(hour FROM now() AT TIME ZONE p.timezone) = 0)
            ORDER BY p.id
            """,
            [all_projects],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for project_id in ids:
        events.dispatch(project_id, [RISK_KIND])
    return len(ids)
