"""Hypothesis properties of the scoring maths: bounds, monotonicity, normalisation, order."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st
from tests.core.scoring.times import NOW

from lodestar.core.scoring import (
    AccountActivity,
    Communication,
    CommunicationScore,
    DealRiskInput,
    Exemption,
    HealthConfig,
    Message,
    MinutesUpload,
    OpenDeal,
    RequiredAction,
    RequiredActionSet,
    RiskKind,
    ScorecardConfig,
    StreakState,
    TaskRecord,
    action_penetration,
    advance_streak,
    communication_score,
    deal_risks,
    dwell_deal_score,
    exempted_time,
    low_score_streaks,
    normalise_weights,
    percentile,
    rep_health,
    risk_message,
)

hours = st.floats(min_value=0, max_value=2000, allow_nan=False)
weights = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@st.composite
def deals(draw: st.DrawFn) -> OpenDeal:
    opened = draw(hours)
    entered = draw(st.floats(min_value=0, max_value=opened))
    target = draw(st.none() | st.floats(min_value=1, max_value=500))
    touches = draw(st.lists(st.floats(min_value=0, max_value=opened), max_size=6))
    exempt = draw(st.lists(st.tuples(hours, st.floats(0, 300)), max_size=2))
    return OpenDeal(
        draw(st.integers(0, 10_000)),
        NOW - timedelta(hours=opened),
        "s",
        NOW - timedelta(hours=entered),
        None if target is None else timedelta(hours=target),
        tuple(NOW - timedelta(hours=h) for h in touches),
        tuple(
            Exemption(NOW - timedelta(hours=a), NOW - timedelta(hours=a) + timedelta(hours=b))
            for a, b in exempt
        ),
    )


@st.composite
def tasks(draw: st.DrawFn) -> TaskRecord:
    due = draw(st.floats(min_value=-48, max_value=400))
    done = draw(st.none() | st.floats(min_value=0, max_value=400))
    return TaskRecord(
        draw(st.integers(0, 10_000)),
        NOW - timedelta(hours=due),
        None if done is None else NOW - timedelta(hours=done),
    )


@given(st.lists(deals(), max_size=6), st.lists(tasks(), max_size=8), weights, weights, weights)
def test_health_is_between_0_and_100(
    ds: list[OpenDeal], ts: list[TaskRecord], a: float, b: float, c: float
) -> None:
    config = HealthConfig(weights=(a, b, c))
    score = rep_health(deals=ds, tasks=ts, now=NOW, config=config).score
    assert score is None or 0 <= score <= 100


@given(
    st.lists(deals(), max_size=6),
    st.lists(tasks(), max_size=8),
    weights,
    weights,
    weights,
    st.floats(min_value=0.01, max_value=1000),
)
def test_health_ignores_the_scale_of_the_weights(
    ds: list[OpenDeal], ts: list[TaskRecord], a: float, b: float, c: float, k: float
) -> None:
    one = rep_health(deals=ds, tasks=ts, now=NOW, config=HealthConfig(weights=(a, b, c)))
    scaled = HealthConfig(weights=(a * k, b * k, c * k))
    two = rep_health(deals=ds, tasks=ts, now=NOW, config=scaled)
    assert (one.score is None) == (two.score is None)
    if one.score is not None and two.score is not None:
        assert math.isclose(one.score, two.score, abs_tol=1e-6)


@given(st.lists(deals(), max_size=6), st.lists(tasks(), max_size=8), st.randoms())
def test_health_does_not_depend_on_input_order(
    ds: list[OpenDeal], ts: list[TaskRecord], rnd: st.SearchStrategy[object]
) -> None:
    shuffled_d, shuffled_t = list(ds), list(ts)
    rnd.shuffle(shuffled_d)  # type: ignore[attr-defined]
    rnd.shuffle(shuffled_t)  # type: ignore[attr-defined]
    one = rep_health(deals=ds, tasks=ts, now=NOW).score
    two = rep_health(deals=shuffled_d, tasks=shuffled_t, now=NOW).score
    assert one == two or (one is not None and two is not None and math.isclose(one, two))


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=3, max_size=3))
def test_normalised_weights_add_up_to_1(ws: list[float]) -> None:
    if sum(ws) > 0:
        assert math.isclose(sum(normalise_weights(ws)), 1.0)


@given(
    st.floats(min_value=0, max_value=10),
    st.floats(min_value=0, max_value=10),
    st.floats(min_value=1.01, max_value=10),
)
def test_dwell_score_never_rises_with_longer_dwell(r1: float, r2: float, k: float) -> None:
    low, high = sorted((r1, r2))
    assert dwell_deal_score(high, k) <= dwell_deal_score(low, k)


@given(st.lists(tasks(), max_size=8), st.integers(0, 10_000))
def test_an_extra_on_time_task_never_lowers_the_task_part(ts: list[TaskRecord], tid: int) -> None:
    before = rep_health(deals=[], tasks=ts, now=NOW).tasks.score
    extra = TaskRecord(tid, NOW - timedelta(hours=1), NOW - timedelta(hours=2))
    after = rep_health(deals=[], tasks=[*ts, extra], now=NOW).tasks.score
    assert after is not None
    assert before is None or after >= before


@given(st.lists(tasks(), max_size=8), st.integers(0, 10_000))
def test_an_extra_missed_task_never_raises_the_task_part(ts: list[TaskRecord], tid: int) -> None:
    before = rep_health(deals=[], tasks=ts, now=NOW).tasks.score
    after = rep_health(deals=[], tasks=[*ts, TaskRecord(tid, NOW - timedelta(hours=1))], now=NOW)
    assert after.tasks.score is not None
    assert before is None or after.tasks.score <= before


@given(deals(), st.floats(min_value=0, max_value=100))
def test_an_extra_interaction_never_lowers_the_interaction_part(deal: OpenDeal, h: float) -> None:
    before = rep_health(deals=[deal], tasks=[], now=NOW).interactions.score
    more = OpenDeal(
        deal.deal_id,
        deal.opened_at,
        deal.stage,
        deal.stage_entered_at,
        deal.target_dwell,
        (*deal.customer_interactions, NOW - timedelta(hours=h)),
        deal.exemptions,
    )
    after = rep_health(deals=[more], tasks=[], now=NOW).interactions.score
    assert before is None or (after is not None and after >= before)


@given(deals())
def test_a_counted_interaction_figure_scores_as_the_times_do(deal: OpenDeal) -> None:
    window_start = NOW - HealthConfig().window
    start = max(window_start, deal.opened_at)
    count = sum(1 for at in deal.customer_interactions if start <= at < NOW)
    counted = dataclasses.replace(
        deal, customer_interactions=(), interaction_counts=((window_start, count),)
    )
    assume(not any(e.overlap(start, NOW) for e in deal.exemptions))  # times needed then
    with_times = rep_health(deals=[deal], tasks=[], now=NOW).interactions
    assert rep_health(deals=[counted], tasks=[], now=NOW).interactions == with_times


@given(st.integers(0, 2000), st.floats(0, 72), st.integers(0, 5), st.booleans())
def test_communication_score_is_between_0_and_100(
    chars: int, upload_h: float, links: int, followup: bool
) -> None:
    met = NOW - timedelta(days=3)
    comm = Communication(
        1,
        met,
        (MinutesUpload(met + timedelta(hours=upload_h), chars),),
        links,
        met + timedelta(days=1) if followup else None,
    )
    assert 0 <= communication_score(comm, now=NOW).score <= 100


@given(st.integers(0, 2000), st.integers(0, 5), st.booleans())
def test_meeting_one_more_criterion_never_lowers_a_communication_score(
    chars: int, links: int, followup: bool
) -> None:
    met = NOW - timedelta(days=3)
    upload = (MinutesUpload(met + timedelta(hours=1), chars),)
    base = Communication(1, met, upload, links, met + timedelta(days=1) if followup else None)
    better = Communication(1, met, upload, max(links, 1), base.next_followup_at)
    assert communication_score(better, now=NOW).score >= communication_score(base, now=NOW).score


@given(st.lists(st.floats(min_value=0, max_value=100), max_size=20), st.randoms())
def test_streak_alerts_do_not_depend_on_input_order(values: list[float], rnd: object) -> None:
    scores = [
        CommunicationScore(i, NOW - timedelta(days=100 - i), v, True, ())
        for i, v in enumerate(values)
    ]
    shuffled = list(scores)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert low_score_streaks(scores) == low_score_streaks(shuffled)


@given(st.lists(st.floats(min_value=0, max_value=100), max_size=30), st.integers(1, 4))
def test_streak_alerts_are_advance_streak_step_by_step(values: list[float], needed: int) -> None:
    config = ScorecardConfig(consecutive_below=needed)
    state, fired = StreakState(), []
    for i, value in enumerate(values):
        state, fires = advance_streak(
            state, i, value, threshold=config.threshold, consecutive_below=needed
        )
        if fires:
            fired.append((i, state.run, tuple(values[j] for j in state.run)))
    scores = [
        CommunicationScore(i, NOW - timedelta(days=100 - i), v, True, ())
        for i, v in enumerate(values)
    ]
    got = [
        (a.fired_at, a.communication_ids, a.scores)
        for a in low_score_streaks(scores, config=config)
    ]
    assert got == fired


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 10)), max_size=8))
def test_penetration_never_exceeds_100_percent(dones: list[dict[str, int]]) -> None:
    sets = [
        RequiredActionSet(
            "s", (RequiredAction("a", 1), RequiredAction("b", 2), RequiredAction("c", 1))
        )
    ]
    accounts = [AccountActivity(i, None, i % 3, 0, d) for i, d in enumerate(dones)]
    report = action_penetration(accounts, sets)
    for rate in [report.overall, *report.by_account.values(), *report.by_rep.values()]:
        assert rate.value is None or 0 <= rate.value <= 1


@given(
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 10)), st.sampled_from(["a", "b"])
)
def test_doing_one_more_action_never_lowers_penetration(done: dict[str, int], key: str) -> None:
    sets = [RequiredActionSet("s", (RequiredAction("a", 1), RequiredAction("b", 2)))]
    before = action_penetration([AccountActivity(1, done=done)], sets).overall.value
    more = {**done, key: done.get(key, 0) + 1}
    after = action_penetration([AccountActivity(1, done=more)], sets).overall.value
    assert before is not None
    assert after is not None
    assert after >= before


@given(st.lists(st.tuples(hours, st.floats(0, 500)), max_size=4), hours, hours)
def test_exempted_time_never_exceeds_the_span(
    spans: list[tuple[float, float]], a: float, b: float
) -> None:
    start, end = NOW - timedelta(hours=max(a, b)), NOW - timedelta(hours=min(a, b))
    exemptions = [
        Exemption(NOW - timedelta(hours=s), NOW - timedelta(hours=s) + timedelta(hours=length))
        for s, length in spans
    ]
    covered = exempted_time(exemptions, start, end)
    assert timedelta(0) <= covered <= end - start
    assert all(covered >= e.overlap(start, end) for e in exemptions)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), st.floats(0, 100), st.floats(0, 100)
)
def test_percentiles_stay_within_the_data_and_rise_with_q(
    xs: list[float], q1: float, q2: float
) -> None:
    values = sorted(xs)
    lo, hi = sorted((q1, q2))
    assert values[0] - 1e-6 <= percentile(values, lo) <= percentile(values, hi) + 1e-6
    assert percentile(values, hi) <= values[-1] + 1e-6


@given(
    hours,
    st.none() | hours,
    st.none() | hours,
    hours,
    st.none() | st.floats(min_value=1, max_value=500),
    st.lists(st.tuples(hours, st.floats(0, 300)), max_size=2),
    st.floats(min_value=0, max_value=100),
)
def test_a_timed_finding_is_worded_again_from_its_clock(
    opened: float,
    customer: float | None,
    action: float | None,
    entered: float,
    target: float | None,
    exempt: list[tuple[float, float]],
    later: float,
) -> None:
    """`risk_message(since=…)` at the finding's own time is its message, and later it only
    counts on — what lets a stored alert be worded when shown."""
    deal = DealRiskInput(
        deal_id=1,
        opened_at=NOW - timedelta(hours=opened),
        stage="s",
        stage_entered_at=NOW - timedelta(hours=entered),
        target_dwell=None if target is None else timedelta(hours=target),
        last_customer_interaction_at=None if customer is None else NOW - timedelta(hours=customer),
        last_action_at=None if action is None else NOW - timedelta(hours=action),
        exemptions=tuple(
            Exemption(NOW - timedelta(hours=a), NOW - timedelta(hours=a) + timedelta(hours=b))
            for a, b in exempt
        ),
        stage_name=Message("阶段", "Stage"),
    )
    stage_target = deal.target_dwell
    for finding in deal_risks(deal, now=NOW):
        if finding.kind == "backward_moves":
            assert finding.since is None
            continue
        assert finding.since is not None
        kind = finding.kind

        def worded(at: datetime, since: datetime = finding.since, kind: RiskKind = kind) -> Message:
            return risk_message(
                kind, since=since, now=at, stage_name=deal.stage_name, target=stage_target
            )

        assert worded(NOW) == finding.message
        if kind == "silence":
            later_finding = next(
                f for f in deal_risks(deal, now=NOW + timedelta(hours=later)) if f.kind == kind
            )
            assert worded(NOW + timedelta(hours=later)) == later_finding.message
