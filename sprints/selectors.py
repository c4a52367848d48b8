"""Reads for backlog, board, item pages and the API: fixed query counts whatever the size."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, QuerySet, Window
from django.db.models.functions import Lag
from django.http import Http404

from projects.models import Project
from sprints.models import Comment, Dependency, ItemEvent, Sprint, Status, WorkItem, WorkLog

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


def work_item_list_for_project(*, project: Project) -> QuerySet[WorkItem]:
    """The project's items in backlog (rank) order, with what a row or card shows."""
    return _item_rows(WorkItem.objects.filter(project=project)).order_by("rank")


def work_item_list_visible_to(*, user: Any) -> QuerySet[WorkItem]:
    """Items of every project the user can see (for ``/api/v1/items/``)."""
    return _item_rows(
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
        .first()
    )
    if item is None:
        raise Http404("No such item.")
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
