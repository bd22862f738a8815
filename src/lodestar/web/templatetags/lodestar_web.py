"""Small display filters for the pages: money, percentages, spans and bilingual names.

Numbers, times and durations read as `lodestar.web.readable` words them, on every page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import number_format

from lodestar.core.scoring import shown_score
from lodestar.i18n import speaks_chinese
from lodestar.web import labels
from lodestar.web.readable import local_moment, percent_text, span_text

register = template.Library()

_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥", "GBP": "£"}


@register.filter
def money(value: Decimal | float | int | None, currency: str = "CNY") -> str:
    """`12,345` with the currency's sign, grouped by the active locale."""
    if value is None:
        return "–"
    amount = number_format(Decimal(value), 0, use_l10n=True, force_grouping=True)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A 0–1 share as a localized percentage with at most one decimal (`61.9 %`, `100 %`)."""
    del digits  # one decimal at most everywhere; the argument is accepted for old templates
    return percent_text(None if value is None else value * 100)


@register.filter
def percent_of_100(value: float | None) -> str:
    """A 0–100 percentage (the yardsticks' figures) with at most one decimal: `61.9 %`."""
    return percent_text(value)


@register.filter
def score(value: float | None) -> str:
    """A score as every page, alert and notification shows it (a whole number, halves up)."""
    return "–" if value is None else number_format(shown_score(value), 0, use_l10n=True)


@register.filter
def score_below(value: float | None, threshold: float) -> bool:
    """Whether the score, as shown, is below the threshold (70 shown is never below 70)."""
    return value is not None and shown_score(value) < threshold


@register.filter
def span(value: dt.timedelta | float | None) -> str:
    """A duration (or a number of hours) in the one format of `lodestar.core.spans`:
    `3 天 4 小时` / `3 days 4 hours`, `8 个月`."""
    if value is None:
        return "–"
    if not isinstance(value, dt.timedelta):
        value = dt.timedelta(hours=float(value))
    return span_text(value)


@register.filter
def since(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago `value` was, at `now` (default: the present), as `span` words it."""
    if value is None:
        return "–"
    return span_text((now or timezone.now()) - value)


@register.filter
def until(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long until `value`, from `now` (default: the present), as `span` words it."""
    if value is None:
        return "–"
    return span_text(value - (now or timezone.now()))


@register.filter
def moment(value: dt.datetime | str | None) -> str:
    """A moment (or its ISO text) in the organization's zone, the locale's short format."""
    return local_moment(value)


@register.filter
def bilingual(obj: Any, field: str = "name") -> str:
    """`obj.name_zh` or `obj.name_en` (falling back to Chinese) for the active language."""
    zh = getattr(obj, f"{field}_zh", "") or ""
    en = getattr(obj, f"{field}_en", "") or ""
    return zh if speaks_chinese() or not en else en


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """`mapping[key]`, or the key itself when the mapping has no such entry."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return key


@register.filter
def content_type_name(content_type: str) -> str:
    """A file's MIME type as people say it (`application/pdf` → PDF file / PDF 文件)."""
    return labels.content_type_name(content_type)


@register.filter
def attachment_kind_name(kind: str, playbook_kinds: dict[str, str] | None = None) -> str:
    """An attachment kind by the playbook's name, else the built-in one (`quote` → 报价单)."""
    return labels.attachment_kind_name(kind, playbook_kinds)
