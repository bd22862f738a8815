"""Compile a playbook once per version; evaluate its gates many times."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lodestar.core.errors import LodestarError
from lodestar.core.playbook.errors import (
    Issue,
    LocatedError,
    Path,
    PlaybookInvalid,
    format_path,
)
from lodestar.core.playbook.model import Criterion, FieldCriterion, Playbook, Stage
from lodestar.core.rules.cel import CelRuntime
from lodestar.core.rules.compiled import CompiledCriterion, Test
from lodestar.core.rules.context import DealContext
from lodestar.core.rules.results import GateResult
from lodestar.core.rules.scope import RuleScope
from lodestar.core.rules.structured import CriterionCompiler, all_tests, default_criterion_id

__all__ = [
    "CompiledGate",
    "CompiledPlaybook",
    "ForecastResult",
    "UnknownStage",
    "compile_criterion",
    "compile_playbook",
    "required_field_criteria",
    "rule_issues",
    "stage_criteria",
]


@dataclass(frozen=True, slots=True)
class CompiledGate:
    """The exit criteria of one stage, compiled.

    ``passes`` is the fast yes/no (bulk checks, replay); ``evaluate`` gives the checklist.
    """

    stage: str
    criteria: tuple[CompiledCriterion, ...]
    passes: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "passes", all_tests([c.test for c in self.criteria]))

    def evaluate(self, ctx: DealContext) -> GateResult:
        return GateResult(self.stage, tuple(c.evaluate(ctx) for c in self.criteria))


@dataclass(frozen=True, slots=True)
class ForecastResult:
    """A deal's win probability by the playbook's formula (or its stage probability)."""

    probability: float
    source: str  # "formula" or "stage"
    error: str | None = None


class CompiledPlaybook:
    """A playbook with every rule compiled. Immutable; share it between threads and requests.

    Build it with :func:`compile_playbook`. ``gates`` maps each stage key to its gate
    (terminal stages have empty gates); ``triggers`` maps trigger ids to their compiled
    ``when`` condition (``None`` when the trigger has none).
    """

    def __init__(
        self,
        playbook: Playbook,
        gates: Mapping[str, CompiledGate],
        triggers: Mapping[str, CompiledCriterion | None],
        runtime: CelRuntime,
        formula: Any,
    ) -> None:
        self.playbook = playbook
        self.gates = gates
        self.triggers = triggers
        self._runtime = runtime
        self._formula = formula
        self.stage_order: Mapping[str, int] = dict(playbook.stage_index)

    def gate(self, stage: str) -> CompiledGate:
        """The gate of ``stage``; raises :class:`UnknownStage` for a key not in the playbook."""
        try:
            return self.gates[stage]
        except KeyError:
            raise UnknownStage(stage, list(self.gates)) from None

    def evaluate_gate(self, ctx: DealContext, stage: str | None = None) -> GateResult:
        """The exit checklist of ``stage`` (default: the deal's current stage)."""
        return self.gate(ctx.deal.stage if stage is None else stage).evaluate(ctx)

    def forecast(self, ctx: DealContext) -> ForecastResult:
        """Win probability of the deal in its current stage (formula clamped to [0, 1])."""
        stage = self.playbook.stage(self.gate(ctx.deal.stage).stage)
        if self._formula is None:
            return ForecastResult(stage.probability, "stage")
        data: dict[str, float] = {
            "repurchase_rate": float(ctx.account.repurchase_rate or 0.0),
            "stage_weight": stage.forecast_weight,
            "stage_probability": stage.probability,
            "amount": float(ctx.deal.amount or 0),
            "days_in_stage": (
                (ctx.now - ctx.deal.stage_entered_at).total_seconds() / 86400
                if ctx.deal.stage_entered_at is not None
                else 0.0
            ),
        }
        for spec in self.playbook.fields:
            value = ctx.deal.fields.get(spec.key)
            if (
                spec.type in ("number", "money")
                and isinstance(value, int | float | Decimal)
                and not isinstance(value, bool)
            ):
                data[spec.key] = float(value)
        answer = self._runtime.forecast(self._formula, data)
        if isinstance(answer, str) or not math.isfinite(answer):
            return ForecastResult(stage.probability, "stage", error=str(answer))
        if self.playbook.forecast.clamp:
            answer = min(1.0, max(0.0, answer))
        return ForecastResult(answer, "formula")


class UnknownStage(LodestarError):
    """A stage key that the playbook does not have (e.g. a deal left on a removed stage)."""

    def __init__(self, stage: str, known: list[str]) -> None:
        super().__init__(f"unknown stage '{stage}'; the playbook has: {', '.join(known)}")
        self.stage = stage


def required_field_criteria(playbook: Playbook, stage: Stage) -> list[Criterion]:
    """The "is set" criteria a stage gets from fields declared ``required_to_exit`` it."""
    return [
        FieldCriterion.model_validate({"field": spec.key, "is_set": True, "id": f"{spec.key}_set"})
        for spec in playbook.fields
        if stage.key in spec.required_to_exit
    ]


def stage_criteria(playbook: Playbook, stage: Stage) -> list[tuple[str, Criterion]]:
    """Each exit criterion of ``stage`` with the id its gate reports it under, in gate order:
    the stage's own (a repeated id gets its position appended), then the required fields not
    already checked under the same id."""
    numbered: list[tuple[str, Criterion]] = []
    ids: set[str] = set()
    for index, criterion in enumerate(stage.exit):
        cid = criterion.id or default_criterion_id(criterion, index)
        if cid in ids:
            cid = f"{cid}_{index + 1}"
        ids.add(cid)
        numbered.append((cid, criterion))
    for criterion in required_field_criteria(playbook, stage):
        assert criterion.id is not None
        if criterion.id not in ids:
            numbered.append((criterion.id, criterion))
    return numbered


def _compile(playbook: Playbook) -> tuple[CompiledPlaybook, list[Issue]]:
    issues: list[Issue] = []
    scope = RuleScope(playbook)
    runtime = CelRuntime(scope)
    compiler = CriterionCompiler(scope, runtime, issues)
    gates: dict[str, CompiledGate] = {}
    for stage_index, stage in enumerate(playbook.stages):
        compiled: list[CompiledCriterion] = []
        for index, (cid, criterion) in enumerate(stage_criteria(playbook, stage)):
            path: Path = ("stages", stage_index, "exit", index)
            if index >= len(stage.exit):
                path = ("fields",)
            elif criterion.id is not None and cid != criterion.id:  # renamed: a repeated id
                issues.append(
                    Issue(
                        (*path, "id"),
                        f"duplicate criterion id '{criterion.id}' in stage '{stage.key}'",
                        "give each criterion of a stage its own id",
                    )
                )
            compiled.append(compiler.compile(criterion, path, cid))
        gates.setdefault(stage.key, CompiledGate(stage.key, tuple(compiled)))
    triggers: dict[str, CompiledCriterion | None] = {}
    for index, trigger in enumerate(playbook.triggers):
        when = None
        if trigger.when is not None:
            when = compiler.compile(trigger.when, ("triggers", index, "when"), f"{trigger.id}.when")
        triggers.setdefault(trigger.id, when)
    formula = None
    if playbook.forecast.formula is not None:
        formula = runtime.compile_formula(
            playbook.forecast.formula, ("forecast", "formula"), issues
        )
    return CompiledPlaybook(playbook, gates, triggers, runtime, formula), issues


def rule_issues(playbook: Playbook) -> list[Issue]:
    """Every problem compiling the playbook's rules would meet (the loader places them)."""
    return _compile(playbook)[1]


def compile_playbook(playbook: Playbook) -> CompiledPlaybook:
    """Compile every gate, trigger condition and the forecast formula of ``playbook``.

    A playbook from :func:`lodestar.core.playbook.load_playbook` always compiles; one built
    in code may not, and then :class:`PlaybookInvalid` lists the problems (without lines).
    """
    compiled, issues = _compile(playbook)
    if issues:
        raise PlaybookInvalid(
            [
                LocatedError("(playbook)", 0, 0, format_path(issue.path), issue.message, issue.hint)
                for issue in issues
            ]
        )
    return compiled


def compile_criterion(playbook: Playbook, criterion: Criterion) -> CompiledCriterion:
    """Compile one criterion in the context of ``playbook`` (for designers and tests)."""
    issues: list[Issue] = []
    scope = RuleScope(playbook)
    compiled = CriterionCompiler(scope, CelRuntime(scope), issues).compile(
        criterion, ("criterion",), criterion.id or default_criterion_id(criterion, 0)
    )
    if issues:
        raise PlaybookInvalid(
            [
                LocatedError("(criterion)", 0, 0, format_path(i.path), i.message, i.hint)
                for i in issues
            ]
        )
    return compiled
