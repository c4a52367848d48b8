"""Reads for backlog, board, item pages and the API: fixed query counts whatever the size."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Lag
from django.http import Http404

from projects.models import Membership, Project
from sprints.metrics import SprintFigures, velocity_compute
from sprints.models import (
    BurndownDay,
    Comment,
    Dependency,
    FlowDay,
    ItemEvent,
    ProjectMetrics,
    Sprint,
    Status,
    WorkItem,
    WorkLog,
)
from tpm.permissions import remember_role

ITEM_KEY = re.compile(r"^([A-Z]{2,10})-(\d{1,9})$")


def status_list_for_project(*, project: Project) -> QuerySet[Status]:
    return Status.objects.filter(project=project).order_by("order", "pk")


def _item_rows(queryset: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    """What an item row shows, in one query: project key, status, parent and blocker numbers."""
    return queryset.select_related("project", "status").annotate(
        parent_number=F("parent__number"),
        blocker_numbers=ArraySubquery(
            Dependency.objects.filter(item=OuterRef("pk"))
            .order_by("blocker__number")
            .values("blocker__number")
        ),
    )


def _list_rows(queryset: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    """Rows for API lists: like ``_item_rows`` but only the project's key, not the whole project
    (its charter texts) on every one of up to 200 rows."""
    return queryset.select_related("status").annotate(
        project_key=F("project__key"),
        parent_number=F("parent__number"),
        blocker_numbers=ArraySubquery(
            Dependency.objects.filter(item=OuterRef("pk"))
            .order_by("blocker__number")
            .values("blocker__number")
        ),
    )


ITEM_MODEL_FIELDS = (
    "number",
    "type",
    "title",
    "description",
    "priority",
    "story_points",
    "original_estimate_hours",
    "remaining_hours",
    "assignee_id",
    "reporter_id",
    "sprint_id",
    "rank",
    "labels",
    "due_date",
    "blocked",
    "blocked_reason",
    "acceptance_criteria",
    "resolved_at",
    "version",
    "created_at",
    "updated_at",
)
ITEM_ROW_FIELDS = (
    *ITEM_MODEL_FIELDS,
    "project_key",
    "status__name",
    "status__category",
    "parent_number",
    "blocker_numbers",
)


def work_item_rows(queryset: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    """A filtered list queryset as plain rows (dicts) for the API: no model instances built,
    which is most of the cost of a 200-row page."""
    return queryset.values(*ITEM_ROW_FIELDS)


def work_item_list_for_project(*, project: Project) -> QuerySet[WorkItem]:
    """The project's items in backlog (rank) order, with what an API row shows."""
    return _list_rows(WorkItem.objects.filter(project=project)).order_by("rank")


def work_item_list_visible_to(*, user: Any) -> QuerySet[WorkItem]:
    """Items of every project the user can see (for ``/api/v1/items/``)."""
    return _list_rows(
        WorkItem.objects.filter(project__in=Project.objects.visible_to(user))
    ).order_by("project__key", "rank")


def work_item_get_for_user(*, user: Any, key: str) -> WorkItem:
    """One item by ``KEY-N``; 404 when missing or in a project the user cannot see."""
    match = ITEM_KEY.match(key or "")
    if not match:
        raise Http404("No such item.")
    item = (
        _item_rows(WorkItem.objects.filter(project__key=match[1], number=int(match[2])))
        .filter(project__in=Project.objects.visible_to(user))
        .annotate(  # the caller's role comes along, so the permission check asks no more
            caller_role=Subquery(
                Membership.objects.filter(project=OuterRef("project_id"), user_id=user.pk)
                .order_by()  # the default ordering would join project and user for nothing
                .values("role")[:1]
            )
        )
        .first()
    )
    if item is None:
        raise Http404("No such item.")
    remember_role(user, item.project, item.caller_role)  # type: ignore[attr-defined]
    return item


def work_items_by_keys(*, project: Project, keys: list[str], field: str) -> list[WorkItem]:
    """Items of ``project`` named by keys; a 400-worthy error message when one is unknown."""
    numbers = []
    for key in keys:
        match = ITEM_KEY.match(str(key))
        if not match or match[1] != project.key:
            raise ValidationError({field: [f"{key!r} is not an item of {project.key}."]})
        numbers.append(int(match[2]))
    found = {
        item.number: item for item in WorkItem.objects.filter(project=project, number__in=numbers)
    }
    missing = [f"{project.key}-{n}" for n in numbers if n not in found]
    if missing:
        raise ValidationError({field: [f"No such item: {', '.join(missing)}."]})
    return [found[n] for n in numbers]


def sprint_list_for_project(*, project: Project) -> QuerySet[Sprint]:
    return (
        Sprint.objects.filter(project=project)
        .select_related("project")
        .order_by("start_date", "pk")
    )


def sprint_list_visible_to(*, user: Any) -> QuerySet[Sprint]:
    return Sprint.objects.filter(project__in=Project.objects.visible_to(user)).select_related(
        "project"
    )


def sprint_get_for_user(*, user: Any, sprint_id: Any) -> Sprint:
    try:
        return sprint_list_visible_to(user=user).get(pk=int(sprint_id))
    except (Sprint.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such sprint.") from exc


def status_get_for_user(*, user: Any, status_id: Any) -> Status:
    try:
        return Status.objects.select_related("project").get(
            pk=int(status_id), project__in=Project.objects.visible_to(user)
        )
    except (Status.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such status.") from exc


def comment_list_for_item(*, item: WorkItem) -> QuerySet[Comment]:
    return Comment.objects.filter(item=item).select_related("author").order_by("created_at", "pk")


def worklog_list_for_item(*, item: WorkItem) -> QuerySet[WorkLog]:
    return WorkLog.objects.filter(item=item).select_related("user").order_by("-date", "-pk")


def item_history_for_item(*, item: WorkItem) -> QuerySet[ItemEvent]:
    """The item's tracked changes, newest first, each with the value it replaced (one query)."""
    return (
        ItemEvent.objects.filter(item_id=item.pk)
        .select_related("actor")
        .annotate(
            old_value=Window(Lag("value"), partition_by=[F("field")], order_by=[F("at"), F("pk")]),
            old_label=Window(Lag("label"), partition_by=[F("field")], order_by=[F("at"), F("pk")]),
        )
        .order_by("-at", "-pk")
    )


def burndown_for_sprint(*, sprint: Sprint) -> dict[str, Any]:
    """The sprint's stored burndown days and when they were computed (1 query)."""
    days = list(BurndownDay.objects.filter(sprint=sprint).order_by("date"))
    return {
        "sprint": sprint.pk,
        "computed_at": max((d.computed_at for d in days), default=None),
        "days": days,
    }


def velocity_for_project(*, project: Project, window: int | None = None) -> dict[str, Any]:
    """Closed sprints' frozen figures and the stored statistics (2 queries).

    ``window`` asks for the statistics over another number of recent closed sprints than the
    stored default (3): they come from the same frozen per-sprint figures, a handful of rows.
    """
    metrics = ProjectMetrics.objects.filter(project=project).first()
    sprints = list(
        Sprint.objects.filter(project=project, state=Sprint.State.CLOSED)
        .order_by("end_date", "pk")
        .values("id", "name", "start_date", "end_date", "committed_points", "completed_points")
    )
    stored_window = metrics.velocity_window if metrics else 3
    if window is not None and window != stored_window:
        figures = velocity_compute(
            [
                SprintFigures(
                    sprint_id=s["id"],
                    name=s["name"],
                    end_date=s["end_date"],
                    committed_points=s["committed_points"] or Decimal(0),
                    completed_points=s["completed_points"] or Decimal(0),
                )
                for s in sprints
            ],
            window=window,
        )
        return {
            "computed_at": metrics.computed_at if metrics else None,
            "window": window,
            "sprints": sprints,
            "mean": figures.mean,
            "median": figures.median,
            "stdev": figures.stdev,
        }
    return {
        "computed_at": metrics.computed_at if metrics else None,
        "window": stored_window,
        "sprints": sprints,
        "mean": metrics.velocity_mean if metrics else None,
        "median": metrics.velocity_median if metrics else None,
        "stdev": metrics.velocity_stdev if metrics else None,
    }


def flow_for_project(*, project: Project) -> dict[str, Any]:
    """Stored cumulative flow days and flow figures (2 queries)."""
    metrics = ProjectMetrics.objects.filter(project=project).first()
    return {
        "computed_at": metrics.computed_at if metrics else None,
        "start_date": metrics.flow_start_date if metrics else None,
        "end_date": metrics.flow_end_date if metrics else None,
        "days": list(
            FlowDay.objects.filter(project=project)
            .order_by("date")
            .values("date", "todo", "in_progress", "done")
        ),
        "cycle_time_days": metrics.cycle_time_days if metrics else {},
        "lead_time_days": metrics.lead_time_days if metrics else {},
        "throughput": [
            {"week": week, "items": count}
            for week, count in (metrics.throughput if metrics else [])
        ],
        "items_done": metrics.items_done if metrics else 0,
    }


# --- pages ---------------------------------------------------------------------------------------


def backlog_for_project(*, project: Project, filters: dict[str, str]) -> dict[str, Any]:
    """Open sprints and the backlog with their items in rank order: 3 queries whatever the size.

    Items of closed sprints are not on the backlog page. Grouping by sprint happens on the
    rows already loaded.
    """
    sprints = list(
        Sprint.objects.filter(project=project)
        .exclude(state=Sprint.State.CLOSED)
        .order_by("start_date", "pk")
    )
    items = (
        WorkItem.objects.filter(project=project)
        .filter(Q(sprint__isnull=True) | ~Q(sprint__state=Sprint.State.CLOSED))
        .select_related("status", "assignee")
        .order_by("rank")
        .only(
            "pk",
            "number",
            "title",
            "type",
            "priority",
            "story_points",
            "remaining_hours",
            "rank",
            "sprint_id",
            "blocked",
            "labels",
            "status__name",
            "status__category",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "project_id",
        )
    )
    if filters.get("q"):
        items = items.filter(
            Q(title__icontains=filters["q"]) | Q(description__icontains=filters["q"])
        )
    if filters.get("type") in WorkItem.Type.values:
        items = items.filter(type=filters["type"])
    if filters.get("assignee", "").isdigit():
        items = items.filter(assignee_id=int(filters["assignee"]))
    if filters.get("label"):
        items = items.filter(labels__contains=[filters["label"].strip().lower()])
    groups: dict[int | None, list[WorkItem]] = {s.pk: [] for s in sprints}
    groups[None] = []
    for item in items:
        item.project = project
        groups.setdefault(item.sprint_id, []).append(item)
    velocity = (
        ProjectMetrics.objects.filter(project=project)
        .values_list("velocity_mean", flat=True)
        .first()
    )
    sections = []
    for sprint in sprints:
        rows = groups.get(sprint.pk, [])
        points = sum((i.story_points or 0 for i in rows), Decimal("0"))
        hours = sum((i.remaining_hours or 0 for i in rows), Decimal("0"))
        sections.append(
            {
                "sprint": sprint,
                "items": rows,
                "points": points,
                "hours": hours,
                "over_capacity": bool(
                    sprint.capacity_hours is not None and hours > sprint.capacity_hours
                ),
                "over_velocity": bool(velocity and points > velocity),
            }
        )
    backlog = groups[None]
    return {
        "sections": sections,
        "backlog": backlog,
        "backlog_points": sum((i.story_points or 0 for i in backlog), Decimal("0")),
        "velocity": velocity,
        "count": sum(len(rows) for rows in groups.values()),
    }


def board_for_sprint(*, sprint: Sprint, swimlanes: bool = False) -> dict[str, Any]:
    """Columns per status with the sprint's cards: 2 queries whatever the size."""
    statuses = list(Status.objects.filter(project_id=sprint.project_id).order_by("order", "pk"))
    cards = (
        WorkItem.objects.filter(sprint=sprint)
        .select_related("assignee")
        .order_by("rank")
        .only(
            "pk",
            "number",
            "title",
            "type",
            "priority",
            "story_points",
            "blocked",
            "blocked_reason",
            "status_id",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "assignee_id",
            "project_id",
            "version",
        )
    )
    by_status: dict[int, list[WorkItem]] = {s.pk: [] for s in statuses}
    for card in cards:
        card.project = sprint.project
        by_status.setdefault(card.status_id, []).append(card)
    columns = [
        {
            "status": s,
            "cards": by_status[s.pk],
            "count": len(by_status[s.pk]),
            "over_wip": bool(s.wip_limit and len(by_status[s.pk]) > s.wip_limit),
        }
        for s in statuses
    ]
    lanes: list[dict[str, Any]] = []
    if swimlanes:
        people: dict[int | None, str] = {}
        for column in columns:
            for card in column["cards"]:
                people[card.assignee_id] = (
                    card.assignee.display_name if card.assignee else "Unassigned"
                )
        for person_id, name in sorted(people.items(), key=lambda kv: (kv[0] is None, kv[1])):
            lanes.append(
                {
                    "name": name,
                    "columns": [
                        {
                            **column,
                            "cards": [c for c in column["cards"] if c.assignee_id == person_id],
                        }
                        for column in columns
                    ],
                }
            )
    return {"columns": columns, "lanes": lanes, "total": sum(c["count"] for c in columns)}


def work_item_list_for_assignee(*, user: Any) -> QuerySet[WorkItem]:
    """ "My work": open items assigned to the user across visible projects (1 query)."""
    return (
        WorkItem.objects.filter(assignee_id=user.pk, project__in=Project.objects.visible_to(user))
        .exclude(status__category=Status.Category.DONE)
        .select_related("project", "status", "sprint")
        .order_by("project__key", "rank")
    )


def item_detail_for_page(*, item: WorkItem) -> dict[str, Any]:
    """Children, comments, work logs and history of an item (a fixed number of queries)."""
    return {
        "children": list(
            WorkItem.objects.filter(parent=item).select_related("status").order_by("rank")[:200]
        ),
        "blockers": list(WorkItem.objects.filter(dependents__item=item).select_related("status")),
        "comments": list(comment_list_for_item(item=item)[:200]),
        "worklogs": list(worklog_list_for_item(item=item)[:200]),
        "history": list(item_history_for_item(item=item)[:200]),
        "parent": WorkItem.objects.filter(pk=item.parent_id).first() if item.parent_id else None,
        "logged_hours": WorkLog.objects.filter(item=item).aggregate(total=Sum("hours"))["total"]
        or Decimal("0"),
    }
