"""Backlog and sprint execution: workflow statuses, work items, sprints, work logs, comments.

Every change to an item's status, points, remaining hours, sprint or assignee is also kept in
``ItemEvent`` (same transaction), which feeds the time-based metrics and the item history.
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from projects.models import Project


class Status(models.Model):
    """One step of a project's workflow; its category drives boards and metrics."""

    class Category(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="statuses")
    name = models.CharField(max_length=50)
    category = models.CharField(max_length=20, choices=Category.choices)
    order = models.PositiveSmallIntegerField(default=0)
    wip_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Warn on the board when more items than this are here."
    )

    class Meta:
        ordering = ["project", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="sprints_status_project_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(category__in=["todo", "in_progress", "done"]),
                name="sprints_status_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.category})"


class StatusTransition(models.Model):
    """An allowed move. A status with no outgoing transitions may move anywhere."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.ForeignKey(
        Status, on_delete=models.CASCADE, related_name="transitions_out"
    )
    to_status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="transitions_in")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["from_status", "to_status"], name="sprints_statustransition_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")), name="sprints_statustransition_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status_id} → {self.to_status_id}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Sprint(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sprints")
    name = models.CharField(max_length=100)
    goal = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    capacity_hours = models.DecimalField(
        max_digits=8,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Team hours: members' weekly capacity over the sprint's working days.",
    )
    committed_points = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    completed_points = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="sprints_sprint_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["planned", "active", "closed"]),
                name="sprints_sprint_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "state", "start_date"], name="sprints_sprint_state_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class WorkItem(models.Model):
    class Type(models.TextChoices):
        EPIC = "epic", "Epic"
        STORY = "story", "Story"
        TASK = "task", "Task"
        BUG = "bug", "Bug"
        TECH_DEBT = "tech_debt", "Tech debt"
        SPIKE = "spike", "Spike"

    class Priority(models.TextChoices):
        HIGHEST = "highest", "Highest"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"
        LOWEST = "lowest", "Lowest"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveIntegerField()
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.STORY)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="items")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    story_points = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    original_estimate_hours = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    remaining_hours = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_items",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_items",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    sprint = models.ForeignKey(
        Sprint, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    rank = models.CharField(max_length=64, db_collation="C")
    labels = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    due_date = models.DateField(null=True, blank=True)
    blocked = models.BooleanField(default=False)
    blocked_reason = models.CharField(max_length=500, blank=True)
    blocked_by = models.ManyToManyField(
        "self", through="Dependency", symmetrical=False, related_name="blocks", blank=True
    )
    acceptance_criteria = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"], name="sprints_workitem_number_unique"
            ),
            models.UniqueConstraint(
                fields=["project", "rank"], name="sprints_workitem_rank_unique"
            ),
            models.CheckConstraint(
                condition=Q(story_points__isnull=True) | Q(story_points__gte=0),
                name="sprints_workitem_points_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(remaining_hours__isnull=True) | Q(remaining_hours__gte=0),
                name="sprints_workitem_remaining_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(original_estimate_hours__isnull=True)
                | Q(original_estimate_hours__gte=0),
                name="sprints_workitem_estimate_gte_0",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "sprint", "rank"], name="sprints_item_sprint_rank_idx"),
            models.Index(fields=["project", "status"], name="sprints_item_status_idx"),
            models.Index(fields=["assignee", "project"], name="sprints_item_assignee_idx"),
            models.Index(fields=["project", "type"], name="sprints_item_type_idx"),
            models.Index(fields=["parent"], name="sprints_item_parent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        """``KEY-N``; needs ``project`` loaded (selectors select_related it)."""
        return f"{self.project.key}-{self.number}"


class Dependency(models.Model):
    """``item`` is blocked by ``blocker``: same project; the service refuses cycles."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="dependencies")
    blocker = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="dependents")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "blocker"], name="sprints_dependency_unique"),
            models.CheckConstraint(
                condition=~Q(item=F("blocker")), name="sprints_dependency_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} blocked by {self.blocker_id}"


class ItemEvent(models.Model):
    """One change to a metric-relevant field of an item: the source of burndown, flow and history.

    ``value`` holds the new value: the status category for "status" (with the status name in
    ``label``), points/hours as decimal strings, sprint and assignee ids. Items are referenced
    by id without a foreign key so their history survives deletion.
    """

    class Field(models.TextChoices):
        STATUS = "status"
        POINTS = "points"
        HOURS = "hours"
        SPRINT = "sprint"
        ASSIGNEE = "assignee"
        DELETED = "deleted"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item_id = models.BigIntegerField()
    at = models.DateTimeField()
    field = models.CharField(max_length=10, choices=Field.choices)
    value = models.CharField(max_length=64, null=True, blank=True)
    label = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["item_id", "at"], name="sprints_itemevent_item_idx"),
            models.Index(fields=["project", "at"], name="sprints_itemevent_project_idx"),
            models.Index(
                fields=["value"], condition=Q(field="sprint"), name="sprints_itemevent_sprint_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} {self.field}={self.value} at {self.at:%Y-%m-%d %H:%M}"


class WorkLog(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="worklogs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="worklogs"
    )
    date = models.DateField()
    hours = models.DecimalField(max_digits=5, decimal_places=2)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="sprints_worklog_hours_range"
            )
        ]
        indexes = [models.Index(fields=["item", "date"], name="sprints_worklog_item_idx")]

    def __str__(self) -> str:
        return f"{self.hours} h on {self.item_id} by {self.user_id}"


class Comment(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["item", "created_at"], name="sprints_comment_item_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.item_id}"


# --- precomputed metric rows (written by workers, read by pages and the API) -------------------


class BurndownDay(models.Model):
    """One day of a sprint's burndown/burnup as it was at the end of that day."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="burndown_days")
    date = models.DateField()
    scope_points = models.DecimalField(max_digits=10, decimal_places=2)
    remaining_points = models.DecimalField(max_digits=10, decimal_places=2)
    completed_points = models.DecimalField(max_digits=10, decimal_places=2)
    remaining_hours = models.DecimalField(max_digits=12, decimal_places=2)
    ideal_points = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["sprint", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["sprint", "date"], name="sprints_burndownday_sprint_date_unique"
            )
        ]

    def __str__(self) -> str:
        return f"burndown {self.sprint_id} {self.date}"


class FlowDay(models.Model):
    """Cumulative flow: items per status category at the end of a day."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="flow_days")
    date = models.DateField()
    todo = models.PositiveIntegerField()
    in_progress = models.PositiveIntegerField()
    done = models.PositiveIntegerField()

    class Meta:
        ordering = ["project", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "date"], name="sprints_flowday_project_date_unique"
            )
        ]

    def __str__(self) -> str:
        return f"flow {self.project_id} {self.date}"


class ProjectMetrics(models.Model):
    """Per-project figures: velocity statistics and flow times, with when they were computed."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="sprint_metrics"
    )
    velocity_window = models.PositiveSmallIntegerField(default=3)
    velocity_mean = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    velocity_median = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    velocity_stdev = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    flow_start_date = models.DateField(null=True, blank=True)
    flow_end_date = models.DateField(null=True, blank=True)
    cycle_time_days = models.JSONField(default=dict)
    lead_time_days = models.JSONField(default=dict)
    throughput = models.JSONField(default=list, help_text="[[week Monday, items done], ...]")
    items_done = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "project metrics"

    def __str__(self) -> str:
        return f"metrics of project {self.project_id}"
