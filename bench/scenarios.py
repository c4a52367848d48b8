"""Benchmark data and scenarios for the foundation: projects and members over the API."""

from __future__ import annotations

import json
import uuid

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

PROJECTS = 200
MEMBERS = 50


@transaction.atomic
def _seed() -> tuple[object, object]:
    from projects.models import Membership, Project
    from projects.services import project_summary_refresh
    from tpm.models import User

    user, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    if Project.objects.count() < PROJECTS:
        existing = set(Project.objects.values_list("key", flat=True))
        new = []
        for n in range(PROJECTS):
            key = "B" + chr(65 + n // 26 // 26 % 26) + chr(65 + n // 26 % 26) + chr(65 + n % 26)
            if key not in existing:
                new.append(Project(key=key, name=f"Bench project {n}", description="Benchmark row"))
        Project.objects.bulk_create(new)
        projects = list(Project.objects.all())
        Membership.objects.bulk_create(
            [Membership(project=p, user=user, role="owner") for p in projects],
            ignore_conflicts=True,
        )
        first = projects[0]
        people = User.objects.bulk_create(
            [User(username=f"bench-member-{n}") for n in range(MEMBERS)], ignore_conflicts=True
        )
        people = list(User.objects.filter(username__startswith="bench-member-"))
        Membership.objects.bulk_create(
            [Membership(project=first, user=u, role="member") for u in people],
            ignore_conflicts=True,
        )
        for project in projects:
            project_summary_refresh(project_id=project.pk)
    first = Project.objects.order_by("key").first()
    return user, first


def bench_token() -> str:
    """A fresh personal token of the "bench" user (the one every scenario runs as)."""
    from tpm.models import User
    from tpm.services import api_token_create

    user, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    _, token = api_token_create(actor=user, name=f"bench-{uuid.uuid4().hex[:12]}")
    return token


def prepare() -> tuple[str, list[dict]]:
    user, first = _seed()
    token = bench_token()
    specs = [
        {
            "name": f"list {PROJECTS} projects",
            "method": "GET",
            "path": f"/api/v1/projects/?page_size={PROJECTS}",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "get one project",
            "method": "GET",
            "path": f"/api/v1/projects/{first.key}/",
            "floor": "floor: tiny JSON",
        },
        {
            "name": f"list {MEMBERS + 1} members",
            "method": "GET",
            "path": f"/api/v1/projects/{first.key}/members/?page_size=200",
            "floor": "floor: tiny JSON",
        },
        {
            "name": "PATCH project phase",
            "method": "PATCH",
            "path": f"/api/v1/projects/{first.key}/",
            "toggle": [{"phase": "executing"}, {"phase": "monitoring"}],
            "floor": "floor: one UPDATE",
        },
    ]
    return token, specs


def count_queries(specs: list[dict], token: str) -> dict[str, int]:
    """SQL statements one request of each scenario runs, authenticated by token as in the load."""
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    counts = {}
    for spec in specs:
        body = spec["toggle"][0] if spec.get("toggle") else spec.get("body")
        path = spec.get("path") or spec["paths"][0]
        with CaptureQueriesContext(connection) as captured:
            if spec["method"] == "GET":
                client.get(path)
            else:
                client.generic(
                    spec["method"], path, data=json.dumps(body), content_type="application/json"
                )
        counts[spec["name"]] = sum(
            1
            for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        )
    return counts
