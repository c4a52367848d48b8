"""Template helpers for sprint pages: safe Markdown, history lines, plain numbers for inputs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sprints.api.serializers import markdown_html
from sprints.models import ItemEvent

register = template.Library()

_FIELD_NAMES = {
    "status": "status",
    "points": "points",
    "hours": "remaining hours",
    "sprint": "sprint",
    "assignee": "assignee",
    "deleted": "deleted",
}


@register.filter
def markdown(text: str) -> SafeString:
    """Markdown rendered with raw HTML disabled, then sanitised (nh3)."""
    return mark_safe(markdown_html(text))  # noqa: S308 - sanitised by nh3


@register.filter
def unlocalize_number(value: Any) -> str:
    """A number as <input type=number> accepts it: no separators, no trailing zeros."""
    if value in (None, ""):
        return ""
    number = Decimal(str(value)).normalize()
    return format(number, "f")


@register.simple_tag
def history_line(event: ItemEvent) -> SafeString:
    """ "changed status from To Do to In Progress" from an annotated history row."""
    field = _FIELD_NAMES.get(event.field, event.field)
    old = getattr(event, "old_label", None) or getattr(event, "old_value", None)
    new = event.label or event.value
    if getattr(event, "old_value", None) is None and getattr(event, "old_label", None) is None:
        return format_html(
            "set {} to <strong>{}</strong>", field, new if new is not None else "none"
        )
    return format_html(
        "changed {} from {} to <strong>{}</strong>",
        field,
        old if old else "none",
        new if new is not None else "none",
    )
