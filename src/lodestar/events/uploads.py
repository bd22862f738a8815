"""A file uploaded to a deal and the fact it adds to the log: the one path of the page and the API.

Storing the file is the crm app's (`attachment_upload`), which sits below the log. An upload of
the kind the deal's playbook takes for meeting minutes (`scorecard.minutes_kind`) is also a
`minutes.uploaded` event — the one that closes the "upload the minutes" task — so it is appended
here, in the upload's transaction: whichever front the file comes through, the log shows it the
same way, and a file whose event cannot be logged is not kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.core.playbook.model import ScorecardPolicy
from lodestar.crm.attachments import attachment_upload
from lodestar.crm.models import Attachment, Opportunity
from lodestar.errors import PermissionDenied, ValidationFailed
from lodestar.events.services import events_append
from lodestar.org.models import User
from lodestar.org.selectors import actor_of
from lodestar.playbooks.selectors import compiled_for_version, playbook_for_deal

__all__ = ["deal_file_upload"]


def deal_file_upload(
    *,
    user: User,
    opportunity: Opportunity,
    kind: str,
    uploaded_file: Any,
    now: dt.datetime | None = None,
) -> Attachment:
    """Store a file on the deal (see `attachment_upload`) and log what it means.

    The caller fetched `opportunity` with `access_opportunity(…, for_write=True)`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        attachment = attachment_upload(
            user=user, opportunity=opportunity, kind=kind, uploaded_file=uploaded_file, now=now
        )
        if attachment.kind == _minutes_kind(opportunity):
            _log_minutes(user=user, attachment=attachment, now=now)
    return attachment


def _minutes_kind(opportunity: Opportunity) -> str:
    version = playbook_for_deal(opportunity)
    if version is None:
        return ScorecardPolicy().minutes_kind
    return compiled_for_version(version).playbook.scorecard.minutes_kind


def _log_minutes(*, user: User, attachment: Attachment, now: dt.datetime) -> None:
    actor = actor_of(user=user)
    if actor is None:  # `attachment_upload` has refused such a user already
        raise PermissionDenied()
    logged = events_append(
        actor=actor,
        user=user,
        items=[
            {
                "type": "minutes.uploaded",
                "source": "lodestar",
                "external_id": f"attachment:{attachment.pk}",
                "occurred_at": attachment.uploaded_at,
                "opportunity_id": attachment.opportunity_id,
                "payload": {"attachment_id": attachment.pk},
            }
        ],
        now=now,
    ).items[0]
    if logged.status == "rejected":
        # Rolls the upload back with the reason, rather than keep a file the log does not show.
        raise ValidationFailed(_("The upload could not be logged."), details=logged.details)
