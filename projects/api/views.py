from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from projects.api.base import ProjectScopedViewSet
from projects.api.filters import ProjectFilter
from projects.api.serializers import (
    MembershipSerializer,
    MembershipUpdateWriteSerializer,
    MembershipWriteSerializer,
    ProjectSerializer,
    ProjectWriteSerializer,
)
from projects.models import Membership, Project
from projects.selectors import (
    membership_get,
    membership_list_for_project,
    project_get_for_user,
    project_list_for_user,
    user_find,
)
from projects.services import (
    membership_add,
    membership_remove,
    membership_update,
    project_create,
    project_delete,
    project_update,
)
from tpm.api.views import TpmViewSet
from tpm.permissions import role_for


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TpmViewSet):
    """Projects visible to the caller. Creating one makes the caller its owner."""

    serializer_class = ProjectSerializer
    lookup_field = "key"
    lookup_url_kwarg = "key"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "retrieve": "project.view",
        "partial_update": "project.edit",
        "destroy": "project.delete",
    }

    filterset_class = ProjectFilter

    def get_queryset(self) -> QuerySet[Project]:
        return project_list_for_user(user=self.request.user)

    def get_object(self) -> Project:
        project = project_get_for_user(user=self.request.user, key=self.kwargs["key"])
        self.check_object_permissions(self.request, project)
        return project

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_object()
        return self.versioned_response(project, self.get_serializer(project).data)

    @extend_schema(request=ProjectWriteSerializer, responses={201: ProjectSerializer})
    def create(self, request: Request) -> Response:
        data = ProjectWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("version", None)
        project = project_create(actor=request.user, **fields)  # type: ignore[arg-type]
        project = project_get_for_user(user=request.user, key=project.key)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectWriteSerializer(partial=True), responses=ProjectSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_object()
        data = ProjectWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        expected = self.expected_version(project, changes.pop("version", None))
        with self.precondition():
            project = project_update(
                actor=request.user,
                project=project,  # type: ignore[arg-type]
                expected_version=expected,
                **changes,
            )
        return self.versioned_response(project, self.get_serializer(project).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project_delete(actor=request.user, project=self.get_object())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    def serialize_current(self, instance: Any) -> Any:
        project = project_get_for_user(user=self.request.user, key=instance.key)
        return ProjectSerializer(project, context=self.get_serializer_context()).data


class MembershipViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """Members of one project with their roles, rates and capacity."""

    serializer_class = MembershipSerializer
    lookup_field = "user_id"
    lookup_url_kwarg = "user_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "list": "member.view",
        "create": "member.manage",
        "partial_update": "member.manage",
        "destroy": "member.manage",
    }

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no project
            return Membership.objects.none()
        return membership_list_for_project(project=self.project)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "project", None) is not None:
            context["caller_role"] = role_for(self.request.user, self.project)
        return context

    def _membership(self) -> Membership:
        return membership_get(project=self.project, user_id=self.kwargs["user_id"])

    @extend_schema(request=MembershipWriteSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MembershipWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        user = user_find(ref=fields.pop("user"))
        if user is None:
            raise ValidationError({"user": ["No user with that id or username."]})
        membership = membership_add(actor=request.user, project=self.project, user=user, **fields)  # type: ignore[arg-type]
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipUpdateWriteSerializer, responses=MembershipSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self._membership()
        data = MembershipUpdateWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        membership = membership_update(
            actor=request.user, membership=membership, **data.validated_data
        )  # type: ignore[arg-type]
        return Response(self.get_serializer(membership).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership_remove(actor=request.user, membership=self._membership())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
