from typing import Any

from django.contrib import admin

from projects.models import Membership, Project, ProjectSummary


class ReadOnlyAdminMixin:
    """Project rules (last owner, keys, audit actor) live in services; the admin only reads."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "hourly_rate", "capacity_hours_per_week", "created_at")


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "name", "phase", "methodology", "start_date", "target_date")
    list_filter = ("phase", "methodology")
    search_fields = ("key", "name")
    inlines = (MembershipInline,)


@admin.register(ProjectSummary)
class ProjectSummaryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("project", "owner_count", "member_count", "viewer_count", "computed_at")
