"""Deal risk patterns (风险模式): backward moves, customer silence, staleness, dwell overrun.

Seed 000: "阶段倒退两次以上;连续72小时无客户互动"; seed 001: "最后一次沟通已超47天且无任何新动作".

Each pattern is a pure check of one deal at ``now`` and gives at most one :class:`RiskFinding`
with a **stable key** (``deal:<id>:<kind>``; the dwell key also names the stage) so the Django
layer can keep one alert open per key and resolve it when the finding disappears. All limits
are inclusive ("≥ 2 times", "≥ 72 h", "≥ 47 days", "≥ k × target").

- ``backward_moves``: stage moves whose destination comes before their origin in the stage order;
  fires at ``at_least`` (default 2).
- ``silence``: time since the last *customer* interaction (events with or from the customer —
  never internal edits), or since the deal opened if there was none; default 72 h.
- ``stale``: an open deal with no new action of any kind (the last event, task or edit) for
  ``after`` (default 47 days).
- ``dwell_overrun``: effective dwell (exempted time subtracted) ≥ ``factor`` × the stage's target
  (default 2 — where the health score's dwell curve reaches 0).

The first three limits default to the playbook's ``risks:`` section
(:class:`lodestar.core.playbook.model.RiskPolicy`, their one home).

An exemption active at ``now`` still *records* the kinds in ``RiskConfig.exemption_suppresses``
(default silence and stale) but marks them ``exempted=True``: no alert, visible to managers.

Three sentences say how long something has lasted ("已 80 小时无客户互动"). Their findings carry
``since``, the moment that time counts from (silence: the last customer interaction, or the
opening; stale: the last action; dwell: ``now`` minus the effective dwell), and
:func:`risk_message` words them again for any later moment — so a stored alert can be shown as
the condition stands when it is read, instead of being rewritten every hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from lodestar.core.playbook.model import RiskPolicy
from lodestar.core.scoring.common import (
    Exemption,
    Message,
    RowId,
    format_span,
    require_aware,
)
from lodestar.core.scoring.errors import InvalidScoringInput
from lodestar.core.scoring.health import HealthConfig, effective_dwell

__all__ = [
    "RISK_KINDS",
    "ActivityEvent",
    "BackwardMovesRule",
    "DealRiskInput",
    "DwellOverrunRule",
    "RiskConfig",
    "RiskFinding",
    "RiskHit",
    "RiskKind",
    "Severity",
    "SilenceRule",
    "StageMove",
    "StaleRule",
    "backward_message",
    "deal_risks",
    "deals_risks",
    "dwell_message",
    "last_activity",
    "risk_hits",
    "risk_key",
    "risk_message",
    "silence_message",
    "stale_message",
]

RiskKind = Literal["backward_moves", "silence", "stale", "dwell_overrun"]
RISK_KINDS: tuple[RiskKind, ...] = ("backward_moves", "silence", "stale", "dwell_overrun")
Severity = Literal["info", "warning", "critical"]
Direction = Literal["from_customer", "to_customer", "with_customer", "internal"]
_PLAYBOOK = RiskPolicy()  # the playbook's `risks:` defaults


@dataclass(frozen=True, slots=True)
class BackwardMovesRule:
    enabled: bool = _PLAYBOOK.backward_moves.enabled
    at_least: int = _PLAYBOOK.backward_moves.at_least
    severity: Severity = "warning"


@dataclass(frozen=True, slots=True)
class SilenceRule:
    enabled: bool = _PLAYBOOK.silence.enabled
    after: timedelta = _PLAYBOOK.silence.after
    severity: Severity = "warning"


@dataclass(frozen=True, slots=True)
class StaleRule:
    enabled: bool = _PLAYBOOK.stale.enabled
    after: timedelta = _PLAYBOOK.stale.after
    severity: Severity = "critical"


@dataclass(frozen=True, slots=True)
class DwellOverrunRule:
    enabled: bool = True
    factor: float = HealthConfig().dwell_zero_at
    severity: Severity = "warning"


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """The playbook's ``risks:`` section as plain values (its defaults unless given)."""

    backward_moves: BackwardMovesRule = field(default_factory=BackwardMovesRule)
    silence: SilenceRule = field(default_factory=SilenceRule)
    stale: StaleRule = field(default_factory=StaleRule)
    dwell_overrun: DwellOverrunRule = field(default_factory=DwellOverrunRule)
    exemption_suppresses: frozenset[RiskKind] = frozenset({"silence", "stale"})

    def __post_init__(self) -> None:
        if self.backward_moves.at_least < 1:
            raise InvalidScoringInput("backward_moves.at_least must be at least 1")
        if self.silence.after <= timedelta(0) or self.stale.after <= timedelta(0):
            raise InvalidScoringInput("silence and stale limits must be longer than zero")
        if not self.dwell_overrun.factor > 0:
            raise InvalidScoringInput("dwell_overrun.factor must be above zero")


@dataclass(frozen=True, slots=True)
class StageMove:
    """One stage change; positions are indexes in the playbook's stage order."""

    at: datetime
    from_stage: str
    to_stage: str
    from_position: int
    to_position: int

    @property
    def backward(self) -> bool:
        return self.to_position < self.from_position


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """An event on a deal, for :func:`last_activity`; ``direction`` says who took part."""

    at: datetime
    type: str
    direction: Direction = "internal"


def last_activity(
    events: Iterable[ActivityEvent], *, interaction_types: Iterable[str] = ()
) -> tuple[datetime | None, datetime | None]:
    """``(last customer interaction, last action of any kind)`` from a deal's events.

    A customer interaction is an event whose direction is not ``internal`` and — when
    ``interaction_types`` is given (the playbook's ``risks.silence.interaction_events``) — whose
    type is one of them.
    """
    types = frozenset(interaction_types)
    last_customer: datetime | None = None
    last_any: datetime | None = None
    for event in events:
        require_aware(event.at, "event time")
        if last_any is None or event.at > last_any:
            last_any = event.at
        is_customer = event.direction != "internal" and (not types or event.type in types)
        if is_customer and (last_customer is None or event.at > last_customer):
            last_customer = event.at
    return last_customer, last_any


@dataclass(frozen=True, slots=True)
class DealRiskInput:
    """What the risk patterns need to know about one deal.

    ``stage_name`` is the display name of the current stage (defaults to its key).
    """

    deal_id: RowId
    opened_at: datetime
    stage: str
    stage_entered_at: datetime
    is_open: bool = True
    target_dwell: timedelta | None = None
    stage_moves: tuple[StageMove, ...] = ()
    last_customer_interaction_at: datetime | None = None
    last_action_at: datetime | None = None
    exemptions: tuple[Exemption, ...] = ()
    stage_name: Message | None = None


@dataclass(frozen=True, slots=True)
class RiskFinding:
    """One risk on one deal; ``key`` is stable while the condition lasts (alert de-dup)."""

    key: str
    kind: RiskKind
    deal_id: RowId
    severity: Severity
    message: Message
    figures: dict[str, float]
    exempted: bool = False
    # Where the elapsed time in ``message`` counts from (None: the sentence is timeless).
    since: datetime | None = None


def risk_key(deal_id: RowId, kind: RiskKind, stage: str | None = None) -> str:
    """The de-duplication key of a finding: one open alert per deal and kind (and stage)."""
    return f"deal:{deal_id}:{kind}" + (f":{stage}" if stage is not None else "")


def _hours(span: timedelta) -> float:
    return span.total_seconds() / 3600.0


def backward_message(count: int) -> Message:
    return Message(f"阶段倒退 {count} 次", f"moved backward {count} times")


def silence_message(silent: timedelta) -> Message:
    span = format_span(silent)
    return Message(f"已 {span.zh}无客户互动", f"no customer interaction for {span.en}")


def stale_message(idle: timedelta) -> Message:
    span = format_span(idle)
    return Message(f"推进中但已 {span.zh}无任何新动作", f"open with no new action for {span.en}")


def dwell_message(stage_name: Message, dwell: timedelta, target: timedelta) -> Message:
    ratio = dwell / target
    spent, aim = format_span(dwell), format_span(target)
    return Message(
        f"在「{stage_name.zh}」阶段停留 {spent.zh},为目标 {aim.zh} 的 {ratio:.1f} 倍",
        f"in stage {stage_name.en} for {spent.en}, {ratio:.1f}× the {aim.en} target",
    )


def risk_message(
    kind: RiskKind,
    *,
    since: datetime,
    now: datetime,
    stage_name: Message | None = None,
    target: timedelta | None = None,
) -> Message:
    """The sentence of a timed finding (silence, stale, dwell overrun) read at ``now``.

    Equal to the finding's own ``message`` when ``now`` is the time it was found.
    """
    elapsed = max(now - since, timedelta(0))
    if kind == "silence":
        return silence_message(elapsed)
    if kind == "stale":
        return stale_message(elapsed)
    if kind == "dwell_overrun" and stage_name is not None and target and target > timedelta(0):
        return dwell_message(stage_name, elapsed, target)
    raise InvalidScoringInput(f"no timed sentence for {kind!r} with these arguments")


@dataclass(frozen=True, slots=True)
class RiskHit:
    """A risk pattern that holds for a deal at ``now``, before it is put into words.

    ``since`` is set for the timed kinds (see :class:`RiskFinding`); ``count`` is the number
    of backward moves; ``dwell`` the effective dwell of a dwell overrun.
    """

    kind: RiskKind
    key: str
    exempted: bool
    since: datetime | None = None
    count: int = 0
    dwell: timedelta | None = None


def risk_hits(
    deal: DealRiskInput, *, now: datetime, config: RiskConfig | None = None
) -> list[RiskHit]:
    """The patterns that hold for open ``deal`` at ``now``, in :data:`RISK_KINDS` order.

    The checks alone — what the periodic sweep needs for every open deal; :func:`deal_risks`
    adds the sentences and figures.
    """
    config = config or RiskConfig()
    require_aware(now, "now")
    require_aware(deal.opened_at, "opened_at")
    hits: list[RiskHit] = []
    if not deal.is_open:  # won and lost deals carry no risk
        return hits
    exempt_now = bool(deal.exemptions) and any(e.active_at(now) for e in deal.exemptions)
    suppressed = config.exemption_suppresses if exempt_now else frozenset()
    deal_id = deal.deal_id

    rule_b = config.backward_moves
    if rule_b.enabled and deal.stage_moves:
        backward = sum(1 for move in deal.stage_moves if move.backward)
        if backward >= rule_b.at_least:
            key = risk_key(deal_id, "backward_moves")
            hits.append(
                RiskHit("backward_moves", key, "backward_moves" in suppressed, None, backward)
            )

    rule_s = config.silence
    if rule_s.enabled:
        since = deal.last_customer_interaction_at or deal.opened_at
        if now - require_aware(since, "last_customer_interaction_at") >= rule_s.after:
            hits.append(
                RiskHit("silence", f"deal:{deal_id}:silence", "silence" in suppressed, since)
            )

    rule_t = config.stale
    if rule_t.enabled:
        since = deal.last_action_at or deal.opened_at
        if now - require_aware(since, "last_action_at") >= rule_t.after:
            hits.append(RiskHit("stale", f"deal:{deal_id}:stale", "stale" in suppressed, since))

    rule_d = config.dwell_overrun
    target = deal.target_dwell
    if rule_d.enabled and target is not None and target > timedelta(0):
        dwell = effective_dwell(deal.stage_entered_at, now, deal.exemptions)
        if dwell / target >= rule_d.factor:
            hits.append(
                RiskHit(
                    "dwell_overrun",
                    risk_key(deal_id, "dwell_overrun", deal.stage),
                    "dwell_overrun" in suppressed,
                    now - dwell,
                    dwell=dwell,
                )
            )
    return hits


def deal_risks(
    deal: DealRiskInput, *, now: datetime, config: RiskConfig | None = None
) -> list[RiskFinding]:
    """Every risk pattern that holds for open ``deal`` at ``now``, in :data:`RISK_KINDS` order,
    with its sentence and figures."""
    config = config or RiskConfig()
    findings: list[RiskFinding] = []
    for hit in risk_hits(deal, now=now, config=config):
        message: Message
        figures: dict[str, float]
        if hit.kind == "backward_moves":
            rule_b = config.backward_moves
            severity = rule_b.severity
            message = backward_message(hit.count)
            figures = {"count": float(hit.count), "at_least": float(rule_b.at_least)}
        elif hit.kind == "silence" and hit.since is not None:
            silent = now - hit.since
            severity = config.silence.severity
            message = silence_message(silent)
            figures = {"hours": _hours(silent), "limit_hours": _hours(config.silence.after)}
        elif hit.kind == "stale" and hit.since is not None:
            idle = now - hit.since
            severity = config.stale.severity
            message = stale_message(idle)
            figures = {
                "days": idle / timedelta(days=1),
                "limit_days": config.stale.after / timedelta(days=1),
            }
        elif hit.dwell is not None and deal.target_dwell is not None:
            rule_d = config.dwell_overrun
            severity = rule_d.severity
            name = deal.stage_name or Message(deal.stage, deal.stage)
            message = dwell_message(name, hit.dwell, deal.target_dwell)
            figures = {
                "dwell_hours": _hours(hit.dwell),
                "target_hours": _hours(deal.target_dwell),
                "ratio": hit.dwell / deal.target_dwell,
                "factor": rule_d.factor,
            }
        else:  # pragma: no cover - every hit has the values of its kind
            raise InvalidScoringInput(f"incomplete {hit.kind} hit")
        findings.append(
            RiskFinding(
                key=hit.key,
                kind=hit.kind,
                deal_id=deal.deal_id,
                severity=severity,
                message=message,
                figures=figures,
                exempted=hit.exempted,
                since=hit.since,
            )
        )
    return findings


def deals_risks(
    deals: Sequence[DealRiskInput], *, now: datetime, config: RiskConfig | None = None
) -> list[RiskFinding]:
    """:func:`deal_risks` over many deals (the periodic sweep)."""
    config = config or RiskConfig()
    return [finding for deal in deals for finding in deal_risks(deal, now=now, config=config)]
