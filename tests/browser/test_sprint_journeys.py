"""Real headless-browser journeys through the backlog, the board and the sprint page.

Every journey drives Debian's Chromium with real mouse and keyboard input against
``live_server`` and asserts both what the user sees and what the database holds.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from sprints.metric_inputs import project_today
from sprints.models import ItemEvent, Sprint, WorkItem
from sprints.services.items import work_item_create
from sprints.services.sprints import sprint_start
from sprints.services.workflow import status_update, transitions_set
from tests.factories.sprints import SprintFactory, status_named
from tests.factories.tpm import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
WORKER_TIMEOUT_MS = 40_000  # coalescing countdown + recompute + the panel's 5 s poll, twice


# --- helpers -------------------------------------------------------------------------------------


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def _set_marker(page: Page) -> None:
    """A JS value that only survives while the document is not reloaded."""
    page.evaluate("window.__marker = 1")


def _marker(page: Page):
    return page.evaluate("window.__marker")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _items(project, owner, *specs: dict) -> list[WorkItem]:
    """Create items through the service (numbers MIG-1.., history recorded, ranks in order)."""
    return [work_item_create(actor=owner, project=project, **spec) for spec in specs]


def _backlog_keys(page: Page) -> Locator:
    """The key links of the rows in the Backlog section, in the order shown."""
    return page.locator("section[aria-labelledby='backlog-title'] li.backlog__row .backlog__key")


def _sprint_keys(page: Page, sprint: Sprint) -> Locator:
    return page.locator(
        f"section[aria-labelledby='sprint-{sprint.pk}-title'] li.backlog__row .backlog__key"
    )


def _db_backlog_numbers(project) -> list[int]:
    return list(
        WorkItem.objects.filter(project=project, sprint__isnull=True)
        .order_by("rank")
        .values_list("number", flat=True)
    )


def _drag(page: Page, source: Locator, target: Locator, *, fraction: float = 0.5) -> None:
    """A real mouse drag: press on ``source``, move in steps, release at ``fraction`` of
    ``target``'s height (Chromium turns this into HTML5 dragstart/dragover/drop)."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    assert start is not None
    assert end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + start["height"] / 2 + 5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] * fraction, steps=15)
    page.mouse.up()


def _assert_no_template_source(page: Page) -> None:
    """No Django template syntax leaked into what the user reads (e.g. a multi-line {# #})."""
    expect(page.locator("#main")).not_to_contain_text(re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}"))


def _column(page: Page, status: str) -> Locator:
    return page.locator(f".board__column[data-status='{status}']")


def _column_keys(page: Page, status: str) -> Locator:
    return _column(page, status).locator(".board__card > a.mono")


# --- 1. backlog drag and drop --------------------------------------------------------------------


def test_pm_reorders_backlog_by_drag_and_drop_and_order_survives_reload(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    _items(
        project,
        owner,
        {"title": "Inventory billing services", "story_points": 3},
        {"title": "Provision cloud accounts", "story_points": 5},
        {"title": "Migrate invoice database", "story_points": 8},
        {"title": "Cut over DNS", "story_points": 2},
    )
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/backlog/")
    expect(_backlog_keys(page)).to_have_text(["MIG-1", "MIG-2", "MIG-3", "MIG-4"])
    _set_marker(page)

    # MIG-4 onto the upper half of MIG-1: it goes above it.
    _drag(
        page,
        page.locator("#row-MIG-4 .type"),
        page.locator("#row-MIG-1"),
        fraction=0.25,
    )
    expect(_backlog_keys(page)).to_have_text(["MIG-4", "MIG-1", "MIG-2", "MIG-3"])
    assert _db_backlog_numbers(project) == [4, 1, 2, 3]

    # MIG-1 onto the lower half of MIG-3: it goes below it, to the bottom.
    _drag(
        page,
        page.locator("#row-MIG-1 .type"),
        page.locator("#row-MIG-3"),
        fraction=0.75,
    )
    expect(_backlog_keys(page)).to_have_text(["MIG-4", "MIG-2", "MIG-3", "MIG-1"])
    assert _db_backlog_numbers(project) == [4, 2, 3, 1]
    assert _marker(page) == 1, "re-ranking reloaded the page instead of swapping the list"
    expect(page.locator(".drop-before, .drop-after, .is-dragging")).to_have_count(0)

    page.reload()
    assert _marker(page) is None
    expect(_backlog_keys(page)).to_have_text(["MIG-4", "MIG-2", "MIG-3", "MIG-1"])
    # Only the rank changed: no item was moved to a sprint or had its version bumped.
    assert (
        list(
            WorkItem.objects.filter(project=project)
            .order_by("number")
            .values_list("sprint_id", "version")
        )
        == [(None, 1)] * 4
    )


# --- 2. keyboard-only backlog rank ---------------------------------------------------------------


def test_keyboard_rank_moves_item_and_keeps_focus_on_its_control(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    _items(
        project,
        owner,
        {"title": "Write runbook"},
        {"title": "Load-test the gateway"},
        {"title": "Rotate secrets"},
    )
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/backlog/")
    _set_marker(page)

    up = page.get_by_role("button", name="Move MIG-3 up")
    up.focus()
    expect(up).to_be_focused()
    page.keyboard.press("Enter")

    expect(_backlog_keys(page)).to_have_text(["MIG-1", "MIG-3", "MIG-2"])
    assert _db_backlog_numbers(project) == [1, 3, 2]
    assert _marker(page) == 1, "the move reloaded the page"
    # Focus must stay on the moved item's control, so the next key press moves it again.
    expect(page.get_by_role("button", name="Move MIG-3 up")).to_be_focused()

    page.keyboard.press("Space")
    expect(_backlog_keys(page)).to_have_text(["MIG-3", "MIG-1", "MIG-2"])
    assert _db_backlog_numbers(project) == [3, 1, 2]
    expect(page.get_by_role("button", name="Move MIG-3 up")).to_be_focused()

    # Tab goes from the item's "up" control to its "down" control.
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move MIG-3 down")).to_be_focused()
    page.keyboard.press("Enter")
    expect(_backlog_keys(page)).to_have_text(["MIG-1", "MIG-3", "MIG-2"])
    assert _db_backlog_numbers(project) == [1, 3, 2]
    expect(page.get_by_role("button", name="Move MIG-3 down")).to_be_focused()


# --- 3. board: drag and drop, status menu, WIP, refused transition -------------------------------


def _board_setup(project, owner, *, wip_limit: int | None = None) -> Sprint:
    sprint = SprintFactory(
        project=project,
        name="Sprint 3",
        start_date=project_today(project) - datetime.timedelta(days=1),
        end_date=project_today(project) + datetime.timedelta(days=12),
    )
    _items(
        project,
        owner,
        {"title": "Export invoices", "status": "To Do", "sprint": sprint, "story_points": 3},
        {"title": "Replay payments", "status": "To Do", "sprint": sprint, "story_points": 5},
        {"title": "Switch the ledger", "status": "To Do", "sprint": sprint, "story_points": 2},
    )
    if wip_limit is not None:
        status_update(actor=owner, status=status_named(project, "In Progress"), wip_limit=wip_limit)
    return sprint


def test_board_drag_card_to_another_column_updates_counts(live_server, page: Page, project, people):
    owner = people["owner"]
    _board_setup(project, owner)
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/board/")
    expect(_column_keys(page, "To Do")).to_have_text(["MIG-1", "MIG-2", "MIG-3"])
    expect(_column(page, "In Progress").locator(".board__head .badge")).to_have_text("0")
    _set_marker(page)

    _drag(
        page,
        page.locator(".board__card[data-key='MIG-2'] .board__title"),
        _column(page, "In Progress"),
    )

    expect(_column_keys(page, "In Progress")).to_have_text(["MIG-2"])
    expect(_column_keys(page, "To Do")).to_have_text(["MIG-1", "MIG-3"])
    expect(_column(page, "In Progress").locator(".board__head .badge")).to_have_text("1")
    expect(_column(page, "To Do").locator(".board__head .badge")).to_have_text("2")
    expect(page.get_by_label("Status of MIG-2")).to_have_value("In Progress")
    expect(page.locator(".drop-target, .is-dragging")).to_have_count(0)
    assert _marker(page) == 1, "the move reloaded the page instead of swapping the board"

    item = WorkItem.objects.select_related("status").get(project=project, number=2)
    assert (item.status.name, item.version, item.resolved_at) == ("In Progress", 2, None)
    assert WorkItem.objects.filter(project=project, status__name="To Do").count() == 2


def test_board_status_menu_by_keyboard_shows_wip_warning_and_keeps_focus(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    _board_setup(project, owner, wip_limit=1)
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/board/")
    wip_badge = _column(page, "In Progress").locator(".board__head .badge")
    expect(wip_badge).to_have_text("0 / 1")
    expect(wip_badge).to_have_attribute("title", "WIP limit 1")
    expect(page.locator(".board__warn")).to_have_count(0)
    _set_marker(page)

    # Keyboard only: focus the card's status menu and step to the next status.
    menu = page.get_by_label("Status of MIG-1")
    menu.focus()
    page.keyboard.press("ArrowDown")
    expect(_column_keys(page, "In Progress")).to_have_text(["MIG-1"])
    expect(wip_badge).to_have_text("1 / 1")
    expect(page.locator(".board__warn")).to_have_count(0)
    assert status_named(project, "In Progress").items.count() == 1

    menu = page.get_by_label("Status of MIG-2")
    menu.focus()
    page.keyboard.press("ArrowDown")
    expect(_column_keys(page, "In Progress")).to_have_text(["MIG-1", "MIG-2"])
    expect(wip_badge).to_have_text("2 / 1")
    expect(wip_badge).to_have_class(re.compile(r"\bbadge--amber\b"))
    expect(_column(page, "In Progress")).to_have_class(re.compile(r"\bis-over-wip\b"))
    warning = _column(page, "In Progress").get_by_role("status")
    expect(warning).to_have_text("Over the WIP limit of 1")
    expect(_column(page, "To Do").locator(".board__head .badge")).to_have_text("1")
    assert _marker(page) == 1
    _shot(page, "board")
    _assert_no_template_source(page)

    # The WIP limit warns, it does not refuse: both moves are stored.
    moved = WorkItem.objects.filter(project=project, status__name="In Progress")
    assert sorted(moved.values_list("number", "version")) == [(1, 2), (2, 2)]
    # A keyboard user keeps their place: focus stays on the moved card's status menu.
    expect(page.get_by_label("Status of MIG-2")).to_be_focused()


def test_board_refused_transition_shows_inline_error_and_changes_nothing(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    _board_setup(project, owner)
    names = ("To Do", "In Progress", "In Review", "Done")
    todo, progress, review, done = (status_named(project, n) for n in names)
    transitions_set(
        actor=owner,
        project=project,
        pairs=[(todo, progress), (progress, review), (progress, todo), (review, done)],
    )
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/board/")
    _set_marker(page)

    page.get_by_label("Status of MIG-3").select_option("Done")

    error = "MIG-3: status: An item in To Do cannot move to Done; allowed: In Progress."
    # The card stays where it was, and the board says why, right where the user is looking.
    expect(page.get_by_label("Status of MIG-3")).to_have_value("To Do")
    expect(_column_keys(page, "To Do")).to_have_text(["MIG-1", "MIG-2", "MIG-3"])
    expect(_column_keys(page, "Done")).to_have_count(0)
    item = WorkItem.objects.select_related("status").get(project=project, number=3)
    assert (item.status.name, item.version, item.resolved_at) == ("To Do", 1, None)
    assert not WorkItem.objects.filter(project=project, status=done).exists()
    assert _marker(page) == 1

    expect(page.get_by_text(error)).to_be_visible()
    # Shown once, where it happened: it must not turn up again on the next page.
    page.reload()
    expect(page.get_by_text(error)).to_have_count(0)


def test_board_drag_to_refused_column_changes_nothing(live_server, page: Page, project, people):
    owner = people["owner"]
    _board_setup(project, owner)
    todo, progress = status_named(project, "To Do"), status_named(project, "In Progress")
    transitions_set(actor=owner, project=project, pairs=[(todo, progress)])
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/board/")

    _drag(
        page,
        page.locator(".board__card[data-key='MIG-1'] .board__title"),
        _column(page, "Done"),
    )

    expect(page.get_by_text("MIG-1: status: An item in To Do cannot move to Done")).to_be_visible()
    expect(_column_keys(page, "To Do")).to_have_text(["MIG-1", "MIG-2", "MIG-3"])
    expect(_column_keys(page, "Done")).to_have_count(0)
    item = WorkItem.objects.select_related("status").get(project=project, number=1)
    assert (item.status.name, item.version) == ("To Do", 1)


# --- 4. quick-create -----------------------------------------------------------------------------


def test_quick_create_shows_inline_errors_without_reload_then_adds_item(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    _items(project, owner, {"title": "Existing item", "story_points": 1})
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/backlog/")
    _set_marker(page)
    title = page.get_by_label("New item")
    add = page.get_by_role("button", name="Add", exact=True)

    # Empty: the browser's own required-field check stops the request, no reload.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    add.click()
    assert title.evaluate("el => el.validity.valueMissing") is True
    assert title.evaluate("el => el.validationMessage") != ""
    assert requests == []

    # Blank (spaces pass `required`): the server answers with an inline error.
    title.fill("   ")
    add.click()
    errors = page.locator("#quick-errors")
    expect(errors).to_contain_text("This field is required.")
    expect(errors).to_have_attribute("role", "alert")
    expect(page.get_by_label("New item")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("New item")).to_be_focused()
    assert _marker(page) == 1, "an invalid quick-create reloaded the page"
    assert WorkItem.objects.filter(project=project).count() == 1
    expect(_backlog_keys(page)).to_have_text(["MIG-1"])

    page.get_by_label("New item").fill("Decommission the old billing host")
    page.locator("#quick-type").select_option("task")
    page.get_by_label("Points").fill("2.5")
    page.get_by_role("button", name="Add", exact=True).click()

    expect(_backlog_keys(page)).to_have_text(["MIG-1", "MIG-2"])
    row = page.locator("#row-MIG-2")
    expect(row.locator(".backlog__title")).to_have_text("Decommission the old billing host")
    expect(row.locator(".type")).to_have_text("Task")
    expect(row.locator(".backlog__points")).to_have_text("2.5")
    expect(page.locator("#quick-errors")).to_have_count(0)
    expect(page.get_by_label("New item")).to_have_value("")
    expect(page.locator("section[aria-labelledby='backlog-title'] .backlog__totals")).to_have_text(
        "2 items · 3.5 points"
    )
    assert _marker(page) == 1, "quick-create reloaded the page"

    item = WorkItem.objects.select_related("status", "reporter").get(project=project, number=2)
    assert (item.title, item.type, item.story_points, item.sprint_id) == (
        "Decommission the old billing host",
        "task",
        Decimal("2.5"),
        None,
    )
    assert (item.status.name, item.reporter, item.version) == ("Backlog", owner, 1)
    assert _db_backlog_numbers(project) == [1, 2]


# --- 5. multi-select into a sprint ---------------------------------------------------------------


def test_multi_select_moves_items_into_sprint_and_updates_totals(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    sprint = SprintFactory(
        project=project,
        name="Sprint 7",
        start_date=project_today(project) + datetime.timedelta(days=3),
        end_date=project_today(project) + datetime.timedelta(days=16),
        capacity_hours=Decimal("20"),
    )
    _items(
        project,
        owner,
        {"title": "Export invoices", "story_points": 3, "remaining_hours": 8},
        {"title": "Replay payments", "story_points": 5, "remaining_hours": 6},
        {"title": "Switch the ledger", "story_points": 2, "remaining_hours": 14},
        {"title": "Archive old ledger", "story_points": 1, "remaining_hours": 1},
    )
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/backlog/")
    section = page.locator(f"section[aria-labelledby='sprint-{sprint.pk}-title']")
    points_badge = section.locator(".backlog__totals .badge").nth(0)
    hours_badge = section.locator(".backlog__totals .badge").nth(1)
    expect(section.locator(".backlog__empty")).to_have_text("No items.")
    expect(points_badge).to_have_text("0 points")
    expect(hours_badge).to_have_text("0 h / 20 h capacity")
    _set_marker(page)

    page.get_by_label("Select MIG-1").check()
    page.get_by_label("Select MIG-3").check()
    page.get_by_label("Move selected to").select_option(label="Sprint 7")
    page.get_by_role("button", name="Move", exact=True).click()

    expect(_sprint_keys(page, sprint)).to_have_text(["MIG-1", "MIG-3"])
    expect(_backlog_keys(page)).to_have_text(["MIG-2", "MIG-4"])
    expect(points_badge).to_have_text("5 points")
    expect(hours_badge).to_have_text("22 h / 20 h capacity")
    expect(hours_badge).to_have_class(re.compile(r"\bbadge--amber\b"))
    expect(points_badge).to_have_class(re.compile(r"\bbadge--muted\b"))
    expect(page.locator("section[aria-labelledby='backlog-title'] .backlog__totals")).to_have_text(
        "2 items · 6 points"
    )
    expect(page.locator("input[name=items]:checked")).to_have_count(0)
    assert _marker(page) == 1, "moving items reloaded the page"
    _shot(page, "backlog")
    _assert_no_template_source(page)

    in_sprint = WorkItem.objects.filter(project=project, sprint=sprint).order_by("number")
    assert list(in_sprint.values_list("number", "version")) == [(1, 2), (3, 2)]
    assert _db_backlog_numbers(project) == [2, 4]
    moved_ids = {item.pk: item.number for item in in_sprint}
    events = ItemEvent.objects.filter(item_id__in=moved_ids, field="sprint").order_by("at", "pk")
    history = [(moved_ids[e.item_id], e.value, e.label, e.actor_id) for e in events]
    assert sorted(history, key=lambda row: (row[0], row[1] is not None)) == [
        (1, None, "", owner.pk),
        (1, str(sprint.pk), "Sprint 7", owner.pk),
        (3, None, "", owner.pk),
        (3, str(sprint.pk), "Sprint 7", owner.pk),
    ]

    # The user is told what happened, on this page, not on the next one.
    expect(page.get_by_text("2 items moved to Sprint 7.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("2 items moved to Sprint 7.")).to_have_count(0)
    expect(_sprint_keys(page, sprint)).to_have_text(["MIG-1", "MIG-3"])


# --- 6. sprint page and the real worker (last in the file: the worker stays up) -------------------


@pytest.fixture
def worker(celery_worker):
    """The real worker (the shared fixture waits for it to go idle after the test)."""
    return celery_worker


def _burndown_cells(page: Page, day: datetime.date) -> Locator:
    row = page.locator("#burndown-panel tbody tr").filter(
        has=page.locator("th", has_text=day.isoformat())
    )
    return row.locator("td")


def test_completing_an_item_updates_the_burndown_by_itself_and_keeps_table_open(
    live_server, page: Page, project, people, worker
):
    owner = people["owner"]
    today = project_today(project)
    sprint = SprintFactory(
        project=project,
        name="Sprint 5",
        start_date=today - datetime.timedelta(days=2),
        end_date=today + datetime.timedelta(days=9),
    )
    _items(
        project,
        owner,
        {"title": "Export invoices", "sprint": sprint, "story_points": 3, "remaining_hours": 6},
        {"title": "Replay payments", "sprint": sprint, "story_points": 5, "remaining_hours": 10},
    )
    sprint_start(actor=owner, sprint=sprint)
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/sprints/{sprint.pk}/")
    expect(page.get_by_role("heading", name=re.compile(r"^Sprint 5"))).to_be_visible()
    _set_marker(page)

    # The worker computes the first burndown; the panel picks it up by polling.
    cells = _burndown_cells(page, today)
    expect(cells.nth(0)).to_have_text("8.00", timeout=WORKER_TIMEOUT_MS)  # scope
    expect(cells.nth(1)).to_have_text("8.00")  # remaining
    expect(cells.nth(2)).to_have_text("0.00")  # completed
    expect(cells.nth(3)).to_have_text("16.00")  # remaining hours
    desc = page.locator(f"#burndown-{sprint.pk}-desc")
    expect(desc).to_contain_text("8.00 of 8.00 points remain")
    remaining_line = page.locator("#burndown-panel polyline.series--remaining")
    line_before = remaining_line.get_attribute("points")
    page.locator("#burndown-panel summary", has_text="Data table").click()
    expect(page.locator("#burndown-panel details.chart__data")).to_have_attribute("open", "")

    # Complete MIG-1 on the board, in a second tab; the sprint page is left alone.
    board = page.context.new_page()
    board.goto(f"{base}/projects/MIG/board/?sprint={sprint.pk}")
    board.get_by_label("Status of MIG-1").select_option("Done")
    expect(_column_keys(board, "Done")).to_have_text(["MIG-1"])
    item = WorkItem.objects.select_related("status").get(project=project, number=1)
    assert item.status.name == "Done"
    assert item.resolved_at is not None

    # Without a reload, the sprint page shows what the worker recomputed.
    expect(cells.nth(1)).to_have_text("5.00", timeout=WORKER_TIMEOUT_MS)
    expect(cells.nth(0)).to_have_text("8.00")
    expect(cells.nth(2)).to_have_text("3.00")
    expect(cells.nth(3)).to_have_text("10.00")
    expect(desc).to_contain_text("5.00 of 8.00 points remain")
    assert remaining_line.get_attribute("points") != line_before
    assert _marker(page) == 1, "the sprint page was reloaded"
    stored = sprint.burndown_days.get(date=today)
    assert (
        stored.scope_points,
        stored.remaining_points,
        stored.completed_points,
        stored.remaining_hours,
    ) == (Decimal("8.00"), Decimal("5.00"), Decimal("3.00"), Decimal("10.00"))
    _shot(page, "sprint")

    # The data table the user opened is still open after the poll swapped the panel.
    expect(page.locator("#burndown-panel details.chart__data")).to_have_attribute("open", "")
    expect(cells.nth(1)).to_be_visible()
    _assert_no_template_source(page)
