"""Project pages: list, create, overview, settings, delete, inline member editing, My work."""

import datetime
import re
from decimal import Decimal

import pytest

from projects.models import Membership, Project
from projects.services import project_summary_refresh
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.tpm import UserFactory

ALL_AUTHENTICATED = [
    ("owner", 200),
    ("member", 200),
    ("viewer", 200),
    ("executive", 200),
    ("outsider", 200),
    ("anonymous", 302),
]
READ_MATRIX = [
    ("owner", 200),
    ("member", 200),
    ("viewer", 200),
    ("executive", 200),
    ("outsider", 404),
    ("anonymous", 302),
]
OWNER_WRITE_MATRIX = [
    ("owner", 302),
    ("member", 403),
    ("viewer", 403),
    ("executive", 403),
    ("outsider", 404),
    ("anonymous", 302),
]
OWNER_PAGE_MATRIX = [
    ("owner", 200),
    ("member", 403),
    ("viewer", 403),
    ("executive", 403),
    ("outsider", 404),
    ("anonymous", 302),
]
NAV_LINKS = (
    re.compile(r'<a class="nav__link[^"]*" href="/portfolio/"[^>]*>Portfolio</a>'),
    re.compile(r'<a class="nav__link[^"]*" href="/"[^>]*>Projects</a>'),
    re.compile(r'<a class="nav__link[^"]*" href="/my-work/"[^>]*>My work</a>'),
)
HTMX = {"HX-Request": "true"}
UNKNOWN_USER_ERROR = (
    '<ul class="field-errors" id="add-user-errors"><li>No user named &#x27;ghost&#x27;.</li></ul>'
)
LAST_OWNER_ERROR = (
    '<ul class="field-errors" role="alert"><li>owner is the last owner of MIG. '
    "Make someone else an owner first.</li></ul>"
)


def _login_url(path):
    return f"/accounts/login/?next={path}"


def _project_form_data(project=None, **overrides):
    """Every field of ProjectForm, as the browser posts it (current values of ``project``)."""
    data = {
        "key": "",
        "name": "",
        "description": "",
        "methodology": "scrum",
        "phase": "initiating",
        "start_date": "",
        "target_date": "",
        "timezone": "UTC",
        "working_days": ["0", "1", "2", "3", "4"],
        "business_case": "",
        "objectives": "",
        "in_scope": "",
        "out_of_scope": "",
        "success_criteria": "",
        "version": "",
    }
    if project is not None:
        data.update(
            key=project.key,
            name=project.name,
            description=project.description,
            methodology=project.methodology,
            phase=project.phase,
            start_date=project.start_date.isoformat() if project.start_date else "",
            target_date=project.target_date.isoformat() if project.target_date else "",
            timezone=project.timezone,
            working_days=[str(day) for day in project.working_days],
            version=str(project.version),
        )
    data.update(overrides)
    return data


def _member_state(project):
    return sorted(
        Membership.objects.filter(project=project).values_list(
            "user__username", "role", "hourly_rate", "capacity_hours_per_week"
        )
    )


def _project_state(key):
    return list(
        Project.objects.filter(key=key).values_list("name", "phase", "description", "version")
    )


def _assert_landmarks(html):
    assert "<main" in html
    assert "<h1" in html
    for link in NAV_LINKS:
        assert link.search(html), link.pattern


def _owned_projects(user, count):
    """``count`` projects where ``user`` is owner, each with a teammate and a summary row."""
    for _ in range(count):
        membership = MembershipFactory(user=user, role=Membership.Role.OWNER)
        MembershipFactory(project=membership.project, role=Membership.Role.MEMBER)
        project_summary_refresh(project_id=membership.project_id)


# --- permission matrix -------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), ALL_AUTHENTICATED)
def test_project_list_page_access(page_as, role, expected):
    response = page_as(role).get("/")
    assert response.status_code == expected
    if expected == 302:
        assert response.url == _login_url("/")


@pytest.mark.parametrize(("role", "expected"), ALL_AUTHENTICATED)
def test_project_create_page_access(page_as, role, expected):
    response = page_as(role).get("/projects/new/")
    assert response.status_code == expected
    if expected == 302:
        assert response.url == _login_url("/projects/new/")


def test_project_create_post_by_anonymous_redirects_to_login_and_creates_nothing(page_as):
    response = page_as("anonymous").post(
        "/projects/new/", _project_form_data(key="NEW", name="New")
    )
    assert response.status_code == 302
    assert response.url == _login_url("/projects/new/")
    assert list(Project.objects.values_list("key", flat=True)) == ["MIG"]


@pytest.mark.parametrize(("role", "expected"), READ_MATRIX)
def test_project_overview_page_access(page_as, role, expected):
    response = page_as(role).get("/projects/MIG/")
    assert response.status_code == expected
    if expected == 302:
        assert response.url == _login_url("/projects/MIG/")


def test_project_overview_of_unknown_key_is_404(page_as):
    assert page_as("owner").get("/projects/NOPE/").status_code == 404


@pytest.mark.parametrize(("role", "expected"), OWNER_PAGE_MATRIX)
def test_project_settings_page_access(page_as, role, expected):
    response = page_as(role).get("/projects/MIG/settings/")
    assert response.status_code == expected
    if expected == 302:
        assert response.url == _login_url("/projects/MIG/settings/")


@pytest.mark.parametrize(("role", "expected"), OWNER_WRITE_MATRIX)
def test_project_settings_post_access(page_as, project, role, expected):
    data = _project_form_data(project, name="Renamed by a test")
    response = page_as(role).post("/projects/MIG/settings/", data)
    assert response.status_code == expected
    if role == "owner":
        assert response.url == "/projects/MIG/settings/"
        assert _project_state("MIG") == [("Renamed by a test", "executing", "", 2)]
    else:
        assert _project_state("MIG") == [("Move billing to the cloud", "executing", "", 1)]
    if role == "anonymous":
        assert response.url == _login_url("/projects/MIG/settings/")


@pytest.mark.parametrize(("role", "expected"), OWNER_WRITE_MATRIX)
def test_project_delete_access(page_as, role, expected):
    response = page_as(role).post("/projects/MIG/delete/", {"confirm_key": "MIG"})
    assert response.status_code == expected
    if role == "owner":
        assert response.url == "/"
        assert Project.objects.filter(key="MIG").exists() is False
    else:
        assert _project_state("MIG") == [("Move billing to the cloud", "executing", "", 1)]
    if role == "anonymous":
        assert response.url == _login_url("/projects/MIG/delete/")


@pytest.mark.parametrize(("role", "expected"), OWNER_WRITE_MATRIX)
def test_member_add_access(page_as, project, role, expected):
    UserFactory(username="newcomer")
    before = _member_state(project)
    response = page_as(role).post(
        "/projects/MIG/members/add/",
        {
            "user": "newcomer",
            "role": "member",
            "hourly_rate": "80",
            "capacity_hours_per_week": "20",
        },
    )
    assert response.status_code == expected
    if role == "owner":
        assert response.url == "/projects/MIG/settings/"
        assert _member_state(project) == sorted(
            [*before, ("newcomer", "member", Decimal("80.00"), Decimal("20.0"))]
        )
    else:
        assert _member_state(project) == before
    if role == "anonymous":
        assert response.url == _login_url("/projects/MIG/members/add/")


@pytest.mark.parametrize(("role", "expected"), OWNER_WRITE_MATRIX)
def test_member_update_access(page_as, project, people, role, expected):
    target = people["viewer"]
    before = _member_state(project)
    path = f"/projects/MIG/members/{target.pk}/"
    response = page_as(role).post(
        path, {"role": "member", "hourly_rate": "55.50", "capacity_hours_per_week": "32"}
    )
    assert response.status_code == expected
    if role == "owner":
        assert response.url == "/projects/MIG/settings/"
        row = Membership.objects.get(project=project, user=target)
        assert (row.role, row.hourly_rate, row.capacity_hours_per_week) == (
            "member",
            Decimal("55.50"),
            Decimal("32.0"),
        )
    else:
        assert _member_state(project) == before
    if role == "anonymous":
        assert response.url == _login_url(path)


@pytest.mark.parametrize(("role", "expected"), OWNER_WRITE_MATRIX)
def test_member_remove_access(page_as, project, people, role, expected):
    target = people["viewer"]
    before = _member_state(project)
    path = f"/projects/MIG/members/{target.pk}/remove/"
    response = page_as(role).post(path)
    assert response.status_code == expected
    if role == "owner":
        assert response.url == "/projects/MIG/settings/"
        assert _member_state(project) == [row for row in before if row[0] != "viewer"]
    else:
        assert _member_state(project) == before
    if role == "anonymous":
        assert response.url == _login_url(path)


@pytest.mark.parametrize(("role", "expected"), ALL_AUTHENTICATED)
def test_my_work_page_access(page_as, role, expected):
    response = page_as(role).get("/my-work/")
    assert response.status_code == expected
    if expected == 302:
        assert response.url == _login_url("/my-work/")


# --- project list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        ("owner", ["MIG"]),
        ("member", ["MIG"]),
        ("viewer", ["MIG"]),
        ("executive", ["MIG", "OPS"]),
        ("outsider", []),
    ],
)
def test_project_list_shows_only_visible_projects(page_as, people, role, keys):
    ProjectFactory(key="OPS", name="Operations")
    html = page_as(role).get("/").content.decode()
    shown = re.findall(r'<td class="mono"><a href="/projects/([A-Z]+)/">', html)
    assert shown == keys


def test_project_list_search_filters_by_name(page_as, people):
    other = ProjectFactory(key="OPS", name="Operations runbook")
    MembershipFactory(project=other, user=people["owner"], role=Membership.Role.OWNER)
    response = page_as("owner").get("/", {"q": "billing"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'<td class="mono"><a href="/projects/([A-Z]+)/">', html) == ["MIG"]
    assert 'value="billing"' in html


def test_project_list_search_without_match_shows_empty_state(page_as):
    html = page_as("owner").get("/", {"q": "zzz"}).content.decode()
    assert "No matching projects" in html
    assert 'href="/projects/MIG/"' not in html


def test_project_list_search_with_htmx_returns_results_fragment_only(page_as, people):
    other = ProjectFactory(key="OPS", name="Operations runbook")
    MembershipFactory(project=other, user=people["owner"], role=Membership.Role.OWNER)
    response = page_as("owner").get("/", {"q": "runbook"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="project-results">')
    assert "<html" not in html
    assert "<main" not in html
    assert re.findall(r'<td class="mono"><a href="/projects/([A-Z]+)/">', html) == ["OPS"]
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("count", [1, 51])
def test_project_list_query_count_does_not_grow_with_projects(
    page_as, people, django_assert_max_num_queries, count
):
    Membership.objects.filter(user=people["owner"]).delete()
    _owned_projects(people["owner"], count)
    client = page_as("owner")
    with django_assert_max_num_queries(4):
        response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count('<td class="mono"><a href="/projects/') == min(count, 25)


# --- project create ----------------------------------------------------------------------------


def test_project_create_uppercases_key_makes_creator_owner_and_redirects_to_settings(page_as):
    client = page_as("member")
    response = client.post(
        "/projects/new/", _project_form_data(key="new", name="  New platform ", phase="planning")
    )
    assert response.status_code == 302
    assert response.url == "/projects/NEW/settings/"
    created = Project.objects.get(key="NEW")
    assert (created.name, created.phase, created.working_days, created.created_by.username) == (
        "New platform",
        "planning",
        [0, 1, 2, 3, 4],
        "member",
    )
    assert list(
        Membership.objects.filter(project=created).values_list("user__username", "role")
    ) == [("member", "owner")]
    follow = client.get(response.url)
    assert "Project NEW created. You are its owner." in follow.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"key": "N1"}, "id_key", "Use 2 to 10 upper-case letters A–Z, for example MIG."),
        ({"key": "MIG"}, "id_key", "Project with this Key already exists."),
        (
            {"start_date": "2025-06-01", "target_date": "2025-05-31"},
            "id_target_date",
            "The target date must not be before the start date.",
        ),
        ({"working_days": []}, "id_working_days", "This field is required."),
        ({"name": ""}, "id_name", "This field is required."),
    ],
    ids=["bad-key", "duplicate-key", "target-before-start", "no-working-days", "no-name"],
)
def test_project_create_invalid_input_rerenders_with_inline_error(
    page_as, overrides, field_id, message
):
    data = _project_form_data(key="NEW", name="New platform")
    data.update(overrides)
    response = page_as("owner").post("/projects/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<ul class="field-errors" id="{field_id}_error"><li>{message}</li></ul>' in html
    # The invalid input points assistive technology at that list.
    assert re.search(rf'aria-describedby="[^"]*\b{field_id}_error\b', html)
    assert "<h1" in html
    assert list(Project.objects.values_list("key", flat=True)) == ["MIG"]
    assert Membership.objects.count() == 3


# --- project overview --------------------------------------------------------------------------


def test_project_overview_lists_team_and_settings_link_only_for_owner(page_as):
    owner_html = page_as("owner").get("/projects/MIG/").content.decode()
    viewer_html = page_as("viewer").get("/projects/MIG/").content.decode()
    for html in (owner_html, viewer_html):
        assert "Move billing to the cloud" in html
        assert len(re.findall(r'<span class="muted small">(owner|member|viewer)</span>', html)) == 3
    assert 'href="/projects/MIG/settings/"' in owner_html
    assert 'href="/projects/MIG/settings/"' not in viewer_html


# --- project settings --------------------------------------------------------------------------


def test_project_settings_post_saves_changes_and_redirects(page_as, project):
    data = _project_form_data(
        project,
        name="Billing in the cloud",
        phase="planning",
        start_date="2025-01-06",
        target_date="2025-09-30",
        timezone="Europe/Berlin",
        working_days=["0", "1", "2", "3"],
        objectives="Cut hosting costs",
    )
    client = page_as("owner")
    response = client.post("/projects/MIG/settings/", data)
    assert response.status_code == 302
    assert response.url == "/projects/MIG/settings/"
    project.refresh_from_db()
    assert (
        project.name,
        project.phase,
        project.start_date,
        project.target_date,
        project.timezone,
        project.working_days,
        project.objectives,
        project.version,
    ) == (
        "Billing in the cloud",
        "planning",
        datetime.date(2025, 1, 6),
        datetime.date(2025, 9, 30),
        "Europe/Berlin",
        [0, 1, 2, 3],
        "Cut hosting costs",
        2,
    )
    follow = client.get("/projects/MIG/settings/").content.decode()
    assert "Project settings saved." in follow


def test_project_settings_post_with_stale_version_is_409_and_keeps_stored_values(page_as, project):
    Project.objects.filter(pk=project.pk).update(name="Changed elsewhere", version=2)
    data = _project_form_data(project, name="My late edit")
    assert data["version"] == "1"
    response = page_as("owner").post("/projects/MIG/settings/", data)
    assert response.status_code == 409
    html = response.content.decode()
    assert (
        '<div class="form-errors" role="alert"><p>This object was changed by someone else. '
        "Reload it and apply your change again.</p></div>"
    ) in html
    assert re.search(r'<input type="hidden" name="version" value="2"', html)
    assert _project_state("MIG") == [("Changed elsewhere", "executing", "", 2)]


def test_project_settings_post_invalid_dates_is_400_and_changes_nothing(page_as, project):
    data = _project_form_data(project, start_date="2025-06-01", target_date="2025-05-01")
    response = page_as("owner").post("/projects/MIG/settings/", data)
    assert response.status_code == 400
    assert (
        '<ul class="field-errors" id="id_target_date_error">'
        "<li>The target date must not be before the start date.</li></ul>"
    ) in response.content.decode()
    project.refresh_from_db()
    assert (project.start_date, project.target_date, project.version) == (None, None, 1)


def test_project_settings_page_shows_fixed_key_and_current_version(page_as, project):
    html = page_as("owner").get("/projects/MIG/settings/").content.decode()
    assert '<input type="hidden" name="key" value="MIG">' in html
    assert re.search(r'<input type="hidden" name="version" value="1"', html)
    assert 'id="members-panel"' in html


@pytest.mark.parametrize("members", [1, 50])
def test_project_settings_query_count_does_not_grow_with_members(
    page_as, project, people, django_assert_max_num_queries, members
):
    Membership.objects.filter(project=project).exclude(user=people["owner"]).delete()
    for _ in range(members - 1):
        MembershipFactory(project=project)
    client = page_as("owner")
    with django_assert_max_num_queries(7):
        response = client.get("/projects/MIG/settings/")
    assert response.status_code == 200
    assert response.content.decode().count('<tr id="member-') == members


# --- project delete ----------------------------------------------------------------------------


def test_project_delete_with_typed_key_deletes_and_redirects_to_list(page_as):
    response = page_as("owner").post("/projects/MIG/delete/", {"confirm_key": " mig "})
    assert response.status_code == 302
    assert response.url == "/"
    assert Project.objects.filter(key="MIG").exists() is False
    assert Membership.objects.count() == 0


@pytest.mark.parametrize("typed", ["", "MI", "OPS"])
def test_project_delete_with_wrong_confirmation_keeps_project(page_as, typed):
    client = page_as("owner")
    response = client.post("/projects/MIG/delete/", {"confirm_key": typed})
    assert response.status_code == 302
    assert response.url == "/projects/MIG/settings/"
    assert _project_state("MIG") == [("Move billing to the cloud", "executing", "", 1)]
    assert Membership.objects.count() == 3
    follow = client.get(response.url).content.decode()
    assert "Type the project key MIG to confirm the deletion." in follow


# --- members -----------------------------------------------------------------------------------


def test_member_add_via_htmx_returns_members_panel_with_new_member(page_as, project):
    UserFactory(username="newcomer", first_name="Nia", last_name="Newcomer")
    response = page_as("owner").post(
        "/projects/MIG/members/add/",
        {
            "user": "newcomer",
            "role": "viewer",
            "hourly_rate": "80",
            "capacity_hours_per_week": "20",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="members-panel"')
    assert "<html" not in html
    assert "Nia Newcomer added as viewer." in html
    assert '<span class="muted small">newcomer</span>' in html
    assert "members-changed" in response["HX-Trigger"]
    assert Membership.objects.filter(project=project, user__username="newcomer").values_list(
        "role", "hourly_rate", "capacity_hours_per_week"
    ).get() == ("viewer", Decimal("80.00"), Decimal("20.0"))


def test_member_add_unknown_username_via_htmx_is_400_with_inline_message(page_as, project):
    before = _member_state(project)
    response = page_as("owner").post(
        "/projects/MIG/members/add/", {"user": "ghost", "role": "member"}, headers=HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="members-panel"' in html
    assert "<html" not in html
    assert UNKNOWN_USER_ERROR in html
    assert "HX-Trigger" not in response
    assert _member_state(project) == before


def test_member_add_unknown_username_without_htmx_rerenders_settings_page_with_400(
    page_as, project
):
    before = _member_state(project)
    response = page_as("owner").post(
        "/projects/MIG/members/add/", {"user": "ghost", "role": "member"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html
    assert UNKNOWN_USER_ERROR in html
    assert _member_state(project) == before


def test_member_add_existing_member_via_htmx_is_400(page_as, project):
    before = _member_state(project)
    response = page_as("owner").post(
        "/projects/MIG/members/add/", {"user": "viewer", "role": "member"}, headers=HTMX
    )
    assert response.status_code == 400
    assert (
        '<ul class="field-errors" id="add-user-errors">'
        "<li>viewer is already a member of MIG.</li></ul>"
    ) in response.content.decode()
    assert _member_state(project) == before


def test_member_update_via_htmx_returns_panel_and_triggers_members_changed(
    page_as, project, people
):
    target = people["member"]
    response = page_as("owner").post(
        f"/projects/MIG/members/{target.pk}/",
        {"role": "owner", "hourly_rate": "120", "capacity_hours_per_week": "36"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="members-panel"' in html
    assert "<html" not in html
    assert "members-changed" in response["HX-Trigger"]
    row = Membership.objects.get(project=project, user=target)
    assert (row.role, row.hourly_rate, row.capacity_hours_per_week) == (
        "owner",
        Decimal("120.00"),
        Decimal("36.0"),
    )


def test_member_update_demoting_last_owner_is_refused_inline(page_as, project, people):
    owner = people["owner"]
    before = _member_state(project)
    response = page_as("owner").post(
        f"/projects/MIG/members/{owner.pk}/",
        {"role": "member", "hourly_rate": "0", "capacity_hours_per_week": "40"},
        headers=HTMX,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="members-panel"' in html
    assert LAST_OWNER_ERROR in html
    assert "HX-Trigger" not in response
    assert Membership.objects.get(project=project, user=owner).role == "owner"
    assert _member_state(project) == before


def test_member_remove_last_owner_is_refused_inline(page_as, project, people):
    owner = people["owner"]
    before = _member_state(project)
    response = page_as("owner").post(f"/projects/MIG/members/{owner.pk}/remove/", headers=HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="members-panel"' in html
    assert LAST_OWNER_ERROR in html
    assert "HX-Trigger" not in response
    assert Membership.objects.get(project=project, user=owner).role == "owner"
    assert _member_state(project) == before


@pytest.mark.parametrize(
    ("action", "data", "expected"),
    [
        ("", {"role": "viewer", "hourly_rate": "0", "capacity_hours_per_week": "40"}, 400),
        ("remove/", {}, 409),
    ],
    ids=["demote", "remove"],
)
def test_last_owner_refusal_without_htmx_rerenders_settings_page(
    page_as, project, people, action, data, expected
):
    owner = people["owner"]
    before = _member_state(project)
    response = page_as("owner").post(f"/projects/MIG/members/{owner.pk}/{action}", data)
    assert response.status_code == expected
    html = response.content.decode()
    assert "<html" in html
    assert LAST_OWNER_ERROR in html
    assert _member_state(project) == before


def test_member_remove_via_htmx_returns_panel_without_removed_member(page_as, project, people):
    response = page_as("owner").post(
        f"/projects/MIG/members/{people['viewer'].pk}/remove/", headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="members-panel"' in html
    assert "members-changed" in response["HX-Trigger"]
    assert f'<tr id="member-{people["viewer"].pk}"' not in html
    assert sorted(
        Membership.objects.filter(project=project).values_list("user__username", flat=True)
    ) == ["member", "owner"]


def test_member_update_of_non_member_is_404(page_as, project, people):
    before = _member_state(project)
    response = page_as("owner").post(
        f"/projects/MIG/members/{people['outsider'].pk}/",
        {"role": "member", "hourly_rate": "0", "capacity_hours_per_week": "40"},
    )
    assert response.status_code == 404
    assert _member_state(project) == before


# --- my work -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "rows"),
    [
        ("owner", [("MIG", "owner")]),
        ("member", [("MIG", "member")]),
        ("viewer", [("MIG", "viewer")]),
        ("executive", []),
        ("outsider", []),
    ],
)
def test_my_work_lists_own_memberships_only(page_as, role, rows):
    html = page_as(role).get("/my-work/").content.decode()
    found = re.findall(
        r'<span class="mono">([A-Z]+)</span>.*?<span class="badge badge--(\w+)">', html, re.S
    )
    assert found == rows
    assert ("You are not on any project yet" in html) is (rows == [])


# --- landmarks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/projects/new/", "/projects/MIG/", "/projects/MIG/settings/", "/my-work/"],
)
def test_project_pages_have_main_heading_and_nav_landmarks(page_as, path):
    response = page_as("owner").get(path)
    assert response.status_code == 200
    _assert_landmarks(response.content.decode())
