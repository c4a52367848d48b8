from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from risks.models import Risk, RiskScore, RiskScoreHistory

LEVEL_CHOICES = ["low", "medium", "high", "critical"]


def _money(**kwargs: Any) -> serializers.DecimalField:
    """Money as a decimal string (DESIGN.md: money as decimal strings)."""
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


# What ``RiskSerializer`` reads from a row: model fields plus the selector's annotations.
ROW_FIELDS = (
    "id",
    "project_key",
    "title",
    "description",
    "category",
    "probability",
    "impact",
    "score",
    "level",
    "residual_probability",
    "residual_impact",
    "residual_score",
    "residual_level",
    "cost_impact",
    "emv",
    "exposure",
    "reasons",
    "trend",
    "computed_at",
    "owner_id",
    "owner_name",
    "status",
    "response",
    "mitigation_plan",
    "contingency_plan",
    "trigger",
    "review_date",
    "linked_numbers",
    "compliance_tags",
    "contingency_number",
    "version",
    "created_at",
    "updated_at",
)
_MONEY = serializers.DecimalField(max_digits=16, decimal_places=2)


def _datetime(value: datetime | None, zone: tzinfo) -> str | None:
    """DRF's ISO 8601 rendering (current time zone, "Z" for UTC) without its per-call lookups."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class RiskSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A risk as rows from ``risks.selectors`` carry it (a model or a ``values()`` dict).

    The declared fields document the contract (OpenAPI); ``to_representation`` builds each row
    in one pass instead of DRF's per-field machinery, which took 35 ms for 200 rows, and
    gives exactly the same JSON (``tests/risks/test_api_risks.py`` checks the field list).
    """

    project = serializers.CharField(source="project_key", read_only=True)
    owner_name = serializers.CharField(read_only=True, allow_null=True)
    cost_impact = _money(read_only=True)
    score = serializers.IntegerField(read_only=True, help_text="probability × impact, 1–25.")
    level = serializers.ChoiceField(choices=LEVEL_CHOICES, read_only=True)
    residual_score = serializers.IntegerField(read_only=True, allow_null=True)
    residual_level = serializers.ChoiceField(choices=LEVEL_CHOICES, read_only=True, allow_null=True)
    emv = _money(read_only=True, help_text="Expected monetary value: probability/5 × cost impact.")
    exposure = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="0–100; null until a worker computed it."
    )
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True, allow_null=True)
    trend = serializers.ChoiceField(
        choices=RiskScore.Trend.choices, read_only=True, allow_null=True
    )
    computed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    linked_items = serializers.SerializerMethodField(help_text="Keys of the linked work items.")
    contingency_item = serializers.SerializerMethodField(
        help_text="Key of the item created when the contingency plan was started."
    )

    class Meta:
        model = Risk
        fields = (
            "id",
            "project",
            "title",
            "description",
            "category",
            "probability",
            "impact",
            "score",
            "level",
            "residual_probability",
            "residual_impact",
            "residual_score",
            "residual_level",
            "cost_impact",
            "emv",
            "exposure",
            "reasons",
            "trend",
            "computed_at",
            "owner",
            "owner_name",
            "status",
            "response",
            "mitigation_plan",
            "contingency_plan",
            "trigger",
            "review_date",
            "linked_items",
            "compliance_tags",
            "contingency_item",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def to_representation(self, instance: Any) -> dict[str, Any]:
        row = (
            instance
            if isinstance(instance, dict)
            else {name: getattr(instance, name, None) for name in ROW_FIELDS}
        )
        key = row["project_key"]
        contingency = row["contingency_number"]
        zone = self.__dict__.get("_zone") or self.__dict__.setdefault(
            "_zone", timezone.get_current_timezone()
        )
        review_date = row["review_date"]
        return {
            "id": row["id"],
            "project": key,
            "title": row["title"],
            "description": row["description"],
            "category": row["category"],
            "probability": row["probability"],
            "impact": row["impact"],
            "score": row["score"],
            "level": row["level"],
            "residual_probability": row["residual_probability"],
            "residual_impact": row["residual_impact"],
            "residual_score": row["residual_score"],
            "residual_level": row["residual_level"],
            "cost_impact": _MONEY.to_representation(row["cost_impact"]),
            "emv": _MONEY.to_representation(row["emv"]),
            "exposure": row["exposure"],
            "reasons": row["reasons"],
            "trend": row["trend"],
            "computed_at": _datetime(row["computed_at"], zone),
            "owner": row["owner_id"],
            "owner_name": row["owner_name"],
            "status": row["status"],
            "response": row["response"],
            "mitigation_plan": row["mitigation_plan"],
            "contingency_plan": row["contingency_plan"],
            "trigger": row["trigger"],
            "review_date": review_date.isoformat() if review_date else None,
            "linked_items": [f"{key}-{n}" for n in row["linked_numbers"] or ()],
            "compliance_tags": list(row["compliance_tags"]),
            "contingency_item": f"{key}-{contingency}" if contingency else None,
            "version": row["version"],
            "created_at": _datetime(row["created_at"], zone),
            "updated_at": _datetime(row["updated_at"], zone),
        }

    def get_linked_items(self, risk: Risk) -> list[str]:
        numbers = getattr(risk, "linked_numbers", None) or []
        return [f"{risk.project_key}-{n}" for n in numbers]  # type: ignore[attr-defined]

    def get_contingency_item(self, risk: Risk) -> str | None:
        number = getattr(risk, "contingency_number", None)
        return f"{risk.project_key}-{number}" if number else None  # type: ignore[attr-defined]


class RiskWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Create (title, category, probability, impact required) and update (all optional)."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Risk.Category.choices)
    probability = serializers.IntegerField(min_value=1, max_value=5)
    impact = serializers.IntegerField(min_value=1, max_value=5)
    residual_probability = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True
    )
    residual_impact = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True
    )
    cost_impact = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False
    )
    owner = serializers.IntegerField(
        required=False, allow_null=True, help_text="User id of an owner or member."
    )
    status = serializers.ChoiceField(choices=Risk.Status.choices, required=False)
    response = serializers.ChoiceField(
        choices=Risk.Response.choices, required=False, allow_blank=True
    )
    mitigation_plan = serializers.CharField(required=False, allow_blank=True)
    contingency_plan = serializers.CharField(required=False, allow_blank=True)
    trigger = serializers.CharField(required=False, allow_blank=True)
    review_date = serializers.DateField(required=False, allow_null=True)
    linked_items = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=100,
        help_text="Keys of work items of the same project.",
    )
    compliance_tags = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=10,
        help_text="Any of: " + ", ".join(Risk.ComplianceTag.values),
    )
    version = serializers.IntegerField(required=False, min_value=1)


class RiskScoreHistorySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = RiskScoreHistory
        fields = ("day", "exposure", "score", "reasons")
        read_only_fields = fields


class RiskMatrixSerializer(serializers.Serializer):  # type: ignore[type-arg]
    basis = serializers.ChoiceField(choices=["inherent", "residual"])
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="matrix[p-1][i-1]: open and mitigating risks at probability p and impact i.",
    )


class RiskSettingsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The project's score bands (DESIGN.md's defaults until an owner changes them)."""

    low_max = serializers.IntegerField(read_only=True, help_text="Highest low score.")
    medium_max = serializers.IntegerField(read_only=True, help_text="Highest medium score.")
    high_max = serializers.IntegerField(
        read_only=True, help_text="Highest high score; above is critical."
    )


class RiskSettingsWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    low_max = serializers.IntegerField(min_value=1, max_value=24)
    medium_max = serializers.IntegerField(min_value=1, max_value=24)
    high_max = serializers.IntegerField(min_value=1, max_value=24)
