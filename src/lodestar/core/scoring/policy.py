"""Build the scoring configs from a playbook's ``health:``, ``risks:``, ``scorecard:`` and
``required_actions:`` sections (:mod:`lodestar.core.playbook.model`, where their defaults live).

Values a section does not carry (e.g. the health window) come from ``base``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from lodestar.core.playbook import model as playbook
from lodestar.core.scoring.common import Message
from lodestar.core.scoring.errors import InvalidScoringInput
from lodestar.core.scoring.health import HealthConfig, health_weights
from lodestar.core.scoring.risks import RiskConfig
from lodestar.core.scoring.scorecard import ScorecardConfig, scorecard_weights
from lodestar.core.scoring.yardsticks import RequiredAction, RequiredActionSet

__all__ = [
    "action_key",
    "health_config_from",
    "required_action_sets_from",
    "risk_config_from",
    "scorecard_config_from",
]


def health_config_from(
    policy: playbook.HealthPolicy, *, base: HealthConfig | None = None
) -> HealthConfig:
    return replace(
        base or HealthConfig(),
        threshold=policy.threshold,
        weights=health_weights(policy.weights),
    )


def risk_config_from(policy: playbook.RiskPolicy, *, base: RiskConfig | None = None) -> RiskConfig:
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
    policy: playbook.ScorecardPolicy, *, base: ScorecardConfig | None = None
) -> ScorecardConfig:
    return replace(
        base or ScorecardConfig(),
        weights=scorecard_weights(policy.weights),
        min_chars=policy.min_chars,
        upload_within=policy.upload_within,
        min_knowledge_links=policy.min_knowledge_links,
        require_next_followup=policy.require_next_followup,
        threshold=policy.threshold,
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
    sets: Sequence[playbook.RequiredActionSet],
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
