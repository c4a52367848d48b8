"""Work items over REST: permission matrix, contract, behaviour, bad input, query counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from projects.models import Membership, Project
from sprints.metric_inputs import project_today
from sprints.models import Comment, Dependency, ItemEvent, WorkItem, WorkLog
from sprints.services.activity import comment_create, worklog_create
from sprints.services.items import work_item_create, work_item_update
from sprints.services.sprints import sprint_close, sprint_create, sprint_start
from sprints.services.workflow import transitions_set
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.sprints import WorkItemFactory, status_named
from tests.matrix import api_matrix

ITEMS = "/api/v1/projects/MIG/items/"
ITEM = "/api/v1/items/MIG-1/"
LIST_KEYS = {"count", "next", "previous", "results"}
CONTRACT_KEYS = {
    "key",
    "type",
    "title",
    "status",
    "status_category",
    "story_points",
    "sprint",
    "assignee",
    "blocked",
    "blocked_reason",
    "version",
    "parent",
    "blocked_by",
    "labels",
}
# Same budget at 1 row and at many rows: a per-row query would break it.
ITEM_LIST_QUERIES = 3
MY_ITEMS_QUERIES = 2
ITEM_SUBLIST_QUERIES = 4


READERS = api_matrix("owner", "member", "viewer", "executive")
CONTRIBUTORS = api_matrix("owner", "member")
CONTRIBUTORS_CREATE = api_matrix("owner", "member", ok=201)
OWNERS_DELETE = api_matrix("owner", ok=204)


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def item(project, people):
    """MIG-1, a 3-point story in the backlog."""
    return work_item_create(
        actor=people["owner"], project=project, title="Set up VPC peering", story_points=3
    )


@pytest.fixture
def four_items(project, people):
    """MIG-1..4 in the backlog, in that order."""
    return [
        work_item_create(actor=people["owner"], project=project, title=f"Step {n}")
        for n in range(1, 5)
    ]


@pytest.fixture
def ops(people):
    """A second project, OPS, where the member is a member and the owner is the owner."""
    other = ProjectFactory(key="OPS", name="Operations")
    MembershipFactory(project=other, user=people["owner"], role=Membership.Role.OWNER)
    MembershipFactory(project=other, user=people["member"], role=Membership.Role.MEMBER)
    return other


def _sprint(project, actor, name="Sprint 1"):
    return sprint_create(
        actor=actor,
        project=project,
        name=name,
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 16),
    )


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
                "type",
                "status_id",
                "story_points",
                "sprint_id",
                "assignee_id",
                "parent_id",
                "labels",
                "rank",
                "resolved_at",
            )
        ),
        "next_number": Project.objects.get(pk=project.pk).next_item_number,
        "events": ItemEvent.objects.count(),
        "dependencies": Dependency.objects.count(),
        "comments": Comment.objects.count(),
        "worklogs": WorkLog.objects.count(),
    }


def _keys(response) -> list[str]:
    return [row["key"] for row in response.json()["results"]]


def _item(number: int, key: str = "MIG") -> WorkItem:
    return WorkItem.objects.select_related("status").get(project__key=key, number=number)


# --- permission matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_project_item_list_access(api_as, item, role, expected):
    response = api_as(role).get(ITEMS)
    assert response.status_code == expected
    if expected == 200:
        assert _keys(response) == ["MIG-1"]


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS_CREATE)
def test_project_item_create_access(api_as, project, item, role, expected):
    before = _state(project)
    response = api_as(role).post(ITEMS, {"title": "Write the cut-over runbook"}, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["key"] == "MIG-2"
        assert WorkItem.objects.filter(project=project).count() == 2
    else:
        assert _state(project) == before


@pytest.mark.parametrize(
    ("role", "expected", "keys"),
    [
        ("owner", 200, ["MIG-1"]),
        ("member", 200, ["MIG-1"]),
        ("viewer", 200, ["MIG-1"]),
        ("executive", 200, ["MIG-1"]),
        ("outsider", 200, []),
        ("anonymous", 401, None),
    ],
)
def test_item_list_across_projects_access(api_as, item, role, expected, keys):
    response = api_as(role).get("/api/v1/items/")
    assert response.status_code == expected
    if expected == 200:
        assert _keys(response) == keys
        assert response.json()["count"] == len(keys)


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_item_detail_access(api_as, item, role, expected):
    response = api_as(role).get(ITEM)
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["key"] == "MIG-1"


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS)
def test_item_update_access(api_as, project, item, role, expected):
    before = _state(project)
    response = api_as(role).patch(ITEM, {"title": "Peer the VPCs"}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert (_item(1).title, _item(1).version) == ("Peer the VPCs", 2)
    else:
        assert _state(project) == before


@pytest.mark.parametrize(("role", "expected"), OWNERS_DELETE)
def test_item_delete_access(api_as, project, item, role, expected):
    before = _state(project)
    response = api_as(role).delete(ITEM)
    assert response.status_code == expected
    if expected == 204:
        assert not WorkItem.objects.filter(pk=item.pk).exists()
        assert ItemEvent.objects.filter(item_id=item.pk, field="deleted").count() == 1
    else:
        assert _state(project) == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_item_comment_list_access(api_as, people, item, role, expected):
    comment_create(actor=people["member"], item=item, body="Peering request sent.")
    response = api_as(role).get(ITEM + "comments/")
    assert response.status_code == expected
    if expected == 200:
        assert [c["body"] for c in response.json()["results"]] == ["Peering request sent."]


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS_CREATE)
def test_item_comment_create_access(api_as, project, item, role, expected):
    before = _state(project)
    response = api_as(role).post(ITEM + "comments/", {"body": "Done on our side."}, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert list(Comment.objects.values_list("item_id", "body")) == [
            (item.pk, "Done on our side.")
        ]
    else:
        assert _state(project) == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_item_worklog_list_access(api_as, people, item, role, expected):
    worklog_create(actor=people["member"], item=item, hours="2")
    response = api_as(role).get(ITEM + "worklogs/")
    assert response.status_code == expected
    if expected == 200:
        assert [w["hours"] for w in response.json()["results"]] == [2.0]


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS_CREATE)
def test_item_worklog_create_access(api_as, project, item, role, expected):
    before = _state(project)
    response = api_as(role).post(ITEM + "worklogs/", {"hours": "1.5"}, format="json")
    assert response.status_code == expected
    if expected == 201:
        assert list(WorkLog.objects.values_list("item_id", "hours")) == [(item.pk, Decimal("1.50"))]
    else:
        assert _state(project) == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_item_history_access(api_as, item, role, expected):
    response = api_as(role).get(ITEM + "history/")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["count"] == 5  # the five tracked fields at creation


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS)
def test_item_rank_access(api_as, project, four_items, role, expected):
    before = _state(project)
    response = api_as(role).post("/api/v1/items/MIG-3/rank/", {"before": "MIG-1"}, format="json")
    assert response.status_code == expected
    if expected == 200:
        order = WorkItem.objects.order_by("rank").values_list("number", flat=True)
        assert list(order) == [3, 1, 2, 4]
    else:
        assert _state(project) == before


def test_item_of_an_unknown_project_is_404_even_for_executives(api_as, item):
    assert api_as("executive").get("/api/v1/items/NOPE-1/").status_code == 404
    assert api_as("owner").get("/api/v1/items/MIG-99/").status_code == 404


# --- contract shapes -----------------------------------------------------------------------------


def test_fast_item_representation_equals_drfs_field_walk(project, people):
    """WorkItemSerializer builds its dict by hand for speed; it must equal DRF's generic walk."""
    from rest_framework import serializers

    from sprints.api.serializers import WorkItemSerializer
    from sprints.selectors import work_item_get_for_user

    owner, member = people["owner"], people["member"]
    sprint = _sprint(project, owner)
    epic = work_item_create(actor=owner, project=project, title="Network", type="epic")
    blocker = work_item_create(actor=owner, project=project, title="Firewall", type="task")
    work_item_create(
        actor=owner,
        project=project,
        title="Peer <the> VPCs",
        description="**now**",
        story_points=Decimal("2.5"),
        original_estimate_hours=Decimal("7.25"),
        remaining_hours=Decimal("3"),
        parent=epic,
        sprint=sprint,
        assignee=member,
        labels=["Network", "aws"],
        due_date=date(2026, 2, 1),
        blocked=True,
        blocked_reason="Review",
        blocked_by=[blocker],
        acceptance_criteria="Ping works",
    )
    done = work_item_create(actor=owner, project=project, title="Done one")
    work_item_update(actor=owner, item=done, status="Done")

    for key in ("MIG-1", "MIG-2", "MIG-3", "MIG-4"):
        item = work_item_get_for_user(user=owner, key=key)
        serializer = WorkItemSerializer()
        generic = serializers.ModelSerializer.to_representation(serializer, item)
        assert serializer.to_representation(item) == dict(generic)
        assert list(serializer.to_representation(item)) == list(generic)

    # Lists serialize plain rows (no model instances): the same JSON, item for item.
    from sprints.selectors import work_item_list_for_project, work_item_rows

    queryset = work_item_list_for_project(project=project)
    rows = list(work_item_rows(queryset))
    items = list(queryset)
    assert len(rows) == len(items) == 4
    for row, item in zip(rows, items, strict=True):
        assert isinstance(row, dict)
        generic = serializers.ModelSerializer.to_representation(WorkItemSerializer(), item)
        assert WorkItemSerializer().to_representation(row) == dict(generic)


def test_item_json_carries_the_contract_fields(api_as, project, people):
    owner, member = people["owner"], people["member"]
    sprint = _sprint(project, owner)
    epic = work_item_create(actor=owner, project=project, title="Network", type="epic")
    blocker = work_item_create(actor=owner, project=project, title="Open firewall", type="task")
    work_item_create(
        actor=owner,
        project=project,
        title="Peer the VPCs",
        story_points=Decimal("5"),
        parent=epic,
        sprint=sprint,
        assignee=member,
        labels=["Network", "aws"],
        blocked=True,
        blocked_reason="Waiting for the security review",
        blocked_by=[blocker],
    )

    response = api_as("viewer").get("/api/v1/items/MIG-3/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= CONTRACT_KEYS
    assert {key: body[key] for key in CONTRACT_KEYS} == {
        "key": "MIG-3",
        "type": "story",
        "title": "Peer the VPCs",
        "status": "Backlog",
        "status_category": "todo",
        "story_points": 5.0,
        "sprint": sprint.pk,
        "assignee": member.pk,
        "blocked": True,
        "blocked_reason": "Waiting for the security review",
        "version": 1,
        "parent": "MIG-1",
        "blocked_by": ["MIG-2"],
        "labels": ["network", "aws"],
    }


def test_item_json_of_a_plain_item_has_nulls_and_empty_lists(api_as, item):
    body = api_as("member").get(ITEM).json()
    assert {key: body[key] for key in ("sprint", "assignee", "parent", "blocked_by", "labels")} == {
        "sprint": None,
        "assignee": None,
        "parent": None,
        "blocked_by": [],
        "labels": [],
    }
    assert (body["blocked"], body["blocked_reason"]) == (False, "")


def test_item_lists_are_paginated_with_count_next_previous_results(api_as, four_items):
    first = api_as("owner").get(ITEMS + "?page_size=3")
    second = api_as("owner").get(ITEMS + "?page_size=3&page=2")
    across = api_as("owner").get("/api/v1/items/?page_size=3")

    for response in (first, second, across):
        assert response.status_code == 200
        assert set(response.json()) == LIST_KEYS
        assert response.json()["count"] == 4
    assert _keys(first) == ["MIG-1", "MIG-2", "MIG-3"]
    assert first.json()["previous"] is None
    assert first.json()["next"].endswith("page=2&page_size=3")
    assert _keys(second) == ["MIG-4"]
    assert second.json()["next"] is None
    assert set(first.json()["results"][0]) >= CONTRACT_KEYS


def test_item_sublists_are_paginated(api_as, people, item):
    comment_create(actor=people["member"], item=item, body="First")
    worklog_create(actor=people["member"], item=item, hours="1")
    for path in ("comments/", "worklogs/", "history/"):
        response = api_as("viewer").get(ITEM + path)
        assert response.status_code == 200
        assert set(response.json()) == LIST_KEYS


# --- item behaviour ------------------------------------------------------------------------------


def test_item_create_numbers_items_in_sequence_and_never_reuses_a_number(api_as, project):
    client = api_as("member")
    keys = [
        client.post(ITEMS, {"title": f"Item {n}"}, format="json").json()["key"] for n in (1, 2, 3)
    ]
    assert keys == ["MIG-1", "MIG-2", "MIG-3"]

    assert api_as("owner").delete("/api/v1/items/MIG-3/").status_code == 204
    response = client.post(ITEMS, {"title": "Item 4"}, format="json")

    assert response.status_code == 201
    assert response.json()["key"] == "MIG-4"
    assert sorted(WorkItem.objects.values_list("number", flat=True)) == [1, 2, 4]


def test_item_create_returns_the_new_item(api_as, project, people):
    response = api_as("member").post(
        ITEMS,
        {
            "title": "Load-test the vendor API",
            "type": "spike",
            "remaining_hours": 6,
            "assignee": people["member"].pk,
            "labels": ["Vendor"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("key", "type", "title", "status", "status_category")} == {
        "key": "MIG-1",
        "type": "spike",
        "title": "Load-test the vendor API",
        "status": "Backlog",
        "status_category": "todo",
    }
    assert (body["remaining_hours"], body["assignee"], body["labels"]) == (
        6.0,
        people["member"].pk,
        ["vendor"],
    )
    assert (body["reporter"], body["version"]) == (people["member"].pk, 1)


@pytest.mark.parametrize(
    "points", [2, "2", 2.5, "0.5", 0], ids=["int", "str", "float", "half", "0"]
)
def test_item_create_accepts_story_points(api_as, project, points):
    response = api_as("member").post(
        ITEMS, {"title": "Estimate me", "story_points": points}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["story_points"] == float(points)
    assert WorkItem.objects.get().story_points == Decimal(str(points))


@pytest.mark.parametrize("points", [5, "8", 1.5, None], ids=["int", "str", "float", "null"])
def test_item_patch_sets_story_points(api_as, item, points):
    response = api_as("member").patch(ITEM, {"story_points": points}, format="json")
    assert response.status_code == 200
    expected = None if points is None else Decimal(str(points))
    assert _item(1).story_points == expected
    assert response.json()["story_points"] == (None if points is None else float(points))
    assert response.json()["version"] == 2


def test_item_status_is_set_by_name_case_insensitively(api_as, item):
    response = api_as("member").patch(ITEM, {"status": "in review"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_category"]) == (
        "In Review",
        "in_progress",
    )
    assert _item(1).status.name == "In Review"


def test_item_entering_done_sets_resolved_at_and_leaving_done_clears_it(api_as, item):
    client = api_as("member")
    done = client.patch(ITEM, {"status": "DONE"}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["status_category"]) == ("Done", "done")
    assert done.json()["resolved_at"] is not None
    assert _item(1).resolved_at is not None

    reopened = client.patch(ITEM, {"status": "In Progress"}, format="json")
    assert reopened.status_code == 200
    assert reopened.json()["status_category"] == "in_progress"
    assert reopened.json()["resolved_at"] is None
    assert _item(1).resolved_at is None


def test_item_version_increments_by_one_per_change(api_as, item):
    client = api_as("member")
    versions = [
        client.patch(ITEM, change, format="json").json()["version"]
        for change in ({"status": "To Do"}, {"remaining_hours": 5}, {"title": "Peer VPCs"})
    ]
    assert versions == [2, 3, 4]
    assert _item(1).version == 4


def test_item_get_returns_an_etag_that_follows_the_version(api_as, item):
    client = api_as("member")
    first = client.get(ITEM)
    assert first.status_code == 200
    assert first["ETag"]

    patched = client.patch(ITEM, {"title": "Peer VPCs"}, format="json")
    second = client.get(ITEM)

    assert second["ETag"] != first["ETag"]
    assert patched["ETag"] == second["ETag"]


def test_item_patch_with_a_current_if_match_succeeds(api_as, item):
    client = api_as("member")
    etag = client.get(ITEM)["ETag"]
    response = client.patch(ITEM, {"title": "Peer VPCs"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_item_patch_with_a_stale_if_match_is_412_with_the_current_item(api_as, project, item):
    client = api_as("member")
    etag = client.get(ITEM)["ETag"]
    assert api_as("owner").patch(ITEM, {"remaining_hours": 8}, format="json").status_code == 200
    before = _state(project)

    response = client.patch(ITEM, {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    current = response.json()["current"]
    assert (current["key"], current["version"], current["remaining_hours"]) == ("MIG-1", 2, 8.0)
    assert current["title"] == "Set up VPC peering"
    assert _state(project) == before


def test_item_patch_with_a_stale_version_is_409_with_the_current_item(api_as, project, item):
    """The engineer journey: a colleague changed the item first; the 409 carries it."""
    client = api_as("member")
    version = client.get(ITEM).json()["version"]
    assert api_as("owner").patch(ITEM, {"status": "In Progress"}, format="json").status_code == 200
    before = _state(project)

    response = client.patch(
        ITEM, {"status": "In Review", "remaining_hours": 2, "version": version}, format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert (body["current"]["key"], body["current"]["version"]) == ("MIG-1", version + 1)
    assert body["current"]["status"] == "In Progress"
    assert _state(project) == before


def test_item_patch_with_the_current_version_succeeds(api_as, item):
    response = api_as("member").patch(
        ITEM, {"status": "In Review", "remaining_hours": 2, "version": 1}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["remaining_hours"], body["version"]) == ("In Review", 2.0, 2)


def test_item_history_lists_tracked_changes_newest_first_with_actor_and_old_values(
    api_as, project, people, item
):
    sprint = _sprint(project, people["owner"])
    client = api_as("member")
    for change in (
        {"status": "In Progress"},
        {"remaining_hours": 4},
        {"sprint": sprint.pk},
        {"assignee": people["member"].pk},
        {"title": "Not tracked"},
    ):
        assert client.patch(ITEM, change, format="json").status_code == 200

    response = api_as("viewer").get(ITEM + "history/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert response.json()["count"] == 9  # 5 at creation, then 4 tracked changes
    member = people["member"]
    assert [
        (r["field"], r["old_value"], r["value"], r["old_label"], r["label"], r["actor"])
        for r in rows[:4]
    ] == [
        ("assignee", None, str(member.pk), "", "member", member.pk),
        ("sprint", None, str(sprint.pk), "", "Sprint 1", member.pk),
        ("hours", None, "4.00", "", "", member.pk),
        ("status", "todo", "in_progress", "Backlog", "In Progress", member.pk),
    ]
    assert rows[0]["actor_name"] == member.display_name
    assert {r["field"] for r in rows[4:]} == {"status", "points", "hours", "sprint", "assignee"}
    assert {r["actor"] for r in rows[4:]} == {people["owner"].pk}
    times = [datetime.fromisoformat(r["at"]) for r in rows]
    assert times == sorted(times, reverse=True)


def test_item_history_records_story_point_changes(api_as, people, item):
    assert api_as("member").patch(ITEM, {"story_points": 5}, format="json").status_code == 200

    rows = api_as("viewer").get(ITEM + "history/").json()["results"]

    assert (rows[0]["field"], rows[0]["actor"]) == ("points", people["member"].pk)
    assert (Decimal(rows[0]["old_value"]), Decimal(rows[0]["value"])) == (Decimal(3), Decimal(5))


@pytest.fixture
def filter_scene(project, people):
    """Four MIG items spread over statuses, types, a sprint, assignees and labels."""
    owner, member = people["owner"], people["member"]
    sprint = _sprint(project, owner)
    for title, fields in (
        ("Provision VPC", {"assignee": member, "labels": ["network"]}),
        (
            "Migrate billing DB",
            {"type": "task", "status": "In Progress", "sprint": sprint, "assignee": owner},
        ),
        (
            "Cut over DNS",
            {"type": "bug", "status": "Done", "sprint": sprint, "labels": ["network"]},
        ),
        ("Retire old VPC", {"type": "tech_debt", "status": "To Do", "assignee": member}),
    ):
        work_item_create(actor=owner, project=project, title=title, **fields)
    return {"sprint": sprint, "member": member}


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("status=in progress", ["MIG-2"]),
        ("status=Done", ["MIG-3"]),
        ("category=todo", ["MIG-1", "MIG-4"]),
        ("category=done", ["MIG-3"]),
        ("type=bug", ["MIG-3"]),
        ("sprint={sprint}", ["MIG-2", "MIG-3"]),
        ("sprint=backlog", ["MIG-1", "MIG-4"]),
        ("assignee={member}", ["MIG-1", "MIG-4"]),
        ("assignee=me", ["MIG-2"]),
        ("label=network", ["MIG-1", "MIG-3"]),
        ("q=vpc", ["MIG-1", "MIG-4"]),
        ("q=MIG-3", ["MIG-3"]),
        ("status=In Progress&assignee=me", ["MIG-2"]),
    ],
)
def test_project_item_list_filters(api_as, filter_scene, query, keys):
    query = query.format(sprint=filter_scene["sprint"].pk, member=filter_scene["member"].pk)
    response = api_as("owner").get(f"{ITEMS}?{query}")
    assert response.status_code == 200
    assert _keys(response) == keys


@pytest.mark.parametrize(
    ("query", "field"), [("sprint=next", "sprint"), ("assignee=bob", "assignee")]
)
def test_project_item_list_rejects_malformed_filters(api_as, filter_scene, query, field):
    response = api_as("owner").get(f"{ITEMS}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_items_assigned_to_me_across_projects(api_as, project, people, ops):
    owner, member = people["owner"], people["member"]
    work_item_create(actor=owner, project=project, title="Mine in MIG", assignee=member)
    work_item_create(actor=owner, project=project, title="Owner's in MIG", assignee=owner)
    work_item_create(actor=owner, project=ops, title="Unassigned in OPS")
    work_item_create(actor=owner, project=ops, title="Mine in OPS", assignee=member)
    elsewhere = ProjectFactory(key="ELSE")  # invisible to the member
    MembershipFactory(project=elsewhere, user=member, role=Membership.Role.MEMBER)
    work_item_create(actor=owner, project=elsewhere, title="Mine in ELSE", assignee=member)
    elsewhere.memberships.filter(user=member).delete()

    response = api_as("member").get("/api/v1/items/?assignee=me")

    assert response.status_code == 200
    assert _keys(response) == ["MIG-1", "OPS-2"]
    assert [r["title"] for r in response.json()["results"]] == ["Mine in MIG", "Mine in OPS"]


def test_items_across_projects_filter_by_status(api_as, project, people, ops):
    owner = people["owner"]
    work_item_create(actor=owner, project=project, title="MIG done", status="Done")
    work_item_create(actor=owner, project=project, title="MIG open")
    work_item_create(actor=owner, project=ops, title="OPS done", status="done")

    response = api_as("member").get("/api/v1/items/?category=done")

    assert _keys(response) == ["MIG-1", "OPS-1"]


def test_item_rank_moves_an_item_above_another_and_changes_only_its_rank(api_as, four_items):
    ranks = dict(WorkItem.objects.values_list("number", "rank"))

    response = api_as("member").post(
        "/api/v1/items/MIG-4/rank/", {"before": "MIG-2"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["key"] == "MIG-4"
    assert _keys(api_as("owner").get(ITEMS)) == ["MIG-1", "MIG-4", "MIG-2", "MIG-3"]
    after = dict(WorkItem.objects.values_list("number", "rank"))
    assert {n: after[n] for n in (1, 2, 3)} == {n: ranks[n] for n in (1, 2, 3)}
    assert ranks[1] < after[4] < ranks[2]
    assert response.json()["rank"] == after[4]


def test_item_rank_moves_an_item_below_another_and_changes_only_its_rank(api_as, four_items):
    ranks = dict(WorkItem.objects.values_list("number", "rank"))

    response = api_as("owner").post("/api/v1/items/MIG-1/rank/", {"after": "MIG-3"}, format="json")

    assert response.status_code == 200
    assert _keys(api_as("owner").get(ITEMS)) == ["MIG-2", "MIG-3", "MIG-1", "MIG-4"]
    after = dict(WorkItem.objects.values_list("number", "rank"))
    assert {n: after[n] for n in (2, 3, 4)} == {n: ranks[n] for n in (2, 3, 4)}
    assert ranks[3] < after[1] < ranks[4]


def test_item_rank_to_the_very_top_and_bottom(api_as, four_items):
    client = api_as("owner")
    top = client.post("/api/v1/items/MIG-3/rank/", {"before": "MIG-1"}, format="json")
    bottom = client.post("/api/v1/items/MIG-2/rank/", {"after": "MIG-4"}, format="json")
    assert (top.status_code, bottom.status_code) == (200, 200)
    assert _keys(client.get(ITEMS)) == ["MIG-3", "MIG-1", "MIG-4", "MIG-2"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "rank"),
        ({"before": "MIG-1"}, "rank"),  # against itself
        ({"before": "MIG-99"}, "before"),
        ({"before": "OPS-1"}, "before"),
    ],
)
def test_item_rank_with_bad_neighbours_is_400_and_changes_nothing(
    api_as, project, four_items, payload, field
):
    before = _state(project)
    response = api_as("owner").post("/api/v1/items/MIG-1/rank/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state(project) == before


def test_comment_markdown_is_rendered_safely(api_as, item):
    response = api_as("member").post(
        ITEM + "comments/",
        {"body": "<script>alert('x')</script> **bold** [link](javascript:alert(1))"},
        format="json",
    )

    assert response.status_code == 201
    html = response.json()["body_html"]
    assert "<script" not in html
    assert "href=" not in html
    assert html == (
        "<p>&lt;script&gt;alert('x')&lt;/script&gt; <strong>bold</strong> "
        "[link](javascript:alert(1))</p>\n"
    )
    listed = api_as("viewer").get(ITEM + "comments/").json()["results"]
    assert listed[0]["body_html"] == html
    assert listed[0]["body"] == "<script>alert('x')</script> **bold** [link](javascript:alert(1))"


def test_comments_are_listed_oldest_first_with_their_author(api_as, people, item):
    comment_create(actor=people["owner"], item=item, body="First")
    comment_create(actor=people["member"], item=item, body="Second")
    rows = api_as("viewer").get(ITEM + "comments/").json()["results"]
    assert [(r["body"], r["author"]) for r in rows] == [
        ("First", people["owner"].pk),
        ("Second", people["member"].pk),
    ]
    assert rows[0]["body_html"] == "<p>First</p>\n"


def test_worklog_post_records_three_and_a_half_hours_today(api_as, project, people, item):
    response = api_as("member").post(ITEM + "worklogs/", {"hours": 3.5}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["hours"], body["user"], body["username"]) == (3.5, people["member"].pk, "member")
    assert body["date"] == project_today(project).isoformat()
    log = WorkLog.objects.get()
    assert (log.item_id, log.user_id, log.hours) == (item.pk, people["member"].pk, Decimal("3.50"))


def test_worklog_post_on_a_past_day_with_a_note(api_as, project, item):
    day = project_today(project) - timedelta(days=3)
    response = api_as("owner").post(
        ITEM + "worklogs/",
        {"hours": "0.25", "date": day.isoformat(), "note": "Review"},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["date"], response.json()["note"]) == (day.isoformat(), "Review")


# --- bad input: 400 with the field, nothing changed ----------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "Shipped"}, "status"),
        ({"story_points": -1}, "story_points"),
        ({"story_points": "lots"}, "story_points"),
        ({"remaining_hours": -2}, "remaining_hours"),
        ({"title": ""}, "title"),
        ({"labels": "network"}, "labels"),
        ({"labels": ["a,b"]}, "labels"),
        ({"assignee": 987654}, "assignee"),
        ({"assignee": "bob"}, "assignee"),
        ({"sprint": 987654}, "sprint"),
        ({"parent": "MIG-99"}, "parent"),
        ({"blocked_by": ["MIG-1"]}, "blocked_by"),
        ({"blocked_by": "MIG-2"}, "blocked_by"),
        ({"type": "saga"}, "type"),
        ({"version": 0}, "version"),
    ],
)
def test_item_patch_with_bad_input_is_400_and_changes_nothing(
    api_as, project, item, payload, field
):
    before = _state(project)
    response = api_as("member").patch(ITEM, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state(project) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x", "status": "Nope"}, "status"),
        ({"title": "x", "story_points": -2}, "story_points"),
        ({"title": "x", "story_points": "five"}, "story_points"),
        ({"title": "x", "labels": "a"}, "labels"),
        ({"title": "x", "assignee": 987654}, "assignee"),
        ({"title": "x", "type": "saga"}, "type"),
    ],
)
def test_item_create_with_bad_input_is_400_and_changes_nothing(
    api_as, project, item, payload, field
):
    before = _state(project)
    response = api_as("member").post(ITEMS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state(project) == before


def test_item_malformed_json_is_400_and_changes_nothing(api_as, project, item):
    before = _state(project)
    client = api_as("member")
    patched = client.generic("PATCH", ITEM, '{"title": "x"', content_type="application/json")
    created = client.generic("POST", ITEMS, "{title:", content_type="application/json")
    for response in (patched, created):
        assert response.status_code == 400
        assert "detail" in response.json()
    assert _state(project) == before


def test_item_illegal_transition_is_400_and_changes_nothing(api_as, project, people):
    owner = people["owner"]
    work_item_create(actor=owner, project=project, title="Plan cut-over", status="To Do")
    transitions_set(
        actor=owner,
        project=project,
        pairs=[(status_named(project, "To Do"), status_named(project, "In Progress"))],
    )
    before = _state(project)

    response = api_as("member").patch(ITEM, {"status": "Done"}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()
    assert _state(project) == before
    allowed = api_as("member").patch(ITEM, {"status": "In Progress"}, format="json")
    assert allowed.status_code == 200


def test_item_cannot_move_into_another_projects_sprint(api_as, project, people, item, ops):
    foreign = _sprint(ops, people["owner"], name="OPS sprint")
    before = _state(project)
    response = api_as("member").patch(ITEM, {"sprint": foreign.pk}, format="json")
    assert response.status_code == 400
    assert "sprint" in response.json()
    assert _state(project) == before


def test_item_cannot_move_into_a_closed_sprint(api_as, project, people, item):
    owner = people["owner"]
    closed = sprint_close(
        actor=owner, sprint=sprint_start(actor=owner, sprint=_sprint(project, owner))
    )
    before = _state(project)
    response = api_as("member").patch(ITEM, {"sprint": closed.pk}, format="json")
    assert response.status_code == 400
    assert "sprint" in response.json()
    assert _state(project) == before


def test_item_cannot_be_created_in_a_closed_sprint(api_as, project, people):
    owner = people["owner"]
    closed = sprint_close(
        actor=owner, sprint=sprint_start(actor=owner, sprint=_sprint(project, owner))
    )
    before = _state(project)
    response = api_as("member").post(ITEMS, {"title": "Late", "sprint": closed.pk}, format="json")
    assert response.status_code == 400
    assert "sprint" in response.json()
    assert _state(project) == before


def test_item_dependency_cycle_is_400_and_changes_nothing(api_as, project, four_items):
    client = api_as("member")
    assert client.patch(ITEM, {"blocked_by": ["MIG-2"]}, format="json").status_code == 200
    assert (
        client.patch("/api/v1/items/MIG-2/", {"blocked_by": ["MIG-3"]}, format="json").status_code
        == 200
    )
    before = _state(project)

    direct = client.patch("/api/v1/items/MIG-2/", {"blocked_by": ["MIG-1"]}, format="json")
    transitive = client.patch("/api/v1/items/MIG-3/", {"blocked_by": ["MIG-1"]}, format="json")

    for response in (direct, transitive):
        assert response.status_code == 400
        assert "blocked_by" in response.json()
    assert _state(project) == before
    assert api_as("viewer").get(ITEM).json()["blocked_by"] == ["MIG-2"]


def test_item_cannot_be_blocked_by_an_item_of_another_project(api_as, project, people, item, ops):
    work_item_create(actor=people["owner"], project=ops, title="OPS item")
    before = _state(project)
    response = api_as("member").patch(ITEM, {"blocked_by": ["OPS-1"]}, format="json")
    assert response.status_code == 400
    assert "blocked_by" in response.json()
    assert _state(project) == before
    assert Dependency.objects.count() == 0


def test_item_assignee_who_is_only_a_viewer_is_400(api_as, project, people, item):
    before = _state(project)
    for role in ("viewer", "executive", "outsider"):
        response = api_as("member").patch(ITEM, {"assignee": people[role].pk}, format="json")
        assert response.status_code == 400
        assert "assignee" in response.json()
    assert _state(project) == before


def test_item_parent_must_be_an_epic_or_story(api_as, project, people):
    owner = people["owner"]
    work_item_create(actor=owner, project=project, title="A task", type="task")
    work_item_create(actor=owner, project=project, title="A bug", type="bug")
    before = _state(project)

    patched = api_as("member").patch("/api/v1/items/MIG-2/", {"parent": "MIG-1"}, format="json")
    created = api_as("member").post(ITEMS, {"title": "Sub", "parent": "MIG-1"}, format="json")

    for response in (patched, created):
        assert response.status_code == 400
        assert "parent" in response.json()
    assert _state(project) == before


def test_epic_cannot_have_a_parent(api_as, project, people):
    owner = people["owner"]
    work_item_create(actor=owner, project=project, title="Network", type="epic")
    network = WorkItem.objects.get(number=1)
    work_item_create(actor=owner, project=project, title="Data", type="epic")
    work_item_create(actor=owner, project=project, title="Peer VPCs", parent=network)
    before = _state(project)

    patched = api_as("member").patch("/api/v1/items/MIG-2/", {"parent": "MIG-1"}, format="json")
    created = api_as("member").post(
        ITEMS, {"title": "Cut-over", "type": "epic", "parent": "MIG-1"}, format="json"
    )
    promoted = api_as("member").patch("/api/v1/items/MIG-3/", {"type": "epic"}, format="json")

    for response in (patched, created, promoted):
        assert response.status_code == 400
        assert "parent" in response.json()
    assert _state(project) == before


def test_item_parent_from_another_project_is_400(api_as, project, people, item, ops):
    work_item_create(actor=people["owner"], project=ops, title="OPS epic", type="epic")
    before = _state(project)
    response = api_as("member").patch(ITEM, {"parent": "OPS-1"}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()
    assert _state(project) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"hours": 0}, "hours"),
        ({"hours": 25}, "hours"),
        ({"hours": "x"}, "hours"),
        ({"hours": -1}, "hours"),
        ({}, "hours"),
        ({"hours": 1, "date": "yesterday"}, "date"),
    ],
)
def test_worklog_with_bad_hours_is_400_and_changes_nothing(api_as, project, item, payload, field):
    before = _state(project)
    response = api_as("member").post(ITEM + "worklogs/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state(project) == before


def test_worklog_on_a_future_day_is_400_and_changes_nothing(api_as, project, item):
    before = _state(project)
    future = project_today(project) + timedelta(days=7)
    response = api_as("member").post(
        ITEM + "worklogs/", {"hours": 2, "date": future.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "date" in response.json()
    assert _state(project) == before


@pytest.mark.parametrize("payload", [{"body": ""}, {"body": "   "}, {}])
def test_empty_comment_is_400_and_changes_nothing(api_as, project, item, payload):
    before = _state(project)
    response = api_as("member").post(ITEM + "comments/", payload, format="json")
    assert response.status_code == 400
    assert "body" in response.json()
    assert _state(project) == before


# --- query counts --------------------------------------------------------------------------------


def _rich_items(project, people, n: int) -> None:
    """``n`` items with a parent, a blocker, a sprint, an assignee and labels where possible."""
    owner, member = people["owner"], people["member"]
    sprint = _sprint(project, owner)
    epic = work_item_create(
        actor=owner, project=project, title="Epic", type="epic", assignee=member, sprint=sprint
    )
    for index in range(n - 1):
        work_item_create(
            actor=owner,
            project=project,
            title=f"Story {index}",
            parent=epic,
            blocked_by=[epic],
            sprint=sprint,
            assignee=member,
            labels=["db", "network"],
            story_points=3,
        )


@pytest.mark.parametrize("n", [1, 50])
def test_project_item_list_query_count_does_not_grow(
    api_as, project, people, django_assert_max_num_queries, n
):
    _rich_items(project, people, n)
    client = api_as("viewer")
    with django_assert_max_num_queries(ITEM_LIST_QUERIES):
        response = client.get(ITEMS + "?page_size=200")
    assert response.status_code == 200
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [1, 50])
def test_my_items_query_count_does_not_grow(
    api_as, project, people, ops, django_assert_max_num_queries, n
):
    _rich_items(project, people, n)
    work_item_create(actor=people["owner"], project=ops, title="OPS", assignee=people["member"])
    client = api_as("member")
    with django_assert_max_num_queries(MY_ITEMS_QUERIES):
        response = client.get("/api/v1/items/?assignee=me&page_size=200")
    assert response.status_code == 200
    assert response.json()["count"] == n + 1


@pytest.mark.parametrize("n", [1, 30])
def test_comment_list_query_count_does_not_grow(
    api_as, people, item, django_assert_max_num_queries, n
):
    for index in range(n):
        comment_create(actor=people["member"], item=item, body=f"Note **{index}**")
    client = api_as("viewer")
    with django_assert_max_num_queries(ITEM_SUBLIST_QUERIES):
        response = client.get(ITEM + "comments/?page_size=200")
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [1, 30])
def test_worklog_list_query_count_does_not_grow(
    api_as, people, item, django_assert_max_num_queries, n
):
    for _ in range(n):
        worklog_create(actor=people["member"], item=item, hours="1")
    client = api_as("viewer")
    with django_assert_max_num_queries(ITEM_SUBLIST_QUERIES):
        response = client.get(ITEM + "worklogs/?page_size=200")
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [1, 30])
def test_history_list_query_count_does_not_grow(
    api_as, project, people, django_assert_max_num_queries, n
):
    item = WorkItemFactory(project=project, number=1)  # no creation events: exactly n rows
    Project.objects.filter(pk=project.pk).update(next_item_number=2)
    actors = [people["owner"], people["member"]]
    for index in range(n):
        work_item_update(actor=actors[index % 2], item=item, remaining_hours=Decimal(100 - index))
    client = api_as("viewer")
    with django_assert_max_num_queries(ITEM_SUBLIST_QUERIES):
        response = client.get(ITEM + "history/?page_size=200")
    assert response.json()["count"] == n


def test_get_one_item_is_one_query_including_the_permission_check(
    api_as, people, item, django_assert_num_queries
):
    """Item, project, status, parent, blockers and the caller's role come in one statement."""
    client = api_as("member")
    with django_assert_num_queries(1):
        response = client.get(ITEM)
    assert response.status_code == 200
    assert response.json()["key"] == "MIG-1"


def test_patch_status_statement_budget(api_as, people, item, django_assert_max_num_queries):
    """Read with role, lock, target status, transitions, UPDATE, history row, outbox row,
    dispatch mark: the response is built from the updated row, not read again."""
    client = api_as("member")
    with django_assert_max_num_queries(9) as captured:
        response = client.patch(ITEM, {"status": "In Progress", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "In Progress"
    assert response.json()["version"] == 2
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum("FOR UPDATE" in sql for sql in statements) == 1
