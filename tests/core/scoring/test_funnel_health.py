from __future__ import annotations

from datetime import timedelta

import pytest
from tests.core.scoring.times import NOW, days_ago, hours_ago

from lodestar.core.scoring import (
    Exemption,
    HealthConfig,
    InvalidWeights,
    NaiveDatetime,
    OpenDeal,
    TaskRecord,
    rep_health,
    shown_score,
)


def _tasks(on_time: int, missed: int) -> list[TaskRecord]:
    done = [TaskRecord(f"ok{i}", hours_ago(10), completed_at=hours_ago(11)) for i in range(on_time)]
    late = [TaskRecord(f"miss{i}", hours_ago(10)) for i in range(missed)]
    return done + late


def test_it_defaults_to_the_seed_threshold_of_70() -> None:
    assert HealthConfig().threshold == 70


def test_it_does_not_flag_a_rep_scoring_exactly_70() -> None:
    health = rep_health(deals=[], tasks=_tasks(7, 3), now=NOW)
    assert health.score == 70
    assert not health.needs_attention


def test_it_flags_a_rep_scoring_below_70() -> None:
    health = rep_health(deals=[], tasks=_tasks(69, 31), now=NOW)
    assert health.score == 69
    assert health.needs_attention


def test_it_compares_the_score_as_shown_with_the_threshold() -> None:
    health = rep_health(deals=[], tasks=_tasks(3493, 1507), now=NOW)  # 69.86 % on time
    assert health.score == pytest.approx(69.86)
    assert not health.needs_attention
    assert health.message.zh.startswith("健康度 70(正常)")
    assert health.message.en.startswith("Health 70 (healthy)")


def test_it_rounds_a_half_up_in_the_message() -> None:
    health = rep_health(deals=[], tasks=_tasks(133, 67), now=NOW)  # 66.5 % on time
    assert health.needs_attention
    assert health.message.zh.startswith("健康度 67(低于 70,需要主管介入):")
    assert "任务及时 67" in health.message.zh


@pytest.mark.parametrize(
    ("score", "shown"), [(69.86, 70), (66.5, 67), (69.49, 69), (0.5, 1), (100.0, 100)]
)
def test_it_shows_a_score_as_a_whole_number_rounding_halves_up(score: float, shown: int) -> None:
    assert shown_score(score) == shown


def test_it_defaults_to_the_playbook_weights() -> None:
    assert HealthConfig().normalised_weights() == pytest.approx(
        {"dwell_deviation": 0.4, "task_on_time": 0.3, "interaction_frequency": 0.3}
    )


def test_it_scores_a_deal_within_target_dwell_100() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", hours_ago(20), timedelta(hours=24))
    assert rep_health(deals=[deal], tasks=[], now=NOW).dwell.score == 100


def test_it_scores_dwell_at_half_way_to_twice_the_target_50() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", hours_ago(36), timedelta(hours=24))
    assert rep_health(deals=[deal], tasks=[], now=NOW).dwell.score == pytest.approx(50)


def test_it_scores_dwell_at_twice_the_target_0() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", hours_ago(48), timedelta(hours=24))
    assert rep_health(deals=[deal], tasks=[], now=NOW).dwell.score == 0


def test_it_reports_the_mean_dwell_deviation_rate() -> None:
    deals = [
        OpenDeal("a", days_ago(30), "demo", hours_ago(36), timedelta(hours=24)),
        OpenDeal("b", days_ago(30), "demo", hours_ago(12), timedelta(hours=24)),
    ]
    assert rep_health(deals=deals, tasks=[], now=NOW).dwell.mean_deviation == pytest.approx(0.25)


def test_it_leaves_deals_without_a_target_out_of_the_dwell_part() -> None:
    deal = OpenDeal("d1", days_ago(30), "lead", days_ago(20))
    dwell = rep_health(deals=[deal], tasks=[], now=NOW).dwell
    assert dwell.score is None
    assert dwell.without_target == ("d1",)


def test_it_excludes_tasks_not_yet_due() -> None:
    tasks = [TaskRecord("future", NOW + timedelta(hours=2))]
    part = rep_health(deals=[], tasks=tasks, now=NOW).tasks
    assert part.rate.denominator == 0
    assert part.score is None


def test_it_counts_a_task_done_after_its_due_time_as_late() -> None:
    tasks = [TaskRecord("t", hours_ago(10), completed_at=hours_ago(5))]
    part = rep_health(deals=[], tasks=tasks, now=NOW).tasks
    assert part.late == ("t",)
    assert part.score == 0


def test_it_ignores_tasks_due_before_the_window() -> None:
    tasks = [TaskRecord("old", days_ago(8))]
    assert rep_health(deals=[], tasks=tasks, now=NOW).tasks.rate.denominator == 0


def test_it_scores_interactions_at_the_target_rate_100() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", days_ago(1), None, (days_ago(1), days_ago(4)))
    part = rep_health(deals=[deal], tasks=[], now=NOW).interactions
    assert part.per_deal_week == pytest.approx(2)
    assert part.score == 100


def test_it_scores_half_the_target_interaction_rate_50() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", days_ago(1), None, (days_ago(2),))
    assert rep_health(deals=[deal], tasks=[], now=NOW).interactions.score == pytest.approx(50)


def test_it_counts_only_exposure_since_a_deal_opened() -> None:
    deal = OpenDeal("d1", days_ago(3.5), "lead", days_ago(3.5), None, (days_ago(1),))
    part = rep_health(deals=[deal], tasks=[], now=NOW).interactions
    assert part.deal_weeks == pytest.approx(0.5)
    assert part.score == 100


def test_it_takes_a_counted_interaction_figure_for_its_window_instead_of_times() -> None:
    window_start = NOW - HealthConfig().window
    deal = OpenDeal("d1", days_ago(30), "demo", days_ago(1), None, (), (), ((window_start, 2),))
    assert rep_health(deals=[deal], tasks=[], now=NOW).interactions.score == 100


def test_it_ignores_a_count_made_for_another_window() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", days_ago(1), None, (), (), ((days_ago(30), 9),))
    assert rep_health(deals=[deal], tasks=[], now=NOW).interactions.interactions == 0


def test_it_counts_times_when_an_exemption_overlaps_the_window_despite_a_count() -> None:
    window_start = NOW - HealthConfig().window
    exemption = Exemption(days_ago(6), days_ago(3), "客户临时失联")
    deal = OpenDeal(
        "d1",
        days_ago(30),
        "demo",
        days_ago(1),
        None,
        (days_ago(5), days_ago(1)),
        (exemption,),
        ((window_start, 2),),
    )
    assert rep_health(deals=[deal], tasks=[], now=NOW).interactions.interactions == 1


def test_it_gives_no_interaction_score_below_the_minimum_exposure() -> None:
    deal = OpenDeal("d1", hours_ago(3), "lead", hours_ago(3))
    assert rep_health(deals=[deal], tasks=[], now=NOW).interactions.score is None


def test_it_renormalises_weights_over_parts_with_data() -> None:
    health = rep_health(deals=[], tasks=_tasks(1, 0), now=NOW)
    assert health.weights == {"task_on_time": 1.0}


def test_it_gives_no_score_without_any_data() -> None:
    health = rep_health(deals=[], tasks=[], now=NOW)
    assert health.score is None
    assert not health.needs_attention


def test_it_combines_parts_by_weight() -> None:
    deal = OpenDeal("d1", days_ago(30), "demo", hours_ago(36), timedelta(hours=24), (days_ago(2),))
    config = HealthConfig(weights=(2, 1, 1))
    health = rep_health(deals=[deal], tasks=_tasks(1, 0), now=NOW, config=config)
    assert health.score == pytest.approx((2 * 50 + 100 + 50) / 4)


def test_it_excludes_a_deal_exempted_now_from_dwell_and_interaction() -> None:
    exemption = Exemption(days_ago(1), days_ago(-13), "客户临时失联")
    deal = OpenDeal("d1", days_ago(30), "demo", days_ago(10), timedelta(days=1), (), (exemption,))
    health = rep_health(deals=[deal], tasks=[], now=NOW)
    assert health.dwell.exempted == ("d1",)
    assert health.interactions.exempted == ("d1",)
    assert health.score is None


def test_it_subtracts_past_exempted_time_from_dwell() -> None:
    exemption = Exemption(hours_ago(40), hours_ago(16), "客户临时失联")
    deal = OpenDeal(
        "d1", days_ago(30), "demo", hours_ago(48), timedelta(hours=24), (), (exemption,)
    )
    row = rep_health(deals=[deal], tasks=[], now=NOW).dwell.deals[0]
    assert row.dwell == timedelta(hours=24)
    assert row.score == 100


def test_it_excludes_a_task_due_while_its_deal_was_exempted() -> None:
    exemption = Exemption(days_ago(2), None, "客户临时失联")
    tasks = [TaskRecord("t", hours_ago(10), deal_id="d1", exemptions=(exemption,))]
    part = rep_health(deals=[], tasks=tasks, now=NOW).tasks
    assert part.exempted == ("t",)
    assert part.score is None


def test_it_names_the_weakest_part() -> None:
    deal = OpenDeal(
        "d1", days_ago(30), "demo", hours_ago(36), timedelta(hours=24), (days_ago(1),) * 2
    )
    health = rep_health(deals=[deal], tasks=_tasks(1, 0), now=NOW)
    assert health.weakest == "dwell_deviation"


def test_it_explains_an_alert_in_chinese_and_english() -> None:
    health = rep_health(deals=[], tasks=_tasks(1, 1), now=NOW)
    assert "低于 70" in health.message.zh
    assert "below 70" in health.message.en


def test_it_refuses_all_zero_weights() -> None:
    with pytest.raises(InvalidWeights):
        HealthConfig(weights=(0, 0, 0))


def test_it_refuses_negative_weights() -> None:
    with pytest.raises(InvalidWeights):
        HealthConfig(weights=(-1, 1, 1))


def test_it_refuses_a_naive_now() -> None:
    with pytest.raises(NaiveDatetime):
        rep_health(deals=[], tasks=[], now=NOW.replace(tzinfo=None))
