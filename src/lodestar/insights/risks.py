"""Risk alerts of deals: each open deal judged by its team's playbook, its findings alerted.

The findings (silence, staleness, dwell overruns, backward moves; `lodestar.core.scoring`)
are raised to the deal's owner **and** the manager of the deal's team (the rep acts, the manager
coaches), one live alert per finding key (`deal:<id>:<kind>`) and recipient; findings an
exemption covers raise nothing; alerts whose finding is gone resolve (`alerts_sync`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lodestar.core.scoring import (
    RISK_KINDS,
    Message,
    RiskFinding,
    backward_message,
    deal_risks,
    risk_hits,
)
from lodestar.insights.alerts import (
    LIVE_STATUSES,
    LiveAlert,
    WantedAlert,
    alerts_sync,
    live_alert_rows,
)
from lodestar.insights.facts import DealFacts, team_managers
from lodestar.insights.models import Alert
from lodestar.insights.policy import Policies
from lodestar.insights.summary import RecomputeSummary
from lodestar.insights.wording import dwell_wording, with_prefix

__all__ = ["RISK_ALERT_KINDS", "deal_findings", "live_risk_alerts", "risks_sync"]

RISK_ALERT_KINDS: tuple[str, ...] = tuple(f"risk.{kind}" for kind in RISK_KINDS)


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


def risks_sync(
    policy: Policies,
    facts: dict[int, DealFacts],
    live: Sequence[LiveAlert],
    now: dt.datetime,
    summary: RecomputeSummary,
) -> None:
    """Each open deal checked by its team's policy (`risk_hits`, no sentences yet); the alerts
    of what holds raised to the owner and the team's manager, the rest resolved."""
    managers = team_managers(policy.organization_id)
    wanted: dict[tuple[str, int], WantedAlert] = {}
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
                want = WantedAlert(kind, deal_id, deal.owner_id, text=text)
            elif hit.kind == "dwell_overrun":
                stage_name = team.stage_names.get(deal.stage) or Message(deal.stage, deal.stage)
                target = team.stage_targets[deal.stage]  # a dwell overrun has a target
                wording = dwell_wordings.get((deal.team_id, deal.stage))
                if wording is None:
                    wording = dwell_wordings[(deal.team_id, deal.stage)] = dwell_wording(
                        stage_name, target
                    )
                want = WantedAlert(
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
                want = WantedAlert(kind, deal_id, deal.owner_id, since=hit.since, name=deal.name)
            if recipients is None:
                recipients = _risk_recipients(deal, managers)
            for recipient in recipients:
                wanted[(hit.key, recipient)] = want
    alerts_sync(
        organization=policy.organization, wanted=wanted, live=live, now=now, summary=summary
    )


def live_risk_alerts(organization_id: int, deal_ids: set[int] | None) -> list[LiveAlert]:
    alerts = Alert.objects.filter(
        organization_id=organization_id, kind__in=RISK_ALERT_KINDS, status__in=LIVE_STATUSES
    )
    if deal_ids is not None:
        alerts = alerts.filter(opportunity_id__among=sorted(deal_ids))
    return live_alert_rows(alerts)
