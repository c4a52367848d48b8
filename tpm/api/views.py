"""Base viewset: every action is checked with ``tpm.permissions.can`` through one map."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db.models import Model
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from tpm.errors import PreconditionFailed, StaleVersion
from tpm.permissions import can


class ActionPermission(permissions.BasePermission):
    """Check ``view.action_permissions[view.action]`` against the project or the object.

    Views that act on a resolved project (nested routes) expose ``permission_object()``.
    Object lookups are checked again per object. Invisible projects never get here: their
    lookups already raised 404.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        action = view.action_permissions.get(view.action)
        target = view.permission_object() if hasattr(view, "permission_object") else None
        if action is None or target is None:
            return True
        return can(request.user, action, target)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        action = view.action_permissions.get(view.action)
        return action is None or can(request.user, action, obj)


class TpmViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """GenericViewSet with the ``can()`` check, output serialization and ETag helpers."""

    permission_classes: ClassVar[list[type[permissions.BasePermission]]] = [ActionPermission]
    action_permissions: ClassVar[dict[str, str]] = {}
    output_serializer_class: ClassVar[type | None] = None

    def get_output_serializer(self, instance: Any, **kwargs: Any) -> Any:
        cls = self.output_serializer_class or self.get_serializer_class()
        return cls(instance, context=self.get_serializer_context(), **kwargs)

    def serialize_current(self, instance: Any) -> Any:
        return self.get_output_serializer(instance).data

    @staticmethod
    def etag_for(instance: Model) -> str:
        return f'"{instance._meta.label_lower}-{instance.pk}-v{instance.version}"'  # type: ignore[attr-defined]

    def versioned_response(self, instance: Model, data: Any, status: int = 200) -> Response:
        """A response carrying the object's ``ETag`` (for a later ``If-Match``)."""
        response = Response(data, status=status)
        response["ETag"] = self.etag_for(instance)
        return response

    @contextmanager
    def precondition(self) -> Iterator[None]:
        """Report a lost race as 412 when the client sent ``If-Match`` (409 for ``version``)."""
        try:
            yield
        except PreconditionFailed:
            raise
        except StaleVersion as exc:
            if self.request.headers.get("If-Match"):
                raise PreconditionFailed(current=exc.current) from exc
            raise

    def expected_version(self, instance: Model, body_version: Any) -> int | None:
        """The version an update must match: ``If-Match`` (412 on mismatch) or the body's.

        A mismatching ``If-Match`` is refused here; the body's version is compared by the
        service in its conditional UPDATE, so two racing writers cannot both win.
        """
        if_match = self.request.headers.get("If-Match")
        if if_match and if_match.strip() != "*":
            tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
            if self.etag_for(instance) not in tags:
                raise PreconditionFailed(current=instance)
            return int(instance.version)  # type: ignore[attr-defined]
        return None if body_version is None else int(body_version)
