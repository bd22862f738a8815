"""Custom field values: stored JSON → the typed values criteria compare, and checks of values
a caller wants to store (types, choice keys, unknown fields)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lodestar.core.playbook.errors import did_you_mean
from lodestar.core.playbook.model import FieldDef, Playbook
from lodestar.core.rules.context import FieldValue

__all__ = ["check_field_values", "field_values_from_json"]


def field_values_from_json(
    playbook: Playbook, raw: Mapping[str, Any]
) -> tuple[dict[str, FieldValue], dict[str, str]]:
    """Convert a deal's stored custom fields for evaluation.

    Returns ``(values, problems)``: values typed by the playbook's field definitions (money →
    ``Decimal``, dates from ``YYYY-MM-DD``, multi-choice → tuple); ``problems`` maps keys whose
    stored value does not fit to a message — those keys are left out, so criteria see them as
    not set. Keys the playbook does not declare are ignored.
    """
    values: dict[str, FieldValue] = {}
    problems: dict[str, str] = {}
    for definition in playbook.fields:
        if definition.key not in raw:
            continue
        value = raw[definition.key]
        if value is None or value == "" or value == []:
            continue
        try:
            values[definition.key] = _convert(definition, value)
        except (TypeError, ValueError, InvalidOperation):
            problems[definition.key] = f"{value!r} is not a valid {definition.type} value"
    return values, problems


def _convert(definition: FieldDef, value: Any) -> FieldValue:
    kind = definition.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise TypeError
    if kind in ("number", "money"):
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise TypeError
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise ValueError
        if kind == "money":
            return number
        return value if isinstance(value, int | float) else number
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return date.fromisoformat(value.strip()[:10])
        raise TypeError
    if kind == "multi_choice":
        if isinstance(value, list | tuple | set | frozenset) and all(
            isinstance(item, str) for item in value
        ):
            return tuple(sorted(value))
        raise TypeError
    if isinstance(value, str):
        return value
    if kind == "text" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError


def _choice_problem(
    definition: FieldDef, value: FieldValue, role_keys: frozenset[str]
) -> str | None:
    if definition.type not in ("choice", "multi_choice", "contact_role"):
        return None
    allowed = frozenset(c.key for c in definition.choices) or (
        role_keys if definition.type == "contact_role" else frozenset()
    )
    chosen = value if isinstance(value, tuple) else (value,)
    for item in chosen:
        if item not in allowed:
            close = did_you_mean(str(item), allowed) or ""
            hint = f" — {close}" if close.startswith("did") else ""
            return f"'{item}' is not one of: {', '.join(sorted(allowed))}{hint}"
    return None


def check_field_values(playbook: Playbook, values: Mapping[str, Any]) -> dict[str, str]:
    """Problems with custom field values a caller wants to store, by field key; empty if none.

    ``None`` (or an empty text/list) clears a field and is always accepted. Unknown keys are
    problems with a spelling hint; so are values of the wrong type and unknown choice keys.
    """
    definitions = {definition.key: definition for definition in playbook.fields}
    role_keys = frozenset(choice.key for choice in playbook.contact_roles)
    problems: dict[str, str] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none"
            close = did_you_mean(key, definitions) or ""
            hint = f" — {close}" if close.startswith("did") else ""
            problems[key] = f"unknown field '{key}'; this playbook's fields: {known}{hint}"
            continue
        if value is None or value == "" or value == []:
            continue
        try:
            converted = _convert(definition, value)
        except (TypeError, ValueError, InvalidOperation):
            problems[key] = f"{value!r} is not a valid {definition.type} value"
            continue
        problem = _choice_problem(definition, converted, role_keys)
        if problem:
            problems[key] = problem
    return problems
