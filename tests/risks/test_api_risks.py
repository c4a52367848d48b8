"""Risks over REST: permission matrix, contract, behaviour, bad input, query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pghistory.models
import pytest

from projects.models import Membership
from risks.api.serializers import RiskSerializer
from risks.models import Risk, RiskItemLink, RiskScore, RiskScoreHistory, RiskSettings
from risks.services import risk_create, risk_update
from risks.tasks import risks_recompute
from sprints.metric_inputs import project_today
from sprints.models import WorkItem
from sprints.services.items import work_item_create
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.risks import risk_state
from tests.factories.tpm import UserFactory
from tests.matrix import api_matrix

RISKS = "/api/v1/projects/MIG/risks/"
MATRIX = "/api/v1/projects/MIG/risk-matrix/"
SETTINGS = "/api/v1/projects/MIG/risk-settings/"
CONTRACT_KEYS = {
    "id",
    "title",
    "category",
    "probability",
    "impact",
    "cost_impact",
    "owner",
    "status",
    "response",
    "review_date",
    "linked_items",
    "compliance_tags",
    "score",
    "level",
    "exposure",
    "emv",
    "reasons",
    "trend",
    "residual_probability",
    "residual_impact",
    "residual_score",
    "residual_level",
    "computed_at",
    "contingency_item",
    "version",
}
# Same budget at 1 row and at many rows: a per-row query would break it.
RISK_LIST_QUERIES = 3


READERS = api_matrix("owner", "member", "viewer", "executive")
CONTRIBUTORS_CREATE = api_matrix("owner", "member", ok=201)
OWNERS = api_matrix("owner")
OWNERS_DELETE = api_matrix("owner", ok=204)
OWNER_OR_RISK_OWNER = api_matrix("owner", "member")


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def items(project, people):
    """MIG-1 and MIG-2 in the backlog."""
    return [
        work_item_create(actor=people["owner"], project=project, title=title)
        for title in ("Set up VPC peering", "Dual-run the invoices")
    ]


@pytest.fixture
def risk(project, people, items):
    """Risk owned by the project owner: 3 × 4, 10,000 at stake, linked to MIG-1."""
    return risk_create(
        actor=people["owner"],
        project=project,
        title="Cloud SQL failover untested",
        category="technical",
        probability=3,
        impact=4,
        cost_impact=Decimal("10000.00"),
        owner=people["owner"],
        linked_items=[items[0]],
        contingency_plan="Roll back to the on-prem billing cluster\nThen tell finance.",
    )


@pytest.fixture
def member_risk(project, people):
    """Risk owned by the member."""
    return risk_create(
        actor=people["member"],
        project=project,
        title="Vendor slips the API migration",
        category="vendor",
        probability=2,
        impact=3,
        owner=people["member"],
    )


@pytest.fixture
def ops(people):
    """A second project, OPS, with one item OPS-1; the owner owns it too."""
    other = ProjectFactory(key="OPS", name="Operations")
    MembershipFactory(project=other, user=people["owner"], role=Membership.Role.OWNER)
    work_item_create(actor=people["owner"], project=other, title="Rotate keys")
    return other


def _url(risk: Risk, suffix: str = "") -> str:
    return f"/api/v1/risks/{risk.pk}/{suffix}"


def _titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def _create(client, **overrides):
    body = {"title": "Data residency for EU invoices", "category": "compliance"}
    body |= {"probability": 2, "impact": 5} | overrides
    return client.post(RISKS, body, format="json")


# --- permission matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_risk_list_access(api_as, risk, role, expected):
    response = api_as(role).get(RISKS)
    assert response.status_code == expected
    if expected == 200:
        assert _titles(response) == ["Cloud SQL failover untested"]


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS_CREATE)
def test_risk_create_access(api_as, project, people, risk, role, expected):
    before = risk_state(project)
    response = _create(api_as(role))
    assert response.status_code == expected
    if expected == 201:
        created = Risk.objects.get(pk=response.json()["id"])
        assert (created.title, created.owner_id) == (
            "Data residency for EU invoices",
            people[role].pk,  # the creator owns it unless someone else is named
        )
        assert created.created_by_id == people[role].pk
    else:
        assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_risk_detail_access(api_as, risk, role, expected):
    response = api_as(role).get(_url(risk))
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["id"] == risk.pk


@pytest.mark.parametrize(("role", "expected"), OWNERS)
def test_risk_owned_by_the_owner_is_edited_only_by_owners(api_as, project, risk, role, expected):
    before = risk_state(project)
    response = api_as(role).patch(_url(risk), {"probability": 5}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert Risk.objects.get(pk=risk.pk).probability == 5
    else:
        assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), OWNER_OR_RISK_OWNER)
def test_risk_owned_by_a_member_is_edited_by_that_member(
    api_as, project, member_risk, role, expected
):
    before = risk_state(project)
    response = api_as(role).patch(_url(member_risk), {"impact": 1}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert Risk.objects.get(pk=member_risk.pk).impact == 1
    else:
        assert risk_state(project) == before


def test_member_cannot_edit_a_risk_owned_by_another_member(api_as, project, people, risk):
    other = UserFactory(username="other-member")
    MembershipFactory(project=project, user=other, role=Membership.Role.MEMBER)
    risk_update(actor=people["owner"], risk=risk, owner=other)
    before = risk_state(project)
    response = api_as("member").patch(_url(risk), {"impact": 1}, format="json")
    assert response.status_code == 403
    assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), OWNERS_DELETE)
def test_risk_delete_access(api_as, project, member_risk, role, expected):
    before = risk_state(project)
    response = api_as(role).delete(_url(member_risk))
    assert response.status_code == expected
    if expected == 204:
        assert not Risk.objects.filter(pk=member_risk.pk).exists()
    else:
        assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_risk_history_access(api_as, risk, role, expected):
    risks_recompute(risk.project_id)
    response = api_as(role).get(_url(risk, "history/"))
    assert response.status_code == expected
    if expected == 200:
        assert [row["exposure"] for row in response.json()["results"]] == [48]


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_risk_matrix_access(api_as, risk, role, expected):
    response = api_as(role).get(MATRIX)
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["matrix"][2][3] == 1


@pytest.mark.parametrize(
    ("role", "expected"),
    [(role, 201 if code == 200 else code) for role, code in OWNER_OR_RISK_OWNER],
)
def test_start_contingency_access(api_as, project, people, role, expected):
    member_risk = risk_create(
        actor=people["member"],
        project=project,
        title="Payment provider outage",
        category="vendor",
        probability=2,
        impact=5,
        owner=people["member"],
        contingency_plan="Switch card payments to the backup provider",
    )
    before = risk_state(project)
    response = api_as(role).post(_url(member_risk, "start-contingency/"))
    assert response.status_code == expected
    if expected == 201:
        assert (
            response.json()["title"] == "Contingency: Switch card payments to the backup provider"
        )
    else:
        assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_risk_settings_read_access(api_as, project, role, expected):
    response = api_as(role).get(SETTINGS)
    assert response.status_code == expected
    if expected == 200:
        assert response.json() == {"low_max": 4, "medium_max": 9, "high_max": 14}


@pytest.mark.parametrize(("role", "expected"), OWNERS)
def test_risk_settings_update_access(api_as, project, role, expected):
    bands = {"low_max": 3, "medium_max": 8, "high_max": 16}
    response = api_as(role).put(SETTINGS, bands, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert response.json() == bands
    else:
        assert not RiskSettings.objects.exists()


def test_risk_of_an_invisible_project_is_404_at_every_route(api_as, ops, people):
    hidden = risk_create(
        actor=people["owner"],
        project=ops,
        title="Key leak",
        category="security",
        probability=2,
        impact=5,
    )
    client = api_as("member")  # a member of MIG, not of OPS
    for method, suffix in (
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("get", "history/"),
        ("post", "start-contingency/"),
    ):
        assert getattr(client, method)(_url(hidden, suffix), {}, format="json").status_code == 404
    assert client.get("/api/v1/projects/OPS/risks/").status_code == 404
    assert client.get("/api/v1/projects/OPS/risk-matrix/").status_code == 404
    assert client.get("/api/v1/risks/999999/").status_code == 404
    assert Risk.objects.filter(pk=hidden.pk).exists()


# --- contract ------------------------------------------------------------------------------------


def test_created_risk_has_every_contract_field_before_the_worker_ran(api_as, people, items):
    response = _create(
        api_as("owner"),
        title="Cut-over weekend slips",
        category="schedule",
        probability=3,
        impact=4,
        residual_probability=2,
        residual_impact=2,
        cost_impact="25000.50",
        owner=people["member"].pk,
        status="mitigating",
        response="mitigate",
        mitigation_plan="Rehearse twice",
        contingency_plan="Move to the next weekend",
        trigger="Rehearsal fails",
        review_date="2026-04-01",
        linked_items=["MIG-2", "MIG-1"],
        compliance_tags=["gdpr", "SOC2", "gdpr"],
    )
    assert response.status_code == 201
    body = response.json()
    assert body.keys() >= CONTRACT_KEYS
    assert {key: body[key] for key in CONTRACT_KEYS - {"id", "owner"}} == {
        "title": "Cut-over weekend slips",
        "category": "schedule",
        "probability": 3,
        "impact": 4,
        "cost_impact": "25000.50",
        "status": "mitigating",
        "response": "mitigate",
        "review_date": "2026-04-01",
        "linked_items": ["MIG-1", "MIG-2"],
        "compliance_tags": ["gdpr", "soc2"],
        "score": 12,
        "level": "high",
        "emv": "15000.30",
        "residual_probability": 2,
        "residual_impact": 2,
        "residual_score": 4,
        "residual_level": "low",
        "exposure": None,  # the worker has not run yet
        "reasons": None,
        "trend": None,
        "computed_at": None,
        "contingency_item": None,
        "version": 1,
    }
    assert (body["owner"], body["owner_name"], body["project"]) == (
        people["member"].pk,
        people["member"].display_name,
        "MIG",
    )


def test_worker_figures_appear_in_the_api(api_as, project, risk):
    risks_recompute(project.pk)
    body = api_as("viewer").get(_url(risk)).json()
    score = RiskScore.objects.get(risk=risk)
    assert (body["exposure"], body["reasons"], body["trend"]) == (
        48,
        ["inherent score 12 of 25"],
        "steady",
    )
    assert body["computed_at"] == score.computed_at.isoformat().replace("+00:00", "Z")


def test_get_returns_an_etag_and_a_stale_if_match_is_412(api_as, project, risk):
    client = api_as("owner")
    response = client.get(_url(risk))
    assert response["ETag"] == f'"risks.risk-{risk.pk}-v1"'
    assert client.patch(_url(risk), {"title": "First"}, format="json").status_code == 200
    before = risk_state(project)
    stale = client.patch(
        _url(risk), {"title": "Second"}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert stale.status_code == 412
    assert stale.json()["current"]["title"] == "First"
    assert risk_state(project) == before
    fresh = client.patch(
        _url(risk), {"title": "Second"}, format="json", HTTP_IF_MATCH=f'"risks.risk-{risk.pk}-v2"'
    )
    assert fresh.status_code == 200
    assert fresh["ETag"] == f'"risks.risk-{risk.pk}-v3"'


def test_stale_version_is_409_with_the_current_risk(api_as, project, risk):
    client = api_as("owner")
    assert client.patch(_url(risk), {"impact": 5, "version": 1}, format="json").status_code == 200
    before = risk_state(project)
    response = client.patch(_url(risk), {"impact": 2, "version": 1}, format="json")
    assert response.status_code == 409
    assert (response.json()["current"]["impact"], response.json()["current"]["version"]) == (5, 2)
    assert risk_state(project) == before


def test_patch_replaces_links_by_key_and_records_the_audit_actor(api_as, people, risk, items):
    third = work_item_create(actor=people["owner"], project=risk.project, title="Third")
    response = api_as("owner").patch(
        _url(risk),
        {"linked_items": ["MIG-3", "MIG-2"], "owner": people["member"].pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["linked_items"] == ["MIG-2", "MIG-3"]
    assert set(RiskItemLink.objects.filter(risk=risk).values_list("item_id", flat=True)) == {
        items[1].pk,
        third.pk,
    }
    update = (
        pghistory.models.Events.objects.tracks(risk)
        .filter(pgh_label="update")
        .order_by("-pgh_created_at")
        .first()
    )
    assert update.pgh_context["user"] == people["owner"].pk
    assert update.pgh_diff["owner_id"] == [people["owner"].pk, people["member"].pk]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["open", "mitigating", "closed", "open"], 200),
        (["open", "closed"], 200),
        (["open", "occurred", "closed"], 200),
        (["open", "mitigating", "occurred"], 200),
    ],
)
def test_legal_status_transitions(api_as, risk, path, expected):
    client = api_as("owner")
    for status in path[1:]:
        response = client.patch(_url(risk), {"status": status}, format="json")
        assert response.status_code == expected
        assert response.json()["status"] == status


def test_start_contingency_creates_a_linked_item_and_marks_the_risk_occurred(api_as, project, risk):
    response = api_as("owner").post(_url(risk, "start-contingency/"))
    assert response.status_code == 201
    item = response.json()
    assert (item["key"], item["title"], item["type"], item["priority"]) == (
        "MIG-3",
        "Contingency: Roll back to the on-prem billing cluster",
        "task",
        "high",
    )
    assert "Then tell finance." in item["description"]
    body = api_as("owner").get(_url(risk)).json()
    assert (body["status"], body["contingency_item"], body["linked_items"], body["version"]) == (
        "occurred",
        "MIG-3",
        ["MIG-1", "MIG-3"],
        2,
    )
    before = risk_state(project)
    again = api_as("owner").post(_url(risk, "start-contingency/"))
    assert again.status_code == 409
    assert risk_state(project) == before


def test_start_contingency_without_a_plan_is_400_and_creates_nothing(api_as, project, people):
    bare = risk_create(
        actor=people["owner"],
        project=project,
        title="No plan",
        category="resource",
        probability=2,
        impact=2,
    )
    before = risk_state(project)
    response = api_as("owner").post(_url(bare, "start-contingency/"))
    assert response.status_code == 400
    assert response.json() == {
        "contingency_plan": ["Write the contingency plan before starting it."]
    }
    assert risk_state(project) == before


def test_start_contingency_of_a_closed_risk_is_409(api_as, project, people, risk):
    risk_update(actor=people["owner"], risk=risk, status="closed")
    before = risk_state(project)
    assert api_as("owner").post(_url(risk, "start-contingency/")).status_code == 409
    assert risk_state(project) == before


def test_delete_removes_links_and_scores(api_as, project, risk):
    risks_recompute(project.pk)
    assert api_as("owner").delete(_url(risk)).status_code == 204
    assert not RiskItemLink.objects.exists()
    assert not RiskScore.objects.exists()
    assert not RiskScoreHistory.objects.exists()
    assert WorkItem.objects.filter(project=project).count() == 2  # items stay


# --- bad input: 400 with a field message, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"probability": 0}, "probability"),
        ({"probability": 6}, "probability"),
        ({"impact": 0}, "impact"),
        ({"impact": 6}, "impact"),
        ({"probability": "high"}, "probability"),
        ({"probability": True}, "probability"),
        ({"residual_probability": 6}, "residual_probability"),
        ({"residual_impact": 0}, "residual_impact"),
        ({"cost_impact": "-1.00"}, "cost_impact"),
        ({"cost_impact": "lots"}, "cost_impact"),
        ({"owner": 999999}, "owner"),
        ({"owner": "viewer"}, "owner"),
        ({"category": "weather"}, "category"),
        ({"status": "maybe"}, "status"),
        ({"response": "ignore"}, "response"),
        ({"review_date": "next week"}, "review_date"),
        ({"compliance_tags": "gdpr"}, "compliance_tags"),
        ({"compliance_tags": ["iso 27001"]}, "compliance_tags"),
        ({"compliance_tags": ["gdpr", "sox"]}, "compliance_tags"),
        ({"compliance_tags": [5]}, "compliance_tags"),
        ({"linked_items": ["OPS-1"]}, "linked_items"),
        ({"linked_items": ["MIG-99"]}, "linked_items"),
        ({"linked_items": "MIG-1"}, "linked_items"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_patch_is_400_with_a_field_message_and_changes_nothing(
    api_as, project, ops, risk, body, field
):
    before = risk_state(project)
    response = api_as("owner").patch(_url(risk), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field]
    assert risk_state(project) == before


@pytest.mark.parametrize("role", ["viewer", "outsider", "executive"])
def test_owner_who_is_not_an_owner_or_member_is_400(api_as, project, people, risk, role):
    before = risk_state(project)
    response = api_as("owner").patch(_url(risk), {"owner": people[role].pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "owner": [f"{people[role].username} is not an owner or member of MIG."]
    }
    assert risk_state(project) == before


def test_owner_of_another_project_only_is_400_on_create(api_as, project, ops, people):
    stranger = UserFactory(username="ops-only")
    MembershipFactory(project=ops, user=stranger, role=Membership.Role.MEMBER)
    before = risk_state(project)
    response = _create(api_as("owner"), owner=stranger.pk)
    assert response.status_code == 400
    assert response.json() == {"owner": ["ops-only is not an owner or member of MIG."]}
    assert risk_state(project) == before


def test_linking_another_projects_item_is_400_with_its_key(api_as, project, ops, risk):
    before = risk_state(project)
    response = api_as("owner").patch(_url(risk), {"linked_items": ["OPS-1"]}, format="json")
    assert response.json() == {"linked_items": ["'OPS-1' is not an item of MIG."]}
    assert risk_state(project) == before


def test_unknown_compliance_tag_names_the_allowed_ones(api_as, project, risk):
    response = api_as("owner").patch(_url(risk), {"compliance_tags": ["sox"]}, format="json")
    assert response.json() == {
        "compliance_tags": ["Unknown tag 'sox'. Use: iso27001, soc2, gdpr, hipaa, pci_dss."]
    }


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        (["mitigating"], "open"),
        (["closed"], "mitigating"),
        (["closed"], "occurred"),
        (["occurred"], "open"),
        (["occurred"], "mitigating"),
    ],
)
def test_illegal_status_transition_is_400_and_changes_nothing(
    api_as, project, people, risk, path, illegal
):
    for status in path:
        risk_update(actor=people["owner"], risk=risk, status=status)
    before = risk_state(project)
    response = api_as("owner").patch(_url(risk), {"status": illegal}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert f"cannot become {illegal}" in response.json()["status"][0]
    assert risk_state(project) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"probability": 0}, "probability"),
        ({"probability": 6}, "probability"),
        ({"impact": 6}, "impact"),
        ({"probability": None}, "probability"),
        ({"owner": 999999}, "owner"),
        ({"status": "closed"}, "status"),
        ({"status": "occurred"}, "status"),
        ({"compliance_tags": ["GDPR!"]}, "compliance_tags"),
        ({"linked_items": ["OPS-1"]}, "linked_items"),
        ({"category": None}, "category"),
    ],
)
def test_bad_create_is_400_with_a_field_message_and_writes_nothing(
    api_as, project, ops, risk, body, field
):
    before = risk_state(project)
    response = _create(api_as("owner"), **body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert risk_state(project) == before


def test_create_without_required_fields_names_each(api_as, project):
    response = api_as("owner").post(RISKS, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"title", "category", "probability", "impact"}
    assert not Risk.objects.exists()


def test_malformed_json_is_400(api_as, project, risk):
    before = risk_state(project)
    response = api_as("owner").generic(
        "PATCH", _url(risk), "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert risk_state(project) == before


@pytest.mark.parametrize(
    "bands",
    [
        {"low_max": 9, "medium_max": 9, "high_max": 14},
        {"low_max": 4, "medium_max": 15, "high_max": 14},
        {"low_max": 0, "medium_max": 9, "high_max": 14},
        {"low_max": 4, "medium_max": 9, "high_max": 25},
    ],
)
def test_bands_that_do_not_increase_are_400(api_as, project, bands):
    response = api_as("owner").put(SETTINGS, bands, format="json")
    assert response.status_code == 400
    assert response.json()
    assert not RiskSettings.objects.exists()


# --- filters, ordering, matrix -------------------------------------------------------------------


@pytest.fixture
def register(project, people, items):
    """Four risks with different levels, owners, tags, statuses and review dates."""
    owner, member = people["owner"], people["member"]
    today = project_today(project)
    specs = [
        (
            "Key rotation gap",
            "security",
            5,
            4,
            owner,
            ["iso27001", "soc2"],
            today + timedelta(days=60),
        ),
        ("Billing freeze", "schedule", 2, 2, member, [], today + timedelta(days=30)),
        ("GDPR transfer", "compliance", 3, 3, member, ["gdpr"], None),
        ("Test budget", "budget", 2, 5, owner, [], today + timedelta(days=10)),
    ]
    made = {
        title: risk_create(
            actor=owner,
            project=project,
            title=title,
            category=category,
            probability=p,
            impact=i,
            owner=who,
            compliance_tags=tags,
            review_date=review,
            description="Invoices leave the EU" if category == "compliance" else "",
        )
        for title, category, p, i, who, tags, review in specs
    }
    risk_update(actor=owner, risk=made["Test budget"], status="mitigating")
    risk_update(actor=owner, risk=made["Billing freeze"], status="closed")
    return made


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("status=mitigating", ["Test budget"]),
        ("status=open&ordering=score", ["GDPR transfer", "Key rotation gap"]),
        ("category=security", ["Key rotation gap"]),
        ("level=critical", ["Key rotation gap"]),
        ("level=high", ["Test budget"]),
        ("level=medium&ordering=score", ["GDPR transfer"]),
        ("level=low", ["Billing freeze"]),
        ("tag=soc2", ["Key rotation gap"]),
        ("tag=gdpr", ["GDPR transfer"]),
        ("owner=me&ordering=-score", ["Key rotation gap", "Test budget"]),
        ("q=eu", ["GDPR transfer"]),
        ("q=BILLING", ["Billing freeze"]),
        ("ordering=score", ["Billing freeze", "GDPR transfer", "Test budget", "Key rotation gap"]),
        ("ordering=-score", ["Key rotation gap", "Test budget", "GDPR transfer", "Billing freeze"]),
        (
            "ordering=review_date",
            ["Test budget", "Billing freeze", "Key rotation gap", "GDPR transfer"],
        ),
    ],
)
def test_register_filters_and_ordering(api_as, register, query, titles):
    response = api_as("owner").get(f"{RISKS}?{query}")
    assert response.status_code == 200
    assert _titles(response) == titles


def test_owner_filter_by_id(api_as, people, register):
    response = api_as("viewer").get(f"{RISKS}?owner={people['member'].pk}&ordering=score")
    assert _titles(response) == ["Billing freeze", "GDPR transfer"]


def test_ordering_by_exposure_puts_uncomputed_last(api_as, project, register, people):
    risks_recompute(project.pk)
    late = risk_create(
        actor=people["owner"],
        project=project,
        title="New",
        category="scope",
        probability=5,
        impact=5,
    )
    response = api_as("owner").get(f"{RISKS}?ordering=-exposure")
    # exposure: key rotation 80, test budget 40 (mitigating, no residual), GDPR 36, closed 0
    assert _titles(response) == [
        "Key rotation gap",
        "Test budget",
        "GDPR transfer",
        "Billing freeze",
        late.title,
    ]
    ascending = api_as("owner").get(f"{RISKS}?ordering=exposure")
    assert _titles(ascending)[:4] == [
        "Billing freeze",
        "GDPR transfer",
        "Test budget",
        "Key rotation gap",
    ]


@pytest.mark.parametrize(
    "query",
    [
        "status=maybe",
        "category=weather",
        "level=severe",
        "tag=sox",
        "owner=someone",
        "ordering=title",
    ],
)
def test_unknown_filter_values_are_400_naming_the_parameter(api_as, register, query):
    response = api_as("owner").get(f"{RISKS}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def test_project_bands_change_levels_and_the_level_filter(api_as, project, register):
    assert (
        api_as("owner")
        .put(SETTINGS, {"low_max": 2, "medium_max": 5, "high_max": 9}, format="json")
        .status_code
        == 200
    )
    response = api_as("owner").get(f"{RISKS}?ordering=score")
    assert [row["level"] for row in response.json()["results"]] == [
        "medium",  # 4
        "high",  # 9
        "critical",  # 10
        "critical",  # 20
    ]
    assert _titles(api_as("owner").get(f"{RISKS}?level=high")) == ["GDPR transfer"]


def test_risk_matrix_counts_open_and_mitigating_risks(api_as, people, register):
    risk_update(
        actor=people["owner"],
        risk=register["Test budget"],
        residual_probability=1,
        residual_impact=2,
    )
    inherent = api_as("viewer").get(MATRIX).json()
    expected = [[0] * 5 for _ in range(5)]
    expected[4][3] = 1  # key rotation gap 5 × 4
    expected[2][2] = 1  # GDPR transfer 3 × 3
    expected[1][4] = 1  # test budget 2 × 5 (mitigating); billing freeze is closed
    assert inherent == {"basis": "inherent", "matrix": expected}
    residual = api_as("viewer").get(f"{MATRIX}?basis=residual").json()
    expected[1][4], expected[0][1] = 0, 1  # test budget at its residual 1 × 2
    assert residual == {"basis": "residual", "matrix": expected}


def test_risk_matrix_rejects_an_unknown_basis(api_as, register):
    response = api_as("owner").get(f"{MATRIX}?basis=gut-feeling")
    assert response.status_code == 400
    assert list(response.json()) == ["basis"]


# --- query counts --------------------------------------------------------------------------------


def _many_risks(project, people, count: int) -> None:
    items = [
        work_item_create(actor=people["owner"], project=project, title=f"Mitigation {n}")
        for n in range(3)
    ]
    for n in range(count):
        risk_create(
            actor=people["owner"],
            project=project,
            title=f"Risk {n}",
            category="technical",
            probability=1 + n % 5,
            impact=1 + n % 3,
            owner=people["member"] if n % 2 else people["owner"],
            linked_items=items[: n % 4],
            compliance_tags=["gdpr"] if n % 3 == 0 else [],
        )
    risks_recompute(project.pk)


@pytest.mark.parametrize("count", [1, 30])
def test_risk_list_query_count_is_fixed(
    api_as, project, people, count, django_assert_max_num_queries
):
    _many_risks(project, people, count)
    client = api_as("member")
    with django_assert_max_num_queries(RISK_LIST_QUERIES):
        response = client.get(f"{RISKS}?page_size=200")
    assert response.json()["count"] == count
    assert all(row["exposure"] is not None for row in response.json()["results"])


@pytest.mark.parametrize("count", [1, 30])
def test_filtered_risk_list_query_count_is_fixed(
    api_as, project, people, count, django_assert_max_num_queries
):
    _many_risks(project, people, count)
    with django_assert_max_num_queries(RISK_LIST_QUERIES):
        response = api_as("viewer").get(f"{RISKS}?tag=gdpr&ordering=-exposure&level=low")
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 30])
def test_risk_history_query_count_is_fixed(
    api_as, project, people, risk, count, django_assert_max_num_queries
):
    RiskScoreHistory.objects.bulk_create(
        [
            RiskScoreHistory(
                risk=risk, project=project, day=date(2026, 1, 1 + n), exposure=n, score=12
            )
            for n in range(count)
        ]
    )
    with django_assert_max_num_queries(3):
        response = api_as("viewer").get(_url(risk, "history/"))
    assert response.json()["count"] == count
    assert response.json()["results"][0]["day"] == f"2026-01-{count:02d}"


def test_list_rows_and_detail_render_the_same_fields_and_values(api_as, project, people, risk):
    risk_update(
        actor=people["owner"],
        risk=risk,
        review_date=date(2026, 12, 1),
        residual_probability=1,
        residual_impact=2,
    )
    risks_recompute(project.pk)
    row = api_as("owner").get(RISKS).json()["results"][0]
    detail = api_as("owner").get(_url(risk)).json()
    assert row == detail
    assert list(detail) == list(RiskSerializer.Meta.fields)
    assert (detail["review_date"], detail["owner_name"], detail["cost_impact"]) == (
        "2026-12-01",
        people["owner"].display_name,
        "10000.00",
    )
    assert detail["created_at"].endswith("Z")
