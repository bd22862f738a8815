"""Reading the values people type into spreadsheets: dates in every usual shape, numbers with
separators, currency signs and 万, yes/no in Chinese and English, and names compared loosely."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "DateOrder",
    "ValueInvalid",
    "compact_name",
    "loose_name",
    "nearest_names",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_number",
]

DateOrder = Literal["ymd", "dmy", "mdy"]

# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in). Plain numbers in this
# range (1954 … 2119) in a date column are read as such serials.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000
_NUMBER_MAX = Decimal("1e15")


class ValueInvalid(ValueError):
    """A cell that does not hold a value of the expected type."""


# --- names ---------------------------------------------------------------------------------


def loose_name(value: str) -> str:
    """A name for matching: full-width folded to half-width, case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


@lru_cache(maxsize=65_536)
def compact_name(value: str) -> str:
    """A name with only its letters and digits kept (case, spaces, punctuation, full-width
    forms ignored): "GTX Pro", "gtx-pro" and "ＧＴＸＰｒｏ" all give "gtxpro"."""
    # Upper-casing first folds the letters whose lower case has no upper-case twin (ı → i);
    # the second NFKC puts back together what case mapping took apart (ǰ → J̌ → ǰ).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).upper().casefold())
    kept = "".join(ch for ch in folded if ch.isalnum() or unicodedata.category(ch).startswith("M"))
    return unicodedata.normalize("NFKC", kept)


_CLOSE = 0.6


def _closeness(matcher: difflib.SequenceMatcher[str], target: str, other: str) -> float:
    """How close ``other`` is to ``target`` (the matcher holds ``target``), 0 when clearly not
    close: the cheap upper bounds are tried before the full comparison."""
    if other == target:
        return 2.0
    if len(target) >= 3 and (target in other or other in target):
        matcher.set_seq1(other)
        return max(matcher.ratio(), 0.8)
    matcher.set_seq1(other)
    if matcher.real_quick_ratio() < _CLOSE or matcher.quick_ratio() < _CLOSE:
        return 0.0
    return matcher.ratio()


def nearest_names(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates closest to ``name``, best first (at most ``limit``; none if nothing is
    close). Equal once case, spaces, punctuation and full-width forms are ignored ranks first."""
    target = compact_name(name)
    if not target:
        return []
    matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    scored: list[tuple[float, str]] = []
    for candidate in dict.fromkeys(candidates):
        other = compact_name(candidate)
        if other:
            score = _closeness(matcher, target, other)
            if score >= _CLOSE:
                scored.append((score, candidate))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [candidate for _, candidate in scored[:limit]]


# --- numbers -------------------------------------------------------------------------------

_MULTIPLIERS = {
    "万": Decimal(10_000),
    "w": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "千": Decimal(1_000),
    "k": Decimal(1_000),
    "百万": Decimal(1_000_000),
}
_CURRENCY = re.compile(r"^(?:rmb|cny|usd|eur|hkd|[¥$€£])\s*|\s*(?:元|rmb|cny|usd|eur|hkd)$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_EUROPEAN = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$")
_PLAIN = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d*)?e[+-]?\d+$")


def _sign(value: str) -> tuple[bool, str]:
    """Parentheses, a leading minus and currency signs taken off; True when negative."""
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    if value.startswith(("-", "−")):
        negative, value = not negative, value[1:]
    elif value.startswith("+"):
        value = value[1:]
    bare = _CURRENCY.sub("", value)
    value, had_sign = bare, bare != value
    if had_sign and value.startswith(("-", "−")):  # ¥-5
        negative, value = not negative, value[1:]
    return negative, value


def _factor(value: str) -> tuple[Decimal, str]:
    """A trailing %, 万, 亿, 千 or k taken off, as the factor it stands for."""
    if value.endswith("%"):
        return Decimal("0.01"), value[:-1]
    for suffix in ("百万", "万", "亿", "千", "k", "w"):
        if value.endswith(suffix) and len(value) > len(suffix):
            return _MULTIPLIERS[suffix], value[: -len(suffix)]
    return Decimal(1), value


def parse_number(text: str) -> Decimal:
    """``1,234.50``, ``¥1,234``, ``1.2万``, ``(123)``, ``-5%`` … as a Decimal.

    Raises :class:`ValueInvalid` for anything else (and for magnitudes over 10^15)."""
    raw = unicodedata.normalize("NFKC", text).strip().casefold()
    negative, value = _sign(raw.replace(" ", "").replace("\u00a0", "").replace("'", ""))
    factor, value = _factor(value)
    if _GROUPED.match(value):
        value = value.replace(",", "")
    elif _EUROPEAN.match(value):
        value = value.replace(".", "").replace(",", ".")
    elif not (_PLAIN.match(value) or _SCIENTIFIC.match(value)):
        raise ValueInvalid(text)
    try:
        number = Decimal(value) * factor
    except InvalidOperation as error:
        raise ValueInvalid(text) from error
    if not number.is_finite() or abs(number) >= _NUMBER_MAX:
        raise ValueInvalid(text)
    return -number if negative else number


# --- yes / no ------------------------------------------------------------------------------

TRUE_WORDS = frozenset(
    {"是", "有", "对", "y", "yes", "true", "t", "1", "√", "✓", "✔", "x", "on", "已", "真"}
)
FALSE_WORDS = frozenset(
    {"否", "无", "没有", "不是", "n", "no", "false", "f", "0", "×", "✗", "off", "假"}
)


def parse_bool(text: str) -> bool:
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueInvalid(text)


# --- dates ---------------------------------------------------------------------------------

_MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_XXY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMONY = re.compile(r"^(\d{1,2})[\s\-/.]*([a-z]+)\.?[\s\-/.,]*(\d{4})$")
_MONDY = re.compile(r"^([a-z]+)\.?[\s\-/.]*(\d{1,2})(?:st|nd|rd|th)?[\s,\-/.]*(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_MOMENT = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_TIME = re.compile(
    r"^(?P<pre>am|pm|上午|下午)?\s*(?P<h>\d{1,2})[:时](?P<m>\d{2})"
    r"(?:[:分](?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?秒?)?\s*"
    r"(?P<post>am|pm|上午|下午)?\s*(?P<zone>z|[+-]\d{2}:?\d{2})?$"
)
_SPLIT = re.compile(r"^(.*?\d日?)(?:t|\s+)((?:am|pm|上午|下午)?\s*\d{1,2}[:时]\d{2}.*)$")


def _date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise ValueInvalid(text) from error


def _slashed(match: re.Match[str], order: DateOrder, text: str) -> dt.date:
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    if order == "dmy" or (order == "ymd" and first > 12 >= second):
        return _date(year, second, first, text)
    return _date(year, first, second, text)


def _named_month(value: str, text: str) -> dt.date | None:
    if match := _DMONY.match(value):
        month = _MONTHS.get(match[2])
        if month:
            return _date(int(match[3]), month, int(match[1]), text)
    if match := _MONDY.match(value):
        month = _MONTHS.get(match[1])
        if month:
            return _date(int(match[3]), month, int(match[2]), text)
    return None


def parse_date(text: str, order: DateOrder = "ymd") -> dt.date:
    """2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305, 05/03/2024 (by ``order``:
    "dmy" or "mdy"; with "ymd" a day above 12 decides, else month first), 5 Mar 2024,
    Mar 5, 2024, an Excel serial (45356) or a date-time (its date)."""
    if _ISO_DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as error:
            raise ValueInvalid(text) from error
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    split = _SPLIT.match(value)
    if split and _TIME.match(split.group(2).strip()):
        value = split.group(1).strip()
    if (match := _YMD.match(value)) or (match := _COMPACT.match(value)):
        return _date(int(match[1]), int(match[2]), int(match[3]), text)
    if match := _XXY.match(value):
        return _slashed(match, order, text)
    named = _named_month(value, text)
    if named is not None:
        return named
    if _SERIAL.match(value):
        serial = float(value)
        if _SERIAL_MIN <= serial <= _SERIAL_MAX:
            return _EXCEL_EPOCH + dt.timedelta(days=int(serial))
    raise ValueInvalid(text)


def _time_of(match: re.Match[str], text: str) -> tuple[dt.time, dt.tzinfo | None]:
    hour, minute = int(match["h"]), int(match["m"])
    second = int(match["s"] or 0)
    micro = int((match["f"] or "0").ljust(6, "0"))
    meridiem = match["pre"] or match["post"]
    if meridiem in ("pm", "下午") and hour < 12:
        hour += 12
    elif meridiem in ("am", "上午") and hour == 12:
        hour = 0
    try:
        when = dt.time(hour, minute, second, micro)
    except ValueError as error:
        raise ValueInvalid(text) from error
    zone_text = match["zone"]
    if zone_text == "z":
        return when, dt.UTC
    if zone_text:
        sign = 1 if zone_text[0] == "+" else -1
        digits = zone_text[1:].replace(":", "")
        delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return when, dt.timezone(sign * delta)
    return when, None


def _aware(moment: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz) if tz else moment


def _quick_moment(text: str, tz: dt.tzinfo | None) -> dt.datetime | None:
    """The common shapes (2024-03-05 10:30, 2024/03/05 10:30:15, 2024/3/5 10:30, ISO with an
    offset) read without the general path; None for anything else."""
    separator = text[4:5]
    if separator in ("-", "/", ".") and text[7:8] == separator and len(text) >= 10:
        iso = text if separator == "-" else f"{text[:4]}-{text[5:7]}-{text[8:]}"
        try:
            return _aware(dt.datetime.fromisoformat(iso), tz)
        except ValueError:
            pass  # not ISO once the separators are dashes: the shapes below, or the general path
    if plain := _PLAIN_MOMENT.match(text):
        year, month, day, hour, minute, second = (int(p) for p in plain.groups(default="0"))
        try:
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError as error:
            raise ValueInvalid(text) from error
    return None


def parse_datetime(
    text: str, order: DateOrder = "ymd", zone: dt.tzinfo | str | None = None
) -> dt.datetime:
    """A date as :func:`parse_date` reads it, with an optional time (10:30, 10:30:15,
    2:30 pm, 下午2:30, an ISO "T" and offset); a date alone is midnight. Naive results are
    taken in ``zone`` when given (an offset in the text wins)."""
    tz: dt.tzinfo | None = ZoneInfo(zone) if isinstance(zone, str) else zone
    quick = _quick_moment(text, tz)
    if quick is not None:
        return quick
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    if _SERIAL.match(value):
        serial = float(value)
        if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
            raise ValueInvalid(text)
        moment = dt.datetime.combine(_EXCEL_EPOCH, dt.time()) + dt.timedelta(days=serial)
        moment = moment.replace(microsecond=0)
        return moment.replace(tzinfo=tz) if tz else moment
    when, offset = dt.time(), None
    split = _SPLIT.match(value)
    if split:
        time_match = _TIME.match(split.group(2).strip())
        if not time_match:
            raise ValueInvalid(text)
        value = split.group(1).strip()
        when, offset = _time_of(time_match, text)
    moment = dt.datetime.combine(parse_date(value, order), when)
    if offset is not None:
        moment = moment.replace(tzinfo=offset)
        return moment.astimezone(tz) if tz else moment
    return moment.replace(tzinfo=tz) if tz else moment


def date_order_of(values: Iterable[str]) -> DateOrder | None:
    """The day/month order the slashed dates among ``values`` reveal (a part above 12), or
    None when none does."""
    for value in values:
        match = _XXY.match(value.strip())
        if not match:
            continue
        first, second = int(match[1]), int(match[2])
        if first > 12 >= second:
            return "dmy"
        if second > 12 >= first:
            return "mdy"
    return None
