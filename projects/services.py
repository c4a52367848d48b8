"""Writes for projects and memberships. One transaction per user action; history via pghistory."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from projects.models import Membership, Project
from tpm.errors import Conflict
from tpm.events import project_changed, project_created
from tpm.models import User
from tpm.versioning import versioned_update

PROJECT_EDITABLE_FIELDS = (
    "allow_parallel_sprints",
    "name",
    "description",
    "methodology",
    "phase",
    "start_date",
    "target_date",
    "timezone",
    "working_days",
    "business_case",
    "objectives",
    "in_scope",
    "out_of_scope",
    "success_criteria",
)


def _clean_working_days(value: Any) -> list[int]:
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError(
            {"working_days": ["Pick at least one working day (0 = Monday … 6 = Sunday)."]}
        )
    try:
        days = sorted({int(day) for day in value})
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            {"working_days": ["Days are numbers from 0 (Monday) to 6 (Sunday)."]}
        ) from exc
    if days[0] < 0 or days[-1] > 6:
        raise ValidationError({"working_days": ["Days are numbers from 0 (Monday) to 6 (Sunday)."]})
    return days


def _validate_project(project: Project, *, exclude_unique: bool = False) -> None:
    if project.start_date and project.target_date and project.target_date < project.start_date:
        raise ValidationError(
            {"target_date": ["The target date must not be before the start date."]}
        )
    # Constraints are checked above and by the database; skipping them here saves a query each.
    project.full_clean(validate_unique=not exclude_unique, validate_constraints=False)


@transaction.atomic
def project_create(*, actor: User, key: str, name: str, **fields: Any) -> Project:
    """Create a project; the actor becomes its first owner.

    Rules: key of 2–10 upper-case letters, unique; target date not before start date; a known
    time zone; at least one working day. Later apps add their defaults on the change event.
    """
    unknown = set(fields) - set(PROJECT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name_: ["Unknown field."] for name_ in sorted(unknown)})
    if "working_days" in fields:
        fields["working_days"] = _clean_working_days(fields["working_days"])
    project = Project(key=key, name=(name or "").strip(), created_by=actor, **fields)
    _validate_project(project)
    with pghistory.context(user=actor.pk):
        try:
            project.save()
        except IntegrityError as exc:  # a concurrent create took the key
            raise ValidationError(
                {"key": [f"The key {key} is already used by another project."]}
            ) from exc
        Membership.objects.create(project=project, user=actor, role=Membership.Role.OWNER)
        project_created(project, actor=actor)
    project_changed(project.pk, reason="projects.project.created")
    return project


@transaction.atomic
def project_update(
    *, actor: User, project: Project, expected_version: int | None = None, **changes: Any
) -> Project:
    """Change a project's editable fields; ``expected_version`` turns on optimistic locking.

    The key is fixed once created (it is part of every item key). Raises StaleVersion (409)
    when the stored version differs from ``expected_version``.
    """
    if "key" in changes and changes.pop("key") != project.key:
        raise ValidationError({"key": ["The key cannot be changed once the project exists."]})
    unknown = set(changes) - set(PROJECT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name_: ["This field cannot be changed here."] for name_ in sorted(unknown)}
        )
    if "working_days" in changes:
        changes["working_days"] = _clean_working_days(changes["working_days"])
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
    for field, value in changes.items():
        setattr(project, field, value)
    _validate_project(project, exclude_unique=True)
    if not changes:
        return project
    with pghistory.context(user=actor.pk):
        versioned_update(
            project, expected_version=expected_version, fields=[*changes, "updated_at"]
        )
    project_changed(project.pk, reason="projects.project.updated")
    return project


@transaction.atomic
def project_delete(*, actor: User, project: Project) -> None:
    """Delete a project and everything in it. The deletion stays in the audit history."""
    with pghistory.context(user=actor.pk, deleted_project=project.key):
        Project.objects.filter(pk=project.pk).delete()


def _clean_decimal(value: Any, field: str, *, maximum: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: ["Enter a number."]}) from exc
    if not number.is_finite() or number < 0:
        raise ValidationError({field: ["Enter a number of 0 or more."]})
    if maximum is not None and number > maximum:
        raise ValidationError({field: [f"Enter at most {maximum}."]})
    return number


def _lock_project(project: Project) -> Project:
    return Project.objects.select_for_update().only("pk").get(pk=project.pk)


def _owner_count(project: Project) -> int:
    return Membership.objects.filter(project=project, role=Membership.Role.OWNER).count()


@transaction.atomic
def membership_add(
    *,
    actor: User,
    project: Project,
    user: User | None,
    role: str = "member",
    hourly_rate: Any = Decimal("0"),
    capacity_hours_per_week: Any = Decimal("40"),
) -> Membership:
    """Add a user to a project with a role, rate and weekly capacity.

    Rules: the user exists and is active, is not a member yet; role is owner, member or viewer.
    """
    if user is None or not user.is_active:
        raise ValidationError({"user": ["No active user with that id or username."]})
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Membership.Role.values)}."]})
    rate = _clean_decimal(hourly_rate, "hourly_rate")
    capacity = _clean_decimal(
        capacity_hours_per_week, "capacity_hours_per_week", maximum=Decimal("168")
    )
    _lock_project(project)
    if Membership.objects.filter(project=project, user=user).exists():
        raise ValidationError({"user": [f"{user.username} is already a member of {project.key}."]})
    with pghistory.context(user=actor.pk):
        membership = Membership.objects.create(
            project=project,
            user=user,
            role=role,
            hourly_rate=rate,
            capacity_hours_per_week=capacity,
        )
    project_changed(project.pk, reason="projects.membership.added")
    return membership


@transaction.atomic
def membership_update(*, actor: User, membership: Membership, **changes: Any) -> Membership:
    """Change a member's role, hourly rate or capacity. The last owner cannot be demoted."""
    allowed = {"role", "hourly_rate", "capacity_hours_per_week"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            {name_: ["This field cannot be changed here."] for name_ in sorted(unknown)}
        )
    _lock_project(membership.project)
    membership = (
        Membership.objects.select_for_update()
        .select_related("project", "user")
        .get(pk=membership.pk)
    )
    if "role" in changes:
        role = changes["role"]
        if role not in Membership.Role.values:
            raise ValidationError(
                {"role": [f"Choose one of: {', '.join(Membership.Role.values)}."]}
            )
        if (
            membership.role == Membership.Role.OWNER
            and role != Membership.Role.OWNER
            and _owner_count(membership.project) <= 1
        ):
            raise Conflict(
                f"{membership.user.username} is the last owner of {membership.project.key}. "
                "Make someone else an owner first.",
                code="last_owner",
            )
        membership.role = role
    if "hourly_rate" in changes:
        membership.hourly_rate = _clean_decimal(changes["hourly_rate"], "hourly_rate")
    if "capacity_hours_per_week" in changes:
        membership.capacity_hours_per_week = _clean_decimal(
            changes["capacity_hours_per_week"], "capacity_hours_per_week", maximum=Decimal("168")
        )
    with pghistory.context(user=actor.pk):
        membership.save(update_fields=sorted(set(changes)))
    project_changed(membership.project_id, reason="projects.membership.updated")
    return membership


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership) -> None:
    """Remove a member from a project. The last owner cannot be removed."""
    _lock_project(membership.project)
    membership = (
        Membership.objects.select_for_update()
        .select_related("project", "user")
        .get(pk=membership.pk)
    )
    if membership.role == Membership.Role.OWNER and _owner_count(membership.project) <= 1:
        raise Conflict(
            f"{membership.user.username} is the last owner of {membership.project.key}. "
            "Make someone else an owner first.",
            code="last_owner",
        )
    with pghistory.context(user=actor.pk):
        membership.delete()
    project_changed(membership.project_id, reason="projects.membership.removed")


@transaction.atomic
def project_summary_refresh(*, project_id: int) -> bool:
    """Recompute one project's summary row in a single set-based upsert. Idempotent.

    Returns False when the project no longer exists.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO projects_projectsummary
                (project_id, owner_count, member_count, viewer_count, weekly_capacity_hours,
                 last_activity_at, computed_at)
            SELECT p.id,
                   count(m.id) FILTER (WHERE m.role = 'owner'),
                   count(m.id) FILTER (WHERE m.role = 'member'),
                   count(m.id) FILTER (WHERE m.role = 'viewer'),
                   coalesce(sum(m.capacity_hours_per_week) FILTER (WHERE m.role <> 'viewer'), 0),
                   greatest(p.updated_at, max(m.created_at)),
                   clock_timestamp()
            FROM projects_project p
            LEFT JOIN projects_membership m ON m.project_id = p.id
            WHERE p.id = %s
            GROUP BY p.id
            ON CONFLICT (project_id) DO UPDATE SET
                owner_count = EXCLUDED.owner_count,
                member_count = EXCLUDED.member_count,
                viewer_count = EXCLUDED.viewer_count,
                weekly_capacity_hours = EXCLUDED.weekly_capacity_hours,
                last_activity_at = EXCLUDED.last_activity_at,
                computed_at = EXCLUDED.computed_at
            """,
            [project_id],
        )
        return cursor.rowcount > 0
