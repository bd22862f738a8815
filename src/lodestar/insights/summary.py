"""What a refresh or recompute did: the counts each job adds to as it writes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RecomputeSummary"]


@dataclass
class RecomputeSummary:
    organizations: int = 0
    deals: int = 0
    reps: int = 0
    findings: int = 0
    alerts_raised: int = 0
    alerts_resolved: int = 0
    communications_scored: int = 0
    handbooks_pushed: int = 0

    def add(self, other: RecomputeSummary) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
