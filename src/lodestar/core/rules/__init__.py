"""The rule engine: structured criteria and CEL, compiled once per playbook, evaluated often."""

from lodestar.core.rules.compiled import CompiledCriterion
from lodestar.core.rules.compiler import (
    CompiledGate,
    CompiledPlaybook,
    ForecastResult,
    UnknownStage,
    compile_criterion,
    compile_playbook,
)
from lodestar.core.rules.context import (
    AccountData,
    AttachmentData,
    ContactData,
    ContextError,
    DealContext,
    DealData,
    EventData,
    FieldValue,
)
from lodestar.core.rules.fields import check_field_values, field_values_from_json
from lodestar.core.rules.gates import check_advance, evaluate_gate
from lodestar.core.rules.results import (
    AdvanceDecision,
    Bilingual,
    CriterionResult,
    GateResult,
    TransitionKind,
)

__all__ = [
    "AccountData",
    "AdvanceDecision",
    "AttachmentData",
    "Bilingual",
    "CompiledCriterion",
    "CompiledGate",
    "CompiledPlaybook",
    "ContactData",
    "ContextError",
    "CriterionResult",
    "DealContext",
    "DealData",
    "EventData",
    "FieldValue",
    "ForecastResult",
    "GateResult",
    "TransitionKind",
    "UnknownStage",
    "check_advance",
    "check_field_values",
    "compile_criterion",
    "compile_playbook",
    "evaluate_gate",
    "field_values_from_json",
]
