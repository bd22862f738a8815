"""A team's week for the weekly report tests, at a fixed moment.

The cast's organization (Asia/Shanghai) publishes the seed playbook with a weekly required
call per account. Its week 2026-W50 is due on Monday 7 December 2026 at 08:00 local time
(00:00 UTC); `NOW` is half an hour later. In the cast's team:

- the **owner** is far below 70: a deal in "demo" for 12 days (target 5 days) and one in
  "first_contact" for 10 days (target 7 days), no customer interaction since they were opened
  a month ago, and two tasks due in the week left undone;
- the **teammate** is healthy: a deal in "first_contact" for a day, three calls in the week on
  it, a task done on time; two of the calls scored 40 for lack of a next follow-up;
- the other team's rep has a deal that no report of this team may show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lodestar.core.reports import IsoWeek
from tests.conftest import Cast, seed_playbook_source

DUE = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)  # Monday 08:00 in Shanghai
NOW = DUE + dt.timedelta(minutes=30)
WEEK = IsoWeek(2026, 50)
DAY = dt.timedelta(days=1)

REQUIRED_ACTIONS = """required_actions:
  - id: weekly_call
    name: {zh: 每周电话, en: Weekly call}
    period: week
    actions:
      - {event: call}
"""


@dataclass
class TeamWeek:
    cast: Cast
    stuck_demo: Any  # the owner's deal 12 days in "demo"
    stuck_first: Any  # the owner's deal 10 days in "first_contact"
    healthy: Any  # the teammate's deal
    elsewhere: Any  # the other team's deal


def publish_playbook(cast: Cast) -> Any:
    from lodestar.playbooks.services import playbook_publish_source

    return playbook_publish_source(
        user=cast.ops, source=seed_playbook_source() + REQUIRED_ACTIONS, source_name="seed.yaml"
    ).version


def build_week(cast: Cast) -> TeamWeek:
    from lodestar.insights.activity import deal_activity_rebuild
    from tests.factories import (
        AccountFactory,
        CommunicationScoreFactory,
        EventFactory,
        OpportunityFactory,
        TaskFactory,
    )

    publish_playbook(cast)
    opened = DUE - 30 * DAY

    def deal(owner: Any, stage: str, entered: dt.timedelta, amount: str, name: str) -> Any:
        account = AccountFactory(organization=cast.org, owner=owner, name=f"{name}客户")
        return OpportunityFactory(
            owner=owner,
            account=account,
            name=name,
            stage_key=stage,
            stage_entered_at=DUE - entered,
            created_at=opened,
            amount=Decimal(amount),
        )

    stuck_demo = deal(cast.owner, "demo", 12 * DAY, "100000", "华东机床-伺服电机")
    stuck_first = deal(cast.owner, "first_contact", 10 * DAY, "200000", "苏州精工-数控改造")
    healthy = deal(cast.teammate, "first_contact", DAY, "100000", "宁波轴承-产线升级")
    elsewhere = deal(cast.other_team_rep, "quote", DAY, "900000", "广州电子-贴片线")
    for task_deal in (stuck_demo, stuck_first):
        TaskFactory(opportunity=task_deal, created_at=DUE - 5 * DAY, due_at=DUE - 3 * DAY)
    TaskFactory(
        opportunity=healthy,
        created_at=DUE - 4 * DAY,
        due_at=DUE - 2 * DAY,
        status="done",
        completed_at=DUE - 3 * DAY,
    )
    calls = [
        EventFactory(opportunity=healthy, occurred_at=DUE - days * DAY, type="call")
        for days in (1, 2, 3)
    ]
    missed = [
        {"key": "minutes", "met": True, "weight": 0.4, "zh": "纪要已上传", "en": "minutes"},
        {"key": "knowledge_link", "met": False, "weight": 0.3, "zh": "未关联", "en": "no link"},
        {"key": "next_followup", "met": False, "weight": 0.3, "zh": "未安排", "en": "none"},
    ]
    for call in calls[:2]:
        CommunicationScoreFactory(event=call, score=40.0, criteria=missed)
    deal_activity_rebuild(organization_id=cast.org.pk)
    return TeamWeek(cast, stuck_demo, stuck_first, healthy, elsewhere)
