"""Located errors: every problem in a playbook names file, line, column, path, message, hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lodestar.core.errors import LodestarError

__all__ = ["Issue", "LocatedError", "Path", "PlaybookInvalid", "did_you_mean", "format_path"]

Path = tuple[str | int, ...]
"""A position in the playbook's data tree, e.g. ``("stages", 3, "exit", 1)``."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for the closest candidate, the short list of them, or ``None``."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:
        # "budjet" → "budget_confirmed": compare with the candidates' leading words too.
        scored = [
            (difflib.SequenceMatcher(None, word, candidate[: len(word) + 1]).ratio(), candidate)
            for candidate in pool
        ]
        best = max(scored, default=(0.0, ""))
        if best[0] >= 0.75:
            close = [best[1]]
    if close:
        return f"did you mean '{close[0]}'?"
    if pool and len(pool) <= 12:
        return "use one of: " + ", ".join(pool)
    return None


def format_path(path: Path) -> str:
    """``("stages", 3, "exit", 1, "field")`` → ``stages[3].exit[1].field``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out) or "(file)"


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found in a playbook model, before it is placed in the file.

    ``offset`` is a 1-based ``(line, column)`` inside the text at ``path`` (for CEL errors);
    ``at_key`` points at the key of ``path`` instead of its value (unknown keys).
    """

    path: Path
    message: str
    hint: str | None = None
    offset: tuple[int, int] | None = None
    at_key: bool = False


@dataclass(frozen=True, slots=True)
class LocatedError:
    """One problem, placed: ``file:line:column: path: message (hint)``; line/column 1-based."""

    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class PlaybookInvalid(LodestarError):
    """The playbook cannot be used; ``errors`` lists every problem found, in file order."""

    def __init__(self, errors: Sequence[LocatedError]) -> None:
        self.errors: tuple[LocatedError, ...] = tuple(errors)
        count = len(self.errors)
        head = f"{count} error{'s' if count != 1 else ''} in playbook"
        super().__init__("\n".join([head, *(str(error) for error in self.errors)]))
