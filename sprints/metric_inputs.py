"""Loaders for the metric tasks: a few set-based queries each, values only, no model objects.

(Selectors in spirit; kept apart from selectors.py because they return metrics dataclasses.)
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Min
from django.utils import timezone

from projects.models import Project
from sprints.metrics import BurndownInput, FlowInput, SprintFigures
from sprints.metrics import ItemEvent as MetricEvent
from sprints.models import ItemEvent, Sprint

FLOW_DAYS = 180
_METRIC_FIELDS = ("status", "points", "hours", "sprint", "deleted")


def _decode(field: str, value: str | None) -> object:
    if field == "deleted":
        return True
    if value is None:
        return None
    if field in ("points", "hours"):
        return Decimal(value)
    if field == "sprint":
        return int(value)
    return value


def _events(rows: object) -> tuple[MetricEvent, ...]:
    return tuple(
        MetricEvent(item_id=item_id, at=at, field=field, value=_decode(field, value))
        for item_id, at, field, value in rows  # type: ignore[attr-defined]
    )


def project_today(project: Project) -> date:
    return timezone.now().astimezone(ZoneInfo(project.timezone)).date()


def burndown_inputs_load(*, sprint_id: int) -> BurndownInput | None:
    """Everything the burndown of one sprint needs: 2 queries. None if the sprint is gone.

    Events are those of every item that was ever in the sprint, up to the sprint's close
    (or the end of its last day), so later changes never reach a closed sprint.
    """
    sprint = Sprint.objects.select_related("project").filter(pk=sprint_id).first()
    if sprint is None:
        return None
    project = sprint.project
    zone = ZoneInfo(project.timezone)
    horizon = sprint.closed_at or datetime.combine(
        sprint.end_date + timedelta(days=1), time(0), tzinfo=zone
    )
    members = ItemEvent.objects.filter(field=ItemEvent.Field.SPRINT, value=str(sprint.pk)).values(
        "item_id"
    )
    rows = (
        ItemEvent.objects.filter(item_id__in=members, field__in=_METRIC_FIELDS, at__lte=horizon)
        .order_by()
        .values_list("item_id", "at", "field", "value")
        .iterator(chunk_size=5000)
    )
    return BurndownInput(
        sprint_id=sprint.pk,
        start_date=sprint.start_date,
        end_date=sprint.end_date,
        timezone=project.timezone,
        working_days=frozenset(project.working_days),
        committed_points=sprint.committed_points,
        closed_at=sprint.closed_at,
        today=project_today(project),
        events=_events(rows),
    )


def velocity_inputs_load(*, project_id: int) -> list[SprintFigures]:
    """Closed sprints with their frozen figures, oldest first (1 query)."""
    return [
        SprintFigures(
            sprint_id=pk,
            name=name,
            end_date=end,
            committed_points=committed or Decimal("0"),
            completed_points=completed or Decimal("0"),
        )
        for pk, name, end, committed, completed in Sprint.objects.filter(
            project_id=project_id, state=Sprint.State.CLOSED
        )
        .order_by("end_date", "pk")
        .values_list("pk", "name", "end_date", "committed_points", "completed_points")
    ]


def flow_inputs_load(*, project: Project) -> FlowInput:
    """Status and deletion events of every item of the project (1-2 queries).

    The range is the last 180 days up to today, not before the project's first event.
    """
    today = project_today(project)
    first = ItemEvent.objects.filter(project=project).aggregate(first=Min("at"))["first"]
    zone = ZoneInfo(project.timezone)
    start = today - timedelta(days=FLOW_DAYS - 1)
    if first is not None:
        start = max(start, first.astimezone(zone).date())
    rows = (
        ItemEvent.objects.filter(project=project, field__in=("status", "deleted"))
        .order_by()
        .values_list("item_id", "at", "field", "value")
        .iterator(chunk_size=20000)
    )
    return FlowInput(
        start_date=min(start, today),
        end_date=today,
        timezone=project.timezone,
        events=_events(rows),
    )
