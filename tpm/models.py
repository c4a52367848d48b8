"""Core models: the user, personal API tokens and the metric outbox."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

TOKEN_PREFIX = "tpm_"


class User(AbstractUser):
    """A TPM user. ``is_executive`` grants the viewer role on every project."""

    is_executive = models.BooleanField(
        default=False,
        help_text="Executives can read every project (viewer role everywhere).",
    )

    class Meta:
        db_table = "tpm_user"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=Q(revoked_at__isnull=True),
                name="tpm_apitoken_active_name_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest_for(key: str) -> str:
        # Keys carry 256 random bits, so a fast hash is safe here (no dictionary to attack).
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaleProject(models.Model):
    """Outbox row: a project whose derived metrics must be recomputed.

    Written inside the transaction that changed the project's data, so a change is never
    lost when Redis or a worker is down; the reconcile task re-dispatches rows left behind.
    ``project_id`` is a plain integer because tpm sits below the projects app.
    """

    project_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField()
    reasons = models.JSONField(default=list)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["marked_at"], name="tpm_staleproject_marked_idx")]

    def __str__(self) -> str:
        return f"project {self.project_id} stale since {self.marked_at:%Y-%m-%d %H:%M:%S}"


class MetricRun(models.Model):
    """When each kind of derived metric of a project was last recomputed, and how often."""

    project_id = models.BigIntegerField()
    kind = models.CharField(max_length=50)
    computed_at = models.DateTimeField()
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "kind"], name="tpm_metricrun_project_kind_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of project {self.project_id} at {self.computed_at:%Y-%m-%d %H:%M:%S}"
