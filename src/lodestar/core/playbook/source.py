"""YAML text → plain Python data plus a map from data paths to line/column in the text.

ruamel.yaml's round-trip loader keeps positions; we copy its tree into plain dicts, lists and
scalars (what pydantic validates) and remember where each node, key and value came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from lodestar.core.playbook.errors import LocatedError, Path, format_path

__all__ = ["MAX_NODES", "MAX_TEXT_LENGTH", "ParsedYaml", "SourceMap", "parse_yaml"]

MAX_TEXT_LENGTH = 2_000_000
#: Aliases can make a small file expand to a huge tree ("billion laughs"); we stop early.
MAX_NODES = 200_000

# 1-based (line, column)
Position = tuple[int, int]


@dataclass
class SourceMap:
    """Where each path's value (and, for mapping entries, its key) starts in the text."""

    filename: str
    lines: list[str]
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    #: scalar style of string values: "|", ">", '"', "'" or "" (plain)
    styles: dict[Path, str] = field(default_factory=dict)
    #: id() of every mapping in the data → its path (for unknown-key reports from validators)
    mapping_paths: dict[int, Path] = field(default_factory=dict)

    def position(self, path: Path, *, at_key: bool = False) -> Position:
        """The closest known position for ``path`` (walking up to its parents)."""
        if at_key and path in self.keys:
            return self.keys[path]
        probe = path
        while probe:
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))

    def text_position(self, path: Path, line: int, column: int) -> Position:
        """Place a (line, column) inside the string at ``path`` (e.g. a CEL error) in the file."""
        base_line, base_col = self.position(path)
        style = self.styles.get(path, "")
        if style in ("|", ">"):
            # The value position is the indicator; content starts on the next line, indented.
            first = base_line  # 0-based index of the line after the indicator
            indent = 0
            for candidate in self.lines[first:]:
                if candidate.strip():
                    indent = len(candidate) - len(candidate.lstrip(" "))
                    break
            if style == "|":
                return base_line + line, indent + column
            return base_line + 1, indent + column
        if line == 1:
            return base_line, base_col + column - (0 if style in ('"', "'") else 1)
        return base_line + line - 1, column

    def locate(
        self, path: Path, message: str, hint: str | None = None, *, at_key: bool = False
    ) -> LocatedError:
        line, column = self.position(path, at_key=at_key)
        return LocatedError(self.filename, line, column, format_path(path), message, hint)


@dataclass
class ParsedYaml:
    data: Any
    source: SourceMap
    errors: list[LocatedError]


class _TooBig(Exception):
    pass


class _Recursive(Exception):
    pass


_HINTS = (
    ("cannot start any token", "indent with spaces; tabs and some symbols need quotes"),
    ("mapping values are not allowed", "put text containing ': ' in quotes"),
    ("found duplicate key", "each key may appear only once in a mapping"),
    ("could not find expected ':'", "each entry is written 'key: value'"),
    ("did not find expected key", "check the indentation of this block"),
    ("did not find expected '-' indicator", "list items start with '- ' at the same indent"),
    ("found undefined alias", "define the anchor (&name) before using *name"),
    ("unacceptable character", "remove control characters from the file"),
)


def _yaml_hint(problem: str) -> str | None:
    return next((hint for needle, hint in _HINTS if needle in problem), None)


def parse_yaml(text: str, filename: str) -> ParsedYaml:
    """Parse ``text``; never raises for bad input — problems come back in ``errors``."""
    source = SourceMap(filename=filename, lines=text.splitlines())
    if len(text) > MAX_TEXT_LENGTH:
        error = LocatedError(filename, 1, 1, "(file)", "the file is too large", "split it up")
        return ParsedYaml(None, source, [error])
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and exc.problem:
            problem = f"{exc.context}: {exc.problem}"
        error = LocatedError(filename, line, column, "(file)", problem, _yaml_hint(problem))
        return ParsedYaml(None, source, [error])
    except Exception as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        error = LocatedError(filename, line, column, "(file)", f"invalid YAML: {exc}", None)
        return ParsedYaml(None, source, [error])
    builder = _Builder(source)
    source.values[()] = (1, 1)
    try:
        data = builder.convert(tree, ())
    except _TooBig:
        error = LocatedError(
            filename, 1, 1, "(file)", "the file expands to too many values", "use fewer aliases"
        )
        return ParsedYaml(None, source, [error])
    except _Recursive as exc:
        line, column = source.position(exc.args[0])
        error = LocatedError(
            filename, line, column, format_path(exc.args[0]), "an alias refers to itself", None
        )
        return ParsedYaml(None, source, [error])
    return ParsedYaml(data, source, builder.errors)


class _Builder:
    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.errors: list[LocatedError] = []
        self.count = 0
        self.active: set[int] = set()

    def convert(self, node: Any, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        if isinstance(node, dict):
            return self._mapping(node, path)
        if isinstance(node, list | tuple):
            return self._sequence(node, path)
        return self._scalar(node, path)

    def _mapping(self, node: dict[Any, Any], path: Path) -> dict[str, Any]:
        if id(node) in self.active:
            raise _Recursive(path)
        self.active.add(id(node))
        positions: dict[Any, list[int]] = getattr(getattr(node, "lc", None), "data", {}) or {}
        out: dict[str, Any] = {}
        self.source.mapping_paths[id(out)] = path
        for key, value in node.items():
            where = positions.get(key)
            if not isinstance(key, str):
                line, column = (where[0] + 1, where[1] + 1) if where else self.source.position(path)
                self.errors.append(
                    LocatedError(
                        self.source.filename,
                        line,
                        column,
                        format_path(path),
                        f"key {key!r} is not text",
                        "keys are names like 'stages' or 'key'",
                    )
                )
                continue
            child = (*path, str(key))
            if where:
                self.source.keys[child] = (where[0] + 1, where[1] + 1)
                self.source.values[child] = (where[2] + 1, where[3] + 1)
            out[str(key)] = self.convert(value, child)
        self.active.discard(id(node))
        return out

    def _sequence(self, node: list[Any] | tuple[Any, ...], path: Path) -> list[Any]:
        if id(node) in self.active:
            raise _Recursive(path)
        self.active.add(id(node))
        positions: dict[int, list[int]] = getattr(getattr(node, "lc", None), "data", {}) or {}
        out: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            where = positions.get(index)
            if where:
                self.source.values[child] = (where[0] + 1, where[1] + 1)
            out.append(self.convert(value, child))
        self.active.discard(id(node))
        return out

    def _scalar(self, node: Any, path: Path) -> Any:
        # ruamel returns subclasses (ScalarFloat, ScalarBoolean, quoted strings…); pydantic and
        # equality checks want the builtin types.
        if node is None:
            return None
        if isinstance(node, str):
            self.source.styles[path] = str(getattr(node, "style", "") or "")
            return str(node)
        if type(node).__name__ == "ScalarBoolean" or isinstance(node, bool):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, dt.datetime):
            return dt.datetime(
                node.year,
                node.month,
                node.day,
                node.hour,
                node.minute,
                node.second,
                node.microsecond,
                tzinfo=node.tzinfo,
            )
        if isinstance(node, dt.date):
            return dt.date(node.year, node.month, node.day)
        return str(node)
