"""Sprint pages over the Django test client: permissions, HTMX fragments, inline errors, charts.

Covers the backlog (quick-create, rank, move to sprint), the board (status moves), the item
page (inline edit, comments, work logs), the sprint page (start, close, burndown polling), the
workflow settings, the project charts panel and "My work".
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest

from projects.models import Project
from sprints.metric_inputs import project_today
from sprints.models import BurndownDay, Comment, ItemEvent, Sprint, Status, WorkItem, WorkLog
from sprints.services.items import work_item_create, work_item_update
from sprints.services.sprints import sprint_close, sprint_create, sprint_start
from sprints.tasks import recompute_burndowns, recompute_flow
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.sprints import WorkItemFactory
from tests.factories.tpm import UserFactory
from tests.matrix import page_matrix
from tpm.models import StaleProject

HTMX = {"HX-Request": "true"}
PROJECT_NAME = "Move billing to the cloud"
# Same budget at a few rows and at many rows: a per-row query would break it.
BACKLOG_QUERIES = 7
BOARD_QUERIES = 10
MY_WORK_QUERIES = 4


READERS = page_matrix("owner", "member", "viewer", "executive")
OWNER_PAGE = page_matrix("owner")
CONTRIBUTOR_POST = page_matrix("owner", "member", ok=302)
CONTRIBUTOR_HTMX = page_matrix("owner", "member")
OWNER_POST = page_matrix("owner", ok=302)


# --- fixtures and helpers ------------------------------------------------------------------------


def _sprint(project, actor, name="Sprint 1", start=date(2025, 3, 3), end=date(2025, 3, 14)):
    return sprint_create(actor=actor, project=project, name=name, start_date=start, end_date=end)


@pytest.fixture
def sprint(project, people):
    """Sprint 1 (planned), 3-14 March 2025."""
    return _sprint(project, people["owner"])


@pytest.fixture
def items(project, people, sprint):
    """MIG-1 (3 points, in Sprint 1, the member's), MIG-2 and MIG-3 in the backlog."""
    owner = people["owner"]
    return [
        work_item_create(
            actor=owner,
            project=project,
            title="Set up VPC peering",
            story_points=Decimal("3"),
            sprint=sprint,
            assignee=people["member"],
        ),
        work_item_create(actor=owner, project=project, title="Write the cut-over runbook"),
        work_item_create(actor=owner, project=project, title="Rotate the database keys"),
    ]


@pytest.fixture
def active_sprint(project, people, sprint, items):
    """Sprint 1 started with MIG-1 in it (3 points committed)."""
    return sprint_start(actor=people["owner"], sprint=sprint)


def _state(project) -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "items": list(
            WorkItem.objects.filter(project=project)
            .order_by("number")
            .values_list(
                "number",
                "version",
                "title",
                "status_id",
                "story_points",
                "sprint_id",
                "assignee_id",
                "rank",
            )
        ),
        "next_number": Project.objects.get(pk=project.pk).next_item_number,
        "sprints": list(
            Sprint.objects.filter(project=project)
            .order_by("pk")
            .values_list("name", "state", "version", "committed_points", "completed_points")
        ),
        "statuses": list(
            Status.objects.filter(project=project)
            .order_by("pk")
            .values_list("name", "category", "order", "wip_limit")
        ),
        "events": ItemEvent.objects.count(),
        "comments": Comment.objects.count(),
        "worklogs": WorkLog.objects.count(),
    }


def _item(number: int) -> WorkItem:
    return WorkItem.objects.select_related("status", "sprint").get(
        project__key="MIG", number=number
    )


def _order(sprint_id=None) -> list[int]:
    return list(
        WorkItem.objects.filter(project__key="MIG", sprint_id=sprint_id)
        .order_by("rank")
        .values_list("number", flat=True)
    )


def _edit_data(item: WorkItem, **overrides) -> dict:
    """Every field of the item form, as the browser posts it (current values of ``item``)."""
    data = {
        "title": item.title,
        "type": item.type,
        "status": item.status.name,
        "priority": item.priority,
        "story_points": "" if item.story_points is None else str(item.story_points),
        "original_estimate_hours": "",
        "remaining_hours": "",
        "assignee": item.assignee_id or "",
        "sprint": item.sprint_id or "",
        "labels": ", ".join(item.labels),
        "due_date": "",
        "blocked_reason": "",
        "description": item.description,
        "acceptance_criteria": "",
        "version": str(item.version),
    }
    data.update(overrides)
    return data


def _login_redirect(response, path: str) -> None:
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={path}"


def _errors_list(html: str, list_id: str) -> list[str]:
    """The messages of ``<ul class="field-errors" id="...">``."""
    match = re.search(rf'<ul class="field-errors" id="{list_id}"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no #{list_id} error list in the response"
    return re.findall(r"<li>(.*?)</li>", match[1], re.S)


def _flashes(html: str) -> list[str]:
    return [m.strip() for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', html, re.S)]


def _fresh_burndown(project) -> None:
    """What a worker does after a change: recompute, then the outbox row is cleared."""
    recompute_burndowns(project.pk)
    recompute_flow(project.pk)
    StaleProject.objects.filter(project_id=project.pk).delete()


def _poll_url(html: str) -> str | None:
    """The URL the burndown panel polls, or None when the panel does not poll."""
    match = re.search(r'<section class="card" id="burndown-panel"([^>]*)>', html)
    assert match, "no burndown panel"
    attrs = match[1]
    if "every" not in attrs:
        return None
    url = re.search(r'hx-get="([^"]+)"', attrs)
    assert url, attrs
    return url[1].replace("&amp;", "&")


# --- permission matrix: reads --------------------------------------------------------------------


READ_PAGES = [
    ("backlog", "/projects/MIG/backlog/", 'id="backlog-body"'),
    ("board", "/projects/MIG/board/", 'id="board-body"'),
    ("item", "/items/MIG-1/", "Set up VPC peering"),
    ("sprint", "/sprints/{sprint}/", "Sprint 1"),
    ("charts", "/projects/MIG/charts/", 'id="project-charts"'),
    ("burndown", "/sprints/{sprint}/burndown/", 'id="burndown-panel"'),
]


@pytest.mark.parametrize(("page", "path", "marker"), READ_PAGES, ids=[p[0] for p in READ_PAGES])
@pytest.mark.parametrize(("role", "expected"), READERS)
def test_sprint_read_pages_access(page_as, sprint, items, page, path, marker, role, expected):
    path = path.format(sprint=sprint.pk)
    response = page_as(role).get(path)
    if role == "anonymous":
        _login_redirect(response, path)
        return
    assert response.status_code == expected
    html = response.content.decode()
    if expected == 200:
        assert marker in html
    else:
        assert PROJECT_NAME not in html
        assert "Set up VPC peering" not in html


@pytest.mark.parametrize(
    ("path", "fragment_start"),
    [
        ("/projects/MIG/backlog/", '<div id="backlog-body"'),
        ("/projects/MIG/board/", '<div id="board-body"'),
    ],
    ids=["backlog", "board"],
)
@pytest.mark.parametrize(("role", "expected"), READERS)
def test_backlog_and_board_htmx_fragments_access(
    page_as, sprint, items, path, fragment_start, role, expected
):
    response = page_as(role).get(path, headers=HTMX)
    if role == "anonymous":
        _login_redirect(response, path)
        return
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        assert html.lstrip().startswith(fragment_start)
        assert "<html" not in html
        assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(("role", "expected"), OWNER_PAGE)
def test_workflow_settings_page_access(page_as, project, role, expected):
    response = page_as(role).get("/projects/MIG/workflow/")
    if role == "anonymous":
        _login_redirect(response, "/projects/MIG/workflow/")
        return
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        names = re.findall(r'<input type="text" id="name-\d+" name="name" value="([^"]+)"', html)
        assert names == ["Backlog", "To Do", "In Progress", "In Review", "Done"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", 200),
        ("member", 200),
        ("viewer", 200),
        ("executive", 200),
        ("outsider", 200),
        ("anonymous", 302),
    ],
)
def test_my_work_page_access(page_as, items, role, expected):
    response = page_as(role).get("/my-work/")
    if role == "anonymous":
        _login_redirect(response, "/my-work/")
        return
    assert response.status_code == expected
    keys = re.findall(
        r'<td class="mono"><a href="/items/([A-Z]+-\d+)/">', response.content.decode()
    )
    assert keys == (["MIG-1"] if role == "member" else [])


def test_item_of_an_invisible_or_unknown_project_is_404(page_as, items):
    assert page_as("outsider").get("/items/MIG-1/").status_code == 404
    assert page_as("owner").get("/items/MIG-99/").status_code == 404
    assert page_as("executive").get("/items/NOPE-1/").status_code == 404
    assert page_as("owner").get("/items/not-a-key/").status_code == 404
    assert page_as("owner").get("/sprints/999999/").status_code == 404


# --- permission matrix: writes -------------------------------------------------------------------


def _writes(sprint, item):
    """name -> (path, data, check that the allowed request did its work)."""
    return {
        "quick-create": (
            "/projects/MIG/backlog/items/",
            {"title": "Load-test the vendor API", "type": "spike"},
            lambda: _item(4).title == "Load-test the vendor API",
        ),
        "rank": (
            "/projects/MIG/backlog/rank/",
            {"rank": "up:MIG-3"},
            lambda: _order() == [3, 2],
        ),
        "move-to-sprint": (
            "/projects/MIG/backlog/move/",
            {"items": ["MIG-2"], "target": str(sprint.pk)},
            lambda: _item(2).sprint_id == sprint.pk,
        ),
        "status-move": (
            "/items/MIG-1/status/",
            {"status": "In Progress", "version": "1"},
            lambda: _item(1).status.name == "In Progress",
        ),
        "inline-edit": (
            "/items/MIG-1/",
            _edit_data(item, title="Peer the VPCs"),
            lambda: (_item(1).title, _item(1).version) == ("Peer the VPCs", 2),
        ),
        "comment": (
            "/items/MIG-1/comments/",
            {"body": "Peering request sent."},
            lambda: (
                list(Comment.objects.values_list("body", flat=True)) == ["Peering request sent."]
            ),
        ),
        "worklog": (
            "/items/MIG-1/worklogs/",
            {"hours": "1.5", "note": "Call with AWS"},
            lambda: (
                list(WorkLog.objects.values_list("hours", "note"))
                == [(Decimal("1.50"), "Call with AWS")]
            ),
        ),
    }


WRITE_NAMES = [
    "quick-create",
    "rank",
    "move-to-sprint",
    "status-move",
    "inline-edit",
    "comment",
    "worklog",
]


@pytest.mark.parametrize("write", WRITE_NAMES)
@pytest.mark.parametrize(("role", "expected"), CONTRIBUTOR_POST)
def test_contributor_writes_access(page_as, project, sprint, items, write, role, expected):
    path, data, did_it = _writes(sprint, items[0])[write]
    before = _state(project)
    response = page_as(role).post(path, data)
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    if expected == 302 and role != "anonymous":
        assert did_it()
    else:
        assert _state(project) == before


HTMX_WRITES = ["quick-create", "rank", "move-to-sprint", "status-move", "comment", "worklog"]


@pytest.mark.parametrize("write", HTMX_WRITES)
@pytest.mark.parametrize(("role", "expected"), CONTRIBUTOR_HTMX)
def test_contributor_htmx_writes_access(page_as, project, sprint, items, write, role, expected):
    path, data, did_it = _writes(sprint, items[0])[write]
    before = _state(project)
    response = page_as(role).post(path, data, headers=HTMX)
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    if expected == 200 and role != "anonymous":
        assert did_it()
        assert "<html" not in response.content.decode()
    else:
        assert _state(project) == before


def _owner_writes(sprint):
    return {
        "sprint-create": (
            "/projects/MIG/sprints/new/",
            {"name": "Sprint 2", "start_date": "2025-03-17", "end_date": "2025-03-28"},
            lambda: (
                list(Sprint.objects.order_by("pk").values_list("name", flat=True))
                == ["Sprint 1", "Sprint 2"]
            ),
        ),
        "sprint-start": (
            f"/sprints/{sprint.pk}/start/",
            {},
            lambda: Sprint.objects.get(pk=sprint.pk).state == "active",
        ),
        "workflow-add-status": (
            "/projects/MIG/workflow/",
            {"action": "add", "name": "Blocked", "category": "in_progress"},
            lambda: Status.objects.filter(project__key="MIG", name="Blocked").count() == 1,
        ),
    }


@pytest.mark.parametrize("write", ["sprint-create", "sprint-start", "workflow-add-status"])
@pytest.mark.parametrize(("role", "expected"), OWNER_POST)
def test_owner_writes_access(page_as, project, sprint, items, write, role, expected):
    path, data, did_it = _owner_writes(sprint)[write]
    before = _state(project)
    response = page_as(role).post(path, data)
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    if expected == 302 and role != "anonymous":
        assert did_it()
    else:
        assert _state(project) == before


@pytest.mark.parametrize(("role", "expected"), OWNER_POST)
def test_sprint_close_access(page_as, project, active_sprint, role, expected):
    path = f"/sprints/{active_sprint.pk}/close/"
    before = _state(project)
    response = page_as(role).post(path, {"move_unfinished_to": "backlog"})
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    if expected == 302 and role != "anonymous":
        assert Sprint.objects.get(pk=active_sprint.pk).state == "closed"
        assert _item(1).sprint_id is None
    else:
        assert _state(project) == before


@pytest.mark.parametrize("role", ["viewer", "executive"])
def test_readers_see_no_write_controls(page_as, active_sprint, role):
    client = page_as(role)
    backlog = client.get("/projects/MIG/backlog/").content.decode()
    board = client.get("/projects/MIG/board/").content.decode()
    item = client.get("/items/MIG-1/").content.decode()
    sprint_page = client.get(f"/sprints/{active_sprint.pk}/").content.decode()

    assert "/backlog/items/" not in backlog
    assert 'name="items"' not in backlog
    assert 'name="rank"' not in backlog
    assert "Plan a sprint" not in backlog
    assert 'data-key="MIG-1"' in board
    assert "/items/MIG-1/status/" not in board
    assert '<fieldset class="form-grid" disabled>' in item
    assert 'action="/items/MIG-1/comments/"' not in item
    assert 'action="/items/MIG-1/worklogs/"' not in item
    assert "Close sprint" not in sprint_page


# --- backlog: quick-create -----------------------------------------------------------------------


def test_quick_create_via_htmx_returns_backlog_with_new_row_and_triggers_refresh(
    page_as, project, items
):
    response = page_as("member").post(
        "/projects/MIG/backlog/items/",
        {"title": "Load-test the vendor API", "type": "spike", "story_points": "2.5"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="backlog-body"')
    assert 'id="row-MIG-4"' in html
    assert "item-changed" in response["HX-Trigger"]
    created = _item(4)
    assert (created.title, created.type, created.story_points, created.sprint_id) == (
        "Load-test the vendor API",
        "spike",
        Decimal("2.5"),
        None,
    )
    assert created.reporter.username == "member"
    assert _order() == [2, 3, 4]


def test_quick_create_without_htmx_redirects_with_message(page_as, items):
    client = page_as("owner")
    response = client.post(
        "/projects/MIG/backlog/items/", {"title": "Order the HSM", "type": "task"}
    )
    assert response.status_code == 302
    assert response.url == "/projects/MIG/backlog/"
    follow = client.get(response.url).content.decode()
    assert "MIG-4 created." in _flashes(follow)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "   "}, "This field is required."),
        ({"title": "Size me", "story_points": "-1"}, "greater than or equal to 0"),
        ({"title": "Size me", "story_points": "many"}, "Enter a number."),
        ({"title": "x" * 256}, "at most 255 characters"),
        ({"title": "Odd type", "type": "saga"}, "Select a valid choice."),
    ],
    ids=["empty-title", "blank-title", "negative-points", "bad-points", "long-title", "bad-type"],
)
def test_quick_create_bad_input_via_htmx_is_400_with_inline_error(
    page_as, project, items, data, message
):
    before = _state(project)
    response = page_as("member").post("/projects/MIG/backlog/items/", data, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="backlog-body"')
    assert "<html" not in html
    errors = _errors_list(html, "quick-errors")
    assert len(errors) == 1
    assert message in errors[0]
    assert 'aria-describedby="quick-errors"' in html
    assert "HX-Trigger" not in response
    assert _state(project) == before


def test_quick_create_bad_input_keeps_the_typed_title(page_as, project, items):
    response = page_as("member").post(
        "/projects/MIG/backlog/items/",
        {"title": "Size me", "story_points": "-3"},
        headers=HTMX,
    )
    assert response.status_code == 400
    assert re.search(r'<input type="text" id="quick-title"[^>]*value="Size me"', response.text)


def test_quick_create_bad_input_without_htmx_rerenders_the_page_with_400(page_as, project, items):
    before = _state(project)
    response = page_as("owner").post("/projects/MIG/backlog/items/", {"title": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html
    assert _errors_list(html, "quick-errors")[0].startswith("Title: This field is required.")
    assert _state(project) == before


# --- backlog: rank and move ----------------------------------------------------------------------


def test_keyboard_rank_up_reorders_and_keeps_focus_on_the_pressed_button(page_as, items):
    response = page_as("member").post(
        "/projects/MIG/backlog/rank/", {"rank": "up:MIG-3"}, headers=HTMX
    )
    assert response.status_code == 200
    assert _order() == [3, 2]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="backlog-body"')
    assert re.findall(r'id="row-(MIG-\d+)"', html) == ["MIG-1", "MIG-3", "MIG-2"]
    focused = re.findall(r"<[^>]*\sautofocus[^>]*>", html)
    assert len(focused) == 1, focused
    assert 'aria-label="Move MIG-3 up"' in focused[0]


def test_keyboard_rank_down_keeps_focus_on_the_down_button(page_as, items):
    response = page_as("member").post(
        "/projects/MIG/backlog/rank/", {"rank": "down:MIG-2"}, headers=HTMX
    )
    assert response.status_code == 200
    assert _order() == [3, 2]
    focused = re.findall(r"<[^>]*\sautofocus[^>]*>", response.content.decode())
    assert len(focused) == 1, focused
    assert 'aria-label="Move MIG-2 down"' in focused[0]


def test_drag_and_drop_rank_before_another_item(page_as, items):
    response = page_as("owner").post(
        "/projects/MIG/backlog/rank/", {"item": "MIG-3", "before": "MIG-2"}, headers=HTMX
    )
    assert response.status_code == 200
    assert _order() == [3, 2]


def test_rank_unknown_item_via_htmx_is_400_with_the_message_in_the_fragment(
    page_as, project, items
):
    client = page_as("member")
    before = _state(project)
    response = client.post("/projects/MIG/backlog/rank/", {"rank": "up:MIG-99"}, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="backlog-body"' in html
    assert "No such item: MIG-99." in html
    assert _state(project) == before
    # Shown once, where the user is looking: not again on the next full page.
    assert "No such item: MIG-99." not in client.get("/projects/MIG/backlog/").content.decode()


def test_move_to_sprint_via_htmx_shows_the_message_in_the_fragment(page_as, sprint, items):
    client = page_as("member")
    response = client.post(
        "/projects/MIG/backlog/move/",
        {"items": ["MIG-2", "MIG-3"], "target": str(sprint.pk)},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "item-changed" in response["HX-Trigger"]
    html = response.content.decode()
    assert "2 items moved to Sprint 1." in html
    assert [_item(n).sprint_id for n in (1, 2, 3)] == [sprint.pk] * 3
    assert "2 items moved to Sprint 1." not in client.get("/projects/MIG/backlog/").text


def test_move_one_item_back_to_backlog_says_1_item(page_as, sprint, items):
    response = page_as("member").post(
        "/projects/MIG/backlog/move/", {"items": ["MIG-1"], "target": "backlog"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "1 item moved to the backlog." in response.content.decode()
    assert _item(1).sprint_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "backlog"}, "Select at least one item."),
        (
            {"items": ["MIG-2"], "target": "999999"},
            "Choose a sprint of this project or the backlog.",
        ),
        ({"items": ["OPS-1"], "target": "backlog"}, "is not an item of MIG."),
    ],
    ids=["nothing-selected", "unknown-sprint", "foreign-key"],
)
def test_move_bad_input_via_htmx_is_400_with_the_message_and_changes_nothing(
    page_as, project, sprint, items, data, message
):
    before = _state(project)
    response = page_as("member").post("/projects/MIG/backlog/move/", data, headers=HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _state(project) == before


# --- board: status moves -------------------------------------------------------------------------


def _column_keys(html: str, status: str) -> list[str]:
    match = re.search(
        rf'<section class="board__column[^"]*" data-status="{status}".*?</section>', html, re.S
    )
    assert match, f"no {status} column"
    return re.findall(r'<li class="card board__card[^"]*" data-key="([A-Z]+-\d+)"', match[0])


def test_status_move_via_htmx_returns_board_with_card_in_new_column(page_as, active_sprint):
    response = page_as("member").post(
        "/items/MIG-1/status/", {"status": "In Progress", "version": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-body"')
    assert _column_keys(html, "In Progress") == ["MIG-1"]
    assert _column_keys(html, "Backlog") == []
    assert "item-changed" in response["HX-Trigger"]
    assert (_item(1).status.name, _item(1).version) == ("In Progress", 2)


def test_status_move_unknown_status_via_htmx_is_400_with_message(page_as, project, active_sprint):
    before = _state(project)
    response = page_as("member").post(
        "/items/MIG-1/status/", {"status": "Shipped", "version": "1"}, headers=HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="board-body"' in html
    assert "MIG-1: status: Unknown status &#x27;Shipped&#x27;." in html
    assert _state(project) == before


def test_status_move_with_stale_version_via_htmx_is_409_and_shows_the_current_card(
    page_as, project, people, active_sprint
):
    work_item_update(actor=people["owner"], item=_item(1), status="In Review")
    before = _state(project)
    response = page_as("member").post(
        "/items/MIG-1/status/", {"status": "Done", "version": "1"}, headers=HTMX
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "MIG-1 was changed by someone else; the board shows it as it is now." in html
    assert _column_keys(html, "In Review") == ["MIG-1"]
    assert _state(project) == before


def test_board_status_menu_posts_the_card_version(page_as, active_sprint):
    html = page_as("member").get("/projects/MIG/board/").content.decode()
    form = re.search(r'<form method="post" action="/items/MIG-1/status/".*?</form>', html, re.S)
    assert form
    assert '<input type="hidden" name="version" value="1">' in form[0]
    assert '<option value="Backlog" selected>Backlog</option>' in form[0]


def test_board_swimlanes_group_cards_by_assignee(page_as, project, people, active_sprint):
    work_item_create(
        actor=people["owner"], project=project, title="Unowned task", sprint=active_sprint
    )
    html = page_as("viewer").get("/projects/MIG/board/?swimlanes=assignee").content.decode()
    lanes = [unescape(n) for n in re.findall(r'<h2 class="board__lane">([^<]+)</h2>', html)]
    assert lanes == [people["member"].display_name, "Unassigned"]


# --- item page: inline edit, comments, work logs -------------------------------------------------


def test_item_edit_saves_and_redirects_with_message(page_as, project, people, sprint, items):
    client = page_as("member")
    response = client.post(
        "/items/MIG-2/",
        _edit_data(
            _item(2),
            title="Write and rehearse the runbook",
            story_points="5",
            status="In Progress",
            labels="Ops, cutover",
            assignee=str(people["member"].pk),
            sprint=str(sprint.pk),
        ),
    )
    assert response.status_code == 302
    assert response.url == "/items/MIG-2/"
    edited = _item(2)
    assert (
        edited.title,
        edited.story_points,
        edited.status.name,
        edited.labels,
        edited.assignee_id,
        edited.sprint_id,
        edited.version,
    ) == (
        "Write and rehearse the runbook",
        Decimal("5.0"),
        "In Progress",
        ["ops", "cutover"],
        people["member"].pk,
        sprint.pk,
        2,
    )
    assert "Saved." in _flashes(client.get(response.url).content.decode())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"story_points": "-2"}, "greater than or equal to 0"),
        ({"remaining_hours": "-1"}, "greater than or equal to 0"),
        ({"status": "Shipped"}, "Unknown status &#x27;Shipped&#x27;"),
        ({"due_date": "2025-13-45"}, "Enter a valid date."),
    ],
    ids=["empty-title", "negative-points", "negative-hours", "unknown-status", "bad-date"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_item_edit_bad_input_is_400_with_inline_error_and_changes_nothing(
    page_as, project, items, overrides, message, htmx
):
    before = _state(project)
    response = page_as("member").post(
        "/items/MIG-1/", _edit_data(_item(1), **overrides), headers=HTMX if htmx else {}
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, re.S)
    assert errors
    assert message in errors[1]
    assert _state(project) == before


def test_item_edit_with_stale_version_is_409_and_shows_current_item(
    page_as, project, people, items
):
    work_item_update(actor=people["owner"], item=_item(1), title="Changed elsewhere")
    before = _state(project)
    response = page_as("member").post(
        "/items/MIG-1/", _edit_data(_item(1), title="My late edit", version="1")
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone changed this item while you were editing." in html
    assert '<input type="hidden" name="version" value="2">' in html
    assert 'value="Changed elsewhere"' in html
    assert _state(project) == before


def test_comment_via_htmx_returns_comments_fragment_with_the_comment(page_as, items):
    response = page_as("member").post(
        "/items/MIG-1/comments/", {"body": "Peering **requested**."}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="comments"')
    assert "Comments (1)" in html
    assert "<strong>requested</strong>" in html
    assert list(Comment.objects.values_list("author__username", "body")) == [
        ("member", "Peering **requested**.")
    ]


@pytest.mark.parametrize("body", ["", "   \n  "], ids=["empty", "blank"])
def test_comment_empty_via_htmx_is_400_with_inline_error(page_as, project, items, body):
    before = _state(project)
    response = page_as("member").post("/items/MIG-1/comments/", {"body": body}, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="comments"' in html
    assert "<html" not in html
    assert _errors_list(html, "comment-errors") == ["Write something."]
    assert 'aria-describedby="comment-errors"' in html
    assert _state(project) == before


def test_comment_empty_without_htmx_redirects_with_error_message(page_as, project, items):
    client = page_as("member")
    before = _state(project)
    response = client.post("/items/MIG-1/comments/", {"body": ""})
    assert response.status_code == 302
    assert response.url == "/items/MIG-1/"
    assert "Write something." in _flashes(client.get(response.url).content.decode())
    assert _state(project) == before


def test_worklog_via_htmx_returns_worklog_fragment_with_the_entry(page_as, project, items):
    today = project_today(project)
    response = page_as("member").post(
        "/items/MIG-1/worklogs/",
        {"hours": "2.25", "date": today.isoformat(), "note": "Routing tables"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="worklogs"')
    assert "Routing tables" in html
    assert list(WorkLog.objects.values_list("user__username", "date", "hours", "note")) == [
        ("member", today, Decimal("2.25"), "Routing tables")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "0"}, "Log more than 0 and at most 24 hours."),
        ({"hours": "-1"}, "Log more than 0 and at most 24 hours."),
        ({"hours": "25"}, "Log more than 0 and at most 24 hours."),
        ({"hours": ""}, "This field is required."),
        ({"hours": "two"}, "Enter a number."),
        ({"hours": "1", "date": "FUTURE"}, "Time cannot be logged on a future day."),
    ],
    ids=["zero", "negative", "over-24", "missing", "not-a-number", "future-date"],
)
def test_worklog_bad_input_via_htmx_is_400_with_inline_error(
    page_as, project, items, data, message
):
    if data.get("date") == "FUTURE":
        data = {**data, "date": (project_today(project) + timedelta(days=3)).isoformat()}
    before = _state(project)
    response = page_as("member").post("/items/MIG-1/worklogs/", data, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="worklogs"' in html
    assert "<html" not in html
    errors = _errors_list(html, "wl-errors")
    assert len(errors) == 1
    assert message in errors[0]
    assert _state(project) == before


def test_worklog_bad_input_without_htmx_redirects_with_error_message(page_as, project, items):
    client = page_as("member")
    before = _state(project)
    response = client.post("/items/MIG-1/worklogs/", {"hours": "0"})
    assert response.status_code == 302
    flashes = _flashes(client.get(response.url).content.decode())
    assert flashes == ["hours: Log more than 0 and at most 24 hours."]
    assert _state(project) == before


def test_item_page_shows_history_comments_and_logged_hours(page_as, project, people, items):
    client = page_as("member")
    client.post("/items/MIG-1/comments/", {"body": "First note"})
    client.post("/items/MIG-1/worklogs/", {"hours": "1.5"})
    client.post("/items/MIG-1/worklogs/", {"hours": "2"})
    html = client.get("/items/MIG-1/").content.decode()
    assert "Comments (1)" in html
    assert "First note" in html
    assert "<dt>Logged</dt><dd>3.50 h</dd>" in html
    assert "set status to <strong>Backlog</strong>" in html


# --- headings, totals and number formatting ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/items/MIG-1/", "Set up VPC peering"),
        ("/sprints/{sprint}/", "Sprint 1"),
        ("/projects/MIG/backlog/", PROJECT_NAME),
        ("/projects/MIG/board/", PROJECT_NAME),
        ("/projects/MIG/workflow/", PROJECT_NAME),
        ("/my-work/", "My work"),
    ],
    ids=["item", "sprint", "backlog", "board", "workflow", "my-work"],
)
def test_sprint_pages_have_exactly_one_h1(page_as, sprint, items, path, heading):
    html = page_as("owner").get(path.format(sprint=sprint.pk)).content.decode()
    headings = re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
    assert len(headings) == 1, headings
    assert heading in headings[0]
    assert "<main" in html


def test_backlog_totals_say_1_item_not_1_items(page_as, project, people, sprint):
    work_item_create(
        actor=people["owner"], project=project, title="Only one", story_points=Decimal("3")
    )
    html = page_as("owner").get("/projects/MIG/backlog/").content.decode()
    assert "1 items" not in html
    assert '<span class="badge badge--muted">1 item · 3 points</span>' in html
    assert '<span class="muted small">1 item</span>' in html


def test_backlog_totals_pluralize_many_items(page_as, project, people):
    for n in range(2):
        work_item_create(
            actor=people["owner"], project=project, title=f"Item {n}", story_points=Decimal("2.5")
        )
    html = page_as("owner").get("/projects/MIG/backlog/").content.decode()
    assert '<span class="badge badge--muted">2 items · 5 points</span>' in html


def test_sprint_close_message_shows_plain_numbers(page_as, project, people, sprint):
    owner = people["owner"]
    work_item_create(
        actor=owner, project=project, title="Done part", story_points=Decimal("2.5"), sprint=sprint
    )
    work_item_create(
        actor=owner, project=project, title="Open part", story_points=Decimal("5.5"), sprint=sprint
    )
    sprint_start(actor=owner, sprint=sprint)
    work_item_update(actor=owner, item=_item(1), status="Done")
    client = page_as("owner")

    response = client.post(f"/sprints/{sprint.pk}/close/", {"move_unfinished_to": "backlog"})

    assert response.status_code == 302
    assert response.url == f"/sprints/{sprint.pk}/"
    flashes = _flashes(client.get(response.url).content.decode())
    assert flashes == ["Sprint 1 closed with 2.5 of 8 points done."]
    assert (_item(1).sprint_id, _item(2).sprint_id) == (sprint.pk, None)


def test_sprint_close_message_with_whole_numbers_has_no_decimals(
    page_as, project, people, active_sprint
):
    work_item_update(actor=people["owner"], item=_item(1), status="Done")
    client = page_as("owner")
    response = client.post(f"/sprints/{active_sprint.pk}/close/", {})
    flashes = _flashes(client.get(response.url).content.decode())
    assert flashes == ["Sprint 1 closed with 3 of 3 points done."]


def test_sprint_start_twice_shows_the_conflict_and_changes_nothing(page_as, project, active_sprint):
    client = page_as("owner")
    before = _state(project)
    response = client.post(f"/sprints/{active_sprint.pk}/start/")
    assert response.status_code == 302
    assert _flashes(client.get(response.url).content.decode()) == [
        "Sprint 1 is active; only a planned sprint can start."
    ]
    assert _state(project) == before


def test_sprint_create_with_end_before_start_is_400_and_creates_nothing(page_as, project, sprint):
    before = _state(project)
    response = page_as("owner").post(
        "/projects/MIG/sprints/new/",
        {"name": "Sprint 2", "start_date": "2025-03-28", "end_date": "2025-03-17"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The end date must not be before the start date." in html
    # The invalid input points at the message that explains it (every id it names exists).
    described = re.search(
        r'<input type="date" name="end_date"[^>]*aria-describedby="([^"]+)"', html
    )
    assert described
    for ref in described[1].split():
        assert f'id="{ref}"' in html, f"aria-describedby names a missing element: {ref}"
    error_ids = [
        ref for ref in described[1].split() if f'<ul class="field-errors" id="{ref}"' in html
    ]
    assert len(error_ids) == 1
    assert _errors_list(html, error_ids[0]) == ["The end date must not be before the start date."]
    assert _state(project) == before


def test_workflow_add_status_with_empty_name_is_400_and_changes_nothing(page_as, project):
    before = _state(project)
    response = page_as("owner").post(
        "/projects/MIG/workflow/", {"action": "add", "name": "", "category": "todo"}
    )
    assert response.status_code == 400
    assert (
        '<div class="form-errors" role="alert"><p>name: Give the status a name.</p></div>'
        in response.content.decode()
    )
    assert _state(project) == before


# --- empty states --------------------------------------------------------------------------------


def test_empty_backlog_says_there_are_no_items_and_offers_quick_create(page_as, project):
    html = page_as("member").get("/projects/MIG/backlog/").content.decode()
    assert '<p class="muted small backlog__empty">No items.</p>' in html
    assert 'action="/projects/MIG/backlog/items/"' in html
    assert '<span class="badge badge--muted">0 items · 0 points</span>' in html


def test_filtered_backlog_with_no_match_says_so(page_as, items):
    html = page_as("member").get("/projects/MIG/backlog/?q=kubernetes").content.decode()
    assert "No items match the filters." in html
    assert 'id="row-MIG-2"' not in html


def test_board_without_a_sprint_explains_how_to_get_one(page_as, project):
    html = page_as("member").get("/projects/MIG/board/").content.decode()
    assert '<h2 class="empty-state__title">No sprint to show</h2>' in html
    assert "Plan a sprint on the backlog and move items into it." in html
    assert '<a class="btn btn--primary" href="/projects/MIG/backlog/">Open the backlog</a>' in html


def test_board_without_an_active_sprint_shows_the_next_planned_one(page_as, project, sprint):
    html = page_as("member").get("/projects/MIG/board/").content.decode()
    assert f'<option value="{sprint.pk}" selected>Sprint 1 (planned)</option>' in html
    assert "No sprint to show" not in html


def test_my_work_without_items_says_nothing_is_assigned(page_as, items):
    html = page_as("viewer").get("/my-work/").content.decode()
    assert '<h2 class="empty-state__title">Nothing assigned to you</h2>' in html
    assert "Items assigned to you in any project appear here." in html
    assert "<table" in html  # the projects table still lists the viewer's project


def test_my_work_hides_done_items(page_as, project, people, items):
    work_item_update(actor=people["owner"], item=_item(1), status="Done")
    html = page_as("member").get("/my-work/").content.decode()
    assert "Nothing assigned to you" in html


def test_charts_panel_without_closed_sprints_explains_what_will_appear(page_as, project):
    html = page_as("viewer").get("/projects/MIG/charts/").content.decode()
    assert "No active sprint." in html
    assert "Velocity appears after the first closed sprint." in html
    assert "Flow appears once items move." in html
    assert "<svg" not in html


def test_sprint_page_of_a_planned_sprint_explains_when_the_burndown_starts(page_as, sprint):
    html = page_as("viewer").get(f"/sprints/{sprint.pk}/").content.decode()
    assert "The burndown starts when the sprint starts." in html
    assert "<svg" not in html.split('id="burndown-panel"')[1]


# --- charts: SVG with a data table, polling ------------------------------------------------------


def test_sprint_burndown_renders_as_svg_with_a_data_table(page_as, project, active_sprint):
    _fresh_burndown(project)
    html = page_as("viewer").get(f"/sprints/{active_sprint.pk}/").content.decode()
    chart_id = f"burndown-{active_sprint.pk}"
    assert re.search(
        rf'<svg class="chart__svg"[^>]*role="img"[^>]*aria-labelledby="{chart_id}-title', html
    )
    assert f'<title id="{chart_id}-title">Burndown of Sprint 1</title>' in html
    table = re.search(r"<table class=\"table\">.*?</table>", html, re.S)
    assert table
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', table[0])
    assert headers == ["Day", "Scope", "Remaining", "Completed", "Remaining hours", "Ideal"]
    days = re.findall(r'<th scope="row">([\d-]+)</th>', table[0])
    assert days == [(date(2025, 3, 3) + timedelta(days=n)).isoformat() for n in range(12)]


def test_project_charts_render_velocity_and_flow_as_svg_with_tables(
    page_as, project, people, active_sprint
):
    work_item_update(actor=people["owner"], item=_item(1), status="Done")
    sprint_close(actor=people["owner"], sprint=Sprint.objects.get(pk=active_sprint.pk))
    _fresh_burndown(project)

    html = page_as("executive").get("/projects/MIG/charts/").content.decode()

    assert html.count('<svg class="chart__svg"') == 2
    assert '<title id="velocity-title">Velocity</title>' in html
    assert '<title id="flow-title">Cumulative flow</title>' in html
    velocity = re.search(r'<figure class="chart" id="velocity">.*?</figure>', html, re.S)
    assert velocity
    assert re.findall(r'<th scope="row">([^<]+)</th>', velocity[0]) == ["Sprint 1"]
    assert "No active sprint." in html


def test_project_charts_show_velocity_figures_formatted(page_as, project, people):
    owner = people["owner"]
    for n, (points, start) in enumerate([(8, date(2025, 3, 3)), (5, date(2025, 3, 17))], 1):
        sprint = _sprint(project, owner, f"Sprint {n}", start, start + timedelta(days=11))
        item = work_item_create(
            actor=owner,
            project=project,
            title=f"Work {n}",
            story_points=Decimal(points),
            sprint=sprint,
        )
        sprint_start(actor=owner, sprint=sprint)
        work_item_update(actor=owner, item=item, status="Done")
        sprint_close(actor=owner, sprint=Sprint.objects.get(pk=sprint.pk))
    _fresh_burndown(project)

    html = page_as("viewer").get("/projects/MIG/charts/").content.decode()

    figures = re.search(r'<p class="muted small">(Mean [^<]*)</p>', html)
    assert figures
    assert re.fullmatch(
        r"Mean 6\.5 · median 6\.5 · standard deviation 2\.1\d? \(last 3 closed sprints\)",
        figures[1],
    ), figures[1]
    assert "2 items done" in html


def test_project_charts_say_1_item_done(page_as, project, people, active_sprint):
    work_item_update(actor=people["owner"], item=_item(1), status="Done")
    _fresh_burndown(project)
    html = page_as("viewer").get("/projects/MIG/charts/").content.decode()
    assert "1 item done" in html
    assert "1 items" not in html


def test_planned_and_closed_sprints_do_not_poll_for_their_burndown(
    page_as, project, people, sprint, items
):
    client = page_as("viewer")
    assert _poll_url(client.get(f"/sprints/{sprint.pk}/").content.decode()) is None

    sprint_start(actor=people["owner"], sprint=sprint)
    sprint_close(actor=people["owner"], sprint=Sprint.objects.get(pk=sprint.pk))
    _fresh_burndown(project)

    html = client.get(f"/sprints/{sprint.pk}/").content.decode()
    assert "a closed sprint's figures are final" in html
    assert _poll_url(html) is None


def test_active_sprint_polls_and_polling_stops_swapping_while_nothing_changed(
    page_as, project, people, active_sprint
):
    client = page_as("viewer")
    html = client.get(f"/sprints/{active_sprint.pk}/").content.decode()
    assert "A worker is computing the burndown" in html
    poll = _poll_url(html)
    assert poll is not None
    assert poll.startswith(f"/sprints/{active_sprint.pk}/burndown/")

    _fresh_burndown(project)
    fresh = client.get(poll)
    assert fresh.status_code == 200
    assert f"Burndown of {active_sprint.name}" in fresh.content.decode()

    html = client.get(f"/sprints/{active_sprint.pk}/").content.decode()
    poll = _poll_url(html)
    assert poll is not None  # an active sprint keeps changing
    unchanged = client.get(poll)
    # Nothing new since the page rendered: no swap (204), or stop polling (286) without
    # re-inserting a panel that would start polling again.
    assert unchanged.status_code in (204, 286)
    assert "every" not in unchanged.content.decode()


def test_polling_picks_up_a_newer_burndown(page_as, project, people, active_sprint):
    _fresh_burndown(project)
    client = page_as("viewer")
    poll = _poll_url(client.get(f"/sprints/{active_sprint.pk}/").content.decode())
    assert poll is not None
    shown = list(BurndownDay.objects.values_list("computed_at", flat=True).distinct())

    work_item_update(actor=people["owner"], item=_item(1), status="Done")
    _fresh_burndown(project)
    assert list(BurndownDay.objects.values_list("computed_at", flat=True).distinct()) != shown

    response = client.get(poll)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="burndown-panel"')
    assert "<html" not in html
    assert '<svg class="chart__svg"' in html


# --- query counts --------------------------------------------------------------------------------


@pytest.fixture
def many(project, people, sprint):
    """``many(n)``: n items, alternating between Sprint 1 and the backlog, all the member's."""

    def make(count: int) -> None:
        statuses = list(Status.objects.filter(project=project).order_by("order"))
        for n in range(1, count + 1):
            WorkItemFactory(
                project=project,
                number=n,
                title=f"Item {n}",
                status=statuses[n % len(statuses)] if n % 2 else statuses[0],
                sprint=sprint if n % 2 else None,
                assignee=people["member"] if n % 3 else people["owner"],
                story_points=Decimal(n % 5),
                remaining_hours=Decimal(n % 7),
                labels=["ops"] if n % 4 == 0 else [],
                blocked=n % 6 == 0,
                rank=f"{n:06d}h",
            )
        Project.objects.filter(pk=project.pk).update(next_item_number=count + 1)

    return make


@pytest.mark.parametrize("count", [5, 60])
def test_backlog_query_count_does_not_grow_with_items(
    page_as, many, count, django_assert_max_num_queries
):
    many(count)
    client = page_as("member")
    with django_assert_max_num_queries(BACKLOG_QUERIES):
        response = client.get("/projects/MIG/backlog/")
    assert response.status_code == 200
    assert len(re.findall(r'<li class="backlog__row', response.content.decode())) == count


@pytest.mark.parametrize("count", [5, 60])
@pytest.mark.parametrize("lanes", ["", "assignee"], ids=["columns", "swimlanes"])
def test_board_query_count_does_not_grow_with_cards(
    page_as, sprint, many, count, lanes, django_assert_max_num_queries
):
    many(count)
    client = page_as("member")
    with django_assert_max_num_queries(BOARD_QUERIES):
        response = client.get(f"/projects/MIG/board/?sprint={sprint.pk}&swimlanes={lanes}")
    assert response.status_code == 200
    cards = re.findall(r'<li class="card board__card', response.content.decode())
    assert len(cards) == (count + 1) // 2


@pytest.mark.parametrize("count", [5, 60])
def test_my_work_query_count_does_not_grow_with_items(
    page_as, project, people, many, count, django_assert_max_num_queries
):
    many(count)
    other = ProjectFactory(key="OPS", name="Operations")
    MembershipFactory(project=other, user=people["member"])
    for n in range(1, count + 1):
        WorkItemFactory(project=other, number=n, assignee=people["member"])
    expected = (
        WorkItem.objects.filter(assignee=people["member"]).exclude(status__category="done").count()
    )
    client = page_as("member")
    with django_assert_max_num_queries(MY_WORK_QUERIES):
        response = client.get("/my-work/")
    assert response.status_code == 200
    keys = re.findall(
        r'<td class="mono"><a href="/items/([A-Z]+-\d+)/">', response.content.decode()
    )
    assert len(keys) == expected
    assert {key.split("-")[0] for key in keys} == {"MIG", "OPS"}


def test_my_work_lists_only_items_of_visible_projects(page_as, project, people, items):
    hidden = ProjectFactory(key="SEC", name="Secret")
    stranger = UserFactory(username="stranger")
    MembershipFactory(project=hidden, user=stranger)
    WorkItemFactory(project=hidden, number=1, assignee=people["member"], title="Hidden work")
    html = page_as("member").get("/my-work/").content.decode()
    assert "Hidden work" not in html
    assert re.findall(r'<td class="mono"><a href="/items/([A-Z]+-\d+)/">', html) == ["MIG-1"]


@pytest.mark.parametrize(
    "path",
    [
        "/projects/MIG/backlog/",
        "/projects/MIG/board/",
        "/items/MIG-1/",
        "/sprints/{sprint}/",
        "/sprints/{sprint}/burndown/",
        "/projects/MIG/charts/",
        "/projects/MIG/workflow/",
        "/my-work/",
    ],
)
def test_sprint_pages_leak_no_template_syntax(page_as, project, active_sprint, path):
    _fresh_burndown(project)
    html = page_as("owner").get(path.format(sprint=active_sprint.pk)).content.decode()
    for token in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert token not in html, token
