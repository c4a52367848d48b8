"""The domain-event hook: outbox, coalesced dispatch, reconcile, and a real worker end to end."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from projects.models import Membership, ProjectSummary
from projects.services import membership_update
from projects.tasks import SUMMARY_KIND, refresh_project_summary
from tests.factories.projects import MembershipFactory, ProjectFactory
from tests.factories.tpm import UserFactory
from tpm import events
from tpm.errors import Conflict
from tpm.models import MetricRun, StaleProject


@pytest.fixture
def enqueued(monkeypatch):
    """Record every enqueue of the summary task (and still send it to the real broker)."""
    calls = []
    original = refresh_project_summary.apply_async

    def spy(args=None, kwargs=None, **options):
        calls.append(args)
        return original(args, kwargs, **options)

    monkeypatch.setattr(refresh_project_summary, "apply_async", spy)
    return calls


@pytest.fixture
def team(db):
    project = ProjectFactory(key="EVT")
    owner = UserFactory(username="evt-owner")
    MembershipFactory(project=project, user=owner, role="owner")
    member = MembershipFactory(
        project=project, user=UserFactory(username="evt-member"), role="member"
    )
    return project, owner, member


def test_project_changed_marks_outbox_inside_transaction_and_enqueues_once_after_commit(
    team, enqueued, django_capture_on_commit_callbacks
):
    project, owner, member = team
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        membership_update(actor=owner, membership=member, capacity_hours_per_week=Decimal("20"))
        assert StaleProject.objects.get(project_id=project.pk).reasons == [
            "projects.membership.updated"
        ]
        assert enqueued == []
    for callback in callbacks:
        callback()
    assert enqueued == [(project.pk,)]
    assert StaleProject.objects.get(project_id=project.pk).dispatched_at is not None


def test_burst_of_100_changes_enqueues_one_recompute(
    team, enqueued, django_capture_on_commit_callbacks
):
    project, owner, member = team
    for n in range(100):
        with django_capture_on_commit_callbacks(execute=True):
            membership_update(
                actor=owner, membership=member, capacity_hours_per_week=Decimal(n % 40)
            )
    assert enqueued == [(project.pk,)]
    assert StaleProject.objects.get(project_id=project.pk).reasons == [
        "projects.membership.updated"
    ]


def test_failed_write_leaves_no_outbox_row_and_no_enqueue(
    team, enqueued, django_capture_on_commit_callbacks
):
    project, owner, member = team
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Conflict, match="last owner"),
    ):
        membership_update(actor=owner, membership=Membership.objects.get(user=owner), role="viewer")
    assert not StaleProject.objects.exists()
    assert enqueued == []


def test_change_is_kept_when_redis_is_down_and_reconcile_recovers(
    team, enqueued, monkeypatch, django_capture_on_commit_callbacks
):
    project, owner, member = team

    def redis_down(*args, **kwargs):
        raise ConnectionError("redis unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(cache, "add", redis_down)
        with django_capture_on_commit_callbacks(execute=True):
            membership_update(actor=owner, membership=member, role="viewer")
    assert Membership.objects.get(pk=member.pk).role == "viewer"  # the write committed
    assert enqueued == []
    assert StaleProject.objects.filter(project_id=project.pk).exists()
    kinds = len(events.subscribers())  # every metric kind of the project is re-dispatched
    assert events.reconcile(older_than=timedelta(0)) == {"stale": 1, "enqueued": kinds}
    assert enqueued == [(project.pk,)]


def test_reconcile_clears_projects_whose_metrics_are_fresh(team, enqueued):
    project, owner, member = team
    StaleProject.objects.create(
        project_id=project.pk, marked_at=timezone.now() - timedelta(minutes=5)
    )
    for sub in events.subscribers():
        MetricRun.objects.create(
            project_id=project.pk, kind=sub.kind, computed_at=timezone.now(), runs=1
        )
    assert events.reconcile(older_than=timedelta(0)) == {"stale": 0, "enqueued": 0}
    assert not StaleProject.objects.exists()
    assert enqueued == []


def test_reconcile_leaves_recent_changes_to_the_normal_path(team, enqueued):
    project, owner, member = team
    StaleProject.objects.create(project_id=project.pk, marked_at=timezone.now())
    assert events.reconcile(older_than=timedelta(minutes=2)) == {"stale": 0, "enqueued": 0}
    assert StaleProject.objects.filter(project_id=project.pk).exists()


def test_summary_recompute_is_idempotent(team):
    project, owner, member = team
    refresh_project_summary.run(project.pk)
    first = (
        ProjectSummary.objects.filter(pk=project.pk)
        .values("owner_count", "member_count", "viewer_count", "weekly_capacity_hours")
        .get()
    )
    refresh_project_summary.run(project.pk)
    assert (
        ProjectSummary.objects.filter(pk=project.pk)
        .values("owner_count", "member_count", "viewer_count", "weekly_capacity_hours")
        .get()
        == first
    )
    ProjectSummary.objects.all().delete()
    refresh_project_summary.run(project.pk)
    assert first == {
        "owner_count": 1,
        "member_count": 1,
        "viewer_count": 0,
        "weekly_capacity_hours": Decimal("80.0"),
    }
    assert (
        ProjectSummary.objects.filter(pk=project.pk)
        .values("owner_count", "member_count", "viewer_count", "weekly_capacity_hours")
        .get()
        == first
    )
    assert MetricRun.objects.get(project_id=project.pk, kind=SUMMARY_KIND).runs == 3


def test_summary_recompute_of_deleted_project_is_a_no_op(db):
    refresh_project_summary.run(987654)
    assert not ProjectSummary.objects.exists()


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_real_worker_recomputes_after_a_burst_with_bounded_runs(celery_worker):
    project = ProjectFactory(key="WRK")
    owner = UserFactory(username="wrk-owner")
    MembershipFactory(project=project, user=owner, role="owner")
    members = [
        MembershipFactory(project=project, user=UserFactory(username=f"wrk{n}"), role="member")
        for n in range(5)
    ]
    for n in range(100):  # 100 committed changes, each its own transaction
        membership_update(
            actor=owner, membership=members[n % 5], capacity_hours_per_week=Decimal(10 + n % 5)
        )
    membership_update(actor=owner, membership=members[0], role="viewer")

    def settled():
        summary = ProjectSummary.objects.filter(pk=project.pk).first()
        return (
            summary is not None
            and summary.viewer_count == 1
            and not StaleProject.objects.filter(project_id=project.pk).exists()
        )

    assert _wait_for(settled), "worker did not bring the summary up to date"
    summary = ProjectSummary.objects.get(pk=project.pk)
    assert (summary.owner_count, summary.member_count, summary.viewer_count) == (1, 4, 1)
    # members 1..4 have 11..14 h; the viewer's hours do not count; owner has 40.
    assert summary.weekly_capacity_hours == Decimal("40") + Decimal(11 + 12 + 13 + 14)
    runs = MetricRun.objects.get(project_id=project.pk, kind=SUMMARY_KIND).runs
    assert 1 <= runs <= 5, f"101 changes caused {runs} recomputations"
