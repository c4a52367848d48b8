from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from risks.models import Risk
from risks.selectors import LEVELS, ORDERINGS, risk_list_filter, risk_list_order


class RiskFilter(filters.FilterSet):
    """Contract filters: status, category, level, owner ("me", "none"), tag, q; ordering.

    The declared filters validate the parameters (400 with a field message) and document them
    in the schema; the filtering itself is the register's selector, shared with the pages.
    """

    status = filters.ChoiceFilter(choices=Risk.Status.choices)
    category = filters.ChoiceFilter(choices=Risk.Category.choices)
    level = filters.ChoiceFilter(choices=[(level, level.title()) for level in LEVELS])
    owner = filters.CharFilter(max_length=20, label='User id, "me" or "none"')
    tag = filters.ChoiceFilter(choices=Risk.ComplianceTag.choices, label="Compliance tag")
    q = filters.CharFilter(max_length=100, label="Search title and description")
    ordering = filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS], label="Sort by score, exposure or review date"
    )

    class Meta:
        model = Risk
        fields = ("status", "category", "level", "owner", "tag", "q", "ordering")

    def filter_queryset(self, queryset: QuerySet[Risk]) -> QuerySet[Risk]:
        params = {name: value for name, value in self.form.cleaned_data.items() if value}
        user = self.request.user if self.request else None
        queryset = risk_list_filter(queryset, user=user, params=params)
        return risk_list_order(queryset, params.get("ordering"))
