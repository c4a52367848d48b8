"""Risk pages over the Django test client: register, heat map, risk detail, CSV, overview panel.

Permission matrices for every page and write, inline create and edit with bad input (400
fragment with the message, nothing written), status moves, the contingency plan, CSV content,
heat-map counts and links, empty states, fixed query counts and the demo register.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.management import call_command

from projects.models import Membership, Project
from risks.models import Risk, RiskItemLink, RiskScore, RiskScoreHistory, RiskSettings
from risks.services import risk_create, risk_update
from risks.tasks import risks_recompute
from sprints.metric_inputs import project_today
from sprints.models import WorkItem
from sprints.services.items import work_item_create
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.risks import risk_state
from tests.factories.tpm import UserFactory
from tests.matrix import page_matrix

HTMX = {"HTTP_HX_REQUEST": "true"}
REGISTER = "/projects/MIG/risks/"
CREATE = "/projects/MIG/risks/new/"
CSV_URL = "/projects/MIG/risks.csv"
HEATMAP = "/projects/MIG/risks/heatmap/"
TOP = "/projects/MIG/risks/top/"
# Same budget at a few rows and at many rows: a per-row query would break it.
REGISTER_QUERIES = 8
CSV_QUERIES = 4


READERS = page_matrix("owner", "member", "viewer", "executive")
CONTRIBUTORS_POST = page_matrix("owner", "member", ok=302)
# On a risk the member owns: owners and that member.
RISK_EDITORS_POST = page_matrix("owner", "member", ok=302)
OWNER_POST = page_matrix("owner", ok=302)


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def today(project):
    return project_today(project)


@pytest.fixture
def items(project, people):
    """MIG-1 (blocked), MIG-2 (due yesterday) and MIG-3, all in the backlog."""
    owner = people["owner"]
    return [
        work_item_create(
            actor=owner,
            project=project,
            title="Load test the payment gateway",
            blocked=True,
            blocked_reason="Waiting for sandbox keys",
        ),
        work_item_create(
            actor=owner,
            project=project,
            title="Dual-run the invoice batch",
            due_date=project_today(project) - timedelta(days=1),
        ),
        work_item_create(actor=owner, project=project, title="Rotate the database keys"),
    ]


@pytest.fixture
def risk(project, people, today):
    """The member's risk: vendor, P3 × I4, 40,000 cost impact, review in a week."""
    return risk_create(
        actor=people["owner"],
        project=project,
        title="Vendor API rate limits unknown",
        category="vendor",
        probability=3,
        impact=4,
        owner=people["member"],
        cost_impact=Decimal("40000"),
        contingency_plan="Queue and batch the calls",
        review_date=today + timedelta(days=7),
    )


@pytest.fixture
def owners_risk(project, people, today):
    """A risk the project owner owns (the member may not edit it)."""
    return risk_create(
        actor=people["owner"],
        project=project,
        title="Cloud egress costs above forecast",
        category="budget",
        probability=4,
        impact=3,
        owner=people["owner"],
        cost_impact=Decimal("10000"),
    )


def _login_redirect(response, path: str) -> None:
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={path}"


def _errors_by_id(html: str, list_id: str) -> list[str]:
    """The messages of ``<ul ... id="list_id">``."""
    match = re.search(rf'<ul class="field-errors[^"]*" id="{list_id}"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no #{list_id} error list in the response"
    return [unescape(m.strip()) for m in re.findall(r"<li>(.*?)</li>", match[1], re.S)]


def _row_titles(html: str) -> list[str]:
    """Risk titles of the register's rows, in the order shown."""
    return [
        unescape(t)
        for t in re.findall(
            r'<td class="risk-row__title">\s*<a href="/risks/\d+/">(.*?)</a>', html, re.S
        )
    ]


def _flashes(html: str) -> list[str]:
    return [
        unescape(m.strip())
        for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', html, re.S)
    ]


def _create_data(**overrides) -> dict:
    data = {
        "title": "Cut-over slips past the freeze",
        "category": "schedule",
        "probability": "4",
        "impact": "5",
        "owner": "",
        "review_date": "",
        "cost_impact": "25000",
    }
    data.update(overrides)
    return data


def _edit_data(risk: Risk, **overrides) -> dict:
    """Every field of the detail form, as the browser posts it (current values of ``risk``)."""
    risk = Risk.objects.get(pk=risk.pk)
    data = {
        "title": risk.title,
        "description": risk.description,
        "category": risk.category,
        "probability": str(risk.probability),
        "impact": str(risk.impact),
        "residual_probability": str(risk.residual_probability or ""),
        "residual_impact": str(risk.residual_impact or ""),
        "cost_impact": str(risk.cost_impact),
        "owner": str(risk.owner_id or ""),
        "response": risk.response,
        "mitigation_plan": risk.mitigation_plan,
        "contingency_plan": risk.contingency_plan,
        "trigger": risk.trigger,
        "review_date": risk.review_date.isoformat() if risk.review_date else "",
        "linked_items": ", ".join(
            f"MIG-{n}"
            for n in risk.linked_items.order_by("number").values_list("number", flat=True)
        ),
        "compliance_tags": list(risk.compliance_tags),
        "version": str(risk.version),
    }
    data.update(overrides)
    return data


def _scored(project) -> None:
    """What the worker does after a change: recompute every risk of the project."""
    risks_recompute(project.pk)


# --- permission matrix: reads --------------------------------------------------------------------


READ_PAGES = [
    ("register", REGISTER, "Vendor API rate limits unknown"),
    ("heatmap", HEATMAP, 'id="heatmap"'),
    ("detail", "/risks/{risk}/", "Vendor API rate limits unknown"),
    ("score", "/risks/{risk}/score/", 'id="score-panel"'),
    ("top", TOP, "Vendor API rate limits unknown"),
    ("csv", CSV_URL, "Vendor API rate limits unknown"),
]


@pytest.mark.parametrize(("name", "url", "marker"), READ_PAGES, ids=[p[0] for p in READ_PAGES])
@pytest.mark.parametrize(("role", "expected"), READERS)
def test_risk_pages_access(page_as, risk, name, url, marker, role, expected):
    path = url.format(risk=risk.pk)
    response = page_as(role).get(path)
    if role == "anonymous":
        _login_redirect(response, path)
        return
    assert response.status_code == expected
    if expected == 200:
        assert marker in unescape(response.content.decode())


def test_unknown_risk_is_404_and_other_projects_risk_is_404(page_as, risk, people):
    elsewhere = ProjectFactory(key="DATA")
    MembershipFactory(project=elsewhere, user=UserFactory(username="dana"), role="owner")
    hidden = risk_create(
        actor=people["owner"],
        project=elsewhere,
        title="Hidden",
        category="technical",
        probability=2,
        impact=2,
    )
    client = page_as("owner")
    assert client.get("/risks/999999/").status_code == 404
    assert client.get(f"/risks/{hidden.pk}/").status_code == 404
    assert client.get("/projects/NOPE/risks/").status_code == 404


def test_project_header_has_a_risks_tab(page_as, risk):
    html = page_as("viewer").get(REGISTER).content.decode()
    assert (
        '<a class="subnav__link is-active" href="/projects/MIG/risks/" aria-current="page">'
        "Risks</a>" in html
    )
    overview = page_as("viewer").get("/projects/MIG/").content.decode()
    assert 'href="/projects/MIG/risks/">Risks</a>' in overview


# --- register: rows, badges, trend, overdue, contingency -----------------------------------------


def test_register_shows_level_owner_exposure_trend_review_and_emv(
    page_as, project, people, risk, items, today
):
    risk_update(
        actor=people["owner"],
        risk=risk,
        review_date=today - timedelta(days=3),
        linked_items=[items[0]],
    )
    # Yesterday the exposure was lower: today's blocked item makes it rise.
    RiskScoreHistory.objects.create(
        risk=risk, project=project, day=today - timedelta(days=1), exposure=30, score=12
    )
    _scored(project)
    html = page_as("viewer").get(REGISTER).content.decode()
    row = re.search(rf'<tr id="risk-{risk.pk}".*?</tr>', html, re.S)[0]
    assert '<span class="level level--high">High <span class="level__score">12</span>' in row
    assert "Member" in row or people["member"].display_name in unescape(row)
    # 48 (score 12 × 4) + 5 (review overdue) + 8 (one blocked item) = 61, rising from 30.
    assert '<span class="exposure">61</span>' in row
    assert '<span class="visually-hidden">rising</span>' in row
    assert 'class="is-overdue"' in row
    assert ">overdue</span>" in row
    assert "24,000" in row  # EMV: 3/5 × 40,000
    assert "1 linked item" in row


def test_register_contingency_suggestion_is_the_sum_of_open_risks_emv(
    page_as, project, people, risk, owners_risk
):
    closed = risk_create(
        actor=people["owner"],
        project=project,
        title="Closed one",
        category="scope",
        probability=5,
        impact=5,
        cost_impact=Decimal("999000"),
    )
    risk_update(actor=people["owner"], risk=closed, status="closed")
    html = page_as("executive").get(REGISTER).content.decode()
    block = re.search(
        r'<div class="stat" id="contingency-suggestion">(.*?)</div></div>', html, re.S
    )
    # 3/5 × 40,000 + 4/5 × 10,000 = 24,000 + 8,000; the closed risk does not count.
    assert '<div class="stat__value">32,000</div>' in block[0]
    assert "Suggested contingency reserve" in block[0]


def test_register_summary_counts(page_as, project, people, risk, owners_risk, today):
    risk_update(actor=people["owner"], risk=owners_risk, review_date=today - timedelta(days=1))
    critical = risk_create(
        actor=people["owner"],
        project=project,
        title="Critical one",
        category="security",
        probability=5,
        impact=4,
    )
    risk_update(actor=people["owner"], risk=critical, status="occurred")
    html = page_as("viewer").get(REGISTER).content.decode()
    stats = {
        label: int(value)
        for value, label in re.findall(
            r'<div class="stat__value[^"]*">(\d+)</div><div class="stat__label">([^<]+)', html
        )
    }
    # The occurred risk is not open: 2 open, none critical, both high (12 and 12).
    assert stats == {
        "Open or mitigating": 2,
        "Critical": 0,
        "High": 2,
        "Reviews overdue": 1,
    }


def test_register_before_the_worker_ran_shows_exposure_pending(page_as, risk):
    html = page_as("owner").get(REGISTER).content.decode()
    row = re.search(rf'<tr id="risk-{risk.pk}".*?</tr>', html, re.S)[0]
    assert "being computed" in row
    assert 'class="exposure"' not in row


# --- register: filters and sorting ---------------------------------------------------------------


@pytest.fixture
def register(project, people, items, today):
    """Five risks with distinct categories, owners, levels, tags and statuses."""
    owner, member = people["owner"], people["member"]
    made = {
        "alpha": risk_create(
            actor=owner,
            project=project,
            title="Alpha: schema drift",
            category="technical",
            probability=2,
            impact=2,
            owner=member,
            review_date=today + timedelta(days=30),
        ),
        "bravo": risk_create(
            actor=owner,
            project=project,
            title="Bravo: data breach",
            category="security",
            probability=3,
            impact=5,
            owner=owner,
            compliance_tags=["gdpr"],
            review_date=today + timedelta(days=2),
            description="Personal data in the lake",
        ),
        "charlie": risk_create(
            actor=owner,
            project=project,
            title="Charlie: vendor slips",
            category="vendor",
            probability=4,
            impact=3,
            status="mitigating",
            residual_probability=2,
            residual_impact=2,
            linked_items=[items[0]],
        ),
        "delta": risk_create(
            actor=owner,
            project=project,
            title="Delta: budget overrun",
            category="budget",
            probability=1,
            impact=3,
            owner=member,
            review_date=today + timedelta(days=10),
        ),
        "echo": risk_create(
            actor=owner,
            project=project,
            title="Echo: cut-over freeze",
            category="schedule",
            probability=3,
            impact=4,
        ),
    }
    risk_update(actor=owner, risk=made["echo"], status="closed")
    _scored(project)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", ["Bravo: data breach", "Alpha: schema drift", "Delta: budget overrun"]),
        (
            "status=active",
            [
                "Bravo: data breach",
                "Charlie: vendor slips",
                "Alpha: schema drift",
                "Delta: budget overrun",
            ],
        ),
        ("category=security", ["Bravo: data breach"]),
        ("level=high", ["Charlie: vendor slips", "Echo: cut-over freeze"]),
        ("level=critical", ["Bravo: data breach"]),
        ("owner=me", ["Bravo: data breach"]),
        ("owner=none", ["Charlie: vendor slips", "Echo: cut-over freeze"]),
        ("tag=gdpr", ["Bravo: data breach"]),
        ("q=lake", ["Bravo: data breach"]),
        ("q=VENDOR", ["Charlie: vendor slips"]),
        ("probability=3&impact=5", ["Bravo: data breach"]),
        ("probability=2&impact=2&basis=residual", ["Charlie: vendor slips", "Alpha: schema drift"]),
        ("impact=3&status=active", ["Charlie: vendor slips", "Delta: budget overrun"]),
    ],
)
def test_register_filters(page_as, register, query, expected):
    html = page_as("owner").get(f"{REGISTER}?{query}&ordering=-score").content.decode()
    assert _row_titles(html) == expected


def test_register_owner_filter_by_member_id(page_as, register, people):
    html = page_as("viewer").get(f"{REGISTER}?owner={people['member'].pk}&ordering=title")
    assert _row_titles(html.content.decode()) == ["Alpha: schema drift", "Delta: budget overrun"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("title", ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
        ("-title", ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]),
        ("-score", ["Bravo", "Charlie", "Echo", "Alpha", "Delta"]),
        ("score", ["Delta", "Alpha", "Charlie", "Echo", "Bravo"]),
        # Exposure: bravo 60, charlie mitigating at residual 4 × 4 = 16 + 8 blocked = 24,
        # alpha 16, delta 12, echo closed 0.
        ("-exposure", ["Bravo", "Charlie", "Alpha", "Delta", "Echo"]),
        ("review_date", ["Bravo", "Delta", "Alpha", "Charlie", "Echo"]),
    ],
)
def test_register_sorting(page_as, register, ordering, expected):
    html = page_as("member").get(f"{REGISTER}?ordering={ordering}").content.decode()
    assert [t.split(":")[0] for t in _row_titles(html)] == expected


def test_register_sort_headers_flip_direction_and_keep_filters(page_as, register):
    html = page_as("owner").get(f"{REGISTER}?category=security&ordering=-score").content.decode()
    score_th = re.search(
        r'<th scope="col" aria-sort="descending"><a class="sort-link" href="([^"]+)"', html
    )
    assert unescape(score_th[1]) == "/projects/MIG/risks/?category=security&ordering=score"
    title_link = re.search(r'href="(/projects/MIG/risks/\?[^"]*ordering=title)"', html)
    assert unescape(title_link[1]) == "/projects/MIG/risks/?category=security&ordering=title"


def test_register_htmx_returns_the_body_fragment(page_as, register):
    response = page_as("viewer").get(f"{REGISTER}?category=vendor", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="register-body"')
    assert "<html" not in html
    assert _row_titles(html) == ["Charlie: vendor slips"]
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=sleeping", "Status: Choose one of: open, mitigating, closed, occurred."),
        ("level=extreme", "Level: Choose one of: low, medium, high, critical."),
        ("probability=6", "Probability: Give a whole number from 1 to 5."),
        ("owner=bob", 'Owner: Give a user id, "me" or "none".'),
        ("ordering=colour", "Ordering: Choose one of:"),
    ],
)
def test_register_bad_filter_is_400_with_message(page_as, register, query, message):
    response = page_as("owner").get(f"{REGISTER}?{query}")
    assert response.status_code == 400
    errors = re.search(r'id="filter-errors">(.*?)</div>', response.content.decode(), re.S)[1]
    assert message in unescape(errors)


def test_register_paginates_with_filters_in_the_links(page_as, project, people):
    Risk.objects.bulk_create(
        Risk(project=project, title=f"Risk {n:02d}", category="technical", probability=2, impact=2)
        for n in range(55)
    )
    client = page_as("viewer")
    first = client.get(f"{REGISTER}?category=technical&ordering=title").content.decode()
    assert len(_row_titles(first)) == 50
    assert "Page 1 of 2 · 55 risks" in first
    assert 'href="?category=technical&amp;ordering=title&amp;page=2"' in first
    second = client.get(f"{REGISTER}?category=technical&ordering=title&page=2").content.decode()
    assert _row_titles(second) == [f"Risk {n}" for n in range(50, 55)]


# --- register: inline create ---------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), CONTRIBUTORS_POST)
def test_create_access(page_as, project, people, risk, role, expected):
    before = Risk.objects.count()
    response = page_as(role).post(CREATE, _create_data(owner=str(people["member"].pk)))
    if role == "anonymous":
        _login_redirect(response, CREATE)
    else:
        assert response.status_code == expected
    created = Risk.objects.filter(title="Cut-over slips past the freeze").first()
    if expected == 302 and role != "anonymous":
        assert response.url == REGISTER
        assert created is not None
        assert created.created_by == people[role]
        assert Risk.objects.count() == before + 1
    else:
        assert created is None
        assert Risk.objects.count() == before


def test_create_inline_htmx_returns_the_fresh_register(page_as, project, people, today):
    review = today + timedelta(days=14)
    response = page_as("member").post(
        CREATE,
        _create_data(owner=str(people["member"].pk), review_date=review.isoformat()),
        **HTMX,
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"risk-changed": {}}
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="register-body"')
    assert _row_titles(html) == ["Cut-over slips past the freeze"]
    assert "Risk “Cut-over slips past the freeze” added." in _flashes(html)
    risk = Risk.objects.get()
    assert (risk.category, risk.probability, risk.impact) == ("schedule", 4, 5)
    assert (risk.owner, risk.review_date, risk.cost_impact) == (
        people["member"],
        review,
        Decimal("25000.00"),
    )
    assert risk.status == "open"
    row = re.search(rf'<tr id="risk-{risk.pk}".*?</tr>', html, re.S)[0]
    assert (
        '<span class="level level--critical">Critical <span class="level__score">20</span>' in row
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"probability": "0"}, "probability", "Probability: Give a whole number from 1 to 5."),
        ({"probability": "6"}, "probability", "Probability: Give a whole number from 1 to 5."),
        ({"impact": "0"}, "impact", "Impact: Give a whole number from 1 to 5."),
        ({"impact": "six"}, "impact", "Impact: Enter a whole number."),
        ({"title": ""}, "title", "Title: This field is required."),
        ({"title": "   "}, "title", "Title: This field is required."),
        (
            {"category": "weather"},
            "category",
            "Category: Choose one of: technical, security, schedule, budget, resource, "
            "compliance, vendor, scope.",
        ),
        ({"owner": "{viewer}"}, "owner", "Owner: viewer is not an owner or member of MIG."),
        ({"owner": "{outsider}"}, "owner", "Owner: outsider is not an owner or member of MIG."),
        ({"owner": "999999"}, "owner", "Owner: No active user with that id."),
        ({"cost_impact": "-5"}, "cost_impact", "Cost impact: Must not be negative."),
        ({"cost_impact": "lots"}, "cost_impact", "Cost impact: Enter an amount."),
        ({"review_date": "2026-13-45"}, "review_date", "Review date: Enter a valid date."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_create_bad_input_is_400_inline_and_writes_nothing(
    page_as, project, people, risk, overrides, field, message, htmx
):
    data = _create_data(**overrides)
    if data["owner"].startswith("{"):
        data["owner"] = str(people[data["owner"].strip("{}")].pk)
    before = risk_state(project)
    response = page_as("owner").post(CREATE, data, **(HTMX if htmx else {}))
    assert response.status_code == 400
    html = response.content.decode()
    if htmx:
        assert html.lstrip().startswith('<div id="register-body"')
    else:
        assert "<html" in html
    assert _errors_by_id(html, "create-errors") == [message]
    # The bad field is marked; what the user typed is kept.
    names = {
        "cost_impact": "create-cost",
        "review_date": "create-review",
        "title": "create-title-input",
    }
    control = names.get(field, f"create-{field}")
    assert re.search(rf'id="{control}"[^>]*aria-invalid="true"', html)
    if field != "title":
        assert 'value="Cut-over slips past the freeze"' in html
    assert risk_state(project) == before


def test_create_is_refused_for_a_viewer_without_writing(page_as, project, risk):
    before = risk_state(project)
    response = page_as("viewer").post(CREATE, _create_data(), **HTMX)
    assert response.status_code == 403
    assert risk_state(project) == before


def test_create_form_is_shown_only_to_contributors(page_as, risk):
    assert 'id="risk-create-form"' in page_as("member").get(REGISTER).content.decode()
    assert 'id="risk-create-form"' not in page_as("viewer").get(REGISTER).content.decode()
    assert 'id="risk-create-form"' not in page_as("executive").get(REGISTER).content.decode()


# --- empty states --------------------------------------------------------------------------------


def test_register_empty_state_for_contributors_and_readers(page_as, people):
    owner_html = page_as("owner").get(REGISTER).content.decode()
    assert "No risks yet" in owner_html
    assert "Write down what could derail this project" in owner_html
    assert 'id="risk-create-form"' in owner_html
    viewer_html = page_as("viewer").get(REGISTER).content.decode()
    assert "have not recorded any risks" in viewer_html
    assert "<table" not in viewer_html.split('id="register-body"')[1]


def test_register_filters_matching_nothing_say_so(page_as, risk):
    html = page_as("owner").get(f"{REGISTER}?category=scope").content.decode()
    assert 'id="no-matches"' in html
    assert "No risks match the filters." in html
    assert "No risks yet" not in html


def test_empty_heatmap_top_panel_and_detail(page_as, project, people):
    heatmap = page_as("owner").get(HEATMAP).content.decode()
    assert "Heat map: 0 open or mitigating risks" in heatmap
    assert re.findall(r'data-count="(\d+)"', heatmap) == ["0"] * 25
    top = page_as("owner").get(TOP).content.decode()
    assert "No open risks." in top
    bare = risk_create(
        actor=people["owner"],
        project=project,
        title="Bare",
        category="technical",
        probability=1,
        impact=1,
    )
    detail = page_as("owner").get(f"/risks/{bare.pk}/").content.decode()
    assert "No linked items." in detail
    assert "The history starts with the first computed exposure." in detail


# --- heat map ------------------------------------------------------------------------------------


def _cells(html: str) -> dict[tuple[int, int], dict]:
    cells = {}
    for cls, p, i, count, url in re.findall(
        r'<td class="heatmap__cell heatmap__cell--(\w+)[^"]*" data-probability="(\d)" '
        r'data-impact="(\d)" data-count="(\d+)">\s*<a class="heatmap__link" href="([^"]+)"',
        html,
    ):
        cells[(int(p), int(i))] = {"level": cls, "count": int(count), "url": unescape(url)}
    return cells


def test_heatmap_counts_levels_and_links(page_as, register):
    html = page_as("viewer").get(HEATMAP).content.decode()
    cells = _cells(html)
    assert len(cells) == 25
    # Rows run from probability 5 down to 1, columns from impact 1 to 5.
    order = [
        (int(p), int(i)) for p, i in re.findall(r'data-probability="(\d)" data-impact="(\d)"', html)
    ]
    assert order == [(p, i) for p in range(5, 0, -1) for i in range(1, 6)]
    counted = {key: c["count"] for key, c in cells.items() if c["count"]}
    # Open and mitigating only: echo (closed) is not counted.
    assert counted == {(2, 2): 1, (3, 5): 1, (4, 3): 1, (1, 3): 1}
    assert "Heat map: 4 open or mitigating risks" in html
    assert [cells[(1, 4)]["level"], cells[(2, 3)]["level"], cells[(3, 4)]["level"]] == [
        "low",
        "medium",
        "high",
    ]
    assert cells[(3, 5)]["level"] == "critical"
    assert cells[(4, 3)]["url"] == "/projects/MIG/risks/?status=active&probability=4&impact=3"
    # Following a cell's link lists exactly the risks counted in it.
    listed = page_as("viewer").get(cells[(4, 3)]["url"]).content.decode()
    assert _row_titles(listed) == ["Charlie: vendor slips"]


def test_heatmap_residual_basis_counts_residual_cells_and_links_to_them(page_as, register):
    response = page_as("owner").get(f"{HEATMAP}?basis=residual", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card heatmap-card" id="heatmap-body"')
    cells = _cells(html)
    counted = {key: c["count"] for key, c in cells.items() if c["count"]}
    # Charlie is at 2 × 2 after its response; the others have no residual values.
    assert counted == {(2, 2): 2, (3, 5): 1, (1, 3): 1}
    assert (
        cells[(2, 2)]["url"]
        == "/projects/MIG/risks/?status=active&probability=2&impact=2&basis=residual"
    )
    listed = page_as("owner").get(cells[(2, 2)]["url"]).content.decode()
    assert sorted(_row_titles(listed)) == ["Alpha: schema drift", "Charlie: vendor slips"]
    assert 'aria-current="true">Residual</a>' in html


def test_heatmap_colours_follow_the_projects_bands(page_as, project, register):
    RiskSettings.objects.create(project=project, low_max=2, medium_max=5, high_max=8)
    cells = _cells(page_as("owner").get(HEATMAP).content.decode())
    assert [cells[(1, s)]["level"] for s in range(1, 6)] == [
        "low",
        "low",
        "medium",
        "medium",
        "medium",
    ]
    assert cells[(3, 3)]["level"] == "critical"
    assert cells[(2, 4)]["level"] == "high"


def test_heatmap_cells_have_accessible_names(page_as, register):
    html = page_as("owner").get(HEATMAP).content.decode()
    assert 'aria-label="Probability 3, impact 5 (score 15, critical): 1 risk"' in html
    assert (
        '<th scope="row" class="heatmap__head heatmap__head--row">'
        '<span class="heatmap__num">5</span> Almost certain</th>' in html
    )
    assert "<caption" in html


# --- CSV -----------------------------------------------------------------------------------------


def _csv(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_has_every_column_and_the_same_filters(page_as, project, register, people):
    response = page_as("viewer").get(f"{CSV_URL}?status=active&ordering=-score")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="MIG-risks.csv"'
    rows = _csv(response)
    assert [r["title"] for r in rows] == [
        "Bravo: data breach",
        "Charlie: vendor slips",
        "Alpha: schema drift",
        "Delta: budget overrun",
    ]
    charlie = rows[1]
    assert charlie == {
        "id": str(register["charlie"].pk),
        "title": "Charlie: vendor slips",
        "category": "vendor",
        "status": "mitigating",
        "probability": "4",
        "impact": "3",
        "score": "12",
        "level": "high",
        "residual_probability": "2",
        "residual_impact": "2",
        "residual_score": "4",
        "residual_level": "low",
        "cost_impact": "0.00",
        "emv": "0.00",
        "exposure": "24",
        "trend": "steady",
        "owner": "",
        "review_date": "",
        "response": "",
        "linked_items": "MIG-1",
        "compliance_tags": "",
        "reasons": "residual score 4 of 25 while mitigating; 1 linked item blocked",
    }
    assert rows[0]["compliance_tags"] == "gdpr"
    assert rows[0]["owner"] == people["owner"].display_name


def test_csv_link_on_the_register_carries_the_filters(page_as, register):
    html = page_as("owner").get(f"{REGISTER}?category=vendor&q=slips").content.decode()
    link = re.search(r'id="csv-link" href="([^"]+)"', html)[1]
    assert unescape(link) == "/projects/MIG/risks.csv?q=slips&category=vendor"
    rows = _csv(page_as("owner").get(unescape(link)))
    assert [r["title"] for r in rows] == ["Charlie: vendor slips"]


def test_csv_neutralises_spreadsheet_formulas(page_as, project, people):
    risk_create(
        actor=people["owner"],
        project=project,
        title='=HYPERLINK("http://evil")',
        category="security",
        probability=2,
        impact=2,
    )
    rows = _csv(page_as("owner").get(CSV_URL))
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'


def test_csv_bad_filter_is_400(page_as, risk):
    response = page_as("owner").get(f"{CSV_URL}?level=extreme")
    assert response.status_code == 400
    assert "Level: Choose one of" in response.content.decode()


def test_csv_of_an_empty_register_is_the_header_only(page_as, people):
    response = page_as("owner").get(CSV_URL)
    assert response.content.decode().strip().split(",")[:3] == ["id", "title", "category"]
    assert _csv(response) == []


# --- risk detail: reading ------------------------------------------------------------------------


def test_detail_shows_scores_reasons_links_history_and_audit(
    page_as, project, people, risk, items, today
):
    risk_update(
        actor=people["owner"],
        risk=risk,
        linked_items=[items[0], items[1]],
        residual_probability=2,
        residual_impact=3,
        review_date=today - timedelta(days=12),
    )
    RiskScoreHistory.objects.create(
        risk=risk, project=project, day=today - timedelta(days=2), exposure=48, score=12
    )
    _scored(project)
    html = unescape(page_as("viewer").get(f"/risks/{risk.pk}/").content.decode())
    assert '<h1 class="page-header__title">Vendor API rate limits unknown</h1>' in html
    reasons = re.findall(
        r"<li>(.*?)</li>", re.search(r'<ul class="reasons" id="reasons">(.*?)</ul>', html, re.S)[1]
    )
    # 48 + 5 (review 12 days late) + 8 (one past due) + 8 (one blocked) = 69.
    assert reasons == [
        "Inherent score 12 of 25",
        "Review overdue by 12 days",
        "Mitigation overdue: 1 linked item past due",
        "1 linked item blocked",
    ]
    assert '69<span class="stat__of"> / 100</span>' in html
    assert "24,000.00" in html  # EMV
    assert "Residual score · P2 × I3" in html
    # Linked items with their live status.
    links = re.search(r'id="linked-items".*?</section>', html, re.S)[0]
    assert '<a class="mono" href="/items/MIG-1/">MIG-1</a>' in links
    assert '<a class="mono" href="/items/MIG-2/">MIG-2</a>' in links
    assert 'title="Waiting for sandbox keys">blocked</span>' in links
    assert "(overdue)" in links
    # History chart with a data table: two days.
    assert f'id="risk-{risk.pk}-exposure"' in html
    table_rows = re.findall(r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th>', html)
    assert table_rows == [(today - timedelta(days=2)).isoformat(), today.isoformat()]
    # Audit: the creation and the change, with the actor.
    audit = re.search(r'<ol class="history" id="audit">(.*?)</ol>', html, re.S)[1]
    assert f"<strong>{people['owner'].display_name}</strong> changed the risk" in audit
    assert f"<strong>{people['owner'].display_name}</strong> created the risk" in audit
    assert "linked MIG-1" in audit


def test_detail_score_panel_polls_until_the_worker_scored_the_change(page_as, project, risk):
    client = page_as("owner")
    pending = client.get(f"/risks/{risk.pk}/").content.decode()
    assert f'hx-get="/risks/{risk.pk}/score/" hx-trigger="every 3s"' in pending
    assert "A worker is recomputing the exposure" in pending
    _scored(project)
    panel = client.get(f"/risks/{risk.pk}/score/").content.decode()
    assert panel.lstrip().startswith('<section class="card score-panel" id="score-panel"')
    assert "hx-trigger" not in panel  # fresh: the swapped-in panel stops polling
    assert "Inherent score 12 of 25" in panel


@pytest.mark.parametrize(
    ("role", "editable"),
    [("owner", True), ("member", True), ("viewer", False), ("executive", False)],
)
def test_detail_is_editable_only_by_owners_and_the_risks_owner(page_as, risk, role, editable):
    html = page_as(role).get(f"/risks/{risk.pk}/").content.decode()
    assert ('<fieldset class="form-grid" disabled>' in html) is not editable
    assert ('<button type="submit" class="btn btn--primary">Save</button>' in html) is editable
    assert ("Start mitigating</button>" in html) is editable
    assert ("Delete risk</button>" in html) is (role == "owner")


def test_detail_of_someone_elses_risk_is_read_only_for_a_member(page_as, owners_risk):
    html = page_as("member").get(f"/risks/{owners_risk.pk}/").content.decode()
    assert '<fieldset class="form-grid" disabled>' in html
    assert "Read only: the project's owners and the risk's owner edit it." in html
    assert "Start mitigating</button>" not in html


def test_detail_status_buttons_follow_the_allowed_transitions(page_as, people, risk):
    client = page_as("owner")

    def buttons() -> list[str]:
        html = client.get(f"/risks/{risk.pk}/").content.decode()
        group = re.search(r'aria-label="Change status">(.*?)</div>', html, re.S)[1]
        return re.findall(r'value="(\w+)">\s*<input type="hidden" name="version"', group)

    assert buttons() == ["mitigating", "closed", "occurred"]
    risk_update(actor=people["owner"], risk=risk, status="mitigating")
    assert buttons() == ["closed", "occurred"]
    risk_update(actor=people["owner"], risk=risk, status="closed")
    assert buttons() == ["open"]


# --- risk detail: inline edit --------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), RISK_EDITORS_POST)
def test_edit_access_on_the_members_own_risk(page_as, project, people, risk, role, expected):
    path = f"/risks/{risk.pk}/"
    before = risk_state(project)
    response = page_as(role).post(path, _edit_data(risk, title="Renamed"))
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    risk.refresh_from_db()
    if expected == 302 and role != "anonymous":
        assert response.url == path
        assert (risk.title, risk.version) == ("Renamed", 2)
    else:
        assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), OWNER_POST)
def test_edit_access_on_a_risk_the_member_does_not_own(
    page_as, project, owners_risk, role, expected
):
    path = f"/risks/{owners_risk.pk}/"
    before = risk_state(project)
    response = page_as(role).post(path, _edit_data(owners_risk, title="Renamed"))
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    owners_risk.refresh_from_db()
    if expected == 302 and role != "anonymous":
        assert owners_risk.title == "Renamed"
    else:
        assert risk_state(project) == before


def test_edit_inline_htmx_saves_every_field(page_as, project, people, risk, items, today):
    review = today + timedelta(days=21)
    response = page_as("member").post(
        f"/risks/{risk.pk}/",
        _edit_data(
            risk,
            title="Gateway rate limits",
            description="Unknown quotas",
            category="technical",
            probability="4",
            impact="5",
            residual_probability="2",
            residual_impact="3",
            cost_impact="12500.50",
            response="mitigate",
            mitigation_plan="Load test",
            contingency_plan="Batch",
            trigger="HTTP 429",
            review_date=review.isoformat(),
            linked_items="mig-3, MIG-1",
            compliance_tags=["pci_dss", "gdpr"],
        ),
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="risk-page">')
    assert json.loads(response["HX-Trigger"]) == {"risk-changed": {}}
    assert "Risk saved." in _flashes(html)
    risk.refresh_from_db()
    assert (risk.title, risk.description, risk.category) == (
        "Gateway rate limits",
        "Unknown quotas",
        "technical",
    )
    assert (risk.probability, risk.impact, risk.residual_probability, risk.residual_impact) == (
        4,
        5,
        2,
        3,
    )
    assert (risk.cost_impact, risk.response, risk.review_date) == (
        Decimal("12500.50"),
        "mitigate",
        review,
    )
    assert (risk.mitigation_plan, risk.contingency_plan, risk.trigger) == (
        "Load test",
        "Batch",
        "HTTP 429",
    )
    assert sorted(risk.linked_items.values_list("number", flat=True)) == [1, 3]
    assert risk.compliance_tags == ["pci_dss", "gdpr"]
    assert risk.version == 2
    assert (
        '<span class="level level--critical">Critical <span class="level__score">20</span>' in html
    )
    # The fresh fragment shows the saved values and polls for the new exposure.
    assert 'value="MIG-1, MIG-3"' in html
    assert f'hx-get="/risks/{risk.pk}/score/"' in html


def test_edit_can_clear_residual_values_links_tags_and_owner(page_as, project, people, items):
    risk = risk_create(
        actor=people["owner"],
        project=project,
        title="Full",
        category="security",
        probability=3,
        impact=3,
        owner=people["member"],
        residual_probability=1,
        residual_impact=1,
        linked_items=[items[0]],
        compliance_tags=["soc2"],
    )
    data = _edit_data(risk, residual_probability="", residual_impact="", linked_items="", owner="")
    data.pop("compliance_tags")
    response = page_as("owner").post(f"/risks/{risk.pk}/", data)
    assert response.status_code == 302
    risk.refresh_from_db()
    assert (risk.residual_probability, risk.residual_impact, risk.owner_id) == (None, None, None)
    assert risk.compliance_tags == []
    assert not risk.linked_items.exists()


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"probability": "0"}, "f-probability", "Give a whole number from 1 to 5."),
        ({"probability": "6"}, "f-probability", "Give a whole number from 1 to 5."),
        ({"impact": "6"}, "f-impact", "Give a whole number from 1 to 5."),
        ({"residual_impact": "9"}, "f-rimpact", "Give a whole number from 1 to 5."),
        ({"title": ""}, "f-title", "This field is required."),
        (
            {"category": "weather"},
            "f-category",
            "Choose one of: technical, security, schedule, budget, resource, compliance, "
            "vendor, scope.",
        ),
        ({"owner": "{viewer}"}, "f-owner", "viewer is not an owner or member of MIG."),
        ({"owner": "999999"}, "f-owner", "No active user with that id."),
        ({"linked_items": "MIG-99"}, "f-links", "No such item: MIG-99."),
        ({"linked_items": "DATA-1"}, "f-links", "'DATA-1' is not an item of MIG."),
        ({"linked_items": "not a key"}, "f-links", "'NOT' is not an item of MIG."),
        (
            {"compliance_tags": ["sox"]},
            "f-tags",
            "Unknown tag 'sox'. Use: iso27001, soc2, gdpr, hipaa, pci_dss.",
        ),
        ({"cost_impact": "-1"}, "f-cost", "Must not be negative."),
        ({"cost_impact": "abc"}, "f-cost", "Enter an amount."),
        ({"review_date": "2026-02-30"}, "f-review", "Enter a valid date."),
        ({"response": "pray"}, "f-response", "Choose one of: avoid, mitigate, transfer, accept."),
    ],
)
def test_edit_bad_input_is_400_with_the_message_and_changes_nothing(
    page_as, project, people, risk, items, overrides, field_id, message
):
    data = _edit_data(risk, **overrides)
    if isinstance(data["owner"], str) and data["owner"].startswith("{"):
        data["owner"] = str(people[data["owner"].strip("{}")].pk)
    before = risk_state(project)
    response = page_as("member").post(f"/risks/{risk.pk}/", data, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="risk-page">')
    assert _errors_by_id(html, f"{field_id}-errors") == [message]
    assert re.search(r'<div class="form-errors" role="alert" id="edit-errors">', html)
    assert risk_state(project) == before


def test_edit_400_keeps_what_the_user_typed(page_as, project, risk):
    html = (
        page_as("owner")
        .post(f"/risks/{risk.pk}/", _edit_data(risk, title="Typed title", probability="9"), **HTMX)
        .content.decode()
    )
    assert 'value="Typed title"' in html
    assert Risk.objects.get(pk=risk.pk).title == "Vendor API rate limits unknown"


def test_edit_with_a_stale_version_is_409_and_shows_the_current_risk(
    page_as, project, people, risk
):
    stale = _edit_data(risk, title="Mine")
    risk_update(actor=people["owner"], risk=risk, title="Theirs")
    before = risk_state(project)
    response = page_as("member").post(f"/risks/{risk.pk}/", stale, **HTMX)
    assert response.status_code == 409
    html = unescape(response.content.decode())
    assert "Someone changed this risk while you were editing." in html
    assert 'value="Theirs"' in html
    assert risk_state(project) == before


def test_edit_audit_history_shows_the_change(page_as, people, risk):
    page_as("member").post(f"/risks/{risk.pk}/", _edit_data(risk, probability="5"))
    html = unescape(page_as("viewer").get(f"/risks/{risk.pk}/").content.decode())
    audit = re.search(r'<ol class="history" id="audit">(.*?)</ol>', html, re.S)[1]
    first = re.search(r'<li class="history__item">(.*?)</li>', audit, re.S)[1]
    assert f"<strong>{people['member'].display_name}</strong> changed the risk" in first
    assert (
        '<th scope="row">Probability</th><td><span class="diff__old">3</span> → '
        '<span class="diff__new">5</span>' in first
    )


# --- status moves, contingency, delete -----------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), RISK_EDITORS_POST)
def test_status_change_access(page_as, project, risk, role, expected):
    path = f"/risks/{risk.pk}/status/"
    before = risk_state(project)
    response = page_as(role).post(path, {"status": "mitigating", "version": str(risk.version)})
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    risk.refresh_from_db()
    if expected == 302 and role != "anonymous":
        assert risk.status == "mitigating"
    else:
        assert risk_state(project) == before


def test_status_change_of_someone_elses_risk_is_403_for_a_member(page_as, project, owners_risk):
    before = risk_state(project)
    response = page_as("member").post(
        f"/risks/{owners_risk.pk}/status/", {"status": "closed"}, **HTMX
    )
    assert response.status_code == 403
    assert risk_state(project) == before


def test_status_change_htmx_and_a_refused_transition(page_as, project, people, risk):
    client = page_as("member")
    response = client.post(
        f"/risks/{risk.pk}/status/", {"status": "closed", "version": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert 'id="risk-status">Closed</span>' in response.content.decode()
    before = risk_state(project)
    refused = client.post(
        f"/risks/{risk.pk}/status/", {"status": "mitigating", "version": "2"}, **HTMX
    )
    assert refused.status_code == 400
    assert "Status: A risk that is closed cannot become mitigating; allowed: open." in _flashes(
        refused.content.decode()
    )
    assert risk_state(project) == before
    stale = client.post(f"/risks/{risk.pk}/status/", {"status": "open", "version": "1"}, **HTMX)
    assert stale.status_code == 409
    assert risk_state(project) == before


def test_occurred_risk_offers_the_contingency_plan_and_starts_it(page_as, project, people, risk):
    client = page_as("member")
    moved = client.post(f"/risks/{risk.pk}/status/", {"status": "occurred", "version": "1"}, **HTMX)
    html = moved.content.decode()
    assert "The risk occurred: start its contingency plan." in _flashes(html)
    assert "Start contingency plan</button>" in html
    items_before = WorkItem.objects.filter(project=project).count()
    response = client.post(f"/risks/{risk.pk}/contingency/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    item = WorkItem.objects.get(project=project, title="Contingency: Queue and batch the calls")
    assert WorkItem.objects.filter(project=project).count() == items_before + 1
    risk.refresh_from_db()
    assert risk.contingency_item_id == item.pk
    assert list(risk.linked_items.all()) == [item]
    key = f"MIG-{item.number}"
    assert f"Contingency plan started as {key}." in _flashes(html)
    assert f'Contingency plan started as <a class="mono" href="/items/{key}/">{key}</a>' in html
    assert "Start contingency plan</button>" not in html
    # A second start is refused: nothing new.
    before = risk_state(project)
    again = client.post(f"/risks/{risk.pk}/contingency/", **HTMX)
    assert again.status_code == 409
    assert "The contingency plan was already started." in _flashes(again.content.decode())
    assert risk_state(project) == before


def test_contingency_without_a_plan_is_400(page_as, project, people, owners_risk):
    risk_update(actor=people["owner"], risk=owners_risk, status="occurred")
    html = page_as("owner").get(f"/risks/{owners_risk.pk}/").content.decode()
    assert "Write the contingency plan below, then start it from here." in html
    before = risk_state(project)
    response = page_as("owner").post(f"/risks/{owners_risk.pk}/contingency/", **HTMX)
    assert response.status_code == 400
    assert "Contingency plan: Write the contingency plan before starting it." in _flashes(
        response.content.decode()
    )
    assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), RISK_EDITORS_POST)
def test_contingency_access(page_as, project, people, risk, role, expected):
    risk_update(actor=people["owner"], risk=risk, status="occurred")
    path = f"/risks/{risk.pk}/contingency/"
    before = risk_state(project)
    response = page_as(role).post(path)
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    if expected == 302 and role != "anonymous":
        assert Risk.objects.get(pk=risk.pk).contingency_item_id is not None
    else:
        assert risk_state(project) == before


@pytest.mark.parametrize(("role", "expected"), OWNER_POST)
def test_delete_access_even_on_the_members_own_risk(page_as, project, risk, role, expected):
    path = f"/risks/{risk.pk}/delete/"
    before = risk_state(project)
    response = page_as(role).post(path)
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    if expected == 302 and role != "anonymous":
        assert response.url == REGISTER
        assert not Risk.objects.filter(pk=risk.pk).exists()
    else:
        assert risk_state(project) == before


def test_writes_refuse_get(page_as, risk):
    client = page_as("owner")
    for path in (
        CREATE,
        f"/risks/{risk.pk}/status/",
        f"/risks/{risk.pk}/contingency/",
        f"/risks/{risk.pk}/delete/",
    ):
        assert client.get(path).status_code == 405


# --- project overview: top risks -----------------------------------------------------------------


def test_overview_loads_the_top_risks_panel_over_htmx(page_as, risk):
    html = page_as("viewer").get("/projects/MIG/").content.decode()
    assert f'hx-get="{TOP}" hx-trigger="load" hx-swap="outerHTML"' in html
    assert 'href="/projects/MIG/risks/">Top risks</a>' in html


def test_top_risks_are_the_five_open_ones_with_the_highest_exposure(page_as, project, people):
    owner = people["owner"]
    for n, (p, i) in enumerate([(1, 1), (5, 5), (2, 3), (4, 4), (3, 3), (2, 2), (5, 4)]):
        risk_create(
            actor=owner,
            project=project,
            title=f"R{n} {p}x{i}",
            category="technical",
            probability=p,
            impact=i,
        )
    closed = Risk.objects.get(title="R1 5x5")
    risk_update(actor=owner, risk=closed, status="closed")
    _scored(project)
    html = page_as("executive").get(TOP).content.decode()
    titles = re.findall(r'<a href="/risks/\d+/">(.*?)</a>', html)
    assert titles == ["R6 5x4", "R3 4x4", "R4 3x3", "R2 2x3", "R5 2x2"]
    assert "Inherent score 20 of 25" in html
    assert 'hx-trigger="every 30s"' in html


# --- query budgets -------------------------------------------------------------------------------


def _many_risks(project, people, items, n: int) -> None:
    member = people["member"]
    risks = Risk.objects.bulk_create(
        Risk(
            project=project,
            title=f"Risk {k:03d}",
            category=Risk.Category.values[k % 8],
            probability=k % 5 + 1,
            impact=(k * 3) % 5 + 1,
            owner=member if k % 2 else None,
            compliance_tags=["gdpr"] if k % 3 == 0 else [],
        )
        for k in range(n)
    )
    RiskItemLink.objects.bulk_create(
        RiskItemLink(risk=r, item=items[k % len(items)]) for k, r in enumerate(risks)
    )
    _scored(project)


@pytest.mark.parametrize("n", [5, 60])
def test_register_query_count_is_fixed(
    page_as, project, people, items, n, django_assert_max_num_queries
):
    _many_risks(project, people, items, n)
    client = page_as("member")
    with django_assert_max_num_queries(REGISTER_QUERIES):
        response = client.get(f"{REGISTER}?ordering=title")
    assert len(_row_titles(response.content.decode())) == min(n, 50)
    with django_assert_max_num_queries(REGISTER_QUERIES):
        response = client.get(f"{REGISTER}?status=open&tag=gdpr", **HTMX)
    assert response.status_code == 200


@pytest.mark.parametrize("n", [5, 60])
def test_csv_query_count_is_fixed(
    page_as, project, people, items, n, django_assert_max_num_queries
):
    _many_risks(project, people, items, n)
    client = page_as("viewer")
    with django_assert_max_num_queries(CSV_QUERIES):
        response = client.get(CSV_URL)
    assert len(_csv(response)) == n


# --- demo data -----------------------------------------------------------------------------------


def test_demo_data_gives_every_demo_project_a_realistic_scored_register(db):
    call_command("demo_data", stdout=io.StringIO())
    for key in ("MIG", "DATA", "ZTN", "KUBE"):
        project = Project.objects.get(key=key)
        risks = Risk.objects.filter(project=project)
        today = project_today(project)
        assert 10 <= risks.count() <= 20, key
        assert risks.values("category").distinct().count() >= 6, key
        assert risks.filter(status="open", review_date__lt=today).exists(), key
        assert risks.filter(status="occurred").exists(), key
        assert risks.filter(status="closed").exists(), key
        assert risks.filter(contingency_item__isnull=False).exists(), key
        # Every risk has its score and reasons at once, and a history to chart.
        assert RiskScore.objects.filter(project=project).count() == risks.count(), key
        assert not RiskScore.objects.filter(project=project, reasons=[]).exists(), key
        assert RiskScoreHistory.objects.filter(project=project).count() > risks.count(), key
        # Owners are the project's owners and members.
        contributors = set(
            Membership.objects.filter(project=project, role__in=["owner", "member"]).values_list(
                "user_id", flat=True
            )
        )
        assert set(risks.values_list("owner_id", flat=True)) <= contributors, key
    # The projects with a backlog have risks linked to blocked items, with the reason shown.
    for key in ("MIG", "DATA", "ZTN"):
        linked = Risk.objects.filter(project__key=key, links__item__blocked=True)
        assert linked.exists(), key
        assert RiskScore.objects.filter(
            risk__in=linked, reasons__contains=["1 linked item blocked"]
        ).exists(), key
    counts = {key: Risk.objects.filter(project__key=key).count() for key in ("MIG", "DATA")}
    call_command("demo_data", stdout=io.StringIO())  # idempotent
    assert {key: Risk.objects.filter(project__key=key).count() for key in counts} == counts


# --- register: inline row edit -------------------------------------------------------------------


def _row_data(risk: Risk, **overrides) -> dict:
    risk = Risk.objects.get(pk=risk.pk)
    data = {
        "title": risk.title,
        "probability": str(risk.probability),
        "impact": str(risk.impact),
        "owner": str(risk.owner_id or ""),
        "review_date": risk.review_date.isoformat() if risk.review_date else "",
        "version": str(risk.version),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("role", "expected"), READERS)
def test_row_fragment_access(page_as, risk, role, expected):
    path = f"/risks/{risk.pk}/row/"
    response = page_as(role).get(path, **HTMX)
    if role == "anonymous":
        _login_redirect(response, path)
        return
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        assert html.lstrip().startswith(f'<tr id="risk-{risk.pk}" class="risk-row risk-row--open">')


@pytest.mark.parametrize(("role", "expected"), page_matrix("owner", "member"))
def test_row_edit_form_access_on_the_members_own_risk(page_as, risk, role, expected):
    path = f"/risks/{risk.pk}/row/edit/"
    response = page_as(role).get(path, **HTMX)
    if role == "anonymous":
        _login_redirect(response, path)
        return
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        assert f'<tr id="risk-{risk.pk}" class="risk-row is-editing">' in html
        assert f'hx-post="/risks/{risk.pk}/row/"' in html


def test_row_edit_form_of_someone_elses_risk_is_403_for_a_member(page_as, owners_risk):
    assert page_as("member").get(f"/risks/{owners_risk.pk}/row/edit/", **HTMX).status_code == 403


@pytest.mark.parametrize(("role", "expected"), page_matrix("owner", "member"))
def test_row_save_access_on_the_members_own_risk(page_as, project, people, risk, role, expected):
    path = f"/risks/{risk.pk}/row/"
    before = risk_state(project)
    response = page_as(role).post(path, _row_data(risk, probability="5"), **HTMX)
    if role == "anonymous":
        _login_redirect(response, path)
    else:
        assert response.status_code == expected
    risk.refresh_from_db()
    if expected == 200 and role != "anonymous":
        assert (risk.probability, risk.version) == (5, 2)
    else:
        assert risk_state(project) == before


def test_row_save_returns_the_fresh_row(page_as, project, people, risk, today):
    review = today + timedelta(days=3)
    response = page_as("owner").post(
        f"/risks/{risk.pk}/row/",
        _row_data(
            risk,
            title="Gateway quotas",
            probability="5",
            impact="4",
            owner=str(people["owner"].pk),
            review_date=review.isoformat(),
        ),
        **HTMX,
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"risk-changed": {}}
    html = unescape(response.content.decode())
    assert html.lstrip().startswith(f'<tr id="risk-{risk.pk}" class="risk-row risk-row--open">')
    assert (
        '<span class="level level--critical">Critical <span class="level__score">20</span>' in html
    )
    assert f"<td>{people['owner'].display_name}</td>" in html
    risk.refresh_from_db()
    assert (risk.title, risk.probability, risk.impact, risk.owner, risk.review_date) == (
        "Gateway quotas",
        5,
        4,
        people["owner"],
        review,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"probability": "0"}, "Probability: Give a whole number from 1 to 5."),
        ({"impact": "6"}, "Impact: Give a whole number from 1 to 5."),
        ({"owner": "{viewer}"}, "Owner: viewer is not an owner or member of MIG."),
        ({"title": ""}, "Title: This field is required."),
        ({"review_date": "soon"}, "Review date: Enter a valid date."),
    ],
)
def test_row_save_bad_input_is_400_in_the_row_and_changes_nothing(
    page_as, project, people, risk, overrides, message
):
    data = _row_data(risk, **overrides)
    if data["owner"].startswith("{"):
        data["owner"] = str(people[data["owner"].strip("{}")].pk)
    before = risk_state(project)
    response = page_as("member").post(f"/risks/{risk.pk}/row/", data, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<tr id="risk-{risk.pk}" class="risk-row is-editing">' in html
    assert _errors_by_id(html, f"row-{risk.pk}-errors") == [message]
    assert risk_state(project) == before


def test_row_save_with_a_stale_version_is_409(page_as, project, people, risk):
    stale = _row_data(risk, title="Mine")
    risk_update(actor=people["owner"], risk=risk, title="Theirs")
    before = risk_state(project)
    response = page_as("member").post(f"/risks/{risk.pk}/row/", stale, **HTMX)
    assert response.status_code == 409
    html = unescape(response.content.decode())
    assert "Someone changed this risk first; this is the risk as it is now." in html
    assert 'value="Theirs"' in html
    assert risk_state(project) == before


def test_row_save_without_htmx_redirects_or_shows_the_register_with_400(page_as, project, risk):
    client = page_as("owner")
    ok = client.post(f"/risks/{risk.pk}/row/", _row_data(risk, title="Plain"))
    assert (ok.status_code, ok.url) == (302, REGISTER)
    before = risk_state(project)
    bad = client.post(f"/risks/{risk.pk}/row/", _row_data(risk, probability="9"))
    assert bad.status_code == 400
    assert "Probability: Give a whole number from 1 to 5." in _flashes(bad.content.decode())
    assert risk_state(project) == before


def test_register_offers_row_edit_only_where_allowed(page_as, risk, owners_risk):
    def editable(role: str) -> set[int]:
        html = page_as(role).get(REGISTER).content.decode()
        return {int(pk) for pk in re.findall(r'hx-get="/risks/(\d+)/row/edit/"', html)}

    assert editable("owner") == {risk.pk, owners_risk.pk}
    assert editable("member") == {risk.pk}
    assert editable("viewer") == set()
    assert editable("executive") == set()
