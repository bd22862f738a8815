"""The scoring configuration of one organization, read from its published playbook.

Without a published playbook every rule runs on the playbook's defaults (the sections of
`lodestar.core.playbook.model`: 70, 72 h, 47 days, 75 …) and no stage has a target dwell, so
dwell-based parts and risks stay silent until ops publish one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lodestar.core.playbook.model import HealthPolicy, Playbook, RiskPolicy, ScorecardPolicy
from lodestar.core.rules import CompiledPlaybook
from lodestar.core.scoring import (
    HealthConfig,
    Message,
    RiskConfig,
    ScorecardConfig,
    health_config_from,
    risk_config_from,
    scorecard_config_from,
)
from lodestar.org.models import Organization
from lodestar.playbooks.selectors import (
    compiled_for_version,
    published_playbook,
    published_versions,
)

__all__ = [
    "COMMUNICATION_TYPES",
    "InsightsPolicy",
    "Policies",
    "health_threshold",
    "insights_policy",
]

# Customer communications the scorecard judges: conversations after which minutes, a linked
# knowledge entry and a next follow-up make sense. Chat lines and e-mails are left out (they
# are their own record), as are one-way actions such as sending a quote.
COMMUNICATION_TYPES: tuple[str, ...] = ("meeting.held", "call", "demo.held")


@dataclass(frozen=True)
class InsightsPolicy:
    organization: Organization
    playbook: Playbook | None
    health: HealthConfig
    risks: RiskConfig
    scorecard: ScorecardConfig
    # Empty: every event marked `with_customer` is a customer interaction.
    interaction_types: frozenset[str]
    minutes_kind: str
    handbook_key: str | None
    exemption_recheck: dt.timedelta
    stage_targets: dict[str, dt.timedelta] = field(default_factory=dict)
    stage_positions: dict[str, int] = field(default_factory=dict)
    stage_names: dict[str, Message] = field(default_factory=dict)

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    def stage_label(self, key: str) -> Message:
        """How a stage is named in a sentence: "阶段4(产品演示)" / "stage 4 (Product demo)"."""
        name = self.stage_names.get(key, Message(key, key))
        position = self.stage_positions.get(key)
        if position is None:
            return Message(f"「{name.zh}」阶段", f"stage {name.en}")
        return Message(f"阶段{position + 1}({name.zh})", f"stage {position + 1} ({name.en})")


def insights_policy(*, organization: Organization, team_id: int | None = None) -> InsightsPolicy:
    """The policy a team follows: its own published playbook, else the organization's."""
    return _policy_from(
        organization, published_playbook(organization_id=organization.pk, team_id=team_id)
    )


def health_threshold(*, organization_id: int, team_id: int | None = None) -> float:
    """The health score below which a team's manager is alerted (its playbook's, or the
    default while none is published)."""
    compiled = published_playbook(organization_id=organization_id, team_id=team_id)
    return (compiled.playbook.health if compiled else HealthPolicy()).threshold


def _policy_from(organization: Organization, compiled: CompiledPlaybook | None) -> InsightsPolicy:
    playbook = compiled.playbook if compiled is not None else None
    # Without a playbook, the sections' defaults (a playbook that leaves them out gets the same).
    health = playbook.health if playbook else HealthPolicy()
    risks = playbook.risks if playbook else RiskPolicy()
    scorecard = playbook.scorecard if playbook else ScorecardPolicy()
    stages = playbook.stages if playbook else ()
    return InsightsPolicy(
        organization=organization,
        playbook=playbook,
        health=health_config_from(health),
        risks=risk_config_from(risks),
        scorecard=scorecard_config_from(scorecard),
        interaction_types=frozenset(risks.silence.interaction_events),
        minutes_kind=scorecard.minutes_kind,
        handbook_key=scorecard.handbook,
        exemption_recheck=risks.exemption_recheck,
        stage_targets={s.key: s.target_dwell for s in stages if s.target_dwell},
        stage_positions=dict(playbook.stage_index) if playbook else {},
        stage_names={s.key: Message(s.name.zh, s.name.en or s.name.zh) for s in stages},
    )


class Policies:
    """The policies of one organization's teams, each read once per computation.

    A team may follow its own playbook (an industrial team and a SaaS team sell differently),
    so every deal is judged by its team's policy and every rep by their team's.
    """

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self._published = published_versions(organization_id=organization.pk)
        self._by_team: dict[int | None, InsightsPolicy] = {}
        self.default = self.of(None)

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    def health_windows(self) -> set[dt.timedelta]:
        """The health windows of every published playbook (teams may look back differently)."""
        return {self.default.health.window} | {
            self.of(version.team_id).health.window for version in self._published.all()
        }

    def of(self, team_id: int | None) -> InsightsPolicy:
        policy = self._by_team.get(team_id)
        if policy is None:
            version = self._published.of_team(team_id)
            compiled = compiled_for_version(version) if version is not None else None
            policy = self._by_team[team_id] = _policy_from(self.organization, compiled)
        return policy
