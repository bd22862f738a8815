"""Columnar batch figures for the insights benchmark (issue 5 point 8).

Two figures over many events at once, from parallel columns (plain lists, or anything with a
``tolist()`` such as NumPy arrays or Polars series — no dependency is imported here):

- :func:`days_since_last_customer_interaction` — per deal, days from its last customer
  interaction before ``now`` to ``now`` (``None`` without one, unless an opening time is given);
- :func:`weekly_interactions` — per rep, customer interactions in each of the last ``weeks``
  (default 12) seven-day buckets ending at ``now``, oldest first.

Times are POSIX seconds (``datetime.timestamp()``; :func:`to_timestamps` converts aware
datetimes). Events at or after ``now`` are ignored. ``event_is_customer`` marks the events that
are customer interactions; without it every event counts (the caller filtered already). These
are single passes in plain Python; the same figures from SQL (``MAX``/``COUNT … GROUP BY``)
should agree exactly, which is how the Django layer can check one against the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any

from lodestar.core.scoring.common import RowId, require_aware
from lodestar.core.scoring.errors import InvalidScoringInput

__all__ = ["days_since_last_customer_interaction", "to_timestamps", "weekly_interactions"]

_DAY = 86_400.0
_WEEK = 7 * _DAY


def _column(values: Any, name: str) -> list[Any]:
    """A plain list from a list, tuple, NumPy array or anything with ``tolist()``."""
    tolist = getattr(values, "tolist", None)
    if callable(tolist):
        result = tolist()
        if isinstance(result, list):
            return result
    if isinstance(values, list):
        return values
    if isinstance(values, Iterable):
        return list(values)
    raise InvalidScoringInput(f"column {name!r} is not a sequence")


def _columns(**columns: Any) -> dict[str, list[Any]]:
    lists = {name: _column(values, name) for name, values in columns.items() if values is not None}
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in lists.items())
        raise InvalidScoringInput(f"event columns must have the same length ({sizes})")
    return lists


def to_timestamps(moments: Iterable[datetime]) -> list[float]:
    """POSIX seconds of aware datetimes."""
    return [require_aware(m, "event time").timestamp() for m in moments]


def days_since_last_customer_interaction(
    *,
    deal_ids: Sequence[RowId] | Any,
    event_deal_ids: Sequence[RowId] | Any,
    event_times: Sequence[float] | Any,
    now: datetime,
    event_is_customer: Sequence[bool] | Any | None = None,
    deal_opened_at: Sequence[float] | Any | None = None,
) -> list[float | None]:
    """Days since each deal's last customer interaction, aligned with ``deal_ids``.

    A deal without any interaction gets ``now - opened`` when ``deal_opened_at`` is given,
    else ``None``.
    """
    now_ts = require_aware(now, "now").timestamp()
    cols = _columns(
        event_deal_ids=event_deal_ids, event_times=event_times, event_is_customer=event_is_customer
    )
    deals = _column(deal_ids, "deal_ids")
    opened = None if deal_opened_at is None else _column(deal_opened_at, "deal_opened_at")
    if opened is not None and len(opened) != len(deals):
        raise InvalidScoringInput("deal_opened_at must be as long as deal_ids")
    flags: Iterable[Any] = cols.get("event_is_customer") or repeat(True)
    last: dict[RowId, float] = {}
    get = last.get
    # lengths were checked by _columns; ``flags`` may be an endless repeat, hence strict=False
    for deal, at, customer in zip(cols["event_deal_ids"], cols["event_times"], flags, strict=False):
        if customer and at < now_ts:
            seen = get(deal)
            if seen is None or at > seen:
                last[deal] = at
    out: list[float | None] = []
    for position, deal in enumerate(deals):
        seen = get(deal)
        if seen is None and opened is not None:
            seen = opened[position]
        out.append(None if seen is None else max(0.0, (now_ts - seen) / _DAY))
    return out


def weekly_interactions(
    *,
    event_rep_ids: Sequence[RowId] | Any,
    event_times: Sequence[float] | Any,
    now: datetime,
    weeks: int = 12,
    event_is_customer: Sequence[bool] | Any | None = None,
    rep_ids: Sequence[RowId] | Any | None = None,
) -> dict[RowId, list[int]]:
    """Per rep, interactions in each of the ``weeks`` seven-day buckets before ``now``.

    Bucket ``weeks - 1`` is ``[now - 7 days, now)``, bucket 0 the oldest. Reps in ``rep_ids``
    without events get a row of zeros.
    """
    if weeks < 1:
        raise InvalidScoringInput("weeks must be at least 1")
    now_ts = require_aware(now, "now").timestamp()
    start = now_ts - weeks * _WEEK
    cols = _columns(
        event_rep_ids=event_rep_ids, event_times=event_times, event_is_customer=event_is_customer
    )
    flags: Iterable[Any] = cols.get("event_is_customer") or repeat(True)
    counts: dict[RowId, list[int]] = {}
    if rep_ids is not None:
        for rep in _column(rep_ids, "rep_ids"):
            counts[rep] = [0] * weeks
    for rep, at, customer in zip(cols["event_rep_ids"], cols["event_times"], flags, strict=False):
        if customer and start <= at < now_ts:
            row = counts.get(rep)
            if row is None:
                row = counts[rep] = [0] * weeks
            row[int((at - start) // _WEEK)] += 1
    return counts
