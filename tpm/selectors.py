"""Core reads."""

from __future__ import annotations

from django.db.models import F, QuerySet

from tpm.models import ApiToken, User


def api_token_list_for_profile(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, active first, newest first (bounded by the 50-active rule + history)."""
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at"
    )[:200]
