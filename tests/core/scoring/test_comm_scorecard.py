from __future__ import annotations

from datetime import timedelta

import pytest
from tests.core.scoring.times import NOW, days_ago

from lodestar.core.scoring import (
    Communication,
    CommunicationScore,
    MinutesUpload,
    ScorecardConfig,
    advance_streak,
    communication_score,
    low_score_streaks,
)
from lodestar.core.scoring.scorecard import StreakState

MET = days_ago(5)


def _comm(
    chars: int = 300, after: timedelta = timedelta(hours=2), links: int = 1, followup: bool = True
) -> Communication:
    return Communication(
        "c",
        MET,
        (MinutesUpload(MET + after, chars),),
        links,
        MET + timedelta(days=3) if followup else None,
    )


def _score(comm: Communication, config: ScorecardConfig | None = None) -> float:
    return communication_score(comm, now=NOW, config=config).score


def _scores(values: list[float]) -> list[CommunicationScore]:
    return [CommunicationScore(i, days_ago(30 - i), v, True, ()) for i, v in enumerate(values)]


def test_it_scores_a_complete_communication_100() -> None:
    assert _score(_comm()) == 100


def test_it_accepts_minutes_of_exactly_300_characters() -> None:
    assert _score(_comm(chars=300)) == 100


def test_it_rejects_minutes_of_299_characters() -> None:
    result = communication_score(_comm(chars=299), now=NOW)
    assert result.score == pytest.approx(60)
    assert result.unmet[0].message.zh == "纪要只有 299 字,不足 300 字"


def test_it_accepts_minutes_uploaded_exactly_24_hours_later() -> None:
    assert _score(_comm(after=timedelta(hours=24))) == 100


def test_it_rejects_minutes_uploaded_after_24_hours() -> None:
    assert _score(_comm(after=timedelta(hours=24, seconds=1))) == pytest.approx(60)


def test_it_needs_one_knowledge_entry() -> None:
    assert _score(_comm(links=0)) == pytest.approx(70)


def test_it_needs_a_next_follow_up() -> None:
    assert _score(_comm(followup=False)) == pytest.approx(70)


def test_it_scores_a_communication_with_nothing_0() -> None:
    assert _score(Communication("c", MET)) == 0


def test_it_renormalises_when_the_follow_up_check_is_off() -> None:
    config = ScorecardConfig(require_next_followup=False)
    assert _score(_comm(links=0), config) == pytest.approx(100 * 0.4 / 0.7)


def test_it_uses_configured_weights() -> None:
    config = ScorecardConfig(weights=(1, 1, 2))
    assert _score(_comm(followup=False), config) == pytest.approx(50)


def test_a_score_is_provisional_within_the_upload_window() -> None:
    comm = Communication("c", NOW - timedelta(hours=3))
    assert not communication_score(comm, now=NOW).final


def test_minutes_whose_text_is_still_being_read_keep_the_score_open() -> None:
    unread = Communication("c", MET, (MinutesUpload(MET + timedelta(hours=2), 0, None, True),))

    score = communication_score(unread, now=NOW)

    assert not score.final  # the upload window is long past, but the length is not known yet
    assert score.criteria[0].message.en == "minutes text is still being extracted"


def test_three_consecutive_scores_under_75_fire() -> None:
    (alert,) = low_score_streaks(_scores([70, 60, 74.9]))
    assert alert.fired_at == 2
    assert alert.communication_ids == (0, 1, 2)


def test_two_scores_under_75_do_not_fire() -> None:
    assert low_score_streaks(_scores([70, 60])) == []


def test_a_score_of_exactly_75_is_not_under_75() -> None:
    assert low_score_streaks(_scores([70, 75, 60, 60])) == []


def test_a_fourth_low_score_does_not_fire_again() -> None:
    assert len(low_score_streaks(_scores([70, 60, 50, 40, 30]))) == 1


def test_a_new_streak_after_recovery_fires_again() -> None:
    alerts = low_score_streaks(_scores([70, 60, 50, 90, 70, 60, 50]))
    assert [a.fired_at for a in alerts] == [2, 6]


def test_the_detector_puts_scores_in_time_order() -> None:
    assert low_score_streaks(list(reversed(_scores([70, 60, 50]))))[0].fired_at == 2


def test_the_detector_skips_provisional_scores() -> None:
    scores = _scores([70, 60, 50])
    scores[2] = CommunicationScore(2, scores[2].occurred_at, 50, False, ())
    assert low_score_streaks(scores) == []


def test_one_step_at_a_time_matches_the_full_detector() -> None:
    state, fired = StreakState(), []
    for item in _scores([70, 60, 50, 40, 90, 10, 10, 10]):
        state, fires = advance_streak(state, item.communication_id, item.score)
        if fires:
            fired.append(item.communication_id)
    assert fired == [
        a.fired_at for a in low_score_streaks(_scores([70, 60, 50, 40, 90, 10, 10, 10]))
    ]
