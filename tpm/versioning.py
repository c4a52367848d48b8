"""Optimistic concurrency: one conditional UPDATE per write, never read-then-compare."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import F

from tpm.errors import StaleVersion

M = TypeVar("M", bound=models.Model)


def versioned_update(instance: M, *, expected_version: int | None, fields: list[str]) -> M:
    """Write ``fields`` of ``instance`` and bump ``version`` if the row is still at the version.

    ``expected_version`` None means the caller did not ask for a check (last write wins).
    Raises StaleVersion with the fresh row when another writer got there first.
    """
    model = type(instance)
    queryset = model._default_manager.filter(pk=instance.pk)
    if expected_version is not None:
        queryset = queryset.filter(version=expected_version)
    changes: dict[str, Any] = {name: getattr(instance, name) for name in fields}
    updated = queryset.update(**changes, version=F("version") + 1)
    if updated == 0:
        raise StaleVersion(current=model._default_manager.get(pk=instance.pk))
    if expected_version is not None:
        instance.version = expected_version + 1  # type: ignore[attr-defined]
    else:
        instance.refresh_from_db(fields=["version"])
    return instance
