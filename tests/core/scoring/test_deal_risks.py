from __future__ import annotations

from datetime import timedelta

from tests.core.scoring.times import NOW, days_ago, hours_ago

from lodestar.core.scoring import (
    ActivityEvent,
    DealRiskInput,
    Exemption,
    Message,
    RiskConfig,
    RiskFinding,
    SilenceRule,
    StageMove,
    deal_risks,
    deals_risks,
    last_activity,
)


def _deal(**changes: object) -> DealRiskInput:
    base: dict[str, object] = {
        "deal_id": 7,
        "opened_at": days_ago(20),
        "stage": "poc",
        "stage_entered_at": hours_ago(1),
        "last_customer_interaction_at": hours_ago(1),
        "last_action_at": hours_ago(1),
    }
    base.update(changes)
    return DealRiskInput(**base)  # type: ignore[arg-type]


def _back(n: int) -> tuple[StageMove, ...]:
    return tuple(StageMove(days_ago(10 - i), "quote", "demo", 3, 2) for i in range(n))


def _kinds(findings: list[RiskFinding]) -> list[str]:
    return [f.kind for f in findings]


def test_it_finds_nothing_on_a_healthy_deal() -> None:
    assert deal_risks(_deal(), now=NOW) == []


def test_it_flags_two_backward_moves() -> None:
    (finding,) = deal_risks(_deal(stage_moves=_back(2)), now=NOW)
    assert finding.kind == "backward_moves"
    assert finding.message == Message("阶段倒退 2 次", "moved backward 2 times")


def test_it_does_not_flag_one_backward_move() -> None:
    assert deal_risks(_deal(stage_moves=_back(1)), now=NOW) == []


def test_it_does_not_count_forward_moves_as_backward() -> None:
    forward = tuple(StageMove(days_ago(5), "demo", "quote", 2, 3) for _ in range(3))
    assert deal_risks(_deal(stage_moves=forward), now=NOW) == []


def test_it_flags_72_hours_without_customer_interaction() -> None:
    findings = deal_risks(_deal(last_customer_interaction_at=hours_ago(72)), now=NOW)
    assert _kinds(findings) == ["silence"]


def test_it_does_not_flag_just_under_72_hours_of_silence() -> None:
    at = NOW - timedelta(hours=72) + timedelta(seconds=1)
    assert deal_risks(_deal(last_customer_interaction_at=at), now=NOW) == []


def test_it_says_how_many_hours_the_customer_has_been_silent() -> None:
    (finding,) = deal_risks(_deal(last_customer_interaction_at=hours_ago(80.5)), now=NOW)
    assert finding.message == Message(
        "已 3 天 8 小时无客户互动", "no customer interaction for 3 days 8 hours"
    )


def test_it_measures_silence_from_opening_when_the_customer_never_interacted() -> None:
    deal = _deal(opened_at=hours_ago(100), last_customer_interaction_at=None)
    assert _kinds(deal_risks(deal, now=NOW)) == ["silence"]


def test_it_flags_an_open_deal_without_action_for_47_days() -> None:
    deal = _deal(last_action_at=days_ago(47), opened_at=days_ago(60))
    findings = [f for f in deal_risks(deal, now=NOW) if f.kind == "stale"]
    assert findings[0].message.zh == "推进中但已 1 个月 17 天无任何新动作"
    assert findings[0].severity == "critical"


def test_it_does_not_flag_46_days_without_action_as_stale() -> None:
    deal = _deal(last_action_at=days_ago(46), opened_at=days_ago(60))
    assert "stale" not in _kinds(deal_risks(deal, now=NOW))


def test_it_flags_no_risk_on_a_closed_deal() -> None:
    deal = _deal(is_open=False, stage_moves=_back(3), last_action_at=days_ago(90))
    assert deal_risks(deal, now=NOW) == []


def test_it_flags_dwell_at_twice_the_target() -> None:
    deal = _deal(stage_entered_at=hours_ago(48), target_dwell=timedelta(hours=24))
    (finding,) = deal_risks(deal, now=NOW)
    assert finding.kind == "dwell_overrun"
    assert finding.figures["ratio"] == 2


def test_it_does_not_flag_dwell_under_the_factor() -> None:
    deal = _deal(stage_entered_at=hours_ago(47), target_dwell=timedelta(hours=24))
    assert deal_risks(deal, now=NOW) == []


def test_it_keys_findings_stably_per_deal_and_kind() -> None:
    early = deal_risks(_deal(last_customer_interaction_at=hours_ago(80)), now=NOW)
    later = deal_risks(
        _deal(last_customer_interaction_at=hours_ago(80)), now=NOW + timedelta(hours=5)
    )
    assert early[0].key == later[0].key == "deal:7:silence"


def test_it_keys_dwell_findings_by_stage() -> None:
    deal = _deal(stage_entered_at=hours_ago(48), target_dwell=timedelta(hours=24))
    assert deal_risks(deal, now=NOW)[0].key == "deal:7:dwell_overrun:poc"


def test_an_active_exemption_marks_silence_and_stale_as_exempted() -> None:
    exemption = Exemption(days_ago(1), None, "客户临时失联")
    deal = _deal(
        last_customer_interaction_at=days_ago(50),
        last_action_at=days_ago(50),
        opened_at=days_ago(60),
        exemptions=(exemption,),
    )
    findings = deal_risks(deal, now=NOW)
    assert _kinds(findings) == ["silence", "stale"]
    assert all(f.exempted for f in findings)


def test_an_active_exemption_does_not_hide_backward_moves() -> None:
    deal = _deal(stage_moves=_back(2), exemptions=(Exemption(days_ago(1)),))
    assert not deal_risks(deal, now=NOW)[0].exempted


def test_an_ended_exemption_no_longer_suppresses() -> None:
    deal = _deal(
        last_customer_interaction_at=hours_ago(80),
        exemptions=(Exemption(days_ago(20), days_ago(6)),),
    )
    assert not deal_risks(deal, now=NOW)[0].exempted


def test_it_skips_a_disabled_rule() -> None:
    config = RiskConfig(silence=SilenceRule(enabled=False))
    assert deal_risks(_deal(last_customer_interaction_at=days_ago(9)), now=NOW, config=config) == []


def test_it_uses_a_configured_silence_limit() -> None:
    config = RiskConfig(silence=SilenceRule(after=timedelta(hours=24)))
    deal = _deal(last_customer_interaction_at=hours_ago(30))
    assert _kinds(deal_risks(deal, now=NOW, config=config)) == ["silence"]


def test_it_sweeps_many_deals() -> None:
    deals = [_deal(deal_id=1), _deal(deal_id=2, stage_moves=_back(2))]
    assert [f.deal_id for f in deals_risks(deals, now=NOW)] == [2]


def test_internal_events_are_not_customer_interactions() -> None:
    events = [
        ActivityEvent(hours_ago(100), "call", "with_customer"),
        ActivityEvent(hours_ago(2), "field_edit", "internal"),
    ]
    assert last_activity(events) == (hours_ago(100), hours_ago(2))


def test_only_the_playbooks_interaction_types_count_when_given() -> None:
    events = [
        ActivityEvent(hours_ago(5), "email_opened", "from_customer"),
        ActivityEvent(hours_ago(50), "meeting", "with_customer"),
    ]
    customer, _ = last_activity(events, interaction_types=["meeting", "call"])
    assert customer == hours_ago(50)
