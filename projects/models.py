"""Projects and their memberships (roles), plus the worker-maintained project summary."""

from __future__ import annotations

import functools
import zoneinfo
from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from tpm.permissions import Role as AccessRole

KEY_VALIDATOR = RegexValidator(
    r"^[A-Z]{2,10}\Z", "Use 2 to 10 upper-case letters A–Z, for example MIG."
)
WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


def default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]


@functools.cache
def known_timezones() -> frozenset[str]:
    """IANA names; listing them walks the tz database on disk, so it is done once."""
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(f"{value!r} is not a known time zone, e.g. Europe/Berlin or UTC.")


class ProjectQuerySet(models.QuerySet["Project"]):
    def visible_to(self, user: object) -> ProjectQuerySet:
        """Projects the user can see: member of any role, or every project for executives."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        if getattr(user, "is_executive", False):
            return self.all()
        return self.filter(
            Exists(Membership.objects.filter(project=OuterRef("pk"), user=user))  # type: ignore[misc]
        )


@pghistory.track(
    pghistory.InsertEvent(),
    # The item counter moves with every new item; it is bookkeeping, not a project change.
    pghistory.UpdateEvent(
        condition=pghistory.AnyChange(exclude=["next_item_number"], exclude_auto=True)
    ),
    pghistory.DeleteEvent(),
)
class Project(models.Model):
    class Methodology(models.TextChoices):
        SCRUM = "scrum", "Scrum"
        KANBAN = "kanban", "Kanban"
        WATERFALL = "waterfall", "Waterfall"
        HYBRID = "hybrid", "Hybrid"

    class Phase(models.TextChoices):
        INITIATING = "initiating", "Initiating"
        PLANNING = "planning", "Planning"
        EXECUTING = "executing", "Executing"
        MONITORING = "monitoring", "Monitoring"
        CLOSING = "closing", "Closing"

    key = models.CharField(max_length=10, unique=True, validators=[KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    methodology = models.CharField(
        max_length=20, choices=Methodology.choices, default=Methodology.SCRUM
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.INITIATING)
    start_date = models.DateField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    working_days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        default=default_working_days,
        size=7,
        help_text="ISO weekdays counted as working days, 0 = Monday … 6 = Sunday.",
    )
    # Charter
    business_case = models.TextField(blank=True)
    objectives = models.TextField(blank=True)
    in_scope = models.TextField(blank=True)
    out_of_scope = models.TextField(blank=True)
    success_criteria = models.TextField(blank=True)

    allow_parallel_sprints = models.BooleanField(
        default=False, help_text="Allow more than one active sprint at a time."
    )
    # Next work-item number; read and bumped under a row lock, so keys have no gaps or repeats.
    next_item_number = models.PositiveIntegerField(default=1)

    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(key__regex=r"^[A-Z]{2,10}$"), name="projects_project_key_format"
            ),
            models.CheckConstraint(
                condition=Q(target_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(target_date__gte=models.F("start_date")),
                name="projects_project_target_after_start",
            ),
        ]
        indexes = [models.Index(fields=["name"], name="projects_project_name_idx")]

    def __str__(self) -> str:
        return f"{self.key} · {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("projects:project-overview", kwargs={"key": self.key})

    @property
    def working_day_names(self) -> str:
        names = dict(WEEKDAYS)
        return ", ".join(names[d] for d in sorted(self.working_days))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = AccessRole.OWNER.value, "Owner"
        MEMBER = AccessRole.MEMBER.value, "Member"
        VIEWER = AccessRole.VIEWER.value, "Viewer"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    hourly_rate = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    capacity_hours_per_week = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=Decimal("40.0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("168"))],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="projects_membership_project_user_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member", "viewer"]),
                name="projects_membership_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__gte=0), name="projects_membership_rate_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(capacity_hours_per_week__gte=0) & Q(capacity_hours_per_week__lte=168),
                name="projects_membership_capacity_range",
            ),
        ]
        indexes = [models.Index(fields=["user", "project"], name="projects_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} on {self.project.key}"


class ProjectSummary(models.Model):
    """Worker-kept counts read by the project list and portfolio, never computed in a request."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="summary"
    )
    owner_count = models.PositiveIntegerField(default=0)
    member_count = models.PositiveIntegerField(default=0)
    viewer_count = models.PositiveIntegerField(default=0)
    weekly_capacity_hours = models.DecimalField(
        max_digits=9, decimal_places=1, default=Decimal("0")
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "project summaries"

    def __str__(self) -> str:
        return f"summary of project {self.project_id}"

    @property
    def people(self) -> int:
        return self.owner_count + self.member_count + self.viewer_count
