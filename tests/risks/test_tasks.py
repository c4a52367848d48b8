"""The risk worker: inputs from project signals, idempotent upserts, history, events, a worker."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from risks.metrics import ExposureInput, risk_score_compute
from risks.models import Risk, RiskScore, RiskScoreHistory
from risks.services import (
    ScoreRow,
    risk_create,
    risk_delete,
    risk_scores_replace,
    risk_settings_update,
    risk_start_contingency,
    risk_update,
)
from risks.tasks import RISK_KIND, recompute_risks, refresh_at_midnight, risks_recompute
from sprints.metric_inputs import project_today
from sprints.models import Sprint
from sprints.services.items import work_item_create, work_item_update
from sprints.services.sprints import sprint_close, sprint_create, sprint_start
from tests.factories.projects import ProjectFactory
from tests.factories.risks import RiskFactory
from tpm import events
from tpm.models import MetricRun, StaleProject

RECOMPUTE_QUERIES = 9  # 4 loader queries, prune, 2 upserts, a savepoint and its release


@pytest.fixture
def today(project):
    return project_today(project)


@pytest.fixture
def item(project, people):
    return work_item_create(actor=people["owner"], project=project, title="Fail over Cloud SQL")


@pytest.fixture
def risk(project, people, item):
    """Technical risk 3 × 4 (base 48) linked to MIG-1, owned by the member."""
    return risk_create(
        actor=people["owner"],
        project=project,
        title="Failover untested",
        category="technical",
        probability=3,
        impact=4,
        owner=people["member"],
        linked_items=[item],
        cost_impact=Decimal("5000.00"),
    )


def _score(risk) -> tuple[int, list[str], str]:
    row = RiskScore.objects.get(risk=risk)
    return row.exposure, row.reasons, row.trend


def _rows(project) -> dict:
    return {
        "scores": sorted(
            RiskScore.objects.filter(project=project).values_list(
                "risk_id",
                "score",
                "level",
                "residual_score",
                "residual_level",
                "emv",
                "exposure",
                "reasons",
                "trend",
            )
        ),
        "history": sorted(
            RiskScoreHistory.objects.filter(project=project).values_list(
                "risk_id", "day", "exposure", "score", "reasons"
            )
        ),
    }


# --- inputs from project signals -----------------------------------------------------------------


def test_recompute_stores_score_level_emv_and_base_exposure(project, risk, today):
    assert risks_recompute(project.pk) == 1
    row = RiskScore.objects.get(risk=risk)
    assert (row.score, row.level, row.residual_score, row.residual_level, row.emv) == (
        12,
        "high",
        None,
        None,
        Decimal("3000.00"),
    )
    assert (row.exposure, row.reasons, row.trend) == (48, ["inherent score 12 of 25"], "steady")
    assert list(RiskScoreHistory.objects.values_list("day", "exposure", "score")) == [
        (today, 48, 12)
    ]


def test_blocked_past_due_and_sprint_overdue_links_raise_exposure(
    project, people, risk, item, today
):
    past_due = work_item_create(
        actor=people["owner"], project=project, title="Runbook", due_date=today - timedelta(days=1)
    )
    sprint = sprint_create(
        actor=people["owner"],
        project=project,
        name="Ended",
        start_date=today - timedelta(days=14),
        end_date=today - timedelta(days=1),
    )
    in_late_sprint = work_item_create(
        actor=people["owner"], project=project, title="Drill", sprint=sprint
    )
    done = work_item_create(
        actor=people["owner"],
        project=project,
        title="Done and late",
        due_date=today - timedelta(days=5),
        blocked=True,
        status="Done",
    )
    work_item_update(actor=people["owner"], item=item, blocked=True, blocked_reason="No quota")
    risk_update(
        actor=people["owner"],
        risk=risk,
        linked_items=[item, past_due, in_late_sprint, done],
        review_date=today - timedelta(days=12),
    )
    risks_recompute(project.pk)
    assert _score(risk) == (
        48 + 5 + 8 + 8 + 4,
        [
            "inherent score 12 of 25",
            "review overdue by 12 days",
            "mitigation overdue: 1 linked item past due",
            "1 linked item blocked",
            "1 linked item past its sprint's end",
        ],
        "steady",
    )


def test_closed_sprint_carry_over_raises_schedule_risks_only(project, people, risk, today):
    schedule = risk_create(
        actor=people["owner"],
        project=project,
        title="Cut-over date slips",
        category="schedule",
        probability=2,
        impact=4,
    )
    sprint = sprint_create(
        actor=people["owner"],
        project=project,
        name="Sprint 1",
        start_date=today - timedelta(days=13),
        end_date=today,
    )
    done = work_item_create(
        actor=people["owner"], project=project, title="A", story_points=3, sprint=sprint
    )
    work_item_create(
        actor=people["owner"], project=project, title="B", story_points=2, sprint=sprint
    )
    sprint_start(actor=people["owner"], sprint=sprint)
    work_item_update(actor=people["owner"], item=done, status="Done")
    sprint_close(actor=people["owner"], sprint=Sprint.objects.get(pk=sprint.pk))
    risks_recompute(project.pk)
    # 3 of 5 committed points completed: 60%, round(40 × 0.4) = +16 on a base of 32.
    assert _score(schedule)[:2] == (
        48,
        ["inherent score 8 of 25", "last sprint completed 60% of committed points"],
    )
    assert _score(risk)[:2] == (48, ["inherent score 12 of 25"])  # technical: unchanged


def test_status_residual_and_bands_shape_the_stored_figures(project, people, risk):
    risk_settings_update(
        actor=people["owner"], project=project, low_max=6, medium_max=12, high_max=20
    )
    risk_update(
        actor=people["owner"],
        risk=risk,
        status="mitigating",
        residual_probability=2,
        residual_impact=3,
    )
    risks_recompute(project.pk)
    row = RiskScore.objects.get(risk=risk)
    assert (row.level, row.residual_score, row.residual_level, row.exposure) == (
        "medium",  # 12 ≤ 12
        6,
        "low",  # 6 ≤ 6
        24,
    )
    risk_update(actor=people["owner"], risk=risk, status="occurred")
    risks_recompute(project.pk)
    assert _score(risk)[:2] == (100, ["occurred"])
    risk_update(actor=people["owner"], risk=risk, status="closed")
    risks_recompute(project.pk)
    assert _score(risk)[:2] == (0, ["closed"])


def test_trend_compares_with_the_latest_earlier_day(project, risk, today):
    RiskScoreHistory.objects.create(
        risk=risk, project=project, day=today - timedelta(days=3), exposure=60, score=15
    )
    RiskScoreHistory.objects.create(
        risk=risk, project=project, day=today - timedelta(days=1), exposure=40, score=10
    )
    risks_recompute(project.pk)
    assert _score(risk)[2] == "rising"  # 48 against yesterday's 40
    RiskScoreHistory.objects.filter(day=today - timedelta(days=1)).update(exposure=55)
    risks_recompute(project.pk)
    assert _score(risk)[2] == "falling"  # 48 against 55
    RiskScoreHistory.objects.filter(day=today - timedelta(days=1)).update(exposure=48)
    risks_recompute(project.pk)
    assert _score(risk)[2] == "steady"
    # Today's row is replaced, never duplicated.
    assert RiskScoreHistory.objects.filter(risk=risk, day=today).count() == 1


# --- idempotency and query counts ----------------------------------------------------------------


def test_recompute_is_idempotent_even_after_losing_rows(project, people, risk):
    RiskFactory(project=project, probability=5, impact=5, mitigating=True)
    RiskFactory(project=project, probability=1, impact=2, closed=True)
    risks_recompute(project.pk)
    first = _rows(project)
    risks_recompute(project.pk)
    assert _rows(project) == first
    RiskScore.objects.filter(risk__probability__gte=3).delete()
    RiskScoreHistory.objects.filter(risk__probability=1).delete()
    risks_recompute(project.pk)
    assert _rows(project) == first
    assert len(first["scores"]) == len(first["history"]) == 3


def test_store_skips_risks_deleted_since_their_inputs_were_loaded(project, risk, today):
    gone = RiskFactory(project=project)
    result = risk_score_compute(
        ExposureInput(status="open", category="technical", probability=3, impact=3, today=today),
        cost_impact=Decimal("0"),
    )
    rows = [ScoreRow(risk_id=pk, result=result, trend="steady") for pk in (risk.pk, gone.pk)]
    Risk.objects.filter(pk=gone.pk).delete()
    risk_scores_replace(project_id=project.pk, day=today, rows=rows, computed_at=timezone.now())
    assert list(RiskScore.objects.values_list("risk_id", "exposure")) == [(risk.pk, 36)]
    assert list(RiskScoreHistory.objects.values_list("risk_id", flat=True)) == [risk.pk]


@pytest.mark.parametrize("count", [1, 40])
def test_recompute_query_count_is_fixed(project, people, count, django_assert_max_num_queries):
    items = [
        work_item_create(actor=people["owner"], project=project, title=f"Item {n}", blocked=True)
        for n in range(3)
    ]
    for n in range(count):
        risk_create(
            actor=people["owner"],
            project=project,
            title=f"Risk {n}",
            category="schedule",
            probability=1 + n % 5,
            impact=2,
            linked_items=items[: n % 4],
        )
    with django_assert_max_num_queries(RECOMPUTE_QUERIES):
        assert risks_recompute(project.pk) == count
    assert RiskScore.objects.filter(project=project).count() == count


def test_recompute_of_a_deleted_project_is_a_no_op(db):
    assert risks_recompute(987654) is None
    recompute_risks.run(987654)
    assert not RiskScore.objects.exists()
    assert MetricRun.objects.get(project_id=987654, kind=RISK_KIND).runs == 1


def test_task_records_its_run_and_clears_its_coalescing_key(project, risk):
    cache.set(events.coalesce_key(RISK_KIND, project.pk), 1, timeout=300)
    assert recompute_risks.run(project.pk) == 1
    assert cache.get(events.coalesce_key(RISK_KIND, project.pk)) is None
    assert MetricRun.objects.get(project_id=project.pk, kind=RISK_KIND).runs == 1


# --- events: services announce, subscribers recompute -------------------------------------------


def test_risk_scores_subscribe_to_project_changes():
    assert RISK_KIND in [sub.kind for sub in events.subscribers()]
    assert {sub.kind: sub.task for sub in events.subscribers()}[RISK_KIND] is recompute_risks


@pytest.fixture
def enqueued(monkeypatch):
    """Record every enqueue of the risk task (and still send it to the real broker)."""
    calls = []
    original = recompute_risks.apply_async

    def spy(args=None, kwargs=None, **options):
        calls.append(args)
        return original(args, kwargs, **options)

    monkeypatch.setattr(recompute_risks, "apply_async", spy)
    return calls


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("create", "risks.risk.created"),
        ("update", "risks.risk.updated"),
        ("delete", "risks.risk.deleted"),
        ("contingency", "risks.risk.contingency_started"),
        ("settings", "risks.settings.updated"),
    ],
)
def test_risk_services_mark_the_project_stale_and_enqueue_once_after_commit(
    project, people, risk, enqueued, django_capture_on_commit_callbacks, change, reason
):
    StaleProject.objects.all().delete()
    owner = people["owner"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        if change == "create":
            risk_create(
                actor=owner, project=project, title="New", category="scope", probability=1, impact=1
            )
        elif change == "update":
            risk_update(actor=owner, risk=risk, impact=5)
        elif change == "delete":
            risk_delete(actor=owner, risk=risk)
        elif change == "contingency":
            risk_update(actor=owner, risk=risk, contingency_plan="Fail back")
            StaleProject.objects.all().delete()
            risk_start_contingency(actor=owner, risk=risk)
        else:
            risk_settings_update(actor=owner, project=project, low_max=3, medium_max=8, high_max=12)
        assert reason in StaleProject.objects.get(project_id=project.pk).reasons
        assert enqueued == []
    for callback in callbacks:
        callback()
    assert enqueued == [(project.pk,)]


def test_refused_change_marks_nothing_and_enqueues_nothing(
    project, people, risk, enqueued, django_capture_on_commit_callbacks
):
    StaleProject.objects.all().delete()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError, match="1 to 5"),
    ):
        risk_update(actor=people["owner"], risk=risk, probability=9)
    assert not StaleProject.objects.exists()
    assert enqueued == []


def test_midnight_refresh_dispatches_projects_with_risks(project, risk, enqueued):
    ProjectFactory(key="EMPTY")  # no risks: nothing to refresh
    assert refresh_at_midnight.run(all_projects=True) == 1
    assert enqueued == [(project.pk,)]


def test_reconcile_covers_risk_scores(project, risk, enqueued):
    StaleProject.objects.update(marked_at=timezone.now() - timedelta(minutes=5))
    for sub in events.subscribers():
        if sub.kind != RISK_KIND:
            MetricRun.objects.create(
                project_id=project.pk, kind=sub.kind, computed_at=timezone.now(), runs=1
            )
    assert events.reconcile(older_than=timedelta(0)) == {"stale": 1, "enqueued": 1}
    assert enqueued == [(project.pk,)]


# --- a real worker -------------------------------------------------------------------------------


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _debug(risk) -> str:
    return (
        f"{list(RiskScore.objects.filter(risk=risk).values('exposure', 'reasons'))} "
        f"{list(StaleProject.objects.values())} {list(MetricRun.objects.values())}"
    )


def _settled(project) -> bool:
    return not StaleProject.objects.filter(project_id=project.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_blocking_a_linked_item_raises_exposure_and_unblocking_lowers_it(
    celery_worker, project, people, risk, item
):
    def exposure_is(value, reasons):
        row = RiskScore.objects.filter(risk=risk).first()
        return (
            row is not None
            and row.exposure == value
            and row.reasons == reasons
            and _settled(project)
        )

    calm = ["inherent score 12 of 25"]
    assert _wait_for(lambda: exposure_is(48, calm)), f"not scored: {_debug(risk)}"

    work_item_update(actor=people["member"], item=item, blocked=True, blocked_reason="No quota")
    blocked = ["inherent score 12 of 25", "1 linked item blocked"]
    assert _wait_for(lambda: exposure_is(56, blocked)), f"not raised: {_debug(risk)}"

    work_item_update(actor=people["member"], item=item, blocked=False)
    assert _wait_for(lambda: exposure_is(48, calm)), f"not lowered: {_debug(risk)}"
    assert MetricRun.objects.get(project_id=project.pk, kind=RISK_KIND).runs >= 3


@pytest.mark.django_db(transaction=True)
def test_editing_a_risk_over_the_api_is_rescored_by_the_worker(
    celery_worker, api_as, project, risk
):
    response = api_as("member").patch(
        f"/api/v1/risks/{risk.pk}/", {"probability": 5, "impact": 5}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["score"] == 25  # from the row at once, before the worker

    def rescored():
        row = RiskScore.objects.filter(risk=risk).first()
        return row is not None and row.exposure == 100 and _settled(project)

    assert _wait_for(rescored), f"not rescored: {RiskScore.objects.filter(risk=risk).first()}"
    body = api_as("viewer").get(f"/api/v1/risks/{risk.pk}/").json()
    assert (body["exposure"], body["level"], body["reasons"]) == (
        100,
        "critical",
        ["inherent score 25 of 25"],
    )
