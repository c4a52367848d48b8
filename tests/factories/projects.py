import factory

from projects.models import Membership, Project
from tests.factories.tpm import UserFactory
from tpm import events


def _key(n: int) -> str:
    letters = ""
    n += 26 * 27  # at least three letters, never colliding with short hand-written keys
    while n:
        n, rem = divmod(n, 26)
        letters = chr(ord("A") + rem) + letters
    return letters[:10]


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    key = factory.Sequence(_key)
    name = factory.Sequence(lambda n: f"Project {n}")
    methodology = Project.Methodology.SCRUM
    phase = Project.Phase.EXECUTING

    @factory.post_generation
    def workflow(obj, create, extracted, **kwargs):
        """Run the same creation hooks as the project service (default workflow statuses)."""
        if create:
            events.project_created(obj, actor=None)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER
