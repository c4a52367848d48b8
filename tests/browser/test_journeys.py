"""Real headless-browser journeys through the pages, htmx fragments and the token API."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from projects.models import Membership, Project
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.tpm import PASSWORD, UserFactory
from tpm.models import ApiToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Projects")


def _set_marker(page: Page) -> None:
    """A JS value that only survives while the document is not reloaded."""
    page.evaluate("window.__marker = 1")


def _marker(page: Page):
    return page.evaluate("window.__marker")


def _api_me(base_url: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base_url}/api/v1/me/",
        headers={"Authorization": f"Token {key}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_pm_creates_project_and_adds_member_inline(live_server, page: Page):
    pm = UserFactory(username="pat", first_name="Pat", last_name="Manager")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Developer")
    base = live_server.url

    _log_in(page, base, pm.username)
    page.get_by_role("link", name="New project").click()
    expect(page).to_have_url(f"{base}/projects/new/")
    page.get_by_label("Key", exact=True).fill("mig")
    page.get_by_label("Name", exact=True).fill("Move billing to the cloud")
    page.get_by_label("Methodology").select_option("kanban")
    page.get_by_label("Start date").fill("2025-03-03")
    page.get_by_label("Target date").fill("2025-09-30")
    page.get_by_label("Timezone").fill("Europe/Berlin")
    page.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(f"{base}/projects/MIG/settings/")
    expect(page.locator("#messages")).to_contain_text("Project MIG created. You are its owner.")
    project = Project.objects.get(key="MIG")
    assert (project.name, project.methodology, project.timezone) == (
        "Move billing to the cloud",
        "kanban",
        "Europe/Berlin",
    )
    assert (project.start_date.isoformat(), project.target_date.isoformat()) == (
        "2025-03-03",
        "2025-09-30",
    )

    panel = page.locator("#members-panel")
    expect(panel.locator("tbody tr")).to_have_count(1)
    _set_marker(page)
    panel.get_by_label("Username").fill("dana")
    panel.get_by_label("Role", exact=True).select_option("member")
    panel.get_by_role("button", name="Add member").click()

    row = page.locator(f"#member-{dana.pk}")
    expect(row).to_contain_text("Dana Developer")
    expect(row.locator(f"#role-{dana.pk}")).to_have_value("member")
    expect(page.locator("#members-panel [role=status]")).to_have_text(
        "Dana Developer added as member."
    )
    expect(page.locator("#members-panel tbody tr")).to_have_count(2)
    assert _marker(page) == 1, "adding a member reloaded the page instead of swapping the panel"

    page.reload()
    assert _marker(page) is None
    expect(page.locator(f"#member-{dana.pk}")).to_contain_text("Dana Developer")
    expect(page.locator(f"#role-{dana.pk}")).to_have_value("member")
    expect(page.locator(f"#role-{pm.pk}")).to_have_value("owner")

    membership = Membership.objects.get(project=project, user=dana)
    assert membership.role == Membership.Role.MEMBER
    assert Membership.objects.filter(project=project).count() == 2


def test_member_form_errors_show_inline_without_reload(live_server, page: Page):
    owner = UserFactory(username="olga", first_name="Olga", last_name="Owner")
    project = ProjectFactory(key="RSK", name="Risk register")
    MembershipFactory(project=project, user=owner, role=Membership.Role.OWNER)
    base = live_server.url

    _log_in(page, base, owner.username)
    page.goto(f"{base}/projects/RSK/settings/")
    _set_marker(page)

    panel = page.locator("#members-panel")
    panel.get_by_label("Username").fill("nobody-here")
    panel.get_by_role("button", name="Add member").click()
    errors = page.locator("#add-user-errors")
    expect(errors).to_have_text("No user named 'nobody-here'.")
    expect(page.locator("#add-user")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#add-user")).to_have_value("nobody-here")
    expect(page.locator("#add-user")).to_be_focused()
    assert _marker(page) == 1
    assert Membership.objects.filter(project=project).count() == 1

    row = page.locator(f"#member-{owner.pk}")
    row.get_by_label("Role of olga").select_option("member")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#member-{owner.pk} [role=alert]")).to_have_text(
        "olga is the last owner of RSK. Make someone else an owner first."
    )
    assert _marker(page) == 1
    membership = Membership.objects.get(project=project, user=owner)
    assert membership.role == Membership.Role.OWNER
    assert Membership.objects.filter(project=project).count() == 1


def test_keyboard_only_sign_in_with_skip_link_and_focus_rings(live_server, page: Page):
    UserFactory(username="kim", first_name="Kim", last_name="Keys")
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    username = page.locator("#id_username")
    password = page.locator("#id_password")
    # The field is autofocused; walk back to the start of the page and Tab forward to it.
    expect(username).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(username).to_be_focused()
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Projects")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_class(re.compile(r"\bskip-link\b"))
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_in_viewport()

    # Tab on to the first <button> and check the keyboard focus ring is drawn.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    focused = page.locator("button:focus")
    expect(focused).to_have_count(1)
    expect(focused).to_have_css("outline-style", "solid")
    outline = focused.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"


def test_profile_token_works_on_api_until_revoked(live_server, page: Page):
    user = UserFactory(username="tess", first_name="Tess", last_name="Token")
    base = live_server.url

    _log_in(page, base, user.username)
    page.goto(f"{base}/accounts/profile/")
    _set_marker(page)
    page.get_by_label("Token name").fill("ci pipeline")
    page.get_by_role("button", name="Create token").click()
    reveal = page.locator("#new-token-key")
    expect(reveal).to_have_text(re.compile(r"^tpm_[A-Za-z0-9_-]{40,}$"))
    assert _marker(page) == 1
    key = reveal.inner_text().strip()
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.revoked_at, token.digest) == (
        "ci pipeline",
        None,
        ApiToken.digest_for(key),
    )

    status, body = _api_me(base, key)
    assert (status, body["username"]) == (200, "tess")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#messages")).to_contain_text("Token “ci pipeline” revoked.")
    expect(page.locator("#token-panel tbody")).to_contain_text("revoked")
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page.locator("#new-token-key")).to_have_count(0)

    status, body = _api_me(base, key)
    assert status == 401
    assert "username" not in body
    token.refresh_from_db()
    assert token.revoked_at is not None
