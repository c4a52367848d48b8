import datetime

import factory

from sprints.models import Sprint, Status, WorkItem
from tests.factories.projects import ProjectFactory


class SprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sprint

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Sprint {n}")
    start_date = datetime.date(2026, 1, 5)
    end_date = datetime.date(2026, 1, 16)


def status_named(project, name: str) -> Status:
    return Status.objects.get(project=project, name=name)


class WorkItemFactory(factory.django.DjangoModelFactory):
    """Prefer sprints.services.items.work_item_create in tests of behaviour (it records history)."""

    class Meta:
        model = WorkItem

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Item {n}")
    status = factory.LazyAttribute(
        lambda o: Status.objects.filter(project=o.project).order_by("order").first()
    )
    rank = factory.Sequence(lambda n: f"{n:06d}h")  # ranks never end in "0"
