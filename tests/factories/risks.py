import factory

from risks.models import Risk
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
