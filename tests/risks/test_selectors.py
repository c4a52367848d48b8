"""Reads for the register page and the overview: top risks, contingency, register rows, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from risks.selectors import (
    risk_audit_for_risk,
    risk_bands_for_project,
    risk_contingency_suggestion,
    risk_linked_items_for_risk,
    risk_list_for_register,
    risk_matrix_for_project,
    risk_top_for_project,
)
from risks.services import risk_create, risk_delete, risk_settings_update, risk_update
from risks.tasks import risks_recompute
from sprints.services.items import work_item_create


@pytest.fixture
def risks(project, people):
    """Seven risks: exposures 100, 80, 64, 48, 36 and 16 open or mitigating, one closed."""
    owner = people["owner"]
    made = []
    for title, p, i, cost in (
        ("Key leak", 5, 5, "100000.00"),
        ("Vendor slip", 4, 5, "50000.00"),
        ("Capacity", 4, 4, "12345.67"),
        ("Licence audit", 3, 4, "0.00"),
        ("Data loss", 3, 3, "1000.00"),
        ("Drift", 2, 2, "10.00"),
        ("Old", 5, 5, "999999.00"),
    ):
        made.append(
            risk_create(
                actor=owner,
                project=project,
                title=title,
                category="technical",
                probability=p,
                impact=i,
                cost_impact=Decimal(cost),
                owner=owner,
            )
        )
    risk_update(actor=owner, risk=made[5], status="mitigating")
    risk_update(actor=owner, risk=made[6], status="closed")
    risks_recompute(project.pk)
    return made


def test_top_risks_are_the_five_most_exposed_open_ones(
    project, people, risks, django_assert_num_queries
):
    name = people["owner"].display_name
    with django_assert_num_queries(1):
        top = risk_top_for_project(project=project)
        rows = [(r.title, r.exposure, r.level, r.owner_name) for r in top]
    assert rows == [
        ("Key leak", 100, "critical", name),
        ("Vendor slip", 80, "critical", name),
        ("Capacity", 64, "critical", name),
        ("Licence audit", 48, "high", name),
        ("Data loss", 36, "medium", name),
    ]
    assert [r.title for r in risk_top_for_project(project=project, n=2)] == [
        "Key leak",
        "Vendor slip",
    ]


def test_contingency_suggestion_sums_open_and_mitigating_emvs(project, risks):
    # 100000 + 4/5·50000 + 4/5·12345.67 (9876.536 → 9876.54) + 0 + 3/5·1000 + 2/5·10
    assert risk_contingency_suggestion(project=project) == Decimal("150480.54")


def test_contingency_suggestion_of_an_empty_register_is_zero(project):
    assert risk_contingency_suggestion(project=project) == Decimal("0.00")


def test_register_rows_filter_and_order_in_one_query(
    project, people, risks, django_assert_num_queries
):
    name = people["owner"].display_name
    with django_assert_num_queries(1):
        rows = list(
            risk_list_for_register(
                project=project,
                user=people["owner"],
                params={"level": "critical", "ordering": "score"},
            )
        )
        summary = [(r.title, r.score, r.trend, r.owner_name, r.linked_numbers) for r in rows]
    assert summary == [
        ("Capacity", 16, "steady", name, []),
        ("Vendor slip", 20, "steady", name, []),
        ("Key leak", 25, "steady", name, []),
        ("Old", 25, "steady", name, []),
    ]


def test_register_rejects_unknown_parameters_by_name(project, people):
    with pytest.raises(ValidationError) as raised:
        risk_list_for_register(project=project, user=people["owner"], params={"level": "huge"})
    assert list(raised.value.message_dict) == ["level"]


def test_bands_default_until_set(project, people):
    assert risk_bands_for_project(project=project).high_max == 14
    risk_settings_update(
        actor=people["owner"], project=project, low_max=3, medium_max=7, high_max=20
    )
    bands = risk_bands_for_project(project=project)
    assert (bands.low_max, bands.medium_max, bands.high_max) == (3, 7, 20)


def test_matrix_of_an_empty_register_is_all_zeros(project):
    assert risk_matrix_for_project(project=project, basis="residual") == [[0] * 5] * 5


def test_audit_names_actors_changes_and_links(project, people):
    owner, member = people["owner"], people["member"]
    item = work_item_create(actor=owner, project=project, title="Drill")
    risk = risk_create(
        actor=member,
        project=project,
        title="Failover",
        category="technical",
        probability=2,
        impact=2,
        owner=member,
    )
    risk_update(actor=owner, risk=risk, impact=4, linked_items=[item])
    entries = risk_audit_for_risk(risk=risk)
    assert [(e.actor, e.label) for e in entries] == [
        (owner.display_name, "linked MIG-1"),
        (owner.display_name, "changed the risk"),
        (member.display_name, "created the risk"),
    ]
    assert entries[1].changes == [("impact", 2, 4)]


def test_linked_items_come_with_their_live_status(project, people, django_assert_num_queries):
    owner = people["owner"]
    first = work_item_create(actor=owner, project=project, title="Drill")
    second = work_item_create(actor=owner, project=project, title="Runbook", status="Done")
    risk = risk_create(
        actor=owner,
        project=project,
        title="Failover",
        category="technical",
        probability=2,
        impact=2,
        linked_items=[second, first],
    )
    with django_assert_num_queries(1):
        rows = [(item.key, item.status.category) for item in risk_linked_items_for_risk(risk=risk)]
    assert rows == [("MIG-1", "todo"), ("MIG-2", "done")]


def test_audit_keeps_a_deleted_risks_last_state(project, people):
    risk = risk_create(
        actor=people["owner"],
        project=project,
        title="Gone",
        category="scope",
        probability=1,
        impact=1,
    )
    risk_delete(actor=people["owner"], risk=risk)
    labels = [e.label for e in risk_audit_for_risk(risk=risk)]
    assert labels == ["deleted the risk", "created the risk"]
