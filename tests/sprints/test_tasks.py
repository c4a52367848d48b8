"""Metric tasks end to end: a real Celery worker thread on the real broker keeps the rows current.

Tests that use the worker are transactional: the worker thread reads committed data only, and
``project_changed`` dispatches on commit. Each waits for the outbox to drain (polling the
database with a deadline) before it asserts exact rows.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from celery.worker import state
from django.core.cache import cache
from django.utils import timezone

from projects.models import Project
from sprints.metric_inputs import project_today
from sprints.models import BurndownDay, FlowDay, ItemEvent, ProjectMetrics, Sprint, WorkItem
from sprints.services.items import (
    work_item_create,
    work_item_delete,
    work_item_update,
    work_items_move_to_sprint,
)
from sprints.services.sprints import sprint_close, sprint_create, sprint_start
from sprints.tasks import (
    BURNDOWN_KIND,
    FLOW_KIND,
    burndown_recompute,
    recompute_burndowns,
    recompute_flow,
)
from tpm import events
from tpm.models import MetricRun, StaleProject
from tpm.tasks import reconcile_stale_metrics

DEADLINE = 20.0
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]
D = Decimal


# --- helpers -------------------------------------------------------------------------------------


def _wait_for(predicate, timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _settled(project: Project) -> bool:
    """No change waiting for a worker: nothing queued or running, and every metric kind was
    recomputed since the project's last change (or its outbox row is gone)."""
    if state.active_requests or state.reserved_requests:
        return False
    if any(
        cache.get(events.coalesce_key(sub.kind, project.pk)) is not None
        for sub in events.subscribers()
    ):
        return False
    marked_at = (
        StaleProject.objects.filter(project_id=project.pk)
        .values_list("marked_at", flat=True)
        .first()
    )
    if marked_at is None:
        return True
    kinds = [sub.kind for sub in events.subscribers()]
    fresh = MetricRun.objects.filter(
        project_id=project.pk, kind__in=kinds, computed_at__gte=marked_at
    ).count()
    return fresh == len(kinds)


def _wait_settled(project: Project) -> None:
    assert _wait_for(lambda: _settled(project)), (
        "the worker did not catch up in time: "
        f"outbox {list(StaleProject.objects.values_list('project_id', 'marked_at'))}, "
        f"runs {list(MetricRun.objects.values_list('kind', 'computed_at', 'runs'))}"
    )


def _burndown(sprint: Sprint) -> list[tuple]:
    """(date, scope, remaining, completed, remaining hours, ideal) per stored day."""
    return list(
        BurndownDay.objects.filter(sprint=sprint)
        .order_by("date")
        .values_list(
            "date",
            "scope_points",
            "remaining_points",
            "completed_points",
            "remaining_hours",
            "ideal_points",
        )
    )


def _runs(project: Project, kind: str) -> int:
    return (
        MetricRun.objects.filter(project_id=project.pk, kind=kind)
        .values_list("runs", flat=True)
        .first()
        or 0
    )


def _velocity(project: Project) -> tuple:
    return (
        ProjectMetrics.objects.filter(project=project)
        .values_list("velocity_window", "velocity_mean", "velocity_median", "velocity_stdev")
        .get()
    )


def _ideal(committed: int, days: int) -> list[Decimal]:
    """Every day a working day: committed * (days - k) / days at the end of day k."""
    return [(D(committed) * (days - k) / days).quantize(D("0.01")) for k in range(1, days + 1)]


@pytest.fixture
def today(project):
    """The project's today; every day is a working day so the ideal line is plain arithmetic."""
    Project.objects.filter(pk=project.pk).update(working_days=EVERY_DAY)
    project.refresh_from_db()
    return project_today(project)


@pytest.fixture
def running(project, people, today):
    """Sprint 1 (today-2 .. today+7, 10 days) started with MIG-1 (3 points, 4 h) and
    MIG-2 (5 points, 6 h): 8 committed points. Items were created today."""
    owner = people["owner"]
    sprint = sprint_create(
        actor=owner,
        project=project,
        name="Sprint 1",
        start_date=today - timedelta(days=2),
        end_date=today + timedelta(days=7),
    )
    first = work_item_create(
        actor=owner,
        project=project,
        title="Peer the VPCs",
        story_points=3,
        remaining_hours=4,
        sprint=sprint,
    )
    second = work_item_create(
        actor=owner,
        project=project,
        title="Move the billing database",
        story_points=5,
        remaining_hours=6,
        sprint=sprint,
    )
    sprint = sprint_start(actor=owner, sprint=sprint)
    return sprint, first, second


# --- the worker keeps burndown rows current ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_item_done_over_the_api_reaches_the_sprint_burndown(
    celery_worker, api_as, project, today, running
):
    sprint, first, second = running
    assert sprint.committed_points == 8

    response = api_as("member").patch("/api/v1/items/MIG-1/", {"status": "Done"}, format="json")
    assert response.status_code == 200

    def reflected():
        row = BurndownDay.objects.filter(sprint=sprint, date=today).first()
        return row is not None and row.remaining_points == 5 and _settled(project)

    assert _wait_for(reflected), f"burndown not updated: {_burndown(sprint)}"
    ideal = _ideal(8, 10)
    # Items were created today: the first two days had nothing in scope. Today: 3 + 5 in
    # scope, MIG-1 done (3 completed, 5 remaining), only MIG-2's 6 hours remain.
    assert _burndown(sprint) == [
        (today - timedelta(days=2), 0, 0, 0, 0, ideal[0]),  # 8 * 9/10 = 7.2
        (today - timedelta(days=1), 0, 0, 0, 0, ideal[1]),  # 6.4
        (today, 8, 5, 3, 6, ideal[2]),  # 5.6
    ]
    assert ideal[:3] == [D("7.2"), D("6.4"), D("5.6")]
    body = api_as("viewer").get(f"/api/v1/sprints/{sprint.pk}/burndown/").json()
    assert body["computed_at"] is not None
    assert body["days"][-1] == {
        "date": today.isoformat(),
        "scope_points": 8,
        "remaining_points": 5,
        "completed_points": 3,
        "remaining_hours": 6,
        "ideal_points": 5.6,
    }


@pytest.mark.django_db(transaction=True)
def test_burst_of_200_changes_runs_a_handful_of_recomputes_with_correct_final_rows(
    celery_worker, settings, project, people, today, running
):
    sprint, first, second = running
    _wait_settled(project)
    runs_before = {kind: _runs(project, kind) for kind in (BURNDOWN_KIND, FLOW_KIND)}
    assert runs_before[BURNDOWN_KIND] >= 1

    started = time.monotonic()
    for n in range(200):  # 200 committed changes, each its own transaction
        work_item_update(actor=people["member"], item=(first, second)[n % 2], remaining_hours=n)
    work_item_update(actor=people["member"], item=second, status="Done")
    burst = time.monotonic() - started

    _wait_settled(project)
    # MIG-1 last got 198 h (n even), MIG-2 199 h but it is done: only 198 h remain.
    assert _burndown(sprint)[-1] == (today, 8, 3, 5, 198, D("5.6"))
    assert WorkItem.objects.get(pk=first.pk).version == 101
    assert ItemEvent.objects.filter(project=project, field="hours").count() == 2 + 200
    # A run can only be enqueued after the previous one started, which is at least the
    # coalescing countdown after its enqueue: at most burst / countdown + 1 runs, plus slack.
    ceiling = burst / settings.TPM_COALESCE_COUNTDOWN + 2
    for kind in (BURNDOWN_KIND, FLOW_KIND):
        runs = _runs(project, kind) - runs_before[kind]
        assert 1 <= runs <= ceiling, f"201 changes in {burst:.1f}s caused {runs} {kind} runs"
        assert runs <= 20, f"201 changes caused {runs} {kind} runs"
    flow_days = list(FlowDay.objects.filter(project=project).values_list("date", "todo", "done"))
    assert flow_days == [(today, 1, 1)]  # MIG-1 still to do, MIG-2 done


# --- reconcile: lost messages --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reconcile_recomputes_a_change_whose_message_was_lost(
    celery_worker, settings, project, people, today, running
):
    sprint, first, second = running
    _wait_settled(project)
    runs_before = _runs(project, BURNDOWN_KIND)
    # A lost message leaves its coalescing keys behind: the next change enqueues nothing.
    for sub in events.subscribers():
        cache.set(events.coalesce_key(sub.kind, project.pk), 1, timeout=300)

    work_item_update(actor=people["member"], item=first, status="Done")

    stale = StaleProject.objects.get(project_id=project.pk)  # the change is in the outbox
    assert "sprints.item.updated" in stale.reasons
    assert stale.dispatched_at is not None
    assert not MetricRun.objects.filter(project_id=project.pk, computed_at__gte=stale.marked_at)
    time.sleep(settings.TPM_COALESCE_COUNTDOWN + 1.5)  # longer than any coalesced run waits
    assert _burndown(sprint)[-1] == (today, 8, 8, 0, 10, D("5.6"))  # nobody recomputed
    assert _runs(project, BURNDOWN_KIND) == runs_before
    # The change was five minutes ago, the last computation ten: past the 120 s threshold.
    StaleProject.objects.filter(project_id=project.pk).update(
        marked_at=timezone.now() - timedelta(minutes=5)
    )
    MetricRun.objects.filter(project_id=project.pk).update(
        computed_at=timezone.now() - timedelta(minutes=10)
    )

    result = reconcile_stale_metrics.run()

    assert result == {"stale": 1, "enqueued": len(events.subscribers())}
    _wait_settled(project)
    assert _burndown(sprint)[-1] == (today, 8, 5, 3, 6, D("5.6"))
    assert _runs(project, BURNDOWN_KIND) == runs_before + 1
    # Everything is fresh now: the next reconcile sends nothing and clears the outbox row.
    assert events.reconcile(older_than=timedelta(0)) == {"stale": 0, "enqueued": 0}
    assert not StaleProject.objects.filter(project_id=project.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_reconcile_rebuilds_rows_for_a_stale_outbox_row_written_directly(
    celery_worker, project, today, running
):
    sprint, first, second = running
    _wait_settled(project)
    expected = _burndown(sprint)
    assert expected[-1] == (today, 8, 8, 0, 10, D("5.6"))
    # A worker crashed mid-run: its rows are gone or wrong, and its message is lost. The
    # outbox row says the project changed five minutes ago; nothing ran since ten minutes.
    BurndownDay.objects.filter(sprint=sprint, date=today).delete()
    BurndownDay.objects.filter(sprint=sprint).update(remaining_points=99)
    MetricRun.objects.filter(project_id=project.pk).update(
        computed_at=timezone.now() - timedelta(minutes=10)
    )
    StaleProject.objects.update_or_create(
        project_id=project.pk,
        defaults={
            "marked_at": timezone.now() - timedelta(minutes=5),
            "reasons": ["sprints.item.updated"],
        },
    )

    assert reconcile_stale_metrics.run() == {"stale": 1, "enqueued": len(events.subscribers())}

    _wait_settled(project)
    assert _burndown(sprint) == expected
    assert events.reconcile(older_than=timedelta(0)) == {"stale": 0, "enqueued": 0}
    assert not StaleProject.objects.filter(project_id=project.pk).exists()


# --- closed sprints are final --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_closed_sprint_burndown_and_velocity_never_change_after_the_close(
    celery_worker, api_as, project, people, today, running
):
    owner = people["owner"]
    first_sprint, first, second = running
    work_item_update(actor=owner, item=first, status="Done")
    sprint_close(actor=owner, sprint=first_sprint)  # MIG-2 (5 points) goes to the backlog
    second_sprint = sprint_create(
        actor=owner,
        project=project,
        name="Sprint 2",
        start_date=today - timedelta(days=2),
        end_date=today + timedelta(days=7),
    )
    third = work_item_create(
        actor=owner, project=project, title="Cut over DNS", story_points=2, sprint=second_sprint
    )
    sprint_start(actor=owner, sprint=second_sprint)
    work_item_update(actor=owner, item=third, status="Done")
    sprint_close(actor=owner, sprint=second_sprint)
    _wait_settled(project)

    ideal = _ideal(8, 10)
    first_rows = _burndown(first_sprint)
    # Closed: every day to the end date, as things stood at the close (MIG-2 still in scope).
    assert first_rows == [
        (today - timedelta(days=2), 0, 0, 0, 0, ideal[0]),
        (today - timedelta(days=1), 0, 0, 0, 0, ideal[1]),
        *[(today + timedelta(days=n), 8, 5, 3, 6, ideal[n + 2]) for n in range(8)],
    ]
    second_rows = _burndown(second_sprint)
    assert second_rows[-1] == (today + timedelta(days=7), 2, 0, 2, 0, 0)
    figures = list(
        Sprint.objects.filter(state="closed")
        .order_by("pk")
        .values_list("committed_points", "completed_points")
    )
    assert figures == [(8, 3), (2, 2)]
    # Completed 3 and 2: mean 2.5, median 2.5, stdev sqrt((0.25 + 0.25) / 1) = 0.707 -> 0.71.
    assert _velocity(project) == (3, D("2.5"), D("2.5"), D("0.71"))
    velocity_api = api_as("viewer").get("/api/v1/projects/MIG/velocity/").json()

    # Later: reopen, re-estimate and move MIG-1 into a new sprint; move MIG-3 to the backlog
    # and delete it; re-estimate MIG-2.
    third_sprint = sprint_create(
        actor=owner,
        project=project,
        name="Sprint 3",
        start_date=today,
        end_date=today + timedelta(days=9),
    )
    work_item_update(actor=owner, item=first, status="In Progress")
    work_item_update(actor=owner, item=first, story_points=13)
    work_item_update(actor=owner, item=first, sprint=third_sprint)
    work_items_move_to_sprint(actor=owner, project=project, items=[third], sprint=None)
    work_item_update(actor=owner, item=second, story_points=1)
    work_item_delete(actor=owner, item=WorkItem.objects.get(pk=third.pk))
    sprint_start(actor=owner, sprint=third_sprint)
    _wait_settled(project)
    # Recompute the closed sprints explicitly as well: history after the close is ignored.
    assert burndown_recompute(first_sprint.pk) is True
    assert burndown_recompute(second_sprint.pk) is True

    assert _burndown(first_sprint) == first_rows
    assert _burndown(second_sprint) == second_rows
    assert (
        list(
            Sprint.objects.filter(state="closed")
            .order_by("pk")
            .values_list("committed_points", "completed_points")
        )
        == figures
    )
    assert _velocity(project) == (3, D("2.5"), D("2.5"), D("0.71"))
    after = api_as("viewer").get("/api/v1/projects/MIG/velocity/").json()
    assert {k: v for k, v in after.items() if k != "computed_at"} == {
        k: v for k, v in velocity_api.items() if k != "computed_at"
    }
    # The new sprint did pick MIG-1 up with its new estimate.
    assert _burndown(third_sprint)[-1][:3] == (today, 13, 13)


# --- idempotency (no worker: the tasks run in the test's own transaction) -------------------------


def _stored(project: Project) -> dict:
    return {
        "burndown": list(
            BurndownDay.objects.filter(sprint__project=project)
            .order_by("sprint", "date")
            .values_list(
                "sprint_id",
                "date",
                "scope_points",
                "remaining_points",
                "completed_points",
                "remaining_hours",
                "ideal_points",
            )
        ),
        "flow": list(
            FlowDay.objects.filter(project=project)
            .order_by("date")
            .values_list("date", "todo", "in_progress", "done")
        ),
        "metrics": ProjectMetrics.objects.filter(project=project)
        .values(
            "velocity_window",
            "velocity_mean",
            "velocity_median",
            "velocity_stdev",
            "flow_start_date",
            "flow_end_date",
            "cycle_time_days",
            "lead_time_days",
            "throughput",
            "items_done",
        )
        .get(),
    }


def test_recompute_twice_gives_identical_rows_and_repairs_tampered_ones(
    project, people, today, running
):
    sprint, first, second = running
    work_item_update(actor=people["owner"], item=first, status="In Progress")
    work_item_update(actor=people["owner"], item=first, status="Done")

    assert recompute_burndowns.run(project.pk) == 1  # the one active sprint
    recompute_flow.run(project.pk)
    once = _stored(project)
    assert recompute_burndowns.run(project.pk) == 1
    recompute_flow.run(project.pk)

    assert _stored(project) == once
    assert once["burndown"][-1] == (sprint.pk, today, 8, 5, 3, 6, D("5.6"))
    assert once["flow"] == [(today, 1, 0, 1)]
    assert once["metrics"]["items_done"] == 1
    monday = today - timedelta(days=today.weekday())
    assert once["metrics"]["throughput"][-1] == [monday.isoformat(), 1]
    assert (_runs(project, BURNDOWN_KIND), _runs(project, FLOW_KIND)) == (2, 2)

    # Tampered, missing and stray rows: the next run replaces them with the same set.
    BurndownDay.objects.filter(sprint=sprint, date=today).update(scope_points=77)
    BurndownDay.objects.filter(sprint=sprint, date=today - timedelta(days=1)).delete()
    BurndownDay.objects.create(
        sprint=sprint,
        date=today + timedelta(days=30),
        scope_points=1,
        remaining_points=1,
        completed_points=0,
        remaining_hours=0,
        computed_at=timezone.now(),
    )
    FlowDay.objects.create(project=project, date=date(2000, 1, 3), todo=9, in_progress=9, done=9)
    FlowDay.objects.filter(project=project, date=today).update(done=42)

    recompute_burndowns.run(project.pk)
    recompute_flow.run(project.pk)

    assert _stored(project) == once


def test_recompute_of_a_deleted_project_or_sprint_is_a_no_op(db):
    assert recompute_burndowns.run(987654) == 0
    recompute_flow.run(987654)
    assert burndown_recompute(987654) is False
    assert not BurndownDay.objects.exists()
    assert not FlowDay.objects.exists()
    assert not ProjectMetrics.objects.exists()
