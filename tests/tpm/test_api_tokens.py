import pytest
from rest_framework.test import APIClient

from tests.factories.tpm import PASSWORD, UserFactory
from tpm.models import ApiToken


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", email="alice@example.com")


def _create(client: APIClient, **overrides):
    payload = {"username": "alice", "password": PASSWORD, "name": "laptop", **overrides}
    return client.post("/api/v1/auth/token/", payload, format="json")


def test_token_create_returns_key_once_and_stores_only_digest(alice):
    response = _create(APIClient())
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "laptop"
    key = body["token"]
    assert key.startswith("tpm_")
    token = ApiToken.objects.get(user=alice)
    assert token.digest == ApiToken.digest_for(key)
    assert key not in {token.digest, token.prefix, token.name}
    assert token.prefix == key[:12]


def test_token_authenticates_me_endpoint(alice):
    key = _create(APIClient()).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": alice.first_name,
        "last_name": alice.last_name,
        "is_executive": False,
    }
    assert ApiToken.objects.get(user=alice).last_used_at is not None


def test_revoked_token_is_refused(alice):
    from tpm.services import api_token_revoke

    key = _create(APIClient()).json()["token"]
    api_token_revoke(actor=alice, token_id=ApiToken.objects.get().pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 401


def test_token_of_inactive_user_is_refused(alice):
    key = _create(APIClient()).json()["token"]
    alice.is_active = False
    alice.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token tpm_not-a-real-key"])
def test_bad_token_header_is_401(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_me_anonymous_is_401(db):
    assert APIClient().get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "wrong"}, "non_field_errors"),
        ({"username": "nobody"}, "non_field_errors"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"password": None}, "password"),
    ],
)
def test_token_create_bad_input_is_400_and_creates_nothing(alice, overrides, field):
    response = _create(APIClient(), **overrides)
    assert response.status_code == 400
    assert field in response.json()
    assert ApiToken.objects.count() == 0


def test_token_names_are_unique_among_active_tokens(alice):
    assert _create(APIClient()).status_code == 201
    duplicate = _create(APIClient())
    assert duplicate.status_code == 400
    assert "already have an active token" in duplicate.json()["name"][0]
    assert ApiToken.objects.count() == 1


def test_token_create_is_throttled(alice):
    client = APIClient()
    # different unknown users, so the per-user lockout does not answer first
    codes = [_create(client, username=f"nobody{n}").status_code for n in range(21)]
    assert codes[:20] == [400] * 20
    assert codes[20] == 429
