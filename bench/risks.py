"""The risk register benchmark workload (issue 4).

- RSK: 100,000 work items (every 50th blocked, every 7th past its due date, a third done,
  every 11th in a sprint that ended yesterday), one closed sprint that completed 70% of its
  committed points, and 2,000 risks across all categories and statuses (a fifth with residual
  values, review dates from 30 days ago to 30 days ahead), each linked to 5 items: 10,000
  links. Written with set-based SQL (INSERT … SELECT generate_series), seeded once and kept in
  the tpm_bench database.
- Timed: ``risks.recompute_risks`` for the whole project (cold: no score rows yet; warm:
  upserting over existing rows), and listing 200 risks over the API in-process (the HTTP
  scenarios run under load with the other suites).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.scenarios import bench_token
from bench.work import _owner, _project
from projects.models import Project
from risks.models import Risk, RiskItemLink, RiskScore, RiskScoreHistory
from sprints.models import Sprint, Status, WorkItem

ITEMS = 100_000
RISKS = 2_000
LINKS_PER_RISK = 5


@transaction.atomic
def _seed() -> Project:
    project = _project("RSK", "Risk register of 2,000")
    if Risk.objects.filter(project=project).exists():
        return project
    owner = _owner()
    todo = Status.objects.get(project=project, name="To Do")
    done = Status.objects.filter(project=project, category="done").order_by("order").first()
    today = timezone.now().date()
    Sprint.objects.create(
        project=project,
        name="Closed sprint",
        start_date=today - timedelta(days=28),
        end_date=today - timedelta(days=15),
        state=Sprint.State.CLOSED,
        committed_points=100,
        completed_points=70,
        closed_at=timezone.now() - timedelta(days=14),
    )
    late = Sprint.objects.create(
        project=project,
        name="Late sprint",
        start_date=today - timedelta(days=14),
        end_date=today - timedelta(days=1),
        state=Sprint.State.ACTIVE,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sprints_workitem (project_id, number, type, title, description,
                status_id, priority, story_points, remaining_hours, sprint_id, rank, labels,
                blocked, blocked_reason, acceptance_criteria, version, created_at, updated_at,
                due_date)
            SELECT %(project)s, i, 'task', 'Item ' || i, '',
                   CASE WHEN i %% 3 = 0 THEN %(done)s ELSE %(todo)s END, 'medium',
                   (ARRAY[1,2,3,5,8])[1 + i %% 5], 4,
                   CASE WHEN i %% 11 = 0 THEN %(late)s END,
                   lpad(to_hex(i), 8, '0') || 'h', '{}', i %% 50 = 0, '', '', 1, now(), now(),
                   CASE WHEN i %% 7 = 0 THEN %(today)s - 1 - i %% 30 ELSE %(today)s + 30 END
            FROM generate_series(1, %(items)s) AS i
            """,
            {
                "project": project.pk,
                "done": done.pk,
                "todo": todo.pk,
                "late": late.pk,
                "today": today,
                "items": ITEMS,
            },
        )
        cursor.execute(
            """
            INSERT INTO risks_risk (project_id, title, description, category, probability,
                impact, residual_probability, residual_impact, cost_impact, owner_id, status,
                response, mitigation_plan, contingency_plan, trigger, review_date,
                compliance_tags, version, created_by_id, created_at, updated_at)
            SELECT %(project)s, 'Risk ' || r, '',
                   (ARRAY['technical','security','schedule','budget','resource','compliance',
                          'vendor','scope'])[1 + r %% 8],
                   1 + r %% 5, 1 + (r / 5) %% 5,
                   CASE WHEN r %% 5 = 0 THEN 1 + r %% 3 END,
                   CASE WHEN r %% 5 = 0 THEN 1 + r %% 2 END,
                   (r %% 100) * 1000, %(owner)s,
                   (ARRAY['closed','occurred','mitigating','mitigating','open','open','open',
                          'open','open','open'])[1 + r %% 10],
                   'mitigate', 'Mitigation plan ' || r, 'Contingency plan ' || r, '',
                   %(today)s + (r %% 61) - 30,
                   CASE WHEN r %% 5 = 0 THEN ARRAY['gdpr','soc2']::varchar(10)[]
                        ELSE '{}'::varchar(10)[] END,
                   1, %(owner)s, now(), now()
            FROM generate_series(1, %(risks)s) AS r
            """,
            {"project": project.pk, "owner": owner.pk, "today": today, "risks": RISKS},
        )
        cursor.execute(
            """
            INSERT INTO risks_riskitemlink (risk_id, item_id)
            SELECT r.id, w.id
            FROM risks_risk r
            CROSS JOIN generate_series(0, %(links)s - 1) AS k
            JOIN sprints_workitem w
              ON w.project_id = r.project_id AND w.number = (r.id * 37 + k * 7919) %% %(items)s + 1
            WHERE r.project_id = %(project)s
            ON CONFLICT DO NOTHING
            """,
            {"project": project.pk, "links": LINKS_PER_RISK, "items": ITEMS},
        )
    Project.objects.filter(pk=project.pk).update(next_item_number=ITEMS + 1)
    return project


def prepare() -> tuple[str, list[dict]]:
    project = _seed()
    from risks.tasks import recompute_risks

    recompute_risks.run(project.pk)  # the list shows exposure as the pages do
    one = Risk.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)[7]
    specs = [
        {
            "name": "list 200 risks",
            "method": "GET",
            "path": "/api/v1/projects/RSK/risks/?page_size=200",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "list 200 open risks by exposure",
            "method": "GET",
            "path": "/api/v1/projects/RSK/risks/?status=open&ordering=-exposure&page_size=200",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "get one risk",
            "method": "GET",
            "path": f"/api/v1/risks/{one}/",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "risk matrix",
            "method": "GET",
            "path": "/api/v1/projects/RSK/risk-matrix/",
            "floor": "floor: tiny JSON",
        },
    ]
    return bench_token(), specs


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timings() -> list[str]:
    from risks.tasks import recompute_risks

    project = Project.objects.get(key="RSK")
    links = RiskItemLink.objects.filter(risk__project=project).count()
    lines = [
        "",
        f"Risks, project RSK: {Risk.objects.filter(project=project).count():,} risks, "
        f"{WorkItem.objects.filter(project=project).count():,} items, {links:,} links.",
        "",
        "| measurement | time |",
        "|---|---:|",
    ]
    RiskScore.objects.filter(project=project).delete()
    RiskScoreHistory.objects.filter(project=project).delete()
    started = time.perf_counter()
    recompute_risks.run(project.pk)
    lines.append(f"| recompute all risks, cold (no score rows) | {_ms(started)} |")
    warm = []
    for _ in range(7):
        started = time.perf_counter()
        recompute_risks.run(project.pk)
        warm.append((time.perf_counter() - started) * 1000)
    lines.append(f"| recompute all risks, warm (median of 7) | {statistics.median(warm):.0f} ms |")
    lines.append(f"| recompute all risks, warm (slowest of 7) | {max(warm):.0f} ms |")

    client = Client(HTTP_AUTHORIZATION=f"Token {bench_token()}")
    for label, path in (
        ("list 200 risks", "/api/v1/projects/RSK/risks/?page_size=200"),
        (
            "list 200 open risks by exposure",
            "/api/v1/projects/RSK/risks/?status=open&ordering=-exposure&page_size=200",
        ),
    ):
        client.get(path)  # warm up
        samples = []
        for _ in range(50):
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        assert len(response.json()["results"]) == 200
        lines.append(
            f"| {label}, in-process, 1 client: p50 / p95 of 50 | "
            f"{_percentile(samples, 0.5):.1f} / {_percentile(samples, 0.95):.1f} ms |"
        )
    return lines


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"
