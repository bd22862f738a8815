"""Alerts and overdue tasks in the outbound webhooks: `alert.raised`, `alert.resolved`,
`task.overdue`.

Called in the transaction that raised or resolved the alerts (or found the task overdue), so a
change that rolls back is never posted. Costs one query when no webhook of the organization
wants the event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from lodestar.automation.models import Task
from lodestar.automation.outbound_events import publish_task_events
from lodestar.crm.models import Opportunity
from lodestar.insights.models import Alert
from lodestar.integrations.outbound import WebhookEvent, webhooks_publish, webhooks_subscribed
from lodestar.integrations.outbound_events import deal_ref, user_ref
from lodestar.org.models import User

__all__ = ["alert_data", "alerts_raised", "alerts_resolved", "task_overdue"]


def alert_data(alert: Alert, *, recipient: User | None, deal: Opportunity | None) -> dict[str, Any]:
    """An alert as the payloads carry it: its sentence in both languages, whom it is for."""
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "status": alert.status,
        "message": {"zh": alert.message_zh, "en": alert.message_en or alert.message_zh},
        "recipient": user_ref(recipient),
        "subject_user_id": alert.subject_user_id,
        "deal": deal_ref(deal) if deal is not None else None,
        "raised_at": alert.raised_at,
        "resolved_at": alert.resolved_at,
    }


def _deals(alerts: Iterable[Alert]) -> dict[int, Opportunity]:
    ids = {alert.opportunity_id for alert in alerts if alert.opportunity_id is not None}
    return Opportunity.objects.select_related("account").in_bulk(ids) if ids else {}


def _publish(
    organization_id: int,
    event_type: str,
    alerts: Sequence[Alert],
    recipients: dict[int, User],
    now: dt.datetime,
) -> None:
    deals = _deals(alerts)
    webhooks_publish(
        organization_id=organization_id,
        event_type=event_type,
        events=[
            WebhookEvent(
                key=f"alert:{alert.pk}:{event_type.removeprefix('alert.')}",
                occurred_at=now,
                data={
                    "alert": alert_data(
                        alert,
                        recipient=recipients.get(alert.recipient_id),
                        deal=deals.get(alert.opportunity_id) if alert.opportunity_id else None,
                    )
                },
            )
            for alert in alerts
        ],
        now=now,
    )


def alerts_raised(
    *,
    organization_id: int,
    alerts: Sequence[Alert],
    recipients: Iterable[User],
    now: dt.datetime,
) -> None:
    """`alert.raised` for alerts just written (their recipients given, as the raiser has them)."""
    if not alerts or not webhooks_subscribed(
        organization_id=organization_id, event_type="alert.raised"
    ):
        return
    _publish(organization_id, "alert.raised", alerts, {u.pk: u for u in recipients}, now)


def alerts_resolved(*, organization_id: int, alert_ids: Sequence[int], now: dt.datetime) -> None:
    """`alert.resolved` for alerts just marked resolved."""
    if not alert_ids or not webhooks_subscribed(
        organization_id=organization_id, event_type="alert.resolved"
    ):
        return
    alerts = list(
        Alert.objects.filter(organization_id=organization_id, pk__in=list(alert_ids))
        .select_related("recipient")
        .order_by("pk")
    )
    recipients = {alert.recipient_id: alert.recipient for alert in alerts}
    _publish(organization_id, "alert.resolved", alerts, recipients, now)


def task_overdue(task: Task, *, now: dt.datetime) -> None:
    """`task.overdue` when a task's deadline has passed (once per deadline: a rescheduled task
    that falls overdue again is posted again)."""
    publish_task_events([task], event_type="task.overdue", key="task:{task}:overdue:{due}", now=now)
