"""Custom field values as stored (JSON) → the typed values criteria compare."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lodestar.core.playbook.model import FieldDef, Playbook
from lodestar.core.rules.context import FieldValue

__all__ = ["field_values_from_json"]


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
