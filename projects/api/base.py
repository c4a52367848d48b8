"""Base viewset for routes nested under ``/projects/{key}/``.

It lives here rather than in tpm because resolving a project needs the projects app, and tpm
sits below it in the layering (see docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from projects.models import Project
from projects.selectors import project_get_for_user
from tpm.api.views import TpmViewSet


class ProjectScopedViewSet(TpmViewSet):
    """Resolves ``self.project`` once in ``initial()``: 404 when missing or invisible."""

    project: Project

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.project = None  # type: ignore[assignment]
        super().initial(request, *args, **kwargs)  # authenticates, then checks permissions

    def permission_object(self) -> Project | None:
        if getattr(self, "project", None) is None and "project_key" in self.kwargs:
            self.project = project_get_for_user(
                user=self.request.user, key=self.kwargs["project_key"]
            )
        return self.project
