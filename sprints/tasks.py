"""Celery tasks that keep burndown, velocity and flow current."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from projects.models import Project
from sprints.metric_inputs import (
    burndown_inputs_load,
    burndown_inputs_load_many,
    flow_inputs_load,
    velocity_inputs_load,
)
from sprints.metrics import burndown_compute, flow_compute, velocity_compute
from sprints.models import BurndownDay, Sprint
from sprints.services.metrics_store import burndown_days_replace, project_flow_replace
from tpm import events

logger = logging.getLogger(__name__)

BURNDOWN_KIND = "sprint_burndown"
FLOW_KIND = "project_flow"
TASK_OPTIONS = {
    "acks_late": True,
    "soft_time_limit": 300,
    "autoretry_for": (OperationalError, RedisConnectionError),
    "retry_backoff": True,
    "max_retries": 5,
}


def sprints_needing_burndown(project_id: int) -> list[int]:
    """Active sprints, and closed ones not computed since their close (then final)."""
    fresh_after_close = BurndownDay.objects.filter(
        sprint=OuterRef("pk"), computed_at__gte=OuterRef("closed_at")
    )
    return list(
        Sprint.objects.filter(project_id=project_id)
        .filter(
            Q(state=Sprint.State.ACTIVE)
            | (Q(state=Sprint.State.CLOSED) & ~Exists(fresh_after_close))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def burndown_recompute(sprint_id: int) -> bool:
    """Rebuild one sprint's burndown rows from history. False if the sprint is gone."""
    computed_at = timezone.now()
    inputs = burndown_inputs_load(sprint_id=sprint_id)
    if inputs is None:
        return False
    burndown_days_replace(
        sprint_id=sprint_id, days=burndown_compute(inputs), computed_at=computed_at
    )
    return True


@shared_task(name="sprints.recompute_burndowns", **TASK_OPTIONS)
def recompute_burndowns(project_id: int) -> int:
    """Recompute the burndown of every sprint of the project that can still change.

    Inputs of all those sprints are loaded together (2 queries), each computed and upserted.
    """
    started_at = events.recompute_started(BURNDOWN_KIND, project_id)
    inputs = burndown_inputs_load_many(
        project_id=project_id, sprint_ids=sprints_needing_burndown(project_id)
    )
    for sprint_inputs in inputs:
        burndown_days_replace(
            sprint_id=sprint_inputs.sprint_id,
            days=burndown_compute(sprint_inputs),
            computed_at=started_at,
        )
    events.metric_computed(BURNDOWN_KIND, project_id, started_at=started_at)
    return len(inputs)


@shared_task(name="sprints.recompute_flow", **TASK_OPTIONS)
def recompute_flow(project_id: int) -> None:
    """Recompute velocity statistics and cumulative flow of one project."""
    started_at = events.recompute_started(FLOW_KIND, project_id)
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        logger.info("project %s is gone; no flow to compute", project_id)
    else:
        velocity = velocity_compute(velocity_inputs_load(project_id=project_id))
        flow = flow_compute(flow_inputs_load(project=project))
        project_flow_replace(
            project_id=project_id, flow=flow, velocity=velocity, computed_at=started_at
        )
    events.metric_computed(FLOW_KIND, project_id, started_at=started_at)


@shared_task(name="sprints.refresh_all", **TASK_OPTIONS)
def refresh_all(kind: str) -> int:
    """Beat: a new day adds a burndown day and moves the flow window, with or without changes.

    Hourly for burndowns (each project's day starts at its own midnight), nightly for flow.
    Projects without an active sprint have no burndown to refresh.
    """
    if kind == BURNDOWN_KIND:
        ids = list(
            Sprint.objects.filter(state=Sprint.State.ACTIVE)
            .values_list("project_id", flat=True)
            .distinct()
        )
    else:
        ids = list(Project.objects.values_list("pk", flat=True))
    for project_id in ids:
        events.dispatch(project_id, [kind])
    return len(ids)
