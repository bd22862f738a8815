"""Outbound webhooks: events posted, signed, to the URLs an organization subscribed.

For the systems Lodestar enhances (an existing CRM, a BI tool). An admin or ops member
subscribes a URL to event types; each event is written, in the transaction of the change it
reports, as one outbox row per subscription (`Notification` with the channel `webhook` and its
`WebhookDelivery`), and the worker posts it with the outbox's retries and back-off
(`delivery.deliver` → `outbound_delivery.send`). A change that rolls back posts nothing.

- **Event types** (`EVENT_TYPES`): a deal's stage changed, a stage move refused by a gate, a
  task created, a task overdue, an alert raised, an alert resolved. The apps that own those
  changes call `webhooks_publish`; the gates, below this app, name their steps in the settings
  (`LODESTAR_STAGE_MOVED_STEPS`, `LODESTAR_GATE_REFUSED_STEPS`, see `on_stage_moved`).
- **Signature**: ``X-Lodestar-Signature: v1=<hex>``, the HMAC-SHA256 of
  ``"<X-Lodestar-Timestamp>.<body>"`` with the subscription's secret (`sign`). For a day after
  the secret is rotated a second ``v1=`` signature with the old secret follows.
- **Ids**: ``X-Lodestar-Delivery`` is the same on every attempt of one delivery (a receiver
  that sees it twice has it already); the body's ``id`` is the event's, the same for every
  subscription that receives it.
- **Address care**: https only, and no loopback, private, link-local or reserved address
  (checked when saved and again at every connection, on the address actually connected to),
  unless `LODESTAR_WEBHOOK_ALLOW_PRIVATE` is on; redirects are not followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lodestar.changes import changed
from lodestar.errors import Conflict, FieldError, PermissionDenied, ValidationFailed

# A module, not its names: the services import the worker's steps, which import this module.
from lodestar.integrations import services
from lodestar.integrations.models import (
    Channel,
    DisabledReason,
    Notification,
    NotificationStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from lodestar.integrations.transport import PermanentError
from lodestar.messages import LEGACY
from lodestar.org.models import Organization, Role, User
from lodestar.org.selectors import Actor, actor_of
from lodestar.org.services import audit_record

__all__ = [
    "EVENT_TYPES",
    "MAX_SUBSCRIPTIONS",
    "SECRET_GRACE",
    "TEST_EVENT",
    "WebhookEvent",
    "allow_private",
    "check_address",
    "max_failures",
    "may_manage_webhooks",
    "new_secret",
    "sign",
    "signature_header",
    "url_problem",
    "user_ref",
    "webhook_create",
    "webhook_delete",
    "webhook_rotate_secret",
    "webhook_send_test",
    "webhook_set_enabled",
    "webhook_update",
    "webhooks_publish",
    "webhooks_subscribed",
]

# What a subscription may receive, in the order the pages list them. A forecast does not exist
# yet, so there is no "forecast changed": a type is listed only once something truly emits it.
EVENT_TYPES: dict[str, str | Promise] = {
    "deal.stage_changed": _("A deal's stage changed"),
    "deal.gate_refused": _("A stage move was refused by a gate"),
    "task.created": _("A task was created"),
    "task.overdue": _("A task is overdue"),
    "alert.raised": _("An alert was raised"),
    "alert.resolved": _("An alert was resolved"),
}
# Sent only by the "send test" action, to one subscription; nobody subscribes to it.
TEST_EVENT = "webhook.test"
MAX_SUBSCRIPTIONS = 50
SECRET_GRACE = dt.timedelta(days=1)
_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
_ID_NAMESPACE = uuid.UUID("6f1c2b1e-5d0b-4c57-9a55-2d1f0c7b8e41")
_MAX_URL = 500
_MAX_DESCRIPTION = 200


# --- settings ------------------------------------------------------------------------------------


def allow_private() -> bool:
    """`LODESTAR_WEBHOOK_ALLOW_PRIVATE`: private and loopback addresses and plain http allowed."""
    return bool(getattr(settings, "LODESTAR_WEBHOOK_ALLOW_PRIVATE", False))


def max_failures() -> int:
    """`LODESTAR_WEBHOOK_MAX_FAILURES`: failed deliveries in a row that switch a webhook off."""
    value = getattr(settings, "LODESTAR_WEBHOOK_MAX_FAILURES", 10)
    if not isinstance(value, int) or value < 1:
        raise ValueError("settings.LODESTAR_WEBHOOK_MAX_FAILURES must be a positive integer")
    return value


# --- addresses -----------------------------------------------------------------------------------


def _refused_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_address(address: str) -> None:
    """Refuse (PermanentError) a loopback, private, link-local, shared, reserved or multicast
    address; called for every address a receiver's host resolves to, before connecting."""
    if _refused_address(address):
        raise PermanentError(
            f"refused: {address} is a private, loopback or reserved address "
            "(LODESTAR_WEBHOOK_ALLOW_PRIVATE allows it)"
        )


def _literal_address(host: str) -> str | None:
    """The address a host names without asking DNS: an IP literal, or an IPv4 shorthand
    (``127.1``, ``2130706433``, ``0x7f.0.0.1``) that the resolver reads as one."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def url_problem(url: str) -> str | None:
    """Why a receiver URL is refused (in the active language), or None when it is acceptable.

    Names that resolve to a private address are caught when connecting (the address connected
    to is checked), not here: saving does not wait for DNS, and DNS may answer otherwise later.
    """
    if len(url) > _MAX_URL:
        return str(_("The URL is longer than %(max)d characters.") % {"max": _MAX_URL})
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return str(_("This is not a URL; give one like https://crm.example.com/lodestar."))
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        return str(_("Give a full URL starting with https://, e.g. https://crm.example.com/hook."))
    if scheme == "http" and not allow_private():
        return str(_("The URL must start with https://: payloads are sent encrypted only."))
    if parts.username is not None or parts.password is not None:
        return str(
            _(
                "Leave the user name and password out of the URL: receivers check the "
                "signature header instead."
            )
        )
    if allow_private():
        return None
    literal = _literal_address(host)
    local_name = host.lower().rstrip(".")
    if (literal is not None and _refused_address(literal)) or (
        local_name == "localhost" or local_name.endswith(".localhost")
    ):
        return str(
            _(
                "%(host)s is a loopback, private or reserved address; webhooks go to "
                "addresses reachable on the internet."
            )
            % {"host": host}
        )
    return None


# --- signing -------------------------------------------------------------------------------------


def new_secret() -> str:
    return _SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of ``"<timestamp>.<body>"`` with the secret, in lowercase hex."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(
    subscription: WebhookSubscription, timestamp: str, body: bytes, *, now: dt.datetime
) -> str:
    """``v1=<hex>``, and a second ``v1=`` with the old secret for a day after a rotation."""
    values = [f"v1={sign(subscription.secret, timestamp, body)}"]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and now < until:
        values.append(f"v1={sign(subscription.previous_secret, timestamp, body)}")
    return ", ".join(values)


# --- who may manage them -------------------------------------------------------------------------


def may_manage_webhooks(actor: Actor | None) -> bool:
    """Admins and ops (who also retry the outbox's dead letters) manage the webhooks."""
    return actor is not None and actor.role in (Role.ADMIN, Role.OPS)


def _manager(user: User) -> Actor:
    actor = actor_of(user=user)
    if actor is None or not may_manage_webhooks(actor):
        raise PermissionDenied(_("Only administrators and ops manage webhooks."))
    return actor


def _own(actor: Actor, subscription: WebhookSubscription) -> None:
    if subscription.organization_id != actor.organization_id:
        raise PermissionDenied()


# --- subscriptions -------------------------------------------------------------------------------


def _checked_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    if not chosen:
        raise ValidationFailed.on("event_types", _("Choose at least one event type."))
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed.on(
            "event_types",
            _("Unknown event type %(names)s; choose from: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(EVENT_TYPES)},
        )
    return [name for name in EVENT_TYPES if name in chosen]


def _checked(
    *, url: str, event_types: Iterable[str], description: str
) -> tuple[str, list[str], str]:
    problems: list[FieldError] = []
    url = url.strip()
    if not url:
        problems.append(FieldError("url", _("Give the URL the events are posted to.")))
    elif (problem := url_problem(url)) is not None:
        problems.append(FieldError("url", problem))
    description = description.strip()
    if len(description) > _MAX_DESCRIPTION:
        problems.append(
            FieldError(
                "description",
                _("Keep the description within %(max)d characters.") % {"max": _MAX_DESCRIPTION},
            )
        )
    types: list[str] = []
    try:
        types = _checked_types(event_types)
    except ValidationFailed as exc:
        problems.extend(exc.details)
    if problems:
        raise ValidationFailed(details=problems)
    return url, types, description


def _check_not_taken(organization_id: int, url: str, *, but: int | None = None) -> None:
    taken = WebhookSubscription.objects.filter(organization_id=organization_id, url=url)
    if but is not None:
        taken = taken.exclude(pk=but)
    if taken.exists():
        raise ValidationFailed.on(
            "url",
            _("This URL is subscribed already; change the event types of that webhook instead."),
        )


def _audit(
    actor: User | None,
    subscription: WebhookSubscription,
    action: str,
    now: dt.datetime,
    **data: Any,
) -> None:
    audit_record(
        organization_id=subscription.organization_id,
        actor=actor,
        action=action,
        object_type="webhook",
        object_id=subscription.pk,
        data={"url": subscription.url, **data},
        at=now,
    )


@transaction.atomic
def webhook_create(
    *,
    user: User,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    now: dt.datetime | None = None,
) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `event_types`; returns the subscription and its secret (shown once)."""
    actor = _manager(user)
    url, types, description = _checked(url=url, event_types=event_types, description=description)
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    count = WebhookSubscription.objects.filter(organization_id=actor.organization_id).count()
    if count >= MAX_SUBSCRIPTIONS:
        raise Conflict(
            _("An organization has at most %(max)d webhooks; delete one you no longer use.")
            % {"max": MAX_SUBSCRIPTIONS}
        )
    _check_not_taken(actor.organization_id, url)
    now = now or timezone.now()
    secret = new_secret()
    subscription = WebhookSubscription.objects.create(
        organization_id=actor.organization_id,
        url=url,
        description=description,
        event_types=types,
        secret=secret,
        created_by=user,
        created_at=now,
        updated_at=now,
    )
    _audit(user, subscription, "webhook.create", now, event_types=types)
    return subscription, secret


@transaction.atomic
def webhook_update(
    *,
    user: User,
    subscription: WebhookSubscription,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    now: dt.datetime | None = None,
) -> WebhookSubscription:
    """Change the URL, the event types or the description (what is left None stays)."""
    actor = _manager(user)
    _own(actor, subscription)
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    url, types, description = _checked(
        url=locked.url if url is None else url,
        event_types=locked.event_types if event_types is None else event_types,
        description=locked.description if description is None else description,
    )
    _check_not_taken(actor.organization_id, url, but=locked.pk)
    before = {"url": locked.url, "event_types": locked.event_types}
    locked.url, locked.event_types, locked.description = url, types, description
    locked.updated_at = now or timezone.now()
    locked.save(update_fields=["url", "event_types", "description", "updated_at"])
    _audit(user, locked, "webhook.update", locked.updated_at, before=before, event_types=types)
    return locked


@transaction.atomic
def webhook_set_enabled(
    *,
    user: User,
    subscription: WebhookSubscription,
    enabled: bool,
    now: dt.datetime | None = None,
) -> WebhookSubscription:
    """Switch a webhook off by hand, or back on (its count of failures starts again at 0)."""
    actor = _manager(user)
    _own(actor, subscription)
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    now = now or timezone.now()
    if locked.enabled == enabled:
        return locked
    locked.enabled = enabled
    locked.disabled_reason = DisabledReason.NONE if enabled else DisabledReason.BY_HAND
    locked.disabled_at = None if enabled else now
    locked.consecutive_failures = 0
    locked.updated_at = now
    locked.save(
        update_fields=[
            "enabled",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "updated_at",
        ]
    )
    _audit(user, locked, "webhook.enable" if enabled else "webhook.disable", now)
    return locked


@transaction.atomic
def webhook_rotate_secret(
    *, user: User, subscription: WebhookSubscription, now: dt.datetime | None = None
) -> str:
    """A new secret, returned once; the old one also signs for `SECRET_GRACE` more."""
    actor = _manager(user)
    _own(actor, subscription)
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    now = now or timezone.now()
    secret = new_secret()
    locked.previous_secret, locked.previous_secret_until = locked.secret, now + SECRET_GRACE
    locked.secret, locked.secret_rotated_at, locked.updated_at = secret, now, now
    locked.save(
        update_fields=[
            "previous_secret",
            "previous_secret_until",
            "secret",
            "secret_rotated_at",
            "updated_at",
        ]
    )
    _audit(user, locked, "webhook.rotate_secret", now)
    return secret


@transaction.atomic
def webhook_delete(*, user: User, subscription: WebhookSubscription) -> None:
    """Delete a webhook with its log; deliveries still waiting are not sent."""
    actor = _manager(user)
    _own(actor, subscription)
    now = timezone.now()
    _audit(user, subscription, "webhook.delete", now)
    # The outbox rows go too (their webhook part cascades from them, not the other way).
    Notification.objects.filter(webhook__subscription_id=subscription.pk).delete()
    subscription.delete()


@transaction.atomic
def webhook_send_test(
    *, user: User, subscription: WebhookSubscription, now: dt.datetime | None = None
) -> WebhookDelivery:
    """Queue one `webhook.test` event to this webhook (even a switched-off one), sent once."""
    actor = _manager(user)
    _own(actor, subscription)
    now = now or timezone.now()
    event = WebhookEvent(
        key=f"test:{uuid.uuid4().hex}",
        data={
            "subscription_id": subscription.pk,
            "message": "This is a test delivery from Lodestar. 这是一条测试推送。",
            "sent_by": user_ref(user),
        },
        occurred_at=now,
    )
    (row,) = _write(
        organization_id=subscription.organization_id,
        event_type=TEST_EVENT,
        events=[event],
        subscriptions=[subscription],
        now=now,
    )
    _audit(user, subscription, "webhook.test", now)
    return row


# --- publishing events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event to post: ``key`` names its occurrence (``task:12:created``) and keeps it from
    being posted twice to one URL; ``data`` is the JSON object under the payload's ``data``."""

    key: str
    data: Mapping[str, Any]
    occurred_at: dt.datetime


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": str(user), "username": user.get_username()}


def _subscribers(organization_id: int, event_type: str) -> list[WebhookSubscription]:
    # The event types are a short JSON list: filtered here, the same on every database.
    found = WebhookSubscription.objects.filter(organization_id=organization_id, enabled=True)
    return [s for s in found.only("pk", "url", "event_types") if event_type in s.event_types]


def webhooks_subscribed(*, organization_id: int, event_type: str) -> bool:
    """Whether an enabled webhook of the organization wants `event_type` (one query)."""
    return bool(_subscribers(organization_id, event_type))


def webhooks_publish(
    *,
    organization_id: int,
    event_type: str,
    events: Sequence[WebhookEvent],
    now: dt.datetime | None = None,
) -> int:
    """Write one outbox row per event and enabled webhook subscribed to `event_type`, in the
    caller's transaction, and queue them once it commits; returns how many were written.

    An event whose key was published before to a webhook is not written again for it.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not events:
        return 0
    subscriptions = _subscribers(organization_id, event_type)
    if not subscriptions:
        return 0
    return len(
        _write(
            organization_id=organization_id,
            event_type=event_type,
            events=events,
            subscriptions=subscriptions,
            now=now or timezone.now(),
        )
    )


def _stable_id(prefix: str, *parts: object) -> str:
    return prefix + uuid.uuid5(_ID_NAMESPACE, ":".join(map(str, parts))).hex


def _write(
    *,
    organization_id: int,
    event_type: str,
    events: Sequence[WebhookEvent],
    subscriptions: Sequence[WebhookSubscription],
    now: dt.datetime,
) -> list[WebhookDelivery]:
    organization = Organization.objects.only("pk", "slug").get(pk=organization_id)
    rows: dict[str, Notification] = {}
    parts: dict[str, WebhookDelivery] = {}
    for event in events:
        event_id = _stable_id("evt_", organization_id, event_type, event.key)
        body = json.dumps(
            {
                "id": event_id,
                "type": event_type,
                # Every moment in UTC, written with "Z" (the encoder's form).
                "created_at": event.occurred_at.astimezone(dt.UTC),
                "organization": {"id": organization.pk, "slug": organization.slug},
                "data": event.data,
            },
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        cause = f"webhook:{event_type}:{event.key}"[:200]
        for subscription in subscriptions:
            dedupe = f"{cause}|{Channel.WEBHOOK}|sub:{subscription.pk}"[:255]
            if dedupe in rows:
                continue
            host = urllib.parse.urlsplit(subscription.url).hostname or subscription.url
            rows[dedupe] = Notification(
                organization=organization,
                recipient=None,
                channel=Channel.WEBHOOK,
                message_key=LEGACY,
                title=f"{event_type} → {host}"[:200],
                cause_key=cause,
                dedupe_key=dedupe,
                status=NotificationStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
            parts[dedupe] = WebhookDelivery(
                organization=organization,
                subscription_id=subscription.pk,
                event_type=event_type,
                event_id=event_id,
                delivery_id=_stable_id("dlv_", event_id, subscription.pk),
                body=body,
                created_at=now,
            )
    created = services._insert_new(organization, rows, now) or []
    written = []
    for row in created:
        part = parts.get(row.dedupe_key)
        if part is not None:
            part.notification = row
            written.append(part)
    # Keyed by the outbox row and a delivery id derived from it: a concurrent writer of the same
    # event wrote the same rows, and the insert skips them.
    WebhookDelivery.objects.bulk_create(written, ignore_conflicts=True)
    # No page shows these rows: the write makes no kept page stale.
    changed(tables=[Notification, WebhookDelivery])
    services.enqueue_delivery(part.notification_id for part in written)
    return written
