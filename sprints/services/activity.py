"""Work logs and comments on items."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sprints.models import Comment, WorkItem, WorkLog
from tpm.events import project_changed
from tpm.models import User

MAX_COMMENT = 20000


@transaction.atomic
def worklog_create(
    *, actor: User, item: WorkItem, hours: Any, date_: date | None = None, note: str = ""
) -> WorkLog:
    """Log time on an item: more than 0 and at most 24 hours, not on a future day."""
    try:
        amount = Decimal(str(hours))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"hours": ["Enter a number of hours."]}) from exc
    if not amount.is_finite() or amount <= 0 or amount > 24:
        raise ValidationError({"hours": ["Log more than 0 and at most 24 hours."]})
    today = timezone.now().astimezone(ZoneInfo(item.project.timezone)).date()
    day = date_ or today
    if day > today + timedelta(days=1):
        raise ValidationError({"date": ["Time cannot be logged on a future day."]})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": ["Use at most 500 characters."]})
    log = WorkLog.objects.create(
        item=item, user=actor, date=day, hours=amount.quantize(Decimal("0.01")), note=note
    )
    project_changed(item.project_id, reason="sprints.worklog.created")
    return log


@transaction.atomic
def comment_create(*, actor: User, item: WorkItem, body: str) -> Comment:
    """Comment on an item in Markdown (rendered safely when shown)."""
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ValidationError({"body": ["Write something."]})
    if len(body) > MAX_COMMENT:
        raise ValidationError({"body": [f"Use at most {MAX_COMMENT} characters."]})
    return Comment.objects.create(item=item, author=actor, body=body)
