"""Custom field values: stored JSON → the typed values criteria compare, and checks of values
a caller wants to store (types, choice keys, unknown fields)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lodestar.core.playbook.errors import did_you_mean
from lodestar.core.playbook.model import FieldDef, Playbook
from lodestar.core.rules.context import FieldValue
from lodestar.core.rules.results import Bilingual

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
    """The typed value of one stored value; ``TypeError``/``ValueError`` when it does not fit."""
    kind = definition.type
    convert = _CONVERTERS.get(kind)
    if convert is not None:
        return convert(value, kind)
    if isinstance(value, str):
        return value
    if kind == "text" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError


def _boolean(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError


def _number(value: Any, kind: str) -> int | float | Decimal:
    """Money as ``Decimal``; a number as stored (int/float), or ``Decimal`` when stored as text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TypeError
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError
    if kind == "money":
        return number
    return value if isinstance(value, int | float) else number


def _date(value: Any, kind: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip()[:10])
    raise TypeError


def _multi_choice(value: Any, kind: str) -> tuple[str, ...]:
    if isinstance(value, list | tuple | set | frozenset) and all(
        isinstance(item, str) for item in value
    ):
        return tuple(sorted(value))
    raise TypeError


# Field types with a conversion of their own; text and the single choices keep strings.
_CONVERTERS: Mapping[str, Callable[[Any, str], FieldValue]] = {
    "boolean": _boolean,
    "number": _number,
    "money": _number,
    "date": _date,
    "multi_choice": _multi_choice,
}


# What a value of each field type must be, as a problem says it.
_TYPE_WORDS = {
    "boolean": Bilingual("是或否(true / false)", "yes or no (true / false)"),
    "number": Bilingual("数字", "a number"),
    "money": Bilingual("金额(数字)", "an amount (a number)"),
    "date": Bilingual("日期(YYYY-MM-DD)", "a date (YYYY-MM-DD)"),
    "multi_choice": Bilingual("选项标识的列表", "a list of choice keys"),
}


def _suggestion(word: str, candidates: frozenset[str] | list[str]) -> Bilingual:
    """ " — did you mean 'x'?" in both languages, or nothing when no candidate is close."""
    close = did_you_mean(word, candidates) or ""
    if not close.startswith("did"):
        return Bilingual("", "")
    name = close.split("'")[1]
    return Bilingual(f",是否要填“{name}”?", f" — {close}")


def _type_problem(definition: FieldDef, value: Any) -> Bilingual:
    wanted = _TYPE_WORDS.get(definition.type, Bilingual("文本", "text"))
    return Bilingual(
        f"“{definition.name.zh}”应为{wanted.zh},收到的是 {value!r}",
        f"{value!r} is not a valid {definition.type} value for '{definition.name.en}': "
        f"give {wanted.en}",
    )


def _choice_problem(
    definition: FieldDef, value: FieldValue, role_keys: frozenset[str]
) -> Bilingual | None:
    if definition.type not in ("choice", "multi_choice", "contact_role"):
        return None
    allowed = frozenset(c.key for c in definition.choices) or (
        role_keys if definition.type == "contact_role" else frozenset()
    )
    chosen = value if isinstance(value, tuple) else (value,)
    for item in chosen:
        if item not in allowed:
            hint = _suggestion(str(item), allowed)
            keys = ", ".join(sorted(allowed))
            return Bilingual(
                f"“{item}”不是“{definition.name.zh}”的可选项:{keys}{hint.zh}",
                f"'{item}' is not one of: {keys}{hint.en}",
            )
    return None


def check_field_values(playbook: Playbook, values: Mapping[str, Any]) -> dict[str, Bilingual]:
    """Problems with custom field values a caller wants to store, by field key; empty if none.

    ``None`` (or an empty text/list) clears a field and is always accepted. Unknown keys are
    problems with a spelling hint; so are values of the wrong type and unknown choice keys.
    """
    definitions = {definition.key: definition for definition in playbook.fields}
    role_keys = frozenset(choice.key for choice in playbook.contact_roles)
    problems: dict[str, Bilingual] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none"
            hint = _suggestion(key, list(definitions))
            problems[key] = Bilingual(
                f"本销售流程没有字段“{key}”;可用字段:{known}{hint.zh}",
                f"unknown field '{key}'; this playbook's fields: {known}{hint.en}",
            )
            continue
        if value is None or value == "" or value == []:
            continue
        try:
            converted = _convert(definition, value)
        except (TypeError, ValueError, InvalidOperation):
            problems[key] = _type_problem(definition, value)
            continue
        problem = _choice_problem(definition, converted, role_keys)
        if problem:
            problems[key] = problem
    return problems
