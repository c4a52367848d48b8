"""Workflow statuses over REST: permission matrix, contract, create/rename/delete rules, bad
input, query counts."""

from __future__ import annotations

import pytest

from projects.models import Membership
from sprints.models import ItemEvent, Status, StatusTransition, WorkItem
from sprints.services.items import work_item_create
from sprints.services.workflow import status_create, status_delete, transitions_set
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.sprints import status_named
from tests.matrix import api_matrix

STATUSES = "/api/v1/projects/MIG/statuses/"
LIST_KEYS = {"count", "next", "previous", "results"}
CONTRACT_KEYS = {"id", "name", "category", "order"}
DEFAULT_WORKFLOW = [
    ("Backlog", "todo", 0),
    ("To Do", "todo", 1),
    ("In Progress", "in_progress", 2),
    ("In Review", "in_progress", 3),
    ("Done", "done", 4),
]
# Same budget at 1 row and at many rows: a per-row query would break it.
STATUS_LIST_QUERIES = 3  # role, count, page


READERS = api_matrix("owner", "member", "viewer", "executive")
OWNERS = api_matrix("owner")
OWNERS_CREATE = api_matrix("owner", ok=201)
OWNERS_DELETE = api_matrix("owner", ok=204)


# --- helpers -------------------------------------------------------------------------------------


def _url(status: Status) -> str:
    return f"/api/v1/statuses/{status.pk}/"


def _rows(response) -> list[dict]:
    """The listed statuses. The contract pages every list (count/next/previous/results); the
    shape itself is asserted in one test, so a plain array is read here to keep the other tests
    about their own behaviour."""
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def _workflow(response) -> list[tuple[str, str, int]]:
    return [(s["name"], s["category"], s["order"]) for s in _rows(response)]


def _state() -> dict:
    """Everything a refused request must leave as it was (all projects)."""
    return {
        "statuses": list(
            Status.objects.order_by("pk").values_list(
                "pk", "project_id", "name", "category", "order", "wip_limit"
            )
        ),
        "items": list(
            WorkItem.objects.order_by("pk").values_list("pk", "status_id", "version", "resolved_at")
        ),
        "events": ItemEvent.objects.count(),
        "transitions": StatusTransition.objects.count(),
    }


@pytest.fixture
def ops(people):
    """A second project, OPS, owned by the same owner."""
    other = ProjectFactory(key="OPS", name="Operations")
    MembershipFactory(project=other, user=people["owner"], role=Membership.Role.OWNER)
    return other


@pytest.fixture
def reviewed(project, people):
    """MIG-1 and MIG-2 sit in "In Review"; MIG-3 is in "To Do"."""
    owner = people["owner"]
    return [
        work_item_create(actor=owner, project=project, title=title, status=status)
        for title, status in (
            ("Review VPC", "In Review"),
            ("Review DNS", "In Review"),
            ("Plan", "To Do"),
        )
    ]


# --- permission matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_status_list_access(api_as, project, role, expected):
    response = api_as(role).get(STATUSES)
    assert response.status_code == expected
    if expected == 200:
        assert _workflow(response) == DEFAULT_WORKFLOW


@pytest.mark.parametrize(("role", "expected"), OWNERS_CREATE)
def test_status_create_access(api_as, project, role, expected):
    before = _state()
    response = api_as(role).post(STATUSES, {"name": "QA", "category": "in_progress"}, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert Status.objects.filter(project=project, name="QA").count() == 1
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), OWNERS)
def test_status_update_access(api_as, project, role, expected):
    before = _state()
    review = status_named(project, "In Review")
    response = api_as(role).patch(_url(review), {"name": "Peer review"}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert Status.objects.get(pk=review.pk).name == "Peer review"
    else:
        assert _state() == before


@pytest.mark.parametrize(("role", "expected"), OWNERS_DELETE)
def test_status_delete_access(api_as, project, role, expected):
    before = _state()
    review = status_named(project, "In Review")
    response = api_as(role).delete(_url(review))
    assert response.status_code == expected
    if expected == 204:
        assert not Status.objects.filter(pk=review.pk).exists()
    else:
        assert _state() == before


def test_status_of_an_unknown_or_invisible_project_is_404(api_as, ops):
    foreign = status_named(ops, "Done")
    before = _state()
    client = api_as("member")  # a member of MIG only
    responses = [
        client.get("/api/v1/projects/OPS/statuses/"),
        client.get("/api/v1/projects/NOPE/statuses/"),
        client.patch(_url(foreign), {"name": "Shipped"}, format="json"),
        client.delete(_url(foreign)),
        client.patch("/api/v1/statuses/987654/", {"name": "Shipped"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [404] * 5
    assert _state() == before


# --- contract shapes -----------------------------------------------------------------------------


def test_status_list_is_paginated_like_every_list(api_as, project):
    """DESIGN.md: "Lists are paginated ... and return {count, next, previous, results}"."""
    response = api_as("viewer").get(STATUSES + "?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) == LIST_KEYS
    assert body["count"] == 5
    assert [s["name"] for s in body["results"]] == ["Backlog", "To Do"]


def test_status_json_carries_the_contract_fields(api_as, project):
    done = status_named(project, "Done")
    rows = _rows(api_as("viewer").get(STATUSES))
    assert all(set(row) >= CONTRACT_KEYS for row in rows)
    assert {key: rows[-1][key] for key in CONTRACT_KEYS} == {
        "id": done.pk,
        "name": "Done",
        "category": "done",
        "order": 4,
    }


def test_status_list_shows_only_this_projects_workflow_in_order(api_as, project, people, ops):
    status_create(actor=people["owner"], project=ops, name="Deployed", category="done")
    status_create(actor=people["owner"], project=project, name="Triage", category="todo", order=0)
    response = api_as("owner").get(STATUSES)
    assert (
        _workflow(response)
        == [("Backlog", "todo", 0), ("Triage", "todo", 0)] + (DEFAULT_WORKFLOW[1:])
    )


# --- create and update ---------------------------------------------------------------------------


def test_status_create_appends_to_the_workflow(api_as, project):
    response = api_as("owner").post(
        STATUSES, {"name": "  QA  ", "category": "in_progress", "wip_limit": 3}, format="json"
    )
    assert response.status_code == 201
    created = Status.objects.get(project=project, name="QA")
    assert response.json() == {
        "id": created.pk,
        "name": "QA",
        "category": "in_progress",
        "order": 5,
        "wip_limit": 3,
    }
    assert _workflow(api_as("viewer").get(STATUSES))[-1] == ("QA", "in_progress", 5)


def test_status_create_at_a_given_order(api_as, project):
    response = api_as("owner").post(
        STATUSES, {"name": "Blocked", "category": "in_progress", "order": 3}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["order"], response.json()["wip_limit"]) == (3, None)
    assert Status.objects.get(pk=response.json()["id"]).order == 3


def test_status_patch_renames_recategorises_and_reorders(api_as, project):
    review = status_named(project, "In Review")
    response = api_as("owner").patch(
        _url(review),
        {"name": "Verified", "category": "done", "order": 9, "wip_limit": 4},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": review.pk,
        "name": "Verified",
        "category": "done",
        "order": 9,
        "wip_limit": 4,
    }
    fresh = Status.objects.get(pk=review.pk)
    assert (fresh.name, fresh.category, fresh.order, fresh.wip_limit) == ("Verified", "done", 9, 4)


def test_status_patch_may_change_the_case_of_its_own_name(api_as, project):
    review = status_named(project, "In Review")
    response = api_as("owner").patch(_url(review), {"name": "IN REVIEW"}, format="json")
    assert response.status_code == 200
    assert Status.objects.get(pk=review.pk).name == "IN REVIEW"


def test_status_patch_clears_the_wip_limit(api_as, project):
    review = status_named(project, "In Review")
    Status.objects.filter(pk=review.pk).update(wip_limit=2)
    response = api_as("owner").patch(_url(review), {"wip_limit": None}, format="json")
    assert response.status_code == 200
    assert Status.objects.get(pk=review.pk).wip_limit is None


def test_status_rename_keeps_its_items(api_as, project, reviewed):
    review = status_named(project, "In Review")
    assert api_as("owner").patch(_url(review), {"name": "QA"}, format="json").status_code == 200
    item = api_as("member").get("/api/v1/items/MIG-1/").json()
    assert (item["status"], item["status_category"]) == ("QA", "in_progress")


# --- delete --------------------------------------------------------------------------------------


def test_status_delete_of_an_unused_status(api_as, project):
    response = api_as("owner").delete(_url(status_named(project, "In Review")))
    assert response.status_code == 204
    assert [name for name, _, _ in _workflow(api_as("viewer").get(STATUSES))] == [
        "Backlog",
        "To Do",
        "In Progress",
        "Done",
    ]


def test_status_delete_moves_its_items_to_the_named_status(api_as, project, reviewed):
    review, progress = status_named(project, "In Review"), status_named(project, "In Progress")
    versions = dict(WorkItem.objects.values_list("number", "version"))

    response = api_as("owner").delete(_url(review), {"move_items_to": "in progress"}, format="json")

    assert response.status_code == 204
    assert not Status.objects.filter(pk=review.pk).exists()
    items = {i.number: i for i in WorkItem.objects.all()}
    assert {n: i.status_id for n, i in items.items()} == {
        1: progress.pk,
        2: progress.pk,
        3: status_named(project, "To Do").pk,
    }
    assert {n: i.version for n, i in items.items()} == {
        1: versions[1] + 1,
        2: versions[2] + 1,
        3: versions[3],
    }
    moves = ItemEvent.objects.filter(field="status", label="In Progress")
    assert sorted(moves.values_list("item_id", "value")) == [
        (items[1].pk, "in_progress"),
        (items[2].pk, "in_progress"),
    ]


def test_status_delete_into_a_done_status_resolves_the_items(api_as, project, reviewed):
    response = api_as("owner").delete(
        _url(status_named(project, "In Review")), {"move_items_to": "Done"}, format="json"
    )
    assert response.status_code == 204
    moved = WorkItem.objects.filter(number__in=[1, 2])
    assert {i.status.name for i in moved} == {"Done"}
    assert all(i.resolved_at is not None for i in moved)
    assert WorkItem.objects.get(number=3).resolved_at is None


def test_status_delete_drops_its_transitions(api_as, project, people):
    transitions_set(
        actor=people["owner"],
        project=project,
        pairs=[
            (status_named(project, "In Progress"), status_named(project, "In Review")),
            (status_named(project, "In Review"), status_named(project, "Done")),
            (status_named(project, "To Do"), status_named(project, "In Progress")),
        ],
    )
    response = api_as("owner").delete(_url(status_named(project, "In Review")))
    assert response.status_code == 204
    assert list(StatusTransition.objects.values_list("from_status__name", "to_status__name")) == [
        ("To Do", "In Progress")
    ]


# --- bad input: 400 with the field, nothing changed ----------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "QA", "category": "blocked"}, "category"),
        ({"name": "QA", "category": "Done"}, "category"),
        ({"name": "QA"}, "category"),
        ({"category": "todo"}, "name"),
        ({"name": "", "category": "todo"}, "name"),
        ({"name": "   ", "category": "todo"}, "name"),
        ({"name": "x" * 51, "category": "todo"}, "name"),
        ({"name": "Done", "category": "done"}, "name"),
        ({"name": "in progress", "category": "in_progress"}, "name"),
        ({"name": " TO DO ", "category": "todo"}, "name"),
        ({"name": "QA", "category": "todo", "wip_limit": 0}, "wip_limit"),
        ({"name": "QA", "category": "todo", "wip_limit": "many"}, "wip_limit"),
        ({"name": "QA", "category": "todo", "order": -1}, "order"),
    ],
    ids=[
        "unknown-category",
        "category-label",
        "no-category",
        "no-name",
        "empty-name",
        "blank-name",
        "long-name",
        "duplicate",
        "duplicate-other-case",
        "duplicate-padded",
        "wip-0",
        "wip-word",
        "negative-order",
    ],
)
def test_status_create_with_bad_input_is_400_and_changes_nothing(api_as, project, payload, field):
    before = _state()
    response = api_as("owner").post(STATUSES, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state() == before


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("In Review", {"name": "Done"}, "name"),
        ("In Review", {"name": "in progress"}, "name"),
        ("In Review", {"name": ""}, "name"),
        ("In Review", {"category": "waiting"}, "category"),
        ("In Review", {"wip_limit": 0}, "wip_limit"),
        ("In Review", {"order": "first"}, "order"),
        ("Done", {"category": "in_progress"}, "category"),
    ],
    ids=["duplicate", "duplicate-other-case", "empty", "category", "wip-0", "order", "last-done"],
)
def test_status_patch_with_bad_input_is_400_and_changes_nothing(
    api_as, project, name, payload, field
):
    before = _state()
    response = api_as("owner").patch(_url(status_named(project, name)), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state() == before


def test_last_todo_status_cannot_change_category(api_as, project, people):
    status_delete(actor=people["owner"], status=status_named(project, "To Do"))
    before = _state()
    response = api_as("owner").patch(
        _url(status_named(project, "Backlog")), {"category": "in_progress"}, format="json"
    )
    assert response.status_code == 400
    assert "category" in response.json()
    assert _state() == before


def test_last_done_status_cannot_be_deleted(api_as, project, reviewed):
    before = _state()
    done = status_named(project, "Done")
    plain = api_as("owner").delete(_url(done))
    with_target = api_as("owner").delete(_url(done), {"move_items_to": "To Do"}, format="json")
    for response in (plain, with_target):
        assert response.status_code == 400
        assert "category" in response.json()
    assert _state() == before


def test_last_todo_status_cannot_be_deleted(api_as, project, people):
    status_delete(actor=people["owner"], status=status_named(project, "To Do"))
    before = _state()
    response = api_as("owner").delete(_url(status_named(project, "Backlog")))
    assert response.status_code == 400
    assert "category" in response.json()
    assert _state() == before


def test_a_second_done_status_makes_the_first_deletable(api_as, project, people):
    status_create(actor=people["owner"], project=project, name="Released", category="done")
    response = api_as("owner").delete(_url(status_named(project, "Done")))
    assert response.status_code == 204
    assert list(
        Status.objects.filter(project=project, category="done").values_list("name", flat=True)
    ) == ["Released"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"move_items_to": "In Review"}, {"move_items_to": "Shipped"}, {"move_items_to": ""}],
    ids=["no-target", "itself", "unknown", "empty"],
)
def test_status_in_use_needs_a_valid_move_target(api_as, project, reviewed, payload):
    before = _state()
    response = api_as("owner").delete(
        _url(status_named(project, "In Review")), payload, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"move_items_to"}
    assert _state() == before


def test_status_delete_target_must_be_in_the_same_project(api_as, project, people, reviewed, ops):
    status_create(actor=people["owner"], project=ops, name="Deployed", category="done")
    before = _state()
    response = api_as("owner").delete(
        _url(status_named(project, "In Review")), {"move_items_to": "Deployed"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"move_items_to"}
    assert _state() == before


def test_status_malformed_json_is_400_and_changes_nothing(api_as, project):
    before = _state()
    client = api_as("owner")
    review = _url(status_named(project, "In Review"))
    responses = [
        client.generic("POST", STATUSES, '{"name": "QA"', content_type="application/json"),
        client.generic("PATCH", review, "{name:", content_type="application/json"),
        client.generic("DELETE", review, "{", content_type="application/json"),
    ]
    for response in responses:
        assert response.status_code == 400
        assert "detail" in response.json()
    assert _state() == before


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 30])
def test_status_list_query_count_does_not_grow(
    api_as, project, people, django_assert_max_num_queries, n
):
    if n == 1:
        Status.objects.filter(project=project).exclude(name="Backlog").delete()
    else:
        for index in range(n - 5):
            status_create(
                actor=people["owner"], project=project, name=f"Step {index}", category="todo"
            )
    client = api_as("viewer")
    with django_assert_max_num_queries(STATUS_LIST_QUERIES):
        response = client.get(STATUSES + "?page_size=200")
    assert response.status_code == 200
    assert len(_rows(response)) == n
