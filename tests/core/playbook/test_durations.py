"""Durations as sales ops write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lodestar.core.playbook.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("47d", timedelta(days=47)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(hours=36)),
    ],
)
def test_it_parses_a_number_with_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_it_refuses_a_duration_without_a_unit() -> None:
    with pytest.raises(ValueError, match="write a number and a unit"):
        parse_duration("24")


@pytest.mark.parametrize("text", ["24h", "72h", "7d", "47d", "90m", "1d12h"])
def test_it_formats_back_to_text_that_parses_to_the_same_duration(text: str) -> None:
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


def test_it_keeps_hours_for_the_first_three_days() -> None:
    assert (format_duration(timedelta(hours=24)), format_duration(timedelta(hours=72))) == (
        "24h",
        "72h",
    )
