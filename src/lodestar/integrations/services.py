"""Writes for the integrations app: the notification outbox, the inbox, calendar feed tokens.

`notify` is the one door every cause (task triggers, SLA sweeps, alerts) uses to tell someone
something. It writes outbox rows in the caller's transaction and queues their delivery only
after that transaction commits, so a rolled-back cause never notifies anyone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.errors import Conflict, PermissionDenied, ValidationFailed
from lodestar.integrations.models import (
    CalendarFeed,
    Channel,
    Notification,
    NotificationStatus,
)
from lodestar.integrations.selectors import channels_for
from lodestar.org.models import Organization, Role, Team, User
from lodestar.org.selectors import membership_of
from lodestar.org.services import audit_record

__all__ = [
    "calendar_feed_revoke",
    "calendar_feed_rotate",
    "enqueue_delivery",
    "notification_mark_read",
    "notification_retry",
    "notify",
]

logger = logging.getLogger(__name__)

_MAX_TITLE = 200


def enqueue_delivery(notification_ids: Iterable[int]) -> None:
    """Queue delivery of these outbox rows once the current transaction commits.

    If queueing fails (broker down) the rows stay pending and the periodic sweep sends them,
    so a failure here is logged, never raised into the caller's already-committed work.
    """
    ids = list(notification_ids)
    if not ids:
        return

    def _enqueue() -> None:
        from lodestar.integrations.tasks import deliver_notification

        for notification_id in ids:
            deliver_notification(notification_id)

    transaction.on_commit(_enqueue, robust=True)


def _dedupe_key(cause_key: str, channel: str, destination: str) -> str:
    return f"{cause_key}|{channel}|{destination}"[:255]


def notify(
    *,
    organization: Organization,
    recipient: User | None,
    title: str,
    body: str = "",
    link: str = "",
    cause_key: str,
    channels: Iterable[str] | None = None,
    team: Team | None = None,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Write one outbox row per channel that applies and queue their delivery on commit.

    - ``cause_key`` names what the notification is about, e.g. ``"task:812:overdue"``; the
      same cause never reaches the same destination on the same channel twice, so callers may
      call this again safely (a replayed event, a re-run sweep). Returns only the new rows.
    - Channels: in-app always (when there is a recipient), plus every channel configured for
      the recipient (user > team > organization settings). ``channels`` narrows that set.
    - ``recipient=None`` posts to the group channels of ``team`` (or the organization).
    Runs inside the caller's transaction; it opens none of its own.
    """
    if not cause_key:
        raise ValidationFailed.on("cause_key", _("A notification needs a cause."))
    if not title.strip():
        raise ValidationFailed.on("title", _("A notification needs a title."))
    if recipient is not None:
        membership = membership_of(user=recipient)
        if membership is None or membership.organization_id != organization.pk:
            raise ValidationFailed.on(
                "recipient", _("The recipient does not belong to this organization.")
            )
    if team is not None and team.organization_id != organization.pk:
        raise ValidationFailed.on("team", _("The team belongs to another organization."))
    now = now or timezone.now()
    kinds = frozenset(channels) if channels is not None else None
    resolved = channels_for(organization=organization, recipient=recipient, team=team, kinds=kinds)

    rows: list[Notification] = []
    for item in resolved:
        if item.channel == Channel.IN_APP:
            destination = f"user:{recipient.pk}" if recipient else ""
        elif item.channel == Channel.EMAIL:
            destination = f"email:{item.email_address.lower()}"
        else:
            assert item.config is not None
            destination = f"config:{item.config.pk}"
        in_app = item.channel == Channel.IN_APP
        rows.append(
            Notification(
                organization=organization,
                recipient=recipient,
                channel=item.channel,
                config=item.config,
                email_address=item.email_address,
                title=title.strip()[:_MAX_TITLE],
                body=body,
                link=link,
                cause_key=cause_key,
                dedupe_key=_dedupe_key(cause_key, item.channel, destination),
                # The in-app row *is* the inbox item: delivered the moment it exists.
                status=NotificationStatus.DELIVERED if in_app else NotificationStatus.PENDING,
                delivered_at=now if in_app else None,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if not rows:
        return []
    keys = [row.dedupe_key for row in rows]
    existing = set(
        Notification.objects.filter(organization=organization, dedupe_key__in=keys).values_list(
            "dedupe_key", flat=True
        )
    )
    fresh = [row for row in rows if row.dedupe_key not in existing]
    # ON CONFLICT DO NOTHING: a concurrent writer of the same cause wins quietly instead of
    # aborting the caller's transaction (PostgreSQL would abort it on an IntegrityError).
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            organization=organization,
            dedupe_key__in=[row.dedupe_key for row in fresh],
            created_at=now,
        )
    )
    enqueue_delivery(row.pk for row in created if row.status == NotificationStatus.PENDING)
    return created


def notification_mark_read(
    *, user: User, notification_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Mark the user's own in-app notifications read (all unread ones when no ids are given).

    Ids of other people's notifications are ignored, not reported: they are not the user's.
    Returns how many changed.
    """
    from lodestar.integrations.selectors import inbox_list

    items = inbox_list(user=user, unread_only=True)
    if notification_ids is not None:
        items = items.filter(pk__in=list(notification_ids))
    return items.update(read_at=now or timezone.now())


def _may_manage_deliveries(actor: User, organization_id: int) -> bool:
    if actor.is_superuser:
        return True
    membership = membership_of(user=actor)
    return (
        membership is not None
        and membership.organization_id == organization_id
        and membership.role in (Role.ADMIN, Role.OPS)
    )


@transaction.atomic
def notification_retry(
    *, notification: Notification, actor: User, now: dt.datetime | None = None
) -> Notification:
    """Send a dead (or failing) notification again, with a fresh attempt budget; audited."""
    if not _may_manage_deliveries(actor, notification.organization_id):
        raise PermissionDenied()
    now = now or timezone.now()
    changed = Notification.objects.filter(
        pk=notification.pk,
        status__in=[NotificationStatus.DEAD, NotificationStatus.FAILED],
    ).update(
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        claimed_by="",
        claimed_at=None,
    )
    if not changed:
        raise Conflict(_("Only failed or dead notifications can be retried."))
    audit_record(
        organization_id=notification.organization_id,
        actor=actor,
        action="notification.retry",
        object_type="notification",
        object_id=notification.pk,
        data={"channel": notification.channel, "last_error": notification.last_error[:500]},
        at=now,
    )
    enqueue_delivery([notification.pk])
    notification.refresh_from_db()
    return notification


@transaction.atomic
def calendar_feed_rotate(*, user: User, now: dt.datetime | None = None) -> str:
    """Create or replace the user's calendar feed token; returns the raw token, shown once.

    The old URL stops working immediately: only the new token's digest is stored.
    """
    membership = membership_of(user=user)
    if membership is None:
        raise PermissionDenied(_("Only members of an organization have a calendar."))
    token = CalendarFeed.new_token()
    now = now or timezone.now()
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"digest": CalendarFeed.digest_of(token), "created_at": now},
    )
    audit_record(
        organization_id=membership.organization_id,
        actor=user,
        action="calendar_feed.rotate",
        object_type="calendar_feed",
        object_id=user.pk,
        at=now,
    )
    return token


def calendar_feed_revoke(*, user: User) -> bool:
    """Switch the user's calendar feed off; returns whether there was one."""
    deleted, _details = CalendarFeed.objects.filter(user=user).delete()
    return deleted > 0
