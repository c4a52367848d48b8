"""Pure sprint metrics: burndown/burnup, velocity and flow from item history. No Django.

Every function replays ``ItemEvent``s (one per change of a field) in time order, so figures
are computed from the history as it was on each day, never from today's state.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

TWO_PLACES = Decimal("0.01")
ZERO = Decimal("0")


class ItemEvent(NamedTuple):
    """One change in a work item's history. Creating an item emits one event per field with its
    initial value, all at the creation time. (A NamedTuple: a million of them load fast.)"""

    item_id: int
    at: datetime  # timezone-aware
    field: str  # "status" (category), "points", "hours", "sprint" (id or None), "deleted"
    value: object  # points/hours: Decimal or decimal string; sprint: id (int or digits) or None


@dataclass(frozen=True)
class BurndownInput:
    sprint_id: int
    start_date: date
    end_date: date  # inclusive
    timezone: str
    working_days: frozenset[int]  # 0=Monday … 6=Sunday
    committed_points: Decimal | None  # frozen at start; None while planned
    closed_at: datetime | None  # events after this instant are ignored
    today: date  # days after today (in the project zone) are not emitted
    events: tuple[ItemEvent, ...]


@dataclass(frozen=True)
class BurndownDay:
    date: date
    scope_points: Decimal
    remaining_points: Decimal
    completed_points: Decimal
    remaining_hours: Decimal
    ideal_points: Decimal | None


@dataclass(frozen=True)
class SprintFigures:
    sprint_id: int
    name: str
    end_date: date
    committed_points: Decimal
    completed_points: Decimal


@dataclass(frozen=True)
class Velocity:
    sprints: tuple[SprintFigures, ...]
    window: int
    mean: Decimal | None
    median: Decimal | None
    stdev: Decimal | None


@dataclass(frozen=True)
class FlowInput:
    start_date: date
    end_date: date  # inclusive
    timezone: str
    events: tuple[ItemEvent, ...]


@dataclass(frozen=True)
class FlowDay:
    date: date
    todo: int
    in_progress: int
    done: int


@dataclass(frozen=True)
class Flow:
    days: tuple[FlowDay, ...]
    cycle_time_days: dict[str, float | None]
    lead_time_days: dict[str, float | None]
    throughput: tuple[tuple[date, int], ...]
    items_done: int


def _q(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight after ``day`` in ``zone`` (DST-safe: built from the calendar date)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def _sorted(events: Iterable[ItemEvent]) -> list[ItemEvent]:
    return sorted(
        events, key=itemgetter(1)
    )  # by time; events may be plain (id, at, field, value) tuples


# --- burndown ------------------------------------------------------------------------------------


def _cents(value: object, cache: dict[object, int]) -> int:
    """Points or hours (Decimal, str or None) as whole hundredths, memoised: few values repeat."""
    if value is None:
        return 0
    found = cache.get(value)
    if found is None:
        found = cache[value] = int((Decimal(str(value)) * 100).to_integral_value(ROUND_HALF_UP))
    return found


def burndown_compute(inputs: BurndownInput) -> list[BurndownDay]:
    """Scope, remaining and completed points and remaining hours at the end of each sprint day.

    Rules: an item is in scope on a day when, replaying its events up to the end of that day
    (midnight in the project's zone; an event at midnight belongs to the new day) and never
    past ``closed_at``, its latest sprint is this one and it is not deleted. Remaining counts
    scope items whose status category is not done; completed is scope minus remaining; hours
    count only unfinished scope items. The ideal line falls from the committed points to 0
    over the sprint's working days (flat on non-working days); None before the sprint starts.
    Days run from the start to the end date, stopping at ``today`` unless the sprint is closed.
    One sweep over the events in time order keeps the totals incrementally, in hundredths.
    """
    zone = ZoneInfo(inputs.timezone)
    last_day = (
        inputs.end_date if inputs.closed_at is not None else min(inputs.end_date, inputs.today)
    )
    if last_day < inputs.start_date:
        return []
    events = _sorted(inputs.events)
    if inputs.closed_at is not None:
        events = [e for e in events if e[1] <= inputs.closed_at]
    sprint_id = inputs.sprint_id
    cache: dict[object, int] = {}
    # Per item: [in this sprint, deleted, done, points, hours] (points and hours in hundredths).
    states: dict[int, list] = {}  # type: ignore[type-arg]
    scope = remaining = hours = 0
    all_days = [
        inputs.start_date + timedelta(days=n)
        for n in range((inputs.end_date - inputs.start_date).days + 1)
    ]
    working_total = sum(1 for d in all_days if d.weekday() in inputs.working_days)
    worked = 0
    result = []
    index, count = 0, len(events)
    for day in all_days:
        if day > last_day:
            break
        boundary = _end_of(day, zone)
        while index < count and events[index][1] < boundary:
            item_id, _, field, value = events[index]
            index += 1
            state = states.get(item_id)
            if state is None:
                state = states[item_id] = [False, False, False, 0, 0]
            if state[0] and not state[1]:
                scope -= state[3]
                if not state[2]:
                    remaining -= state[3]
                    hours -= state[4]
            if field == "status":
                state[2] = value == "done"
            elif field == "points":
                state[3] = _cents(value, cache)
            elif field == "hours":
                state[4] = _cents(value, cache)
            elif field == "sprint":
                state[0] = value is not None and int(value) == sprint_id  # type: ignore[call-overload]
            elif field == "deleted":
                state[1] = True
            if state[0] and not state[1]:
                scope += state[3]
                if not state[2]:
                    remaining += state[3]
                    hours += state[4]
        if day.weekday() in inputs.working_days:
            worked += 1
        ideal = None
        if inputs.committed_points is not None:
            ideal = (
                inputs.committed_points
                if working_total == 0
                else inputs.committed_points * (working_total - worked) / working_total
            )
        result.append(
            BurndownDay(
                date=day,
                scope_points=_q(Decimal(scope) / 100),
                remaining_points=_q(Decimal(remaining) / 100),
                completed_points=_q(Decimal(scope - remaining) / 100),
                remaining_hours=_q(Decimal(hours) / 100),
                ideal_points=_q(ideal) if ideal is not None else None,
            )
        )
    return result


def burnup_series(days: Sequence[BurndownDay]) -> list[tuple[date, Decimal, Decimal]]:
    """Burnup: (date, scope, completed) per day, from the same rows as the burndown."""
    return [(d.date, d.scope_points, d.completed_points) for d in days]


# --- velocity ------------------------------------------------------------------------------------


def velocity_compute(closed: list[SprintFigures], window: int = 3) -> Velocity:
    """Committed/completed per closed sprint; mean, median and sample stdev of the last ``window``.

    Sprints are ordered by end date then id. The stdev needs two sprints (None otherwise).
    """
    ordered = tuple(sorted(closed, key=lambda s: (s.end_date, s.sprint_id)))
    recent = [s.completed_points for s in ordered[-window:]] if window > 0 else []
    mean = _q(sum(recent, ZERO) / len(recent)) if recent else None
    median = _q(Decimal(statistics.median(recent))) if recent else None
    stdev = _q(Decimal(statistics.stdev(recent))) if len(recent) >= 2 else None
    return Velocity(sprints=ordered, window=window, mean=mean, median=median, stdev=stdev)


# --- flow ----------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 2)


def flow_compute(inputs: FlowInput) -> Flow:
    """Cumulative flow per day, cycle and lead time percentiles and weekly throughput.

    Counts per category are taken at the end of each day (items that exist and are not
    deleted). Cycle time runs from the first entry into in_progress to the last entry into
    done; lead time from the item's first event to the last entry into done. Only items done
    at the end of the range whose last entry into done lies within the range count. Weekly
    throughput counts entries into done per ISO week (Monday dates), zero weeks included.
    """
    zone = ZoneInfo(inputs.timezone)
    events = _sorted(inputs.events)
    range_start = datetime.combine(inputs.start_date, time(0), tzinfo=zone)
    range_end = _end_of(inputs.end_date, zone)
    category: dict[int, str] = {}
    deleted: set[int] = set()
    counts = {"todo": 0, "in_progress": 0, "done": 0}
    created: dict[int, datetime] = {}
    first_progress: dict[int, datetime] = {}
    last_done: dict[int, datetime] = {}
    throughput: dict[date, int] = {}
    monday = inputs.start_date - timedelta(days=inputs.start_date.weekday())
    while monday <= inputs.end_date:
        throughput[monday] = 0
        monday += timedelta(days=7)

    def apply(event: ItemEvent) -> None:
        item, at, field, value = event
        if item not in created:
            created[item] = at
        if field == "deleted":
            if item not in deleted and item in category:
                counts[category[item]] -= 1
            deleted.add(item)
            return
        if field != "status" or item in deleted:
            return
        new = str(value)
        old = category.get(item)
        if old is not None:
            counts[old] -= 1
        counts[new] += 1
        category[item] = new
        if new == "in_progress" and item not in first_progress:
            first_progress[item] = at
        if new == "done" and old != "done":
            last_done[item] = at
            if range_start <= at < range_end:
                local = at.astimezone(zone).date()
                week = local - timedelta(days=local.weekday())
                throughput[week] = throughput.get(week, 0) + 1

    days = []
    index = 0
    day = inputs.start_date
    while day <= inputs.end_date:
        boundary = _end_of(day, zone)
        while index < len(events) and events[index][1] < boundary:
            apply(events[index])
            index += 1
        days.append(
            FlowDay(
                date=day,
                todo=counts["todo"],
                in_progress=counts["in_progress"],
                done=counts["done"],
            )
        )
        day += timedelta(days=1)
    while index < len(events) and events[index][1] < range_end:
        apply(events[index])
        index += 1

    cycle: list[float] = []
    lead: list[float] = []
    for item, finished in last_done.items():
        if (
            item in deleted
            or category.get(item) != "done"
            or not range_start <= finished < range_end
        ):
            continue
        lead.append((finished - created[item]).total_seconds() / 86400)
        if item in first_progress and first_progress[item] <= finished:
            cycle.append((finished - first_progress[item]).total_seconds() / 86400)
    quantiles = {"p50": 0.5, "p85": 0.85, "p95": 0.95}
    return Flow(
        days=tuple(days),
        cycle_time_days={name: percentile(cycle, q) for name, q in quantiles.items()},
        lead_time_days={name: percentile(lead, q) for name, q in quantiles.items()},
        throughput=tuple(sorted(throughput.items())),
        items_done=len(lead),
    )
