"""Check custom field values a deal carries against the fields its playbook declares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lodestar.core.playbook.errors import did_you_mean
from lodestar.core.playbook.model import FieldDef, Playbook

__all__ = ["FieldProblem", "check_field_values"]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One bad value; ``field`` is the custom field's key."""

    field: str
    message: str


def _number_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return "expected a number"
    try:
        Decimal(str(value))
    except InvalidOperation:
        return f"'{value}' is not a number"
    return None


def _value_problem(field: FieldDef, value: Any, role_keys: frozenset[str]) -> str | None:
    kind = field.type
    if kind in ("number", "money"):
        return _number_problem(value)
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if kind == "date":
        if isinstance(value, dt.date):
            return None
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"'{value}' is not a date; write YYYY-MM-DD"
        return None
    if kind == "text":
        return None if isinstance(value, str) else "expected text"
    allowed = role_keys if kind == "contact_role" else frozenset(c.key for c in field.choices)
    values = value if kind == "multi_choice" else [value]
    if kind == "multi_choice" and not isinstance(value, list):
        return "expected a list of choice keys"
    for item in values:
        if item not in allowed:
            hint = did_you_mean(str(item), allowed)
            options = ", ".join(sorted(allowed))
            return f"'{item}' is not one of: {options}" + (
                f" (did you mean '{hint}'?)" if hint else ""
            )
    return None


def check_field_values(playbook: Playbook, values: Mapping[str, Any]) -> list[FieldProblem]:
    """Problems with ``values`` (custom field key → JSON value); empty when all are fine.

    ``None`` clears a field and is always accepted; unknown keys are problems, with a hint.
    """
    fields = {field.key: field for field in playbook.fields}
    role_keys = frozenset(choice.key for choice in playbook.contact_roles)
    problems = []
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            hint = did_you_mean(key, fields)
            known = ", ".join(sorted(fields)) or "none"
            message = f"unknown field '{key}'; this playbook's fields: {known}"
            problems.append(
                FieldProblem(key, message + (f" — did you mean '{hint}'?" if hint else ""))
            )
            continue
        if value is None:
            continue
        problem = _value_problem(field, value, role_keys)
        if problem:
            problems.append(FieldProblem(key, problem))
    return problems
