"""An organization's business calendar for SLA clocks (working days, hours, holidays)."""

from __future__ import annotations

from lodestar.core.engine import BusinessCalendar
from lodestar.org.models import Holiday, Organization

__all__ = ["business_calendar_of"]


def business_calendar_of(organization: Organization) -> BusinessCalendar:
    return BusinessCalendar(
        time_zone=organization.time_zone,
        working_days=frozenset(organization.working_days),
        opens=organization.workday_starts,
        closes=organization.workday_ends,
        holidays=frozenset(
            Holiday.objects.filter(organization=organization).values_list("date", flat=True)
        ),
    )
