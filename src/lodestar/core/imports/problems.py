"""A problem found in an import: where (row as the user sees it, column), what, how to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lodestar.core.rules.results import Bilingual

__all__ = ["Problem", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Errors stop only their row (or, with ``row`` None, the whole mapping); warnings never
    stop anything."""

    row: int | None
    column: str | None
    field: str | None
    severity: Severity
    message: Bilingual
    hint: Bilingual | None
    code: str

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "severity": self.severity,
            "message": self.message.as_dict(),
            "hint": self.hint.as_dict() if self.hint else None,
            "code": self.code,
        }
