"""Build the scoring configs from a playbook's ``health:``, ``risks:``, ``scorecard:`` and
``required_actions:`` sections.

The functions accept anything *shaped* like those sections (structural :class:`typing.Protocol`
types), so they work with :mod:`lodestar.core.playbook.model` objects without importing them.
Values a section does not carry (e.g. the health window) come from ``base``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from lodestar.core.scoring.common import Message
from lodestar.core.scoring.errors import InvalidScoringInput
from lodestar.core.scoring.health import HealthConfig, HealthWeights
from lodestar.core.scoring.risks import RiskConfig
from lodestar.core.scoring.scorecard import ScorecardConfig, ScorecardWeights
from lodestar.core.scoring.yardsticks import RequiredAction, RequiredActionSet

__all__ = [
    "HealthPolicyLike",
    "RequiredActionSetLike",
    "RiskPolicyLike",
    "ScorecardPolicyLike",
    "action_key",
    "health_config_from",
    "required_action_sets_from",
    "risk_config_from",
    "scorecard_config_from",
]


class _TextLike(Protocol):
    @property
    def zh(self) -> str: ...
    @property
    def en(self) -> str: ...


class _HealthWeightsLike(Protocol):
    @property
    def dwell_deviation(self) -> float: ...
    @property
    def task_on_time(self) -> float: ...
    @property
    def interaction_frequency(self) -> float: ...


class HealthPolicyLike(Protocol):
    @property
    def threshold(self) -> float: ...
    @property
    def weights(self) -> _HealthWeightsLike: ...


class _ToggleAfter(Protocol):
    @property
    def enabled(self) -> bool: ...
    @property
    def after(self) -> timedelta: ...


class _BackwardLike(Protocol):
    @property
    def enabled(self) -> bool: ...
    @property
    def at_least(self) -> int: ...


class RiskPolicyLike(Protocol):
    @property
    def backward_moves(self) -> _BackwardLike: ...
    @property
    def silence(self) -> _ToggleAfter: ...
    @property
    def stale(self) -> _ToggleAfter: ...


class _ScorecardWeightsLike(Protocol):
    @property
    def minutes(self) -> float: ...
    @property
    def knowledge_link(self) -> float: ...
    @property
    def next_followup(self) -> float: ...


class ScorecardPolicyLike(Protocol):
    @property
    def min_chars(self) -> int: ...
    @property
    def upload_within(self) -> timedelta: ...
    @property
    def min_knowledge_links(self) -> int: ...
    @property
    def require_next_followup(self) -> bool: ...
    @property
    def weights(self) -> _ScorecardWeightsLike: ...
    @property
    def threshold(self) -> float: ...
    @property
    def consecutive_below(self) -> int: ...


class _RequiredActionLike(Protocol):
    @property
    def event(self) -> str | None: ...
    @property
    def attachment(self) -> str | None: ...
    @property
    def count(self) -> int: ...
    @property
    def name(self) -> _TextLike | None: ...


class RequiredActionSetLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def account_tiers(self) -> Sequence[str]: ...
    @property
    def period(self) -> str: ...
    @property
    def actions(self) -> Sequence[_RequiredActionLike]: ...


def health_config_from(
    policy: HealthPolicyLike, *, base: HealthConfig | None = None
) -> HealthConfig:
    w = policy.weights
    return replace(
        base or HealthConfig(),
        threshold=float(policy.threshold),
        weights=HealthWeights(
            float(w.dwell_deviation), float(w.task_on_time), float(w.interaction_frequency)
        ),
    )


def risk_config_from(policy: RiskPolicyLike, *, base: RiskConfig | None = None) -> RiskConfig:
    """The playbook's risk limits; pass ``policy.silence.interaction_events`` to
    :func:`~lodestar.core.scoring.risks.last_activity` and use ``policy.stale.statuses`` to
    decide ``is_open``."""
    base = base or RiskConfig()
    return replace(
        base,
        backward_moves=replace(
            base.backward_moves,
            enabled=policy.backward_moves.enabled,
            at_least=policy.backward_moves.at_least,
        ),
        silence=replace(base.silence, enabled=policy.silence.enabled, after=policy.silence.after),
        stale=replace(base.stale, enabled=policy.stale.enabled, after=policy.stale.after),
    )


def scorecard_config_from(
    policy: ScorecardPolicyLike, *, base: ScorecardConfig | None = None
) -> ScorecardConfig:
    w = policy.weights
    return replace(
        base or ScorecardConfig(),
        weights=ScorecardWeights(float(w.minutes), float(w.knowledge_link), float(w.next_followup)),
        min_chars=policy.min_chars,
        upload_within=policy.upload_within,
        min_knowledge_links=policy.min_knowledge_links,
        require_next_followup=policy.require_next_followup,
        threshold=float(policy.threshold),
        consecutive_below=policy.consecutive_below,
    )


def action_key(*, event: str | None = None, attachment: str | None = None) -> str:
    """The key a required action is counted under: ``event:<type>`` or ``attachment:<kind>``."""
    if event is not None:
        return f"event:{event}"
    if attachment is not None:
        return f"attachment:{attachment}"
    raise InvalidScoringInput("a required action names an event or an attachment")


def required_action_sets_from(
    sets: Sequence[RequiredActionSetLike],
) -> tuple[RequiredActionSet, ...]:
    """Required-action sets keyed by :func:`action_key` (count done actions under those keys)."""
    return tuple(
        RequiredActionSet(
            set_id=s.id,
            account_tiers=frozenset(s.account_tiers),
            period=s.period,
            actions=tuple(
                RequiredAction(
                    key=action_key(event=a.event, attachment=a.attachment),
                    count=a.count,
                    name=None if a.name is None else Message(a.name.zh, a.name.en),
                )
                for a in s.actions
            ),
        )
        for s in sets
    )
