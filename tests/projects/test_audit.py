"""Audit history: every write path is recorded with its actor, bulk updates included."""

import pghistory
import pytest
from pghistory.models import Events

from projects.models import Project
from projects.selectors import project_history_page
from projects.services import membership_add, project_create, project_update
from tests.factories.tpm import UserFactory


@pytest.fixture
def pm(db):
    return UserFactory(username="pm", first_name="Priya", last_name="Menon")


def test_service_writes_are_recorded_with_actor(pm):
    project = project_create(actor=pm, key="AUD", name="Audited")
    project_update(actor=pm, project=project, phase="planning")
    engineer = UserFactory(username="eng", first_name="Erin", last_name="Kim")
    membership_add(actor=pm, project=project, user=engineer, role="member")
    history = project_history_page(project=project)
    assert [(e.actor, e.label) for e in history] == [
        ("Priya Menon", "added member Erin Kim"),
        ("Priya Menon", "changed the project"),
        ("Priya Menon", "added member Priya Menon"),
        ("Priya Menon", "created the project"),
    ]
    assert history[1].changes == [("phase", "initiating", "planning")]


def test_bulk_update_is_recorded_too(pm):
    project = project_create(actor=pm, key="AUD", name="Audited")
    with pghistory.context(user=pm.pk):
        Project.objects.filter(pk=project.pk).update(name="Renamed in bulk")
    event = Events.objects.references(project).filter(pgh_label="update").get()
    assert event.pgh_context["user"] == pm.pk
    assert event.pgh_diff["name"] == ["Audited", "Renamed in bulk"]


def test_api_change_records_the_token_user(api_as, project, people):
    response = api_as("owner").patch("/api/v1/projects/MIG/", {"phase": "closing"}, format="json")
    assert response.status_code == 200
    event = Events.objects.references(project).filter(pgh_label="update").get()
    assert event.pgh_context["user"] == people["owner"].pk
    assert event.pgh_context["url"] == "/api/v1/projects/MIG/"


def test_deleted_project_leaves_its_history(pm):
    project = project_create(actor=pm, key="AUD", name="Audited")
    pk = project.pk
    from projects.services import project_delete

    project_delete(actor=pm, project=project)
    labels = sorted(
        Events.objects.filter(pgh_obj_model="projects.Project", pgh_obj_id=str(pk)).values_list(
            "pgh_label", flat=True
        )
    )
    assert labels == ["delete", "insert"]
