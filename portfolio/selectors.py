"""Reads for the executive portfolio dashboard."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from projects.models import Project
from projects.selectors import project_list_for_user


@dataclass(frozen=True)
class PortfolioTotals:
    projects: int
    by_phase: list[tuple[str, int]]


def portfolio_projects_for_user(*, user: Any) -> QuerySet[Project]:
    """Visible projects with their precomputed summary, ordered by target date."""
    return project_list_for_user(user=user).order_by("target_date", "key")


def portfolio_totals(*, user: Any) -> PortfolioTotals:
    """Counts per phase over every visible project (one aggregate query)."""
    rows = Project.objects.visible_to(user).values_list("phase", flat=True)
    counts = Counter(rows.iterator())
    labels = dict(Project.Phase.choices)
    return PortfolioTotals(
        projects=sum(counts.values()),
        by_phase=[(labels[value], counts.get(value, 0)) for value in Project.Phase.values],
    )
