"""How a risk alert is worded: written once by the recompute, read as it stands when shown.

A silence, stale or dwell alert says how long something has lasted ("【某商机】已 80 小时无客户
互动"). Storing that figure would mean rewriting every such alert on every hourly sweep (tens of
thousands of rows at scale) only because an hour passed. Instead the alert keeps `since` (where
the time counts from, `RiskFinding.since`) and `wording` (the sentence's other parameters, JSON
text: the stage name and target of a dwell alert; empty for silence and stale), and
`alert_message` words it for the moment it is read — or for the moment it resolved. The stored
`message_zh`/`message_en` hold the sentence as last written (notifications, search, admin).
An alert raised with a message key (`Alert.message_key`, e.g. `task.overdue`) is worded from
its key and parameters instead (`lodestar.messages`), its task's title in either language.

The recompute compares `(since, wording)` — plain values, cheap to compare — to decide whether
an alert must be rewritten; timeless alerts (backward moves, health) compare their text.
"""

from __future__ import annotations

import datetime as dt
import json

from lodestar.core.scoring import InvalidScoringInput, Message, risk_message
from lodestar.i18n import localized
from lodestar.insights.models import SENTENCE, Alert
from lodestar.messages import Rendered, render_in

__all__ = ["alert_message", "alert_text", "deal_prefix", "dwell_wording", "with_prefix"]

_TIMED = frozenset({"risk.silence", "risk.stale", "risk.dwell_overrun"})


def deal_prefix(name: str) -> Message:
    """What goes before a deal's risk sentence: its name."""
    return Message(f"【{name}】", f"[{name}] ")


def with_prefix(name: str, sentence: Message) -> Message:
    prefix = deal_prefix(name)
    return Message(prefix.zh + sentence.zh, prefix.en + sentence.en)


def dwell_wording(stage_name: Message, target: dt.timedelta) -> str:
    """The `wording` of a dwell-overrun alert: the stage's name and its target dwell."""
    return json.dumps(
        {"stage": [stage_name.zh, stage_name.en], "target_hours": target / dt.timedelta(hours=1)},
        ensure_ascii=False,
        sort_keys=True,
    )


def alert_message(alert: Alert, now: dt.datetime) -> Message:
    """The alert's sentence as it reads at `now` (a resolved alert: as it read when it resolved).

    Reads `alert.opportunity` for the deal's current name: select it with the alerts.
    """
    stored = Message(alert.message_zh, alert.message_en)
    if alert.message_key != SENTENCE:
        return Message(
            render_in("zh-hans", alert.message_key, alert.params, stored=Rendered(stored.zh)).title,
            render_in("en", alert.message_key, alert.params, stored=Rendered(stored.en)).title,
        )
    if alert.since is None or alert.kind not in _TIMED or alert.opportunity_id is None:
        return stored
    deal = alert.opportunity
    if deal is None:
        return stored
    at = alert.resolved_at if alert.resolved_at is not None and alert.resolved_at < now else now
    stage_name: Message | None = None
    target: dt.timedelta | None = None
    if alert.wording:
        try:
            params = json.loads(alert.wording)
            stage_name = Message(*params["stage"])
            target = dt.timedelta(hours=float(params["target_hours"]))
        except (ValueError, KeyError, TypeError):
            return stored
    try:
        sentence = risk_message(
            alert.kind.removeprefix("risk."),  # type: ignore[arg-type]
            since=alert.since,
            now=at,
            stage_name=stage_name,
            target=target,
        )
    except InvalidScoringInput:
        return stored
    return with_prefix(deal.name, sentence)


def alert_text(alert: Alert, now: dt.datetime) -> str:
    """The alert's sentence at `now`, in the active language."""
    return localized(alert_message(alert, now))
