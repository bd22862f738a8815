"""Alerts for tests, raised as the risk checks raise them."""

from __future__ import annotations

from typing import Any

from lodestar.insights.alerts import alert_raise
from lodestar.insights.models import Alert
from tests.conftest import Cast


def raise_alerts(cast: Cast, rep: Any, kind: str, count: int, recipient: Any = None) -> list[Alert]:
    """`count` live alerts of `kind` to the manager (or `recipient`), each about a deal of
    `rep`'s, as the risk checks raise them."""
    from tests.factories import OpportunityFactory

    raised = []
    for index in range(count):
        deal = OpportunityFactory(owner=rep, name=f"{rep.username}-{kind}-{index}")
        alert = alert_raise(
            organization=rep.membership.organization,
            kind=kind,
            recipient=recipient or cast.manager,
            dedupe_key=f"deal:{deal.pk}:{kind}",
            message_zh=f"【{deal.name}】{kind} 中文",
            message_en=f"[{deal.name}] {kind} in English",
            opportunity=deal,
            subject_user=rep,
        )
        assert alert is not None
        raised.append(alert)
    return raised
