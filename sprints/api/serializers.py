from __future__ import annotations

from datetime import datetime
from typing import Any

import nh3
from django.utils import timezone
from markdown_it import MarkdownIt
from rest_framework import serializers

from sprints.models import Comment, ItemEvent, Sprint, Status, WorkItem, WorkLog
from sprints.selectors import ITEM_MODEL_FIELDS

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown to HTML that is safe to show: raw HTML off, then sanitised by nh3."""
    return nh3.clean(_markdown.render(text or ""), link_rel="noopener noreferrer nofollow")


def _number(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=9, decimal_places=2, coerce_to_string=False, **kwargs
    )


_DECIMAL = _number()


def _decimal(value: Any) -> Any:
    return None if value is None else _DECIMAL.to_representation(value)


def _row_of(item: WorkItem) -> dict[str, Any]:
    """A WorkItem as the row ``selectors.work_item_rows`` gives for lists."""
    row = {name: getattr(item, name) for name in ITEM_MODEL_FIELDS}
    row["project_key"] = getattr(item, "project_key", None) or item.project.key
    row["status__name"], row["status__category"] = item.status.name, item.status.category
    row["parent_number"] = getattr(item, "parent_number", None)
    row["blocker_numbers"] = getattr(item, "blocker_numbers", None)
    return row


class StatusSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Status
        fields = ("id", "name", "category", "order", "wip_limit")
        read_only_fields = fields


class StatusWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=50)
    category = serializers.ChoiceField(choices=Status.Category.choices)
    order = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    wip_limit = serializers.IntegerField(
        min_value=1, max_value=10000, required=False, allow_null=True
    )


class StatusDeleteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    move_items_to = serializers.CharField(
        required=False, help_text="Status name for the items in it."
    )


class WorkItemSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    key = serializers.SerializerMethodField()
    project = serializers.CharField(source="project.key", read_only=True)
    status = serializers.CharField(source="status.name", read_only=True)
    status_category = serializers.CharField(source="status.category", read_only=True)
    story_points = _number(read_only=True)
    original_estimate_hours = _number(read_only=True)
    remaining_hours = _number(read_only=True)
    parent = serializers.SerializerMethodField(help_text="Key of the parent epic or story.")
    blocked_by = serializers.SerializerMethodField(help_text="Keys of the items blocking this one.")

    class Meta:
        model = WorkItem
        fields = (
            "key",
            "project",
            "type",
            "title",
            "description",
            "status",
            "status_category",
            "priority",
            "story_points",
            "original_estimate_hours",
            "remaining_hours",
            "assignee",
            "reporter",
            "parent",
            "sprint",
            "rank",
            "labels",
            "due_date",
            "blocked",
            "blocked_reason",
            "blocked_by",
            "acceptance_criteria",
            "resolved_at",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def to_representation(self, item: WorkItem | dict[str, Any]) -> dict[str, Any]:
        """The same dict DRF's field-by-field walk builds (a test holds them equal), built
        directly: items are the hottest read of the API and the generic walk cost ~0.1 ms
        per item. Lists pass plain rows (``selectors.work_item_rows``: no model instances at
        all); single items pass a WorkItem. The declared fields still define the schema."""
        row = item if isinstance(item, dict) else _row_of(item)
        key = row["project_key"]
        parent = row["parent_number"]
        when = self._datetime
        return {
            "key": f"{key}-{row['number']}",
            "project": key,
            "type": row["type"],
            "title": row["title"],
            "description": row["description"],
            "status": row["status__name"],
            "status_category": row["status__category"],
            "priority": row["priority"],
            "story_points": _decimal(row["story_points"]),
            "original_estimate_hours": _decimal(row["original_estimate_hours"]),
            "remaining_hours": _decimal(row["remaining_hours"]),
            "assignee": row["assignee_id"],
            "reporter": row["reporter_id"],
            "parent": f"{key}-{parent}" if parent else None,
            "sprint": row["sprint_id"],
            "rank": row["rank"],
            "labels": list(row["labels"]),
            "due_date": row["due_date"].isoformat() if row["due_date"] else None,
            "blocked": row["blocked"],
            "blocked_reason": row["blocked_reason"],
            "blocked_by": [f"{key}-{n}" for n in (row["blocker_numbers"] or [])],
            "acceptance_criteria": row["acceptance_criteria"],
            "resolved_at": when(row["resolved_at"]),
            "version": row["version"],
            "created_at": when(row["created_at"]),
            "updated_at": when(row["updated_at"]),
        }

    def _datetime(self, value: datetime | None) -> str | None:
        """DRF's ISO 8601 in the current time zone ("Z" for UTC); the zone looked up once."""
        if value is None:
            return None
        zone = self.__dict__.get("_zone")
        if zone is None:
            zone = self.__dict__["_zone"] = timezone.get_current_timezone()
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def get_key(self, item: WorkItem) -> str:
        return f"{item.project.key}-{item.number}"

    def get_parent(self, item: WorkItem) -> str | None:
        number = getattr(item, "parent_number", None)
        return f"{item.project.key}-{number}" if number else None

    def get_blocked_by(self, item: WorkItem) -> list[str]:
        return [f"{item.project.key}-{n}" for n in (getattr(item, "blocker_numbers", None) or [])]


class WorkItemWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Create (title required) and update (all optional; ``version`` refuses stale writes)."""

    title = serializers.CharField(max_length=255)
    type = serializers.ChoiceField(choices=WorkItem.Type.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False, max_length=50, help_text="Status name.")
    priority = serializers.ChoiceField(choices=WorkItem.Priority.choices, required=False)
    story_points = serializers.DecimalField(  # one decimal place, like the model
        max_digits=5,
        decimal_places=1,
        coerce_to_string=False,
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1000,
    )
    original_estimate_hours = _number(required=False, allow_null=True, min_value=0, max_value=10000)
    remaining_hours = _number(required=False, allow_null=True, min_value=0, max_value=10000)
    assignee = serializers.IntegerField(required=False, allow_null=True, help_text="User id.")
    parent = serializers.CharField(
        required=False, allow_null=True, help_text="Key of an epic or story."
    )
    sprint = serializers.IntegerField(
        required=False, allow_null=True, help_text="Sprint id; null: backlog."
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    blocked = serializers.BooleanField(required=False)
    blocked_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    blocked_by = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=50,
        help_text="Keys of blocking items.",
    )
    acceptance_criteria = serializers.CharField(required=False, allow_blank=True)
    position = serializers.ChoiceField(
        choices=["top", "bottom"],
        required=False,
        write_only=True,
        help_text="Create only: where the item lands in the backlog.",
    )
    version = serializers.IntegerField(required=False, min_value=1)


class RankWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    before = serializers.CharField(
        required=False, allow_null=True, help_text="Key of the item just below."
    )
    after = serializers.CharField(
        required=False, allow_null=True, help_text="Key of the item just above."
    )


class SprintSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    project = serializers.CharField(source="project.key", read_only=True)
    committed_points = _number(read_only=True)
    completed_points = _number(read_only=True)
    capacity_hours = _number(read_only=True)

    class Meta:
        model = Sprint
        fields = (
            "id",
            "project",
            "name",
            "goal",
            "start_date",
            "end_date",
            "state",
            "committed_points",
            "completed_points",
            "capacity_hours",
            "started_at",
            "closed_at",
            "version",
        )
        read_only_fields = fields


class SprintWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=100)
    goal = serializers.CharField(required=False, allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    version = serializers.IntegerField(required=False, min_value=1)


class SprintCloseWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    move_unfinished_to = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='A sprint id, or "backlog" (the default; null means the backlog too).',
    )


class CommentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    body_html = serializers.SerializerMethodField(help_text="The Markdown body as sanitised HTML.")

    class Meta:
        model = Comment
        fields = ("id", "author", "author_name", "body", "body_html", "created_at")
        read_only_fields = fields

    def get_body_html(self, comment: Comment) -> str:
        return markdown_html(comment.body)


class CommentWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = serializers.CharField(max_length=20000)


class WorkLogSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    username = serializers.CharField(source="user.username", read_only=True)
    hours = _number(read_only=True)

    class Meta:
        model = WorkLog
        fields = ("id", "user", "username", "date", "hours", "note", "created_at")
        read_only_fields = fields


class WorkLogWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    hours = _number(min_value=0, max_value=24)
    date = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ItemEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    actor_name = serializers.SerializerMethodField()
    old_value = serializers.CharField(read_only=True, allow_null=True)
    old_label = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = ItemEvent
        fields = ("at", "field", "old_value", "value", "old_label", "label", "actor", "actor_name")
        read_only_fields = fields

    def get_actor_name(self, event: ItemEvent) -> str | None:
        return event.actor.display_name if event.actor else None


class BurndownDaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    date = serializers.DateField()
    scope_points = _number()
    remaining_points = _number()
    completed_points = _number()
    remaining_hours = _number()
    ideal_points = _number(allow_null=True)


class BurndownSerializer(serializers.Serializer):  # type: ignore[type-arg]
    sprint = serializers.IntegerField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="Null until a worker computed it."
    )
    days = BurndownDaySerializer(many=True)


class VelocitySprintSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    committed_points = _number(allow_null=True)
    completed_points = _number(allow_null=True)


class VelocitySerializer(serializers.Serializer):  # type: ignore[type-arg]
    computed_at = serializers.DateTimeField(allow_null=True)
    window = serializers.IntegerField(help_text="Closed sprints the statistics cover.")
    sprints = VelocitySprintSerializer(many=True)
    mean = _number(allow_null=True)
    median = _number(allow_null=True)
    stdev = _number(allow_null=True, help_text="Sample standard deviation.")


class FlowDaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    date = serializers.DateField()
    todo = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    done = serializers.IntegerField()


class ThroughputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    week = serializers.DateField(help_text="Monday of the ISO week.")
    items = serializers.IntegerField()


class FlowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    computed_at = serializers.DateTimeField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    days = FlowDaySerializer(many=True)
    cycle_time_days = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="p50, p85, p95 in days."
    )
    lead_time_days = serializers.DictField(child=serializers.FloatField(allow_null=True))
    throughput = ThroughputSerializer(many=True)
    items_done = serializers.IntegerField()
