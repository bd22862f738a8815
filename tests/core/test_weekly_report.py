"""The weekly report's maths: weeks and their moments, the weighted pipeline, changes, the
health breakdown in words and the ranking of coaching suggestions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lodestar.core.reports import (
    HealthBreakdown,
    InvalidSchedule,
    InvalidWeek,
    IsoWeek,
    PipelineDeal,
    ReportError,
    RepWeek,
    change,
    coaching_suggestions,
    due_at,
    health_reasons,
    mean_score,
    report_period,
    week_due,
    weighted_pipeline,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@given(st.dates(min_value=dt.date(1900, 1, 8), max_value=dt.date(9998, 12, 1)))
def test_a_week_reads_back_from_its_text(day: dt.date) -> None:
    week = IsoWeek.of(day)
    assert IsoWeek.parse(str(week)) == week
    assert week.monday <= day < week.monday + dt.timedelta(days=7)
    assert week.shifted(1).shifted(-1) == week


@pytest.mark.parametrize("text", ["2026-W48", "2026W48", "2026-w48", " 2026-W48 "])
def test_it_reads_the_usual_spellings_of_a_week(text: str) -> None:
    assert IsoWeek.parse(text) == IsoWeek(2026, 48)


NOT_WEEKS = ["2026-48", "W48", "2026-W", "2026-W54", "2021-W53", "0001-W01", "9999-W52", "week"]


@pytest.mark.parametrize("text", NOT_WEEKS)
def test_it_refuses_what_is_not_a_week(text: str) -> None:
    with pytest.raises(InvalidWeek):
        IsoWeek.parse(text)


def test_the_report_is_due_at_the_schedules_moment_in_the_organizations_zone() -> None:
    week = IsoWeek(2026, 50)  # Monday 7 December 2026
    assert due_at(week, weekday=1, hour=8, tz=SHANGHAI) == dt.datetime(
        2026, 12, 7, 0, 0, tzinfo=dt.UTC
    )
    assert due_at(week, weekday=5, hour=17, tz=NEW_YORK) == dt.datetime(
        2026, 12, 11, 22, 0, tzinfo=dt.UTC
    )


def test_a_week_is_due_once_its_moment_has_come_in_local_time() -> None:
    # Sunday 23:59 UTC is Monday 07:59 in Shanghai: not yet; a minute later it is.
    before = dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.UTC)
    assert week_due(before, weekday=1, hour=8, tz=SHANGHAI) is None
    assert week_due(before + dt.timedelta(minutes=1), weekday=1, hour=8, tz=SHANGHAI) == IsoWeek(
        2026, 50
    )
    # The same moment is still Sunday in New York: last week's moment is long gone, and this
    # week (which began Monday 30 November there) had it already.
    assert week_due(before, weekday=1, hour=8, tz=NEW_YORK) == IsoWeek(2026, 49)


def test_a_schedule_outside_the_week_or_the_day_is_refused() -> None:
    with pytest.raises(InvalidSchedule):
        due_at(IsoWeek(2026, 50), weekday=8, hour=8, tz=SHANGHAI)
    with pytest.raises(InvalidSchedule):
        due_at(IsoWeek(2026, 50), weekday=1, hour=24, tz=SHANGHAI)


def test_the_period_is_the_week_before_the_moment_or_before_now_when_made_early() -> None:
    week = IsoWeek(2026, 50)
    moment = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)
    late = moment + dt.timedelta(days=2)
    assert report_period(week, weekday=1, hour=8, tz=SHANGHAI, now=late) == (
        moment - dt.timedelta(days=7),
        moment,
    )
    early = moment - dt.timedelta(hours=3)  # Monday 05:00 local, before the moment
    assert report_period(week, weekday=1, hour=8, tz=SHANGHAI, now=early)[1] == early
    with pytest.raises(InvalidWeek):
        report_period(week.shifted(1), weekday=1, hour=8, tz=SHANGHAI, now=late)


def test_the_weighted_pipeline_weighs_each_stage_and_counts_what_it_leaves_out() -> None:
    deals = [
        PipelineDeal(Decimal("100000"), "demo", "CNY"),
        PipelineDeal(Decimal("50000.50"), "demo", "CNY"),
        PipelineDeal(Decimal("200000"), "proposal", "CNY"),
        PipelineDeal(Decimal("999999"), "proposal", "USD"),
        PipelineDeal(Decimal("1000"), "retired_stage", "CNY"),
    ]
    figure = weighted_pipeline(
        deals, weights={"lead": 0.1, "demo": 0.3, "proposal": 0.6}, currency="CNY"
    )
    assert figure.weighted == Decimal("165000.15")  # 150000.50 × 0.3 + 200000 × 0.6
    assert figure.amount == Decimal("350000.50")
    assert figure.deals == 3
    assert [line.stage for line in figure.by_stage] == ["demo", "proposal"]
    assert figure.other_currency_deals == 1
    assert figure.unknown_stage_deals == 1


def test_a_weight_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ReportError):
        weighted_pipeline([], weights={"demo": 1.5}, currency="CNY")


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
stages = st.sampled_from(["a", "b", "c"])


@given(
    st.lists(st.tuples(amounts, stages), max_size=30),
    st.fixed_dictionaries({k: st.floats(0, 1) for k in "abc"}),
)
def test_the_weighted_pipeline_never_exceeds_the_pipeline_and_ignores_order(
    rows: list[tuple[Decimal, str]], weights: dict[str, float]
) -> None:
    deals = [PipelineDeal(amount, stage, "CNY") for amount, stage in rows]
    figure = weighted_pipeline(deals, weights=weights, currency="CNY")
    again = weighted_pipeline(list(reversed(deals)), weights=weights, currency="CNY")
    assert figure == again
    assert Decimal(0) <= figure.weighted <= figure.amount + Decimal("0.01") * len(figure.by_stage)
    assert figure.weighted == sum((line.weighted for line in figure.by_stage), Decimal(0))


def test_a_change_against_last_week_has_a_difference_and_a_percentage() -> None:
    assert change(Decimal("120"), Decimal("100")).percent == pytest.approx(20.0)
    assert change(60.0, 70.0).delta == pytest.approx(-10.0)
    assert change(5, 0).percent is None
    assert change(5, None).delta is None


def test_the_mean_leaves_out_reps_without_a_score() -> None:
    assert mean_score([60.0, None, 80.0]) == 70.0
    assert mean_score([None]) is None


def low_rep() -> HealthBreakdown:
    return HealthBreakdown(
        score=52.0,
        threshold=70.0,
        dwell_score=90.0,
        deals_scored=4,
        deals_over_target=1,
        mean_deviation=0.1,
        task_score=25.0,
        tasks_due=4,
        tasks_on_time=1,
        tasks_late=1,
        tasks_missed=2,
        interaction_score=40.0,
        interactions=3,
        deal_weeks=3.75,
        interaction_target=2.0,
    )


def test_the_reasons_name_each_part_under_the_threshold_lowest_first_with_its_figures() -> None:
    reasons = health_reasons(low_rep())
    assert [r.en.split(" ")[0] for r in reasons] == ["tasks", "customer"]
    assert (
        reasons[0].en == "tasks on time 25: 1 of 4 tasks due were done on time, 1 late, 2 not done"
    )
    assert "每个商机每周 0.8 次客户互动(目标 2 次)" in reasons[1].zh


def test_suggestions_put_the_rep_furthest_below_first_and_say_what_to_do() -> None:
    reps = [
        RepWeek(1, "张伟", health=low_rep()),
        RepWeek(2, "李娜", handbooks=("高频异议应答手册",)),
        RepWeek(
            3,
            "王芳",
            communications=4,
            scorecard_mean=55.0,
            missed={"minutes": 1, "next_followup": 3},
        ),
        RepWeek(4, "赵强", communications=1, scorecard_mean=10.0, missed={"minutes": 1}),
    ]
    found = coaching_suggestions(reps, scorecard_threshold=75.0, limit=5)
    assert [(s.name, s.kind) for s in found] == [
        ("张伟", "health"),
        ("李娜", "handbook"),
        ("王芳", "scorecard"),
    ]
    assert found[0].message.en == (
        "Go over tasks on time with 张伟 (tasks on time 25, health 52): 1 of 4 tasks due were "
        "done on time, 1 late, 2 not done"
    )
    assert "《高频异议应答手册》" in found[1].message.zh
    assert found[2].message.en.startswith("3 of 王芳's 4 communications had no next follow-up")
    assert coaching_suggestions(reps, scorecard_threshold=75.0, limit=1)[0].name == "张伟"
