"""Work items: create, change, rank, move, delete. Every metric-relevant change is an ItemEvent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from projects.models import Membership, Project
from sprints.models import Dependency, ItemEvent, Sprint, Status, StatusTransition, WorkItem
from sprints.ranking import rank_between
from tpm.errors import StaleVersion
from tpm.events import project_changed
from tpm.models import User

EDITABLE = {
    "title",
    "type",
    "description",
    "status",
    "priority",
    "story_points",
    "original_estimate_hours",
    "remaining_hours",
    "assignee",
    "parent",
    "sprint",
    "labels",
    "due_date",
    "blocked",
    "blocked_reason",
    "blocked_by",
    "acceptance_criteria",
}
# Fields whose changes feed the metrics and the item history.
TRACKED = ("status", "story_points", "remaining_hours", "sprint", "assignee")
MAX_LABELS = 20
# Foreign keys are checked by the rules above (and by the database); cleaning them again
# would cost one query each.
_NOT_CLEANED = ["rank", "project", "status", "reporter", "assignee", "parent", "sprint", "number"]
MAX_PARENT_DEPTH = 10


# --- validation helpers ------------------------------------------------------------------------


def _decimal(value: Any, field: str, *, maximum: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: ["Enter a number."]}) from exc
    if not number.is_finite():
        raise ValidationError({field: ["Enter a number."]})
    if number < 0:
        raise ValidationError({field: ["Must not be negative."]})
    if number > maximum:
        raise ValidationError({field: [f"Must be at most {maximum}."]})
    return number


def _labels(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError({"labels": ["Give a list of labels."]})
    labels: list[str] = []
    for raw in value:
        if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > 50 or "," in raw:
            raise ValidationError(
                {"labels": ["Labels are words of 1 to 50 characters without commas."]}
            )
        label = raw.strip().lower()
        if label not in labels:
            labels.append(label)
    if len(labels) > MAX_LABELS:
        raise ValidationError({"labels": [f"Use at most {MAX_LABELS} labels."]})
    return labels


def status_by_name(project: Project, name: Any) -> Status:
    """A status of the project by name (case-insensitive); 400 for an unknown one."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"status": ["Give a status name."]})
    status = Status.objects.filter(project=project, name__iexact=name.strip()).first()
    if status is None:
        names = ", ".join(Status.objects.filter(project=project).values_list("name", flat=True))
        raise ValidationError({"status": [f"Unknown status {name!r}. This project has: {names}."]})
    return status


def _check_transition(current: Status, target: Status) -> None:
    if current.pk == target.pk:
        return
    allowed = set(
        StatusTransition.objects.filter(from_status=current).values_list("to_status_id", flat=True)
    )
    if allowed and target.pk not in allowed:
        names = ", ".join(
            Status.objects.filter(pk__in=allowed).order_by("order").values_list("name", flat=True)
        )
        raise ValidationError(
            {
                "status": [
                    f"An item in {current.name} cannot move to {target.name}; allowed: {names}."
                ]
            }
        )


def _check_assignee(project: Project, user: User | None) -> None:
    if user is None:
        return
    if not Membership.objects.filter(
        project=project, user=user, role__in=["owner", "member"]
    ).exists():
        raise ValidationError(
            {"assignee": [f"{user.username} is not an owner or member of {project.key}."]}
        )


def _check_sprint(project: Project, sprint: Sprint | None) -> None:
    if sprint is None:
        return
    if sprint.project_id != project.pk:
        raise ValidationError({"sprint": ["That sprint belongs to another project."]})
    if sprint.state == Sprint.State.CLOSED:
        raise ValidationError(
            {"sprint": [f"{sprint.name} is closed; choose a planned or active sprint."]}
        )


def _check_parent(item: WorkItem, parent: WorkItem | None) -> None:
    if parent is None:
        return
    if parent.project_id != item.project_id:
        raise ValidationError({"parent": ["The parent must be in the same project."]})
    if item.type == WorkItem.Type.EPIC:
        raise ValidationError({"parent": ["Epics have no parent."]})
    if parent.type not in (WorkItem.Type.EPIC, WorkItem.Type.STORY):
        raise ValidationError({"parent": ["The parent must be an epic or a story."]})
    if item.pk is not None:
        ancestor: WorkItem | None = parent
        for _ in range(MAX_PARENT_DEPTH):
            if ancestor is None:
                break
            if ancestor.pk == item.pk:
                raise ValidationError({"parent": ["An item cannot be its own ancestor."]})
            ancestor = (
                WorkItem.objects.filter(pk=ancestor.parent_id).first()
                if ancestor.parent_id
                else None
            )


def _check_blockers(item: WorkItem, blockers: list[WorkItem]) -> None:
    for blocker in blockers:
        if blocker.project_id != item.project_id:
            raise ValidationError({"blocked_by": ["Dependencies must be in the same project."]})
        if item.pk is not None and blocker.pk == item.pk:
            raise ValidationError({"blocked_by": ["An item cannot block itself."]})
    if item.pk is None or not blockers:
        return
    # Would item → blocker close a cycle? That is: does any blocker (transitively) wait on item?
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE waits(id) AS (
                SELECT blocker_id FROM sprints_dependency WHERE item_id = ANY(%s)
                UNION
                SELECT d.blocker_id FROM sprints_dependency d JOIN waits w ON d.item_id = w.id
            )
            SELECT 1 FROM waits WHERE id = %s LIMIT 1
            """,
            [[b.pk for b in blockers], item.pk],
        )
        if cursor.fetchone():
            raise ValidationError({"blocked_by": ["That dependency would create a cycle."]})


# --- history ------------------------------------------------------------------------------------


def _event_value(field: str, value: Any) -> tuple[str | None, str]:
    """(stored value, label) for an ItemEvent of ``field``."""
    if value is None:
        return None, ""
    if field == "status":
        return value.category, value.name
    if field in ("sprint", "assignee"):
        label = getattr(value, "username", None) or getattr(value, "name", "")
        return str(value.pk), label
    return str(value), ""


_EVENT_FIELD = {
    "status": "status",
    "story_points": "points",
    "remaining_hours": "hours",
    "sprint": "sprint",
    "assignee": "assignee",
}


def _record(item: WorkItem, actor: User | None, at: datetime, changes: dict[str, Any]) -> None:
    events = []
    for field, value in changes.items():
        stored, label = _event_value(field, value)
        events.append(
            ItemEvent(
                project_id=item.project_id,
                item_id=item.pk,
                at=at,
                field=_EVENT_FIELD[field],
                value=stored,
                label=label[:100],
                actor=actor,
            )
        )
    if events:
        ItemEvent.objects.bulk_create(events)


# --- ranks --------------------------------------------------------------------------------------


def _rank_at_end(project: Project, *, top: bool = False) -> str:
    bounds = WorkItem.objects.filter(project=project).aggregate(low=Min("rank"), high=Max("rank"))
    if top:
        return rank_between(None, bounds["low"])
    return rank_between(bounds["high"], None)


# --- services -----------------------------------------------------------------------------------


@transaction.atomic
def work_item_create(
    *,
    actor: User,
    project: Project,
    title: str,
    type: str = "story",
    status: str | None = None,
    position: str = "bottom",
    blocked_by: Iterable[WorkItem] = (),
    **fields: Any,
) -> WorkItem:
    """Create an item numbered ``KEY-N``; numbers come from the locked project row, never reused.

    Rules as in ``work_item_update``; the default status is the first "todo" status of the
    workflow. ``position`` "top" or "bottom" places it in the backlog order.
    """
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    locked = (
        Project.objects.select_for_update().only("pk", "key", "next_item_number").get(pk=project.pk)
    )
    if status is None:
        initial = (
            Status.objects.filter(project=project, category=Status.Category.TODO)
            .order_by("order", "pk")
            .first()
        )
        if initial is None:
            raise ValidationError({"status": ["The workflow has no to-do status."]})
    else:
        initial = status_by_name(project, status)
    item = WorkItem(
        project=project,
        number=locked.next_item_number,
        title=(title or "").strip(),
        type=type,
        status=initial,
        reporter=actor,
        rank=_rank_at_end(project, top=position == "top"),
    )
    item.project = project
    _apply(item, fields)
    blockers = list(blocked_by)
    _check_blockers(item, blockers)
    item.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    if item.status.category == Status.Category.DONE:
        item.resolved_at = timezone.now()
    with pghistory.context(user=actor.pk):
        item.save()
        if blockers:
            Dependency.objects.bulk_create([Dependency(item=item, blocker=b) for b in blockers])
    Project.objects.filter(pk=project.pk).update(next_item_number=F("next_item_number") + 1)
    _record(item, actor, item.created_at, {field: getattr(item, field) for field in TRACKED})
    project_changed(project.pk, reason="sprints.item.created")
    return item


def _apply(item: WorkItem, fields: dict[str, Any]) -> None:
    """Validate and set plain fields on ``item`` (no status or blockers)."""
    project = item.project
    if "title" in fields:
        item.title = (fields["title"] or "").strip()
    if "type" in fields:
        if fields["type"] not in WorkItem.Type.values:
            raise ValidationError({"type": [f"Choose one of: {', '.join(WorkItem.Type.values)}."]})
        item.type = fields["type"]
    if "priority" in fields:
        if fields["priority"] not in WorkItem.Priority.values:
            raise ValidationError(
                {"priority": [f"Choose one of: {', '.join(WorkItem.Priority.values)}."]}
            )
        item.priority = fields["priority"]
    if "story_points" in fields:
        item.story_points = _decimal(
            fields["story_points"], "story_points", maximum=Decimal("1000")
        )
    if "original_estimate_hours" in fields:
        item.original_estimate_hours = _decimal(
            fields["original_estimate_hours"], "original_estimate_hours", maximum=Decimal("10000")
        )
    if "remaining_hours" in fields:
        item.remaining_hours = _decimal(
            fields["remaining_hours"], "remaining_hours", maximum=Decimal("10000")
        )
    if "labels" in fields:
        item.labels = _labels(fields["labels"])
    if "sprint" in fields:
        _check_sprint(project, fields["sprint"])
        item.sprint = fields["sprint"]
    if "assignee" in fields:
        _check_assignee(project, fields["assignee"])
        item.assignee = fields["assignee"]
    if "parent" in fields:
        _check_parent(item, fields["parent"])
        item.parent = fields["parent"]
    elif "type" in fields and item.parent_id is not None:
        _check_parent(item, item.parent)
    for plain in ("description", "acceptance_criteria", "blocked_reason"):
        if plain in fields:
            item.__dict__[plain] = (fields[plain] or "").strip()
    if "due_date" in fields:
        if fields["due_date"] is not None and not isinstance(fields["due_date"], date):
            raise ValidationError({"due_date": ["Enter a date as YYYY-MM-DD."]})
        item.due_date = fields["due_date"]
    if "blocked" in fields:
        item.blocked = bool(fields["blocked"])
    if not item.blocked:
        item.blocked_reason = ""
    if not item.title:
        raise ValidationError({"title": ["Give the item a title."]})


@transaction.atomic
def work_item_update(
    *, actor: User, item: WorkItem, expected_version: int | None = None, **changes: Any
) -> WorkItem:
    """Change an item. ``expected_version`` refuses the change (409) if someone changed it since.

    Rules: status by name, following the workflow's allowed transitions; entering a done
    status sets ``resolved_at``, leaving one clears it; the sprint must be this project's and
    not closed; the assignee an owner or member; the parent an epic or story of this project
    and no cycles; ``blocked_by`` items of this project and no dependency cycles; points and
    hours not negative. Changes to status, points, remaining hours, sprint and assignee are
    recorded as ItemEvents at the moment of the change.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    project = item.project
    # Lock and read the bare row (no joins: locking through them lets a waiter re-check the
    # updated row against the old status row and find nothing). The status the caller read
    # is reused when it is still the row's; anything else loads when needed.
    locked = WorkItem.objects.select_for_update().get(pk=item.pk)
    if locked.status_id == item.status_id and "status" in item._state.fields_cache:
        locked.status = item.status
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(current=locked)
    locked.project = project
    if not changes:
        return locked  # nothing to change (a PATCH of unknown or read-only fields): no new version
    before = {
        field: getattr(
            locked, f"{field}_id" if field in ("status", "sprint", "assignee") else field
        )
        for field in TRACKED
    }
    if "status" in changes:
        target = status_by_name(project, changes.pop("status"))
        _check_transition(locked.status, target)
        if (
            target.category == Status.Category.DONE
            and locked.status.category != Status.Category.DONE
        ):
            locked.resolved_at = timezone.now()
        elif target.category != Status.Category.DONE:
            locked.resolved_at = None
        locked.status = target
    blockers = changes.pop("blocked_by", None)
    _apply(locked, changes)
    if blockers is not None:
        blockers = list(blockers)
        _check_blockers(locked, blockers)
    locked.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    locked.version += 1
    with pghistory.context(user=actor.pk):
        locked.save()
        if blockers is not None:
            Dependency.objects.filter(item=locked).delete()
            Dependency.objects.bulk_create([Dependency(item=locked, blocker=b) for b in blockers])
    after = {
        field: getattr(
            locked, f"{field}_id" if field in ("status", "sprint", "assignee") else field
        )
        for field in TRACKED
    }
    changed = {field: getattr(locked, field) for field in TRACKED if before[field] != after[field]}
    _record(locked, actor, timezone.now(), changed)
    project_changed(project.pk, reason="sprints.item.updated")
    return locked


@transaction.atomic
def work_item_rank(
    *, actor: User, item: WorkItem, before: WorkItem | None = None, after: WorkItem | None = None
) -> WorkItem:
    """Place ``item`` between ``after`` (above it) and ``before`` (below it): one row written."""
    Project.objects.select_for_update().filter(pk=item.project_id).first()
    for other in (before, after):
        if other is not None and other.project_id != item.project_id:
            raise ValidationError({"rank": ["Rank items against items of the same project."]})
        if other is not None and other.pk == item.pk:
            raise ValidationError({"rank": ["An item cannot be ranked against itself."]})
    upper = (
        WorkItem.objects.filter(pk=after.pk).values_list("rank", flat=True).first()
        if after
        else None
    )
    lower = (
        WorkItem.objects.filter(pk=before.pk).values_list("rank", flat=True).first()
        if before
        else None
    )
    if upper is None and lower is None:
        raise ValidationError({"rank": ["Say which item this one goes above or below."]})
    if upper is not None and lower is None:  # directly below ``after``: up to the next item
        lower = (
            WorkItem.objects.filter(project_id=item.project_id, rank__gt=upper)
            .exclude(pk=item.pk)
            .aggregate(r=Min("rank"))["r"]
        )
    elif lower is not None and upper is None:  # directly above ``before``
        upper = (
            WorkItem.objects.filter(project_id=item.project_id, rank__lt=lower)
            .exclude(pk=item.pk)
            .aggregate(r=Max("rank"))["r"]
        )
    if upper is not None and lower is not None and upper >= lower:
        raise ValidationError(
            {"rank": ["Those two items are not next to each other in that order."]}
        )
    item.rank = rank_between(upper, lower)
    with pghistory.context(user=actor.pk):
        WorkItem.objects.filter(pk=item.pk).update(rank=item.rank, updated_at=timezone.now())
    return item


@transaction.atomic
def work_item_delete(*, actor: User, item: WorkItem) -> None:
    """Delete an item; its history stays (a "deleted" event closes it for the metrics)."""
    with pghistory.context(user=actor.pk):
        WorkItem.objects.filter(pk=item.pk).delete()
    ItemEvent.objects.create(
        project_id=item.project_id,
        item_id=item.pk,
        at=timezone.now(),
        field=ItemEvent.Field.DELETED,
        value="1",
        actor=actor,
    )
    project_changed(item.project_id, reason="sprints.item.deleted")


@transaction.atomic
def work_items_move_to_sprint(
    *,
    actor: User,
    project: Project,
    items: list[WorkItem],
    sprint: Sprint | None,
    at: datetime | None = None,
) -> int:
    """Move several items into a sprint (or the backlog with None) in one statement.

    Returns how many items moved; each moved item gets a sprint event at ``at`` (now by
    default). Moving items out of a closed sprint is allowed: its figures are frozen anyway.
    """
    _check_sprint(project, sprint)
    if any(item.project_id != project.pk for item in items):
        raise ValidationError({"items": ["All items must belong to this project."]})
    target_id = sprint.pk if sprint else None
    moving = [item for item in items if item.sprint_id != target_id]
    if not moving:
        return 0
    now = at or timezone.now()
    with pghistory.context(user=actor.pk):
        WorkItem.objects.filter(pk__in=[i.pk for i in moving]).update(
            sprint_id=target_id, version=F("version") + 1, updated_at=now
        )
    stored, label = _event_value("sprint", sprint)
    ItemEvent.objects.bulk_create(
        [
            ItemEvent(
                project_id=project.pk,
                item_id=i.pk,
                at=now,
                field=ItemEvent.Field.SPRINT,
                value=stored,
                label=label,
                actor=actor,
            )
            for i in moving
        ]
    )
    project_changed(project.pk, reason="sprints.item.moved")
    return len(moving)


@transaction.atomic
def work_items_change_status_bulk(*, actor: User, source: Status, target: Status) -> int:
    """Move every item of ``source`` to ``target`` (used when a status is deleted)."""
    ids = list(WorkItem.objects.filter(status=source).values_list("pk", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    resolved = now if target.category == Status.Category.DONE else None
    with pghistory.context(user=actor.pk):
        updates: dict[str, Any] = {"status": target, "version": F("version") + 1, "updated_at": now}
        if source.category != target.category:
            updates["resolved_at"] = resolved
        WorkItem.objects.filter(pk__in=ids).update(**updates)
    ItemEvent.objects.bulk_create(
        [
            ItemEvent(
                project_id=target.project_id,
                item_id=pk,
                at=now,
                field=ItemEvent.Field.STATUS,
                value=target.category,
                label=target.name,
                actor=actor,
            )
            for pk in ids
        ]
    )
    project_changed(target.project_id, reason="sprints.item.updated")
    return len(ids)
