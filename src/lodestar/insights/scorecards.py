"""Communication scorecards: each customer communication scored on the work around it.

A `CommunicationScore` is kept per customer communication of the last `SCORECARD_HORIZON`
(minutes uploaded in time, knowledge linked, a follow-up scheduled; `lodestar.core.scoring`).
A score becomes final once its upload window has passed, and final ones never change.
`scorecard_sync` returns the reps who received final scores, whose runs of low scores
`insights.handbook` then checks.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import defaultdict
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from lodestar.changes import changed
from lodestar.core.scoring import Communication, MinutesUpload, communication_score
from lodestar.core.scoring import CommunicationScore as CoreScore
from lodestar.crm.models import Attachment, TextStatus
from lodestar.db import insert_statements
from lodestar.events.models import Event
from lodestar.insights.facts import related_q
from lodestar.insights.models import CommunicationScore
from lodestar.insights.policy import COMMUNICATION_TYPES, InsightsPolicy, Policies
from lodestar.insights.summary import RecomputeSummary

__all__ = ["SCORECARD_HORIZON", "scorecard_sync"]

# Communications older than this are not scored: the streak rule looks at recent work, and
# scoring a year of history on the first run would only announce stale news.
SCORECARD_HORIZON = dt.timedelta(weeks=12)

# A communication to score: (event id, deal id, owner id, at, payload, deal's team id).
_Communication = tuple[int, int, int, dt.datetime, dict[str, Any], int | None]
# A row of evidence: its time first.
_Row = TypeVar("_Row", bound=tuple[Any, ...])


def _communications(policy: Policies, deal_q: Q, now: dt.datetime) -> list[_Communication]:
    """Not-yet-final customer communications: (event id, deal id, owner id, at, payload, team).

    Two cheap id reads narrow the months of communications down to the few to score: those
    with no score yet (an anti-join that the `(organization, type, occurred_at)` index answers
    alone, run for the whole organization only over the periods `_unscored_periods` finds)
    and those whose score is not final; only these rows are then read in full, in one query,
    and checked (customer taking part).
    """
    org_id = policy.organization_id
    horizon = Q(occurred_at__gte=now - SCORECARD_HORIZON, occurred_at__lte=now)
    in_scope = Event.objects.filter(
        related_q(deal_q), horizon, organization_id=org_id, type__in=COMMUNICATION_TYPES
    )
    scored = CommunicationScore.objects.filter(event_id=OuterRef("pk"))
    unscored = in_scope.filter(~Exists(scored)).order_by().values_list("pk", flat=True)
    candidates = set(
        CommunicationScore.objects.filter(related_q(deal_q), organization_id=org_id, final=False)
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
    scores = CommunicationScore.objects.filter(organization_id=org_id)

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
    comms: list[_Communication],
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
            linked_keys = frozenset(str(k) for k in payload.get("knowledge_keys") or ())
            named = payload.get("communication_event_id")
            links[deal_id].append((at, named if isinstance(named, int) else None, linked_keys))
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


def _between(rows: list[_Row], start: dt.datetime, end: dt.datetime) -> list[_Row]:
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
            CommunicationScore,
            _SCORE_COLUMNS,
            rows,
            tail=f"ON CONFLICT (event_id) DO UPDATE SET {rewrite}",
        ):
            cursor.execute(sql, params)
    deal = _SCORE_COLUMNS.index("opportunity_id")
    changed(tables=[CommunicationScore], deals=[row[deal] for row in rows])  # type: ignore[misc]


def scorecard_sync(
    policies: Policies, deal_q: Q, now: dt.datetime, summary: RecomputeSummary
) -> set[int]:
    """Score the not-yet-final communications of the deals `deal_q` matches; returns the reps
    whose communications received a final score."""
    comms = _communications(policies, deal_q, now)
    if not comms:
        return set()
    by_team: defaultdict[int | None, list[_Communication]] = defaultdict(list)
    for comm in comms:
        by_team[comm[5]].append(comm)
    evidence: dict[int, Communication] = {}
    for team_id, team_comms in by_team.items():
        evidence.update(_evidence(policies.of(team_id), team_comms, now))
    rows: list[tuple[object, ...]] = []
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
    return newly_final_reps
