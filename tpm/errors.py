"""Domain errors raised by services and mapped to HTTP by tpm.api.exceptions and page views."""

from __future__ import annotations

from typing import Any


class Conflict(Exception):
    """The request is well formed but clashes with the current state (answered with 409)."""

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class StaleVersion(Conflict):
    """An update carried a version older than the stored one; ``current`` is the fresh object."""

    def __init__(self, current: Any, message: str | None = None) -> None:
        super().__init__(
            message
            or "This object was changed by someone else. Reload it and apply your change again.",
            code="stale_version",
        )
        self.current = current


class PreconditionFailed(StaleVersion):
    """An ``If-Match`` header named an ETag that no longer matches (answered with 412)."""
