from __future__ import annotations

from datetime import timedelta

from tests.core.scoring.times import NOW, hours_ago

from lodestar.core.scoring import (
    Exemption,
    ExpectedEvent,
    Message,
    PendingTask,
    StuckInput,
    UnmetCriterion,
    stuck_reason,
)

STAGE_4 = Message("阶段4", "stage 4")
TECH = Message("技术支持", "technical support")
POC = ExpectedEvent(Message("POC测试反馈", "POC feedback"), TECH, "poc_feedback")


def _deal(**changes: object) -> StuckInput:
    base: dict[str, object] = {
        "deal_id": 4,
        "stage_label": STAGE_4,
        "stage_entered_at": hours_ago(36),
        "target_dwell": timedelta(hours=24),
    }
    base.update(changes)
    return StuckInput(**base)  # type: ignore[arg-type]


def test_it_writes_the_seed_sentence_in_chinese() -> None:
    reason = stuck_reason(_deal(expected_events=(POC,)), now=NOW)
    assert reason is not None
    assert reason.message.zh == "在阶段4停留1天12小时:尚未收到POC测试反馈,需要技术支持介入"


def test_it_writes_the_seed_sentence_in_english() -> None:
    reason = stuck_reason(_deal(expected_events=(POC,)), now=NOW)
    assert reason is not None
    assert (
        reason.message.en
        == "In stage 4 for 1 day 12 hours: POC feedback not received yet — needs technical support"
    )


def test_it_gives_no_reason_within_the_target() -> None:
    assert stuck_reason(_deal(stage_entered_at=hours_ago(24)), now=NOW) is None


def test_it_gives_no_reason_without_a_target() -> None:
    assert stuck_reason(_deal(target_dwell=None), now=NOW) is None


def test_it_names_an_overdue_task_with_its_department() -> None:
    task = PendingTask(
        9,
        Message("发送定制方案", "send tailored proposal"),
        hours_ago(5),
        Message("销售部", "sales"),
    )
    reason = stuck_reason(_deal(open_tasks=(task,)), now=NOW)
    assert reason is not None
    assert reason.message.zh == (
        "在阶段4停留1天12小时:任务「发送定制方案」已逾期5小时,需要销售部介入"
    )
    assert reason.causes[0].ref == 9


def test_it_includes_unmet_gate_explanations() -> None:
    unmet = UnmetCriterion(Message("会议纪要未上传", "meeting minutes not uploaded"))
    reason = stuck_reason(_deal(unmet_criteria=(unmet,)), now=NOW)
    assert reason is not None
    assert reason.message.en == "In stage 4 for 1 day 12 hours: meeting minutes not uploaded"


def test_it_lists_expected_events_before_open_tasks() -> None:
    task = PendingTask(1, Message("准备报价", "prepare quote"), NOW + timedelta(hours=3))
    reason = stuck_reason(_deal(open_tasks=(task,), expected_events=(POC,)), now=NOW)
    assert reason is not None
    assert [c.kind for c in reason.causes] == ["expected_event", "open_task"]


def test_it_counts_causes_beyond_the_limit() -> None:
    events = tuple(ExpectedEvent(Message(f"事件{i}", f"event {i}")) for i in range(5))
    reason = stuck_reason(_deal(expected_events=events), now=NOW, max_causes=3)
    assert reason is not None
    assert reason.message.zh.endswith(";另有2项")
    assert reason.message.en.endswith("; and 2 more")


def test_it_says_when_no_cause_is_recorded() -> None:
    reason = stuck_reason(_deal(), now=NOW)
    assert reason is not None
    assert reason.message.en == (
        "In stage 4 for 1 day 12 hours: past the 1 day target, no recorded cause"
    )
    assert reason.message.zh == "在阶段4停留1天12小时:已超出1天的目标停留时长,未发现具体原因"


def test_it_leads_with_an_active_exemption() -> None:
    exemption = Exemption(hours_ago(2), None, "客户临时失联")
    reason = stuck_reason(_deal(stage_entered_at=hours_ago(40), exemptions=(exemption,)), now=NOW)
    assert reason is not None
    assert reason.exempted
    assert reason.message.zh == "在阶段4停留1天14小时:已豁免(客户临时失联)"


def test_it_says_a_deal_with_a_met_gate_is_ready_for_the_next_stage() -> None:
    reason = stuck_reason(_deal(gate_met=True, next_stage=Message("报价", "Quote")), now=NOW)
    assert reason is not None
    assert reason.message.zh == "在阶段4停留1天12小时:可以推进到下一阶段「报价」"
    assert reason.message.en == (
        "In stage 4 for 1 day 12 hours: ready to move to the next stage (Quote)"
    )
    assert [c.kind for c in reason.causes] == ["gate_met"]


def test_it_says_ready_without_a_name_when_the_next_stage_is_unknown() -> None:
    reason = stuck_reason(_deal(gate_met=True), now=NOW)
    assert reason is not None
    assert reason.message.zh == "在阶段4停留1天12小时:可以推进到下一阶段"


def test_it_puts_a_met_gate_before_open_tasks() -> None:
    task = PendingTask(1, Message("准备报价", "prepare quote"), NOW + timedelta(hours=3))
    reason = stuck_reason(_deal(gate_met=True, open_tasks=(task,)), now=NOW)
    assert reason is not None
    assert [c.kind for c in reason.causes] == ["gate_met", "open_task"]
