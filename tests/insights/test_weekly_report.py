"""The weekly report's sections composed on a team's week (`tests.insights.weekly_data`): who is
below 70 and why, stuck and silent deals with their reasons, the health trend, penetration, the
weighted pipeline against last week's stored figure, coaching suggestions — and a stored report
that later data never changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from lodestar.insights.models import ReportTrigger, WeeklyReport
from lodestar.insights.weekly_reports import weekly_report_make
from tests.conftest import Cast
from tests.insights.weekly_data import DAY, DUE, NOW, WEEK, TeamWeek, build_week

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(cast: Cast) -> TeamWeek:
    return build_week(cast)


def make(cast: Cast, iso_week: Any = WEEK, now: dt.datetime = NOW, **options: Any) -> Any:
    return weekly_report_make(
        organization=cast.org, team=cast.team, week=iso_week, now=now, **options
    )


def figures(cast: Cast) -> dict[str, Any]:
    return make(cast).report.figures  # type: ignore[no-any-return]


def test_the_report_covers_the_seven_days_before_the_scheduled_moment(week: TeamWeek) -> None:
    report = make(week.cast).report
    assert (report.week, report.period_start, report.period_end) == (
        "2026-W50",
        DUE - 7 * DAY,
        DUE,
    )
    assert report.trigger == ReportTrigger.SCHEDULE


def test_a_rep_below_70_appears_with_the_reasons_from_the_health_breakdown(
    week: TeamWeek,
) -> None:
    health = figures(week.cast)["health"]
    owner = week.cast.owner
    assert health["below"] == [owner.pk]
    row = health["reps"][0]  # lowest first
    assert (row["id"], row["below"], row["fell"]) == (owner.pk, True, True)
    assert row["score"] < 70
    reasons = [reason["en"] for reason in row["reasons"]]
    assert "tasks on time 0: 0 of 2 tasks due were done on time, 0 late, 2 not done" in reasons
    assert any(r.startswith("stage dwell 29: 2 of 2 deals past their stage's") for r in reasons)
    assert any(r.startswith("customer interaction 0:") for r in reasons)
    assert all(reason["zh"] for reason in row["reasons"])
    teammate = next(r for r in health["reps"] if r["id"] == week.cast.teammate.pk)
    assert (teammate["below"], teammate["reasons"]) == (False, [])


def test_a_stuck_deal_appears_with_its_reason(week: TeamWeek) -> None:
    stuck = figures(week.cast)["stuck"]
    assert [row["id"] for row in stuck] == [week.stuck_demo.pk, week.stuck_first.pk]
    demo = stuck[0]
    assert demo["ratio"] == pytest.approx(2.4)
    assert demo["stage"] == {"zh": "产品演示", "en": "Product demo"}
    assert demo["reason"]["en"].startswith("In stage 2 (Product demo) for 12 days")
    assert demo["reason"]["zh"].startswith("在阶段2(产品演示)停留12天:任务")


def test_silent_deals_are_listed_with_their_reason_and_no_other_teams_deal(
    week: TeamWeek,
) -> None:
    found = figures(week.cast)
    silent = found["silent"]
    assert {row["id"] for row in silent} == {week.stuck_demo.pk, week.stuck_first.pk}
    assert silent[0]["reason"]["en"] == "no customer interaction for 1 month"
    assert found["risks"]["silence"] == 2
    shown = {row["id"] for row in found["stuck"] + found["silent"]}
    assert week.elsewhere.pk not in shown
    assert week.healthy.pk not in shown


def test_the_trend_reads_the_weeks_snapshots_and_ends_with_this_weeks_mean(
    week: TeamWeek,
) -> None:
    from tests.factories import HealthSnapshotFactory

    cast = week.cast
    for rep, (two_weeks_ago, last_week) in {
        cast.owner: (90.0, 80.0),
        cast.teammate: (70.0, 60.0),
    }.items():
        HealthSnapshotFactory(rep=rep, date=dt.date(2026, 11, 20), score=two_weeks_ago)
        HealthSnapshotFactory(rep=rep, date=dt.date(2026, 11, 27), score=last_week)
    health = figures(cast)["health"]
    trend = health["trend"]
    assert len(trend) == 8
    assert [point["week"] for point in trend[-3:]] == ["2026-W48", "2026-W49", "2026-W50"]
    assert [point["score"] for point in trend[-3:]] == [80.0, 70.0, health["team"]]
    assert trend[0]["score"] is None  # no snapshot that far back
    owner = next(r for r in health["reps"] if r["id"] == cast.owner.pk)
    assert (owner["previous"], owner["fell"]) == (80.0, True)


def test_penetration_counts_the_weekly_call_on_the_teams_accounts(week: TeamWeek) -> None:
    penetration = figures(week.cast)["penetration"]
    # Three accounts owned by the team's reps; the teammate's was called in the week.
    assert (penetration["numerator"], penetration["denominator"]) == (1, 3)
    assert penetration["figure"] == pytest.approx(33.333, abs=0.01)
    by_rep = {row["id"]: row["figure"] for row in penetration["by_rep"]}
    assert by_rep == {week.cast.owner.pk: 0.0, week.cast.teammate.pk: 100.0}


def test_the_weighted_pipeline_weighs_open_deals_by_their_stage(week: TeamWeek) -> None:
    pipeline = figures(week.cast)["pipeline"]
    # 100,000 × 0.3 (demo) + (200,000 + 100,000) × 0.05 (first contact); the other team's
    # quote is not the team's.
    assert (pipeline["weighted"], pipeline["amount"], pipeline["deals"]) == (
        "45000.00",
        "400000.00",
        3,
    )
    assert pipeline["currency"] == "CNY"
    assert pipeline["previous"] is None


def test_the_weighted_pipeline_is_compared_with_last_weeks_stored_figure(
    week: TeamWeek,
) -> None:
    cast = week.cast
    last = make(cast, WEEK.shifted(-1)).report  # 2026-W49, made on time a week earlier
    assert last.weighted_pipeline == Decimal("45000.00")
    week.healthy.stage_key = "quote"  # 100,000 now weighs 0.7
    week.healthy.save()
    pipeline = make(cast).report.figures["pipeline"]
    assert (pipeline["weighted"], pipeline["previous"], pipeline["delta"]) == (
        "110000.00",
        "45000.00",
        "65000.00",
    )
    assert pipeline["percent"] == pytest.approx(144.4)


def test_last_weeks_report_does_not_change_when_the_data_does(week: TeamWeek) -> None:
    cast = week.cast
    last = make(cast, WEEK.shifted(-1)).report
    kept = (last.figures, last.generated_at, last.weighted_pipeline)
    week.stuck_demo.amount = Decimal("5000000")
    week.stuck_demo.save()
    make(cast)  # this week's report reads the new amount …
    again = WeeklyReport.objects.get(pk=last.pk)
    assert (again.figures, again.generated_at, again.weighted_pipeline) == kept  # … last week's not


def test_coaching_suggestions_put_the_rep_below_70_first(week: TeamWeek) -> None:
    coaching = figures(week.cast)["coaching"]
    assert [(s["rep_id"], s["kind"]) for s in coaching] == [
        (week.cast.owner.pk, "health"),
        (week.cast.teammate.pk, "scorecard"),
    ]
    owner, teammate = week.cast.owner, week.cast.teammate
    assert coaching[0]["message"]["en"].startswith(
        f"Go over customer interaction with {owner} (customer interaction 0, health 11): 0.0 "
    )
    assert coaching[1]["message"]["en"] == (
        f"2 of {teammate}'s 2 communications had no knowledge entry linked (mean score 40): "
        "prepare the next talk with a knowledge entry"
    )


def test_making_the_week_again_keeps_the_report_unless_replace_is_asked(week: TeamWeek) -> None:
    cast = week.cast
    first = make(cast)
    assert first.created
    kept = make(cast, now=NOW + DAY)
    assert (kept.created, kept.replaced, kept.report.pk) == (False, False, first.report.pk)
    week.healthy.stage_key = "quote"
    week.healthy.save()
    again = make(cast, now=NOW + DAY, replace=True, trigger=ReportTrigger.MANUAL)
    assert (again.created, again.replaced, again.report.pk) == (False, True, first.report.pk)
    assert again.report.figures["pipeline"]["weighted"] == "110000.00"
    assert WeeklyReport.objects.count() == 1
