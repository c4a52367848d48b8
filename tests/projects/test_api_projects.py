import pytest

from projects.models import Membership, Project

MATRIX_READ = [
    ("owner", 200),
    ("member", 200),
    ("viewer", 200),
    ("executive", 200),
    ("outsider", 404),
    ("anonymous", 401),
]
MATRIX_OWNER_ONLY = [
    ("owner", 200),
    ("member", 403),
    ("viewer", 403),
    ("executive", 403),
    ("outsider", 404),
    ("anonymous", 401),
]


@pytest.mark.parametrize(("role", "expected"), MATRIX_READ)
def test_project_detail_access(api_as, project, role, expected):
    response = api_as(role).get("/api/v1/projects/MIG/")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["key"] == "MIG"
        assert response["ETag"] == f'"projects.project-{project.pk}-v1"'


@pytest.mark.parametrize(("role", "expected"), MATRIX_OWNER_ONLY)
def test_project_patch_access(api_as, project, role, expected):
    response = api_as(role).patch("/api/v1/projects/MIG/", {"name": "Renamed"}, format="json")
    assert response.status_code == expected
    project.refresh_from_db()
    assert project.name == ("Renamed" if expected == 200 else "Move billing to the cloud")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", 204),
        ("member", 403),
        ("viewer", 403),
        ("executive", 403),
        ("outsider", 404),
        ("anonymous", 401),
    ],
)
def test_project_delete_access(api_as, project, role, expected):
    response = api_as(role).delete("/api/v1/projects/MIG/")
    assert response.status_code == expected
    assert Project.objects.filter(key="MIG").exists() == (expected != 204)


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("owner", ["MIG"]),
        ("member", ["MIG"]),
        ("viewer", ["MIG"]),
        ("executive", ["MIG", "OTHER"]),
        ("outsider", []),
    ],
)
def test_project_list_shows_only_visible_projects(api_as, people, role, visible):
    Project.objects.create(key="OTHER", name="Someone else's")
    response = api_as(role).get("/api/v1/projects/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [p["key"] for p in body["results"]] == visible


def test_project_list_anonymous_is_401(api_as, people):
    assert api_as("anonymous").get("/api/v1/projects/").status_code == 401


def test_project_list_query_count_is_fixed(api_as, people, django_assert_max_num_queries):
    client = api_as("executive")
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/projects/?page_size=200").json()["count"] == 1
    for n in range(50):
        Project.objects.create(key="P" + chr(65 + n // 26) + chr(65 + n % 26), name=f"P{n}")
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/v1/projects/?page_size=200").json()["results"]) == 51


def test_project_list_search(api_as, people):
    Project.objects.create(key="DATA", name="Data platform")
    response = api_as("executive").get("/api/v1/projects/?q=platform")
    assert [p["key"] for p in response.json()["results"]] == ["DATA"]


def test_project_create_makes_caller_owner(api_as, people):
    response = api_as("outsider").post(
        "/api/v1/projects/",
        {
            "key": "NEW",
            "name": "New thing",
            "methodology": "kanban",
            "timezone": "Europe/Berlin",
            "working_days": [0, 1, 2, 3],
            "start_date": "2026-01-05",
            "target_date": "2026-06-30",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "NEW"
    assert body["role"] == "owner"
    assert body["working_days"] == [0, 1, 2, 3]
    assert body["version"] == 1
    project = Project.objects.get(key="NEW")
    assert project.memberships.get().user == people["outsider"]
    assert project.memberships.get().role == "owner"


def test_project_create_anonymous_is_401(api_as, people):
    assert (
        api_as("anonymous")
        .post("/api/v1/projects/", {"key": "NEW", "name": "x"}, format="json")
        .status_code
        == 401
    )
    assert not Project.objects.filter(key="NEW").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"key": "m", "name": "x"}, "key"),
        ({"key": "mig2", "name": "x"}, "key"),
        ({"key": "A", "name": "x"}, "key"),
        ({"key": "ABCDEFGHIJK", "name": "x"}, "key"),
        ({"key": "AB-C", "name": "x"}, "key"),
        ({"key": "MIG", "name": "duplicate"}, "key"),
        ({"key": "NEW"}, "name"),
        ({"key": "NEW", "name": "   "}, "name"),
        ({"key": "NEW", "name": "x", "methodology": "chaos"}, "methodology"),
        ({"key": "NEW", "name": "x", "timezone": "Mars/Olympus"}, "timezone"),
        ({"key": "NEW", "name": "x", "working_days": []}, "working_days"),
        ({"key": "NEW", "name": "x", "working_days": [7]}, "working_days"),
        (
            {"key": "NEW", "name": "x", "start_date": "2026-05-01", "target_date": "2026-04-01"},
            "target_date",
        ),
        ({"key": "NEW", "name": "x", "start_date": "not a date"}, "start_date"),
    ],
)
def test_project_create_bad_input_is_400_and_changes_nothing(api_as, people, payload, field):
    before = Project.objects.count()
    response = api_as("owner").post("/api/v1/projects/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Project.objects.count() == before
    assert Membership.objects.filter(project__key="NEW").count() == 0


def test_malformed_json_is_400(api_as, people):
    response = api_as("owner").generic(
        "POST", "/api/v1/projects/", '{"key": "NEW", ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Project.objects.filter(key="NEW").exists()


def test_wrong_content_type_is_400(api_as, people):
    response = api_as("owner").generic(
        "POST",
        "/api/v1/projects/",
        "key=NEW&name=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "application/json" in response.json()["detail"]
    assert not Project.objects.filter(key="NEW").exists()


def test_project_patch_with_stale_version_is_409_with_current(api_as, project, people):
    client = api_as("owner")
    assert (
        client.patch(
            "/api/v1/projects/MIG/", {"name": "First", "version": 1}, format="json"
        ).status_code
        == 200
    )
    response = client.patch(
        "/api/v1/projects/MIG/", {"name": "Second", "version": 1}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert body["current"]["name"] == "First"
    assert body["current"]["version"] == 2
    project.refresh_from_db()
    assert (project.name, project.version) == ("First", 2)


def test_project_patch_with_if_match(api_as, project, people):
    client = api_as("owner")
    etag = client.get("/api/v1/projects/MIG/")["ETag"]
    ok = client.patch(
        "/api/v1/projects/MIG/", {"phase": "closing"}, format="json", HTTP_IF_MATCH=etag
    )
    assert ok.status_code == 200
    assert ok["ETag"] != etag
    stale = client.patch(
        "/api/v1/projects/MIG/", {"phase": "planning"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    assert stale.json()["current"]["phase"] == "closing"
    project.refresh_from_db()
    assert project.phase == "closing"


def test_project_key_cannot_change(api_as, project, people):
    response = api_as("owner").patch(
        "/api/v1/projects/MIG/", {"key": "NEW", "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "key" in response.json()
    project.refresh_from_db()
    assert (project.key, project.name) == ("MIG", "Move billing to the cloud")


def test_unknown_project_is_404(api_as, people):
    assert api_as("executive").get("/api/v1/projects/NOPE/").status_code == 404


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("phase=planning", ["DATA"]),
        ("methodology=kanban", ["OPS"]),
        ("q=mig", ["MIG"]),
        ("phase=executing&methodology=scrum", ["MIG"]),
    ],
)
def test_project_list_filters(api_as, people, query, keys):
    Project.objects.create(key="DATA", name="Data", phase="planning", methodology="scrum")
    Project.objects.create(key="OPS", name="Ops", phase="closing", methodology="kanban")
    response = api_as("executive").get(f"/api/v1/projects/?{query}")
    assert [p["key"] for p in response.json()["results"]] == keys


def test_project_list_bad_filter_value_is_400(api_as, people):
    response = api_as("owner").get("/api/v1/projects/?phase=dreaming")
    assert response.status_code == 400
    assert "phase" in response.json()
