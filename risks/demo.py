"""Demo risk registers: 10–20 realistic risks per demo project, scored on the first run.

Risks are written through the same services as the pages (audit history included). Some have
reviews overdue, some occurred (one with its contingency plan started), some are closed, and
some are linked to the project's blocked or in-flight items, so exposure, reasons, the heat map
and the top-risks panel all mean something at once. A few weeks of backdated daily exposure give
the history charts and trends a shape. Idempotent: a project that has risks is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from projects.models import Project
from risks.models import Risk, RiskScore, RiskScoreHistory
from risks.services import risk_create, risk_start_contingency, risk_update
from risks.tasks import risks_recompute
from sprints.metric_inputs import project_today
from sprints.models import Sprint, Status, WorkItem
from tpm.models import User

HISTORY_DAYS = 27


@dataclass(frozen=True)
class Spec:
    title: str
    category: str
    probability: int
    impact: int
    cost: int = 0
    mitigation: str = ""
    contingency: str = ""
    trigger: str = ""
    tags: tuple[str, ...] = ()
    status: str = "open"  # open, mitigating, closed, occurred, started (occurred + contingency)
    residual: tuple[int, int] | None = None
    review_in: int | None = None  # days from today; negative: the review is overdue
    link: str | None = None  # "blocked": the project's blocked item; "active": an in-flight item
    changed_days_ago: int = 0  # when the current exposure started (history before it differs)


CLOUD_MIGRATION = [
    Spec(
        "Payment gateway API rate limits unknown",
        "vendor",
        3,
        4,
        40000,
        mitigation="Load test the gateway sandbox by the end of sprint 2.",
        contingency="Queue and batch payment calls; ask the vendor for a temporary quota raise.",
        trigger="More than 1 % of staging calls answered with HTTP 429.",
        tags=("pci_dss",),
        review_in=10,
        link="blocked",
    ),
    Spec(
        "Invoice batch overruns the cut-over window",
        "schedule",
        3,
        5,
        60000,
        mitigation="Rehearse the cut-over twice; split the batch by tenant and run it in parallel.",
        contingency="Run one more billing cycle in the data centre and move the cut-over.",
        trigger="Rehearsal batch takes longer than 3 hours.",
        status="mitigating",
        residual=(2, 4),
        review_in=-12,
        link="active",
        changed_days_ago=9,
    ),
    Spec(
        "Data loss while migrating the reporting database",
        "technical",
        2,
        5,
        150000,
        mitigation="Row counts and checksums per table; dual-write for two weeks.",
        contingency="Restore from the pre-migration snapshot and replay the dual-write log.",
        tags=("gdpr", "iso27001"),
        status="mitigating",
        residual=(1, 5),
        review_in=14,
        changed_days_ago=18,
    ),
    Spec(
        "Cloud egress costs above forecast",
        "budget",
        4,
        3,
        36000,
        mitigation="Tag every resource; weekly cost report; private endpoints for reporting.",
        contingency="Cache reports in-region and renegotiate the committed-use discount.",
        trigger="Monthly egress over 8,000 EUR.",
        review_in=-40,
    ),
    Spec(
        "PCI-DSS scope grows with the new network segments",
        "compliance",
        3,
        4,
        25000,
        mitigation="Segment the cardholder data environment; QSA review of the design.",
        tags=("pci_dss", "soc2"),
        review_in=7,
    ),
    Spec(
        "Key engineer split across two projects",
        "resource",
        4,
        3,
        18000,
        mitigation="Pair on the payment adapters; document the runbooks.",
        status="mitigating",
        residual=(3, 2),
        review_in=21,
        changed_days_ago=12,
    ),
    Spec(
        "Secrets leaked through Terraform state",
        "security",
        2,
        5,
        80000,
        mitigation="Remote state with encryption; secrets from the vault only; pre-commit scan.",
        contingency="Rotate every credential in the state file within 4 hours.",
        tags=("iso27001", "soc2"),
        status="mitigating",
        residual=(1, 4),
        review_in=-5,
        changed_days_ago=15,
    ),
    Spec(
        "Legacy SOAP adapter has no owner",
        "technical",
        3,
        3,
        12000,
        mitigation="Assign an owner; wrap it behind the new API gateway.",
        review_in=18,
    ),
    Spec(
        "Cloud region short of capacity for the database tier",
        "vendor",
        2,
        4,
        30000,
        mitigation="Reserve capacity for the database instances.",
        status="closed",
        changed_days_ago=6,
    ),
    Spec(
        "Finance freezes changes at quarter end",
        "schedule",
        4,
        4,
        45000,
        mitigation="Agree the cut-over date with finance before sprint 5.",
        contingency="Move the cut-over two weeks later and keep dual-run billing until then.",
        trigger="Finance announces the quarter-end freeze.",
        status="started",
        changed_days_ago=3,
    ),
    Spec(
        "DNS TTLs too long for a fast rollback",
        "technical",
        3,
        2,
        5000,
        mitigation="Lower TTLs to 60 s a week before the cut-over.",
        status="closed",
        changed_days_ago=20,
    ),
    Spec(
        "Reporting requests creep into the migration scope",
        "scope",
        3,
        3,
        20000,
        mitigation="Every new report goes through change control.",
        review_in=4,
        link="active",
    ),
    Spec(
        "Monitoring gaps after moving to managed services",
        "technical",
        3,
        3,
        10000,
        mitigation="Map every alert to its managed-service metric before cut-over.",
        status="mitigating",
        residual=(2, 2),
        review_in=3,
        changed_days_ago=7,
    ),
    Spec(
        "Vendor support contract lapses before go-live",
        "vendor",
        2,
        3,
        15000,
        contingency="Buy pay-as-you-go premium support for the cut-over month.",
        status="occurred",
        changed_days_ago=1,
    ),
]

DATA_PLATFORM = [
    Spec(
        "Streaming ingestion cannot keep up with peak load",
        "technical",
        3,
        4,
        50000,
        mitigation="Load test with last year's month-end peak; partition by customer.",
        contingency="Fall back to hourly micro-batches during peaks.",
        trigger="Consumer lag above 10 minutes.",
        review_in=8,
        link="blocked",
    ),
    Spec(
        "Lakehouse licence costs above budget",
        "budget",
        3,
        3,
        40000,
        mitigation="Right-size the compute tiers after the pilot.",
        review_in=-9,
    ),
    Spec(
        "Personal data lands in the lake without retention rules",
        "compliance",
        3,
        5,
        120000,
        mitigation="Classify columns at ingestion; retention jobs per data class.",
        contingency="Quarantine the affected tables and purge under the DPO's supervision.",
        tags=("gdpr",),
        status="mitigating",
        residual=(2, 4),
        review_in=12,
        changed_days_ago=10,
    ),
    Spec(
        "Report owners unavailable to validate migrated reports",
        "resource",
        4,
        3,
        15000,
        mitigation="Book validation sessions per report family a sprint ahead.",
        review_in=-20,
    ),
    Spec(
        "Source systems change their schema without notice",
        "technical",
        4,
        3,
        20000,
        mitigation="Schema registry with compatibility checks on every producer.",
        review_in=15,
    ),
    Spec(
        "Only one engineer knows the old ETL",
        "resource",
        3,
        4,
        30000,
        mitigation="Recorded walkthroughs; pair on every ETL fix.",
        status="mitigating",
        residual=(2, 3),
        review_in=20,
        changed_days_ago=14,
    ),
    Spec(
        "BI vendor deprecates the connector we use",
        "vendor",
        2,
        4,
        25000,
        mitigation="Confirm the connector roadmap with the vendor.",
        review_in=30,
    ),
    Spec(
        "The 40 core reports take longer to migrate than planned",
        "schedule",
        3,
        4,
        35000,
        mitigation="Migrate the ten most used reports first; template the rest.",
        review_in=6,
        link="active",
    ),
    Spec(
        "Access to the lake broader than need-to-know",
        "security",
        3,
        4,
        60000,
        mitigation="Role-based access per domain; quarterly access reviews.",
        tags=("gdpr", "iso27001", "soc2"),
        status="mitigating",
        residual=(2, 3),
        review_in=9,
        changed_days_ago=11,
    ),
    Spec(
        "Warehouse quota exhausted during the backfill",
        "technical",
        3,
        2,
        8000,
        contingency="Throttle the backfill to nights and request a quota raise.",
        status="started",
        changed_days_ago=2,
    ),
    Spec(
        "Parallel run doubles storage cost",
        "budget",
        2,
        2,
        6000,
        mitigation="Lifecycle rules move the old copies to cold storage.",
        status="closed",
        changed_days_ago=16,
    ),
    Spec(
        "Stakeholders ask for machine-learning features",
        "scope",
        3,
        3,
        20000,
        mitigation="Keep ML out of scope in the charter; log requests for phase 2.",
        review_in=25,
    ),
]

ZERO_TRUST = [
    Spec(
        "Identity proxy adds latency to internal apps",
        "technical",
        3,
        3,
        15000,
        mitigation="Benchmark the proxy per app before switching it on.",
        contingency="Bypass the proxy for the three latency-critical apps behind mTLS.",
        review_in=5,
        link="blocked",
    ),
    Spec(
        "Legacy apps without single sign-on support",
        "technical",
        4,
        4,
        40000,
        mitigation="Header-based auth through the proxy for apps without SAML or OIDC.",
        status="mitigating",
        residual=(3, 3),
        review_in=-15,
        changed_days_ago=8,
    ),
    Spec(
        "VPN switched off before every service is behind the proxy",
        "security",
        2,
        5,
        90000,
        mitigation="Inventory checklist signed off per service before the switch-off.",
        contingency="Re-enable the VPN for the missing services for one week.",
        tags=("iso27001", "soc2"),
        review_in=11,
    ),
    Spec(
        "Device posture checks lock out contractors",
        "resource",
        3,
        3,
        10000,
        mitigation="Managed browser profile for contractors.",
        review_in=16,
    ),
    Spec(
        "Identity provider outage locks everyone out",
        "vendor",
        2,
        5,
        70000,
        mitigation="Second region for the identity provider.",
        contingency="Break-glass accounts with hardware keys kept by the security lead.",
        status="mitigating",
        residual=(2, 3),
        review_in=13,
        changed_days_ago=19,
    ),
    Spec(
        "Audit finding not closed before certification",
        "compliance",
        3,
        4,
        30000,
        mitigation="Evidence folder per control, reviewed every two weeks.",
        tags=("iso27001", "soc2"),
        review_in=-3,
    ),
    Spec(
        "SSH bastion migration slips past the target date",
        "schedule",
        4,
        3,
        25000,
        mitigation="Migrate the bastions team by team, the smallest first.",
        review_in=2,
        link="active",
    ),
    Spec(
        "Proxy licence count underestimated",
        "budget",
        3,
        2,
        12000,
        mitigation="Count service accounts and contractors in the licence model.",
        review_in=28,
    ),
    Spec(
        "Shared admin credentials still in use",
        "security",
        3,
        5,
        50000,
        contingency="Rotate every shared credential and move admins to personal accounts.",
        tags=("iso27001",),
        status="started",
        changed_days_ago=4,
    ),
    Spec(
        "Network team unavailable for firewall changes",
        "resource",
        3,
        3,
        8000,
        mitigation="Book the network team's capacity for the quarter.",
        status="closed",
        changed_days_ago=22,
    ),
    Spec(
        "Service accounts break when mTLS is enforced",
        "technical",
        3,
        4,
        20000,
        mitigation="Issue workload certificates before enforcing; report-only mode first.",
        review_in=9,
    ),
    Spec(
        "HIPAA workloads need separate access policies",
        "compliance",
        2,
        4,
        35000,
        mitigation="Separate policy set reviewed by the compliance officer.",
        tags=("hipaa",),
        review_in=19,
    ),
]

KUBERNETES = [
    Spec(
        "Helm charts still use removed APIs",
        "technical",
        4,
        4,
        30000,
        mitigation="Scan every chart with pluto; fix in the staging cluster first.",
        contingency="Pin the affected workloads to a 1.29 node pool until fixed.",
        status="mitigating",
        residual=(2, 3),
        review_in=10,
        changed_days_ago=13,
    ),
    Spec(
        "Ingress controller migration breaks custom annotations",
        "technical",
        3,
        4,
        20000,
        mitigation="Translate annotations with the migration tool; canary per host.",
        review_in=12,
    ),
    Spec(
        "Upgrade window clashes with peak traffic",
        "schedule",
        3,
        4,
        40000,
        mitigation="Agree the window with product before the change freeze.",
        review_in=-6,
    ),
    Spec(
        "Provider ends support for 1.29 earlier than announced",
        "vendor",
        2,
        5,
        50000,
        mitigation="Watch the provider's release calendar; keep a two-week buffer.",
        review_in=30,
    ),
    Spec(
        "Node pool recreation doubles cost during the upgrade",
        "budget",
        3,
        2,
        8000,
        mitigation="Surge upgrades one pool at a time.",
        review_in=21,
    ),
    Spec(
        "Pod security admission rejects privileged workloads",
        "security",
        4,
        3,
        15000,
        mitigation="Audit mode for a sprint; exemptions reviewed by security.",
        tags=("soc2", "iso27001"),
        review_in=8,
    ),
    Spec(
        "Only two engineers have cluster-admin experience",
        "resource",
        3,
        3,
        12000,
        mitigation="Game days on the staging cluster for the whole team.",
        review_in=17,
    ),
    Spec(
        "Stateful sets lose data during node drains",
        "technical",
        2,
        5,
        60000,
        mitigation="Pod disruption budgets and volume snapshots before every drain.",
        contingency="Restore the volumes from the pre-drain snapshots.",
        tags=("gdpr",),
        review_in=-2,
    ),
    Spec(
        "Service mesh pulled into the upgrade's scope",
        "scope",
        3,
        3,
        25000,
        mitigation="The mesh stays out of scope; raise a change request if needed.",
        review_in=26,
    ),
    Spec(
        "Staging cluster drifts from production",
        "technical",
        3,
        3,
        10000,
        contingency="Rebuild staging from the production manifests before the rehearsal.",
        status="started",
        changed_days_ago=5,
    ),
    Spec(
        "Monitoring agents incompatible with 1.31",
        "technical",
        3,
        2,
        5000,
        mitigation="Upgrade the agents first; they support 1.29 to 1.31.",
        status="closed",
        changed_days_ago=10,
    ),
]

THEMES: dict[str, list[Spec]] = {
    "MIG": CLOUD_MIGRATION,
    "DATA": DATA_PLATFORM,
    "ZTN": ZERO_TRUST,
    "KUBE": KUBERNETES,
}


def _link_pools(project: Project) -> tuple[list[WorkItem], list[WorkItem]]:
    """The project's blocked items and its in-flight (active sprint, not done) ones."""
    open_items = WorkItem.objects.filter(project=project).exclude(
        status__category=Status.Category.DONE
    )
    blocked = list(open_items.filter(blocked=True).order_by("number")[:3])
    active = list(
        open_items.filter(blocked=False, sprint__state=Sprint.State.ACTIVE).order_by("number")[:10]
    )
    return blocked, active


def _history(project: Project, changed: dict[int, int]) -> list[RiskScoreHistory]:
    """Backdated daily exposure before today's, so charts and trends have a shape.

    Each risk shows today's exposure since ``changed_days_ago`` days and, before that, the
    exposure of its inherent score alone (a mitigating risk therefore falls, a risk whose
    signals appeared recently rises).
    """
    today = project_today(project)
    rows = []
    for score in RiskScore.objects.filter(project=project).select_related("risk"):
        base = score.score * 4
        first = [f"inherent score {score.score} of 25"]
        since = changed.get(score.risk_id, 0)
        for days_ago in range(HISTORY_DAYS, 0, -1):
            current = days_ago <= since
            rows.append(
                RiskScoreHistory(
                    risk_id=score.risk_id,
                    project=project,
                    day=today - timedelta(days=days_ago),
                    exposure=score.exposure if current else base,
                    score=score.score,
                    reasons=score.reasons if current else first,
                )
            )
    return rows


@transaction.atomic
def seed_project_risks(*, project: Project, owner: User, people: list[User]) -> int:
    """Seed the demo register of ``project`` unless it has risks; return the risks created.

    ``owner`` (a project owner) writes everything; risk owners rotate through ``people`` (the
    project's owners and members). Scores are computed at once (``risks_recompute``), then the
    backdated history is added and the scores computed again so trends compare with yesterday.
    """
    specs = THEMES.get(project.key)
    if not specs or Risk.objects.filter(project=project).exists():
        return 0
    today = project_today(project)
    blocked, active = _link_pools(project)
    owners = people or [owner]
    changed: dict[int, int] = {}  # risk id → days since its current exposure
    for index, spec in enumerate(specs):
        links: list[WorkItem] = []
        if spec.link == "blocked" and blocked:
            links = [blocked[index % len(blocked)]]
        elif spec.link == "active" and active:
            links = [active.pop(0)]
        review_in = spec.review_in if spec.review_in is not None else 14 + index
        risk = risk_create(
            actor=owner,
            project=project,
            title=spec.title,
            category=spec.category,
            probability=spec.probability,
            impact=spec.impact,
            owner=owners[index % len(owners)],
            status="mitigating" if spec.status == "mitigating" else "open",
            linked_items=links,
            cost_impact=Decimal(spec.cost),
            mitigation_plan=spec.mitigation,
            contingency_plan=spec.contingency,
            trigger=spec.trigger,
            compliance_tags=list(spec.tags),
            response="mitigate" if spec.mitigation else "accept",
            residual_probability=spec.residual[0] if spec.residual else None,
            residual_impact=spec.residual[1] if spec.residual else None,
            review_date=today + timedelta(days=review_in),
        )
        if spec.status in ("closed", "occurred"):
            risk_update(actor=owner, risk=risk, status=spec.status)
        elif spec.status == "started":
            risk_start_contingency(actor=owner, risk=risk)
        # An overdue review raised the exposure on the day it fell due.
        changed[risk.pk] = spec.changed_days_ago or max(0, -review_in)
    risks_recompute(project.pk)
    RiskScoreHistory.objects.bulk_create(_history(project, changed), ignore_conflicts=True)
    risks_recompute(project.pk)
    return len(specs)
