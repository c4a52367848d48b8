"""Replace precomputed metric rows with freshly computed ones (idempotent upserts + prune)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from sprints.metrics import BurndownDay as BurndownRow
from sprints.metrics import Flow, Velocity
from sprints.models import BurndownDay, FlowDay, ProjectMetrics


@transaction.atomic
def burndown_days_replace(
    *, sprint_id: int, days: list[BurndownRow], computed_at: datetime
) -> None:
    """Upsert the sprint's days by (sprint, date) and delete days outside the new set."""
    BurndownDay.objects.filter(sprint_id=sprint_id).exclude(
        date__in=[d.date for d in days]
    ).delete()
    BurndownDay.objects.bulk_create(
        [
            BurndownDay(
                sprint_id=sprint_id,
                date=d.date,
                scope_points=d.scope_points,
                remaining_points=d.remaining_points,
                completed_points=d.completed_points,
                remaining_hours=d.remaining_hours,
                ideal_points=d.ideal_points,
                computed_at=computed_at,
            )
            for d in days
        ],
        update_conflicts=True,
        unique_fields=["sprint", "date"],
        update_fields=[
            "scope_points",
            "remaining_points",
            "completed_points",
            "remaining_hours",
            "ideal_points",
            "computed_at",
        ],
    )


@transaction.atomic
def project_flow_replace(
    *, project_id: int, flow: Flow, velocity: Velocity, computed_at: datetime
) -> None:
    """Upsert the project's cumulative-flow days and its velocity/flow figures."""
    FlowDay.objects.filter(project_id=project_id).exclude(
        date__in=[d.date for d in flow.days]
    ).delete()
    FlowDay.objects.bulk_create(
        [
            FlowDay(
                project_id=project_id,
                date=d.date,
                todo=d.todo,
                in_progress=d.in_progress,
                done=d.done,
            )
            for d in flow.days
        ],
        update_conflicts=True,
        unique_fields=["project", "date"],
        update_fields=["todo", "in_progress", "done"],
        batch_size=1000,
    )
    ProjectMetrics.objects.update_or_create(
        project_id=project_id,
        defaults={
            "velocity_window": velocity.window,
            "velocity_mean": velocity.mean,
            "velocity_median": velocity.median,
            "velocity_stdev": velocity.stdev,
            "flow_start_date": flow.days[0].date if flow.days else None,
            "flow_end_date": flow.days[-1].date if flow.days else None,
            "cycle_time_days": flow.cycle_time_days,
            "lead_time_days": flow.lead_time_days,
            "throughput": [[week.isoformat(), count] for week, count in flow.throughput],
            "items_done": flow.items_done,
            "computed_at": computed_at,
        },
    )
