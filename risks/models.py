"""The risk register: risks, their links to work items, per-project bands and stored scores.

Scores (``RiskScore``) and their daily history (``RiskScoreHistory``) are written by the worker
(``risks.tasks.recompute_risks``) and read by pages and the API; everything else is written by
``risks.services``.
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from projects.models import Project
from sprints.models import WorkItem

ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]


def _one_to_five(field: str, *, nullable: bool = False) -> Q:
    check = Q(**{f"{field}__gte": 1}) & Q(**{f"{field}__lte": 5})
    return Q(**{f"{field}__isnull": True}) | check if nullable else check


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Risk(models.Model):
    class Category(models.TextChoices):
        TECHNICAL = "technical", "Technical"
        SECURITY = "security", "Security"
        SCHEDULE = "schedule", "Schedule"
        BUDGET = "budget", "Budget"
        RESOURCE = "resource", "Resource"
        COMPLIANCE = "compliance", "Compliance"
        VENDOR = "vendor", "Vendor"
        SCOPE = "scope", "Scope"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MITIGATING = "mitigating", "Mitigating"
        CLOSED = "closed", "Closed"
        OCCURRED = "occurred", "Occurred"

    class Response(models.TextChoices):
        AVOID = "avoid", "Avoid"
        MITIGATE = "mitigate", "Mitigate"
        TRANSFER = "transfer", "Transfer"
        ACCEPT = "accept", "Accept"

    class ComplianceTag(models.TextChoices):
        ISO27001 = "iso27001", "ISO 27001"
        SOC2 = "soc2", "SOC 2"
        GDPR = "gdpr", "GDPR"
        HIPAA = "hipaa", "HIPAA"
        PCI_DSS = "pci_dss", "PCI-DSS"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="risks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    probability = models.PositiveSmallIntegerField(validators=ONE_TO_FIVE)
    impact = models.PositiveSmallIntegerField(validators=ONE_TO_FIVE)
    residual_probability = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ONE_TO_FIVE, help_text="After the response."
    )
    residual_impact = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ONE_TO_FIVE, help_text="After the response."
    )
    cost_impact = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What it costs if it happens, in the project's currency.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_risks",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    response = models.CharField(max_length=10, choices=Response.choices, blank=True)
    mitigation_plan = models.TextField(blank=True)
    contingency_plan = models.TextField(blank=True)
    trigger = models.TextField(blank=True, help_text="What tells us the risk is happening.")
    review_date = models.DateField(null=True, blank=True)
    linked_items = models.ManyToManyField(
        WorkItem, through="RiskItemLink", related_name="risks", blank=True
    )
    compliance_tags = ArrayField(
        models.CharField(max_length=10, choices=ComplianceTag.choices), default=list, blank=True
    )
    contingency_item = models.ForeignKey(
        WorkItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contingency_for",
        help_text="The work item created when the contingency plan was started.",
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=_one_to_five("probability"), name="risks_risk_probability_1_5"
            ),
            models.CheckConstraint(condition=_one_to_five("impact"), name="risks_risk_impact_1_5"),
            models.CheckConstraint(
                condition=_one_to_five("residual_probability", nullable=True),
                name="risks_risk_residual_probability_1_5",
            ),
            models.CheckConstraint(
                condition=_one_to_five("residual_impact", nullable=True),
                name="risks_risk_residual_impact_1_5",
            ),
            models.CheckConstraint(
                condition=Q(cost_impact__gte=0), name="risks_risk_cost_impact_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "mitigating", "closed", "occurred"]),
                name="risks_risk_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "technical",
                        "security",
                        "schedule",
                        "budget",
                        "resource",
                        "compliance",
                        "vendor",
                        "scope",
                    ]
                ),
                name="risks_risk_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(response__in=["", "avoid", "mitigate", "transfer", "accept"]),
                name="risks_risk_response_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    compliance_tags__contained_by=["iso27001", "soc2", "gdpr", "hipaa", "pci_dss"]
                ),
                name="risks_risk_compliance_tags_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="risks_risk_status_idx"),
            models.Index(fields=["project", "category"], name="risks_risk_category_idx"),
            models.Index(fields=["owner", "project"], name="risks_risk_owner_idx"),
            models.Index(fields=["project", "review_date"], name="risks_risk_review_idx"),
            models.Index(F("project"), F("probability") * F("impact"), name="risks_risk_score_idx"),
            GinIndex(fields=["compliance_tags"], name="risks_risk_tags_gin"),
        ]

    def __str__(self) -> str:
        return f"risk {self.pk}: {self.title}"


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class RiskItemLink(models.Model):
    """A work item that mitigates or evidences a risk; both belong to the same project."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="links")
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="risk_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["risk", "item"], name="risks_riskitemlink_unique")
        ]
        indexes = [models.Index(fields=["item"], name="risks_riskitemlink_item_idx")]

    def __str__(self) -> str:
        return f"risk {self.risk_id} ↔ item {self.item_id}"


class RiskSettings(models.Model):
    """Per-project score bands: low ≤ low_max < medium ≤ medium_max < high ≤ high_max < critical."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="risk_settings"
    )
    low_max = models.PositiveSmallIntegerField(default=4)
    medium_max = models.PositiveSmallIntegerField(default=9)
    high_max = models.PositiveSmallIntegerField(default=14)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "risk settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(low_max__gte=1)
                & Q(medium_max__gt=F("low_max"))
                & Q(high_max__gt=F("medium_max"))
                & Q(high_max__lt=25),
                name="risks_risksettings_bands_increasing",
            )
        ]

    def __str__(self) -> str:
        return f"risk bands of project {self.project_id}"


class RiskScore(models.Model):
    """The worker's latest figures for one risk (one row per risk, upserted)."""

    class Trend(models.TextChoices):
        RISING = "rising", "Rising"
        FALLING = "falling", "Falling"
        STEADY = "steady", "Steady"

    risk = models.OneToOneField(
        Risk, on_delete=models.CASCADE, primary_key=True, related_name="live_score"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10)
    residual_score = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_level = models.CharField(max_length=10, null=True, blank=True)
    emv = models.DecimalField(max_digits=16, decimal_places=2)
    exposure = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)
    trend = models.CharField(max_length=8, choices=Trend.choices, default=Trend.STEADY)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(exposure__lte=100), name="risks_riskscore_exposure_lte_100"
            )
        ]
        indexes = [models.Index(fields=["project", "exposure"], name="risks_riskscore_exp_idx")]

    def __str__(self) -> str:
        return f"score of risk {self.risk_id}: {self.exposure}"


class RiskScoreHistory(models.Model):
    """One row per risk and day (in the project's zone): the day's last computed figures."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="score_history")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    exposure = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)

    class Meta:
        verbose_name_plural = "risk score history"
        ordering = ["risk", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk", "day"], name="risks_riskscorehistory_day_unique"
            )
        ]
        indexes = [models.Index(fields=["project", "day"], name="risks_riskscorehist_proj_idx")]

    def __str__(self) -> str:
        return f"risk {self.risk_id} on {self.day}: {self.exposure}"
