"""Shared fixtures: users per role, clients per role, a real Celery worker on real Redis."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the test thread (STACK.md trap 3); tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from projects.models import Membership  # noqa: E402
from tests.factories.projects import MembershipFactory, ProjectFactory  # noqa: E402
from tests.factories.tpm import UserFactory  # noqa: E402

ROLES = ("owner", "member", "viewer", "executive", "outsider", "anonymous")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Coalescing keys and throttles live in Redis; start every test from a clean slate.

    Only this run's keys (its own KEY_PREFIX): ``cache.clear()`` would FLUSHDB the shared
    Redis database under every other test run and a ``make run`` beside it."""
    from django.conf import settings

    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def project(db):
    return ProjectFactory(key="MIG", name="Move billing to the cloud")


@pytest.fixture
def people(project):
    """One user per role on ``project`` (and an executive and an outsider)."""
    owner = UserFactory(username="owner")
    MembershipFactory(project=project, user=owner, role=Membership.Role.OWNER)
    member = UserFactory(username="member")
    MembershipFactory(project=project, user=member, role=Membership.Role.MEMBER)
    viewer = UserFactory(username="viewer")
    MembershipFactory(project=project, user=viewer, role=Membership.Role.VIEWER)
    return {
        "owner": owner,
        "member": member,
        "viewer": viewer,
        "executive": UserFactory(username="executive", executive=True),
        "outsider": UserFactory(username="outsider"),
        "anonymous": None,
    }


@pytest.fixture
def api_as(people):
    """``api_as(role)``: an APIClient authenticated as that role's user (or anonymous)."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if people[role] is not None:
            client.force_authenticate(people[role])
        return client

    return make


@pytest.fixture
def page_as(people):
    """``page_as(role)``: a browser-like test client logged in as that role's user."""

    def make(role: str) -> Client:
        client = Client()
        if people[role] is not None:
            client.force_login(people[role])
        return client

    return make


@pytest.fixture(scope="session")
def _session_celery_worker(django_db_blocker):
    """A real Celery worker thread consuming this run's own queue on the real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from tpm.celery import app

    with django_db_blocker.unblock():
        app.control.purge()
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ) as worker:
        yield worker


def _wait_until_idle(seconds: float = 30) -> None:
    """Until the worker runs nothing and no project is stale (or ``seconds`` pass)."""
    import time

    from celery.worker import state

    from tpm.models import StaleProject

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        busy = state.active_requests or state.reserved_requests
        if not busy and not StaleProject.objects.exists():
            return
        time.sleep(0.1)


@pytest.fixture
def celery_worker(_session_celery_worker, transactional_db):
    """The real worker for one (transactional) test. Afterwards it waits until the worker is
    idle, so the flush that ends the test never races a task still writing (a deadlock) and
    no task of this test runs into the next one."""
    yield _session_celery_worker
    _wait_until_idle()
