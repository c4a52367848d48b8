"""Workflow statuses and transitions of a project."""

from __future__ import annotations

from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from projects.models import Project
from sprints.models import Status, StatusTransition, WorkItem
from sprints.services.items import work_items_change_status_bulk
from tpm.events import project_changed
from tpm.models import User

DEFAULT_STATUSES = (
    ("Backlog", Status.Category.TODO),
    ("To Do", Status.Category.TODO),
    ("In Progress", Status.Category.IN_PROGRESS),
    ("In Review", Status.Category.IN_PROGRESS),
    ("Done", Status.Category.DONE),
)


def workflow_create_defaults(project: Project, actor: User | None = None) -> list[Status]:
    """Give a new project the default workflow (hook run inside project creation)."""
    return Status.objects.bulk_create(
        [
            Status(project=project, name=name, category=category, order=index)
            for index, (name, category) in enumerate(DEFAULT_STATUSES)
        ]
    )


def _clean_name(name: Any) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": ["Give the status a name."]})
    if len(name) > 50:
        raise ValidationError({"name": ["Use at most 50 characters."]})
    return name


def _clean_category(category: Any) -> str:
    if category not in Status.Category.values:
        raise ValidationError(
            {"category": [f"Choose one of: {', '.join(Status.Category.values)}."]}
        )
    return str(category)


def _clean_wip(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"wip_limit": ["Enter a whole number."]}) from exc
    if limit < 1 or limit > 10000:
        raise ValidationError({"wip_limit": ["Enter a number from 1 to 10000, or leave it empty."]})
    return limit


@transaction.atomic
def status_create(
    *,
    actor: User,
    project: Project,
    name: str,
    category: str,
    order: int | None = None,
    wip_limit: Any = None,
) -> Status:
    """Add a status to the workflow (names are unique per project)."""
    name = _clean_name(name)
    category = _clean_category(category)
    limit = _clean_wip(wip_limit)
    Project.objects.select_for_update().filter(pk=project.pk).first()
    if Status.objects.filter(project=project, name__iexact=name).exists():
        raise ValidationError({"name": [f"{project.key} already has a status named {name!r}."]})
    if order is None:
        order = (Status.objects.filter(project=project).aggregate(m=Max("order"))["m"] or 0) + 1
    with pghistory.context(user=actor.pk):
        status = Status.objects.create(
            project=project, name=name, category=category, order=order, wip_limit=limit
        )
    project_changed(project.pk, reason="sprints.status.created")
    return status


@transaction.atomic
def status_update(*, actor: User, status: Status, **changes: Any) -> Status:
    """Rename, re-categorise, reorder a status or set its WIP limit.

    The last status of the "todo" or "done" category cannot move to another category:
    new items need a todo status and finished ones a done status.
    """
    unknown = set(changes) - {"name", "category", "order", "wip_limit"}
    if unknown:
        raise ValidationError(
            {field: ["This field cannot be changed here."] for field in sorted(unknown)}
        )
    Project.objects.select_for_update().filter(pk=status.project_id).first()
    status = Status.objects.select_for_update().get(pk=status.pk)
    if "name" in changes:
        name = _clean_name(changes["name"])
        if (
            Status.objects.filter(project_id=status.project_id, name__iexact=name)
            .exclude(pk=status.pk)
            .exists()
        ):
            raise ValidationError({"name": [f"There is already a status named {name!r}."]})
        status.name = name
    if "category" in changes:
        category = _clean_category(changes["category"])
        if category != status.category:
            _ensure_category_kept(status)
            status.category = category
    if "order" in changes:
        try:
            status.order = max(0, int(changes["order"]))
        except (TypeError, ValueError) as exc:
            raise ValidationError({"order": ["Enter a whole number."]}) from exc
    if "wip_limit" in changes:
        status.wip_limit = _clean_wip(changes["wip_limit"])
    with pghistory.context(user=actor.pk):
        status.save()
    project_changed(status.project_id, reason="sprints.status.updated")
    return status


def _ensure_category_kept(status: Status) -> None:
    if (
        status.category in (Status.Category.TODO, Status.Category.DONE)
        and not Status.objects.filter(project_id=status.project_id, category=status.category)
        .exclude(pk=status.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "category": [
                    f"This is the last {status.get_category_display().lower()} status; "
                    "the workflow needs one."
                ]
            }
        )


@transaction.atomic
def status_delete(*, actor: User, status: Status, move_items_to: Status | None = None) -> None:
    """Delete a status. Items in it move to ``move_items_to`` (required when there are any)."""
    Project.objects.select_for_update().filter(pk=status.project_id).first()
    _ensure_category_kept(status)
    in_use = WorkItem.objects.filter(status=status).exists()
    if in_use:
        if (
            move_items_to is None
            or move_items_to.project_id != status.project_id
            or move_items_to.pk == status.pk
        ):
            raise ValidationError(
                {
                    "move_items_to": [
                        "Items use this status: choose another status of this project for them."
                    ]
                }
            )
        work_items_change_status_bulk(actor=actor, source=status, target=move_items_to)
    with pghistory.context(user=actor.pk):
        status.delete()
    project_changed(status.project_id, reason="sprints.status.deleted")


@transaction.atomic
def transitions_set(*, actor: User, project: Project, pairs: list[tuple[Status, Status]]) -> None:
    """Replace the project's allowed transitions (empty: every move is allowed)."""
    for source, target in pairs:
        if source.project_id != project.pk or target.project_id != project.pk:
            raise ValidationError(
                {"transitions": ["Transitions must link statuses of this project."]}
            )
        if source.pk == target.pk:
            raise ValidationError({"transitions": ["A status cannot transition to itself."]})
    with pghistory.context(user=actor.pk):
        StatusTransition.objects.filter(project=project).delete()
        try:
            StatusTransition.objects.bulk_create(
                [StatusTransition(project=project, from_status=s, to_status=t) for s, t in pairs]
            )
        except IntegrityError as exc:
            raise ValidationError({"transitions": ["A transition is listed twice."]}) from exc
