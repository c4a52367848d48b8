"""The page-side adapter of tpm.permissions: resolve the project, then check the action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from projects.selectors import project_get_for_user
from tpm.permissions import can


def project_view(
    action: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a page view taking ``key``: anonymous → login, invisible → 404, not allowed → 403.

    The view receives the resolved ``project`` instead of ``key``.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, key: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            project = project_get_for_user(user=request.user, key=key)
            if not can(request.user, action, project):
                raise PermissionDenied(f"You cannot {action.split('.')[-1]} in {project.key}.")
            return view(request, project, *args, **kwargs)

        return wrapper

    return decorator
