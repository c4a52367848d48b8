from __future__ import annotations

from typing import Any

from rest_framework import serializers

from projects.models import Membership, Project
from projects.services import PROJECT_EDITABLE_FIELDS
from tpm.permissions import Role, remember_role, role_for

PROJECT_FIELDS = ("key", *PROJECT_EDITABLE_FIELDS)


class ProjectSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    role = serializers.SerializerMethodField(help_text="The caller's role on this project.")
    member_count = serializers.SerializerMethodField(
        help_text="People on the project (worker-computed)."
    )

    class Meta:
        model = Project
        fields = (
            *PROJECT_FIELDS,
            "id",
            "version",
            "role",
            "member_count",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_role(self, project: Project) -> str | None:
        request = self.context.get("request")
        if request is None:
            return None
        if hasattr(project, "user_role"):  # annotated by the selector: no query per row
            remember_role(request.user, project, project.user_role)
        role = role_for(request.user, project)
        return role.value if role else None

    def get_member_count(self, project: Project) -> int | None:
        summary = (
            getattr(project, "summary", None) if "summary" in project._state.fields_cache else None
        )
        return summary.people if summary else None


class ProjectWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Input for create (key and name required) and update (all optional, ``version`` for 409)."""

    key = serializers.CharField(
        max_length=10, help_text="2–10 upper-case letters; fixed after creation."
    )
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    methodology = serializers.ChoiceField(choices=Project.Methodology.choices, required=False)
    phase = serializers.ChoiceField(choices=Project.Phase.choices, required=False)
    start_date = serializers.DateField(required=False, allow_null=True)
    target_date = serializers.DateField(required=False, allow_null=True)
    timezone = serializers.CharField(max_length=64, required=False)
    working_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        allow_empty=False,
        max_length=7,
    )
    business_case = serializers.CharField(required=False, allow_blank=True)
    objectives = serializers.CharField(required=False, allow_blank=True)
    in_scope = serializers.CharField(required=False, allow_blank=True)
    out_of_scope = serializers.CharField(required=False, allow_blank=True)
    success_criteria = serializers.CharField(required=False, allow_blank=True)
    allow_parallel_sprints = serializers.BooleanField(required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        write_only=True,
        help_text="The version you read; a stale one is refused with 409.",
    )


class MembershipSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    hourly_rate = serializers.SerializerMethodField(
        help_text="Decimal string; visible to project owners only (null for others)."
    )

    class Meta:
        model = Membership
        fields = (
            "user",
            "username",
            "name",
            "email",
            "role",
            "hourly_rate",
            "capacity_hours_per_week",
            "created_at",
        )
        read_only_fields = fields

    def get_hourly_rate(self, membership: Membership) -> str | None:
        # The view resolves the caller's role once and passes it in; no query per row.
        if self.context.get("caller_role") != Role.OWNER:
            return None
        return str(membership.hourly_rate)


class MembershipWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user = serializers.JSONField(help_text="User id (or username).")
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    hourly_rate = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False
    )
    capacity_hours_per_week = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, max_value=168, required=False
    )

    def validate_user(self, value: Any) -> Any:
        if not isinstance(value, int | str) or isinstance(value, bool):
            raise serializers.ValidationError("Give a user id or a username.")
        return value


class MembershipUpdateWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    hourly_rate = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False
    )
    capacity_hours_per_week = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, max_value=168, required=False
    )
