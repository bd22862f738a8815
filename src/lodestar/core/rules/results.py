"""What evaluating rules answers: met / unmet with a human explanation, never a bare boolean."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

__all__ = [
    "AdvanceDecision",
    "Bilingual",
    "CriterionResult",
    "GateResult",
    "TransitionKind",
]


class _NoEvidence(Mapping[str, Any]):
    """An empty, hashable mapping: the shared default for results without evidence."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"


_NO_EVIDENCE: Mapping[str, Any] = _NoEvidence()


class Bilingual(NamedTuple):
    """A short text in Chinese and English."""

    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion's answer.

    ``evidence`` carries facts worth keeping in the gate snapshot (e.g. ``occurred_at`` of the
    event that satisfied an "event happened" criterion). ``error`` is set when the criterion
    could not be decided (a CEL runtime error, a value of the wrong type); it is then unmet.
    """

    id: str
    label: Bilingual
    met: bool
    explanation: Bilingual
    evidence: Mapping[str, Any] = _NO_EVIDENCE
    children: tuple[CriterionResult, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label.as_dict(),
            "met": self.met,
            "explanation": self.explanation.as_dict(),
        }
        if self.evidence:
            out["evidence"] = _jsonable(self.evidence)
        if self.children:
            out["children"] = [child.as_dict() for child in self.children]
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class GateResult:
    """The exit checklist of one stage: every criterion's result, in playbook order."""

    stage: str
    results: tuple[CriterionResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.met for result in self.results)

    @property
    def unmet(self) -> tuple[CriterionResult, ...]:
        return tuple(result for result in self.results if not result.met)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "passed": self.passed,
            "results": [result.as_dict() for result in self.results],
        }


class TransitionKind(enum.StrEnum):
    ADVANCE = "advance"  # forward to the next stage or further (skipped stages' gates apply)
    WON = "won"  # into a won terminal (every remaining gate applies)
    LOST = "lost"  # into a lost terminal (always allowed)
    REGRESSION = "regression"  # backwards: allowed, flagged
    REOPEN = "reopen"  # out of a terminal stage back into the process: allowed, flagged
    NO_CHANGE = "no_change"  # to the stage the deal is already in


@dataclass(frozen=True, slots=True)
class AdvanceDecision:
    """Whether a deal may move ``from_stage`` → ``to_stage``, and why not.

    ``gates`` holds the checklist of every stage whose exit criteria the move requires (the
    current stage first, then each skipped stage in order); ``unmet`` lists their unmet
    criteria as ``(stage key, result)`` pairs.
    """

    allowed: bool
    kind: TransitionKind
    from_stage: str
    to_stage: str
    gates: tuple[GateResult, ...] = ()

    @property
    def is_regression(self) -> bool:
        return self.kind in (TransitionKind.REGRESSION, TransitionKind.REOPEN)

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(gate.stage for gate in self.gates[1:])

    @property
    def unmet(self) -> tuple[tuple[str, CriterionResult], ...]:
        return tuple((gate.stage, result) for gate in self.gates for result in gate.unmet)

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "kind": self.kind.value,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "is_regression": self.is_regression,
            "gates": [gate.as_dict() for gate in self.gates],
            "unmet": [{"stage": stage, **result.as_dict()} for stage, result in self.unmet],
        }
