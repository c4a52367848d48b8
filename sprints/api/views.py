from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from projects.api.base import ProjectScopedViewSet
from projects.models import Project
from sprints.api.filters import WorkItemFilter
from sprints.api.serializers import (
    BurndownSerializer,
    CommentSerializer,
    CommentWriteSerializer,
    FlowSerializer,
    ItemEventSerializer,
    RankWriteSerializer,
    SprintCloseWriteSerializer,
    SprintSerializer,
    SprintWriteSerializer,
    StatusDeleteSerializer,
    StatusSerializer,
    StatusWriteSerializer,
    VelocitySerializer,
    WorkItemSerializer,
    WorkItemWriteSerializer,
    WorkLogSerializer,
    WorkLogWriteSerializer,
)
from sprints.models import Sprint, Status, WorkItem
from sprints.selectors import (
    burndown_for_sprint,
    comment_list_for_item,
    flow_for_project,
    item_history_for_item,
    sprint_get_for_user,
    sprint_list_for_project,
    sprint_list_visible_to,
    status_get_for_user,
    status_list_for_project,
    velocity_for_project,
    work_item_get_for_user,
    work_item_list_for_project,
    work_item_list_visible_to,
    work_item_rows,
    work_items_by_keys,
    worklog_list_for_item,
)
from sprints.services.activity import comment_create, worklog_create
from sprints.services.items import (
    status_by_name,
    work_item_create,
    work_item_delete,
    work_item_rank,
    work_item_update,
)
from sprints.services.sprints import (
    sprint_close,
    sprint_create,
    sprint_delete,
    sprint_start,
    sprint_update,
)
from sprints.services.workflow import status_create, status_delete, status_update
from tpm.api.views import TpmViewSet
from tpm.models import User
from tpm.permissions import can


def resolve_item_references(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    """Turn ids and keys of the API payload into objects of ``project`` (400 when foreign)."""
    resolved = dict(data)
    if "assignee" in resolved and resolved["assignee"] is not None:
        user = User.objects.filter(pk=resolved["assignee"], is_active=True).first()
        if user is None:
            raise ValidationError({"assignee": ["No active user with that id."]})
        resolved["assignee"] = user
    if "sprint" in resolved and resolved["sprint"] is not None:
        sprint = Sprint.objects.filter(pk=resolved["sprint"]).first()
        if sprint is None or sprint.project_id != project.pk:
            raise ValidationError({"sprint": [f"No sprint with that id in {project.key}."]})
        resolved["sprint"] = sprint
    if "parent" in resolved and resolved["parent"] is not None:
        resolved["parent"] = work_items_by_keys(
            project=project, keys=[resolved["parent"]], field="parent"
        )[0]
    if "blocked_by" in resolved:
        resolved["blocked_by"] = work_items_by_keys(
            project=project, keys=resolved["blocked_by"], field="blocked_by"
        )
    return resolved


class ItemRowsListMixin:
    """List items as plain rows: filters and pagination as usual, no model instances."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = work_item_rows(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        return self.get_paginated_response(WorkItemSerializer(page, many=True).data)  # type: ignore[attr-defined]


class ProjectItemViewSet(ItemRowsListMixin, mixins.ListModelMixin, ProjectScopedViewSet):
    """``/projects/{key}/items/``: the project's items in backlog order; create one."""

    serializer_class = WorkItemSerializer
    filterset_class = WorkItemFilter
    action_permissions = {"list": "item.view", "create": "item.create"}

    def get_queryset(self) -> QuerySet[WorkItem]:
        if getattr(self, "swagger_fake_view", False):
            return WorkItem.objects.none()
        return work_item_list_for_project(project=self.project)

    @extend_schema(request=WorkItemWriteSerializer, responses={201: WorkItemSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WorkItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = resolve_item_references(self.project, data.validated_data)
        fields.pop("version", None)
        item = work_item_create(actor=request.user, project=self.project, **fields)  # type: ignore[arg-type]
        item = work_item_get_for_user(user=request.user, key=f"{self.project.key}-{item.number}")
        return Response(WorkItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemViewSet(ItemRowsListMixin, mixins.ListModelMixin, TpmViewSet):
    """``/items/``: items across visible projects (``?assignee=me``); one item by ``KEY-N``."""

    serializer_class = WorkItemSerializer
    filterset_class = WorkItemFilter
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z]{2,10}-\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "retrieve": "item.view",
        "partial_update": "item.edit",
        "destroy": "item.delete",
        "comments": "item.view",
        "worklogs": "item.view",
        "history": "item.view",
        "rank": "item.edit",
    }

    def get_queryset(self) -> QuerySet[WorkItem]:
        return work_item_list_visible_to(user=self.request.user)

    def get_object(self) -> WorkItem:
        item = work_item_get_for_user(user=self.request.user, key=self.kwargs["key"])
        self.check_object_permissions(self.request, item)
        return item

    def serialize_current(self, instance: Any) -> Any:
        fresh = work_item_get_for_user(
            user=self.request.user, key=f"{instance.project.key}-{instance.number}"
        )
        return WorkItemSerializer(fresh).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        return self.versioned_response(item, WorkItemSerializer(item).data)

    @extend_schema(request=WorkItemWriteSerializer(partial=True), responses=WorkItemSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        data = WorkItemWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = resolve_item_references(item.project, data.validated_data)
        changes.pop("position", None)
        expected = self.expected_version(item, changes.pop("version", None))
        with self.precondition():
            updated = work_item_update(
                actor=request.user,  # type: ignore[arg-type]
                item=item,
                expected_version=expected,
                **changes,
            )
        # Read again when the annotations may have moved: this change touched them, or
        # another one landed between the first read and the lock.
        if {"parent", "blocked_by"} & set(changes) or updated.version != item.version + 1:
            updated = work_item_get_for_user(
                user=request.user, key=f"{item.project.key}-{item.number}"
            )
        else:  # the updated row plus what the first read annotated, unchanged since
            updated.project = item.project
            updated.parent_number = item.parent_number  # type: ignore[attr-defined]
            updated.blocker_numbers = item.blocker_numbers  # type: ignore[attr-defined]
        return self.versioned_response(updated, WorkItemSerializer(updated).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        work_item_delete(actor=request.user, item=self.get_object())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _check_write(self, item: WorkItem, permission: str) -> None:
        if not can(self.request.user, permission, item):
            self.permission_denied(self.request, message="Your role does not allow this.")

    @extend_schema(request=CommentWriteSerializer, responses=CommentSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def comments(self, request: Request, key: str) -> Response:
        item = self.get_object()
        if request.method == "POST":
            self._check_write(item, "comment.create")
            data = CommentWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            comment = comment_create(
                actor=request.user, item=item, body=data.validated_data["body"]
            )  # type: ignore[arg-type]
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(comment_list_for_item(item=item))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(request=WorkLogWriteSerializer, responses=WorkLogSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def worklogs(self, request: Request, key: str) -> Response:
        item = self.get_object()
        if request.method == "POST":
            self._check_write(item, "worklog.create")
            data = WorkLogWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            log = worklog_create(
                actor=request.user,
                item=item,
                hours=data.validated_data["hours"],  # type: ignore[arg-type]
                date_=data.validated_data.get("date"),
                note=data.validated_data.get("note", ""),
            )
            return Response(WorkLogSerializer(log).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(worklog_list_for_item(item=item))
        return self.get_paginated_response(WorkLogSerializer(page, many=True).data)

    @extend_schema(responses=ItemEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, key: str) -> Response:
        item = self.get_object()
        page = self.paginate_queryset(item_history_for_item(item=item))
        return self.get_paginated_response(ItemEventSerializer(page, many=True).data)

    @extend_schema(request=RankWriteSerializer, responses=WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def rank(self, request: Request, key: str) -> Response:
        item = self.get_object()
        data = RankWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refs = {
            name: work_items_by_keys(project=item.project, keys=[value], field=name)[0]
            for name, value in data.validated_data.items()
            if value
        }
        work_item_rank(actor=request.user, item=item, **refs)  # type: ignore[arg-type]
        fresh = work_item_get_for_user(user=request.user, key=f"{item.project.key}-{item.number}")
        return Response(WorkItemSerializer(fresh).data)


class ProjectSprintViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    serializer_class = SprintSerializer
    action_permissions = {"list": "sprint.view", "create": "sprint.manage"}

    def get_queryset(self) -> QuerySet[Sprint]:
        if getattr(self, "swagger_fake_view", False):
            return Sprint.objects.none()
        return sprint_list_for_project(project=self.project)

    @extend_schema(request=SprintWriteSerializer, responses={201: SprintSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SprintWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("version", None)
        sprint = sprint_create(actor=request.user, project=self.project, **fields)  # type: ignore[arg-type]
        return Response(SprintSerializer(sprint).data, status=status.HTTP_201_CREATED)


class SprintViewSet(mixins.RetrieveModelMixin, TpmViewSet):
    """``/sprints/{id}/``: one sprint; ``start`` and ``close`` run its lifecycle."""

    serializer_class = SprintSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "retrieve": "sprint.view",
        "partial_update": "sprint.manage",
        "destroy": "sprint.manage",
        "start": "sprint.manage",
        "close": "sprint.manage",
    }

    def get_queryset(self) -> QuerySet[Sprint]:
        return sprint_list_visible_to(user=self.request.user)

    def get_object(self) -> Sprint:
        sprint = sprint_get_for_user(user=self.request.user, sprint_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, sprint)
        return sprint

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sprint = self.get_object()
        return self.versioned_response(sprint, SprintSerializer(sprint).data)

    @extend_schema(request=SprintWriteSerializer(partial=True), responses=SprintSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sprint = self.get_object()
        data = SprintWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        expected = self.expected_version(sprint, changes.pop("version", None))
        with self.precondition():
            sprint = sprint_update(
                actor=request.user, sprint=sprint, expected_version=expected, **changes
            )  # type: ignore[arg-type]
        return self.versioned_response(sprint, SprintSerializer(sprint).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sprint_delete(actor=request.user, sprint=self.get_object())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=BurndownSerializer)
    @action(detail=True, methods=["get"])
    def burndown(self, request: Request, pk: str) -> Response:
        return Response(BurndownSerializer(burndown_for_sprint(sprint=self.get_object())).data)

    @extend_schema(request=None, responses=SprintSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        sprint = sprint_start(actor=request.user, sprint=self.get_object())  # type: ignore[arg-type]
        return Response(SprintSerializer(sprint).data)

    @extend_schema(request=SprintCloseWriteSerializer, responses=SprintSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        sprint = self.get_object()
        data = SprintCloseWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = data.validated_data.get("move_unfinished_to", "backlog")
        destination = None
        if target not in (None, "backlog"):
            if (
                isinstance(target, bool)
                or not isinstance(target, int | str)
                or not str(target).isdigit()
            ):
                raise ValidationError({"move_unfinished_to": ['Give a sprint id or "backlog".']})
            destination = Sprint.objects.filter(
                pk=int(target), project_id=sprint.project_id
            ).first()
            if destination is None:
                raise ValidationError({"move_unfinished_to": ["No such sprint in this project."]})
        sprint = sprint_close(actor=request.user, sprint=sprint, move_unfinished_to=destination)  # type: ignore[arg-type]
        return Response(SprintSerializer(sprint).data)


class ProjectMetricsViewSet(ProjectScopedViewSet):
    """``/projects/{key}/velocity/`` and ``/flow/``: stored figures, computed by workers."""

    action_permissions = {"velocity": "project.view", "flow": "project.view"}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "window",
                int,
                description="Closed sprints the mean, median and stdev cover (1–20; default 3).",
            )
        ],
        responses=VelocitySerializer,
    )
    def velocity(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.query_params.get("window")
        window = None
        if raw is not None:
            if not raw.isdigit() or not 1 <= int(raw) <= 20:
                raise ValidationError({"window": ["Give a whole number of sprints from 1 to 20."]})
            window = int(raw)
        data = velocity_for_project(project=self.project, window=window)
        return Response(VelocitySerializer(data).data)

    @extend_schema(responses=FlowSerializer)
    def flow(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(FlowSerializer(flow_for_project(project=self.project)).data)


class ProjectStatusViewSet(mixins.ListModelMixin, ProjectScopedViewSet):
    serializer_class = StatusSerializer
    action_permissions = {"list": "project.view", "create": "workflow.manage"}

    def get_queryset(self) -> QuerySet[Status]:
        if getattr(self, "swagger_fake_view", False):
            return Status.objects.none()
        return status_list_for_project(project=self.project)

    @extend_schema(request=StatusWriteSerializer, responses={201: StatusSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = StatusWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = status_create(actor=request.user, project=self.project, **data.validated_data)  # type: ignore[arg-type]
        return Response(StatusSerializer(created).data, status=status.HTTP_201_CREATED)


class StatusViewSet(TpmViewSet):
    serializer_class = StatusSerializer
    http_method_names = ["patch", "delete", "options"]
    action_permissions = {"partial_update": "workflow.manage", "destroy": "workflow.manage"}

    def get_object(self) -> Status:
        found = status_get_for_user(user=self.request.user, status_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, found)
        return found

    @extend_schema(request=StatusWriteSerializer(partial=True), responses=StatusSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = self.get_object()
        data = StatusWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        updated = status_update(actor=request.user, status=found, **data.validated_data)  # type: ignore[arg-type]
        return Response(StatusSerializer(updated).data)

    @extend_schema(request=StatusDeleteSerializer, responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = self.get_object()
        data = StatusDeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = data.validated_data.get("move_items_to")
        move_to = None
        if target:
            try:
                move_to = status_by_name(found.project, target)
            except ValidationError as exc:
                # status_by_name names the item's "status" field; here the bad value is the target.
                raise ValidationError({"move_items_to": exc.messages}) from exc
        status_delete(actor=request.user, status=found, move_items_to=move_to)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
