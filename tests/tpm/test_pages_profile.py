"""The profile page and its personal API tokens: create (shown once), revoke, inline errors."""

from __future__ import annotations

import re
from html import unescape

import pytest
from rest_framework.test import APIClient

from tests.factories.tpm import UserFactory
from tpm.models import ApiToken
from tpm.services import api_token_create, api_token_revoke

PROFILE = "/accounts/profile/"
HTMX = {"HX-Request": "true"}
ALL_USERS = [
    ("owner", 200),
    ("member", 200),
    ("viewer", 200),
    ("executive", 200),
    ("outsider", 200),
    ("anonymous", 302),
]
# Same budget at 1 token and at 50: a per-row query would break it.
PROFILE_QUERIES = 3


def _tokens(user) -> list[tuple[str, bool]]:
    return [
        (t.name, t.revoked_at is None)
        for t in ApiToken.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _all_tokens() -> list[tuple]:
    return list(
        ApiToken.objects.order_by("pk").values_list("user_id", "name", "digest", "revoked_at")
    )


def _shown_key(html: str) -> str | None:
    match = re.search(r'<code id="new-token-key">([^<]+)</code>', html)
    return match[1] if match else None


def _token_names(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td class=\"mono\">", html)


def _name_errors(html: str) -> list[str]:
    match = re.search(r'<ul class="field-errors" id="token-name-errors">(.*?)</ul>', html, re.S)
    assert match, "no inline error list for the token name"
    return re.findall(r"<li>(.*?)</li>", match[1], re.S)


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), ALL_USERS)
def test_profile_page_access(page_as, people, role, expected):
    response = page_as(role).get(PROFILE)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.url == f"/accounts/login/?next={PROFILE}"
        return
    html = response.content.decode()
    user = people[role]
    headings = re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
    assert [unescape(h) for h in headings] == [user.display_name]
    assert ("executive: reads every project" in html) is (role == "executive")


@pytest.mark.parametrize(("role", "expected"), ALL_USERS)
def test_token_create_access(page_as, people, role, expected):
    response = page_as(role).post(PROFILE, {"name": "laptop"})
    assert response.status_code == expected
    if role == "anonymous":
        assert response.url == f"/accounts/login/?next={PROFILE}"
        assert ApiToken.objects.count() == 0
    else:
        assert _tokens(people[role]) == [("laptop", True)]
        assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 302), ("outsider", 302), ("executive", 302), ("anonymous", 302)],
)
def test_token_revoke_access_to_own_token(page_as, people, role, expected):
    holder = people[role] or UserFactory(username="holder")
    token, _ = api_token_create(actor=holder, name="laptop")
    response = page_as(role).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == expected
    if role == "anonymous":
        assert response.url == f"/accounts/login/?next=/accounts/tokens/{token.pk}/revoke/"
        assert _tokens(holder) == [("laptop", True)]
    else:
        assert response.url == PROFILE
        assert _tokens(holder) == [("laptop", False)]


def test_profile_lists_only_the_users_own_tokens(page_as, people):
    api_token_create(actor=people["member"], name="member laptop")
    api_token_create(actor=people["owner"], name="owner CI")
    html = page_as("member").get(PROFILE).content.decode()
    assert _token_names(html) == ["member laptop"]
    assert "owner CI" not in html


# --- create --------------------------------------------------------------------------------------


def test_token_create_shows_the_key_once_and_stores_only_its_digest(page_as, people):
    client = page_as("member")
    response = client.post(PROFILE, {"name": "  CI pipeline "})
    assert response.status_code == 200
    html = response.content.decode()
    key = _shown_key(html)
    assert key is not None
    assert key.startswith("tpm_")
    assert "Copy your new token now." in html
    token = ApiToken.objects.get(user=people["member"])
    assert (token.name, token.prefix, token.digest) == (
        "CI pipeline",
        key[:12],
        ApiToken.digest_for(key),
    )
    assert key not in {token.name, token.prefix, token.digest}
    assert _token_names(html) == ["CI pipeline"]
    # The name field is cleared for the next token.
    assert re.search(
        r'<input type="text" id="token-name" name="name" maxlength="100" value=""', html
    )

    again = client.get(PROFILE).content.decode()
    assert _shown_key(again) is None
    assert key not in again
    assert f"{key[:12]}…" in again


def test_token_created_on_the_profile_page_authenticates_the_api(page_as, people):
    key = _shown_key(page_as("member").post(PROFILE, {"name": "terminal"}).content.decode())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "member"


def test_token_create_via_htmx_returns_the_token_panel(page_as, people):
    response = page_as("viewer").post(PROFILE, {"name": "laptop"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="token-panel"')
    assert "<html" not in html
    key = _shown_key(html)
    assert key is not None
    assert ApiToken.objects.get(user=people["viewer"]).digest == ApiToken.digest_for(key)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name, e.g. the laptop or script using it."),
        ("   ", "Give the token a name, e.g. the laptop or script using it."),
        ("x" * 101, "Use at most 100 characters."),
        ("laptop", "You already have an active token named &#x27;laptop&#x27;."),
    ],
    ids=["empty", "blank", "too-long", "duplicate"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_token_create_bad_name_is_400_with_inline_error_and_creates_nothing(
    page_as, people, name, message, htmx
):
    api_token_create(actor=people["member"], name="laptop")
    before = _all_tokens()
    response = page_as("member").post(PROFILE, {"name": name}, headers=HTMX if htmx else {})
    assert response.status_code == 400
    html = response.content.decode()
    assert ("<html" in html) is not htmx
    assert 'id="token-panel"' in html
    assert _name_errors(html) == [message]
    assert 'aria-describedby="token-name-errors"' in html
    assert _shown_key(html) is None
    assert _all_tokens() == before


def test_token_create_refuses_a_51st_active_token(page_as, people):
    for n in range(50):
        api_token_create(actor=people["member"], name=f"script {n}")
    before = _all_tokens()
    response = page_as("member").post(PROFILE, {"name": "one more"}, headers=HTMX)
    assert response.status_code == 400
    assert _name_errors(response.content.decode()) == [
        "Revoke a token first: at most 50 are active."
    ]
    assert _all_tokens() == before


def test_token_name_is_escaped(page_as, people):
    api_token_create(actor=people["member"], name="<script>alert(1)</script>")
    html = page_as("member").get(PROFILE).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- revoke --------------------------------------------------------------------------------------


def test_token_revoke_marks_it_revoked_and_says_so(page_as, people):
    token, key = api_token_create(actor=people["member"], name="laptop")
    client = page_as("member")
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert response.url == PROFILE
    token.refresh_from_db()
    assert token.revoked_at is not None
    html = client.get(PROFILE).content.decode()
    assert "Token “laptop” revoked. Scripts using it stop working now." in html
    assert f'action="/accounts/tokens/{token.pk}/revoke/"' not in html
    assert '<span class="badge badge--muted">revoked ' in html
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


def test_token_revoke_via_htmx_asks_the_browser_to_refresh(page_as, people):
    token, _ = api_token_create(actor=people["member"], name="laptop")
    client = page_as("member")
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    token.refresh_from_db()
    assert token.revoked_at is not None
    # The confirmation waits for the refreshed page (not spent on the refresh response).
    assert b"revoked" not in response.content
    assert "Token “laptop” revoked." in client.get(PROFILE).content.decode()


def test_token_revoke_twice_keeps_the_first_revocation(page_as, people):
    token, _ = api_token_create(actor=people["member"], name="laptop")
    api_token_revoke(actor=people["member"], token_id=token.pk)
    token.refresh_from_db()
    first = token.revoked_at
    response = page_as("member").post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at == first


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_token_revoke_of_another_users_token_is_404_and_keeps_it_active(page_as, people, htmx):
    token, key = api_token_create(actor=people["owner"], name="owner CI")
    before = _all_tokens()
    response = page_as("member").post(
        f"/accounts/tokens/{token.pk}/revoke/", headers=HTMX if htmx else {}
    )
    assert response.status_code == 404
    assert _all_tokens() == before
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").json()["username"] == "owner"


def test_token_revoke_of_an_unknown_token_is_404(page_as, people):
    api_token_create(actor=people["member"], name="laptop")
    before = _all_tokens()
    response = page_as("member").post("/accounts/tokens/999999/revoke/")
    assert response.status_code == 404
    assert _all_tokens() == before


def test_token_revoke_answers_only_post(page_as, people):
    token, _ = api_token_create(actor=people["member"], name="laptop")
    response = page_as("member").get(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 405
    assert _tokens(people["member"]) == [("laptop", True)]


# --- empty state and query count -----------------------------------------------------------------


def test_profile_without_tokens_explains_what_they_are_for(page_as, people):
    html = page_as("member").get(PROFILE).content.decode()
    assert '<h2 class="empty-state__title">No tokens yet</h2>' in html
    assert "Create one to use the REST API from a terminal or CI." in html
    assert "<table" not in html


@pytest.mark.parametrize("count", [1, 50])
def test_profile_query_count_does_not_grow_with_tokens(
    page_as, people, count, django_assert_max_num_queries
):
    for n in range(count):
        token, _ = api_token_create(actor=people["member"], name=f"script {n}")
        if n % 2:
            api_token_revoke(actor=people["member"], token_id=token.pk)
    client = page_as("member")
    with django_assert_max_num_queries(PROFILE_QUERIES):
        response = client.get(PROFILE)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(_token_names(html)) == count
    assert html.count('class="btn btn--small btn--danger">Revoke</button>') == (count + 1) // 2
