from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from projects.api.base import ProjectScopedViewSet
from projects.models import Project
from risks.api.filters import RiskFilter
from risks.api.serializers import (
    ROW_FIELDS,
    RiskMatrixSerializer,
    RiskScoreHistorySerializer,
    RiskSerializer,
    RiskSettingsSerializer,
    RiskSettingsWriteSerializer,
    RiskWriteSerializer,
)
from risks.models import Risk
from risks.selectors import (
    risk_bands_for_project,
    risk_get_for_user,
    risk_history_for_risk,
    risk_list_for_project,
    risk_matrix_for_project,
)
from risks.services import (
    risk_create,
    risk_delete,
    risk_settings_update,
    risk_start_contingency,
    risk_update,
)
from sprints.api.serializers import WorkItemSerializer
from sprints.selectors import work_item_get_for_user, work_items_by_keys
from tpm.api.views import TpmViewSet
from tpm.models import User


def resolve_risk_references(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    """Turn the payload's owner id and item keys into objects (400 when unknown or foreign)."""
    resolved = dict(data)
    if "owner" in resolved and resolved["owner"] is not None:
        owner = User.objects.filter(pk=resolved["owner"], is_active=True).first()
        if owner is None:
            raise ValidationError({"owner": ["No active user with that id."]})
        resolved["owner"] = owner
    if "linked_items" in resolved:
        resolved["linked_items"] = work_items_by_keys(
            project=project, keys=resolved["linked_items"], field="linked_items"
        )
    return resolved


class ProjectRiskViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    """``/projects/{key}/risks/``: the register, filtered and ordered; add a risk."""

    serializer_class = RiskSerializer
    filterset_class = RiskFilter
    action_permissions = {"list": "risk.view", "create": "risk.create"}

    def get_queryset(self) -> QuerySet[Risk]:
        if getattr(self, "swagger_fake_view", False):
            return Risk.objects.none()
        return risk_list_for_project(project=self.project)

    def filter_queryset(self, queryset: QuerySet[Risk]) -> Any:
        # Plain rows: building 200 model instances cost more than the query itself.
        return super().filter_queryset(queryset).values(*ROW_FIELDS)

    @extend_schema(request=RiskWriteSerializer, responses={201: RiskSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RiskWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = resolve_risk_references(self.project, data.validated_data)
        fields.pop("version", None)
        fields.setdefault("owner", request.user)
        risk = risk_create(actor=request.user, project=self.project, **fields)  # type: ignore[arg-type]
        fresh = risk_get_for_user(user=request.user, risk_id=risk.pk)
        return Response(RiskSerializer(fresh).data, status=status.HTTP_201_CREATED)


class RiskViewSet(TpmViewSet):
    """``/risks/{id}/``: one risk; its score history; start its contingency plan."""

    serializer_class = RiskSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "retrieve": "risk.view",
        "partial_update": "risk.edit",
        "destroy": "risk.delete",
        "history": "risk.view",
        "start_contingency": "risk.edit",
    }

    def get_queryset(self) -> QuerySet[Risk]:
        return Risk.objects.none()  # lookups go through risk_get_for_user (visibility + role)

    def get_object(self) -> Risk:
        risk = risk_get_for_user(user=self.request.user, risk_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, risk)
        return risk

    def serialize_current(self, instance: Any) -> Any:
        return RiskSerializer(risk_get_for_user(user=self.request.user, risk_id=instance.pk)).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        risk = self.get_object()
        return self.versioned_response(risk, RiskSerializer(risk).data)

    @extend_schema(request=RiskWriteSerializer(partial=True), responses=RiskSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        risk = self.get_object()
        data = RiskWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = resolve_risk_references(risk.project, data.validated_data)
        expected = self.expected_version(risk, changes.pop("version", None))
        with self.precondition():
            risk_update(actor=request.user, risk=risk, expected_version=expected, **changes)  # type: ignore[arg-type]
        fresh = risk_get_for_user(user=request.user, risk_id=risk.pk)
        return self.versioned_response(fresh, RiskSerializer(fresh).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        risk_delete(actor=request.user, risk=self.get_object())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=RiskScoreHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> Response:
        page = self.paginate_queryset(risk_history_for_risk(risk=self.get_object()))
        return self.get_paginated_response(RiskScoreHistorySerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: WorkItemSerializer})
    @action(detail=True, methods=["post"], url_path="start-contingency")
    def start_contingency(self, request: Request, pk: str) -> Response:
        risk = self.get_object()
        item = risk_start_contingency(actor=request.user, risk=risk)  # type: ignore[arg-type]
        fresh = work_item_get_for_user(user=request.user, key=f"{risk.project.key}-{item.number}")
        return Response(WorkItemSerializer(fresh).data, status=status.HTTP_201_CREATED)


class ProjectRiskMetricsViewSet(ProjectScopedViewSet):
    """``/projects/{key}/risk-matrix/`` and ``/risk-settings/``."""

    action_permissions = {
        "risk_matrix": "risk.view",
        "risk_settings": "risk.view",
        "risk_settings_update": "project.edit",
    }

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "basis", OpenApiTypes.STR, enum=["inherent", "residual"], default="inherent"
            )
        ],
        responses=RiskMatrixSerializer,
    )
    def risk_matrix(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        basis = request.query_params.get("basis", "inherent")
        matrix = risk_matrix_for_project(project=self.project, basis=basis)
        return Response(RiskMatrixSerializer({"basis": basis, "matrix": matrix}).data)

    @extend_schema(responses=RiskSettingsSerializer)
    def risk_settings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(RiskSettingsSerializer(risk_bands_for_project(project=self.project)).data)

    @extend_schema(request=RiskSettingsWriteSerializer, responses=RiskSettingsSerializer)
    def risk_settings_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RiskSettingsWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = risk_settings_update(
            actor=request.user, project=self.project, **data.validated_data
        )  # type: ignore[arg-type]
        return Response(RiskSettingsSerializer(saved).data)
