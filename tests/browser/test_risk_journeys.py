"""Real headless-browser journeys through the risk register, the heat map and a risk's page.

Debian's Chromium with real clicks and typing against ``live_server``; scores, exposure and
reasons come from the real Celery worker on real Redis, as in production.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from risks.models import Risk, RiskScore
from risks.services import risk_create, risk_update
from sprints.metric_inputs import project_today
from sprints.models import WorkItem
from sprints.services.items import work_item_create
from tests.factories.tpm import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
WORKER_TIMEOUT_MS = 40_000  # coalescing countdown + recompute + the panel's 3 s poll, twice


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _set_marker(page: Page) -> None:
    """A JS value that only survives while the document is not reloaded."""
    page.evaluate("window.__marker = 1")


def _marker(page: Page):
    return page.evaluate("window.__marker")


def _assert_no_template_source(page: Page) -> None:
    expect(page.locator("#main")).not_to_contain_text(re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}"))


def _cell(page: Page, probability: int, impact: int):
    return page.locator(
        f"td.heatmap__cell[data-probability='{probability}'][data-impact='{impact}']"
    )


def _wait_for_score(risk_id: int, *, exposure: int | None = None, seconds: float = 40) -> None:
    """Until the worker has stored a score (with ``exposure``) for the risk."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        score = RiskScore.objects.filter(risk_id=risk_id).first()
        if score is not None and (exposure is None or score.exposure == exposure):
            return
        time.sleep(0.2)
    raise AssertionError(f"no score for risk {risk_id} after {seconds} s")


@pytest.fixture
def worker(celery_worker):
    """The real worker (the shared fixture waits for it to go idle after the test)."""
    return celery_worker


def test_pm_creates_a_risk_inline_sees_it_on_the_heat_map_and_its_reasons(
    live_server, page: Page, project, people, worker
):
    owner, member = people["owner"], people["member"]
    blocked = work_item_create(
        actor=owner,
        project=project,
        title="Load test the payment gateway",
        blocked=True,
        blocked_reason="Waiting for sandbox keys",
    )
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/MIG/")
    page.get_by_role("link", name="Risks", exact=True).click()
    expect(page).to_have_url(f"{base}/projects/MIG/risks/")
    expect(page.get_by_role("heading", name="No risks yet")).to_be_visible()
    _set_marker(page)

    # Inline create, without a page load.
    form = page.locator("#risk-create-form")
    form.get_by_label("Title", exact=True).fill("Vendor API rate limits unknown")
    form.get_by_label("Category", exact=True).select_option(label="Vendor")
    form.get_by_label("Probability", exact=True).select_option(label="3 · Possible")
    form.get_by_label("Impact", exact=True).select_option(label="4 · Major")
    form.get_by_label("Owner", exact=True).select_option(label=member.display_name)
    form.get_by_label("Cost impact", exact=True).fill("40000")
    form.get_by_role("button", name="Add risk").click()
    row = page.locator("tr.risk-row").filter(has_text="Vendor API rate limits unknown")
    expect(row).to_be_visible()
    expect(row.locator(".level")).to_have_text("High 12")
    expect(row).to_contain_text(member.display_name)
    expect(row).to_contain_text("24,000")  # EMV
    expect(page.locator(".flash--success")).to_have_text(
        "Risk “Vendor API rate limits unknown” added."
    )
    assert _marker(page) == 1
    risk = Risk.objects.get()
    assert (risk.category, risk.probability, risk.impact, risk.owner) == ("vendor", 3, 4, member)
    # The worker scores it; a reload shows the exposure.
    _wait_for_score(risk.pk)
    page.reload()
    expect(row.locator(".exposure")).to_have_text("48")
    _assert_no_template_source(page)
    _shot(page, "risk-register")

    # The heat map puts it at probability 3, impact 4.
    page.get_by_role("link", name="Heat map").first.click()
    expect(page).to_have_url(f"{base}/projects/MIG/risks/heatmap/")
    expect(_cell(page, 3, 4)).to_have_attribute("data-count", "1")
    expect(_cell(page, 3, 4)).to_have_class(re.compile(r"heatmap__cell--high"))
    expect(page.locator("td.heatmap__cell[data-count='1']")).to_have_count(1)
    expect(page.get_by_role("heading", name="Heat map: 1 open or mitigating risk")).to_be_visible()
    _shot(page, "risk-heatmap")
    _cell(page, 3, 4).get_by_role("link").click()
    expect(page).to_have_url(f"{base}/projects/MIG/risks/?status=active&probability=3&impact=4")
    expect(page.locator("tr.risk-row")).to_have_count(1)

    # Open it: the reasons the worker wrote.
    page.get_by_role("link", name="Vendor API rate limits unknown", exact=True).click()
    expect(page).to_have_url(f"{base}/risks/{risk.pk}/")
    expect(page.locator("#reasons li")).to_have_text(
        ["Inherent score 12 of 25"], timeout=WORKER_TIMEOUT_MS
    )
    expect(page.locator("#exposure-stat .stat__value")).to_contain_text("48")

    # Link the blocked load test inline: the exposure rises by itself, with the reason.
    _set_marker(page)
    page.get_by_label("Linked items", exact=True).fill(f"MIG-{blocked.number}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash--success")).to_have_text("Risk saved.")
    expect(page.locator("#reasons li")).to_have_text(
        ["Inherent score 12 of 25", "1 linked item blocked"], timeout=WORKER_TIMEOUT_MS
    )
    expect(page.locator("#exposure-stat .stat__value")).to_contain_text("56")
    expect(page.locator("#linked-items")).to_contain_text("blocked")
    assert _marker(page) == 1
    _assert_no_template_source(page)
    _shot(page, "risk-detail")


def test_inline_edit_errors_show_in_place_and_save_nothing(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    risk = risk_create(
        actor=owner,
        project=project,
        title="Secrets leaked through Terraform state",
        category="security",
        probability=2,
        impact=5,
        owner=people["member"],
    )
    base = live_server.url
    _log_in(page, base, people["member"].username)
    page.goto(f"{base}/risks/{risk.pk}/")
    _set_marker(page)
    page.get_by_label("Linked items", exact=True).fill("MIG-99")
    page.get_by_label("Cost impact", exact=True).fill("-5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-links-errors")).to_have_text("No such item: MIG-99.")
    expect(page.locator("#f-links")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-links")).to_have_value("MIG-99")
    assert _marker(page) == 1
    risk.refresh_from_db()
    assert risk.version == 1
    assert not risk.linked_items.exists()
    # Fix it: the cost error is next.
    page.get_by_label("Linked items", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-cost-errors")).to_have_text("Must not be negative.")
    page.get_by_label("Cost impact", exact=True).fill("80000")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash--success")).to_have_text("Risk saved.")
    risk.refresh_from_db()
    assert (risk.version, str(risk.cost_impact)) == (2, "80000.00")


def test_occurred_risk_starts_its_contingency_plan_in_one_click(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    today = project_today(project)
    risk = risk_create(
        actor=owner,
        project=project,
        title="Finance freezes changes at quarter end",
        category="schedule",
        probability=4,
        impact=4,
        owner=owner,
        contingency_plan="Move the cut-over two weeks later\nKeep dual-run billing until then.",
        review_date=today - timedelta(days=3),
    )
    base = live_server.url
    _log_in(page, base, owner.username)
    page.goto(f"{base}/risks/{risk.pk}/")
    page.get_by_role("button", name="Mark as occurred").click()
    expect(page.locator("#risk-status")).to_have_text("Occurred")
    expect(page.locator(".flash--warning")).to_have_text(
        "The risk occurred: start its contingency plan."
    )
    page.get_by_role("button", name="Start contingency plan").click()
    expect(page.locator(".flash--success")).to_contain_text("Contingency plan started as")
    item = WorkItem.objects.get(
        project=project, title="Contingency: Move the cut-over two weeks later"
    )
    key = f"MIG-{item.number}"
    expect(page.locator(".flash--success")).to_have_text(f"Contingency plan started as {key}.")
    expect(page.get_by_role("button", name="Start contingency plan")).to_have_count(0)
    page.locator(".contingency-card").get_by_role("link", name=key).click()
    expect(page).to_have_url(f"{base}/items/{key}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Contingency: Move the cut-over two weeks later"
    )


def test_viewer_reads_the_register_and_a_risk_but_cannot_change_them(
    live_server, page: Page, project, people
):
    owner = people["owner"]
    risk = risk_create(
        actor=owner,
        project=project,
        title="Identity provider outage locks everyone out",
        category="vendor",
        probability=2,
        impact=5,
        owner=people["member"],
    )
    risk_update(
        actor=owner, risk=risk, status="mitigating", residual_probability=2, residual_impact=3
    )
    base = live_server.url
    _log_in(page, base, people["viewer"].username)
    page.goto(f"{base}/projects/MIG/risks/")
    expect(page.locator("tr.risk-row")).to_have_count(1)
    expect(page.locator("#risk-create-form")).to_have_count(0)
    page.get_by_role("link", name="Heat map").first.click()
    page.get_by_role("link", name="Residual").click()
    expect(page).to_have_url(f"{base}/projects/MIG/risks/heatmap/?basis=residual")
    expect(_cell(page, 2, 3)).to_have_attribute("data-count", "1")
    expect(_cell(page, 2, 5)).to_have_attribute("data-count", "0")
    page.goto(f"{base}/risks/{risk.pk}/")
    expect(page.get_by_label("Title", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("button", name="Close risk")).to_have_count(0)
    expect(
        page.get_by_text("Read only: the project's owners and the risk's owner edit it.")
    ).to_be_visible()


def test_member_edits_their_risk_inline_in_the_register(live_server, page: Page, project, people):
    owner, member = people["owner"], people["member"]
    mine = risk_create(
        actor=owner,
        project=project,
        title="Only one engineer knows the old ETL",
        category="resource",
        probability=3,
        impact=4,
        owner=member,
    )
    risk_create(
        actor=owner,
        project=project,
        title="Lakehouse licence costs above budget",
        category="budget",
        probability=3,
        impact=3,
        owner=owner,
    )
    base = live_server.url
    _log_in(page, base, member.username)
    page.goto(f"{base}/projects/MIG/risks/?ordering=title")
    _set_marker(page)
    # Only the member's own risk offers an inline edit.
    expect(
        page.get_by_role("link", name="Edit Lakehouse licence costs above budget")
    ).to_have_count(0)
    page.get_by_role("link", name="Edit Only one engineer knows the old ETL").click()
    row = page.locator(f"#risk-{mine.pk}")
    expect(row).to_have_class(re.compile("is-editing"))
    expect(row.get_by_label("Title", exact=True)).to_be_focused()
    row.get_by_label("Impact", exact=True).select_option(label="5 · Severe")
    _shot(page, "risk-register-row-edit")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".level")).to_have_text("Critical 15")
    expect(row).not_to_have_class(re.compile("is-editing"))
    assert _marker(page) == 1
    mine.refresh_from_db()
    assert (mine.impact, mine.version) == (5, 2)
    # Cancel leaves it as it was.
    page.get_by_role("link", name="Edit Only one engineer knows the old ETL").click()
    row.get_by_label("Title", exact=True).fill("Changed my mind")
    row.get_by_role("link", name="Cancel").click()
    expect(row.locator(".risk-row__title a")).to_have_text("Only one engineer knows the old ETL")
    _shot(page, "risk-register-member")
    assert Risk.objects.get(pk=mine.pk).title == "Only one engineer knows the old ETL"
