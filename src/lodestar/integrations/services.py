"""Writes for the integrations app: the notification outbox, the inbox, calendar feed tokens.

`notify` is the one door every cause (task triggers, SLA sweeps, alerts) uses to tell someone
something. It writes outbox rows in the caller's transaction and queues their delivery only
after that transaction commits, so a rolled-back cause never notifies anyone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.changes import changed
from lodestar.db import bulk_insert_new
from lodestar.errors import Conflict, PermissionDenied, ValidationFailed
from lodestar.integrations.models import (
    CalendarFeed,
    Channel,
    LanguagePreference,
    Notification,
    NotificationStatus,
)
from lodestar.integrations.selectors import ChannelConfigs, ResolvedChannel, inbox_list
from lodestar.integrations.tasks import deliver_notification
from lodestar.messages import LEGACY, Msg, Rendered, render_in
from lodestar.org.models import Membership, Organization, Role, Team, User
from lodestar.org.selectors import membership_of
from lodestar.org.services import audit_record

__all__ = [
    "NotificationSpec",
    "calendar_feed_revoke",
    "calendar_feed_rotate",
    "enqueue_delivery",
    "language_remember",
    "notification_mark_read",
    "notification_retry",
    "notify",
    "notify_many",
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
        for notification_id in ids:
            deliver_notification(notification_id)

    transaction.on_commit(_enqueue, robust=True)


def _dedupe_key(cause_key: str, channel: str, destination: str) -> str:
    return f"{cause_key}|{channel}|{destination}"[:255]


@dataclass(frozen=True)
class NotificationSpec:
    """One notification to write: what `notify` takes, as a value for `notify_many`."""

    recipient: User | None
    title: str
    cause_key: str
    body: str = ""
    link: str = ""
    channels: frozenset[str] | None = None
    team: Team | None = None
    # What it says as a message key and parameters, worded for each reader
    # (`lodestar.messages`); `title` and `body` may then be left empty: they are filled
    # with the message worded in the site's language.
    message: Msg | None = None

    def worded(self) -> NotificationSpec:
        """This spec with its title and body worded from its message, where it has one."""
        if self.message is None or self.message.key == LEGACY:
            return self
        stored = Rendered(self.title, self.body)
        text = render_in(
            settings.LANGUAGE_CODE, self.message.key, self.message.params, stored=stored
        )
        return replace(self, title=text.title, body=text.body)


def notify(
    *,
    organization: Organization,
    recipient: User | None,
    title: str = "",
    body: str = "",
    link: str = "",
    cause_key: str,
    channels: Iterable[str] | None = None,
    team: Team | None = None,
    message: Msg | None = None,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Write one outbox row per channel that applies and queue their delivery on commit.

    - ``cause_key`` names what the notification is about, e.g. ``"task:812:overdue"``; the
      same cause never reaches the same destination on the same channel twice, so callers may
      call this again safely (a replayed event, a re-run sweep). Returns only the new rows.
    - Channels: in-app always (when there is a recipient), plus every channel configured for
      the recipient (user > team > organization settings). ``channels`` narrows that set.
    - ``recipient=None`` posts to the group channels of ``team`` (or the organization).
    - ``message`` (a key of `lodestar.messages.MESSAGES` and its parameters) is what each
      reader sees, in their language; ``title`` and ``body`` are then optional.
    Runs inside the caller's transaction; it opens none of its own.
    """
    spec = NotificationSpec(
        recipient=recipient,
        title=title,
        cause_key=cause_key,
        body=body,
        link=link,
        channels=frozenset(channels) if channels is not None else None,
        team=team,
        message=message,
    )
    return notify_many(organization=organization, specs=[spec], now=now)


def notify_many(
    *,
    organization: Organization,
    specs: Sequence[NotificationSpec],
    now: dt.datetime | None = None,
) -> list[Notification]:
    """`notify` for many causes of one organization at once, with the same rules.

    The channel settings are read once for the whole batch, the outbox is checked for the
    dedupe keys in one query and the new rows are written in one insert; their delivery is
    queued once, on commit. A key repeated inside the batch is written once (first wins).
    """
    if not specs:
        return []
    specs = [spec.worded() for spec in specs]
    memberships = _checked_memberships(organization, specs)
    now = now or timezone.now()

    def team_of(spec: NotificationSpec) -> int | None:
        if spec.team is not None:
            return spec.team.pk
        if spec.recipient is not None:
            return memberships[spec.recipient.pk].team_id
        return None

    configs = ChannelConfigs.load(
        organization=organization,
        team_ids={t for t in map(team_of, specs) if t is not None},
        user_ids=set(memberships),
    )
    rows: dict[str, Notification] = {}
    for spec in specs:
        for item in configs.resolve(
            recipient=spec.recipient, team_id=team_of(spec), kinds=spec.channels
        ):
            key = _dedupe_key(spec.cause_key, item.channel, _destination(item, spec.recipient))
            if key not in rows:
                rows[key] = _outbox_row(organization, spec, item, key, now)
    created = _insert_new(organization, rows, now)
    if created is None:
        return []
    changed(tables=[Notification], people=[row.recipient_id for row in created])
    enqueue_delivery(row.pk for row in created if row.status == NotificationStatus.PENDING)
    return created


def _checked_memberships(
    organization: Organization, specs: Sequence[NotificationSpec]
) -> dict[int, Membership]:
    """Each recipient's membership, once every spec is known to be valid for `organization`."""
    for spec in specs:
        if not spec.cause_key:
            raise ValidationFailed.on("cause_key", _("A notification needs a cause."))
        if not spec.title.strip():
            raise ValidationFailed.on("title", _("A notification needs a title."))
        if spec.team is not None and spec.team.organization_id != organization.pk:
            raise ValidationFailed.on("team", _("The team belongs to another organization."))
    recipients = {spec.recipient.pk: spec.recipient for spec in specs if spec.recipient}
    memberships = _memberships_of(recipients)
    for recipient_id in recipients:
        membership = memberships.get(recipient_id)
        if membership is None or membership.organization_id != organization.pk:
            raise ValidationFailed.on(
                "recipient", _("The recipient does not belong to this organization.")
            )
    return memberships


def _destination(item: ResolvedChannel, recipient: User | None) -> str:
    """Where a channel delivers, as the outbox's dedupe key names it."""
    if item.channel == Channel.IN_APP:
        return f"user:{recipient.pk}" if recipient else ""
    if item.channel == Channel.EMAIL:
        return f"email:{item.email_address.lower()}"
    assert item.config is not None
    return f"config:{item.config.pk}"


def _outbox_row(
    organization: Organization,
    spec: NotificationSpec,
    item: ResolvedChannel,
    key: str,
    now: dt.datetime,
) -> Notification:
    in_app = item.channel == Channel.IN_APP
    return Notification(
        organization=organization,
        recipient=spec.recipient,
        channel=item.channel,
        config=item.config,
        email_address=item.email_address,
        message_key=spec.message.key if spec.message is not None else LEGACY,
        params=spec.message.params if spec.message is not None else {},
        title=spec.title.strip()[:_MAX_TITLE],
        body=spec.body,
        link=spec.link,
        cause_key=spec.cause_key,
        dedupe_key=key,
        # The in-app row *is* the inbox item: delivered the moment it exists.
        status=NotificationStatus.DELIVERED if in_app else NotificationStatus.PENDING,
        delivered_at=now if in_app else None,
        next_attempt_at=now,
        created_at=now,
    )


def _insert_new(
    organization: Organization, rows: dict[str, Notification], now: dt.datetime
) -> list[Notification] | None:
    """Insert the rows whose dedupe key the outbox does not hold yet; returns those written
    (None when the outbox held them all)."""
    if not rows:
        return None
    existing = set(
        Notification.objects.filter(
            organization=organization, dedupe_key__among=list(rows)
        ).values_list("dedupe_key", flat=True)
    )
    fresh = [row for key, row in rows.items() if key not in existing]
    if not fresh:
        return None
    # A concurrent writer of the same cause wins quietly (ON CONFLICT DO NOTHING) instead of
    # aborting the caller's transaction; what this call did write is then read back.
    if bulk_insert_new(fresh):
        return fresh
    return list(
        Notification.objects.filter(
            organization=organization,
            dedupe_key__among=[row.dedupe_key for row in fresh],
            created_at=now,
        )
    )


def _memberships_of(recipients: dict[int, User]) -> dict[int, Membership]:
    """Each recipient's membership: from the user's cache where loaded, the rest in one query."""
    found: dict[int, Membership] = {}
    unknown: dict[int, User] = {}
    for pk, user in recipients.items():
        if User.membership.is_cached(user):
            membership = membership_of(user=user)
            if membership is not None:
                found[pk] = membership
        else:
            unknown[pk] = user
    if unknown:
        for membership in Membership.objects.filter(user_id__in=list(unknown)):
            found[membership.user_id] = membership
            # Later reads of `user.membership` (permission checks, selectors) are free.
            User.membership.related.set_cached_value(unknown[membership.user_id], membership)
    return found


def notification_mark_read(
    *, user: User, notification_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Mark the user's own in-app notifications read (all unread ones when no ids are given).

    Ids of other people's notifications are ignored, not reported: they are not the user's.
    Returns how many changed.
    """
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


def language_remember(*, user: User, language: str) -> None:
    """Keep the language `user` reads the site in (one of `LANGUAGES`; others are ignored)."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        return
    LanguagePreference.objects.update_or_create(user=user, defaults={"language": language})
