"""Huey tasks of the crm app: reading the text of uploaded attachments off the request path.

Tasks take ids, never model instances: the row is the truth, re-read when the task runs.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lodestar.crm.attachments import attachment_extract_text, attachment_pending_ids
from lodestar.crm.extraction import limits

__all__ = ["extract_attachment_text", "sweep_pending_attachments"]


@db_task()
def extract_attachment_text(attachment_id: int) -> str:
    """Read the file's text, then run the steps that wait for it (`LODESTAR_TEXT_READ_STEPS`:
    the apps above the deals register there, e.g. the minutes task closing)."""
    status = attachment_extract_text(attachment_id=attachment_id)
    if status is None:
        return "skipped"
    for path in settings.LODESTAR_TEXT_READ_STEPS:
        import_string(path)(attachment_id=attachment_id)
    return str(status)


@db_periodic_task(crontab(minute="*/10"))
def sweep_pending_attachments() -> int:
    """Every ten minutes: queue again what has been pending for longer than two extraction
    budgets (a lost enqueue, a killed worker); a run that finds the row done does nothing."""
    cutoff = timezone.now() - dt.timedelta(seconds=2 * limits().seconds)
    ids = attachment_pending_ids(older_than=cutoff)
    for attachment_id in ids:
        extract_attachment_text(attachment_id)
    return len(ids)
