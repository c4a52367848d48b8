import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories.tpm import PASSWORD, UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def test_login_page_signs_in_and_redirects_to_projects(alice):
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_wrong_password_shows_inline_error(alice):
    response = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_repeated_wrong_passwords_lock_the_account_on_that_address(alice):
    client = Client()
    for _ in range(10):
        client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    locked = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_token_endpoint_is_locked_after_repeated_wrong_passwords(alice):
    client = APIClient()
    for n in range(10):
        client.post(
            "/api/v1/auth/token/",
            {"username": "alice", "password": "nope", "name": f"t{n}"},
            format="json",
        )
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD, "name": "real"},
        format="json",
    )
    assert response.status_code == 429
    assert "Too many failed attempts" in response.json()["detail"]


def test_logout_requires_post_and_ends_the_session(alice):
    client = Client()
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_page_changes_the_password(alice):
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-passphrase-42",
            "new_password2": "a-much-better-passphrase-42",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-much-better-passphrase-42")


def test_password_change_rejects_mismatch_inline(alice):
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-passphrase-42",
            "new_password2": "different-passphrase-42",
        },
    )
    assert response.status_code == 200
    assert "field-errors" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
