"""The two sales processes the demo organization runs, read from the industry templates.

Stages (order, weights, target dwell times, exit criteria) and triggers (which event creates
which task, due when, for which department) come from the `saas_b2b` (seed 000, 杭州) and
`industrial_equipment` (seed 001, 绍兴) playbook templates, so the demo history fits the
playbooks the organization runs. What a template does not say — which events typically happen
while a deal sits in a stage — is the generator's own storytelling and lives here, keyed by
stage key. This module is the generator's only knowledge of stages.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from lodestar.core.playbook.model import Playbook

__all__ = ["KINDS", "LOST", "WON", "Process", "Stage", "Trigger", "process"]

WON = "won"
LOST = "lost"

# Demo team kind → the industry template its playbook comes from.
KINDS = {"industrial": "industrial_equipment", "saas": "saas_b2b"}

# Events that normally happen while a deal sits in a stage, in order ("chat.confirmed" is the
# customer writing “已确认” in chat, which the industrial technical-solution gate looks for).
_MILESTONES: dict[str, dict[str, tuple[str, ...]]] = {
    "saas": {
        "lead": ("email.sent", "call"),
        "needs_confirmed": (
            "meeting.held",
            "needs.list",
            "integration.requested",
            "customer.confirmed",
        ),
        "demo": ("demo.booked", "demo.held"),
        "poc": ("trial.activated", "poc.feedback"),
        "proposal": ("proposal.sent", "quote.sent", "email.received"),
        "negotiation": ("meeting.held", "legal.review.started", "legal.review.finished"),
    },
    "industrial": {
        "lead": ("call", "chat.message"),
        "site_survey": ("meeting.held", "survey.report", "document.updated"),
        "technical_solution": ("document.updated", "tech_params.synced", "chat.confirmed"),
        "quote": ("quote.sent", "customer.confirmed"),
        "negotiation": ("meeting.held", "competitor.update", "call"),
        "contract": ("legal.review.started", "legal.review.finished"),
    },
}
# Events at the moment a deal is won, just before (sealed) and after (ERP order) the move.
_CLOSING = ("approval.sealed", "erp.order")


@dataclass(frozen=True)
class Stage:
    key: str
    name_zh: str
    name_en: str
    # The forecast's stage weight.
    weight: float
    target_dwell_hours: int
    milestones: tuple[str, ...]
    # Ids of the exit criteria (kept, all met, in forward transitions' gate snapshots).
    exit_criteria: tuple[str, ...]


@dataclass(frozen=True)
class Trigger:
    key: str
    on: str
    # The task's title and description in the site's language, as the trigger engine writes them.
    title: str
    description: str
    due: dt.timedelta
    # "wall" or "business" (`lodestar.core.engine.Clock`).
    clock: str
    department: str
    # Stages in which it fires; empty: every stage.
    stages: tuple[str, ...]
    closes_on: tuple[str, ...]


@dataclass(frozen=True)
class Process:
    kind: str
    template: str
    name_zh: str
    # The template's playbook: its risk, SLA and health policies are the thresholds the demo
    # history is told against (silent after 72 h, stale after 47 days, escalated after …).
    playbook: Playbook
    # Open stages in order; a deal that leaves the last one forwards is won.
    stages: tuple[Stage, ...]
    triggers: tuple[Trigger, ...]
    closing_events: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    def triggers_on(self, event_type: str) -> tuple[Trigger, ...]:
        return tuple(t for t in self.triggers if t.on == event_type)


@functools.cache
def process(kind: str) -> Process:
    """The process of a demo team kind ("industrial" or "saas")."""
    from lodestar.i18n import in_site_language
    from lodestar.industry_templates import load_template

    playbook = load_template(KINDS[kind])
    milestones = _MILESTONES[kind]
    stages = tuple(
        Stage(
            key=stage.key,
            name_zh=stage.name.zh,
            name_en=stage.name.en or stage.name.zh,
            weight=stage.forecast_weight,
            target_dwell_hours=(
                int(stage.target_dwell.total_seconds() // 3600) if stage.target_dwell else 96
            ),
            milestones=milestones.get(stage.key, ()),
            exit_criteria=tuple(c.id for c in stage.exit if c.id),
        )
        for stage in playbook.stages
        if stage.terminal is None
    )
    triggers = tuple(
        Trigger(
            key=trigger.id,
            on=trigger.on,
            title=in_site_language(trigger.task.title)[:200],
            description=(
                in_site_language(trigger.task.description) if trigger.task.description else ""
            ),
            due=trigger.task.due,
            clock=trigger.task.clock,
            department=trigger.task.department or "",
            stages=tuple(trigger.stages),
            closes_on=tuple(trigger.task.closes_on),
        )
        for trigger in playbook.triggers
    )
    return Process(kind, KINDS[kind], playbook.name.zh, playbook, stages, triggers, _CLOSING)
