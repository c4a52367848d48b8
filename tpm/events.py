"""The domain-event hook: "project data changed" and the metric outbox.

A service calls ``project_changed(project_id, reason=...)`` inside its transaction. That marks
the project stale in the outbox table (same transaction, so nothing is lost when Redis or a
worker is down) and, after commit, hands the project to every subscriber. Subscribers are
registered by higher apps in ``AppConfig.ready`` with ``subscribe(kind, task)``; each enqueue
is coalesced through a Redis key so a burst of changes runs a handful of recomputations.
Recompute tasks call ``metric_computed`` when done; ``reconcile`` (beat) re-dispatches what
stays stale, which covers lost messages and crashed workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from tpm.models import StaleProject

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscriber:
    kind: str
    task: Any  # a Celery task taking (project_id,)


_subscribers: dict[str, Subscriber] = {}
_created_hooks: list[Any] = []


def on_project_created(hook: Any) -> None:
    """Register ``hook(project, actor)``, run inside the creating transaction (default statuses).

    Higher apps use it for rows every project must have from its first moment; anything
    derived belongs in a ``subscribe``d task instead.
    """
    if hook not in _created_hooks:
        _created_hooks.append(hook)


def project_created(project: Any, *, actor: Any) -> None:
    """Called by the project service inside its transaction, after the project row exists."""
    for hook in _created_hooks:
        hook(project, actor)


def subscribe(kind: str, task: Any) -> None:
    """Register ``task`` to recompute metric ``kind`` of a project after its data changed."""
    _subscribers[kind] = Subscriber(kind=kind, task=task)


def subscribers() -> list[Subscriber]:
    return list(_subscribers.values())


def coalesce_key(kind: str, project_id: int) -> str:
    return f"recompute:{kind}:{project_id}"


def project_changed(project_id: int, *, reason: str) -> None:
    """Mark a project's metrics stale now and dispatch recomputation after commit.

    Must be called inside the service's transaction. Reasons read "<app>.<entity>.<past verb>".
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tpm_staleproject (project_id, marked_at, reasons, dispatched_at)
            VALUES (%s, clock_timestamp(), jsonb_build_array(%s::text), NULL)
            ON CONFLICT (project_id) DO UPDATE SET
                marked_at = EXCLUDED.marked_at,
                dispatched_at = NULL,
                reasons = CASE
                    WHEN tpm_staleproject.reasons @> EXCLUDED.reasons THEN tpm_staleproject.reasons
                    ELSE (tpm_staleproject.reasons || EXCLUDED.reasons) END
            """,
            [project_id, reason],
        )
    transaction.on_commit(lambda: dispatch(project_id), robust=True)


def dispatch(project_id: int, kinds: list[str] | None = None) -> int:
    """Enqueue (coalesced) recomputation for a project; returns how many tasks were enqueued."""
    enqueued = 0
    for sub in subscribers():
        if kinds is not None and sub.kind not in kinds:
            continue
        try:
            if cache.add(coalesce_key(sub.kind, project_id), 1, timeout=300):
                sub.task.apply_async((project_id,), countdown=settings.TPM_COALESCE_COUNTDOWN)
                enqueued += 1
        except Exception:  # Redis down: the outbox row stays, reconcile picks it up.
            logger.exception("could not enqueue %s for project %s", sub.kind, project_id)
    StaleProject.objects.filter(project_id=project_id, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    return enqueued


def recompute_started(kind: str, project_id: int) -> datetime:
    """First step of every recompute task: drop the coalescing key, note the start time.

    Dropping the key first means a change landing while the task runs schedules one more pass.
    """
    cache.delete(coalesce_key(kind, project_id))
    return timezone.now()


_METRIC_LOCK = 0x74706D  # "tpm": the advisory lock space of metric_computed


def metric_computed(kind: str, project_id: int, *, started_at: datetime) -> None:
    """Record a finished recompute and clear the outbox row once every kind is fresh."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Two kinds finishing at once would each miss the other's uncommitted run and leave
        # the outbox row behind; finishing runs of one project take turns.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_METRIC_LOCK, project_id])
        cursor.execute(
            """
            INSERT INTO tpm_metricrun (project_id, kind, computed_at, runs)
            VALUES (%s, %s, %s, 1)
            ON CONFLICT (project_id, kind) DO UPDATE SET
                computed_at = GREATEST(tpm_metricrun.computed_at, EXCLUDED.computed_at),
                runs = tpm_metricrun.runs + 1
            """,
            [project_id, kind, started_at],
        )
        _clear_fresh(cursor, [project_id])


def _clear_fresh(cursor: Any, project_ids: list[int]) -> None:
    kinds = sorted(_subscribers)
    if not kinds:
        cursor.execute("DELETE FROM tpm_staleproject WHERE project_id = ANY(%s)", [project_ids])
        return
    cursor.execute(
        """
        DELETE FROM tpm_staleproject s
        WHERE s.project_id = ANY(%s)
          AND (SELECT count(*) FROM tpm_metricrun r
               WHERE r.project_id = s.project_id AND r.kind = ANY(%s)
                 AND r.computed_at >= s.marked_at) = %s
        """,
        [project_ids, kinds, len(kinds)],
    )


def reconcile(*, older_than: timedelta | None = None) -> dict[str, int]:
    """Re-dispatch stale projects whose recompute never finished; clear the fresh ones.

    Set-based: one query finds, per stale project, the kinds not computed since it was marked.
    """
    age = (
        older_than
        if older_than is not None
        else timedelta(seconds=settings.TPM_STALE_AFTER_SECONDS)
    )
    cutoff = timezone.now() - age
    kinds = sorted(_subscribers)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.project_id, k.kind
            FROM tpm_staleproject s
            CROSS JOIN unnest(%s::text[]) AS k(kind)
            LEFT JOIN tpm_metricrun r ON r.project_id = s.project_id AND r.kind = k.kind
            WHERE s.marked_at <= %s AND (r.computed_at IS NULL OR r.computed_at < s.marked_at)
            ORDER BY s.project_id
            """,
            [kinds, cutoff],
        )
        pending: dict[int, list[str]] = {}
        for project_id, kind in cursor.fetchall():
            pending.setdefault(project_id, []).append(kind)
        cursor.execute("SELECT project_id FROM tpm_staleproject WHERE marked_at <= %s", [cutoff])
        all_old = [row[0] for row in cursor.fetchall()]
        _clear_fresh(cursor, [pid for pid in all_old if pid not in pending])
    enqueued = 0
    for project_id, project_kinds in pending.items():
        for kind in project_kinds:
            cache.delete(coalesce_key(kind, project_id))  # a lost message leaves its key behind
        enqueued += dispatch(project_id, project_kinds)
    return {"stale": len(pending), "enqueued": enqueued}
