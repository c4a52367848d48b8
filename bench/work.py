"""The backlog-and-sprints benchmark workload (issue 3).

- WRK: 10 back-to-back 14-day sprints from 2026-01-05; 200 stories per sprint, story i with
  [1, 2, 3, 5, 8][i mod 5] points; 5 tasks per story, tasks 0 and 1 done on sprint start +
  ((i + j) mod 14) days, the rest to do. Sprints 1-9 closed, sprint 10 active.
- BKL: a backlog of 2,000 items (backlog page); BRD: an active sprint of 1,000 cards (board).
- BIG: 100,000 items with 1,000,000 history rows over 50 sprints (worker recompute).
Seeded once (kept in the tpm_bench database); reruns reuse it.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.test import Client

from bench.scenarios import bench_token
from projects.models import Membership, Project
from projects.services import project_create
from sprints.models import ItemEvent, Sprint, Status, WorkItem
from tpm.models import User

START = date(2026, 1, 5)
POINTS = [1, 2, 3, 5, 8]
UTC = UTC


def _owner() -> User:
    user, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    return user


def _project(key: str, name: str) -> Project:
    project = Project.objects.filter(key=key).first()
    if project is None:
        project = project_create(actor=_owner(), key=key, name=name, start_date=START)
    Membership.objects.get_or_create(project=project, user=_owner(), defaults={"role": "owner"})
    return project


def _rank(n: int) -> str:
    return f"{n:08x}h"


@transaction.atomic
def _seed_wrk() -> Project:
    project = _project("WRK", "Benchmark workload")
    if WorkItem.objects.filter(project=project).exists():
        return project
    statuses = {s.category: s for s in Status.objects.filter(project=project).order_by("-order")}
    todo = Status.objects.get(project=project, name="To Do")
    done = statuses["done"]
    sprints = Sprint.objects.bulk_create(
        [
            Sprint(
                project=project,
                name=f"Sprint {n + 1}",
                start_date=START + timedelta(days=14 * n),
                end_date=START + timedelta(days=14 * n + 13),
                state=Sprint.State.ACTIVE if n == 9 else Sprint.State.CLOSED,
            )
            for n in range(10)
        ]
    )
    items, plan = [], []
    number = 0
    for s, sprint in enumerate(sprints):
        for i in range(200):
            number += 1
            story_no = number
            items.append(
                WorkItem(
                    project=project,
                    number=number,
                    type="story",
                    title=f"Story {s}-{i}",
                    status=todo,
                    story_points=Decimal(POINTS[i % 5]),
                    sprint=sprint,
                    rank=_rank(number),
                )
            )
            for j in range(5):
                number += 1
                finished = j < 2
                items.append(
                    WorkItem(
                        project=project,
                        number=number,
                        type="task",
                        title=f"Task {s}-{i}-{j}",
                        status=done if finished else todo,
                        sprint=sprint,
                        rank=_rank(number),
                        remaining_hours=Decimal(4),
                    )
                )
                if finished:
                    plan.append((number, sprint, (i + j) % 14))
            del story_no
    WorkItem.objects.bulk_create(items, batch_size=2000)
    ids = dict(WorkItem.objects.filter(project=project).values_list("number", "pk"))
    events = []
    for item in items:
        created = datetime.combine(item.sprint.start_date, datetime.min.time(), tzinfo=UTC)
        pk = ids[item.number]
        events += [
            ItemEvent(
                project=project, item_id=pk, at=created, field="status", value="todo", label="To Do"
            ),
            ItemEvent(
                project=project,
                item_id=pk,
                at=created,
                field="points",
                value=str(item.story_points) if item.story_points is not None else None,
            ),
            ItemEvent(
                project=project,
                item_id=pk,
                at=created,
                field="hours",
                value=str(item.remaining_hours) if item.remaining_hours is not None else None,
            ),
            ItemEvent(
                project=project, item_id=pk, at=created, field="sprint", value=str(item.sprint.pk)
            ),
        ]
    for number, sprint, offset in plan:
        at = datetime.combine(
            sprint.start_date + timedelta(days=offset), datetime.min.time(), tzinfo=UTC
        )
        events.append(
            ItemEvent(
                project=project,
                item_id=ids[number],
                at=at + timedelta(hours=10),
                field="status",
                value="done",
                label=done.name,
            )
        )
    ItemEvent.objects.bulk_create(events, batch_size=5000)
    Project.objects.filter(pk=project.pk).update(next_item_number=number + 1)
    return project


@transaction.atomic
def _seed_flat(key: str, name: str, count: int, *, in_sprint: bool) -> Project:
    """A project with ``count`` items in its backlog, or all in one active sprint (the board)."""
    project = _project(key, name)
    if WorkItem.objects.filter(project=project).exists():
        return project
    statuses = list(Status.objects.filter(project=project).order_by("order"))
    sprint = None
    if in_sprint:
        sprint = Sprint.objects.create(
            project=project,
            name="Big sprint",
            start_date=date(2026, 11, 16),
            end_date=date(2026, 11, 27),
            state=Sprint.State.ACTIVE,
        )
    WorkItem.objects.bulk_create(
        [
            WorkItem(
                project=project,
                number=n + 1,
                type=["story", "task", "bug"][n % 3],
                title=f"Item {n + 1}",
                status=statuses[n % len(statuses)],
                story_points=Decimal(POINTS[n % 5]),
                sprint=sprint,
                rank=_rank(n + 1),
                blocked=n % 50 == 0,
                labels=["bench"] if n % 7 == 0 else [],
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    Project.objects.filter(pk=project.pk).update(next_item_number=count + 1)
    return project


def _seed_big() -> Project:
    """100,000 items and 1,000,000 history rows, written with set-based SQL."""
    project = _project("BIG", "Big history")
    if WorkItem.objects.filter(project=project).exists():
        return project
    todo = Status.objects.get(project=project, name="To Do")
    sprints = Sprint.objects.bulk_create(
        [
            Sprint(
                project=project,
                name=f"S{n + 1}",
                start_date=date(2025, 1, 6) + timedelta(days=14 * n),
                end_date=date(2025, 1, 6) + timedelta(days=14 * n + 13),
                state=Sprint.State.ACTIVE if n == 49 else Sprint.State.CLOSED,
                committed_points=Decimal(6000),
                completed_points=Decimal(5000),
                closed_at=None
                if n == 49
                else datetime.combine(
                    date(2025, 1, 6) + timedelta(days=14 * n + 13), datetime.max.time(), tzinfo=UTC
                ),
            )
            for n in range(50)
        ]
    )
    first_sprint = sprints[0].pk
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sprints_workitem (project_id, number, type, title, description, status_id,
                priority, story_points, remaining_hours, sprint_id, rank, labels, blocked,
                blocked_reason, acceptance_criteria, version, created_at, updated_at)
            SELECT %s, i, 'story', 'Item ' || i, '', %s, 'medium',
                   (ARRAY[1,2,3,5,8])[1 + i %% 5], 4, %s + (i - 1) %% 50,
                   lpad(to_hex(i), 8, '0') || 'h', '{}', false, '', '', 1, now(), now()
            FROM generate_series(1, 100000) AS i
            """,
            [project.pk, todo.pk, first_sprint],
        )
        cursor.execute(
            """
            INSERT INTO sprints_itemevent (project_id, item_id, at, field, value, label)
            SELECT %s, w.id, e.at, e.field, e.value, ''
            FROM sprints_workitem w
            JOIN sprints_sprint s ON s.id = w.sprint_id
            CROSS JOIN LATERAL (VALUES
                (s.start_date - 1 + time '09:00', 'status', 'todo'),
                (s.start_date - 1 + time '09:00', 'points', w.story_points::text),
                (s.start_date - 1 + time '09:00', 'hours', '8'),
                (s.start_date - 1 + time '09:00', 'sprint', NULL),
                (s.start_date - 1 + time '09:00', 'assignee', NULL),
                (s.start_date + time '09:00', 'sprint', s.id::text),
                (s.start_date + 1 + time '10:00', 'points', (w.story_points + 1)::text),
                (s.start_date + (w.number %% 10) + time '10:00', 'status', 'in_progress'),
                (s.start_date + (w.number %% 10) + time '11:00', 'hours', '4'),
                (s.start_date + (w.number %% 10) + 2 + time '15:00', 'status', 'done')
            ) AS e(at, field, value)
            WHERE w.project_id = %s
            """,
            [project.pk, project.pk],
        )
    Project.objects.filter(pk=project.pk).update(next_item_number=100001)
    return project


def prepare() -> tuple[str, list[dict]]:
    wrk = _seed_wrk()
    _seed_flat("BKL", "Backlog of 2,000", 2000, in_sprint=False)
    _seed_flat("BRD", "Board of 1,000", 1000, in_sprint=True)
    _seed_big()
    # Planner statistics, as autovacuum would have them on a live database; right after a
    # bulk load PostgreSQL has none, and the burndown loader's plan goes wrong without them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    sprint = Sprint.objects.get(project=wrk, name="Sprint 10")
    tasks = list(
        WorkItem.objects.filter(sprint=sprint, type="task", status__category="todo")
        .order_by("number")[:8]
        .values_list("number", flat=True)
    )
    one_task = (
        WorkItem.objects.filter(project=wrk, type="task")
        .order_by("number")
        .values_list("number", flat=True)[5]
    )
    specs = [
        {
            "name": "list 200 stories of a sprint",
            "method": "GET",
            "path": f"/api/v1/projects/WRK/items/?sprint={sprint.pk}&type=story&page_size=200",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "get one task",
            "method": "GET",
            "path": f"/api/v1/items/WRK-{one_task}/",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "PATCH task status with version",
            "method": "PATCH",
            "paths": [f"/api/v1/items/WRK-{n}/" for n in tasks],
            "versioned": True,
            "toggle": [{"status": "In Progress"}, {"status": "To Do"}],
            "floor": "floor: one UPDATE",
        },
        {
            "name": "sprint burndown",
            "method": "GET",
            "path": f"/api/v1/sprints/{sprint.pk}/burndown/",
            "floor": "floor: tiny JSON",
        },
    ]
    from sprints.tasks import burndown_recompute

    burndown_recompute(sprint.pk)
    return bench_token(), specs


def _time(client: Client, path: str, runs: int = 7) -> tuple[float, int, int]:
    client.get(path)  # warm caches and template loaders
    timings = []
    size = status = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        size, status = len(response.content), response.status_code
    return statistics.median(timings), size, status


def page_timings() -> list[str]:
    client = Client()
    client.force_login(_owner())
    lines = ["", "| page | server time (median of 7) | bytes | status |", "|---|---:|---:|---:|"]
    for label, path in (
        ("backlog, 2,000 items", "/projects/BKL/backlog/"),
        ("board, 1,000 cards", "/projects/BRD/board/"),
        ("backlog, WRK (1,200 items in the active sprint)", "/projects/WRK/backlog/"),
    ):
        ms, size, status = _time(client, path)
        lines.append(f"| {label} | {ms:.0f} ms | {size:,} | {status} |")
    return lines


def worker_timings() -> list[str]:
    from sprints.services.items import work_item_update
    from sprints.tasks import burndown_recompute, recompute_burndowns, recompute_flow

    big = Project.objects.get(key="BIG")
    events = ItemEvent.objects.filter(project=big).count()
    lines = [
        "",
        f"Worker, project BIG: {WorkItem.objects.filter(project=big).count():,} items, "
        f"{events:,} history rows.",
        "",
        "| recompute | time |",
        "|---|---:|",
    ]
    from sprints.models import BurndownDay

    BurndownDay.objects.filter(sprint__project=big).delete()  # force the closed sprints too
    started = time.perf_counter()
    recompute_burndowns.run(big.pk)
    burndowns = time.perf_counter() - started
    started = time.perf_counter()
    recompute_flow.run(big.pk)
    flow = time.perf_counter() - started
    lines.append(f"| all 50 burndowns (49 closed + 1 active) | {burndowns * 1000:.0f} ms |")
    lines.append(f"| velocity + cumulative flow (180 days) | {flow * 1000:.0f} ms |")
    lines.append(f"| full recompute (sum) | {(burndowns + flow) * 1000:.0f} ms |")
    active = Sprint.objects.get(project=big, state=Sprint.State.ACTIVE)
    item = WorkItem.objects.filter(sprint=active).select_related("project").first()
    work_item_update(actor=_owner(), item=item, story_points=Decimal(13))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        burndown_recompute(active.pk)
        timings.append((time.perf_counter() - started) * 1000)
    lines.append(
        f"| one sprint after one change (median of 5) | {statistics.median(timings):.0f} ms |"
    )
    return lines
