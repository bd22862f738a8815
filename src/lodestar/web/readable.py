"""Numbers, times and durations as every page shows them, in the reader's language.

- durations: `lodestar.core.spans` (two largest units: "3 天 4 小时", "8 个月"; "3 days 4 hours");
- percentages: at most one decimal ("61.9 %", "100 %");
- moments and dates: in the organization's time zone (activated per request by
  `OrganizationTimeZoneMiddleware`), in the locale's short formats, never ISO text;
- scores: `lodestar.core.scoring.shown_score` (the template filter `score`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format

from lodestar.core.spans import say_span
from lodestar.i18n import speaks_chinese

__all__ = [
    "OrganizationTimeZoneMiddleware",
    "local_date",
    "local_moment",
    "percent_text",
    "span_text",
]


def span_text(value: dt.timedelta | None) -> str:
    """A duration in the active language: `3 天 4 小时` / `3 days 4 hours`; a dash for none."""
    if value is None:
        return "–"
    text = say_span(value)
    return text.zh if speaks_chinese() else text.en


def percent_text(value: float | None) -> str:
    """A percentage (0–100) with at most one decimal: `61.9 %`, `100 %`; a dash for none."""
    if value is None:
        return "–"
    tenths = Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    digits = 0 if tenths == tenths.to_integral_value() else 1
    return f"{number_format(tenths, digits, use_l10n=True)} %"


def _moment(value: dt.datetime | str | None) -> dt.datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None or timezone.is_naive(value):
        return None
    return value


def local_moment(value: dt.datetime | str | None) -> str:
    """A moment (or its ISO text) in the active time zone: the locale's short date and time."""
    moment = _moment(value)
    if moment is None:
        return "–"
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def local_date(value: dt.date | str | None) -> str:
    """A calendar date (or its ISO text) in the locale's short format."""
    day = parse_date(value) if isinstance(value, str) else value
    return "–" if day is None else date_format(day, "SHORT_DATE_FORMAT")


class OrganizationTimeZoneMiddleware:
    """Pages show times in the signed-in member's organization's zone, not the server's.

    The membership and organization come with the kept user (`lodestar.web.auth`): no query.
    The API words its times itself (`lodestar.rest`), so its requests are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = None
        if not request.path.startswith("/api/"):
            zone = _organization_zone(getattr(request, "user", None))
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _organization_zone(user: Any) -> Any:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = getattr(user, "membership", None)
    organization = getattr(membership, "organization", None) if membership else None
    try:
        return organization.tz if organization is not None else None
    except (ValueError, LookupError):  # a zone name the machine does not know: the default
        return None
