"""Writes of alerts and exemptions.

Alerts are keyed by `dedupe_key` (e.g. `deal:12:silence`, `task:40:overdue`): while an alert with
that key is open or acknowledged, raising it again changes nothing, and it resolves itself when
the condition clears (`alert_resolve`). Every new alert also goes to the recipient's inbox and
channels through the notification outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from lodestar.crm.models import Opportunity
from lodestar.insights.models import Alert, AlertStatus
from lodestar.integrations.services import notify
from lodestar.org.models import Organization, User

__all__ = ["alert_raise", "alert_resolve", "alerts_resolve_except"]

_LIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


@transaction.atomic
def alert_raise(
    *,
    organization: Organization,
    kind: str,
    recipient: User,
    dedupe_key: str,
    message_zh: str,
    message_en: str,
    opportunity: Opportunity | None = None,
    subject_user: User | None = None,
    link: str = "",
    now: dt.datetime | None = None,
) -> Alert | None:
    """Open an alert unless one with the same key and recipient is still live; None then."""
    live = Alert.objects.select_for_update().filter(
        organization=organization, dedupe_key=dedupe_key, recipient=recipient, status__in=_LIVE
    )
    if live.exists():
        return None
    now = now or timezone.now()
    alert = Alert.objects.create(
        organization=organization,
        kind=kind,
        opportunity=opportunity,
        subject_user=subject_user,
        recipient=recipient,
        dedupe_key=dedupe_key,
        message_zh=message_zh,
        message_en=message_en,
        raised_at=now,
    )
    notify(
        organization=organization,
        recipient=recipient,
        title=message_zh,
        body=message_en,
        link=link,
        cause_key=f"alert:{alert.pk}",
        now=now,
    )
    return alert


def alert_resolve(
    *, organization_id: int, dedupe_keys: Iterable[str], now: dt.datetime | None = None
) -> int:
    """Resolve the live alerts with these keys: their condition has cleared."""
    return Alert.objects.filter(
        organization_id=organization_id, dedupe_key__in=list(dedupe_keys), status__in=_LIVE
    ).update(status=AlertStatus.RESOLVED, resolved_at=now or timezone.now())


def alerts_resolve_except(
    *, organization_id: int, kind: str, still_true: set[str], now: dt.datetime | None = None
) -> int:
    """Resolve every live alert of `kind` whose key is not among the conditions still true."""
    return (
        Alert.objects.filter(organization_id=organization_id, kind=kind, status__in=_LIVE)
        .exclude(dedupe_key__in=still_true)
        .update(status=AlertStatus.RESOLVED, resolved_at=now or timezone.now())
    )
