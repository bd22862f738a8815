"""Risk flags and stuck reasons of deals, for the pages.

The pages' one door to "what is wrong with this deal": the rep's page, the deal page and the
board call `deal_signals`, which reads the insights app (the playbook's risk patterns and the
plain-language stuck reason, `lodestar.core.scoring`) and puts the answers in the request's
language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q

from lodestar.crm.models import Opportunity
from lodestar.i18n import localized
from lodestar.insights.facts import deal_facts
from lodestar.insights.policy import Policies
from lodestar.insights.risks import deal_findings
from lodestar.insights.selectors import deal_stuck_reason
from lodestar.org.models import User

__all__ = ["DealSignals", "add_stuck_reasons", "deal_signals"]


@dataclass
class DealSignals:
    """What the pages show about one deal's risks, already in the request's language."""

    risks: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    exempted: bool = False
    stuck: str | None = None

    @property
    def needs_attention(self) -> bool:
        return bool(self.risks or self.stuck)


def deal_signals(
    *,
    user: User,
    deals: Sequence[Opportunity],
    now: dt.datetime,
    with_stuck: Sequence[int] = (),
) -> dict[int, DealSignals]:
    """Risk findings of `deals` at `now` (a handful of queries for any number of deals), and
    the stuck reason of the deals in `with_stuck` (one gate evaluation each).

    The caller got `deals` from a scoped selector; the stuck reasons are read through
    `deal_stuck_reason`, which checks access again.
    """
    out = {deal.pk: DealSignals() for deal in deals}
    if not deals:
        return out
    policies = Policies(deals[0].organization)
    facts = deal_facts(policy=policies.default, deal_q=Q(pk__in=list(out)), now=now)
    for deal_id, findings in deal_findings(facts, policies, now).items():
        signals = out[deal_id]
        for finding in findings:
            if finding.exempted:
                signals.exempted = True
                continue
            signals.risks.append(localized(finding.message))
            signals.severities.append(finding.severity)
    add_stuck_reasons(user=user, signals=out, deal_ids=with_stuck, now=now)
    return out


def add_stuck_reasons(
    *, user: User, signals: dict[int, DealSignals], deal_ids: Sequence[int], now: dt.datetime
) -> None:
    """Fill in the stuck reason of `deal_ids` (one gate evaluation each, past-target deals)."""
    out = signals
    for deal_id in deal_ids:
        reason = deal_stuck_reason(user=user, opportunity_id=deal_id, now=now)
        if reason is not None and deal_id in out:
            out[deal_id].stuck = localized(reason.message)
            out[deal_id].exempted = out[deal_id].exempted or reason.exempted
