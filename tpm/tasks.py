"""Core Celery tasks."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from tpm import events

logger = logging.getLogger(__name__)


@shared_task(
    name="tpm.reconcile_stale_metrics",
    acks_late=True,
    soft_time_limit=120,
    autoretry_for=(OperationalError, RedisConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def reconcile_stale_metrics() -> dict[str, int]:
    """Beat task: recompute whatever the outbox still marks stale (lost messages, dead workers)."""
    result = events.reconcile()
    if result["stale"]:
        logger.info("reconcile re-dispatched %s stale projects", result["stale"])
    return result
