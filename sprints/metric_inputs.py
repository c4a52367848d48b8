"""Loaders for the metric tasks: set-based queries returning plain tuples, no model objects.

(Selectors in spirit; kept apart from selectors.py because they return metrics inputs.)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Min
from django.utils import timezone

from projects.models import Project
from sprints.metrics import BurndownInput, FlowInput, SprintFigures
from sprints.metrics import ItemEvent as MetricEvent
from sprints.models import ItemEvent, Sprint

FLOW_DAYS = 180


def project_today(project: Project) -> date:
    return timezone.now().astimezone(ZoneInfo(project.timezone)).date()


def _horizon(sprint: Sprint, zone: ZoneInfo) -> datetime:
    return sprint.closed_at or datetime.combine(
        sprint.end_date + timedelta(days=1), time(0), tzinfo=zone
    )


def burndown_inputs_load_many(*, project_id: int, sprint_ids: list[int]) -> list[BurndownInput]:
    """Burndown inputs of several sprints of one project: 2 queries whatever their number.

    One query reads every history row of the items that were ever in any of the sprints;
    each sprint then gets its own items' rows up to its close (or the end of its last day),
    so later changes never reach a closed sprint.
    """
    sprints = list(
        Sprint.objects.filter(project_id=project_id, pk__in=sprint_ids).select_related("project")
    )
    if not sprints:
        return []
    project = sprints[0].project
    zone = ZoneInfo(project.timezone)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.item_id, e.at, e.field, e.value
            FROM sprints_itemevent e
            WHERE e.project_id = %s
              AND e.field IN ('status', 'points', 'hours', 'sprint', 'deleted')
              AND e.item_id IN (
                  SELECT item_id FROM sprints_itemevent
                  WHERE field = 'sprint' AND value = ANY(%s) AND project_id = %s)
              AND e.at <= %s
            ORDER BY e.at
            """,
            [
                project.pk,
                [str(s.pk) for s in sprints],
                project.pk,
                max(_horizon(s, zone) for s in sprints),
            ],
        )
        rows = cursor.fetchall()
    visited: dict[int, set[int]] = defaultdict(set)
    for item_id, _, field, value in rows:
        if field == "sprint" and value is not None:
            visited[item_id].add(int(value))
    # Rows are (item_id, at, field, value) tuples, the shape of metrics.ItemEvent; handing them
    # over as they come saves building a million objects (the metrics parse values themselves).
    per_sprint: dict[int, list[MetricEvent]] = {s.pk: [] for s in sprints}
    horizons = {s.pk: _horizon(s, zone) for s in sprints}
    for row in rows:
        for sprint_id in visited.get(row[0], ()):
            if sprint_id in per_sprint and row[1] <= horizons[sprint_id]:
                per_sprint[sprint_id].append(row)
    today = project_today(project)
    return [
        BurndownInput(
            sprint_id=s.pk,
            start_date=s.start_date,
            end_date=s.end_date,
            timezone=project.timezone,
            working_days=frozenset(project.working_days),
            committed_points=s.committed_points,
            closed_at=s.closed_at,
            today=today,
            events=tuple(per_sprint[s.pk]),
        )
        for s in sprints
    ]


def burndown_inputs_load(*, sprint_id: int) -> BurndownInput | None:
    """Everything the burndown of one sprint needs. None if the sprint is gone."""
    project_id = Sprint.objects.filter(pk=sprint_id).values_list("project_id", flat=True).first()
    if project_id is None:
        return None
    loaded = burndown_inputs_load_many(project_id=project_id, sprint_ids=[sprint_id])
    return loaded[0] if loaded else None


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
    """Status and deletion events of every item of the project, in time order (2 queries).

    The range is the last 180 days up to today, not before the project's first event.
    """
    today = project_today(project)
    first = ItemEvent.objects.filter(project=project).aggregate(first=Min("at"))["first"]
    zone = ZoneInfo(project.timezone)
    start = today - timedelta(days=FLOW_DAYS - 1)
    if first is not None:
        start = max(start, first.astimezone(zone).date())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT item_id, at, field, value FROM sprints_itemevent
            WHERE project_id = %s AND field IN ('status', 'deleted') AND at < %s
            ORDER BY at
            """,
            [project.pk, datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)],
        )
        events = tuple(cursor.fetchall())  # (item_id, at, field, value): the ItemEvent shape
    return FlowInput(
        start_date=min(start, today), end_date=today, timezone=project.timezone, events=events
    )
