from __future__ import annotations

from datetime import timedelta

import pytest
from tests.core.scoring.times import NOW, days_ago

from lodestar.core.scoring import (
    InvalidScoringInput,
    days_since_last_customer_interaction,
    to_timestamps,
    weekly_interactions,
)


def test_it_gives_days_since_each_deals_last_customer_interaction() -> None:
    times = to_timestamps([days_ago(10), days_ago(3), days_ago(1)])
    result = days_since_last_customer_interaction(
        deal_ids=["a", "b"],
        event_deal_ids=["a", "a", "b"],
        event_times=times,
        event_is_customer=[True, True, False],
        now=NOW,
    )
    assert result[0] == pytest.approx(3)
    assert result[1] is None


def test_it_falls_back_to_the_opening_time() -> None:
    result = days_since_last_customer_interaction(
        deal_ids=["a"],
        event_deal_ids=[],
        event_times=[],
        now=NOW,
        deal_opened_at=to_timestamps([days_ago(47)]),
    )
    assert result == [pytest.approx(47)]


def test_it_ignores_events_after_now() -> None:
    result = days_since_last_customer_interaction(
        deal_ids=["a"],
        event_deal_ids=["a", "a"],
        event_times=to_timestamps([days_ago(2), NOW + timedelta(hours=1)]),
        now=NOW,
    )
    assert result == [pytest.approx(2)]


def test_it_counts_weekly_interactions_over_12_weeks_oldest_first() -> None:
    times = to_timestamps([days_ago(1), days_ago(2), days_ago(8), days_ago(83), days_ago(85)])
    result = weekly_interactions(
        event_rep_ids=["r"] * 5, event_times=times, now=NOW, rep_ids=["r", "idle"]
    )
    assert result["r"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    assert result["idle"] == [0] * 12


def test_it_accepts_columns_with_tolist() -> None:
    class Column(list[float]):
        def tolist(self) -> list[float]:
            return list(self)

    result = weekly_interactions(
        event_rep_ids=["r"], event_times=Column(to_timestamps([days_ago(1)])), now=NOW, weeks=1
    )
    assert result == {"r": [1]}


def test_it_refuses_columns_of_different_lengths() -> None:
    with pytest.raises(InvalidScoringInput):
        weekly_interactions(event_rep_ids=["r", "s"], event_times=[1.0], now=NOW)
