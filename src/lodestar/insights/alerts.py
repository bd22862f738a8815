"""Alerts: raised, resolved, acknowledged, and kept in line with what the findings say.

Alerts are keyed by `dedupe_key` (e.g. `deal:12:silence`, `task:40:overdue`): while an alert with
that key is open or acknowledged for a recipient, raising it again changes nothing, and it
resolves when its condition clears (`alert_resolve`). Every new alert also goes to the
recipient's inbox and channels through the notification outbox.

- `alert_raise`, `alerts_raise_many` — open alerts unless live ones with their key exist;
- `alert_resolve` — their condition has cleared;
- `alert_acknowledge` — the recipient has seen an alert (audited); it stays live until its
  condition clears (an acknowledged alert is not raised again);
- `alerts_acknowledge` — several of them at once, one by one through `alert_acknowledge`, all
  or nothing;
- `alerts_sync` — the one road of the computed alerts (deal risks, rep health): the alerts that
  should be live (`WantedAlert`) are raised, those no longer wanted resolve, and those whose
  content changed are rewritten in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.changes import changed
from lodestar.core.scoring import Message, risk_message
from lodestar.crm.models import Opportunity
from lodestar.errors import FieldError, NotFound, ValidationFailed
from lodestar.insights.models import SENTENCE, Alert, AlertStatus
from lodestar.insights.outbound_events import alerts_raised, alerts_resolved
from lodestar.insights.rows import Stored, rows_of
from lodestar.insights.summary import RecomputeSummary
from lodestar.insights.wording import with_prefix
from lodestar.integrations.outbound import webhooks_subscribed
from lodestar.integrations.services import NotificationSpec, notify_many
from lodestar.messages import Msg, Rendered, render_both
from lodestar.messages import text as in_both
from lodestar.org.models import Organization, User
from lodestar.org.selectors import actor_of
from lodestar.org.services import audit_record

__all__ = [
    "ACKNOWLEDGE_MAX",
    "LIVE_STATUSES",
    "AlertSpec",
    "LiveAlert",
    "WantedAlert",
    "alert_acknowledge",
    "alert_raise",
    "alert_resolve",
    "alerts_acknowledge",
    "alerts_raise_many",
    "alerts_sync",
    "live_alert_rows",
]

LIVE_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
_CHUNK = 900  # keys per IN (…) list, under every backend's parameter limit


@dataclass(frozen=True)
class AlertSpec:
    """One alert to raise: what `alert_raise` takes, as a value for `alerts_raise_many`."""

    kind: str
    recipient: User
    dedupe_key: str
    message_zh: str
    message_en: str
    opportunity_id: int | None = None
    subject_user_id: int | None = None
    link: str = ""
    # A timed sentence's clock and parameters (`Alert.since`, `Alert.wording`).
    since: dt.datetime | None = None
    wording: str = ""
    # What it says as a message key and parameters (`lodestar.messages`), worded for each
    # reader; without one, the two messages above are the sentence (`SENTENCE`).
    message: Msg | None = None


@transaction.atomic
def alert_raise(
    *,
    organization: Organization,
    kind: str,
    recipient: User,
    dedupe_key: str,
    message_zh: str = "",
    message_en: str = "",
    opportunity: Opportunity | None = None,
    subject_user: User | None = None,
    link: str = "",
    message: Msg | None = None,
    now: dt.datetime | None = None,
) -> Alert | None:
    """Open an alert unless one with the same key and recipient is still live; None then.

    With `message` (a key of `lodestar.messages.MESSAGES` and its parameters) the two
    messages may be left out: they are worded from it."""
    if message is not None:
        worded = render_both(message.key, message.params, stored=Rendered(message_zh or message_en))
        message_zh, message_en = worded.zh, worded.en
    spec = AlertSpec(
        kind=kind,
        recipient=recipient,
        dedupe_key=dedupe_key,
        message_zh=message_zh,
        message_en=message_en,
        opportunity_id=opportunity.pk if opportunity is not None else None,
        subject_user_id=subject_user.pk if subject_user is not None else None,
        link=link,
        message=message,
    )
    raised = alerts_raise_many(organization=organization, specs=[spec], now=now)
    return raised[0] if raised else None


@transaction.atomic
def alerts_raise_many(
    *, organization: Organization, specs: Sequence[AlertSpec], now: dt.datetime | None = None
) -> list[Alert]:
    """Open each alert unless one with its key and recipient is live; returns the new ones.

    One query finds the live `(key, recipient)` pairs, one insert writes the new alerts and
    one `notify_many` tells their recipients. A pair repeated in `specs` is raised once.
    """
    if not specs:
        return []
    now = now or timezone.now()
    keys = sorted({spec.dedupe_key for spec in specs})
    live: set[tuple[str, int]] = set()
    for start in range(0, len(keys), _CHUNK):
        live.update(
            Alert.objects.select_for_update()
            .filter(
                organization=organization,
                dedupe_key__in=keys[start : start + _CHUNK],
                status__in=LIVE_STATUSES,
            )
            .order_by()
            .values_list("dedupe_key", "recipient_id")
        )
    wanted: list[AlertSpec] = []
    for spec in specs:
        pair = (spec.dedupe_key, spec.recipient.pk)
        if pair not in live:
            live.add(pair)
            wanted.append(spec)
    if not wanted:
        return []
    alerts = Alert.objects.bulk_create(
        [
            Alert(
                organization=organization,
                kind=spec.kind,
                opportunity_id=spec.opportunity_id,
                subject_user_id=spec.subject_user_id,
                recipient=spec.recipient,
                dedupe_key=spec.dedupe_key,
                message_key=spec.message.key if spec.message is not None else SENTENCE,
                params=spec.message.params if spec.message is not None else {},
                message_zh=spec.message_zh,
                message_en=spec.message_en,
                since=spec.since,
                wording=spec.wording,
                raised_at=now,
            )
            for spec in wanted
        ],
        batch_size=500,
    )
    changed(
        tables=[Alert],
        deals=[spec.opportunity_id for spec in wanted],
        alerted=[spec.recipient.pk for spec in wanted],
    )
    notify_many(
        organization=organization,
        specs=[
            NotificationSpec(
                recipient=spec.recipient,
                title="",
                link=spec.link,
                cause_key=f"alert:{alert.pk}",
                # The inbox and the channels word it in their reader's language.
                message=spec.message
                or Msg("alert.raised", {"text": in_both(spec.message_zh, spec.message_en)}),
            )
            for spec, alert in zip(wanted, alerts, strict=True)
        ],
        now=now,
    )
    alerts_raised(
        organization_id=organization.pk,
        alerts=alerts,
        recipients=[spec.recipient for spec in wanted],
        now=now,
    )
    return alerts


def alert_resolve(
    *, organization_id: int, dedupe_keys: Iterable[str], now: dt.datetime | None = None
) -> int:
    """Resolve the live alerts with these keys: their condition has cleared."""
    now = now or timezone.now()
    live = Alert.objects.filter(
        organization_id=organization_id, dedupe_key__in=list(dedupe_keys), status__in=LIVE_STATUSES
    )
    if not webhooks_subscribed(organization_id=organization_id, event_type="alert.resolved"):
        return live.update(status=AlertStatus.RESOLVED, resolved_at=now)
    # A webhook wants to hear which: the ids first, then those still live are resolved.
    ids = list(live.values_list("pk", flat=True))
    resolved = Alert.objects.filter(pk__in=ids, status__in=LIVE_STATUSES).update(
        status=AlertStatus.RESOLVED, resolved_at=now
    )
    alerts_resolved(organization_id=organization_id, alert_ids=ids, now=now)
    return resolved


@transaction.atomic
def alert_acknowledge(*, user: User, alert_id: int, now: dt.datetime | None = None) -> Alert:
    """Mark one of the user's own alerts as seen, audited; anyone else's is not found.

    Acknowledging an alert already acknowledged (or resolved) changes and audits nothing.
    """
    actor = actor_of(user=user)
    alert = (
        Alert.objects.select_for_update()
        .filter(pk=alert_id, recipient=user)
        .filter(organization_id=actor.organization_id if actor else -1)
        .first()
    )
    if alert is None:
        raise NotFound(_("No alert %(id)s among yours.") % {"id": alert_id})
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now or timezone.now()
        alert.save(update_fields=["status", "acknowledged_at"])
        changed(tables=[Alert], deals=[alert.opportunity_id], alerted=[user.pk])
        audit_record(
            organization_id=alert.organization_id,
            actor=user,
            action="alert.acknowledge",
            object_type="alert",
            object_id=alert.pk,
            data={"kind": alert.kind, "subject_user_id": alert.subject_user_id},
            at=alert.acknowledged_at,
        )
    return alert


# A dashboard group holds at most a few hundred live alerts; one request acknowledges that many.
ACKNOWLEDGE_MAX = 500


@transaction.atomic
def alerts_acknowledge(
    *, user: User, alert_ids: Sequence[int], now: dt.datetime | None = None
) -> list[Alert]:
    """Acknowledge several of the user's own alerts at once (a dashboard group, or the cards
    picked), each through `alert_acknowledge`, so each is audited as if acknowledged alone.

    All or nothing: when an id is not one of the user's alerts (another recipient's, another
    organization's, or none at all), the request is refused naming those ids and no alert is
    acknowledged. The alerts come back in the order of `alert_ids`, repeats once.
    """
    ids = list(dict.fromkeys(alert_ids))
    if not ids:
        raise ValidationFailed.on("ids", _("Choose at least one alert to acknowledge."))
    if len(ids) > ACKNOWLEDGE_MAX:
        raise ValidationFailed.on(
            "ids",
            _("At most %(max)d alerts are acknowledged at once; %(count)d were sent.")
            % {"max": ACKNOWLEDGE_MAX, "count": len(ids)},
        )
    actor = actor_of(user=user)
    yours = set(
        Alert.objects.filter(
            pk__in=ids,
            recipient=user,
            organization_id=actor.organization_id if actor else -1,
        ).values_list("pk", flat=True)
    )
    missing = [pk for pk in ids if pk not in yours]
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:20]) + (" …" if len(missing) > 20 else "")
        raise NotFound(
            _("Nothing was acknowledged: alerts %(ids)s are not among yours.") % {"ids": shown},
            details=[
                FieldError(
                    "ids",
                    _("Leave out the alerts %(ids)s and send the request again.") % {"ids": shown},
                )
            ],
        )
    now = now or timezone.now()
    return [alert_acknowledge(user=user, alert_id=pk, now=now) for pk in ids]


# --- keeping computed alerts in line with the findings --------------------------------------------


# id, key, recipient id, message zh, message en, since, wording, deal id
LiveAlert = tuple[int, str, int, str, str, dt.datetime | None, str, int | None]
_LIVE_FIELDS = (
    "pk",
    "dedupe_key",
    "recipient_id",
    "message_zh",
    "message_en",
    "since",
    "wording",
    "opportunity_id",
)


@dataclass(frozen=True, slots=True)
class WantedAlert:
    """One alert that should be live: what `alerts_sync` raises, or rewrites if it differs.

    A timeless alert carries its sentence (`text`); a timed one (`since` set) is worded only
    when it is written — most live ones are unchanged and never are.
    """

    kind: str
    deal_id: int | None
    subject_id: int | None
    text: Message | None = None
    since: dt.datetime | None = None
    wording: str = ""
    name: str = ""  # the deal's, for a timed sentence
    stage_name: Message | None = None
    target: dt.timedelta | None = None

    def words(self, now: dt.datetime) -> Message:
        if self.text is not None or self.since is None:
            return self.text or Message("", "")
        sentence = risk_message(
            self.kind.removeprefix("risk."),  # type: ignore[arg-type]
            since=self.since,
            now=now,
            stage_name=self.stage_name,
            target=self.target,
        )
        return with_prefix(self.name, sentence)

    def differs(self, live: LiveAlert) -> bool:
        """Whether the live alert says something else (a timed one: counts from elsewhere)."""
        if self.since is not None or live[5] is not None:
            return self.since != live[5] or self.wording != live[6]
        return self.text is None or self.text.zh != live[3] or self.text.en != live[4]


def live_alert_rows(alerts: QuerySet[Alert]) -> list[LiveAlert]:
    """The live alerts as `LiveAlert` rows; a timed alert's stored text is not read (it is
    compared by clock and wording), which spares most of the bytes of a sweep's largest read."""
    timeless = rows_of(alerts.filter(since__isnull=True).order_by().values_list(*_LIVE_FIELDS))
    timed = rows_of(
        alerts.filter(since__isnull=False)
        .annotate(since_at=Stored("since"))
        .order_by()
        .values_list("pk", "dedupe_key", "recipient_id", "since_at", "wording", "opportunity_id")
    )
    return timeless + [
        (pk, key, to, "", "", since, wording, deal_id)
        for pk, key, to, since, wording, deal_id in timed
    ]


def alerts_sync(
    *,
    organization: Organization,
    wanted: dict[tuple[str, int], WantedAlert],
    live: Sequence[LiveAlert],
    now: dt.datetime,
    summary: RecomputeSummary,
) -> None:
    """Raise the wanted `(key, recipient)` alerts that are not live; resolve live ones not wanted.

    `live` lists the live alerts in the scope being synced. A live alert whose content changed
    (a health score 62 → 55, a late event moving the silence clock) is rewritten in place,
    without a new notification; one that only grew older is left alone — its sentence is
    worded when shown (`insights.wording`).
    """
    live_pairs: set[tuple[str, int]] = set()
    stale_ids: list[int] = []
    rewritten: list[tuple[str, str, dt.datetime | None, str, int]] = []
    touched: list[LiveAlert] = []
    for row in live:
        pair = (row[1], row[2])
        live_pairs.add(pair)
        want = wanted.get(pair)
        if want is None:
            stale_ids.append(row[0])
            touched.append(row)
        elif want.differs(row):
            text = want.words(now)
            rewritten.append((text.zh, text.en, want.since, want.wording, row[0]))
            touched.append(row)
    if touched:
        changed(
            tables=[Alert], deals=[row[7] for row in touched], alerted=[row[2] for row in touched]
        )
    if rewritten:
        _rewrite(rewritten)
    if stale_ids:
        summary.alerts_resolved += Alert.objects.filter(pk__among=stale_ids).update(
            status=AlertStatus.RESOLVED, resolved_at=now
        )
        alerts_resolved(organization_id=organization.pk, alert_ids=stale_ids, now=now)
    missing = sorted(pair for pair in wanted if pair not in live_pairs)
    if not missing:
        return
    users = User.objects.in_bulk({recipient for _, recipient in missing})
    specs = []
    links: dict[int, str] = {}  # both recipients of a deal's alerts share its link
    for key, recipient_id in missing:
        want = wanted[(key, recipient_id)]
        recipient = users.get(recipient_id)
        if recipient is None:
            continue
        text = want.words(now)
        specs.append(
            AlertSpec(
                kind=want.kind,
                recipient=recipient,
                dedupe_key=key,
                message_zh=text.zh,
                message_en=text.en,
                opportunity_id=want.deal_id,
                subject_user_id=want.subject_id,
                link=_deal_link(want.deal_id, links) if want.deal_id is not None else "",
                since=want.since,
                wording=want.wording,
            )
        )
    summary.alerts_raised += len(alerts_raise_many(organization=organization, specs=specs, now=now))


def _deal_link(deal_id: int, links: dict[int, str]) -> str:
    link = links.get(deal_id)
    if link is None:
        link = links[deal_id] = reverse("web:deal", args=[deal_id])
    return link


def _rewrite(rows: list[tuple[str, str, dt.datetime | None, str, int]]) -> None:
    """Rewrite changed alerts: one prepared statement run for every row (no CASE per row)."""
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET message_zh = %s, message_en = %s, since = %s, "  # noqa: S608
            f"wording = %s WHERE id = %s",
            [(zh, en, adapt(since), wording, pk) for zh, en, since, wording, pk in rows],
        )
