"""The value ranges every layer accepts, written once.

Both databases and Python itself have edges: PostgreSQL keeps timestamps back to 4713 BC but
Python's `datetime` stops at year 1, so a moment stored near either end can be written and then
never read back (a page showing it answers an error); a time zone offset moves a moment across
that edge when it is converted to UTC. Ids are 64-bit integers in both databases, and neither
stores a text with a NUL character in it (PostgreSQL refuses it outright). Inputs are held to the
ranges below before anything is written.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "ID_MAX",
    "INT64_MAX",
    "INT64_MIN",
    "SUPPORTED_DATE_FROM",
    "SUPPORTED_DATE_UNTIL",
    "SUPPORTED_FROM",
    "SUPPORTED_UNTIL",
    "date_is_supported",
    "datetime_is_supported",
    "int_is_64_bit",
]

# Inclusive, in UTC. The last day stops one short of Python's 9999-12-31 so that showing a
# supported moment in any time zone (offsets reach +14:00) still yields a valid date.
SUPPORTED_FROM = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
SUPPORTED_UNTIL = dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)
SUPPORTED_DATE_FROM = SUPPORTED_FROM.date()
SUPPORTED_DATE_UNTIL = SUPPORTED_UNTIL.date()

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
ID_MAX = INT64_MAX  # database ids run from 1 to here


def datetime_is_supported(value: dt.datetime) -> bool:
    """Whether an aware `value`, taken in UTC, lies in the supported range.

    Aware datetimes compare by their UTC instant without being converted, so a value whose
    conversion would overflow (0001-01-01T00:00+14:00) is judged, not raised on.
    """
    return SUPPORTED_FROM <= value <= SUPPORTED_UNTIL


def date_is_supported(value: dt.date) -> bool:
    return SUPPORTED_DATE_FROM <= value <= SUPPORTED_DATE_UNTIL


def int_is_64_bit(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX
