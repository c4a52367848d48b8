"""The demo portfolio: every project's charts have something to show on the first run."""

from __future__ import annotations

import io

from django.core.management import call_command

from sprints.models import Sprint, WorkItem


def test_demo_sprints_have_history_and_the_active_one_has_progress(db):
    call_command("demo_data", stdout=io.StringIO())

    for sprint in Sprint.objects.filter(state=Sprint.State.ACTIVE).select_related("project"):
        items = WorkItem.objects.filter(sprint=sprint)
        assert items.exists(), sprint.project.key
        categories = set(items.values_list("status__category", flat=True))
        # Work has moved: something finished or in progress, and the sprint is not all done.
        assert categories & {"done", "in_progress"}, (sprint.project.key, categories)
    closed = Sprint.objects.filter(state=Sprint.State.CLOSED)
    assert closed.exists()
    assert all(s.completed_points is not None for s in closed)
    assert any(s.completed_points > 0 for s in closed)
