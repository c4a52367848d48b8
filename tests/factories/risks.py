import factory
import pghistory.models

from risks.models import Risk, RiskItemLink
from sprints.models import WorkItem
from tests.factories.projects import ProjectFactory


class RiskFactory(factory.django.DjangoModelFactory):
    """Prefer risks.services.risk_create in tests of behaviour (it validates and audits)."""

    class Meta:
        model = Risk

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Risk {n}")
    category = Risk.Category.TECHNICAL
    probability = 3
    impact = 3

    class Params:
        mitigating = factory.Trait(status=Risk.Status.MITIGATING)
        closed = factory.Trait(status=Risk.Status.CLOSED)
        occurred = factory.Trait(status=Risk.Status.OCCURRED)


def risk_state(project) -> dict:
    """Everything a refused risk write must leave as it was (links, items and audit rows of
    every project, so a write that strays into another project shows too)."""
    return {
        "risks": list(
            Risk.objects.filter(project=project)
            .order_by("pk")
            .values_list(
                "pk",
                "version",
                "title",
                "category",
                "probability",
                "impact",
                "residual_probability",
                "residual_impact",
                "cost_impact",
                "owner_id",
                "status",
                "review_date",
                "compliance_tags",
                "contingency_item_id",
            )
        ),
        "links": sorted(RiskItemLink.objects.values_list("risk_id", "item_id")),
        "items": WorkItem.objects.count(),
        "audit": pghistory.models.Events.objects.filter(
            pgh_model__in=["risks.RiskEvent", "risks.RiskItemLinkEvent"]
        ).count(),
    }
