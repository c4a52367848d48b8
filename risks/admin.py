from typing import Any

from django.contrib import admin

from risks.models import Risk, RiskScore, RiskSettings


class ReadOnlyAdminMixin:
    """Register rules (owners, transitions, links, audit actor) live in services; admin reads."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Risk)
class RiskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "project", "category", "status", "probability", "impact", "owner")
    list_filter = ("status", "category")
    search_fields = ("title", "project__key")
    list_select_related = ("project", "owner")


@admin.register(RiskScore)
class RiskScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("risk", "project", "score", "level", "exposure", "trend", "computed_at")
    list_select_related = ("risk", "project")


@admin.register(RiskSettings)
class RiskSettingsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("project", "low_max", "medium_max", "high_max")
