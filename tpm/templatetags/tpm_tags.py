"""``{% can "project.edit" project as allowed %}``: the rule table, for templates."""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from tpm.permissions import can as can_do

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, obj: Any) -> bool:
    """Whether the request's user may do ``action`` on ``obj`` (role cached per project)."""
    request = context.get("request")
    return bool(request is not None and can_do(request.user, action, obj))


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now" under a minute, else "5 minutes ago" (timesince's wording); "" for None."""
    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"
