"""Load a playbook from YAML text, reporting every problem with its place in the file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from lodestar.core.playbook.checks import check_references
from lodestar.core.playbook.errors import (
    Issue,
    LocatedError,
    Path,
    PlaybookInvalid,
    did_you_mean,
    format_path,
)
from lodestar.core.playbook.model import CRITERION_KINDS, UNKNOWN_KEYS_CONTEXT, Playbook
from lodestar.core.playbook.source import SourceMap, parse_yaml

__all__ = ["check_playbook", "load_playbook", "parse_playbook"]

# Keys whose values (or list items) are criteria: pydantic puts the union tag into the error
# location there, which is not a key of the YAML mapping and must be skipped.
_CRITERION_LISTS = frozenset({"exit", "all", "any"})
_CRITERION_VALUES = frozenset({"not", "when"})
_UNION_MEMBER_NAMES = frozenset(
    {"bool", "int", "float", "date", "str", "tuple[...]", "Text", "timedelta", "none"}
)
_KEY_RULE = "use lower-case letters, digits and '_', starting with a letter (e.g. demo_done)"


def load_playbook(text: str, filename: str = "playbook.yaml") -> Playbook:
    """Parse, validate and rule-check ``text``.

    Returns the :class:`Playbook`; raises :class:`PlaybookInvalid` whose ``errors`` list every
    problem found (YAML syntax, shape, unknown keys, references, CEL), each with file, line,
    column, path, message and hint. Never raises anything else for bad text.
    """
    playbook, errors = parse_playbook(text, filename)
    if errors or playbook is None:
        raise PlaybookInvalid(errors)
    return playbook


def check_playbook(text: str, filename: str = "playbook.yaml") -> list[LocatedError]:
    """The located errors of ``text`` (empty when it is a valid playbook) — for forms and CLIs."""
    return parse_playbook(text, filename)[1]


def parse_playbook(
    text: str, filename: str = "playbook.yaml"
) -> tuple[Playbook | None, list[LocatedError]]:
    """``(playbook, [])`` when valid, else ``(None or playbook, errors)`` sorted by position."""
    parsed = parse_yaml(text, filename)
    source = parsed.source
    if parsed.errors and parsed.data is None:
        return None, _sorted(parsed.errors)
    errors = list(parsed.errors)
    if not isinstance(parsed.data, dict):
        errors.append(
            source.locate(
                (),
                "a playbook file is a mapping of sections (key:, name:, stages: …)",
                "start with 'key: my_process' on the first line",
            )
        )
        return None, _sorted(errors)
    unknown: list[tuple[int, str, frozenset[str]]] = []
    try:
        playbook: Playbook | None = Playbook.model_validate(
            parsed.data, context={UNKNOWN_KEYS_CONTEXT: unknown}
        )
    except ValidationError as exc:
        playbook = None
        errors += _validation_errors(exc.errors(), parsed.data, source)
    errors += _unknown_key_errors(unknown, source)
    if playbook is None or errors:
        return None, _sorted(errors)
    issues = check_references(playbook)
    # Imported here: the rules package builds on these models, so it cannot be imported at
    # the top of a module the models' package imports.
    from lodestar.core.rules.compiler import rule_issues

    issues += rule_issues(playbook)
    errors += [_place(issue, source) for issue in issues]
    if errors:
        return None, _sorted(errors)
    return playbook, []


def _sorted(errors: Iterable[LocatedError]) -> list[LocatedError]:
    unique = {(e.line, e.column, e.path, e.message): e for e in errors}
    return sorted(unique.values(), key=lambda e: (e.line, e.column, e.path))


def _place(issue: Issue, source: SourceMap) -> LocatedError:
    if issue.offset is not None:
        line, column = source.text_position(issue.path, *issue.offset)
        return LocatedError(
            source.filename, line, column, format_path(issue.path), issue.message, issue.hint
        )
    return source.locate(issue.path, issue.message, issue.hint, at_key=issue.at_key)


def _unknown_key_errors(
    unknown: Sequence[tuple[int, str, frozenset[str]]], source: SourceMap
) -> list[LocatedError]:
    errors = []
    for mapping_id, key, allowed in unknown:
        base = source.mapping_paths.get(mapping_id)
        if base is None:
            continue  # a mapping pydantic re-created (cannot happen for file input)
        hint = did_you_mean(key, allowed) or "allowed: " + ", ".join(sorted(allowed))
        errors.append(source.locate((*base, key), f"unknown key '{key}'", hint, at_key=True))
    return errors


def _data_path(data: Any, loc: Sequence[str | int]) -> tuple[Path, str | None]:
    """Map a pydantic error location onto the data: ``(path, missing key or None)``."""
    path: list[str | int] = []
    node = data
    tag_expected = False
    for part in loc:
        if tag_expected and isinstance(node, dict) and part in CRITERION_KINDS:
            tag_expected = False
            if _criterion_kind(node) == part:
                continue
        tag_expected = False
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            tag_expected = bool(path) and path[-1] in _CRITERION_LISTS
            path.append(part)
            node = node[part]
            continue
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                tag_expected = part in _CRITERION_VALUES
                path.append(part)
                node = node[part]
                continue
            if part in _UNION_MEMBER_NAMES or part.startswith(("function-", "tagged-union")):
                continue
            return tuple(path), part
        break  # a union member name or an index into a scalar: the error is about this node
    return tuple(path), None


def _criterion_kind(node: dict[str, Any]) -> str | None:
    return next((kind for kind in CRITERION_KINDS if kind in node), None)


def _validation_errors(
    details: Sequence[ErrorDetails], data: Any, source: SourceMap
) -> list[LocatedError]:
    grouped: dict[Path, list[tuple[ErrorDetails, str | None]]] = {}
    for detail in details:
        path, missing = _data_path(data, detail["loc"])
        if missing is not None and detail["type"] == "missing":
            grouped.setdefault((*path, missing), []).append((detail, missing))
        else:
            grouped.setdefault(path, []).append((detail, None))
    errors: list[LocatedError] = []
    paths = list(grouped)
    for path, items in grouped.items():
        detail, missing = items[0]
        kind = detail["type"]
        # "Tuple should have at least 2 items" after a member failed is a consequence.
        if kind == "too_short" and any(p[: len(path)] == path and p != path for p in paths):
            continue
        if missing is not None:
            line, column = source.position(path[:-1])
            errors.append(
                LocatedError(
                    source.filename,
                    line,
                    column,
                    format_path(path),
                    f"missing required key '{missing}'",
                    f"add '{missing}:' here",
                )
            )
            continue
        if len(items) > 1 and all(d["type"] != "criterion_kind" for d, _ in items):
            message, hint = _union_message([d for d, _ in items])
        else:
            message, hint = _message(detail, _node(data, path))
        errors.append(source.locate(path, message, hint))
    return errors


def _node(data: Any, path: Path) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


_EXPECTED = re.compile(r"Input should be (?:a valid )?([^,\[]+)")


def _union_message(details: Sequence[ErrorDetails]) -> tuple[str, str | None]:
    wanted: list[str] = []
    for detail in details:
        match = _EXPECTED.match(detail["msg"])
        if match is not None and match[1].strip() not in wanted:
            wanted.append(match[1].strip())
    if wanted:
        return "this value has the wrong type", "expected " + " or ".join(wanted)
    return _message(details[0], None)


def _message(detail: ErrorDetails, node: Any) -> tuple[str, str | None]:
    """Pydantic's error in the words of a playbook author, with a hint where one helps."""
    kind = detail["type"]
    if kind == "criterion_kind":
        return detail["msg"], _criterion_kind_hint(node)
    explain = _EXPLAINED.get(kind)
    if explain is not None:
        return explain(detail)
    fixed = _FIXED_MESSAGES.get(kind)
    if fixed is not None:
        return fixed, None
    return detail["msg"], None


def _criterion_kind_hint(node: Any) -> str:
    hint = None
    if isinstance(node, dict):
        for key in node:
            hint = did_you_mean(str(key), CRITERION_KINDS)
            if hint and hint.startswith("did you mean"):
                break
    return hint or "use one of: " + ", ".join(CRITERION_KINDS)


def _literal_message(detail: ErrorDetails) -> tuple[str, str | None]:
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    expected = re.findall(r"'([^']*)'", str(context.get("expected", "")))
    got = detail.get("input")
    return (
        f"'{got}' is not allowed here",
        did_you_mean(str(got), expected) or "use one of: " + ", ".join(expected),
    )


def _pattern_message(detail: ErrorDetails) -> tuple[str, str | None]:
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    if "A-Z]{3}" in str(context.get("pattern", "")):
        return f"'{detail.get('input')}' is not a currency code", "write e.g. CNY or USD"
    return f"'{detail.get('input')}' is not a valid key", _KEY_RULE


def _too_short_message(detail: ErrorDetails) -> tuple[str, str | None]:
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    least, has = context.get("min_length"), context.get("actual_length")
    return f"needs at least {least} entries (has {has})", None


def _value_error_message(detail: ErrorDetails) -> tuple[str, str | None]:
    return detail["msg"].removeprefix("Value error, "), None


_EXPLAINED: Mapping[str, Callable[[ErrorDetails], tuple[str, str | None]]] = {
    "literal_error": _literal_message,
    "string_pattern_mismatch": _pattern_message,
    "too_short": _too_short_message,
    "value_error": _value_error_message,
}
_FIXED_MESSAGES: Mapping[str, str] = {
    "extra_forbidden": "unknown key",
    "model_type": "expected a mapping (key: value lines) here",
    "model_attributes_type": "expected a mapping (key: value lines) here",
    "dict_type": "expected a mapping (key: value lines) here",
    "tuple_type": "expected a list (lines starting with '- ') here",
    "list_type": "expected a list (lines starting with '- ') here",
}
