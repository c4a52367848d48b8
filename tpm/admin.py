from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from tpm.models import ApiToken, MetricRun, StaleProject, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_executive",
        "is_staff",
        "is_active",
    )
    list_filter = ("is_executive", "is_staff", "is_active")
    fieldsets = (*DjangoUserAdmin.fieldsets, ("TPM", {"fields": ("is_executive",)}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners; admins can only see and revoke them."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(StaleProject)
class StaleProjectAdmin(admin.ModelAdmin):
    list_display = ("project_id", "marked_at", "dispatched_at", "reasons")
    ordering = ("marked_at",)


@admin.register(MetricRun)
class MetricRunAdmin(admin.ModelAdmin):
    list_display = ("project_id", "kind", "computed_at", "runs")
    list_filter = ("kind",)
