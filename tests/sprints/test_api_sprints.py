"""Sprints and sprint metrics over REST: permission matrix, contract, lifecycle, bad input,
optimistic concurrency, query counts, and burndown/velocity/flow rows after a recompute."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db.models import Max

from projects.models import Membership, Project
from sprints.metric_inputs import project_today
from sprints.models import BurndownDay, FlowDay, ItemEvent, ProjectMetrics, Sprint, WorkItem
from sprints.services.items import work_item_create, work_item_update
from sprints.services.sprints import sprint_close, sprint_create, sprint_start
from sprints.tasks import recompute_burndowns, recompute_flow
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.matrix import api_matrix

SPRINTS = "/api/v1/projects/MIG/sprints/"
LIST_KEYS = {"count", "next", "previous", "results"}
CONTRACT_KEYS = {
    "id",
    "name",
    "goal",
    "start_date",
    "end_date",
    "state",
    "committed_points",
    "completed_points",
}
BURNDOWN_DAY_KEYS = {
    "date",
    "scope_points",
    "remaining_points",
    "completed_points",
    "remaining_hours",
    "ideal_points",
}
# Same budget at 1 row and at many rows: a per-row query would break it.
SPRINT_LIST_QUERIES = 3
BURNDOWN_QUERIES = 2
PROJECT_METRIC_QUERIES = 3


READERS = api_matrix("owner", "member", "viewer", "executive")
OWNERS = api_matrix("owner")
OWNERS_CREATE = api_matrix("owner", ok=201)
OWNERS_DELETE = api_matrix("owner", ok=204)


# --- fixtures and helpers ------------------------------------------------------------------------


def _sprint(
    project: Project,
    actor,
    name: str = "Sprint 1",
    start: date = date(2026, 1, 5),
    end: date = date(2026, 1, 16),
) -> Sprint:
    return sprint_create(actor=actor, project=project, name=name, start_date=start, end_date=end)


def _url(sprint: Sprint, action: str = "") -> str:
    return f"/api/v1/sprints/{sprint.pk}/{action}"


def _state() -> dict:
    """Everything a refused request must leave as it was (all projects)."""
    return {
        "sprints": list(
            Sprint.objects.order_by("pk").values_list(
                "pk",
                "project_id",
                "name",
                "goal",
                "start_date",
                "end_date",
                "state",
                "committed_points",
                "completed_points",
                "capacity_hours",
                "started_at",
                "closed_at",
                "version",
            )
        ),
        "items": list(
            WorkItem.objects.order_by("pk").values_list(
                "pk", "sprint_id", "status_id", "story_points", "version"
            )
        ),
        "events": ItemEvent.objects.count(),
        "burndown_days": BurndownDay.objects.count(),
    }


def _fresh(sprint: Sprint) -> Sprint:
    return Sprint.objects.get(pk=sprint.pk)


def _sprint_of(number: int) -> int | None:
    return WorkItem.objects.get(project__key="MIG", number=number).sprint_id


@pytest.fixture
def sprint(project, people):
    """Sprint 1 of MIG, planned for 5-16 January 2026, with MIG-1 (3 points) in it."""
    planned = _sprint(project, people["owner"])
    work_item_create(
        actor=people["owner"], project=project, title="Peer VPCs", story_points=3, sprint=planned
    )
    return planned


@pytest.fixture
def active(sprint, people):
    return sprint_start(actor=people["owner"], sprint=sprint)


@pytest.fixture
def scene(project, people):
    """Active Sprint 1 (MIG-1 3 pts done, MIG-2 5 pts in progress, MIG-3 2 pts to do), committed
    10; planned Sprint 2; MIG-4 (8 pts) in the backlog."""
    owner = people["owner"]
    first = _sprint(project, owner)
    second = _sprint(project, owner, "Sprint 2", date(2026, 1, 19), date(2026, 1, 30))
    for title, points, status, sprint_ in (
        ("Provision VPC", 3, "Done", first),
        ("Migrate billing DB", 5, "In Progress", first),
        ("Cut over DNS", 2, "To Do", first),
        ("Retire old VPC", 8, "To Do", None),
    ):
        work_item_create(
            actor=owner,
            project=project,
            title=title,
            story_points=points,
            status=status,
            sprint=sprint_,
        )
    return {"first": sprint_start(actor=owner, sprint=first), "second": second}


@pytest.fixture
def ops(people):
    """A second project, OPS, owned by the same owner."""
    other = ProjectFactory(key="OPS", name="Operations")
    MembershipFactory(project=other, user=people["owner"], role=Membership.Role.OWNER)
    MembershipFactory(project=other, user=people["member"], role=Membership.Role.MEMBER)
    return other


@contextmanager
def _events_at(when: datetime) -> Iterator[None]:
    """Date the history rows written inside the block at ``when``.

    Services record history at the moment of the change; metrics are about past days, so a
    hand-computed case rewrites the times of the rows it just produced.
    """
    mark = ItemEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    yield
    ItemEvent.objects.filter(pk__gt=mark).update(at=when)


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)  # the project's zone is UTC


# --- permission matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_sprint_list_access(api_as, sprint, role, expected):
    response = api_as(role).get(SPRINTS)
    assert response.status_code == expected
    if expected == 200:
        assert [s["name"] for s in response.json()["results"]] == ["Sprint 1"]


@pytest.mark.parametrize(("role", "expected"), OWNERS_CREATE)
def test_sprint_create_access(api_as, project, sprint, role, expected):
    before = _state()
    response = api_as(role).post(
        SPRINTS,
        {"name": "Sprint 2", "start_date": "2026-01-19", "end_date": "2026-01-30"},
        format="json",
    )
    assert response.status_code == expected
    if expected == 201:
        assert list(Sprint.objects.order_by("pk").values_list("name", "state")) == [
            ("Sprint 1", "planned"),
            ("Sprint 2", "planned"),
        ]
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_sprint_detail_access(api_as, sprint, role, expected):
    response = api_as(role).get(_url(sprint))
    assert response.status_code == expected
    if expected == 200:
        assert (response.json()["id"], response.json()["name"]) == (sprint.pk, "Sprint 1")


@pytest.mark.parametrize(("role", "expected"), OWNERS)
def test_sprint_update_access(api_as, sprint, role, expected):
    before = _state()
    response = api_as(role).patch(_url(sprint), {"goal": "Billing runs in AWS"}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert (_fresh(sprint).goal, _fresh(sprint).version) == ("Billing runs in AWS", 2)
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), OWNERS_DELETE)
def test_sprint_delete_access(api_as, sprint, role, expected):
    before = _state()
    response = api_as(role).delete(_url(sprint))
    assert response.status_code == expected
    if expected == 204:
        assert not Sprint.objects.filter(pk=sprint.pk).exists()
        assert _sprint_of(1) is None  # its item went back to the backlog
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), OWNERS)
def test_sprint_start_access(api_as, sprint, role, expected):
    before = _state()
    response = api_as(role).post(_url(sprint, "start/"))
    assert response.status_code == expected
    if expected == 200:
        assert (_fresh(sprint).state, _fresh(sprint).committed_points) == ("active", Decimal(3))
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), OWNERS)
def test_sprint_close_access(api_as, active, role, expected):
    before = _state()
    response = api_as(role).post(_url(active, "close/"), {}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert (_fresh(active).state, _fresh(active).completed_points) == ("closed", Decimal(0))
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_sprint_burndown_access(api_as, active, role, expected):
    response = api_as(role).get(_url(active, "burndown/"))
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["sprint"] == active.pk


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_project_velocity_access(api_as, scene, people, role, expected):
    sprint_close(actor=people["owner"], sprint=scene["first"])
    response = api_as(role).get("/api/v1/projects/MIG/velocity/")
    assert response.status_code == expected
    if expected == 200:
        assert [s["name"] for s in response.json()["sprints"]] == ["Sprint 1"]


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_project_flow_access(api_as, scene, project, role, expected):
    recompute_flow(project.pk)
    response = api_as(role).get("/api/v1/projects/MIG/flow/")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["days"][-1] == {
            "date": project_today(project).isoformat(),
            "todo": 2,
            "in_progress": 1,
            "done": 1,
        }


def test_sprint_of_an_unknown_or_invisible_project_is_404(api_as, people, ops):
    foreign = _sprint(ops, people["owner"], "OPS sprint")
    for path in (_url(foreign), _url(foreign, "burndown/"), "/api/v1/sprints/987654/"):
        assert api_as("viewer").get(path).status_code == 404
    assert api_as("viewer").get("/api/v1/projects/NOPE/sprints/").status_code == 404
    assert api_as("executive").get("/api/v1/projects/NOPE/velocity/").status_code == 404


# --- contract shapes -----------------------------------------------------------------------------


def test_sprint_json_carries_the_contract_fields(api_as, project, people):
    sprint_create(
        actor=people["owner"],
        project=project,
        name="Sprint 1",
        goal="Billing DB replicated to AWS",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 16),
    )
    sprint = Sprint.objects.get()

    response = api_as("viewer").get(_url(sprint))

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= CONTRACT_KEYS
    assert {key: body[key] for key in CONTRACT_KEYS} == {
        "id": sprint.pk,
        "name": "Sprint 1",
        "goal": "Billing DB replicated to AWS",
        "start_date": "2026-01-05",
        "end_date": "2026-01-16",
        "state": "planned",
        "committed_points": None,
        "completed_points": None,
    }
    # Owner and member give 40 h a week each: 16 h a working day, ten working days.
    assert (body["capacity_hours"], body["version"], body["project"]) == (160.0, 1, "MIG")


def test_sprint_create_returns_the_new_sprint(api_as, project):
    response = api_as("owner").post(
        SPRINTS,
        {
            "name": "  Sprint 1  ",
            "goal": "Cut over DNS",
            "start_date": "2026-02-02",
            "end_date": "2026-02-13",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    sprint = Sprint.objects.get()
    assert {key: body[key] for key in CONTRACT_KEYS} == {
        "id": sprint.pk,
        "name": "Sprint 1",
        "goal": "Cut over DNS",
        "start_date": "2026-02-02",
        "end_date": "2026-02-13",
        "state": "planned",
        "committed_points": None,
        "completed_points": None,
    }
    assert (sprint.project_id, sprint.name, sprint.state) == (project.pk, "Sprint 1", "planned")


def test_sprint_list_is_paginated_in_start_date_order(api_as, project, people):
    owner = people["owner"]
    _sprint(project, owner, "Sprint 3", date(2026, 2, 2), date(2026, 2, 13))
    _sprint(project, owner, "Sprint 1", date(2026, 1, 5), date(2026, 1, 16))
    _sprint(project, owner, "Sprint 2", date(2026, 1, 19), date(2026, 1, 30))

    first = api_as("member").get(SPRINTS + "?page_size=2")
    second = api_as("member").get(SPRINTS + "?page_size=2&page=2")

    for response in (first, second):
        assert response.status_code == 200
        assert set(response.json()) == LIST_KEYS
        assert response.json()["count"] == 3
    assert [s["name"] for s in first.json()["results"]] == ["Sprint 1", "Sprint 2"]
    assert [s["name"] for s in second.json()["results"]] == ["Sprint 3"]
    assert first.json()["next"].endswith("page=2&page_size=2")
    assert set(first.json()["results"][0]) >= CONTRACT_KEYS


def test_burndown_before_any_recompute_is_empty(api_as, active):
    response = api_as("viewer").get(_url(active, "burndown/"))
    assert response.status_code == 200
    assert response.json() == {"sprint": active.pk, "computed_at": None, "days": []}


def test_velocity_json_carries_the_contract_fields(api_as, scene, people):
    closed = sprint_close(actor=people["owner"], sprint=scene["first"])
    response = api_as("viewer").get("/api/v1/projects/MIG/velocity/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"sprints", "mean", "median", "stdev"}
    row = body["sprints"][0]
    assert {k: row[k] for k in ("id", "name", "committed_points", "completed_points")} == {
        "id": closed.pk,
        "name": "Sprint 1",
        "committed_points": 10.0,
        "completed_points": 3.0,
    }
    # Statistics are worker-computed: none yet.
    assert (body["mean"], body["median"], body["stdev"]) == (None, None, None)


def test_flow_json_before_any_recompute(api_as, project):
    response = api_as("viewer").get("/api/v1/projects/MIG/flow/")
    assert response.status_code == 200
    assert response.json() == {
        "computed_at": None,
        "start_date": None,
        "end_date": None,
        "days": [],
        "cycle_time_days": {},
        "lead_time_days": {},
        "throughput": [],
        "items_done": 0,
    }


# --- lifecycle -----------------------------------------------------------------------------------


def test_sprint_start_freezes_committed_points(api_as, scene, people):
    sprint = scene["first"]
    response = api_as("owner").get(_url(sprint))
    assert (response.json()["state"], response.json()["committed_points"]) == ("active", 10.0)
    assert response.json()["started_at"] is not None

    member = api_as("member")
    assert (
        member.patch("/api/v1/items/MIG-4/", {"sprint": sprint.pk}, format="json").status_code
        == 200
    )
    assert (
        member.patch("/api/v1/items/MIG-3/", {"story_points": 13}, format="json").status_code == 200
    )
    created = member.post(
        "/api/v1/projects/MIG/items/",
        {"title": "Scope creep", "story_points": 5, "sprint": sprint.pk},
        format="json",
    )
    assert created.status_code == 201

    body = api_as("owner").get(_url(sprint)).json()
    assert (body["committed_points"], body["completed_points"]) == (10.0, None)
    assert _fresh(sprint).committed_points == Decimal("10.0")
    assert WorkItem.objects.filter(sprint=sprint).count() == 5


def test_sprint_start_answers_the_started_sprint(api_as, sprint):
    response = api_as("owner").post(_url(sprint, "start/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["state"], body["committed_points"], body["version"]) == (
        sprint.pk,
        "active",
        3.0,
        2,
    )


def test_only_one_sprint_can_be_active(api_as, scene):
    second = scene["second"]
    before = _state()

    response = api_as("owner").post(_url(second, "start/"))

    assert response.status_code == 409
    assert response.json()["code"] == "sprint_active"
    assert _state() == before
    assert _fresh(second).state == "planned"


def test_parallel_sprints_when_the_project_allows_them(api_as, project, scene):
    Project.objects.filter(pk=project.pk).update(allow_parallel_sprints=True)

    response = api_as("owner").post(_url(scene["second"], "start/"))

    assert response.status_code == 200
    assert sorted(Sprint.objects.values_list("name", "state")) == [
        ("Sprint 1", "active"),
        ("Sprint 2", "active"),
    ]


def test_sprint_close_freezes_completed_points(api_as, scene):
    sprint = scene["first"]
    response = api_as("owner").post(_url(sprint, "close/"), {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["committed_points"], body["completed_points"]) == (
        "closed",
        10.0,
        3.0,
    )
    assert body["closed_at"] is not None

    member = api_as("member")
    assert (
        member.patch("/api/v1/items/MIG-1/", {"story_points": 20}, format="json").status_code == 200
    )
    assert (
        member.patch("/api/v1/items/MIG-1/", {"status": "In Progress"}, format="json").status_code
        == 200
    )

    after = api_as("owner").get(_url(sprint)).json()
    assert (after["committed_points"], after["completed_points"]) == (10.0, 3.0)
    assert _sprint_of(1) == sprint.pk


@pytest.mark.parametrize(
    "payload",
    [{}, {"move_unfinished_to": "backlog"}, {"move_unfinished_to": None}],
    ids=["default", "backlog", "null"],
)
def test_sprint_close_moves_unfinished_items_to_the_backlog(api_as, scene, payload):
    sprint = scene["first"]
    versions = dict(WorkItem.objects.values_list("number", "version"))

    response = api_as("owner").post(_url(sprint, "close/"), payload, format="json")

    assert response.status_code == 200
    assert [_sprint_of(n) for n in (1, 2, 3, 4)] == [sprint.pk, None, None, None]
    after = dict(WorkItem.objects.values_list("number", "version"))
    assert after == {1: versions[1], 2: versions[2] + 1, 3: versions[3] + 1, 4: versions[4]}
    closed_at = _fresh(sprint).closed_at
    moves = ItemEvent.objects.filter(field="sprint", at__gt=closed_at)
    assert sorted((e.item_id, e.value) for e in moves) == sorted(
        (WorkItem.objects.get(number=n).pk, None) for n in (2, 3)
    )


@pytest.mark.parametrize("as_text", [False, True], ids=["id", "id-as-text"])
def test_sprint_close_moves_unfinished_items_to_a_planned_sprint(api_as, scene, as_text):
    sprint, target = scene["first"], scene["second"]
    destination = str(target.pk) if as_text else target.pk

    response = api_as("owner").post(
        _url(sprint, "close/"), {"move_unfinished_to": destination}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["completed_points"] == 3.0
    assert [_sprint_of(n) for n in (1, 2, 3, 4)] == [sprint.pk, target.pk, target.pk, None]
    target = _fresh(target)
    assert (target.state, target.committed_points) == ("planned", None)
    assert list(
        ItemEvent.objects.filter(field="sprint", at__gt=_fresh(sprint).closed_at)
        .order_by("item_id")
        .values_list("value", "label")
    ) == [(str(target.pk), "Sprint 2"), (str(target.pk), "Sprint 2")]


def test_sprint_close_answers_the_closed_sprint(api_as, active):
    response = api_as("owner").post(_url(active, "close/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["state"], body["version"]) == (active.pk, "closed", 3)
    assert _sprint_of(1) is None  # MIG-1 was not done


def test_sprint_delete_moves_its_items_to_the_backlog(api_as, sprint):
    response = api_as("owner").delete(_url(sprint))
    assert response.status_code == 204
    assert not Sprint.objects.exists()
    item = WorkItem.objects.get(number=1)
    assert (item.sprint_id, item.version) == (None, 2)
    assert ItemEvent.objects.filter(item_id=item.pk, field="sprint").latest("at").value is None


def test_sprint_patch_renames_and_redates_a_planned_sprint(api_as, sprint):
    response = api_as("owner").patch(
        _url(sprint),
        {"name": "Sprint 1b", "start_date": "2026-01-12", "end_date": "2026-01-23"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["start_date"], body["end_date"], body["version"]) == (
        "Sprint 1b",
        "2026-01-12",
        "2026-01-23",
        2,
    )
    fresh = _fresh(sprint)
    assert (fresh.name, fresh.start_date, fresh.end_date) == (
        "Sprint 1b",
        date(2026, 1, 12),
        date(2026, 1, 23),
    )


@pytest.mark.parametrize(
    "payload",
    [{}, {"state": "closed", "committed_points": 99}],
    ids=["empty", "read-only-fields"],
)
def test_sprint_patch_with_nothing_to_change_keeps_the_version(api_as, sprint, payload):
    """Like an item's: a PATCH that changes nothing must not make everyone's ETag stale."""
    client = api_as("owner")
    etag = client.get(_url(sprint))["ETag"]
    before = _state()

    response = client.patch(_url(sprint), payload, format="json")

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["version"]) == ("planned", 1)
    assert response["ETag"] == etag
    assert _state() == before


def test_active_sprint_may_move_its_end_date(api_as, active):
    response = api_as("owner").patch(_url(active), {"end_date": "2026-01-20"}, format="json")
    assert response.status_code == 200
    assert _fresh(active).end_date == date(2026, 1, 20)


# --- bad input: 400 with the field, nothing changed ----------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "S", "start_date": "2026-01-16", "end_date": "2026-01-05"}, "end_date"),
        ({"name": "S", "start_date": "2026-01-05", "end_date": "2026-06-30"}, "end_date"),
        ({"name": "S", "start_date": "next monday", "end_date": "2026-01-16"}, "start_date"),
        ({"name": "S", "start_date": "2026-01-05"}, "end_date"),
        ({"start_date": "2026-01-05", "end_date": "2026-01-16"}, "name"),
        ({"name": "", "start_date": "2026-01-05", "end_date": "2026-01-16"}, "name"),
        ({"name": "   ", "start_date": "2026-01-05", "end_date": "2026-01-16"}, "name"),
        ({"name": "x" * 101, "start_date": "2026-01-05", "end_date": "2026-01-16"}, "name"),
    ],
    ids=["reversed", "too-long", "bad-date", "no-end", "no-name", "empty", "blank", "long-name"],
)
def test_sprint_create_with_bad_input_is_400_and_changes_nothing(api_as, sprint, payload, field):
    before = _state()
    response = api_as("owner").post(SPRINTS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"end_date": "2026-01-01"}, "end_date"),
        ({"start_date": "2026-01-20"}, "end_date"),
        ({"start_date": "2026-01-20", "end_date": "2026-01-19"}, "end_date"),
        ({"start_date": "soon"}, "start_date"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"version": 0}, "version"),
    ],
    ids=["end-before-start", "start-after-end", "reversed", "bad-date", "empty", "blank", "v0"],
)
def test_sprint_patch_with_bad_input_is_400_and_changes_nothing(api_as, sprint, payload, field):
    before = _state()
    response = api_as("owner").patch(_url(sprint), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state() == before


def test_active_sprint_start_date_cannot_change(api_as, active):
    before = _state()
    response = api_as("owner").patch(_url(active), {"start_date": "2026-01-06"}, format="json")
    assert response.status_code == 400
    assert "start_date" in response.json()
    assert _state() == before


def test_closed_sprint_dates_cannot_change(api_as, active, people):
    sprint_close(actor=people["owner"], sprint=active)
    before = _state()
    response = api_as("owner").patch(_url(active), {"end_date": "2026-01-30"}, format="json")
    assert response.status_code == 400
    assert "end_date" in response.json()
    assert _state() == before


# State clashes are answered like every tpm.errors.Conflict (STYLE.md B4, docs/architecture.md):
# 409 with a code, and nothing changes.
def test_closed_sprint_cannot_start_again(api_as, active, people):
    sprint_close(actor=people["owner"], sprint=active)
    before = _state()
    response = api_as("owner").post(_url(active, "start/"))
    assert response.status_code == 409
    assert response.json()["code"] == "sprint_state"
    assert _state() == before


def test_active_sprint_cannot_start_again(api_as, active):
    before = _state()
    response = api_as("owner").post(_url(active, "start/"))
    assert response.status_code == 409
    assert response.json()["code"] == "sprint_state"
    assert _state() == before


def test_planned_sprint_cannot_close(api_as, sprint):
    before = _state()
    response = api_as("owner").post(_url(sprint, "close/"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "sprint_state"
    assert _state() == before


def test_closed_sprint_cannot_close_again(api_as, active, people):
    sprint_close(actor=people["owner"], sprint=active)
    before = _state()
    response = api_as("owner").post(_url(active, "close/"), {}, format="json")
    assert response.status_code == 409
    assert _state() == before


def test_only_a_planned_sprint_can_be_deleted(api_as, active):
    before = _state()
    response = api_as("owner").delete(_url(active))
    assert response.status_code == 409
    assert response.json()["code"] == "sprint_state"
    assert _state() == before


@pytest.mark.parametrize(
    "target",
    ["next", "", "-1", "1.5", 1.5, True, [1], {"id": 1}, 987654, "987654"],
    ids=[
        "word",
        "empty",
        "negative",
        "decimal-text",
        "float",
        "bool",
        "list",
        "dict",
        "unknown",
        "unknown-text",
    ],
)
def test_sprint_close_with_a_garbage_target_is_400_and_changes_nothing(api_as, scene, target):
    before = _state()
    response = api_as("owner").post(
        _url(scene["first"], "close/"), {"move_unfinished_to": target}, format="json"
    )
    assert response.status_code == 400
    assert "move_unfinished_to" in response.json()
    assert _state() == before


def test_sprint_close_into_another_projects_sprint_is_400(api_as, scene, people, ops):
    foreign = _sprint(ops, people["owner"], "OPS sprint")
    before = _state()
    response = api_as("owner").post(
        _url(scene["first"], "close/"), {"move_unfinished_to": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert "move_unfinished_to" in response.json()
    assert _state() == before


def test_sprint_close_into_a_closed_sprint_is_400(api_as, project, people, scene):
    owner = people["owner"]
    Project.objects.filter(pk=project.pk).update(allow_parallel_sprints=True)
    old = _sprint(project, owner, "Sprint 0", date(2025, 12, 15), date(2025, 12, 26))
    sprint_close(actor=owner, sprint=sprint_start(actor=owner, sprint=old))
    before = _state()
    response = api_as("owner").post(
        _url(scene["first"], "close/"), {"move_unfinished_to": old.pk}, format="json"
    )
    assert response.status_code == 400
    assert "move_unfinished_to" in response.json()
    assert _state() == before


def test_sprint_close_into_itself_is_400(api_as, scene):
    sprint = scene["first"]
    before = _state()
    response = api_as("owner").post(
        _url(sprint, "close/"), {"move_unfinished_to": sprint.pk}, format="json"
    )
    assert response.status_code == 400
    assert "move_unfinished_to" in response.json()
    assert _state() == before


def test_item_cannot_join_another_projects_sprint(api_as, sprint, people, ops):
    foreign = _sprint(ops, people["owner"], "OPS sprint")
    before = _state()

    patched = api_as("member").patch("/api/v1/items/MIG-1/", {"sprint": foreign.pk}, format="json")
    created = api_as("member").post(
        "/api/v1/projects/MIG/items/", {"title": "Sneak in", "sprint": foreign.pk}, format="json"
    )

    for response in (patched, created):
        assert response.status_code == 400
        assert "sprint" in response.json()
    assert _state() == before
    assert not WorkItem.objects.filter(sprint=foreign).exists()


def test_sprint_malformed_json_is_400_and_changes_nothing(api_as, sprint):
    before = _state()
    client = api_as("owner")
    responses = [
        client.generic("POST", SPRINTS, '{"name": "S"', content_type="application/json"),
        client.generic("PATCH", _url(sprint), "{name:", content_type="application/json"),
        client.generic("POST", _url(sprint, "close/"), "{", content_type="application/json"),
    ]
    for response in responses:
        assert response.status_code == 400
        assert "detail" in response.json()
    assert _state() == before


# --- optimistic concurrency ----------------------------------------------------------------------


def test_sprint_get_returns_an_etag_that_follows_the_version(api_as, sprint):
    client = api_as("owner")
    first = client.get(_url(sprint))
    assert first.status_code == 200
    assert first["ETag"]

    patched = client.patch(_url(sprint), {"goal": "New goal"}, format="json")
    second = client.get(_url(sprint))

    assert second["ETag"] != first["ETag"]
    assert patched["ETag"] == second["ETag"]


def test_sprint_patch_with_a_current_if_match_succeeds(api_as, sprint):
    client = api_as("owner")
    etag = client.get(_url(sprint))["ETag"]
    response = client.patch(_url(sprint), {"goal": "Go"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_sprint_patch_with_a_stale_if_match_is_412_with_the_current_sprint(api_as, sprint):
    client = api_as("owner")
    etag = client.get(_url(sprint))["ETag"]
    assert client.patch(_url(sprint), {"goal": "First"}, format="json").status_code == 200
    before = _state()

    response = client.patch(_url(sprint), {"goal": "Second"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    current = response.json()["current"]
    assert (current["id"], current["version"], current["goal"]) == (sprint.pk, 2, "First")
    assert _state() == before


def test_sprint_start_makes_an_earlier_etag_stale(api_as, sprint):
    client = api_as("owner")
    etag = client.get(_url(sprint))["ETag"]
    assert client.post(_url(sprint, "start/")).status_code == 200
    before = _state()

    response = client.patch(_url(sprint), {"name": "Late"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert response.json()["current"]["state"] == "active"
    assert _state() == before


def test_sprint_patch_with_a_stale_version_is_409_with_the_current_sprint(api_as, sprint):
    client = api_as("owner")
    version = client.get(_url(sprint)).json()["version"]
    assert client.patch(_url(sprint), {"goal": "First"}, format="json").status_code == 200
    before = _state()

    response = client.patch(_url(sprint), {"goal": "Second", "version": version}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert (body["current"]["version"], body["current"]["goal"]) == (2, "First")
    assert _state() == before


def test_sprint_patch_with_the_current_version_succeeds(api_as, sprint):
    response = api_as("owner").patch(_url(sprint), {"goal": "Go", "version": 1}, format="json")
    assert response.status_code == 200
    assert (response.json()["goal"], response.json()["version"]) == ("Go", 2)


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 30])
def test_sprint_list_query_count_does_not_grow(
    api_as, project, people, django_assert_max_num_queries, n
):
    start = date(2026, 1, 5)
    for index in range(n):
        first = start + timedelta(days=14 * index)
        _sprint(project, people["owner"], f"Sprint {index + 1}", first, first + timedelta(days=11))
    client = api_as("viewer")
    with django_assert_max_num_queries(SPRINT_LIST_QUERIES):
        response = client.get(SPRINTS + "?page_size=200")
    assert response.status_code == 200
    assert response.json()["count"] == n


# --- metrics after a recompute -------------------------------------------------------------------


def test_burndown_rows_after_a_recompute_match_a_hand_computed_sprint(
    api_as, project, people, django_assert_max_num_queries
):
    """A Thursday-to-Wednesday sprint (5 working days), committed 10 points:

    day  event                              scope remaining completed hours ideal
    Thu  MIG-1 (3) done                        10        7         3     7     8
    Fri  MIG-4 (8 pts, 3 h) added              18       15         3    10     6
    Sat  -                                     18       15         3    10     6
    Sun  -                                     18       15         3    10     6
    Mon  MIG-2 (5) done, MIG-3 hours 1 -> 0.5  18       10         8   3.5     4
    Tue  MIG-3 (2) back to the backlog         16        8         8     3     2
    Wed  -                                     16        8         8     3     0
    """
    owner, member = people["owner"], people["member"]
    today = project_today(project)
    start = today - timedelta(days=14 + (today.weekday() - 3) % 7)  # a Thursday, 2+ weeks ago
    day = [start + timedelta(days=n) for n in range(7)]
    sprint = _sprint(project, owner, "Sprint 7", day[0], day[6])
    with _events_at(_moment(day[0] - timedelta(days=1), 10)):
        a, b, c = (
            work_item_create(
                actor=owner,
                project=project,
                title=title,
                story_points=points,
                remaining_hours=hours,
                sprint=sprint,
            )
            for title, points, hours in (("A", 3, 4), ("B", 5, 6), ("C", 2, 1))
        )
    sprint_start(actor=owner, sprint=sprint)
    with _events_at(_moment(day[0], 15)):
        work_item_update(actor=member, item=a, status="Done")
    with _events_at(_moment(day[1], 12)):
        work_item_create(
            actor=owner,
            project=project,
            title="D",
            story_points=8,
            remaining_hours=3,
            sprint=sprint,
        )
    with _events_at(_moment(day[4], 9)):
        work_item_update(actor=member, item=b, status="Done")
        work_item_update(actor=member, item=c, remaining_hours=Decimal("0.5"))
    with _events_at(_moment(day[5], 11)):
        work_item_update(actor=owner, item=c, sprint=None)

    assert recompute_burndowns(project.pk) == 1
    client = api_as("viewer")
    with django_assert_max_num_queries(BURNDOWN_QUERIES):
        response = client.get(_url(sprint, "burndown/"))

    assert response.status_code == 200
    body = response.json()
    assert body["sprint"] == sprint.pk
    assert body["computed_at"] is not None
    assert all(set(row) == BURNDOWN_DAY_KEYS for row in body["days"])
    assert [
        (
            row["date"],
            row["scope_points"],
            row["remaining_points"],
            row["completed_points"],
            row["remaining_hours"],
            row["ideal_points"],
        )
        for row in body["days"]
    ] == [
        (day[0].isoformat(), 10.0, 7.0, 3.0, 7.0, 8.0),
        (day[1].isoformat(), 18.0, 15.0, 3.0, 10.0, 6.0),
        (day[2].isoformat(), 18.0, 15.0, 3.0, 10.0, 6.0),
        (day[3].isoformat(), 18.0, 15.0, 3.0, 10.0, 6.0),
        (day[4].isoformat(), 18.0, 10.0, 8.0, 3.5, 4.0),
        (day[5].isoformat(), 16.0, 8.0, 8.0, 3.0, 2.0),
        (day[6].isoformat(), 16.0, 8.0, 8.0, 3.0, 0.0),
    ]
    assert _fresh(sprint).committed_points == Decimal("10.0")


def test_velocity_after_a_recompute_covers_the_last_three_closed_sprints(
    api_as, project, people, django_assert_max_num_queries
):
    """Completed 20, 8, 10, 15: the last three give mean 11, median 10, stdev sqrt(13)."""
    owner = people["owner"]
    closed = []
    for index, (done, unfinished) in enumerate(
        (([20], []), ([5, 3], [4]), ([10], []), ([15], [5]))
    ):
        first = date(2026, 1, 5) + timedelta(days=14 * index)
        sprint = _sprint(project, owner, f"Sprint {index + 1}", first, first + timedelta(days=11))
        for points in done:
            work_item_create(
                actor=owner,
                project=project,
                title="Done",
                story_points=points,
                sprint=sprint,
                status="Done",
            )
        for points in unfinished:
            work_item_create(
                actor=owner, project=project, title="Open", story_points=points, sprint=sprint
            )
        closed.append(sprint_close(actor=owner, sprint=sprint_start(actor=owner, sprint=sprint)))
    _sprint(project, owner, "Sprint 5", date(2026, 3, 2), date(2026, 3, 13))  # planned: not listed

    recompute_flow(project.pk)
    client = api_as("viewer")
    with django_assert_max_num_queries(PROJECT_METRIC_QUERIES):
        response = client.get("/api/v1/projects/MIG/velocity/")

    assert response.status_code == 200
    body = response.json()
    assert [
        (s["id"], s["name"], s["committed_points"], s["completed_points"]) for s in body["sprints"]
    ] == [
        (closed[0].pk, "Sprint 1", 20.0, 20.0),
        (closed[1].pk, "Sprint 2", 12.0, 8.0),
        (closed[2].pk, "Sprint 3", 10.0, 10.0),
        (closed[3].pk, "Sprint 4", 20.0, 15.0),
    ]
    assert (body["mean"], body["median"], body["stdev"]) == (11.0, 10.0, 3.61)
    assert body["computed_at"] is not None
    assert body["window"] == 3
    assert ProjectMetrics.objects.get(project=project).velocity_stdev == Decimal("3.61")

    # Another window over the same frozen figures: last two 10, 15; all four 20, 8, 10, 15.
    two = client.get("/api/v1/projects/MIG/velocity/?window=2").json()
    assert (two["window"], two["mean"], two["median"], two["stdev"]) == (2, 12.5, 12.5, 3.54)
    four = client.get("/api/v1/projects/MIG/velocity/?window=4").json()
    assert (four["mean"], four["median"], four["stdev"]) == (13.25, 12.5, 5.38)
    for bad in ("0", "21", "x", "-1"):
        refused = client.get(f"/api/v1/projects/MIG/velocity/?window={bad}")
        assert refused.status_code == 400
        assert "window" in refused.json()


def test_flow_after_a_recompute_matches_a_hand_computed_week(
    api_as, project, people, django_assert_max_num_queries
):
    """Four items over the last eight days (W: cycle 1 d, lead 2 d; X: cycle 3 d, lead 4 d)."""
    owner, member = people["owner"], people["member"]
    today = project_today(project)
    day = [today - timedelta(days=7 - n) for n in range(8)]
    with _events_at(_moment(day[0], 9)):
        x, y, w = (work_item_create(actor=owner, project=project, title=title) for title in "XYW")
    with _events_at(_moment(day[1], 9)):
        work_item_update(actor=member, item=x, status="In Progress")
        work_item_update(actor=member, item=w, status="In Progress")
    with _events_at(_moment(day[2], 9)):
        work_item_update(actor=member, item=w, status="Done")
        work_item_create(actor=owner, project=project, title="Z")
    with _events_at(_moment(day[4], 9)):
        work_item_update(actor=member, item=x, status="Done")
        work_item_update(actor=member, item=y, status="In Progress")

    recompute_flow(project.pk)
    client = api_as("viewer")
    with django_assert_max_num_queries(PROJECT_METRIC_QUERIES):
        response = client.get("/api/v1/projects/MIG/flow/")

    assert response.status_code == 200
    body = response.json()
    assert (body["start_date"], body["end_date"]) == (day[0].isoformat(), today.isoformat())
    assert [(d["date"], d["todo"], d["in_progress"], d["done"]) for d in body["days"]] == [
        (day[0].isoformat(), 3, 0, 0),
        (day[1].isoformat(), 1, 2, 0),
        (day[2].isoformat(), 2, 1, 1),
        (day[3].isoformat(), 2, 1, 1),
        (day[4].isoformat(), 1, 1, 2),
        (day[5].isoformat(), 1, 1, 2),
        (day[6].isoformat(), 1, 1, 2),
        (day[7].isoformat(), 1, 1, 2),
    ]
    assert body["cycle_time_days"] == pytest.approx({"p50": 2.0, "p85": 2.7, "p95": 2.9})
    assert body["lead_time_days"] == pytest.approx({"p50": 3.0, "p85": 3.7, "p95": 3.9})
    assert body["items_done"] == 2
    mondays = sorted({d - timedelta(days=d.weekday()) for d in day})
    expected = dict.fromkeys(mondays, 0)
    for finished in (day[2], day[4]):
        expected[finished - timedelta(days=finished.weekday())] += 1
    assert [(t["week"], t["items"]) for t in body["throughput"]] == [
        (week.isoformat(), count) for week, count in expected.items()
    ]
    assert FlowDay.objects.filter(project=project).count() == 8
