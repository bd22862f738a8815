"""Stage transitions: may a deal move from one stage to another, and if not, why not."""

from __future__ import annotations

from lodestar.core.rules.compiler import CompiledPlaybook
from lodestar.core.rules.context import DealContext
from lodestar.core.rules.results import AdvanceDecision, GateResult, TransitionKind

__all__ = ["check_advance", "evaluate_gate"]


def evaluate_gate(
    playbook: CompiledPlaybook, context: DealContext, stage: str | None = None
) -> GateResult:
    """The exit checklist of ``stage`` (default: the deal's current stage)."""
    return playbook.evaluate_gate(context, stage)


def check_advance(
    playbook: CompiledPlaybook, context: DealContext, from_stage: str, to_stage: str
) -> AdvanceDecision:
    """Decide a move ``from_stage`` → ``to_stage`` for the deal in ``context``.

    - forward: the exit criteria of ``from_stage`` and of every stage skipped on the way must
      all be met; ``gates`` lists those checklists (current stage first);
    - into a *won* stage: every working stage from ``from_stage`` up to the end must pass;
    - into a *lost* stage: always allowed (a deal can be lost anywhere);
    - backwards: allowed and flagged as a regression; out of a terminal stage: a reopen;
    - to the same stage: not allowed, kind ``no_change``.

    Raises :class:`~lodestar.core.rules.compiler.UnknownStage` for keys not in the playbook.
    """
    source = playbook.playbook.stage(playbook.gate(from_stage).stage)
    target = playbook.playbook.stage(playbook.gate(to_stage).stage)
    if from_stage == to_stage:
        return AdvanceDecision(False, TransitionKind.NO_CHANGE, from_stage, to_stage)
    if target.terminal == "lost":
        return AdvanceDecision(True, TransitionKind.LOST, from_stage, to_stage)
    if source.terminal is not None:
        return AdvanceDecision(True, TransitionKind.REOPEN, from_stage, to_stage)
    order = playbook.stage_order
    stages = playbook.playbook.stages
    start = order[from_stage]
    if target.terminal == "won":
        passing = [s.key for s in stages[start:] if s.terminal is None]
        kind = TransitionKind.WON
    else:
        end = order[to_stage]
        if end < start:
            return AdvanceDecision(True, TransitionKind.REGRESSION, from_stage, to_stage)
        passing = [s.key for s in stages[start:end] if s.terminal is None]
        kind = TransitionKind.ADVANCE
    gates = tuple(playbook.gates[key].evaluate(context) for key in passing)
    return AdvanceDecision(all(g.passed for g in gates), kind, from_stage, to_stage, gates)
