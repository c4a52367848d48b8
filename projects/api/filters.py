from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from projects.models import Project


class ProjectFilter(filters.FilterSet):
    """``?q=`` searches key, name and description; ``phase`` and ``methodology`` match exactly."""

    q = filters.CharFilter(method="search", max_length=100, label="Search key, name, description")
    phase = filters.ChoiceFilter(choices=Project.Phase.choices)
    methodology = filters.ChoiceFilter(choices=Project.Methodology.choices)

    class Meta:
        model = Project
        fields = ("q", "phase", "methodology")

    def search(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(key__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value)
        )
