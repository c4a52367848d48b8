"""``{% can "project.edit" project as allowed %}``: the rule table, for templates."""

from typing import Any

from django import template

from tpm.permissions import can as can_do

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, obj: Any) -> bool:
    """Whether the request's user may do ``action`` on ``obj`` (role cached per project)."""
    request = context.get("request")
    return bool(request is not None and can_do(request.user, action, obj))
