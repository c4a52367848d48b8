from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from sprints.models import Status, WorkItem


class WorkItemFilter(filters.FilterSet):
    """Contract filters: status, category, type, sprint, assignee ("me"), label, q."""

    status = filters.CharFilter(method="by_status", max_length=50, label="Status name")
    category = filters.ChoiceFilter(field_name="status__category", choices=Status.Category.choices)
    type = filters.ChoiceFilter(choices=WorkItem.Type.choices)
    sprint = filters.CharFilter(method="by_sprint", max_length=20, label='Sprint id or "backlog"')
    assignee = filters.CharFilter(method="by_assignee", max_length=20, label='User id or "me"')
    label = filters.CharFilter(method="by_label", max_length=50)
    q = filters.CharFilter(method="search", max_length=100, label="Search key, title, description")

    class Meta:
        model = WorkItem
        fields = ("status", "category", "type", "sprint", "assignee", "label", "q")

    def by_status(self, queryset: QuerySet[WorkItem], name: str, value: str) -> QuerySet[WorkItem]:
        return queryset.filter(status__name__iexact=value.strip())

    def by_sprint(self, queryset: QuerySet[WorkItem], name: str, value: str) -> QuerySet[WorkItem]:
        value = value.strip().lower()
        if value == "backlog":
            return queryset.filter(sprint__isnull=True)
        if not value.isdigit():
            self._invalid("sprint", 'Give a sprint id or "backlog".')
        return queryset.filter(sprint_id=int(value))

    def by_assignee(
        self, queryset: QuerySet[WorkItem], name: str, value: str
    ) -> QuerySet[WorkItem]:
        value = value.strip().lower()
        if value == "me":
            return queryset.filter(assignee_id=self.request.user.pk if self.request else None)
        if value in ("none", "null", "unassigned"):
            return queryset.filter(assignee__isnull=True)
        if not value.isdigit():
            self._invalid("assignee", 'Give a user id, "me" or "none".')
        return queryset.filter(assignee_id=int(value))

    def by_label(self, queryset: QuerySet[WorkItem], name: str, value: str) -> QuerySet[WorkItem]:
        return queryset.filter(labels__contains=[value.strip().lower()])

    def search(self, queryset: QuerySet[WorkItem], name: str, value: str) -> QuerySet[WorkItem]:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(title__icontains=value) | Q(description__icontains=value)
        key, _, number = value.upper().rpartition("-")
        if number.isdigit():
            condition |= Q(number=int(number), project__key=key) if key else Q(number=int(number))
        return queryset.filter(condition)

    def _invalid(self, field: str, message: str) -> Any:
        raise ValidationError({field: [message]})
