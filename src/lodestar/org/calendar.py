"""An organization's business calendar, as the SLA clock's plain `BusinessCalendar`.

Built from three parts:

- the organization's hours: time zone, working weekdays, when the workday starts and ends;
- the public holidays of mainland China from the `holidays` package, which carries each year's
  State Council arrangement (国务院办公厅关于部分节假日安排的通知): the days off, and the
  weekend days worked in exchange for a longer holiday (调休, make-up working days);
- the organization's own days (`Holiday`): extra days off, and days it works although the public
  calendar has them off (or does not know the make-up day yet). Its own days win.

The arrangement for a year is published around November of the year before, and a package
release follows. For a year the installed package does not carry yet, the package still derives
the statutory holidays, but no bridging days off and no make-up working days: the SLA clock
logs a warning the first time it is asked about such a year, and the organization's admin page
shows one. The cure is upgrading the package (docs/operations.md), or entering the days as the
organization's own meanwhile.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from importlib.metadata import version

import holidays
from django.utils import timezone

from lodestar.core.engine import BusinessCalendar
from lodestar.org.models import Organization

__all__ = [
    "PUBLIC_HOLIDAYS_COUNTRY",
    "PublicCalendar",
    "organization_calendar",
    "public_calendar",
    "unpublished_years",
]

logger = logging.getLogger(__name__)

# ISO 3166 code of the public calendar organizations follow: mainland China.
PUBLIC_HOLIDAYS_COUNTRY = "CN"
_LOOKAHEAD = dt.timedelta(days=31)


@dataclass(frozen=True, slots=True)
class PublicCalendar:
    """The public days off and make-up working days, and the years the arrangement is known."""

    days_off: frozenset[dt.date]
    make_up_days: frozenset[dt.date]
    published_years: frozenset[int]


@functools.cache
def public_calendar(*, through_year: int) -> PublicCalendar:
    """The country's public calendar from the package's first year through ``through_year``.

    A year counts as published when the package names make-up working days in it: every
    State Council arrangement since 2001 has some, and the package adds them with the
    arrangement, whereas it derives the statutory holidays of any year.
    """
    first_year = holidays.country_holidays(PUBLIC_HOLIDAYS_COUNTRY).start_year
    source = holidays.country_holidays(
        PUBLIC_HOLIDAYS_COUNTRY, years=range(first_year, through_year + 1)
    )
    make_up_days = frozenset(source.weekend_workdays)
    return PublicCalendar(
        days_off=frozenset(source),
        make_up_days=make_up_days,
        published_years=frozenset(day.year for day in make_up_days),
    )


def _current_public_calendar() -> PublicCalendar:
    # One year past today: deadlines started in December run into the next year.
    return public_calendar(through_year=timezone.now().year + 1)


def unpublished_years(*, today: dt.date) -> list[int]:
    """The years of the coming month the installed package carries no arrangement for.

    A month: deadlines set today rarely run further, so the next year's gap shows in December.
    """
    years = sorted({today.year, (today + _LOOKAHEAD).year})
    published = public_calendar(through_year=years[-1]).published_years
    return [year for year in years if year not in published]


@functools.cache
def _warn_unpublished_year(year: int) -> None:
    logger.warning(
        "The public holiday calendar (holidays %s) has no published arrangement for %s: business "
        "hours that year skip its statutory holidays only, without bridging days off and "
        "make-up working days. Upgrade the holidays package, or enter those days as the "
        "organization's own.",
        version("holidays"),
        year,
    )


def organization_calendar(*, organization: Organization) -> BusinessCalendar:
    """The organization's hours, the public holidays and its own days, for the SLA clock.

    Triggers pass this to ``lodestar.core.engine.due_at``; the sweep to ``business_time_between``.
    """
    public = _current_public_calendar()
    own_days = dict(organization.holidays.values_list("date", "is_working_day"))
    own_days_off = {day for day, works in own_days.items() if not works}
    own_working_days = {day for day, works in own_days.items() if works}
    return BusinessCalendar.build(
        time_zone=organization.time_zone,
        working_days=organization.working_days,
        opens=organization.workday_starts,
        closes=organization.workday_ends,
        holidays=(public.days_off - own_working_days) | own_days_off,
        make_up_days=(public.make_up_days - own_days_off) | own_working_days,
        published_years=public.published_years,
        on_unpublished_year=_warn_unpublished_year,
    )
