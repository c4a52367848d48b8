import pytest

from projects.models import Membership
from tests.factories.tpm import UserFactory

MATRIX_READ = [
    ("owner", 200),
    ("member", 200),
    ("viewer", 200),
    ("executive", 200),
    ("outsider", 404),
    ("anonymous", 401),
]


@pytest.mark.parametrize(("role", "expected"), MATRIX_READ)
def test_member_list_access(api_as, role, expected):
    response = api_as(role).get("/api/v1/projects/MIG/members/")
    assert response.status_code == expected
    if expected == 200:
        rows = response.json()["results"]
        assert {(r["username"], r["role"]) for r in rows} == {
            ("owner", "owner"),
            ("member", "member"),
            ("viewer", "viewer"),
        }


def test_member_rates_visible_to_owners_only(api_as, project, people):
    Membership.objects.filter(user=people["member"]).update(hourly_rate=95)
    owner_rows = {
        r["username"]: r
        for r in api_as("owner").get("/api/v1/projects/MIG/members/").json()["results"]
    }
    member_rows = {
        r["username"]: r
        for r in api_as("member").get("/api/v1/projects/MIG/members/").json()["results"]
    }
    assert owner_rows["member"]["hourly_rate"] == "95.00"
    assert member_rows["member"]["hourly_rate"] is None


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", 201),
        ("member", 403),
        ("viewer", 403),
        ("executive", 403),
        ("outsider", 404),
        ("anonymous", 401),
    ],
)
def test_member_add_access(api_as, project, role, expected):
    newcomer = UserFactory(username="newcomer")
    response = api_as(role).post(
        "/api/v1/projects/MIG/members/",
        {
            "user": newcomer.pk,
            "role": "member",
            "hourly_rate": "80.00",
            "capacity_hours_per_week": "20",
        },
        format="json",
    )
    assert response.status_code == expected
    assert Membership.objects.filter(project=project, user=newcomer).exists() == (expected == 201)
    if expected == 201:
        body = response.json()
        assert body["user"] == newcomer.pk
        assert body["hourly_rate"] == "80.00"
        assert body["capacity_hours_per_week"] == "20.0"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", 200),
        ("member", 403),
        ("viewer", 403),
        ("executive", 403),
        ("outsider", 404),
        ("anonymous", 401),
    ],
)
def test_member_patch_access(api_as, project, people, role, expected):
    url = f"/api/v1/projects/MIG/members/{people['viewer'].pk}/"
    response = api_as(role).patch(url, {"role": "member"}, format="json")
    assert response.status_code == expected
    assert Membership.objects.get(user=people["viewer"]).role == (
        "member" if expected == 200 else "viewer"
    )


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
def test_member_delete_access(api_as, project, people, role, expected):
    url = f"/api/v1/projects/MIG/members/{people['viewer'].pk}/"
    response = api_as(role).delete(url)
    assert response.status_code == expected
    assert Membership.objects.filter(user=people["viewer"]).exists() == (expected != 204)


def test_member_add_by_username(api_as, project):
    UserFactory(username="newcomer")
    response = api_as("owner").post(
        "/api/v1/projects/MIG/members/", {"user": "newcomer", "role": "viewer"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["role"] == "viewer"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"user": 999999, "role": "member"}, "user"),
        ({"user": "nobody", "role": "member"}, "user"),
        ({"user": None, "role": "member"}, "user"),
        ({"role": "member"}, "user"),
        ({"user": "member", "role": "member"}, "user"),
        ({"user": "newcomer", "role": "admin"}, "role"),
        ({"user": "newcomer", "hourly_rate": "-1"}, "hourly_rate"),
        ({"user": "newcomer", "capacity_hours_per_week": "169"}, "capacity_hours_per_week"),
        ({"user": "newcomer", "hourly_rate": "lots"}, "hourly_rate"),
    ],
)
def test_member_add_bad_input_is_400_and_changes_nothing(api_as, project, payload, field):
    UserFactory(username="newcomer")
    before = list(Membership.objects.order_by("pk").values_list("pk", "role"))
    response = api_as("owner").post("/api/v1/projects/MIG/members/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert list(Membership.objects.order_by("pk").values_list("pk", "role")) == before


def test_last_owner_cannot_be_demoted_or_removed(api_as, project, people):
    client = api_as("owner")
    url = f"/api/v1/projects/MIG/members/{people['owner'].pk}/"
    demote = client.patch(url, {"role": "member"}, format="json")
    assert demote.status_code == 409
    assert demote.json()["code"] == "last_owner"
    remove = client.delete(url)
    assert remove.status_code == 409
    assert Membership.objects.get(user=people["owner"]).role == "owner"


def test_owner_can_step_down_once_another_owner_exists(api_as, project, people):
    client = api_as("owner")
    assert (
        client.patch(
            f"/api/v1/projects/MIG/members/{people['member'].pk}/", {"role": "owner"}, format="json"
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"/api/v1/projects/MIG/members/{people['owner'].pk}/", {"role": "member"}, format="json"
        ).status_code
        == 200
    )
    assert Membership.objects.get(user=people["owner"]).role == "member"


def test_member_of_other_project_is_404(api_as, project, people):
    assert (
        api_as("owner")
        .patch("/api/v1/projects/MIG/members/424242/", {"role": "viewer"}, format="json")
        .status_code
        == 404
    )


def test_member_list_query_count_is_fixed(api_as, project, django_assert_max_num_queries):
    client = api_as("owner")
    with django_assert_max_num_queries(6):
        client.get("/api/v1/projects/MIG/members/?page_size=200")
    for n in range(50):
        Membership.objects.create(project=project, user=UserFactory(username=f"bulk{n}"))
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/projects/MIG/members/?page_size=200").json()["count"] == 53
