"""The portfolio dashboard page: access, visibility per role, totals, ordering, query budget."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import Membership, Project
from projects.services import project_summary_refresh
from tests.factories.projects import MembershipFactory, ProjectFactory

DASHBOARD = "/portfolio/"
# Same budget at 1 project and at a full page of 50: a per-row query would break it.
DASHBOARD_QUERIES = 5


@pytest.fixture
def others(project, people):
    """OPS (the member also works there) and SEC (nobody of ours is in it)."""
    ops = ProjectFactory(key="OPS", name="Operations platform", phase=Project.Phase.PLANNING)
    MembershipFactory(project=ops, user=people["member"], role=Membership.Role.OWNER)
    sec = ProjectFactory(key="SEC", name="Security hardening", phase=Project.Phase.CLOSING)
    return ops, sec


def _keys(html: str) -> list[str]:
    return re.findall(r'<td><a href="/projects/[A-Z]+/"><span class="mono">([A-Z]+)</span>', html)


def _stats(html: str) -> dict[str, str]:
    pairs = re.findall(
        r'<div class="stat__value">([^<]*)</div><div class="stat__label">([^<]*)</div>', html
    )
    return {label: value for value, label in pairs}


@pytest.mark.parametrize(
    ("role", "expected", "keys"),
    [
        ("owner", 200, ["MIG"]),
        ("member", 200, ["MIG", "OPS"]),
        ("viewer", 200, ["MIG"]),
        ("executive", 200, ["MIG", "OPS", "SEC"]),
        ("outsider", 200, []),
        ("anonymous", 302, None),
    ],
)
def test_portfolio_dashboard_access_and_visibility(page_as, others, role, expected, keys):
    response = page_as(role).get(DASHBOARD)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.url == f"/accounts/login/?next={DASHBOARD}"
        return
    html = response.content.decode()
    assert sorted(_keys(html)) == keys
    assert _stats(html)["Projects"] == str(len(keys))
    for hidden in {"MIG", "OPS", "SEC"} - set(keys):
        assert f'href="/projects/{hidden}/"' not in html


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_portfolio_dashboard_is_read_only(page_as, project, method):
    before = list(Project.objects.values_list("key", "name", "phase", "version"))
    response = getattr(page_as("owner"), method)(DASHBOARD)
    assert response.status_code == 405
    assert list(Project.objects.values_list("key", "name", "phase", "version")) == before


def test_portfolio_dashboard_without_projects_shows_a_helpful_empty_state(page_as, project):
    html = page_as("outsider").get(DASHBOARD).content.decode()
    assert '<h2 class="empty-state__title">No projects to show</h2>' in html
    assert "Projects you are a member of appear here." in html
    assert "<table" not in html
    assert _stats(html)["Projects"] == "0"


def test_portfolio_totals_count_visible_projects_per_phase(page_as, others):
    html = page_as("executive").get(DASHBOARD).content.decode()
    assert _stats(html) == {
        "Projects": "3",
        "Initiating": "0",
        "Planning": "1",
        "Executing": "1",
        "Monitoring": "0",
        "Closing": "1",
    }
    member_stats = _stats(page_as("member").get(DASHBOARD).content.decode())
    assert (member_stats["Projects"], member_stats["Planning"], member_stats["Closing"]) == (
        "2",
        "1",
        "0",
    )


def test_portfolio_lists_projects_by_target_date_then_key(page_as, project, others):
    today = timezone.localdate()
    ops, sec = others
    Project.objects.filter(pk=sec.pk).update(target_date=today + timedelta(days=30))
    Project.objects.filter(pk=ops.pk).update(target_date=today + timedelta(days=90))
    Project.objects.filter(pk=project.pk).update(target_date=None)
    assert _keys(page_as("executive").get(DASHBOARD).content.decode()) == ["SEC", "OPS", "MIG"]


def test_portfolio_marks_overdue_projects_and_counts_down_to_others(page_as, project, others):
    today = timezone.localdate()
    ops, _ = others
    Project.objects.filter(pk=project.pk).update(target_date=today - timedelta(days=3))
    Project.objects.filter(pk=ops.pk).update(target_date=today + timedelta(days=14))
    html = page_as("member").get(DASHBOARD).content.decode()
    rows = dict(
        re.findall(
            r'<span class="mono">([A-Z]+)</span>.*?<td class="table__num">(.*?)</td>', html, re.S
        )
    )
    assert rows["MIG"] == '<span class="badge badge--red">overdue</span>'
    assert rows["OPS"] == "2\xa0weeks"


def test_portfolio_shows_precomputed_people_and_capacity(page_as, project, people):
    Membership.objects.filter(project=project).update(capacity_hours_per_week=Decimal("32.5"))
    project_summary_refresh(project_id=project.pk)
    html = page_as("viewer").get(DASHBOARD).content.decode()
    row = re.search(r'<span class="mono">MIG</span>.*?</tr>', html, re.S)
    assert row
    cells = re.findall(r'<td class="table__num">([^<]*)</td>', row[0])
    # People: owner, member, viewer. Capacity: owner + member (viewers do not work items).
    assert cells[-2:] == ["3", "65"]


def test_portfolio_shows_placeholder_until_the_summary_is_computed(page_as, project):
    html = page_as("viewer").get(DASHBOARD).content.decode()
    row = re.search(r'<span class="mono">MIG</span>.*?</tr>', html, re.S)
    assert row
    assert re.findall(r'<td class="table__num">([^<]*)</td>', row[0])[-2:] == ["…", "…"]


def test_portfolio_page_has_one_h1_and_marks_its_nav_link_current(page_as, project):
    html = page_as("executive").get(DASHBOARD).content.decode()
    assert re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S) == ["Portfolio"]
    assert re.search(
        r'<a class="nav__link is-active" href="/portfolio/"\s+aria-current="page"', html
    )
    assert "<main" in html


def _portfolio_of(count: int, people) -> None:
    """``count`` projects the member belongs to, each with a summary row."""
    Project.objects.exclude(key="MIG").delete()
    for _ in range(count - 1):
        membership = MembershipFactory(user=people["member"])
        project_summary_refresh(project_id=membership.project_id)
    project_summary_refresh(project_id=Project.objects.get(key="MIG").pk)


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("role", ["member", "executive"])
def test_portfolio_query_count_does_not_grow_with_projects(
    page_as, people, count, role, django_assert_max_num_queries
):
    _portfolio_of(count, people)
    client = page_as(role)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(_keys(html)) == count
    assert 'class="pager"' not in html


def test_portfolio_paginates_after_50_projects(page_as, people):
    _portfolio_of(51, people)
    client = page_as("member")
    first = client.get(DASHBOARD).content.decode()
    second = client.get(DASHBOARD + "?page=2").content.decode()
    assert len(_keys(first)) == 50
    assert len(_keys(second)) == 1
    assert "Page 1 of 2" in first
    assert 'href="?page=2" rel="next"' in first
    assert "Page 2 of 2" in second
    assert set(_keys(first)).isdisjoint(_keys(second))
    assert _stats(second)["Projects"] == "51"


def test_portfolio_out_of_range_page_shows_the_last_page(page_as, people):
    _portfolio_of(51, people)
    html = page_as("member").get(DASHBOARD + "?page=99").content.decode()
    assert "Page 2 of 2" in html
    assert len(_keys(html)) == 1
