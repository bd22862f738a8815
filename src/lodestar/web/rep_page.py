"""The read model of a rep's page: what a manager looks at before coaching, and what the rep
sees of themselves there.

Its funnel health is the one the rep's Today page shows (`own_health`: the latest snapshot,
its three parts, the 12-week trend, what would raise it most); then the rep's open deals, their
tasks overdue and due within the week, the scorecards of their customer communications, and the
coaching sessions planned for them. Who may open it is who may read the rep's health
(`access_rep`: the rep, their manager, ops, admins); anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lodestar.automation.models import Task
from lodestar.automation.selectors import TaskFilters, task_list_for
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.crm.selectors import OpportunityFilters, opportunity_list
from lodestar.i18n import localized, speaks_chinese
from lodestar.insights.models import CommunicationScore
from lodestar.insights.selectors import (
    CoachingNote,
    OwnHealth,
    access_rep,
    coaching_note_list,
    communication_score_list,
    rep_own_health,
)
from lodestar.org.models import User
from lodestar.playbooks.selectors import published_playbook
from lodestar.web.pages import TrendMark, trend_marks

__all__ = ["DEALS_SHOWN", "SCORES_SHOWN", "TASKS_SHOWN", "RepPage", "ScoreRow", "rep_page"]

DEALS_SHOWN = 30
TASKS_SHOWN = 20
SCORES_SHOWN = 12
COACHING_SHOWN = 10
# Tasks "due soon" on the rep's page: those due within this span from now.
DUE_WITHIN = dt.timedelta(days=7)


@dataclass(frozen=True)
class DealRow:
    deal: Opportunity
    stage_name: str
    in_stage: dt.timedelta


@dataclass(frozen=True)
class ScoreRow:
    """One communication's scorecard: its score and the criteria it missed, in words."""

    score: CommunicationScore
    met: int
    criteria: int
    missed: list[str]


@dataclass
class RepPage:
    rep: User
    team_name: str | None
    now: dt.datetime
    health: OwnHealth | None
    deals: list[DealRow]
    deals_total: int
    overdue: list[Task]
    due_soon: list[Task]
    scores: list[ScoreRow]
    coaching: list[CoachingNote]

    @property
    def trend_marks(self) -> list[TrendMark]:
        return trend_marks(self.health.trend) if self.health else []


def _stage_names(
    deals: list[Opportunity], organization_id: int
) -> dict[tuple[int | None, str], str]:
    names: dict[tuple[int | None, str], str] = {}
    playbooks: dict[int | None, Any] = {}
    for deal in deals:
        if deal.team_id not in playbooks:
            playbooks[deal.team_id] = published_playbook(
                organization_id=organization_id, team_id=deal.team_id
            )
        playbook = playbooks[deal.team_id]
        key = (deal.team_id, deal.stage_key)
        if key in names:
            continue
        try:
            names[key] = localized(playbook.playbook.stage(deal.stage_key).name)
        except (AttributeError, KeyError):  # no playbook, or a stage it no longer has
            names[key] = deal.stage_key
    return names


def _score_row(score: CommunicationScore) -> ScoreRow:
    criteria = [c for c in score.criteria if isinstance(c, dict)]
    chinese = speaks_chinese()
    return ScoreRow(
        score=score,
        met=sum(1 for c in criteria if c.get("met")),
        criteria=len(criteria),
        missed=[
            str((c.get("zh") if chinese else c.get("en")) or c.get("zh") or c.get("key", ""))
            for c in criteria
            if not c.get("met")
        ],
    )


def rep_page(*, user: User, rep_id: int, now: dt.datetime) -> RepPage:
    """The rep's page as `user` may see it (404 for a rep outside their scope)."""
    membership = access_rep(user=user, rep_id=rep_id)
    deals_qs = opportunity_list(
        user=user, filters=OpportunityFilters(status=OpportunityStatus.OPEN, owner_id=rep_id)
    ).order_by("stage_entered_at", "pk")
    deals = list(deals_qs[:DEALS_SHOWN])
    names = _stage_names(deals, membership.organization_id)
    tasks = task_list_for(user=user, filters=TaskFilters(assignee_id=rep_id))
    return RepPage(
        rep=membership.user,
        team_name=membership.team.name if membership.team else None,
        now=now,
        health=rep_own_health(user=user, rep_id=rep_id, now=now),
        deals=[
            DealRow(deal, names[(deal.team_id, deal.stage_key)], now - deal.stage_entered_at)
            for deal in deals
        ],
        deals_total=deals_qs.count() if len(deals) == DEALS_SHOWN else len(deals),
        overdue=list(tasks.filter(due_at__lt=now)[:TASKS_SHOWN]),
        due_soon=list(tasks.filter(due_at__gte=now, due_at__lt=now + DUE_WITHIN)[:TASKS_SHOWN]),
        scores=[
            _score_row(score)
            for score in communication_score_list(user=user, rep_id=rep_id)[:SCORES_SHOWN]
        ],
        coaching=coaching_note_list(user=user, rep_id=rep_id)[:COACHING_SHOWN],
    )
