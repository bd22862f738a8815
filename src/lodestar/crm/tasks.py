"""Huey tasks of the crm app: reading the text of uploaded attachments off the request path.

Tasks take ids, never model instances: the row is the truth, re-read when the task runs.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lodestar.crm.attachments import attachment_extract_text, attachment_pending_ids
from lodestar.crm.extraction import limits

__all__ = ["extract_attachment_text", "sweep_pending_attachments"]


@db_task()
def extract_attachment_text(attachment_id: int) -> str:
    status = attachment_extract_text(attachment_id=attachment_id)
    return str(status) if status is not None else "skipped"


@db_periodic_task(crontab(minute="*/10"))
def sweep_pending_attachments() -> int:
    """Every ten minutes: queue again what has been pending for longer than two extraction
    budgets (a lost enqueue, a killed worker); a run that finds the row done does nothing."""
    cutoff = timezone.now() - dt.timedelta(seconds=2 * limits().seconds)
    ids = attachment_pending_ids(older_than=cutoff)
    for attachment_id in ids:
        extract_attachment_text(attachment_id)
    return len(ids)
