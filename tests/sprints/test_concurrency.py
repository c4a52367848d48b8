"""Real races: threads with their own database connections writing to one project at once.

Transactional tests (each thread must see the others' commits). To make a request race certain
rather than likely, the test thread holds the row lock the service needs, starts every request,
waits until PostgreSQL shows them all blocked on that lock, and only then lets go. The outbox
race has no lock to queue on, so it releases two threads from a barrier, many times over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from projects.models import Project
from sprints.models import ItemEvent, WorkItem
from sprints.services.items import work_item_create
from tpm import events
from tpm.models import MetricRun, StaleProject

ITEMS = "/api/v1/projects/MIG/items/"
ITEM = "/api/v1/items/MIG-1/"
pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(call: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``call`` and close this thread's database connection afterwards."""

    def run() -> Any:
        try:
            return call()
        finally:
            connection.close()

    return run


def _waiting_on_locks() -> int:
    """Backends of this test database waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh view inside our transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _race(
    calls: list[Callable[[], Any]], *, hold: Callable[[], Any], in_order: bool = False
) -> tuple[list[Any], bool]:
    """Run ``calls`` in parallel threads while this thread holds the lock ``hold()`` takes.

    With ``in_order`` each call is started only once the previous one waits on the lock, so
    they get it in that order. Returns the results in call order and whether all calls were
    seen queued on the lock.
    """
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        with transaction.atomic():
            hold()
            futures = []
            for count, call in enumerate(calls, start=1):
                futures.append(pool.submit(_in_thread(call)))
                if in_order or count == len(calls):
                    deadline = time.monotonic() + 10
                    while _waiting_on_locks() < count and time.monotonic() < deadline:
                        time.sleep(0.02)
            queued = _waiting_on_locks() >= len(calls)
        return [future.result(timeout=60) for future in futures], queued


def _lock_project(project: Project) -> Callable[[], Any]:
    return lambda: Project.objects.select_for_update().get(pk=project.pk)


def _lock_item(item: WorkItem) -> Callable[[], Any]:
    return lambda: WorkItem.objects.select_for_update().get(pk=item.pk)


# --- item numbers ---------------------------------------------------------------------------------


def test_twenty_concurrent_creates_get_unique_gapless_keys(api_as, project):
    calls = [
        partial(api_as("member").post, ITEMS, {"title": f"Runbook step {n}"}, format="json")
        for n in range(20)
    ]

    responses, queued = _race(calls, hold=_lock_project(project))

    assert queued, "the creates did not queue on the project row"
    assert [r.status_code for r in responses] == [201] * 20
    keys = sorted(int(r.json()["key"].removeprefix("MIG-")) for r in responses)
    assert keys == list(range(1, 21))
    stored = dict(WorkItem.objects.filter(project=project).values_list("title", "number"))
    assert stored == {r.json()["title"]: int(r.json()["key"][4:]) for r in responses}
    ranks = list(WorkItem.objects.filter(project=project).values_list("rank", flat=True))
    assert len(set(ranks)) == 20
    assert Project.objects.get(pk=project.pk).next_item_number == 21
    assert ItemEvent.objects.filter(project=project, field="status").count() == 20


# --- optimistic concurrency -----------------------------------------------------------------------


@pytest.fixture
def item(project, people):
    """MIG-1, a 3-point story in the backlog at version 1."""
    return work_item_create(
        actor=people["owner"], project=project, title="Peer the VPCs", story_points=3
    )


RENAME = {"title": "Peer the VPCs in eu-west-1"}
START = {"status": "In Progress", "remaining_hours": 5}
# What the item looks like after each change alone: (title, status, remaining hours).
AFTER = {
    "rename": ("Peer the VPCs in eu-west-1", "Backlog", None),
    "start": ("Peer the VPCs", "In Progress", 5),
}
# A rename writes no metric event; a start writes a status and an hours event.
NEW_EVENTS = {"rename": 0, "start": 2}
CHANGES = {"rename": RENAME, "start": START}
# The first queued request gets the row lock first and wins. Winning with a start changes the
# item's status (a foreign key the loser's locking query joins), winning with a rename does not.
ORDERS = [("rename", "start"), ("start", "rename")]


def _stored(item: WorkItem) -> tuple:
    stored = WorkItem.objects.select_related("status").get(pk=item.pk)
    return stored.version, (stored.title, stored.status.name, stored.remaining_hours)


@pytest.mark.parametrize(("first", "second"), ORDERS)
def test_two_patches_with_the_same_version_give_one_200_and_one_409(
    api_as, project, item, first, second
):
    calls = [
        partial(api_as(role).patch, ITEM, {**CHANGES[change], "version": 1}, format="json")
        for role, change in (("owner", first), ("member", second))
    ]
    events_before = ItemEvent.objects.filter(project=project).count()

    responses, queued = _race(calls, hold=_lock_item(item), in_order=True)

    assert queued, "the updates did not queue on the item row"
    assert [r.status_code for r in responses] == [200, 409]
    winner, loser = responses[0].json(), responses[1].json()
    assert winner["version"] == 2
    assert loser["code"] == "stale_version"
    assert loser["current"] == winner  # the 409 carries the item as the winner left it
    assert _stored(item) == (2, AFTER[first])
    assert ItemEvent.objects.filter(project=project).count() == events_before + NEW_EVENTS[first]


@pytest.mark.parametrize(("first", "second"), ORDERS)
def test_two_patches_with_the_same_if_match_give_one_200_and_one_412(
    api_as, project, item, first, second
):
    etag = api_as("member").get(ITEM)["ETag"]
    calls = [
        partial(api_as(role).patch, ITEM, CHANGES[change], format="json", HTTP_IF_MATCH=etag)
        for role, change in (("owner", first), ("member", second))
    ]

    responses, queued = _race(calls, hold=_lock_item(item), in_order=True)

    assert queued, "the updates did not queue on the item row"
    assert [r.status_code for r in responses] == [200, 412]
    winner, loser = responses
    assert winner.json()["version"] == 2
    assert loser.json()["current"] == winner.json()
    assert loser["ETag"] == winner["ETag"] != etag  # the fresh tag to retry with
    assert _stored(item) == (2, AFTER[first])


# --- ranks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "above_anchor"),
    [
        (2, [1]),  # six items squeezed into the one gap between MIG-1 and MIG-2
        (1, []),  # six items moved to the very top at once
    ],
)
def test_concurrent_rank_moves_give_distinct_ranks(api_as, project, people, anchor, above_anchor):
    for n in range(1, 9):
        work_item_create(actor=people["owner"], project=project, title=f"Step {n}")
    ranks_before = dict(WorkItem.objects.filter(project=project).values_list("number", "rank"))
    moving = [3, 4, 5, 6, 7, 8]
    calls = [
        partial(
            api_as("member").post,
            f"/api/v1/items/MIG-{n}/rank/",
            {"before": f"MIG-{anchor}"},
            format="json",
        )
        for n in moving
    ]

    responses, _ = _race(calls, hold=_lock_project(project))

    assert [r.status_code for r in responses] == [200] * 6
    ranks = dict(WorkItem.objects.filter(project=project).values_list("number", "rank"))
    assert len(set(ranks.values())) == 8
    order = list(
        WorkItem.objects.filter(project=project).order_by("rank").values_list("number", flat=True)
    )
    # Every moved item sits directly above the anchor (in whatever order the locks granted).
    block = order[len(above_anchor) : len(above_anchor) + 6]
    assert order[: len(above_anchor)] == above_anchor
    assert sorted(block) == moving
    assert order[len(above_anchor) + 6 :] == ([1, 2] if anchor == 1 else [2])
    assert {n: ranks[n] for n in (1, 2)} == {n: ranks_before[n] for n in (1, 2)}
    assert {r.json()["key"]: r.json()["rank"] for r in responses} == {
        f"MIG-{n}": ranks[n] for n in moving
    }


# --- the metric outbox ----------------------------------------------------------------------------


def test_outbox_row_is_cleared_when_the_last_two_kinds_finish_together(project):
    """Two workers finishing the last two stale kinds at once: one of them must clear the row.

    Each run records itself and deletes the outbox row if every kind is fresh. Run 30 times
    with both threads released together; the row must be gone after every trial.
    """
    kinds = sorted(sub.kind for sub in events.subscribers())
    assert len(kinds) >= 2
    racing, finished_earlier = kinds[:2], kinds[2:]
    trials, lingering = 30, 0
    for _ in range(trials):
        now = timezone.now()
        StaleProject.objects.update_or_create(
            project_id=project.pk,
            defaults={"marked_at": now - timedelta(seconds=1), "reasons": ["sprints.item.updated"]},
        )
        for kind in kinds:
            MetricRun.objects.update_or_create(
                project_id=project.pk,
                kind=kind,
                defaults={
                    "computed_at": now if kind in finished_earlier else now - timedelta(hours=1)
                },
            )
        barrier = threading.Barrier(len(racing))

        def finish(kind: str, barrier: threading.Barrier = barrier) -> None:
            barrier.wait(timeout=10)
            events.metric_computed(kind, project.pk, started_at=timezone.now())

        with ThreadPoolExecutor(max_workers=len(racing)) as pool:
            for future in [pool.submit(_in_thread(partial(finish, kind))) for kind in racing]:
                future.result(timeout=30)
        fresh = MetricRun.objects.filter(project_id=project.pk, computed_at__gte=now).count()
        assert fresh == len(kinds)
        lingering += StaleProject.objects.filter(project_id=project.pk).exists()
    assert lingering == 0, (
        f"every kind was fresh, yet the outbox row stayed in {lingering} of {trials} trials"
    )
