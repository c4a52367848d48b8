"""``manage.py demo_data``: an idempotent demo portfolio (users, projects, members).

Creates only what is missing, through the same services the pages use, so it can run on every
``make run``. Later features extend it (backlog, sprints, risks, budgets...).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from projects.models import Membership, Project
from projects.services import membership_add, project_create
from risks.demo import seed_project_risks
from sprints.demo import seed_project_history
from tpm.events import project_changed
from tpm.models import User

DEMO_PASSWORD = "tpm-demo-2026"

USERS = [
    # username, first, last, email, is_executive, is_staff
    ("pm", "Priya", "Menon", "priya.menon@example.com", False, True),
    ("alice", "Alice", "Ng", "alice.ng@example.com", False, False),
    ("bob", "Bob", "Okafor", "bob.okafor@example.com", False, False),
    ("carol", "Carol", "Schmidt", "carol.schmidt@example.com", False, False),
    ("dan", "Dan", "Rossi", "dan.rossi@example.com", False, False),
    ("erin", "Erin", "Kowalski", "erin.kowalski@example.com", False, False),
    ("cfo", "Clara", "Fischer", "clara.fischer@example.com", False, False),
    ("cto", "Tomás", "Ortega", "tomas.ortega@example.com", False, False),
    ("exec", "Evelyn", "Shaw", "evelyn.shaw@example.com", True, False),
]


def _projects(today: date) -> list[dict[str, Any]]:
    return [
        {
            "key": "MIG",
            "name": "Move billing to the cloud",
            "methodology": "hybrid",
            "phase": "executing",
            "start_date": today - timedelta(days=70),
            "target_date": today + timedelta(days=110),
            "timezone": "Europe/Berlin",
            "description": "Lift the billing platform from the Frankfurt data centre to managed "
            "cloud services.",
            "business_case": "The data-centre lease ends next year; cloud hosting cuts run "
            "costs by 30 % and removes a two-week hardware lead time from every capacity change.",
            "objectives": "Billing runs in the cloud with no lost invoices.\nRun costs down 30 %.",
            "in_scope": "Billing API, invoice batch, payment gateway adapters, reporting database.",
            "out_of_scope": "CRM, the customer portal front end.",
            "success_criteria": "Cut-over with under 30 minutes of downtime; "
            "p95 API latency no worse than today.",
            "members": [
                ("alice", "member", 95, 40),
                ("bob", "member", 90, 40),
                ("carol", "member", 85, 20),
                ("dan", "member", 80, 40),
                ("erin", "member", 88, 40),
                ("cfo", "viewer", 0, 0),
                ("cto", "viewer", 0, 0),
            ],
        },
        {
            "key": "DATA",
            "name": "Data platform rebuild",
            "methodology": "scrum",
            "phase": "planning",
            "start_date": today - timedelta(days=14),
            "target_date": today + timedelta(days=200),
            "timezone": "Europe/London",
            "description": "Replace the nightly ETL with streaming ingestion and a lakehouse.",
            "business_case": "Reports are a day late and the ETL fails twice a month.",
            "objectives": "Reports fresh within 15 minutes.",
            "in_scope": "Ingestion, storage, BI models.",
            "out_of_scope": "Machine-learning features.",
            "success_criteria": "All 40 core reports migrated.",
            "members": [
                ("carol", "member", 85, 20),
                ("dan", "member", 80, 30),
                ("cto", "viewer", 0, 0),
            ],
        },
        {
            "key": "ZTN",
            "name": "Zero-trust network upgrade",
            "methodology": "kanban",
            "phase": "executing",
            "start_date": today - timedelta(days=120),
            "target_date": today + timedelta(days=30),
            "timezone": "America/New_York",
            "description": "Replace the VPN with identity-aware access for every internal service.",
            "business_case": "Audit finding: flat network, shared VPN credentials.",
            "objectives": "Every internal service behind the identity proxy.",
            "in_scope": "Internal web apps, SSH bastions.",
            "out_of_scope": "Customer-facing services.",
            "success_criteria": "VPN switched off.",
            "members": [("bob", "member", 90, 20), ("erin", "owner", 88, 20)],
        },
        {
            "key": "KUBE",
            "name": "Kubernetes 1.31 upgrade",
            "methodology": "waterfall",
            "phase": "initiating",
            "start_date": today + timedelta(days=20),
            "target_date": today + timedelta(days=90),
            "timezone": "UTC",
            "description": "Upgrade all clusters two minor versions and move to the new "
            "ingress controller.",
            "business_case": "1.29 leaves support next quarter.",
            "objectives": "All clusters on 1.31.",
            "in_scope": "Staging and production clusters.",
            "out_of_scope": "Service mesh.",
            "success_criteria": "No customer-visible incident during the upgrade.",
            "members": [("alice", "member", 95, 10), ("dan", "member", 80, 10)],
        },
    ]


class Command(BaseCommand):
    help = "Load the demo portfolio (idempotent: creates only what is missing)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = self._load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} new objects). Sign in as "
                f"pm / {DEMO_PASSWORD} (project manager), alice / {DEMO_PASSWORD} (engineer) "
                f"or exec / {DEMO_PASSWORD} (executive)."
            )
        )

    @transaction.atomic
    def _load(self) -> int:
        created = 0
        users: dict[str, User] = {}
        for username, first, last, email, is_executive, is_staff in USERS:
            user, made = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "is_executive": is_executive,
                    "is_staff": is_staff,
                    "is_superuser": is_staff,
                },
            )
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                created += 1
            users[username] = user
        pm = users["pm"]
        for spec in _projects(timezone.localdate()):
            spec = dict(spec)
            members = spec.pop("members")
            project = Project.objects.filter(key=spec["key"]).first()
            if project is None:
                project = project_create(actor=pm, **spec)
                created += 1
            existing = set(
                Membership.objects.filter(project=project).values_list("user__username", flat=True)
            )
            for username, role, rate, capacity in members:
                if username not in existing:
                    membership_add(
                        actor=pm,
                        project=project,
                        user=users[username],
                        role=role,
                        hourly_rate=Decimal(rate),
                        capacity_hours_per_week=Decimal(capacity),
                    )
                    created += 1
        for key, closed in (("MIG", 4), ("DATA", 1), ("ZTN", 3)):
            project = Project.objects.get(key=key)
            engineers = [
                m.user for m in project.memberships.select_related("user") if m.role == "member"
            ]
            seeded = seed_project_history(
                project=project, owner=pm, people=engineers or [pm], closed_sprints=closed
            )
            if seeded:
                created += seeded
                project_changed(project.pk, reason="portfolio.demo.seeded")
        for project in Project.objects.filter(key__in=("MIG", "DATA", "ZTN", "KUBE")):
            contributors = [
                m.user
                for m in project.memberships.select_related("user").order_by("user__username")
                if m.role in (Membership.Role.OWNER, Membership.Role.MEMBER)
            ]
            created += seed_project_risks(project=project, owner=pm, people=contributors)
        return created
