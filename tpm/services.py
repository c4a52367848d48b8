"""Core writes: personal API tokens."""

from __future__ import annotations

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tpm.models import ApiToken, User

TOKEN_NAME_MAX = 100
ACTIVE_TOKENS_MAX = 50


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal token for ``actor``; returns the row and the key, shown only once.

    Rules: a non-empty name of at most 100 characters, unique among the user's active tokens;
    at most 50 active tokens per user. Only the key's SHA-256 digest is stored.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError(
            {"name": ["Give the token a name, e.g. the laptop or script using it."]}
        )
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError({"name": [f"Use at most {TOKEN_NAME_MAX} characters."]})
    User.objects.select_for_update().filter(pk=actor.pk).first()  # serialise a user's token writes
    active = ApiToken.objects.active().filter(user=actor)
    if active.filter(name=name).exists():
        raise ValidationError({"name": [f"You already have an active token named {name!r}."]})
    if active.count() >= ACTIVE_TOKENS_MAX:
        raise ValidationError(
            {"name": [f"Revoke a token first: at most {ACTIVE_TOKENS_MAX} are active."]}
        )
    key = ApiToken.generate_key()
    with pghistory.context(user=actor.pk):
        try:
            token = ApiToken.objects.create(
                user=actor, name=name, prefix=key[:12], digest=ApiToken.digest_for(key)
            )
        except IntegrityError as exc:  # a concurrent request created the same name
            raise ValidationError(
                {"name": [f"You already have an active token named {name!r}."]}
            ) from exc
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens. Revoking is final; revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().filter(user=actor, pk=token_id).first()
    if token is None:
        raise ValidationError({"token": ["No such token."]})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
