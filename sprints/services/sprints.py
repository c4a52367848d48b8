"""Sprint lifecycle: plan, start (freeze committed points), close (freeze completed points)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from projects.models import Membership, Project
from sprints.models import Sprint, Status, WorkItem
from sprints.services.items import work_items_move_to_sprint
from tpm.errors import Conflict, StaleVersion
from tpm.events import project_changed
from tpm.models import User

MAX_SPRINT_DAYS = 92


def working_days_between(start: date, end: date, working_days: list[int]) -> int:
    """Working days in [start, end] (inclusive)."""
    days = set(working_days)
    return sum(
        1 for n in range((end - start).days + 1) if (start + timedelta(days=n)).weekday() in days
    )


def sprint_capacity_hours(*, project: Project, start: date, end: date) -> Decimal:
    """Hours the team can give: each owner's and member's weekly capacity per working day."""
    per_week = Membership.objects.filter(project=project, role__in=["owner", "member"]).aggregate(
        total=Sum("capacity_hours_per_week")
    )["total"] or Decimal("0")
    per_day = Decimal(per_week) / Decimal(max(1, len(project.working_days)))
    return (per_day * working_days_between(start, end, project.working_days)).quantize(
        Decimal("0.1")
    )


def _check_dates(start: Any, end: Any) -> None:
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValidationError({"start_date": ["Give start and end dates as YYYY-MM-DD."]})
    if end < start:
        raise ValidationError({"end_date": ["The end date must not be before the start date."]})
    if (end - start).days + 1 > MAX_SPRINT_DAYS:
        raise ValidationError({"end_date": [f"A sprint lasts at most {MAX_SPRINT_DAYS} days."]})


@transaction.atomic
def sprint_create(
    *, actor: User, project: Project, name: str, start_date: date, end_date: date, goal: str = ""
) -> Sprint:
    """Plan a sprint; its capacity comes from the members' weekly availability."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the sprint a name, e.g. Sprint 4."]})
    _check_dates(start_date, end_date)
    with pghistory.context(user=actor.pk):
        sprint = Sprint.objects.create(
            project=project,
            name=name[:100],
            goal=(goal or "").strip(),
            start_date=start_date,
            end_date=end_date,
            capacity_hours=sprint_capacity_hours(project=project, start=start_date, end=end_date),
        )
    project_changed(project.pk, reason="sprints.sprint.created")
    return sprint


@transaction.atomic
def sprint_update(
    *, actor: User, sprint: Sprint, expected_version: int | None = None, **changes: Any
) -> Sprint:
    """Rename, re-goal or re-date a sprint. Closed sprints keep their dates for good."""
    unknown = set(changes) - {"name", "goal", "start_date", "end_date"}
    if unknown:
        raise ValidationError(
            {field: ["This field cannot be changed here."] for field in sorted(unknown)}
        )
    locked = Sprint.objects.select_for_update().select_related("project").get(pk=sprint.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(current=locked)
    if not changes:
        return locked  # nothing to change: no new version, every client's ETag stays good
    if "name" in changes:
        locked.name = (changes["name"] or "").strip()[:100]
        if not locked.name:
            raise ValidationError({"name": ["Give the sprint a name."]})
    if "goal" in changes:
        locked.goal = (changes["goal"] or "").strip()
    if {"start_date", "end_date"} & set(changes):
        if locked.state == Sprint.State.CLOSED:
            raise ValidationError({"end_date": ["A closed sprint's dates cannot change."]})
        if (
            locked.state == Sprint.State.ACTIVE
            and changes.get("start_date", locked.start_date) != locked.start_date
        ):
            raise ValidationError({"start_date": ["An active sprint's start date cannot change."]})
        start = changes.get("start_date", locked.start_date)
        end = changes.get("end_date", locked.end_date)
        _check_dates(start, end)
        locked.start_date, locked.end_date = start, end
        if locked.state == Sprint.State.PLANNED:
            locked.capacity_hours = sprint_capacity_hours(
                project=locked.project, start=start, end=end
            )
    locked.version += 1
    with pghistory.context(user=actor.pk):
        locked.save()
    project_changed(locked.project_id, reason="sprints.sprint.updated")
    return locked


def _points(sprint: Sprint, *, done_only: bool = False) -> Decimal:
    items = WorkItem.objects.filter(sprint=sprint)
    if done_only:
        items = items.filter(status__category=Status.Category.DONE)
    return items.aggregate(total=Sum("story_points"))["total"] or Decimal("0")


@transaction.atomic
def sprint_start(*, actor: User, sprint: Sprint) -> Sprint:
    """Start a planned sprint and freeze its committed points.

    One active sprint per project unless the project allows parallel sprints.
    """
    project = Project.objects.select_for_update().get(pk=sprint.project_id)
    locked = Sprint.objects.select_for_update().get(pk=sprint.pk)
    if locked.state != Sprint.State.PLANNED:
        raise Conflict(
            f"{locked.name} is {locked.state}; only a planned sprint can start.",
            code="sprint_state",
        )
    if (
        not project.allow_parallel_sprints
        and Sprint.objects.filter(project=project, state=Sprint.State.ACTIVE).exists()
    ):
        raise Conflict(
            "Another sprint is active. Close it first, or allow parallel sprints in the project "
            "settings.",
            code="sprint_active",
        )
    locked.state = Sprint.State.ACTIVE
    locked.started_at = timezone.now()
    locked.committed_points = _points(locked)
    locked.version += 1
    with pghistory.context(user=actor.pk):
        locked.save()
    project_changed(project.pk, reason="sprints.sprint.started")
    return locked


@transaction.atomic
def sprint_close(
    *, actor: User, sprint: Sprint, move_unfinished_to: Sprint | None = None
) -> Sprint:
    """Close an active sprint: freeze completed points, move unfinished items on.

    Unfinished items go to ``move_unfinished_to`` (a planned or active sprint of the same
    project) or to the backlog. Their move is recorded just after the close, so the closed
    sprint's burndown keeps them in its last day.
    """
    Project.objects.select_for_update().filter(pk=sprint.project_id).first()
    locked = Sprint.objects.select_for_update().select_related("project").get(pk=sprint.pk)
    if locked.state != Sprint.State.ACTIVE:
        raise Conflict(
            f"{locked.name} is {locked.state}; only an active sprint can close.",
            code="sprint_state",
        )
    if move_unfinished_to is not None and (
        move_unfinished_to.project_id != locked.project_id
        or move_unfinished_to.pk == locked.pk
        or move_unfinished_to.state == Sprint.State.CLOSED
    ):
        raise ValidationError(
            {
                "move_unfinished_to": [
                    "Choose a planned or active sprint of this project, or the backlog."
                ]
            }
        )
    locked.state = Sprint.State.CLOSED
    locked.closed_at = timezone.now()
    locked.completed_points = _points(locked, done_only=True)
    locked.version += 1
    with pghistory.context(user=actor.pk):
        locked.save()
    unfinished = list(
        WorkItem.objects.filter(sprint=locked).filter(~Q(status__category=Status.Category.DONE))
    )
    work_items_move_to_sprint(
        actor=actor,
        project=locked.project,
        items=unfinished,
        sprint=move_unfinished_to,
        at=locked.closed_at + timedelta(microseconds=1),
    )
    project_changed(locked.project_id, reason="sprints.sprint.closed")
    return locked


@transaction.atomic
def sprint_delete(*, actor: User, sprint: Sprint) -> None:
    """Delete a planned sprint; its items go back to the backlog."""
    locked = Sprint.objects.select_for_update().select_related("project").get(pk=sprint.pk)
    if locked.state != Sprint.State.PLANNED:
        raise Conflict(
            "Only a planned sprint can be deleted; close an active one instead.",
            code="sprint_state",
        )
    work_items_move_to_sprint(
        actor=actor, project=locked.project, items=list(locked.items.all()), sprint=None
    )
    with pghistory.context(user=actor.pk):
        locked.delete()
    project_changed(locked.project_id, reason="sprints.sprint.deleted")
