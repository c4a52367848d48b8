"""Permission matrices: the expected status per role, shared by every API and page test."""

from __future__ import annotations

PROJECT_ROLES = ("owner", "member", "viewer", "executive")


def api_matrix(*allowed: str, ok: int = 200) -> list[tuple[str, int]]:
    """(role, status) over REST: ``ok`` for ``allowed``, 403 for other visible roles,
    404 for an outsider (the project's existence does not leak), 401 when anonymous."""
    rows = [(role, ok if role in allowed else 403) for role in PROJECT_ROLES]
    return [*rows, ("outsider", 404), ("anonymous", 401)]


def page_matrix(*allowed: str, ok: int = 200) -> list[tuple[str, int]]:
    """(role, status) for pages: as ``api_matrix`` but anonymous is sent to log in (302)."""
    return [
        (role, 302 if role == "anonymous" else code) for role, code in api_matrix(*allowed, ok=ok)
    ]
