"""Annotated input types that hold values to what both databases can store and read back.

Use them for every body field, query and path parameter a client sends:

- `Text`: a string without NUL characters or unpaired surrogates (PostgreSQL refuses both, and
  SQLite keeps what nothing can read back); add length limits with `Field` as usual.
- `Id`: a database id, 1 … 2^63 − 1; `Int64`: any signed 64-bit integer.
- `SupportedDatetime` (time-zone aware) and `SupportedDate`: inside the one supported range of
  `lodestar.core.limits` (1900-01-01 … 9999-12-30, the moment taken in UTC).
- `FiniteFloat`, `FiniteDecimal`: no NaN or ±Infinity.
- `JsonObject`: a free-form object (payloads, custom fields) checked by `json_problems`.

Their errors are raised as pydantic errors carrying a translated message, so the API's error
handler renders them in its one shape with the field's path.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext_lazy as _
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic_core import PydanticCustomError, core_schema

from lodestar.core.limits import (
    ID_MAX,
    INT64_MAX,
    INT64_MIN,
    SUPPORTED_DATE_FROM,
    SUPPORTED_DATE_UNTIL,
    SUPPORTED_FROM,
    SUPPORTED_UNTIL,
    date_is_supported,
    datetime_is_supported,
    int_is_64_bit,
)

__all__ = [
    "MAX_JSON_CHARS",
    "MAX_JSON_DEPTH",
    "DecimalText",
    "FiniteDecimal",
    "FiniteFloat",
    "Id",
    "Int64",
    "JsonObject",
    "SupportedDate",
    "SupportedDatetime",
    "Text",
    "json_problems",
    "text_problem",
]

# A free-form JSON object (an event's payload, a deal's custom fields) may nest this many levels
# (the object itself is level 1) and hold about this many characters as compact JSON text.
MAX_JSON_DEPTH = 20
MAX_JSON_CHARS = 64 * 1024

_NUL = _("Text may not contain the NUL character (\\u0000); remove it.")
_SURROGATE = _(
    "Text contains an unpaired UTF-16 surrogate (\\ud800–\\udfff) that is not a character; "
    "send valid Unicode."
)
_NOT_FINITE = _("%(value)s is not a number that can be stored; send a finite number.")
_INT_RANGE = _("%(value)s does not fit in a signed 64-bit integer (−2^63 … 2^63 − 1).")
_ID_RANGE = _("An id is a whole number from 1 to %(max)d; %(value)s is not one.")
_DATETIME_RANGE = _(
    "%(value)s is outside the supported range: send a moment from %(start)s to %(end)s "
    "(taken in UTC, after its time zone offset is applied)."
)
_DATE_RANGE = _("%(value)s is outside the supported range: send a date from %(start)s to %(end)s.")
_DATE_FORMAT = _("Send a date as YYYY-MM-DD, e.g. 2026-03-31.")
_DATETIME_FORMAT = _(
    "Send a moment as ISO 8601 text with its offset, e.g. 2026-03-31T09:00:00+08:00."
)
# Years 1900 to 9999 (the supported range, whose last day is checked by `_check_date`).
_DATE_PATTERN = "^(19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ].+")


def _error(kind: str, message: Any) -> PydanticCustomError:
    # The translated text goes in as context, so braces in it are kept, never read as placeholders.
    return PydanticCustomError(kind, "{message}", {"message": str(message)})


def text_problem(value: str) -> Any | None:
    """Why `value` cannot be stored as text, or None. Cheap for the usual ASCII text."""
    if "\x00" in value:
        return _NUL
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return _SURROGATE
    return None


def _check_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise _error("text_unstorable", problem)
    return value


def _check_int64(value: int) -> int:
    if not int_is_64_bit(value):
        raise _error("int64_range", _INT_RANGE % {"value": _short(value)})
    return value


def _check_id(value: int) -> int:
    if not 1 <= value <= ID_MAX:
        raise _error("id_range", _ID_RANGE % {"max": ID_MAX, "value": _short(value)})
    return value


def _check_datetime(value: dt.datetime) -> dt.datetime:
    if not datetime_is_supported(value):
        raise _error(
            "datetime_range",
            _DATETIME_RANGE
            % {
                "value": value.isoformat(),
                "start": f"{SUPPORTED_FROM:%Y-%m-%dT%H:%M:%S}Z",
                "end": f"{SUPPORTED_UNTIL:%Y-%m-%dT%H:%M:%S}Z",
            },
        )
    # The same moment in UTC: an offset no database keeps (PostgreSQL stops at ±15:59, the ISO
    # text allows ±23:59) never reaches a query or a row.
    return value.astimezone(dt.UTC)


def _check_date(value: dt.date) -> dt.date:
    if not date_is_supported(value):
        raise _error(
            "date_range",
            _DATE_RANGE
            % {
                "value": value.isoformat(),
                "start": SUPPORTED_DATE_FROM.isoformat(),
                "end": SUPPORTED_DATE_UNTIL.isoformat(),
            },
        )
    return value


def _check_date_text(value: Any) -> Any:
    # pydantic alone reads 0 or "0" as 1970-01-01 and "20260331" as a Unix time.
    if isinstance(value, dt.datetime) or not (
        isinstance(value, dt.date) or (isinstance(value, str) and _DATE_TEXT.fullmatch(value))
    ):
        raise _error("date_format", _DATE_FORMAT)
    return value


def _check_datetime_text(value: Any) -> Any:
    # pydantic alone reads a number, or a query string's "0.5", as a Unix time.
    if not (
        isinstance(value, dt.datetime)
        or (isinstance(value, str) and _DATETIME_TEXT.fullmatch(value))
    ):
        raise _error("datetime_format", _DATETIME_FORMAT)
    return value


def _check_float(value: float) -> float:
    if not math.isfinite(value):
        raise _error("finite_number", _NOT_FINITE % {"value": _json_number(value)})
    return value


def _check_decimal(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise _error("finite_number", _NOT_FINITE % {"value": _json_number(value)})
    return value


def _check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    problems = json_problems(value)
    if problems:
        path, message = problems[0]
        raise _error("json_unstorable", f"{path}: {message}" if path else message)
    return value


def _short(value: int) -> str:
    # A 10^4000 id would otherwise fill the error body (and hit int-to-text limits).
    if value.bit_length() > 128:
        return f"{'−' if value < 0 else ''}a number of {value.bit_length()} bits"
    return str(value)


def _json_number(value: float | Decimal) -> str:
    """NaN and the infinities as a client's JSON spells them."""
    if value.is_nan() if isinstance(value, Decimal) else math.isnan(value):
        return "NaN"
    if value.is_infinite() if isinstance(value, Decimal) else math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return str(value)


def _printable(key: str) -> str:
    # A key is echoed in the error's field path, which must itself be storable text.
    return key if text_problem(key) is None else key.encode("unicode_escape").decode("ascii")


def json_problems(
    value: Any, *, path: str = "", max_depth: int = MAX_JSON_DEPTH, max_chars: int = MAX_JSON_CHARS
) -> list[tuple[str, str]]:
    """What in a parsed JSON value cannot be stored, as `(path, message)` pairs (empty if all
    is well); `path` joins keys and list indexes with dots below the given `path`.

    Every number must be finite and integers 64-bit, every text and key storable, the nesting
    at most `max_depth` levels, the whole at most about `max_chars` characters of compact JSON.
    The walk stops at the first size or depth excess, so a huge value costs no more than a
    limit's worth of work.
    """
    problems: list[tuple[str, str]] = []
    size = 0
    # An explicit stack instead of recursion: a value nested a thousand deep must not reach
    # Python's recursion limit before it is refused.
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                problems.append((where, str(_TOO_DEEP % {"max": max_depth})))
                return problems
            size += _push_children(item, where, depth, stack, problems)
        else:
            size += _scalar_size(item, where, problems)
        if size > max_chars:
            problems.append((path, str(_TOO_BIG % {"max": max_chars})))
            return problems
    return problems


def _scalar_size(item: Any, where: str, problems: list[tuple[str, str]]) -> int:
    """The compact-JSON size of a text, number, boolean or null (its problem, if any, added)."""
    if isinstance(item, str):
        problem = text_problem(item)
        if problem is not None:
            problems.append((where, str(problem)))
        return len(item) + 2
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        if int_is_64_bit(item):
            return len(str(item))
        problems.append((where, str(_INT_RANGE % {"value": _short(item)})))
        return 0
    if isinstance(item, float):
        if not math.isfinite(item):
            problems.append((where, str(_NOT_FINITE % {"value": _json_number(item)})))
        return 24
    problems.append((where, str(_NOT_JSON % {"kind": type(item).__name__})))
    return 0


def _push_children(
    item: dict[Any, Any] | list[Any],
    where: str,
    depth: int,
    stack: list[tuple[Any, str, int]],
    problems: list[tuple[str, str]],
) -> int:
    """Put an object's or array's members on the walk's stack; their keys' size (and problems)."""
    size = 2 + len(item)
    children = item.items() if isinstance(item, dict) else enumerate(item)
    for key, child in children:
        name = str(key)
        size += len(name) + 3
        problem = text_problem(name)
        if problem is not None:
            name = _printable(name)
        child_path = f"{where}.{name}" if where else name
        if problem is not None:
            problems.append((child_path, str(_KEY % {"problem": problem})))
        stack.append((child, child_path, depth + 1))
    return size


_TOO_DEEP = _("Nested more than %(max)d levels deep; flatten the value.")
_TOO_BIG = _(
    "Larger than %(max)d characters as JSON; store big content as an attachment and send its id."
)
_KEY = _("The key is not storable: %(problem)s")
_NOT_JSON = _("A %(kind)s is not a JSON value.")

# The `json_schema_extra` keywords document in the OpenAPI what the validators hold values to.
Text = Annotated[
    str, AfterValidator(_check_text), Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})
]
Int64 = Annotated[
    int,
    AfterValidator(_check_int64),
    Field(json_schema_extra={"minimum": INT64_MIN, "maximum": INT64_MAX}),
]
Id = Annotated[
    int, AfterValidator(_check_id), Field(json_schema_extra={"minimum": 1, "maximum": ID_MAX})
]
SupportedDatetime = Annotated[
    AwareDatetime, BeforeValidator(_check_datetime_text), AfterValidator(_check_datetime)
]
SupportedDate = Annotated[
    dt.date,
    BeforeValidator(_check_date_text),
    AfterValidator(_check_date),
    Field(json_schema_extra={"pattern": _DATE_PATTERN}),
]
FiniteFloat = Annotated[float, AfterValidator(_check_float)]
# pydantic's own refusal of NaN decimals is untranslated; ours runs instead.
FiniteDecimal = Annotated[Decimal, Field(allow_inf_nan=True), AfterValidator(_check_decimal)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_check_json_object)]


@dataclass(frozen=True)
class DecimalText:
    """`Annotated[Decimal, DecimalText(…)]`: a non-negative decimal of at most `max_digits`
    digits, `decimal_places` of them after the point, and at most `le`, sent as a JSON number or
    as plain decimal text ("1234.50").

    pydantic alone also reads "", " 1e3" and "+5" its own way, and the OpenAPI document it writes
    says "any string"; this type documents the forms it accepts and accepts only those.
    """

    max_digits: int
    decimal_places: int
    le: Decimal | None = None

    @property
    def maximum(self) -> Decimal:
        whole = self.max_digits - self.decimal_places
        largest = Decimal(10**whole) - Decimal(1).scaleb(-self.decimal_places)
        return largest if self.le is None else min(largest, self.le)

    @property
    def pattern(self) -> str:
        whole = self.max_digits - self.decimal_places
        return f"^[0-9]{{1,{whole}}}(\\.[0-9]{{1,{self.decimal_places}}})?$"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        text = re.compile(self.pattern)

        def check_form(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
                raise _error("decimal_type", _DECIMAL_FORM % {"example": _DECIMAL_EXAMPLE})
            if isinstance(value, str) and not text.fullmatch(value):
                raise _error("decimal_form", _DECIMAL_FORM % {"example": _DECIMAL_EXAMPLE})
            return value

        bounded = core_schema.decimal_schema(
            ge=Decimal(0),
            le=self.maximum,
            max_digits=self.max_digits,
            decimal_places=self.decimal_places,
        )
        return core_schema.no_info_before_validator_function(check_form, bounded)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": float(self.maximum),
                    "multipleOf": float(Decimal(1).scaleb(-self.decimal_places)),
                },
                {"type": "string", "pattern": self.pattern},
            ]
        }


_DECIMAL_EXAMPLE = "1234.50"
_DECIMAL_FORM = _(
    "Send a decimal number as a JSON number or as digits with an optional point, "
    "e.g. %(example)s (no sign, exponent or spaces)."
)
