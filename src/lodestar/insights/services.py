"""Writes of alerts and exemptions.

- `exemption_declare` — a rep marks their own deal "客户临时失联" for a period: the deal stops
  counting against their health and raises no silence/stale alerts until it ends; a re-check
  task falls due after the playbook's `risks.exemption_recheck` (14 days). Audited.
- `alert_acknowledge` — the recipient has seen an alert; it stays live until its condition
  clears (an acknowledged alert is not raised again).

Alerts are keyed by `dedupe_key` (e.g. `deal:12:silence`, `task:40:overdue`): while an alert with
that key is open or acknowledged, raising it again changes nothing, and it resolves itself when
the condition clears (`alert_resolve`). Every new alert also goes to the recipient's inbox and
channels through the notification outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.changes import changed
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from lodestar.insights.models import Alert, AlertStatus, Exemption, ExemptionReason
from lodestar.integrations.services import NotificationSpec, notify_many
from lodestar.org.models import Organization, User
from lodestar.org.selectors import actor_of
from lodestar.org.services import audit_record

__all__ = [
    "EXEMPTION_MAX_DAYS",
    "AlertSpec",
    "alert_acknowledge",
    "alert_raise",
    "alert_resolve",
    "alerts_raise_many",
    "alerts_resolve_except",
    "exemption_declare",
]

EXEMPTION_MAX_DAYS = 60
# Task titles are stored text, written Chinese-first like the playbook's own task titles.
_REASON_ZH = {
    ExemptionReason.CUSTOMER_UNREACHABLE: "客户临时失联",
    ExemptionReason.CUSTOMER_ON_LEAVE: "客户休假",
    ExemptionReason.OTHER: "其他原因",
}

_LIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
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
    spec = AlertSpec(
        kind=kind,
        recipient=recipient,
        dedupe_key=dedupe_key,
        message_zh=message_zh,
        message_en=message_en,
        opportunity_id=opportunity.pk if opportunity is not None else None,
        subject_user_id=subject_user.pk if subject_user is not None else None,
        link=link,
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
                status__in=_LIVE,
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
                title=spec.message_zh,
                body=spec.message_en,
                link=spec.link,
                cause_key=f"alert:{alert.pk}",
            )
            for spec, alert in zip(wanted, alerts, strict=True)
        ],
        now=now,
    )
    return alerts


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


@transaction.atomic
def alert_acknowledge(*, user: User, alert_id: int, now: dt.datetime | None = None) -> Alert:
    """Mark one of the user's own alerts as seen; anyone else's is not found."""
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
    return alert


@transaction.atomic
def exemption_declare(
    *,
    user: User,
    opportunity: Opportunity,
    reason_code: str,
    reason: str,
    days: int,
    now: dt.datetime | None = None,
) -> Exemption:
    """Exempt the user's own open deal for `days` days and schedule the re-check task.

    The caller fetched `opportunity` with `access_opportunity(…, for_write=True)`; only the
    deal's owner may declare (the rep knows the customer went quiet; a manager sees it).
    """
    from lodestar.insights.computation import insights_refresh  # computation imports us
    from lodestar.insights.policy import insights_policy

    now = now or timezone.now()
    if opportunity.owner_id != user.pk:
        raise PermissionDenied(_("Only the deal's owner declares an exemption for it."))
    if opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(_("Only open deals can be exempted."))
    problems = []
    if reason_code not in ExemptionReason.values:
        problems.append(
            (
                "reason_code",
                _("Choose one of: %(codes)s.") % {"codes": ", ".join(ExemptionReason.values)},
            )
        )
    if not reason.strip():
        problems.append(("reason", _("Say why the customer cannot be reached.")))
    if not 1 <= days <= EXEMPTION_MAX_DAYS:
        problems.append(
            ("days", _("An exemption lasts 1 to %(max)d days.") % {"max": EXEMPTION_MAX_DAYS})
        )
    if problems:
        raise ValidationFailed(details=[FieldError(f, msg) for f, msg in problems])
    deal = (
        Opportunity.objects.select_for_update()
        .select_related("organization")
        .get(pk=opportunity.pk)
    )
    if Exemption.objects.filter(opportunity=deal, starts_at__lte=now, ends_at__gt=now).exists():
        raise Conflict(_("This deal is already exempted; the current exemption must end first."))
    policy = insights_policy(organization=deal.organization, team_id=deal.team_id)
    exemption = Exemption.objects.create(
        organization_id=deal.organization_id,
        opportunity=deal,
        declared_by=user,
        reason_code=reason_code,
        reason=reason.strip(),
        starts_at=now,
        ends_at=now + dt.timedelta(days=days),
        recheck_at=now + policy.exemption_recheck,
        created_at=now,
    )
    label = _REASON_ZH[ExemptionReason(reason_code)]
    task = Task.objects.create(
        organization_id=deal.organization_id,
        opportunity=deal,
        assignee=deal.owner,
        title=f"复查豁免({label}):{deal.name}"[:200],
        description=f"{exemption.reason}\n\nRe-check the exemption of “{deal.name}”.",
        trigger_key=f"exemption:{exemption.pk}:recheck",
        created_at=now,
        due_at=exemption.recheck_at,
        status=TaskStatus.OPEN,
    )
    audit_record(
        organization_id=deal.organization_id,
        actor=user,
        action="exemption.declare",
        object_type="opportunity",
        object_id=deal.pk,
        data={
            "exemption": exemption.pk,
            "reason_code": reason_code,
            "reason": exemption.reason,
            "starts_at": exemption.starts_at.isoformat(),
            "ends_at": exemption.ends_at.isoformat(),
            "recheck_task": task.pk,
        },
        at=now,
    )
    # Silence and stale alerts of the deal resolve now, not at the next sweep.
    insights_refresh(organization_id=deal.organization_id, deal_ids={deal.pk}, now=now)
    return exemption
