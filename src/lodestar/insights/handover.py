"""The insights app's part of handing a departing member's work to a successor
(`lodestar.org.members.member_deactivate`, registered in `LODESTAR_MEMBER_HANDOVER_STEPS`)."""

from __future__ import annotations

import datetime as dt

from lodestar.insights.alerts import LIVE_STATUSES
from lodestar.insights.models import Alert, AlertStatus

__all__ = ["hand_over_alerts"]


def hand_over_alerts(
    *, organization_id: int, from_user_id: int, to_user_id: int, now: dt.datetime
) -> dict[str, int]:
    """Give the live (open or acknowledged) alerts addressed to `from_user_id` to `to_user_id`,
    as they stand: an alert the successor already has live under the same key is not doubled —
    the departing member's copy is resolved instead. Resolved alerts stay as history."""
    live = Alert.objects.filter(organization_id=organization_id, status__in=LIVE_STATUSES)
    theirs = live.filter(recipient_id=from_user_id)
    already = set(live.filter(recipient_id=to_user_id).values_list("dedupe_key", flat=True))
    resolved = theirs.filter(dedupe_key__in=already).update(
        status=AlertStatus.RESOLVED, resolved_at=now
    )
    moved = theirs.exclude(dedupe_key__in=already).update(recipient_id=to_user_id)
    return {"alerts": moved + resolved}
