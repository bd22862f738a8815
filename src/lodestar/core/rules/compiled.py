"""The compiled form every criterion takes, structured or CEL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lodestar.core.rules.context import DealContext
from lodestar.core.rules.results import Bilingual, CriterionResult

__all__ = ["CompiledCriterion", "Evaluate", "Test"]

Test = Callable[[DealContext], bool]
Evaluate = Callable[[DealContext], CriterionResult]


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    """A criterion ready to run: ``test`` answers met/unmet as fast as possible (replay, bulk
    checks); ``evaluate`` answers with the explanation and evidence (checklists, snapshots).
    Both always agree on met/unmet."""

    id: str
    kind: str
    label: Bilingual
    test: Test
    evaluate: Evaluate
