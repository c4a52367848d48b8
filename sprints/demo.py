"""Demo history for a project: closed sprints with realistic item history, an active sprint
and a backlog, so burndown, velocity and flow mean something on the first run.

History is written as it would have been recorded (backdated ItemEvents); the current item
state matches the last event of each field. Seeded, so every demo looks the same.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, When
from django.utils import timezone

from projects.models import Project
from sprints.models import ItemEvent, Sprint, Status, WorkItem
from tpm.models import User

POINTS = [1, 2, 3, 3, 5, 5, 8]
STORIES = [
    "Inventory {} dependencies",
    "Terraform module for {}",
    "Migrate {} data",
    "Load test {}",
    "Runbook for {}",
    "Monitoring and alerts for {}",
    "Decommission legacy {}",
    "Security review of {}",
    "Cut-over rehearsal for {}",
    "Cost report for {}",
    "Backup and restore drill for {}",
    "Access policies for {}",
]
AREAS = [
    "billing API",
    "invoice batch",
    "payment adapters",
    "reporting DB",
    "message queue",
    "VPC peering",
    "secrets store",
    "CI pipeline",
    "DNS",
    "object storage",
    "identity proxy",
    "log shipping",
]


def _rank(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(4):
        n, rem = divmod(n, 36)
        out = digits[rem] + out
    return out + "h"


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def _working_days(start: date, end: date, working: set[int]) -> list[date]:
    return [
        start + timedelta(d)
        for d in range((end - start).days + 1)
        if (start + timedelta(d)).weekday() in working
    ]


@transaction.atomic
def seed_project_history(
    *, project: Project, owner: User, people: list[User], closed_sprints: int = 4, seed: int = 7
) -> int:
    """Create sprints, items and their history for ``project`` unless it already has sprints."""
    if (
        Sprint.objects.filter(project=project).exists()
        or WorkItem.objects.filter(project=project).exists()
    ):
        return 0
    rng = random.Random(f"{seed}-{project.key}")  # the same history whatever the row ids
    zone = ZoneInfo(project.timezone)
    working = set(project.working_days)
    statuses = {s.name: s for s in Status.objects.filter(project=project)}
    todo, doing, review, done = (
        statuses["To Do"],
        statuses["In Progress"],
        statuses["In Review"],
        statuses["Done"],
    )
    today = timezone.now().astimezone(zone).date()
    active_start = (
        today - timedelta(days=today.weekday()) - timedelta(days=7 if today.weekday() < 2 else 0)
    )
    starts = [active_start - timedelta(days=14 * n) for n in range(closed_sprints, 0, -1)] + [
        active_start
    ]
    items: list[WorkItem] = []
    events: list[ItemEvent] = []
    state: dict[int, dict[str, object]] = {}
    number = 0

    def new_item(
        title: str, kind: str, points: int | None, created: datetime, parent: WorkItem | None = None
    ) -> WorkItem:
        nonlocal number
        number += 1
        item = WorkItem(
            project=project,
            number=number,
            title=title,
            type=kind,
            status=todo,
            story_points=Decimal(points) if points is not None else None,
            rank=_rank(number),
            reporter=owner,
            assignee=rng.choice(people) if kind != "epic" else None,
            parent=parent,
            labels=[rng.choice(["cloud", "data", "security", "ops"])],
        )
        item.created_at = created
        items.append(item)
        state[number] = {"created": created}
        return item

    epics = [
        new_item(name, "epic", None, _at(starts[0] - timedelta(days=7), 10, zone))
        for name in ("Network", "Data migration", "Cut-over")
    ]
    WorkItem.objects.bulk_create(items)  # epics first: stories point at them
    items.clear()
    stories: list[WorkItem] = []
    for n in range(70):
        title = STORIES[n % len(STORIES)].format(AREAS[(n * 5) % len(AREAS)])
        created = _at(starts[0] - timedelta(days=6 - n % 5), 11, zone) + timedelta(hours=n % 4)
        stories.append(
            new_item(
                title,
                rng.choice(["story", "story", "story", "task", "bug", "tech_debt"]),
                rng.choice(POINTS),
                created,
                parent=rng.choice(epics),
            )
        )
    WorkItem.objects.bulk_create(items)
    created_items = {i.number: i for i in WorkItem.objects.filter(project=project)}
    for item in created_items.values():
        at = state[item.number]["created"]
        events += [
            ItemEvent(
                project=project,
                item_id=item.pk,
                at=at,
                field="status",
                value="todo",
                label="To Do",
                actor=owner,
            ),
            ItemEvent(
                project=project,
                item_id=item.pk,
                at=at,
                field="points",
                value=str(item.story_points) if item.story_points is not None else None,
                actor=owner,
            ),
            ItemEvent(
                project=project, item_id=item.pk, at=at, field="sprint", value=None, actor=owner
            ),
            ItemEvent(
                project=project,
                item_id=item.pk,
                at=at,
                field="assignee",
                value=str(item.assignee_id) if item.assignee_id else None,
                label=item.assignee.username if item.assignee else "",
                actor=owner,
            ),
        ]
    pool = [created_items[s.number] for s in stories]
    carry: list[WorkItem] = []
    final: dict[int, tuple[Status, int | None, datetime | None]] = {}
    for index, start in enumerate(starts):
        end = start + timedelta(days=11)
        is_active = index == len(starts) - 1
        sprint = Sprint.objects.create(
            project=project,
            name=f"Sprint {index + 1}",
            start_date=start,
            end_date=end,
            goal=rng.choice(
                [
                    "Network ready for staging",
                    "First data sync",
                    "Payments on the new stack",
                    "Rehearse the cut-over",
                    "Harden monitoring",
                ]
            ),
            state=Sprint.State.ACTIVE if is_active else Sprint.State.CLOSED,
            capacity_hours=Decimal("280.0"),
        )
        started_at = _at(start, 9, zone)
        scope = list(carry)
        budget = 30 + rng.randint(-4, 6)
        while pool and sum(int(i.story_points or 0) for i in scope) < budget:
            scope.append(pool.pop(0))
        for item in scope:
            events.append(
                ItemEvent(
                    project=project,
                    item_id=item.pk,
                    at=started_at,
                    field="sprint",
                    value=str(sprint.pk),
                    label=sprint.name,
                    actor=owner,
                )
            )
        committed = sum((i.story_points or 0 for i in scope), Decimal("0"))
        # Scope creep: one item joins mid-sprint.
        if pool and not is_active:
            late = pool.pop(0)
            events.append(
                ItemEvent(
                    project=project,
                    item_id=late.pk,
                    at=_at(start + timedelta(days=3), 14, zone),
                    field="sprint",
                    value=str(sprint.pk),
                    label=sprint.name,
                    actor=owner,
                )
            )
            scope.append(late)
        days = _working_days(start, end, working)
        last_day = days[-1] if not is_active else min(today, end)
        unfinished: list[WorkItem] = []
        # An active sprint's work starts on the days already behind us, so its burndown has
        # progress to show on the first run.
        elapsed = [d for d in days if d < today] if is_active else days
        starts_in = elapsed[: max(1, len(elapsed) * 3 // 5)] or days[:1]
        for item in scope:
            begin = rng.choice(starts_in)
            finish_offset = rng.randint(1, 4)
            finish_day_index = days.index(begin) + finish_offset if begin in days else len(days)
            finishes = finish_day_index < len(days) and rng.random() < 0.88
            if begin <= last_day:
                events.append(
                    ItemEvent(
                        project=project,
                        item_id=item.pk,
                        at=_at(begin, 10, zone),
                        field="status",
                        value="in_progress",
                        label=doing.name,
                        actor=item.assignee,
                    )
                )
                final[item.pk] = (doing, sprint.pk, None)
            else:
                final[item.pk] = (todo, sprint.pk, None)
            if (
                finishes
                and days[finish_day_index] <= last_day
                and (not is_active or days[finish_day_index] < today)
            ):
                review_at = _at(days[finish_day_index], 11, zone)
                done_at = _at(days[finish_day_index], 16, zone)
                events += [
                    ItemEvent(
                        project=project,
                        item_id=item.pk,
                        at=review_at,
                        field="status",
                        value="in_progress",
                        label=review.name,
                        actor=item.assignee,
                    ),
                    ItemEvent(
                        project=project,
                        item_id=item.pk,
                        at=done_at,
                        field="status",
                        value="done",
                        label=done.name,
                        actor=item.assignee,
                    ),
                ]
                final[item.pk] = (done, sprint.pk, done_at)
            else:
                unfinished.append(item)
        if is_active:
            sprint.started_at = started_at
            sprint.committed_points = committed
            sprint.save(update_fields=["started_at", "committed_points"])
            break
        closed_at = _at(end, 17, zone)
        completed = sum(
            (i.story_points or 0 for i in scope if final[i.pk][0].pk == done.pk), Decimal("0")
        )
        Sprint.objects.filter(pk=sprint.pk).update(
            started_at=started_at,
            closed_at=closed_at,
            committed_points=committed,
            completed_points=completed,
        )
        carry = unfinished
        for item in unfinished:
            events.append(
                ItemEvent(
                    project=project,
                    item_id=item.pk,
                    at=closed_at + timedelta(microseconds=1),
                    field="sprint",
                    value=None,
                    actor=owner,
                )
            )
            final[item.pk] = (final[item.pk][0], None, None)
    ItemEvent.objects.bulk_create(events, batch_size=2000)
    rows = list(WorkItem.objects.filter(pk__in=final))
    for row in rows:
        row.status, row.sprint_id, row.resolved_at = final[row.pk]
    WorkItem.objects.bulk_update(rows, ["status", "sprint", "resolved_at"], batch_size=500)
    # One unfinished item of the active sprint is blocked (preferably one in progress), so the
    # board and the risk register have a blocked item to show.
    blocked = (
        WorkItem.objects.filter(project=project, sprint__state=Sprint.State.ACTIVE)
        .exclude(status__category="done")
        .order_by(Case(When(status__category="in_progress", then=0), default=1), "number")
        .first()
    )
    if blocked is not None:
        WorkItem.objects.filter(pk=blocked.pk).update(
            blocked=True, blocked_reason="Waiting for the vendor's API rate limits"
        )
    Project.objects.filter(pk=project.pk).update(next_item_number=number + 1)
    return number
