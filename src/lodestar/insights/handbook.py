"""Handbook pushes: a run of low final scores sends the playbook's handbook to the rep, once.

When a rep's communications receive final scores (`insights.scorecards`), their final scores
of the last `SCORECARD_HORIZON` are checked for runs under the playbook's threshold
(`lodestar.core.scoring.low_score_streaks`). Each new run is recorded as a `HandbookPush` and,
when it completed within `ANNOUNCE_WITHIN`, announced to the rep with a notification; a run
that overlaps one already pushed is not pushed again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.urls import reverse

from lodestar.changes import changed
from lodestar.core.scoring import CommunicationScore as CoreScore
from lodestar.core.scoring import ScorecardConfig, low_score_streaks
from lodestar.crm.models import KnowledgeEntry
from lodestar.db import bulk_insert_new
from lodestar.insights.facts import rep_teams
from lodestar.insights.models import CommunicationScore, HandbookPush
from lodestar.insights.policy import InsightsPolicy, Policies
from lodestar.insights.rows import Stored, rows_of
from lodestar.insights.scorecards import SCORECARD_HORIZON
from lodestar.insights.summary import RecomputeSummary
from lodestar.integrations.services import NotificationSpec, notify_many
from lodestar.messages import Msg
from lodestar.org.models import User

__all__ = ["ANNOUNCE_WITHIN", "handbooks_push"]

# Runs of low scores completed longer ago than this are recorded but not announced.
ANNOUNCE_WITHIN = dt.timedelta(days=7)


def handbooks_push(
    policies: Policies, rep_ids: set[int], now: dt.datetime, summary: RecomputeSummary
) -> None:
    """Push the handbook to each of these reps (who just received final scores) whose final
    scores hold a new run of low ones."""
    if not rep_ids:
        return
    team_of = rep_teams(policies.organization_id, rep_ids)
    # Teams whose playbooks name the same handbook and streak rule are checked together.
    by_rule: defaultdict[tuple[str | None, ScorecardConfig], set[int]] = defaultdict(set)
    policy_of: dict[tuple[str | None, ScorecardConfig], InsightsPolicy] = {}
    for rep_id in rep_ids:
        policy = policies.of(team_of.get(rep_id))
        rule = (policy.handbook_key, policy.scorecard)
        by_rule[rule].add(rep_id)
        policy_of.setdefault(rule, policy)
    for rule, reps in by_rule.items():
        _push_under(policy_of[rule], reps, now, summary)


def _push_under(
    policy: InsightsPolicy, rep_ids: set[int], now: dt.datetime, summary: RecomputeSummary
) -> None:
    """The pushes of reps who follow one handbook and streak rule."""
    if not policy.handbook_key:
        return
    org_id = policy.organization_id
    handbook = KnowledgeEntry.objects.filter(
        organization_id=org_id, key=policy.handbook_key
    ).first()
    pushes = _new_pushes(policy, handbook, rep_ids, now)
    if not pushes:
        return
    summary.handbooks_pushed += len(pushes)
    if not bulk_insert_new(pushes):
        # A concurrent run pushed some of these runs first; notifying every push of these
        # runs is safe, as a cause reaches its recipient once.
        pushes = list(
            HandbookPush.objects.filter(
                organization_id=org_id, fired_by_id__among=[p.fired_by_id for p in pushes]
            )
        )
    changed(tables=[HandbookPush], people=[push.rep_id for push in pushes])
    _announce(policy, handbook, pushes, now)


def _new_pushes(
    policy: InsightsPolicy,
    handbook: KnowledgeEntry | None,
    rep_ids: set[int],
    now: dt.datetime,
) -> list[HandbookPush]:
    """The runs of low final scores of these reps not pushed yet, as unsaved pushes."""
    org_id = policy.organization_id
    handbook_key = policy.handbook_key or ""
    finals: defaultdict[int, list[CoreScore]] = defaultdict(list)
    pk_of: dict[int, int] = {}
    for pk, rep_id, event_id, at, score in rows_of(
        CommunicationScore.objects.filter(
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
    for rep_id, ids in HandbookPush.objects.filter(
        organization_id=org_id, rep_id__in=rep_ids
    ).values_list("rep_id", "communication_ids"):
        pushed[rep_id].update(ids)
    pushes: list[HandbookPush] = []
    for rep_id in sorted(rep_ids):
        for streak in low_score_streaks(finals.get(rep_id, []), config=policy.scorecard):
            run = {int(i) for i in streak.communication_ids}
            if run & pushed[rep_id]:  # this run was already pushed
                continue
            pushed[rep_id] |= run
            pushes.append(
                HandbookPush(
                    organization_id=org_id,
                    rep_id=rep_id,
                    fired_by_id=pk_of[int(streak.fired_at)],
                    handbook=handbook,
                    handbook_key=handbook_key,
                    communication_ids=sorted(run),
                    scores=list(streak.scores),
                    pushed_at=now,
                    notified=streak.fired_at_time >= now - ANNOUNCE_WITHIN,
                )
            )
    return pushes


def _announce(
    policy: InsightsPolicy,
    handbook: KnowledgeEntry | None,
    pushes: list[HandbookPush],
    now: dt.datetime,
) -> None:
    """Tell each rep of a push to be announced to read the handbook, and why."""
    users = User.objects.in_bulk({push.rep_id for push in pushes})
    # Chinese titles often carry their own book-title marks (《高频异议应答手册》) and the message
    # puts the title in quotation marks (《…》 in Chinese): the title's own marks are dropped.
    title = (handbook.title if handbook is not None else policy.handbook_key or "").strip('《》“”"')
    link = reverse("web:knowledge", kwargs={"entry_id": handbook.pk}) if handbook else ""
    specs = []
    for push in pushes:
        if not push.notified or push.rep_id not in users:
            continue
        specs.append(
            NotificationSpec(
                recipient=users[push.rep_id],
                title="",
                link=link,
                cause_key=f"handbook:{push.pk}",
                # Worded for each reader (`lodestar.messages`).
                message=Msg(
                    "handbook.pushed",
                    {
                        "title": title,
                        "count": len(push.scores),
                        "scores": ", ".join(f"{s:.0f}" for s in push.scores),
                        "threshold": f"{policy.scorecard.threshold:g}",
                    },
                ),
            )
        )
    notify_many(organization=policy.organization, specs=specs, now=now)
