"""Health, risk and scorecard computation: incremental for what changed, full on demand.

One function does each job for a *deal filter*, and both roads call it:

- **incremental** — `insights_refresh(organization_id=…, deal_ids=…, now=…)`, run inside the
  event-ingestion transaction for the deals a batch touched (`insights_on_events`, a step of
  `lodestar.events.processing`), after an exemption is declared, and by anyone who changed a
  deal outside the event log;
- **full** — `insights_recompute(organization_id=None, progress=None, now=None)`, the CLI's
  `lodestar insights recompute` and the hourly sweep, which also catches what only time
  changes (silence, staleness, dwell, scores becoming final).

Both end in the same state for the same data and `now` (a test holds them to it):

- risk alerts — one live alert per finding key (`deal:<id>:<kind>`) and recipient; the deal's
  owner **and** the manager of the deal's team get it (the rep acts, the manager coaches);
  findings an exemption covers raise nothing; alerts whose finding is gone resolve;
- rep health — today's `HealthSnapshot` per rep (the day's latest computation wins) and one
  alert `rep:<id>:health` to the rep's team manager while the score is under the threshold,
  resolved when it recovers;
- communication scores — a `CommunicationScore` per customer communication of the last
  `SCORECARD_HORIZON`; final ones never change; a run of low final scores pushes the
  playbook's handbook to the rep once (`HandbookPush` + a notification).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from lodestar.changes import changed
from lodestar.core.scoring import (
    RISK_KINDS,
    Communication,
    HealthScore,
    Message,
    MinutesUpload,
    RiskFinding,
    ScorecardConfig,
    backward_message,
    communication_score,
    deal_risks,
    low_score_streaks,
    rep_health,
    risk_hits,
    risk_message,
)
from lodestar.core.scoring import (
    CommunicationScore as CoreScore,
)
from lodestar.crm.models import Attachment, KnowledgeEntry, Opportunity, TextStatus
from lodestar.db import bulk_insert_new, insert_statements
from lodestar.events.models import Event
from lodestar.insights import models as m
from lodestar.insights.activity import deal_activity_rebuild
from lodestar.insights.facts import DealFacts, deal_facts, task_records
from lodestar.insights.policy import COMMUNICATION_TYPES, InsightsPolicy, Policies
from lodestar.insights.rows import Stored, rows_of
from lodestar.insights.services import AlertSpec, alerts_raise_many
from lodestar.insights.wording import dwell_wording, with_prefix
from lodestar.integrations.services import NotificationSpec, notify_many
from lodestar.org.models import Membership, Organization, Role, Team, User
from lodestar.runtime import cycle_collection_paused

__all__ = [
    "HEALTH_KIND",
    "RISK_ALERT_KINDS",
    "SCORECARD_HORIZON",
    "RecomputeSummary",
    "health_alert_key",
    "insights_on_events",
    "insights_recompute",
    "insights_refresh",
    "rep_health_now",
]

HEALTH_KIND = "health"
RISK_ALERT_KINDS: tuple[str, ...] = tuple(f"risk.{kind}" for kind in RISK_KINDS)
# Communications older than this are not scored: the streak rule looks at recent work, and
# scoring a year of history on the first run would only announce stale news.
SCORECARD_HORIZON = dt.timedelta(weeks=12)
# Runs of low scores completed longer ago than this are recorded but not announced.
ANNOUNCE_WITHIN = dt.timedelta(days=7)
_LIVE = (m.AlertStatus.OPEN, m.AlertStatus.ACKNOWLEDGED)

Progress = Callable[[str, int, int], None]
# id, key, recipient id, message zh, message en, since, wording, deal id
_LiveAlert = tuple[int, str, int, str, str, dt.datetime | None, str, int | None]
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
class _Wanted:
    """One alert that should be live: what `_sync_alerts` raises, or rewrites if it differs.

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

    def differs(self, live: _LiveAlert) -> bool:
        """Whether the live alert says something else (a timed one: counts from elsewhere)."""
        if self.since is not None or live[5] is not None:
            return self.since != live[5] or self.wording != live[6]
        return self.text is None or self.text.zh != live[3] or self.text.en != live[4]


def _live_rows(alerts: Any) -> list[_LiveAlert]:
    """The live alerts as `_LiveAlert` rows; a timed alert's stored text is not read (it is
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


def health_alert_key(rep_id: int) -> str:
    return f"rep:{rep_id}:health"


@dataclass
class RecomputeSummary:
    organizations: int = 0
    deals: int = 0
    reps: int = 0
    findings: int = 0
    alerts_raised: int = 0
    alerts_resolved: int = 0
    communications_scored: int = 0
    handbooks_pushed: int = 0

    def add(self, other: RecomputeSummary) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# --- recipients ----------------------------------------------------------------------------------


def _team_managers(organization_id: int) -> dict[int, int]:
    return {
        team_id: manager_id
        for team_id, manager_id in Team.objects.filter(
            organization_id=organization_id, manager__isnull=False
        ).values_list("pk", "manager_id")
    }


def _users(ids: Iterable[int]) -> dict[int, User]:
    return User.objects.in_bulk(set(ids))


# --- risks ---------------------------------------------------------------------------------------


def _sync_alerts(
    *,
    organization: Organization,
    wanted: dict[tuple[str, int], _Wanted],
    live: Sequence[_LiveAlert],
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
    touched: list[_LiveAlert] = []
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
            tables=[m.Alert], deals=[row[7] for row in touched], alerted=[row[2] for row in touched]
        )
    if rewritten:
        _rewrite(rewritten)
    if stale_ids:
        summary.alerts_resolved += m.Alert.objects.filter(pk__among=stale_ids).update(
            status=m.AlertStatus.RESOLVED, resolved_at=now
        )
    missing = sorted(pair for pair in wanted if pair not in live_pairs)
    if not missing:
        return
    users = _users({recipient for _, recipient in missing})
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
    table = connection.ops.quote_name(m.Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET message_zh = %s, message_en = %s, since = %s, "  # noqa: S608
            f"wording = %s WHERE id = %s",
            [(zh, en, adapt(since), wording, pk) for zh, en, since, wording, pk in rows],
        )


def _risk_recipients(deal: DealFacts, managers: dict[int, int]) -> set[int]:
    recipients = {deal.owner_id}
    manager = managers.get(deal.team_id) if deal.team_id is not None else None
    if manager is not None:
        recipients.add(manager)
    return recipients


def deal_findings(
    facts: dict[int, DealFacts], policies: Policies, now: dt.datetime
) -> dict[int, list[RiskFinding]]:
    """Each deal judged by its team's policy."""
    found = {}
    for deal_id, item in facts.items():
        policy = policies.of(item.team_id)
        found[deal_id] = deal_risks(item.risk_input(policy), now=now, config=policy.risks)
    return found


def _sync_risks(
    policy: Policies,
    facts: dict[int, DealFacts],
    live: Sequence[_LiveAlert],
    now: dt.datetime,
    summary: RecomputeSummary,
) -> None:
    """Each open deal checked by its team's policy (`risk_hits`, no sentences yet); the alerts
    of what holds raised to the owner and the team's manager, the rest resolved."""
    managers = _team_managers(policy.organization_id)
    wanted: dict[tuple[str, int], _Wanted] = {}
    dwell_wordings: dict[tuple[int | None, str], str] = {}  # one per team and stage
    for deal_id, deal in facts.items():
        team = policy.of(deal.team_id)
        hits = risk_hits(deal.risk_input(team), now=now, config=team.risks)
        summary.findings += len(hits)
        recipients: set[int] | None = None
        for hit in hits:
            if hit.exempted:  # recorded for managers, never alerted
                continue
            kind = f"risk.{hit.kind}"
            if hit.kind == "backward_moves":
                text = with_prefix(deal.name, backward_message(hit.count))
                want = _Wanted(kind, deal_id, deal.owner_id, text=text)
            elif hit.kind == "dwell_overrun":
                stage_name = team.stage_names.get(deal.stage) or Message(deal.stage, deal.stage)
                target = team.stage_targets[deal.stage]  # a dwell overrun has a target
                wording = dwell_wordings.get((deal.team_id, deal.stage))
                if wording is None:
                    wording = dwell_wordings[(deal.team_id, deal.stage)] = dwell_wording(
                        stage_name, target
                    )
                want = _Wanted(
                    kind,
                    deal_id,
                    deal.owner_id,
                    since=hit.since,
                    wording=wording,
                    name=deal.name,
                    stage_name=stage_name,
                    target=target,
                )
            else:
                want = _Wanted(kind, deal_id, deal.owner_id, since=hit.since, name=deal.name)
            if recipients is None:
                recipients = _risk_recipients(deal, managers)
            for recipient in recipients:
                wanted[(hit.key, recipient)] = want
    _sync_alerts(
        organization=policy.organization, wanted=wanted, live=live, now=now, summary=summary
    )


def _live_risk_alerts(organization_id: int, deal_ids: set[int] | None) -> list[_LiveAlert]:
    alerts = m.Alert.objects.filter(
        organization_id=organization_id, kind__in=RISK_ALERT_KINDS, status__in=_LIVE
    )
    if deal_ids is not None:
        alerts = alerts.filter(opportunity_id__among=sorted(deal_ids))
    return _live_rows(alerts)


# --- health --------------------------------------------------------------------------------------


def _teams_of(organization_id: int, rep_ids: Iterable[int]) -> dict[int, int | None]:
    return dict(
        Membership.objects.filter(
            organization_id=organization_id, user_id__in=list(rep_ids)
        ).values_list("user_id", "team_id")
    )


def _health_of(
    policies: Policies,
    facts: dict[int, DealFacts],
    tasks: dict[int, list],
    rep_ids: Iterable[int],
    now: dt.datetime,
) -> dict[int, HealthScore]:
    """Each rep scored by their team's health policy; each deal's target by its team's."""
    by_rep: defaultdict[int, list] = defaultdict(list)
    for item in facts.values():
        by_rep[item.owner_id].append(item.open_deal(policies.of(item.team_id)))
    reps = list(rep_ids)
    team_of = _teams_of(policies.organization_id, reps)
    return {
        rep_id: rep_health(
            deals=by_rep.get(rep_id, []),
            tasks=tasks.get(rep_id, []),
            now=now,
            config=policies.of(team_of.get(rep_id)).health,
        )
        for rep_id in reps
    }


def rep_health_now(
    *, policies: Policies, rep_ids: set[int], now: dt.datetime
) -> dict[int, HealthScore]:
    """The health of these reps at `now`, computed from the data (nothing is written)."""
    windows = policies.health_windows()
    facts = deal_facts(
        policy=policies.default, deal_q=Q(owner_id__in=rep_ids), now=now, windows=windows
    )
    tasks = task_records(
        organization_id=policies.organization_id, rep_ids=rep_ids, now=now, window=max(windows)
    )
    return _health_of(policies, facts, tasks, rep_ids, now)


def _snapshot_rows(
    policy: Policies, scores: dict[int, HealthScore], now: dt.datetime
) -> list[m.HealthSnapshot]:
    today = now.astimezone(policy.organization.tz).date()
    rows = []
    for rep_id, health in scores.items():
        dwell, tasks, inter = health.dwell, health.tasks, health.interactions
        rows.append(
            m.HealthSnapshot(
                organization_id=policy.organization_id,
                rep_id=rep_id,
                date=today,
                computed_at=now,
                score=health.score,
                threshold=health.threshold,
                dwell_score=dwell.score,
                task_score=tasks.score,
                interaction_score=inter.score,
                figures={
                    "deals_scored": len(dwell.deals),
                    "mean_deviation": dwell.mean_deviation,
                    "deals_exempted": list(dwell.exempted),
                    "deals_without_target": len(dwell.without_target),
                    "tasks_due": int(tasks.rate.denominator),
                    "tasks_on_time": int(tasks.rate.numerator),
                    "tasks_late": len(tasks.late),
                    "tasks_missed": len(tasks.missed),
                    "interactions": inter.interactions,
                    "deal_weeks": round(inter.deal_weeks, 6),
                    "interaction_target": inter.target_per_deal_week,
                },
                weights=health.weights,
            )
        )
    return rows


# What a health snapshot shows (its other columns say how and when it was computed).
_SHOWN_HEALTH = ("score", "threshold", "dwell_score", "task_score", "interaction_score")


def _sync_health(
    policy: Policies,
    scores: dict[int, HealthScore],
    now: dt.datetime,
    summary: RecomputeSummary,
) -> None:
    rows = _snapshot_rows(policy, scores, now)
    shown = _SHOWN_HEALTH
    before = {
        row[0]: row[1:]
        for row in m.HealthSnapshot.objects.filter(
            organization_id=policy.organization_id,
            rep_id__among=sorted(scores),
            date=rows[0].date if rows else None,
        ).values_list("rep_id", *shown)
    }
    m.HealthSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["organization", "rep", "date"],
        update_fields=[
            "computed_at",
            "score",
            "threshold",
            "dwell_score",
            "task_score",
            "interaction_score",
            "figures",
            "weights",
        ],
        batch_size=500,
    )
    # Pages show the figures, not when they were computed: only reps whose figures moved.
    changed(
        tables=[m.HealthSnapshot],
        reps=[
            row.rep_id
            for row in rows
            if before.get(row.rep_id) != tuple(getattr(row, name) for name in shown)
        ],
    )
    summary.reps += len(scores)
    org_id = policy.organization_id
    team_of = _teams_of(org_id, scores)
    managers = _team_managers(org_id)
    names = dict(User.objects.filter(pk__in=list(scores)).values_list("pk", "display_name")) or {}
    wanted: dict[tuple[str, int], _Wanted] = {}
    keep_live: set[str] = set()  # no data: neither raised nor resolved
    for rep_id, health in scores.items():
        key = health_alert_key(rep_id)
        team_id = team_of.get(rep_id)
        manager = managers.get(team_id) if team_id is not None else None
        if health.score is None:
            keep_live.add(key)
            continue
        if health.needs_attention and manager is not None and manager != rep_id:
            name = names.get(rep_id) or str(rep_id)
            wanted[(key, manager)] = _Wanted(
                HEALTH_KIND,
                None,
                rep_id,
                text=Message(f"{name} 的{health.message.zh}", f"{name}: {health.message.en}"),
            )
    live = [
        row
        for row in _live_rows(
            m.Alert.objects.filter(
                organization_id=org_id,
                kind=HEALTH_KIND,
                status__in=_LIVE,
                dedupe_key__in=[health_alert_key(rep_id) for rep_id in scores],
            )
        )
        if row[1] not in keep_live
    ]
    _sync_alerts(
        organization=policy.organization, wanted=wanted, live=live, now=now, summary=summary
    )


# --- communication scorecard ---------------------------------------------------------------------


def _communications(
    policy: Policies, deal_q: Q, now: dt.datetime
) -> list[tuple[int, int, int, dt.datetime, dict, int | None]]:
    """Not-yet-final customer communications: (event id, deal id, owner id, at, payload, team).

    Two cheap id reads narrow the months of communications down to the few to score: those
    with no score yet (an anti-join that the `(organization, type, occurred_at)` index answers
    alone, run for the whole organization only over the periods `_unscored_periods` finds)
    and those whose score is not final; only these rows are then read in full, in one query,
    and checked (customer taking part).
    """
    from lodestar.insights.facts import related_q

    org_id = policy.organization_id
    horizon = Q(occurred_at__gte=now - SCORECARD_HORIZON, occurred_at__lte=now)
    in_scope = Event.objects.filter(
        related_q(deal_q), horizon, organization_id=org_id, type__in=COMMUNICATION_TYPES
    )
    scored = m.CommunicationScore.objects.filter(event_id=OuterRef("pk"))
    unscored = in_scope.filter(~Exists(scored)).order_by().values_list("pk", flat=True)
    candidates = set(
        m.CommunicationScore.objects.filter(related_q(deal_q), organization_id=org_id, final=False)
        .order_by()
        .values_list("event_id", flat=True)
    )
    if deal_q:
        candidates.update(unscored)
    else:  # the whole organization: months of communications, nearly all scored
        for period in _unscored_periods(org_id, now - SCORECARD_HORIZON, now):
            candidates.update(unscored.filter(period))
    return list(
        in_scope.filter(pk__among=sorted(candidates), with_customer=True)
        .exclude(communication_score__final=True)
        .order_by()
        .values_list(
            "pk",
            "opportunity_id",
            "opportunity__owner_id",
            "occurred_at",
            "payload",
            "opportunity__team_id",
        )
    )


# A period with at most this many communications is searched for unscored ones directly.
_SEARCH_DIRECTLY = 2000


def _unscored_periods(org_id: int, start: dt.datetime, end: dt.datetime) -> list[Q]:
    """The periods of `[start, end]` that hold communications without a score.

    Scores are written only for communications (`COMMUNICATION_TYPES`) and carry their
    organization and time, so a period whose communications and scores count the same holds
    none unscored. Both counts come from indexes alone; halving the periods that differ
    narrows the anti-join (a probe of the scores per communication: 180 k probes for 12
    weeks at 200 reps) down to the few hours that received new communications.
    """
    communications = Event.objects.filter(organization_id=org_id, type__in=COMMUNICATION_TYPES)
    scores = m.CommunicationScore.objects.filter(organization_id=org_id)

    def period(lo: dt.datetime, hi: dt.datetime, closed: bool) -> Q:
        return Q(occurred_at__gte=lo) & (
            Q(occurred_at__lte=hi) if closed else Q(occurred_at__lt=hi)
        )

    def counts(q: Q) -> tuple[int, int]:
        return communications.filter(q).count(), scores.filter(q).count()

    found: list[Q] = []
    pending = [(start, end, True, counts(period(start, end, True)))]
    while pending:
        lo, hi, closed, (n_comms, n_scores) = pending.pop()
        if n_comms == n_scores:
            continue
        whole = period(lo, hi, closed)
        if n_comms <= _SEARCH_DIRECTLY or hi - lo <= dt.timedelta(minutes=1):
            found.append(whole)
            continue
        middle = lo + (hi - lo) / 2
        first = counts(period(lo, middle, False))
        second = (n_comms - first[0], n_scores - first[1])
        pending += [(lo, middle, False, first), (middle, hi, closed, second)]
    return found


def _evidence(
    policy: InsightsPolicy,
    comms: list[tuple[int, int, int, dt.datetime, dict, int | None]],
    now: dt.datetime,
) -> dict[int, Communication]:
    """Minutes, knowledge links and follow-ups around each communication (3 queries)."""
    if not comms:
        return {}
    window = policy.scorecard.upload_within
    deal_ids = {c[1] for c in comms}
    start = min(c[3] for c in comms)
    end = min(max(c[3] for c in comms) + window, now)
    uploads: defaultdict[int, list[tuple[dt.datetime, int, int, bool]]] = defaultdict(list)
    for deal_id, at, chars, pk, text_status in (
        Attachment.objects.filter(
            organization_id=policy.organization_id,
            opportunity_id__among=sorted(deal_ids),
            kind=policy.minutes_kind,
            uploaded_at__gte=start,
            uploaded_at__lte=end,
        )
        .order_by("uploaded_at", "pk")
        .values_list("opportunity_id", "uploaded_at", "text_length", "pk", "text_status")
    ):
        uploads[deal_id].append((at, chars, pk, text_status == TextStatus.PENDING))
    links: defaultdict[int, list[tuple[dt.datetime, int | None, frozenset[str]]]] = defaultdict(
        list
    )
    followups: defaultdict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for deal_id, kind, at, payload in (
        Event.objects.filter(
            organization_id=policy.organization_id,
            opportunity_id__among=sorted(deal_ids),
            type__in=("knowledge.linked", "followup.scheduled"),
            occurred_at__gte=start,
            occurred_at__lte=end,
        )
        .order_by("occurred_at", "pk")
        .values_list("opportunity_id", "type", "occurred_at", "payload")
    ):
        if kind == "knowledge.linked":
            keys = frozenset(str(k) for k in payload.get("knowledge_keys") or ())
            named = payload.get("communication_event_id")
            links[deal_id].append((at, named if isinstance(named, int) else None, keys))
        else:
            followups[deal_id].append((at, _parse_time(payload.get("starts_at"))))
    out: dict[int, Communication] = {}
    for event_id, deal_id, _owner, at, payload, _team in comms:
        deadline = at + window
        minutes = tuple(
            MinutesUpload(
                uploaded_at=u_at, text_chars=chars, attachment_id=pk, text_pending=pending
            )
            for u_at, chars, pk, pending in _between(uploads[deal_id], at, deadline)
        )
        keys = {str(k) for k in payload.get("knowledge_keys") or ()}
        for l_at, named, linked in links[deal_id]:
            # A link names its communication, or else belongs to the ones it follows in time.
            if named == event_id or (named is None and at <= l_at <= deadline):
                keys |= linked
        starts = [s for f_at, s in _between(followups[deal_id], at, deadline) if s is not None]
        out[event_id] = Communication(
            communication_id=event_id,
            occurred_at=at,
            minutes=minutes,
            knowledge_links=len(keys),
            next_followup_at=max(starts) if starts else None,
        )
    return out


def _between(rows: list, start: dt.datetime, end: dt.datetime) -> list:
    """Rows (sorted by their first item, a time) with `start <= time <= end`."""
    times = [row[0] for row in rows]
    return rows[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]


def _parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _criteria_json(score: CoreScore) -> list[dict[str, object]]:
    return [
        {
            "key": c.key,
            "met": c.met,
            "weight": round(c.weight, 6),
            "zh": c.message.zh,
            "en": c.message.en,
        }
        for c in score.criteria
    ]


_SCORE_COLUMNS = (
    "organization_id",
    "event_id",
    "opportunity_id",
    "rep_id",
    "occurred_at",
    "score",
    "final",
    "criteria",
    "computed_at",
)


def _write_scores(rows: list[tuple[object, ...]]) -> None:
    """Insert or rewrite communication scores (values adapted for the database).

    Plain multi-row upserts: the first run scores months of communications (180 k at 200
    reps), and `bulk_create` prepared each of their 1.6 M values through its field — about
    half of that run.
    """
    quoted = map(
        connection.ops.quote_name,
        ("opportunity_id", "rep_id", "score", "final", "criteria", "computed_at"),
    )
    rewrite = ", ".join(f"{column} = excluded.{column}" for column in quoted)
    with connection.cursor() as cursor:
        for sql, params in insert_statements(
            m.CommunicationScore,
            _SCORE_COLUMNS,
            rows,
            tail=f"ON CONFLICT (event_id) DO UPDATE SET {rewrite}",
        ):
            cursor.execute(sql, params)
    deal = _SCORE_COLUMNS.index("opportunity_id")
    changed(tables=[m.CommunicationScore], deals=[row[deal] for row in rows])  # type: ignore[misc]


def _sync_scorecard(
    policies: Policies, deal_q: Q, now: dt.datetime, summary: RecomputeSummary
) -> None:
    comms = _communications(policies, deal_q, now)
    if not comms:
        return
    by_team: defaultdict[int | None, list] = defaultdict(list)
    for comm in comms:
        by_team[comm[5]].append(comm)
    evidence: dict[int, Communication] = {}
    for team_id, team_comms in by_team.items():
        evidence.update(_evidence(policies.of(team_id), team_comms, now))
    rows = []
    newly_final_reps: set[int] = set()
    adapt = connection.ops.adapt_datetimefield_value
    computed_at = adapt(now)
    for event_id, deal_id, owner_id, at, _payload, team_id in comms:
        config = policies.of(team_id).scorecard
        score = communication_score(evidence[event_id], now=now, config=config)
        rows.append(
            (
                policies.organization_id,
                event_id,
                deal_id,
                owner_id,
                adapt(at),
                score.score,
                score.final,
                json.dumps(_criteria_json(score)),
                computed_at,
            )
        )
        if score.final:
            newly_final_reps.add(owner_id)
    _write_scores(rows)
    summary.communications_scored += len(rows)
    if newly_final_reps:
        team_of = _teams_of(policies.organization_id, newly_final_reps)
        # Teams whose playbooks name the same handbook and streak rule are checked together.
        by_rule: defaultdict[tuple[str | None, ScorecardConfig], set[int]] = defaultdict(set)
        policy_of: dict[tuple[str | None, ScorecardConfig], InsightsPolicy] = {}
        for rep_id in newly_final_reps:
            policy = policies.of(team_of.get(rep_id))
            rule = (policy.handbook_key, policy.scorecard)
            by_rule[rule].add(rep_id)
            policy_of.setdefault(rule, policy)
        for rule, reps in by_rule.items():
            _push_handbooks(policy_of[rule], reps, now, summary)


def _push_handbooks(
    policy: InsightsPolicy, rep_ids: set[int], now: dt.datetime, summary: RecomputeSummary
) -> None:
    if not policy.handbook_key:
        return
    org_id = policy.organization_id
    finals: defaultdict[int, list[CoreScore]] = defaultdict(list)
    pk_of: dict[int, int] = {}
    for pk, rep_id, event_id, at, score in rows_of(
        m.CommunicationScore.objects.filter(
            organization_id=org_id,
            rep_id__in=rep_ids,
            final=True,
            occurred_at__gte=now - SCORECARD_HORIZON,
        )
        .annotate(at=Stored("occurred_at"))
        .order_by()
        .values_list("pk", "rep_id", "event_id", "at", "score")
    ):
        finals[rep_id].append(CoreScore(event_id, at, score, True, ()))
        pk_of[event_id] = pk
    pushed: defaultdict[int, set[int]] = defaultdict(set)
    for rep_id, ids in m.HandbookPush.objects.filter(
        organization_id=org_id, rep_id__in=rep_ids
    ).values_list("rep_id", "communication_ids"):
        pushed[rep_id].update(ids)
    handbook = KnowledgeEntry.objects.filter(
        organization_id=org_id, key=policy.handbook_key
    ).first()
    users = _users(rep_ids)
    pushes: list[m.HandbookPush] = []
    for rep_id in sorted(rep_ids):
        for streak in low_score_streaks(finals.get(rep_id, []), config=policy.scorecard):
            run = {int(i) for i in streak.communication_ids}
            if run & pushed[rep_id]:  # this run was already pushed
                continue
            pushed[rep_id] |= run
            pushes.append(
                m.HandbookPush(
                    organization_id=org_id,
                    rep_id=rep_id,
                    fired_by_id=pk_of[int(streak.fired_at)],
                    handbook=handbook,
                    handbook_key=policy.handbook_key,
                    communication_ids=sorted(run),
                    scores=list(streak.scores),
                    pushed_at=now,
                    notified=streak.fired_at_time >= now - ANNOUNCE_WITHIN,
                )
            )
    if not pushes:
        return
    summary.handbooks_pushed += len(pushes)
    if not bulk_insert_new(pushes):
        # A concurrent run pushed some of these runs first; notifying every push of these
        # runs is safe, as a cause reaches its recipient once.
        pushes = list(
            m.HandbookPush.objects.filter(
                organization_id=org_id, fired_by_id__among=[p.fired_by_id for p in pushes]
            )
        )
    changed(tables=[m.HandbookPush], people=[push.rep_id for push in pushes])
    title = handbook.title if handbook is not None else policy.handbook_key
    link = reverse("web:knowledge", kwargs={"entry_id": handbook.pk}) if handbook else ""
    specs = []
    with translation.override(settings.LANGUAGE_CODE):
        heading = gettext("Please read “%(title)s”") % {"title": title}
        for push in pushes:
            if not push.notified or push.rep_id not in users:
                continue
            detail = gettext(
                "Your last %(count)d customer communications scored %(scores)s, "
                "under %(threshold)s."
            ) % {
                "count": len(push.scores),
                "scores": ", ".join(f"{s:.0f}" for s in push.scores),
                "threshold": f"{policy.scorecard.threshold:g}",
            }
            specs.append(
                NotificationSpec(
                    recipient=users[push.rep_id],
                    title=heading,
                    body=detail,
                    link=link,
                    cause_key=f"handbook:{push.pk}",
                )
            )
    notify_many(organization=policy.organization, specs=specs, now=now)


# --- the two roads -------------------------------------------------------------------------------


def _reps_of(organization_id: int) -> set[int]:
    return set(
        Membership.objects.filter(organization_id=organization_id, role=Role.REP).values_list(
            "user_id", flat=True
        )
    )


@transaction.atomic
def insights_refresh(
    *,
    organization_id: int,
    deal_ids: Iterable[int],
    now: dt.datetime | None = None,
    risks: bool = True,
    scores: bool = True,
) -> RecomputeSummary:
    """Re-check the given deals (risks, communication scores) and their owners' health.

    Ingestion runs the risk part in its own transaction and leaves the scores (scorecard and
    health, which read weeks of history) to the worker: `risks=False` runs only those.
    """
    now = now or timezone.now()
    summary = RecomputeSummary()
    ids = set(deal_ids)
    if not ids:
        return summary
    organization = Organization.objects.get(pk=organization_id)
    policies = Policies(organization)
    deal_q = Q(pk__among=sorted(ids))
    if risks:
        facts = deal_facts(policy=policies.default, deal_q=deal_q, now=now)
        summary.deals = len(facts)
        _sync_risks(policies, facts, _live_risk_alerts(organization_id, ids), now, summary)
    if not scores:
        return summary
    _sync_scorecard(policies, deal_q, now, summary)
    owners = set(
        Opportunity.objects.filter(pk__among=sorted(ids)).values_list("owner_id", flat=True)
    ) & _reps_of(organization_id)
    if owners:
        scores = rep_health_now(policies=policies, rep_ids=owners, now=now)
        _sync_health(policies, scores, now, summary)
    return summary


def _recompute_org(
    organization: Organization, now: dt.datetime, progress: Progress
) -> RecomputeSummary:
    summary = RecomputeSummary(organizations=1)
    policies = Policies(organization)
    org_id = organization.pk
    windows = policies.health_windows()
    progress("deals", 0, 3)
    facts = deal_facts(policy=policies.default, deal_q=Q(), now=now, windows=windows)
    summary.deals = len(facts)
    # Alerts of deals that closed since the last run resolve here too: `live` covers them all.
    _sync_risks(policies, facts, _live_risk_alerts(org_id, None), now, summary)
    progress("health", 1, 3)
    reps = _reps_of(org_id)
    tasks = task_records(organization_id=org_id, rep_ids=None, now=now, window=max(windows))
    _sync_health(policies, _health_of(policies, facts, tasks, reps, now), now, summary)
    progress("scorecard", 2, 3)
    _sync_scorecard(policies, Q(), now, summary)
    progress("done", 3, 3)
    return summary


def insights_recompute(
    *,
    organization_id: int | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    rebuild: bool = False,
) -> RecomputeSummary:
    """Recompute everything for one organization (or all of them), each in one transaction.

    With `rebuild`, the per-deal activity summary is first recounted from the event log
    (after a bulk load that bypassed ingestion, or to repair it).

    `progress(phase, done, total)` is called as each organization advances ("deals",
    "health", "scorecard", "done"); the CLI's `lodestar insights recompute` prints it.
    """
    now = now or timezone.now()
    report = progress or (lambda phase, done, total: None)
    organizations = Organization.objects.order_by("pk")
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    summary = RecomputeSummary()
    for organization in organizations:
        with transaction.atomic(), cycle_collection_paused():
            if rebuild:
                deal_activity_rebuild(organization_id=organization.pk)
            summary.add(_recompute_org(organization, now, report))
    return summary


def insights_on_events(*, events: Sequence[Event], now: dt.datetime) -> None:
    """Ingestion step: re-check the risks of the deals the new events touched in the same
    transaction; their communication scores and owners' health follow in the worker once the
    events are committed (ARCHITECTURE: risk patterns inline, scores incrementally)."""
    from lodestar.insights.tasks import refresh_scores

    touched: defaultdict[int, set[int]] = defaultdict(set)
    for event in events:
        if event.opportunity_id is not None:
            touched[event.organization_id].add(event.opportunity_id)
    for organization_id, deal_ids in touched.items():
        insights_refresh(organization_id=organization_id, deal_ids=deal_ids, now=now, scores=False)
        transaction.on_commit(
            functools.partial(refresh_scores, organization_id, sorted(deal_ids), now.isoformat())
        )
