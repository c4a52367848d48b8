"""Worker tasks of the projects app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from projects.services import project_summary_refresh
from tpm import events

logger = logging.getLogger(__name__)

SUMMARY_KIND = "project_summary"


@shared_task(
    name="projects.refresh_project_summary",
    acks_late=True,
    soft_time_limit=60,
    autoretry_for=(OperationalError, RedisConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def refresh_project_summary(project_id: int) -> None:
    """Rebuild one project's summary row from memberships. Safe to run twice or after a crash."""
    started_at = events.recompute_started(SUMMARY_KIND, project_id)
    if not project_summary_refresh(project_id=project_id):
        logger.info("project %s is gone; nothing to summarise", project_id)
    events.metric_computed(SUMMARY_KIND, project_id, started_at=started_at)
