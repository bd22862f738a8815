from __future__ import annotations

from datetime import timedelta

import pytest
from tests.core.scoring.times import NOW, days_ago, hours_ago

from lodestar.core.scoring import (
    AccountActivity,
    ClosedDeal,
    DealGateEvidence,
    DealProgress,
    DueItem,
    HandOff,
    RecordValues,
    RequiredAction,
    RequiredActionSet,
    StageStay,
    action_penetration,
    cycle_time,
    is_filled,
    on_time_rate,
    record_completeness,
    response_times,
    stage_accuracy,
    stage_conversion,
    stage_dwell,
    win_rate,
)

KEY_ACCOUNTS = RequiredActionSet(
    "key_account_monthly",
    (
        RequiredAction("attachment:inspection_report", 1),
        RequiredAction("event:tech_param_sync", 2),
        RequiredAction("event:competitor_update", 1),
    ),
    frozenset({"key"}),
)


def _account(aid: str, done: dict[str, int], rep: str = "r1", tier: str = "key") -> AccountActivity:
    return AccountActivity(aid, tier, rep, "t1", done)


ALL_DONE = {
    "attachment:inspection_report": 1,
    "event:tech_param_sync": 2,
    "event:competitor_update": 1,
}


def test_the_seed_key_account_needs_four_actions_a_month() -> None:
    report = action_penetration([_account("a", {})], [KEY_ACCOUNTS])
    assert report.overall.denominator == 4
    assert report.overall.value == 0


def test_it_gives_full_penetration_when_every_action_is_done() -> None:
    assert action_penetration([_account("a", ALL_DONE)], [KEY_ACCOUNTS]).overall.value == 1


def test_overdoing_one_action_does_not_hide_a_missing_one() -> None:
    done = {"event:tech_param_sync": 10, "event:competitor_update": 1}
    report = action_penetration([_account("a", done)], [KEY_ACCOUNTS])
    assert report.overall.value == pytest.approx(3 / 4)
    assert report.overall.misses == ("a",)


def test_a_set_applies_only_to_its_account_tiers() -> None:
    report = action_penetration([_account("a", {}, tier="normal")], [KEY_ACCOUNTS])
    assert report.overall.denominator == 0
    assert report.overall.value is None


def test_it_pools_penetration_per_rep_and_team() -> None:
    accounts = [
        _account("a", ALL_DONE, rep="r1"),
        _account("b", {}, rep="r1"),
        _account("c", ALL_DONE, rep="r2"),
    ]
    report = action_penetration(accounts, [KEY_ACCOUNTS])
    assert report.by_rep["r1"].value == pytest.approx(0.5)
    assert report.by_rep["r2"].value == 1
    assert report.by_team["t1"].value == pytest.approx(8 / 12)
    assert report.rep_average == pytest.approx(0.75)


def test_it_lists_the_rows_behind_penetration() -> None:
    report = action_penetration([_account("a", {"event:tech_param_sync": 1})], [KEY_ACCOUNTS])
    row = next(r for r in report.rows if r.action_key == "event:tech_param_sync")
    assert (row.due, row.done, row.credited) == (2, 1, 1)


def test_blank_text_and_empty_lists_are_not_filled_but_zero_is() -> None:
    assert [is_filled(v) for v in (None, "  ", [], 0, False, "x")] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_it_measures_record_completeness_per_record_and_overall() -> None:
    records = [
        RecordValues(1, {"name": "甲公司", "phone": "1", "industry": "制造"}),
        RecordValues(2, {"name": "乙公司", "phone": ""}),
    ]
    report = record_completeness(records, ["name", "phone", "industry"])
    assert report.complete_records.value == pytest.approx(0.5)
    assert report.fields_filled.value == pytest.approx(4 / 6)
    assert report.records[1].missing == ("phone", "industry")
    assert report.by_field["phone"].misses == (2,)


def test_stage_accuracy_counts_deals_whose_evidence_meets_every_passed_gate() -> None:
    deals = [
        DealGateEvidence("a", {"lead": True, "demo": True}),
        DealGateEvidence("b", {"lead": True, "demo": False}),
        DealGateEvidence("c", {}),
    ]
    result = stage_accuracy(deals)
    assert result.rate.value == pytest.approx(2 / 3)
    assert result.failing_gates == {"b": ("demo",)}


def test_daily_report_on_time_rate_leaves_out_reports_not_yet_due() -> None:
    items = [
        DueItem("mon", days_ago(2), days_ago(2.1), "r1"),
        DueItem("tue", days_ago(1), days_ago(0.5), "r1"),
        DueItem("wed", NOW + timedelta(hours=8), None, "r1"),
    ]
    rate = on_time_rate(items, now=NOW)
    assert rate.overall.value == pytest.approx(0.5)
    assert rate.by_owner["r1"].misses == ("tue",)


def test_on_time_rate_respects_since() -> None:
    items = [DueItem("old", days_ago(40)), DueItem("new", days_ago(1), days_ago(1.5))]
    assert on_time_rate(items, now=NOW, since=days_ago(30)).overall.value == 1


def test_response_time_gives_median_mean_and_p90() -> None:
    spans = [1, 2, 3, 4, 10]
    handoffs = [
        HandOff(i, "sales", "tech", days_ago(20), days_ago(20 - d)) for i, d in enumerate(spans)
    ]
    stats = response_times(handoffs, now=NOW).overall
    assert stats.median == timedelta(days=3)
    assert stats.mean == timedelta(days=4)
    assert stats.p90 == timedelta(days=7.6)


def test_response_time_lists_unanswered_requests_by_age() -> None:
    result = response_times([HandOff("x", "sales", "legal", days_ago(3))], now=NOW)
    assert result.unanswered == {"x": timedelta(days=3)}
    assert result.overall.count == 0


def test_response_time_is_grouped_by_the_department_asked() -> None:
    handoffs = [
        HandOff(1, "sales", "tech", days_ago(5), days_ago(4)),
        HandOff(2, "sales", "legal", days_ago(5), days_ago(2)),
    ]
    assert response_times(handoffs, now=NOW).by_department["legal"].mean == timedelta(days=3)


def test_stage_conversion_between_consecutive_stages() -> None:
    deals = [DealProgress(i, p) for i, p in enumerate([0, 0, 1, 2, 2])]
    first, second = stage_conversion(deals, ["lead", "demo", "won"])
    assert first.rate.value == pytest.approx(3 / 5)
    assert second.rate.value == pytest.approx(2 / 3)
    assert second.rate.misses == (2,)


def test_stage_dwell_uses_finished_stays_by_default() -> None:
    stays = [
        StageStay("a", "demo", days_ago(10), days_ago(8)),
        StageStay("b", "demo", days_ago(10)),
    ]
    assert stage_dwell(stays, now=NOW)["demo"].mean == timedelta(days=2)
    assert stage_dwell(stays, now=NOW, include_open=True)["demo"].mean == timedelta(days=6)


def test_cycle_time_counts_won_deals_by_default() -> None:
    deals = [
        ClosedDeal("w", days_ago(30), days_ago(10), True),
        ClosedDeal("l", days_ago(90), days_ago(10), False),
    ]
    assert cycle_time(deals).median == timedelta(days=20)
    assert cycle_time(deals, won_only=False).count == 2


def test_win_rate_is_won_over_closed() -> None:
    deals = [
        ClosedDeal("w", days_ago(30), hours_ago(1), True, "r1"),
        ClosedDeal("l", days_ago(30), hours_ago(1), False, "r1"),
        ClosedDeal("l2", days_ago(30), hours_ago(1), False, "r2"),
    ]
    result = win_rate(deals)
    assert result.overall.value == pytest.approx(1 / 3)
    assert result.by_owner["r1"].hits == ("w",)
