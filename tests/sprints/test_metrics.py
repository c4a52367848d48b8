"""Pure sprint metrics on hand-computed plain data: burndown/burnup, velocity, flow, percentile.

No database: inputs are ``ItemEvent`` tuples (item_id, at, field, value) as the loaders hand
them over, so values come as strings (points "3", sprint ids "7") unless a test says otherwise.
Every expected figure is worked out by hand in the comments next to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sprints.metrics import (
    BurndownDay,
    BurndownInput,
    FlowDay,
    FlowInput,
    ItemEvent,
    SprintFigures,
    burndown_compute,
    burnup_series,
    flow_compute,
    percentile,
    velocity_compute,
)

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
SPRINT = 7
OTHER_SPRINT = 8
MON_FRI = frozenset({0, 1, 2, 3, 4})
EIGHT = D("8")


def at(day: int, hour: int = 12, minute: int = 0, *, month: int = 3, tz=UTC) -> datetime:
    """A moment in 2026 (March unless told), UTC unless told."""
    return datetime(2026, month, day, hour, minute, tzinfo=tz)


def created(
    item: int,
    when: datetime,
    *,
    points: object = None,
    hours: object = None,
    sprint: object = str(SPRINT),
    status: str = "todo",
) -> list[ItemEvent]:
    """The events ``work_item_create`` records: one per tracked field, all at creation time."""
    return [
        ItemEvent(item, when, "status", status),
        ItemEvent(item, when, "points", points),
        ItemEvent(item, when, "hours", hours),
        ItemEvent(item, when, "sprint", sprint),
    ]


def burndown(
    events: list[ItemEvent],
    *,
    start: date = date(2026, 3, 2),  # a Monday
    end: date = date(2026, 3, 6),  # the Friday after
    timezone: str = "UTC",
    working_days: frozenset[int] = MON_FRI,
    committed: Decimal | None = EIGHT,
    closed_at: datetime | None = None,
    today: date = date(2026, 12, 31),
) -> list[BurndownDay]:
    return burndown_compute(
        BurndownInput(
            sprint_id=SPRINT,
            start_date=start,
            end_date=end,
            timezone=timezone,
            working_days=working_days,
            committed_points=committed,
            closed_at=closed_at,
            today=today,
            events=tuple(events),
        )
    )


def rows(days: list[BurndownDay]) -> list[tuple]:
    """(day of month, scope, remaining, completed, remaining hours, ideal) per day."""
    return [
        (
            d.date.day,
            d.scope_points,
            d.remaining_points,
            d.completed_points,
            d.remaining_hours,
            d.ideal_points,
        )
        for d in days
    ]


def points(days: list[BurndownDay]) -> list[tuple]:
    """(day of month, scope, remaining, completed) per day."""
    return [(d.date.day, d.scope_points, d.remaining_points, d.completed_points) for d in days]


# --- burndown: scope changes ----------------------------------------------------------------------


def test_burndown_counts_scope_added_mid_sprint_from_the_day_it_was_added():
    events = [
        # Committed before the sprint: 3 + 5 = 8 points, 5 + 10 = 15 hours.
        *created(1, at(27, 10, month=2), points="3", hours="5"),
        *created(2, at(27, 10, month=2), points="5", hours="10"),
        # Added on Tuesday: 2 points, 4 hours.
        *created(3, at(3, 14), points="2", hours="4"),
        # Created in the backlog on Monday, pulled into the sprint on Wednesday (no hours).
        *created(4, at(2, 9), points="5", sprint=None),
        ItemEvent(4, at(4, 11), "sprint", str(SPRINT)),
        # Item 1 done on Thursday: its 3 points complete and its 5 hours no longer remain.
        ItemEvent(1, at(5, 15), "status", "done"),
    ]
    # Ideal: 8 committed over 5 working days, at the end of each day 8 * (5 - worked) / 5.
    assert rows(burndown(events)) == [
        (2, 8, 8, 0, 15, D("6.4")),  # items 1, 2
        (3, 10, 10, 0, 19, D("4.8")),  # + item 3 (2 points, 4 h)
        (4, 15, 15, 0, 19, D("3.2")),  # + item 4 (5 points, no hours)
        (5, 15, 12, 3, 14, D("1.6")),  # item 1 done: 15 - 3 remain; hours 10 + 4
        (6, 15, 12, 3, 14, 0),
    ]


def test_burndown_drops_scope_removed_or_deleted_mid_sprint():
    events = [
        *created(1, at(27, 10, month=2), points="3", hours="2"),
        *created(2, at(27, 10, month=2), points="5", hours="6"),
        *created(3, at(27, 10, month=2), points="2", hours="1"),
        # Another sprint's item never counts here.
        *created(9, at(27, 10, month=2), points="13", hours="40", sprint=str(OTHER_SPRINT)),
        ItemEvent(2, at(3, 9), "sprint", None),  # back to the backlog on Tuesday
        ItemEvent(3, at(4, 9), "status", "done"),  # item 3 done on Wednesday ...
        ItemEvent(3, at(5, 9), "deleted", "1"),  # ... and deleted on Thursday
        ItemEvent(1, at(6, 9), "deleted", "1"),  # item 1 deleted unfinished on Friday
    ]
    assert rows(burndown(events, committed=D("10"))) == [
        (2, 10, 10, 0, 9, 8),  # 3 + 5 + 2 points, 2 + 6 + 1 hours; ideal 10 * 4/5
        (3, 5, 5, 0, 3, 6),  # item 2 (5 points, 6 h) removed
        (4, 5, 3, 2, 2, 4),  # item 3 done: its 2 points complete, its hour goes
        (5, 3, 3, 0, 2, 2),  # item 3 deleted: neither scope nor completed any more
        (6, 0, 0, 0, 0, 0),  # item 1 deleted
    ]


def test_burndown_counts_a_reopened_item_as_remaining_again():
    events = [
        *created(1, at(27, 10, month=2), points="5", hours="8"),
        *created(2, at(27, 10, month=2), points="3", hours="3"),
        ItemEvent(1, at(2, 16), "status", "in_progress"),
        ItemEvent(1, at(3, 10), "status", "done"),  # done on Tuesday
        ItemEvent(1, at(3, 10), "hours", "0"),
        ItemEvent(1, at(5, 9), "status", "in_progress"),  # reopened on Thursday
        ItemEvent(1, at(5, 9), "hours", "2.5"),
    ]
    assert rows(burndown(events)) == [
        (2, 8, 8, 0, 11, D("6.4")),  # in progress still remains; 8 + 3 hours
        (3, 8, 3, 5, 3, D("4.8")),  # item 1 done
        (4, 8, 3, 5, 3, D("3.2")),
        (5, 8, 8, 0, D("5.5"), D("1.6")),  # reopened: its 5 points and 2.5 h are back
        (6, 8, 8, 0, D("5.5"), 0),
    ]


def test_burndown_counts_an_item_only_while_it_is_in_the_sprint():
    events = [
        *created(1, at(27, 10, month=2), points="3"),
        *created(2, at(27, 10, month=2), points="5", sprint=None),  # in the backlog
        ItemEvent(2, at(2, 15), "points", "8"),  # re-estimated outside: not our scope
        ItemEvent(2, at(3, 10), "sprint", str(SPRINT)),  # moved in on Tuesday (8 points)
        ItemEvent(2, at(4, 10), "status", "done"),  # done on Wednesday
        ItemEvent(2, at(5, 10), "sprint", str(OTHER_SPRINT)),  # moved on to another sprint
        ItemEvent(2, at(5, 11), "points", "1"),  # re-estimated there: not our scope either
    ]
    assert points(burndown(events)) == [
        (2, 3, 3, 0),
        (3, 11, 11, 0),  # 3 + 8
        (4, 11, 3, 8),  # item 2 done
        (5, 3, 3, 0),  # item 2 left, taking its completed points with it
        (6, 3, 3, 0),
    ]


def test_burndown_follows_re_estimates_of_open_and_done_items():
    events = [
        *created(1, at(27, 10, month=2), points="3"),
        *created(2, at(27, 10, month=2), points="2"),
        ItemEvent(1, at(3, 10), "points", "8"),  # open item re-estimated 3 -> 8
        ItemEvent(2, at(4, 10), "status", "done"),
        ItemEvent(2, at(5, 10), "points", "0.5"),  # done item re-estimated 2 -> 0.5
        ItemEvent(1, at(6, 10), "points", None),  # estimate cleared: counts as 0
    ]
    assert points(burndown(events)) == [
        (2, 5, 5, 0),
        (3, 10, 10, 0),  # 8 + 2
        (4, 10, 8, 2),
        (5, D("8.5"), 8, D("0.5")),
        (6, D("0.5"), 0, D("0.5")),
    ]


def test_burndown_accepts_decimals_strings_and_int_sprint_ids_in_any_order():
    events = [
        *created(1, at(27, 10, month=2), points=D("2.5"), hours=D("1.25"), sprint=SPRINT),
        *created(2, at(27, 10, month=2), points="1.5", hours="0.75", sprint=str(SPRINT)),
        ItemEvent(2, at(4, 10), "status", "done"),
    ]
    plain_tuples = [tuple(event) for event in reversed(events)]  # unsorted plain tuples
    expected = [
        (2, 4, 4, 0, 2, D("6.4")),  # 2.5 + 1.5 points, 1.25 + 0.75 hours
        (3, 4, 4, 0, 2, D("4.8")),
        (4, 4, D("2.5"), D("1.5"), D("1.25"), D("3.2")),
        (5, 4, D("2.5"), D("1.5"), D("1.25"), D("1.6")),
        (6, 4, D("2.5"), D("1.5"), D("1.25"), 0),
    ]
    assert rows(burndown(events)) == expected
    assert rows(burndown(plain_tuples)) == expected


# --- burndown: the day boundary in the project's zone ---------------------------------------------


def _boundary_events() -> list[ItemEvent]:
    return [
        *created(1, at(27, 10, month=2), points="3"),
        *created(2, at(27, 10, month=2), points="5"),
        *created(3, at(27, 10, month=2), points="2"),
        # 23:30 UTC on Monday is 00:30 on Tuesday in Berlin (UTC+1 in March before DST).
        ItemEvent(1, at(2, 23, 30), "status", "done"),
        # 22:59:59 UTC on Tuesday is 23:59:59 on Tuesday in Berlin.
        ItemEvent(2, datetime(2026, 3, 3, 22, 59, 59, tzinfo=UTC), "status", "done"),
        # 23:00 UTC on Tuesday is exactly midnight in Berlin: it belongs to Wednesday there.
        ItemEvent(3, at(3, 23, 0), "status", "done"),
    ]


def test_burndown_days_end_at_midnight_utc_for_a_utc_project():
    days = burndown(_boundary_events(), end=date(2026, 3, 4), committed=D("10"))
    assert points(days) == [
        (2, 10, 7, 3),  # item 1 at 23:30 Monday
        (3, 10, 0, 10),  # items 2 and 3 both on Tuesday in UTC
        (4, 10, 0, 10),
    ]


def test_burndown_days_end_at_midnight_in_the_projects_zone():
    days = burndown(
        _boundary_events(), end=date(2026, 3, 4), committed=D("10"), timezone="Europe/Berlin"
    )
    assert points(days) == [
        (2, 10, 10, 0),  # nothing done on Monday in Berlin
        (3, 10, 2, 8),  # item 1 at 00:30 and item 2 at 23:59:59 on Tuesday
        (4, 10, 0, 10),  # item 3 at midnight starts Wednesday
    ]


def test_burndown_day_boundary_follows_daylight_saving_time():
    # Berlin switches to CEST (UTC+2) on Sunday 29 March 2026: Monday 30 March starts at
    # 22:00 UTC on the 29th, not 23:00. A fixed UTC+1 offset would get both events wrong.
    events = [
        *created(1, at(20, 10), points="3"),
        *created(2, at(20, 10), points="5"),
        ItemEvent(1, at(29, 21, 59), "status", "done"),  # 23:59 CEST Sunday
        ItemEvent(2, at(29, 22, 30), "status", "done"),  # 00:30 CEST Monday
    ]
    days = burndown(
        events,
        start=date(2026, 3, 27),  # Friday
        end=date(2026, 3, 31),  # Tuesday
        timezone="Europe/Berlin",
    )
    # Working days Fri, Mon, Tue: ideal 8 * 2/3, flat over the weekend, then 8 * 1/3 and 0.
    assert rows(days) == [
        (27, 8, 8, 0, 0, D("5.33")),
        (28, 8, 8, 0, 0, D("5.33")),
        (29, 8, 5, 3, 0, D("5.33")),  # item 1 on Sunday
        (30, 8, 0, 8, 0, D("2.67")),  # item 2 on Monday
        (31, 8, 0, 8, 0, 0),
    ]


# --- burndown: the ideal line and working days ----------------------------------------------------


def test_burndown_ideal_line_is_flat_on_weekends_and_reaches_zero_on_the_last_working_day():
    events = created(1, at(27, 10, month=2), points="20")
    days = burndown(events, end=date(2026, 3, 13), committed=D("20"))
    # 10 working days: the line falls 20/10 = 2 per working day and stays put on Sat/Sun.
    assert [(d.date.day, d.ideal_points) for d in days] == [
        (2, 18),
        (3, 16),
        (4, 14),
        (5, 12),
        (6, 10),
        (7, 10),  # Saturday
        (8, 10),  # Sunday
        (9, 8),
        (10, 6),
        (11, 4),
        (12, 2),
        (13, 0),
    ]


def test_burndown_ideal_line_uses_the_projects_own_working_days():
    # A Sunday-to-Thursday team; the sprint runs Thursday 5 to Wednesday 11 March:
    # working days Thu 5, Sun 8, Mon 9, Tue 10, Wed 11 (5 of them), Fri/Sat off.
    days = burndown(
        [],
        start=date(2026, 3, 5),
        end=date(2026, 3, 11),
        working_days=frozenset({6, 0, 1, 2, 3}),
        committed=D("10"),
    )
    assert [(d.date.day, d.ideal_points) for d in days] == [
        (5, 8),  # 10 * 4/5
        (6, 8),  # Friday off
        (7, 8),  # Saturday off
        (8, 6),
        (9, 4),
        (10, 2),
        (11, 0),
    ]
    assert {(d.scope_points, d.remaining_points, d.remaining_hours) for d in days} == {(0, 0, 0)}


def test_burndown_without_committed_points_has_no_ideal_line():
    days = burndown(created(1, at(27, 10, month=2), points="3"), committed=None)
    assert [d.ideal_points for d in days] == [None] * 5
    assert [d.scope_points for d in days] == [3] * 5


def test_burndown_of_a_sprint_without_working_days_keeps_the_ideal_at_committed():
    # Saturday and Sunday only: no working day to burn down over.
    days = burndown([], start=date(2026, 3, 7), end=date(2026, 3, 8), committed=D("5"))
    assert [(d.date.day, d.ideal_points) for d in days] == [(7, 5), (8, 5)]


def test_burndown_ideal_line_rounds_to_hundredths():
    # 10 points over 3 working days (Mon-Wed): 6.666... -> 6.67, 3.333... -> 3.33, 0.
    days = burndown([], end=date(2026, 3, 4), committed=D("10"))
    assert [d.ideal_points for d in days] == [D("6.67"), D("3.33"), 0]


# --- burndown: which days are emitted -------------------------------------------------------------


def test_burndown_of_an_active_sprint_stops_at_today():
    events = [
        *created(1, at(27, 10, month=2), points="3"),
        ItemEvent(1, at(5, 9), "status", "done"),
    ]
    days = burndown(events, today=date(2026, 3, 4))
    assert points(days) == [(2, 3, 3, 0), (3, 3, 3, 0), (4, 3, 3, 0)]


def test_burndown_of_a_sprint_that_has_not_started_is_empty():
    assert burndown(created(1, at(27, 10, month=2), points="3"), today=date(2026, 3, 1)) == []


def test_burndown_of_a_closed_sprint_ignores_everything_after_the_close():
    closed_at = datetime(2026, 3, 5, 17, 0, 0, tzinfo=UTC)
    events = [
        *created(1, at(27, 10, month=2), points="3", hours="4"),
        *created(2, at(27, 10, month=2), points="5", hours="6"),
        ItemEvent(1, at(4, 10), "status", "done"),
        # The close moves unfinished item 2 out a microsecond after closing: it stays in scope.
        ItemEvent(2, closed_at + timedelta(microseconds=1), "sprint", None),
        # Later changes must not rewrite the closed sprint's figures.
        ItemEvent(1, at(5, 18), "status", "in_progress"),  # reopened after the close
        ItemEvent(1, at(5, 18), "points", "13"),  # re-estimated after the close
        ItemEvent(3, at(5, 19), "sprint", str(SPRINT)),  # hypothetical late addition
        ItemEvent(3, at(5, 19), "points", "8"),
    ]
    # Closed on Thursday, "today" long before the end: a closed sprint still runs to its end
    # date, and its last days show the state at the close.
    days = burndown(events, closed_at=closed_at, today=date(2026, 3, 3))
    assert rows(days) == [
        (2, 8, 8, 0, 10, D("6.4")),
        (3, 8, 8, 0, 10, D("4.8")),
        (4, 8, 5, 3, 6, D("3.2")),
        (5, 8, 5, 3, 6, D("1.6")),
        (6, 8, 5, 3, 6, 0),
    ]


def test_burndown_counts_an_event_at_the_exact_close_instant():
    closed_at = at(4, 17)
    events = [
        *created(1, at(27, 10, month=2), points="3"),
        ItemEvent(1, closed_at, "status", "done"),  # at the close itself: still counts
    ]
    days = burndown(events, end=date(2026, 3, 4), closed_at=closed_at)
    assert points(days) == [(2, 3, 3, 0), (3, 3, 3, 0), (4, 3, 0, 3)]


def test_burndown_remaining_hours_count_only_unfinished_items_in_scope():
    events = [
        *created(1, at(27, 10, month=2), points="1", hours="2.25"),
        *created(2, at(27, 10, month=2), points="1", hours="4"),
        *created(3, at(27, 10, month=2), points="1"),  # no estimate: 0 hours
        *created(4, at(27, 10, month=2), hours="100", sprint=None),  # backlog: not counted
        ItemEvent(2, at(3, 10), "hours", "1.5"),  # burnt 2.5 h on Tuesday
        ItemEvent(1, at(4, 10), "status", "done"),  # done items stop counting (2.25 h kept)
        ItemEvent(3, at(5, 10), "hours", "3"),  # estimated on Thursday
        ItemEvent(4, at(6, 10), "sprint", str(SPRINT)),  # 100 h arrive on Friday
    ]
    assert [(d.date.day, d.remaining_hours) for d in burndown(events, committed=None)] == [
        (2, D("6.25")),  # 2.25 + 4 + 0
        (3, D("3.75")),  # 2.25 + 1.5
        (4, D("1.5")),  # item 1 done
        (5, D("4.5")),  # 1.5 + 3
        (6, D("104.5")),
    ]


def test_burnup_series_has_scope_and_completed_per_day():
    events = [
        *created(1, at(27, 10, month=2), points="3"),
        *created(2, at(27, 10, month=2), points="5"),
        ItemEvent(1, at(3, 10), "status", "done"),
        *created(3, at(4, 10), points="2"),  # scope creep on Wednesday
        ItemEvent(3, at(5, 10), "status", "done"),
    ]
    assert burnup_series(burndown(events)) == [
        (date(2026, 3, 2), 8, 0),
        (date(2026, 3, 3), 8, 3),
        (date(2026, 3, 4), 10, 3),
        (date(2026, 3, 5), 10, 5),
        (date(2026, 3, 6), 10, 5),
    ]


def test_burnup_of_no_days_is_empty():
    assert burnup_series([]) == []


# --- velocity -------------------------------------------------------------------------------------


def sprint(sprint_id: int, end_day: int, completed: str, committed: str = "20") -> SprintFigures:
    return SprintFigures(
        sprint_id=sprint_id,
        name=f"Sprint {sprint_id}",
        end_date=date(2026, 1, 1) + timedelta(days=end_day),
        committed_points=D(committed),
        completed_points=D(completed),
    )


FIVE_SPRINTS = [  # given out of order; by end date the completed points read 10 20 12 18 30
    sprint(5, 70, "30"),
    sprint(1, 14, "10"),
    sprint(3, 42, "12"),
    sprint(2, 28, "20"),
    sprint(4, 56, "18"),
]


def test_velocity_of_the_last_three_closed_sprints():
    velocity = velocity_compute(FIVE_SPRINTS)
    # Last three by end date: 12, 18, 30.
    # mean 60/3 = 20; median 18; sample stdev sqrt(((12-20)^2 + (18-20)^2 + (30-20)^2) / 2)
    # = sqrt((64 + 4 + 100) / 2) = sqrt(84) = 9.165... -> 9.17.
    assert (velocity.window, velocity.mean, velocity.median, velocity.stdev) == (
        3,
        D("20.00"),
        D("18.00"),
        D("9.17"),
    )
    assert [s.sprint_id for s in velocity.sprints] == [1, 2, 3, 4, 5]  # all, oldest first


def test_velocity_window_is_configurable():
    five = velocity_compute(FIVE_SPRINTS, window=5)
    # 10 20 12 18 30: mean 90/5 = 18; median of 10 12 18 20 30 = 18; sample stdev
    # sqrt((64 + 4 + 36 + 0 + 144) / 4) = sqrt(62) = 7.874... -> 7.87.
    assert (five.mean, five.median, five.stdev) == (D("18.00"), D("18.00"), D("7.87"))
    two = velocity_compute(FIVE_SPRINTS, window=2)
    # 18 30: mean 24; median (18 + 30)/2 = 24; stdev sqrt((36 + 36) / 1) = 8.485... -> 8.49.
    assert (two.window, two.mean, two.median, two.stdev) == (2, D("24"), D("24"), D("8.49"))


def test_velocity_window_larger_than_history_uses_every_sprint():
    velocity = velocity_compute(FIVE_SPRINTS[:2], window=3)  # 30 and 10 only
    # mean 20; median 20; stdev sqrt((100 + 100) / 1) = 14.142... -> 14.14.
    assert (velocity.mean, velocity.median, velocity.stdev) == (D("20"), D("20"), D("14.14"))


def test_velocity_with_one_closed_sprint_has_no_stdev():
    velocity = velocity_compute([sprint(1, 14, "7.5")])
    assert (velocity.mean, velocity.median, velocity.stdev) == (D("7.50"), D("7.50"), None)


def test_velocity_without_closed_sprints_is_empty():
    velocity = velocity_compute([])
    assert (velocity.sprints, velocity.mean, velocity.median, velocity.stdev) == (
        (),
        None,
        None,
        None,
    )


def test_velocity_with_a_zero_window_has_no_statistics():
    velocity = velocity_compute(FIVE_SPRINTS, window=0)
    assert (velocity.mean, velocity.median, velocity.stdev) == (None, None, None)
    assert len(velocity.sprints) == 5


def test_velocity_orders_sprints_ending_the_same_day_by_id():
    # Same end date: id 9 is newer than id 4, so the window of 1 holds sprint 9 (5 points).
    velocity = velocity_compute([sprint(9, 14, "5"), sprint(4, 14, "11")], window=1)
    assert [s.sprint_id for s in velocity.sprints] == [4, 9]
    assert (velocity.mean, velocity.median, velocity.stdev) == (D("5"), D("5"), None)


def test_velocity_rounds_to_hundredths():
    velocity = velocity_compute([sprint(1, 14, "1"), sprint(2, 28, "2"), sprint(3, 42, "2")])
    # mean 5/3 = 1.666... -> 1.67; median 2; stdev sqrt(((1-5/3)^2 + 2 (2-5/3)^2) / 2)
    # = sqrt((4/9 + 2/9) / 2) = sqrt(1/3) = 0.577... -> 0.58.
    assert (velocity.mean, velocity.median, velocity.stdev) == (D("1.67"), D("2"), D("0.58"))


# --- percentile -----------------------------------------------------------------------------------


def test_percentile_of_no_samples_is_none():
    assert percentile([], 0.5) is None


def test_percentile_of_one_sample_is_that_sample():
    assert [percentile([4.2], q) for q in (0, 0.5, 0.85, 1)] == [4.2, 4.2, 4.2, 4.2]


def test_percentile_interpolates_linearly_between_closest_ranks():
    samples = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    # Position (n - 1) q over 1 2 3 4: q=0.5 -> 1.5 -> 2 + 0.5 = 2.5;
    # q=0.85 -> 2.55 -> 3 + 0.55 = 3.55; q=0.95 -> 2.85 -> 3.85.
    assert percentile(samples, 0.5) == 2.5
    assert percentile(samples, 0.85) == 3.55
    assert percentile(samples, 0.95) == 3.85


def test_percentile_extremes_are_min_and_max():
    assert percentile([7.0, 2.0, 9.5], 0) == 2.0
    assert percentile([7.0, 2.0, 9.5], 1) == 9.5


def test_percentile_on_an_exact_rank_and_with_ties():
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0  # position 1 exactly
    assert percentile([5.0, 5.0, 5.0, 8.0], 0.5) == 5.0  # position 1.5 between two 5s


def test_percentile_rounds_to_two_places():
    # Position 1/3 between 1 and 2: 1.333... -> 1.33.
    assert percentile([1.0, 2.0], 1 / 3) == 1.33


# --- flow -----------------------------------------------------------------------------------------


def status(item: int, when: datetime, category: str) -> ItemEvent:
    return ItemEvent(item, when, "status", category)


FLOW_EVENTS = [
    # Item 7 finished before the range: counted as done every day, never in the times.
    status(7, at(20, 9, month=2), "todo"),
    status(7, at(22, 9, month=2), "in_progress"),
    status(7, at(25, 9, month=2), "done"),
    # Item 1: created Mon 2 09:00, started Tue 3 09:00, done Thu 5 09:00.
    status(1, at(2, 9), "todo"),
    status(1, at(3, 9), "in_progress"),
    status(1, at(5, 9), "done"),
    # Item 2: created Mon 2 09:00, started Wed 4 09:00, done Wed 4 21:00.
    status(2, at(2, 9), "todo"),
    status(2, at(4, 9), "in_progress"),
    status(2, at(4, 21), "done"),
    # Item 3: created Tue 3 09:00, straight to done Tue 10 09:00 (no cycle time).
    status(3, at(3, 9), "todo"),
    status(3, at(10, 9), "done"),
    # Item 4: created Mon 2 09:00, started 12:00, done Fri 6 12:00, reopened Mon 9 12:00,
    # done again Wed 11 12:00.
    status(4, at(2, 9), "todo"),
    status(4, at(2, 12), "in_progress"),
    status(4, at(6, 12), "done"),
    status(4, at(9, 12), "in_progress"),
    status(4, at(11, 12), "done"),
    # Item 5: created Mon 2 10:00, started Tue 3 10:00, deleted Fri 6 10:00.
    status(5, at(2, 10), "todo"),
    status(5, at(3, 10), "in_progress"),
    ItemEvent(5, at(6, 10), "deleted", "1"),
    # Item 6: created straight into progress on Mon 9 08:00; still in progress.
    status(6, at(9, 8), "in_progress"),
    # Item 8: finished only after the range ends (Tue 17): not applied at all.
    status(8, at(2, 9), "todo"),
    status(8, at(18, 0), "done"),
]


def flow(events=FLOW_EVENTS, *, start=date(2026, 3, 2), end=date(2026, 3, 17), timezone="UTC"):
    return flow_compute(FlowInput(start_date=start, end_date=end, timezone=timezone, events=events))


def test_flow_counts_items_per_category_at_the_end_of_each_day():
    counts = [(d.date.day, d.todo, d.in_progress, d.done) for d in flow().days]
    assert counts == [
        (2, 4, 1, 1),  # todo 1 2 5 8; in progress 4; done 7
        (3, 3, 3, 1),  # todo 2 3 8; in progress 4 1 5
        (4, 2, 3, 2),  # todo 3 8; 2 went through progress to done
        (5, 2, 2, 3),  # 1 done
        (6, 2, 0, 4),  # 5 deleted (no longer counted), 4 done
        (7, 2, 0, 4),
        (8, 2, 0, 4),
        (9, 2, 2, 3),  # 6 created in progress; 4 reopened
        (10, 1, 2, 4),  # 3 done
        (11, 1, 1, 5),  # 4 done again
        (12, 1, 1, 5),
        (13, 1, 1, 5),
        (14, 1, 1, 5),
        (15, 1, 1, 5),
        (16, 1, 1, 5),
        (17, 1, 1, 5),  # 8 is done only after the range
    ]


def test_flow_cycle_and_lead_time_percentiles():
    result = flow()
    # Items done within the range and still done: 1, 2, 3, 4 (7 finished before it,
    # 5 was deleted, 8 finishes after it).
    # Lead (created -> last entry into done): 1: 3.0, 2: 2.5, 3: 7.0, 4: 9 d 3 h = 9.125.
    # Sorted 2.5 3.0 7.0 9.125: p50 at 1.5 -> 3 + 0.5 * 4 = 5.0; p85 at 2.55 ->
    # 7 + 0.55 * 2.125 = 8.16875 -> 8.17; p95 at 2.85 -> 7 + 0.85 * 2.125 = 8.80625 -> 8.81.
    assert result.lead_time_days == {"p50": 5.0, "p85": 8.17, "p95": 8.81}
    # Cycle (first entry into in progress -> last entry into done): 1: 2.0, 2: 0.5,
    # 4: Mon 2 12:00 -> Wed 11 12:00 = 9.0; 3 never was in progress.
    # Sorted 0.5 2.0 9.0: p50 at 1 -> 2.0; p85 at 1.7 -> 2 + 0.7 * 7 = 6.9;
    # p95 at 1.9 -> 2 + 0.9 * 7 = 8.3.
    assert result.cycle_time_days == {"p50": 2.0, "p85": 6.9, "p95": 8.3}
    assert result.items_done == 4


def test_flow_throughput_counts_entries_into_done_per_iso_week_including_empty_weeks():
    # Week of Mon 2: 2 (Wed), 1 (Thu), 4 (Fri) = 3. Week of Mon 9: 3 (Tue), 4 again (Wed) = 2.
    # Week of Mon 16: nothing (8 finishes after the range). 7 finished before the range.
    assert flow().throughput == (
        (date(2026, 3, 2), 3),
        (date(2026, 3, 9), 2),
        (date(2026, 3, 16), 0),
    )


def test_flow_weeks_start_on_the_monday_before_a_mid_week_range_start():
    result = flow(start=date(2026, 3, 4), end=date(2026, 3, 10))
    # Weeks of Mon 2 (from Wed 4: 2, 1, 4 done) and Mon 9 (3 done on Tue 10).
    assert result.throughput == ((date(2026, 3, 2), 3), (date(2026, 3, 9), 1))
    assert [d.date.day for d in result.days] == [4, 5, 6, 7, 8, 9, 10]
    # Item 4 entered done on Fri 6 but is back in progress at the end of Tue 10: no times.
    # Done inside the range and done at its end: 1 (lead 3.0), 2 (2.5), 3 (7.0).
    # Sorted 2.5 3.0 7.0: p50 at 1 -> 3.0; p85 at 1.7 -> 3 + 0.7 * 4 = 5.8;
    # p95 at 1.9 -> 3 + 0.9 * 4 = 6.6.
    assert result.items_done == 3
    assert result.lead_time_days == {"p50": 3.0, "p85": 5.8, "p95": 6.6}


def test_flow_reads_days_and_weeks_in_the_projects_zone():
    events = [
        status(1, at(6, 9), "todo"),
        # Sunday 8 March 23:30 UTC is Monday 9 March 00:30 in Berlin.
        status(1, at(8, 23, 30), "done"),
    ]
    utc = flow(events, start=date(2026, 3, 6), end=date(2026, 3, 9))
    berlin = flow(events, start=date(2026, 3, 6), end=date(2026, 3, 9), timezone="Europe/Berlin")
    assert [(d.date.day, d.todo, d.done) for d in utc.days] == [
        (6, 1, 0),
        (7, 1, 0),
        (8, 0, 1),
        (9, 0, 1),
    ]
    assert [(d.date.day, d.todo, d.done) for d in berlin.days] == [
        (6, 1, 0),
        (7, 1, 0),
        (8, 1, 0),
        (9, 0, 1),
    ]
    assert utc.throughput == ((date(2026, 3, 2), 1), (date(2026, 3, 9), 0))
    assert berlin.throughput == ((date(2026, 3, 2), 0), (date(2026, 3, 9), 1))
    # Lead time does not depend on the zone: 2 days 14 h 30 min = 2.604... -> 2.6.
    assert utc.lead_time_days["p50"] == berlin.lead_time_days["p50"] == 2.6


def test_flow_without_events_has_zero_counts_and_no_times():
    result = flow([], start=date(2026, 3, 2), end=date(2026, 3, 3))
    assert result.days == (FlowDay(date(2026, 3, 2), 0, 0, 0), FlowDay(date(2026, 3, 3), 0, 0, 0))
    assert result.cycle_time_days == {"p50": None, "p85": None, "p95": None}
    assert result.lead_time_days == {"p50": None, "p85": None, "p95": None}
    assert result.throughput == ((date(2026, 3, 2), 0),)
    assert result.items_done == 0


def test_flow_ignores_an_item_reopened_before_the_end_of_the_range():
    events = [
        status(1, at(2, 9), "todo"),
        status(1, at(3, 9), "in_progress"),
        status(1, at(4, 9), "done"),
        status(1, at(5, 9), "in_progress"),  # reopened and still open
    ]
    result = flow(events, start=date(2026, 3, 2), end=date(2026, 3, 6))
    assert result.items_done == 0
    assert result.cycle_time_days["p50"] is None
    assert result.throughput == ((date(2026, 3, 2), 1),)  # it did enter done once
    assert [(d.in_progress, d.done) for d in result.days] == [
        (0, 0),
        (1, 0),
        (0, 1),
        (1, 0),
        (1, 0),
    ]
