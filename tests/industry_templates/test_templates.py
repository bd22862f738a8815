"""The five industry templates: they load, compile, walk a deal to won, and fail loudly when broken.

Plain pytest, no database: run with
``.venv/bin/python -m pytest tests/industry_templates -q -p no:django``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from lodestar.core.playbook import (
    LocatedError,
    PlaybookInvalid,
    check_playbook,
    load_playbook,
)
from lodestar.core.rules import (
    AccountData,
    AttachmentData,
    CompiledPlaybook,
    ContactData,
    DealContext,
    DealData,
    EventData,
    TransitionKind,
    check_advance,
    compile_playbook,
    evaluate_gate,
)
from lodestar.industry_templates import (
    TEMPLATES,
    UnknownTemplate,
    list_templates,
    load_template,
    template_source,
)
from lodestar.industry_templates.export_schema import schema_text

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)
KEYS = list(TEMPLATES)

PDF = "application/pdf"
JPG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@cache
def compiled(key: str) -> CompiledPlaybook:
    return compile_playbook(load_template(key))


# --- building deal contexts ------------------------------------------------------------------


def contact(
    name: str,
    *,
    decision_maker: bool = False,
    attended: bool = True,
    role: str | None = None,
) -> ContactData:
    return ContactData(
        name,
        role=role,
        is_decision_maker=decision_maker,
        attended=frozenset({"demo"}) if attended else frozenset(),
    )


def attachment(
    kind: str, content_type: str = PDF, *, hours_ago: float = 1, chars: int = 500
) -> AttachmentData:
    return AttachmentData(kind, content_type, NOW - timedelta(hours=hours_ago), chars)


def event(type_: str, *, hours_ago: float = 1, **payload: Any) -> EventData:
    return EventData(type_, NOW - timedelta(hours=hours_ago), payload)


@dataclass(frozen=True)
class Evidence:
    """What a deal has gathered so far; each stage of a walk adds to it."""

    fields: dict[str, Any] = field(default_factory=dict)
    contacts: tuple[ContactData, ...] = ()
    attachments: tuple[AttachmentData, ...] = ()
    events: tuple[EventData, ...] = ()
    amount: Decimal | None = None

    def plus(self, other: Evidence) -> Evidence:
        return Evidence(
            {**self.fields, **other.fields},
            self.contacts + other.contacts,
            self.attachments + other.attachments,
            self.events + other.events,
            other.amount if other.amount is not None else self.amount,
        )

    def context(self, stage: str, *, repurchase_rate: float | None = 0.5) -> DealContext:
        return DealContext(
            deal=DealData(
                stage=stage,
                amount=self.amount,
                fields=dict(self.fields),
                stage_entered_at=NOW - timedelta(hours=36),
            ),
            now=NOW,
            account=AccountData(industry="test", tier="key", repurchase_rate=repurchase_rate),
            contacts=self.contacts,
            attachments=self.attachments,
            events=self.events,
            zone=SHANGHAI,  # the seed's organizations word their evidence in Shanghai time
        )


def ev(
    *,
    fields: dict[str, Any] | None = None,
    contacts: Iterable[ContactData] = (),
    attachments: Iterable[AttachmentData] = (),
    events: Iterable[EventData] = (),
    amount: int | None = None,
) -> Evidence:
    return Evidence(
        dict(fields or {}),
        tuple(contacts),
        tuple(attachments),
        tuple(events),
        Decimal(amount) if amount is not None else None,
    )


@dataclass(frozen=True)
class Step:
    """One working stage of a walk: what its gate reports before, and what satisfies it."""

    stage: str
    unmet: dict[str, str]  # criterion id → zh explanation, with nothing of this stage yet
    evidence: Evidence


# --- every template ----------------------------------------------------------------------------


def test_it_lists_the_five_templates() -> None:
    assert KEYS == [
        "saas_b2b",
        "industrial_equipment",
        "fmcg_distributor",
        "medical_devices",
        "auto_aftersales_store",
    ]
    assert [info.key for info in list_templates()] == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_every_template_validates_and_compiles_without_issues(key: str) -> None:
    text = template_source(key)

    assert check_playbook(text, f"{key}.yaml") == []
    playbook = load_template(key)
    assert playbook.key == key
    cp = compile_playbook(playbook)
    assert set(cp.gates) == {stage.key for stage in playbook.stages}
    assert set(cp.triggers) == {trigger.id for trigger in playbook.triggers}


@pytest.mark.parametrize("key", KEYS)
def test_every_template_is_bilingual_and_ordered(key: str) -> None:
    playbook = load_template(key)
    working = [s for s in playbook.stages if s.terminal is None]

    assert playbook.name.zh != playbook.name.en
    assert [s.terminal for s in playbook.stages[len(working) :]] == ["won", "lost"]
    for stage in playbook.stages:
        assert stage.name.zh
        assert stage.name.en
        assert stage.name.zh != stage.name.en
        assert stage.terminal is not None or stage.target_dwell is not None
    for stage in working:
        assert stage.exit, f"{stage.key} has no exit criteria"
    probabilities = [s.probability for s in working]
    assert probabilities == sorted(probabilities)
    assert len({s.probability for s in working}) == len(working)


@pytest.mark.parametrize("key", KEYS)
def test_every_template_has_a_zh_and_en_header_comment(key: str) -> None:
    text = template_source(key)
    header = text.split("\nkey:", 1)[0]

    assert re.search(r"[\u4e00-\u9fff]", header)
    assert "industry template " + key in header


@pytest.mark.parametrize("key", ["fmcg_distributor", "medical_devices", "auto_aftersales_store"])
def test_the_trade_templates_use_several_criterion_kinds_including_cel(key: str) -> None:
    kinds = {criterion.kind for stage in load_template(key).stages for criterion in stage.exit}

    assert "cel" in kinds
    assert len(kinds) >= 4


def test_an_unknown_template_is_refused_with_the_known_keys() -> None:
    with pytest.raises(UnknownTemplate) as caught:
        template_source("saas")

    assert "saas_b2b" in str(caught.value)


# --- the walks: first stage to won, through every gate ------------------------------------------

SAAS_WALK = (
    Step(
        "lead",
        {"contact_known": "已建档联系人 0/1 人", "customer_replied": "均未满足"},
        ev(contacts=[contact("王总", decision_maker=True)], events=[event("call")]),
    ),
    Step(
        "needs_confirmed",
        {
            "needs_list": "需求清单未上传",
            "needs_confirmed_by_customer": "客户书面确认需求:尚无记录",
            "integration_answered": "客户是否提出集成需求未填写",
            "purchase_timeline_set": "采购时间表未填写",
        },
        ev(
            fields={"integration_required": True, "purchase_timeline": "this_quarter"},
            attachments=[attachment("needs_list", DOCX)],
            events=[event("customer.confirmed", text="需求清单没问题")],
        ),
    ),
    Step(
        "demo",
        {
            "decision_makers": "决策人参与 1/2 人",
            "budget": "预算范围已确认未填写",
            "minutes": "会议纪要未上传",
        },
        ev(
            fields={"budget_confirmed": True},
            contacts=[contact("李总监", decision_maker=True)],
            attachments=[attachment("meeting_minutes", chars=800)],
        ),
    ),
    Step(
        "poc",
        {
            "trial_activated": "试用账号已开通:尚无记录",
            "poc_feedback": "POC 测试反馈:尚无记录",
            "poc_passed": "POC 结论未填写",
        },
        ev(
            fields={"poc_result": "passed"},
            events=[event("trial.activated", hours_ago=100), event("poc.feedback")],
        ),
    ),
    Step(
        "proposal",
        {
            "proposal_sent": "发送方案:尚无记录",
            "quote": "报价单未上传",
            "discount_ok": "折扣不超过 20% 或已审批:无法判断,折扣率(%)未填写",
        },
        ev(
            fields={"discount_pct": 15.0},
            attachments=[attachment("quote")],
            events=[event("proposal.sent")],
            amount=180_000,
        ),
    ),
    Step(
        "negotiation",
        {
            "legal_done": "法务审核完成:尚无记录",
            "contract": "合同未上传",
            "sealed": "合同用印:尚无记录",
        },
        ev(
            attachments=[attachment("contract", JPG)],
            events=[event("legal.review.finished"), event("approval.sealed")],
        ),
    ),
)

INDUSTRIAL_WALK = (
    Step(
        "lead",
        {"contact_known": "已建档联系人 0/1 人", "customer_replied": "均未满足"},
        ev(
            contacts=[contact("王总", role="general_manager")],
            events=[event("chat.message", text="您好,请发一下报价", from_customer=True)],
        ),
    ),
    Step(
        "site_survey",
        {"survey_report": "现场勘察报告未上传", "equipment_list": "设备清单已确认未填写"},
        ev(
            fields={"equipment_list_confirmed": True},
            attachments=[attachment("site_survey_report", PNG)],
        ),
    ),
    Step(
        "technical_solution",
        {
            "tech_agreement": "客户签字的技术协议未上传",
            "signer_title": "客户方签字人职务未填写",
            "customer_confirmed": "客户聊天确认「已确认」:尚无记录",
        },
        ev(
            fields={"tech_signer_title": "plant_manager"},
            attachments=[attachment("tech_agreement", JPG)],
            events=[event("chat.message", text="方案已确认,按这个走", from_customer=True)],
        ),
    ),
    Step(
        "quote",
        {
            "signed_quote": "签字报价单未上传",
            "signing_period": "预期签约周期未填写",
            "decision_chain_role": "客户决策链角色未填写",
        },
        ev(
            fields={"signing_period": "within_1m", "decision_chain_role": "purchasing_director"},
            attachments=[attachment("signed_quote", JPG)],
            amount=560_000,
        ),
    ),
    Step(
        "negotiation",
        {
            "delivery_agreed": "约定交期未填写",
            "discount_ok": "折扣不超过 10% 或已审批:无法判断,折扣率(%)未填写",
        },
        ev(fields={"delivery_date": NOW.date() + timedelta(days=30), "discount_pct": 8.0}),
    ),
    Step(
        "contract",
        {
            "legal_done": "法务审核完成:尚无记录",
            "sealed": "合同已用印(审批流):尚无记录",
            "erp_order": "ERP 已生成销售订单:尚无记录",
        },
        ev(
            events=[
                event("legal.review.finished"),
                event("approval.sealed", approval_no="SP-2025-031"),
                event("erp.order", order_no="SO-88121", amount="560000"),
            ]
        ),
    ),
)

FMCG_WALK = (
    Step(
        "visit",
        {
            "visits": "近 14 天拜访签到 0/2 次",
            "decision_contact": "见到店主/店长 0/1 人",
            "store_type_set": "门店类型未填写",
            "trade_area_set": "所属商圈未填写",
        },
        ev(
            fields={"store_type": "convenience", "trade_area": "柯桥万达商圈"},
            contacts=[contact("陈老板", role="store_owner")],
            events=[event("store.visited", hours_ago=24 * 9), event("store.visited")],
        ),
    ),
    Step(
        "listing",
        {
            "first_order": "ERP 首单:尚无记录",
            "skus": "铺货 SKU 数未填写",
            "receipt": "到货签收单未上传",
        },
        ev(
            fields={"listed_skus": 5},
            attachments=[attachment("delivery_receipt", JPG)],
            events=[event("erp.order", hours_ago=24 * 20, order_no="FX-1001")],
        ),
    ),
    Step(
        "display",
        {
            "photos": "陈列照片近 7 天内未上传",
            "display_standard": "排面 ≥ 4 且位于黄金位置:无法判断,排面数未填写",
        },
        ev(
            fields={"shelf_facings": 6, "display_position": "end_cap"},
            attachments=[attachment("display_photo", JPG), attachment("display_photo", PNG)],
        ),
    ),
    Step(
        "reorder",
        {
            "repeat_orders": "近 60 天 ERP 订单 1/2 次",
            "sell_through": "动销率 ≥ 60%:无法判断,动销率(0–1)未填写",
        },
        ev(
            fields={"sell_through_rate": 0.72},
            events=[event("erp.order", hours_ago=24 * 3, order_no="FX-1088")],
        ),
    ),
)

MEDICAL_WALK = (
    Step(
        "registered",
        {
            "license": "医疗机构执业许可证未上传",
            "license_verified": "执业许可证已核验未填写",
            "clinic_type_set": "诊所类型未填写",
        },
        ev(
            fields={"clinic_type": "dental", "license_verified": True},
            attachments=[attachment("practice_license", JPG)],
        ),
    ),
    Step(
        "needs",
        {
            "visit": "已上门拜访:尚无记录",
            "intent": "客户意向未填写",
            "intent_backed": "「意向高」有近 30 天进销存数据佐证:无法判断,客户意向未填写",
            "device_categories_set": "意向产品类别未填写",
        },
        ev(
            fields={"intent_level": "high", "device_categories": ("imaging", "consumables")},
            attachments=[attachment("inventory_data", "text/csv", hours_ago=24 * 10)],
            events=[event("meeting.held", topic="口腔影像设备需求")],
        ),
    ),
    Step(
        "demo",
        {
            "demo_held": "演示已完成:尚无记录",
            "decision_maker": "院长或科室主任参与 0/1 人",
            "trial_report": "试用评估表未上传",
        },
        ev(
            contacts=[contact("张院长", role="clinic_owner")],
            attachments=[attachment("trial_report")],
            events=[event("demo.held")],
        ),
    ),
    Step(
        "quote",
        {
            "stamped_quote": "盖章版报价单未上传",
            "qualification_docs": "注册证与经营资质未上传",
            "signing_period": "预期签约周期未填写",
            "decision_chain_role": "客户决策链角色未填写",
        },
        ev(
            fields={"signing_period": "within_1m", "decision_chain_role": "clinic_owner"},
            attachments=[attachment("stamped_quote"), attachment("qualification_docs", JPG)],
            amount=238_000,
        ),
    ),
    Step(
        "contract",
        {
            "contract": "合同未上传",
            "sealed": "合同用印:尚无记录",
            "first_order": "ERP 首单:尚无记录",
        },
        ev(
            attachments=[attachment("contract")],
            events=[event("approval.sealed"), event("erp.order", order_no="MD-2025-17")],
        ),
    ),
)

AUTO_WALK = (
    Step(
        "reception",
        {
            "plate": "车牌号未填写",
            "model": "车型未填写",
            "mileage": "进店里程(公里)未填写",
            "walkaround": "环车检查照片未上传",
        },
        ev(
            fields={
                "plate_no": "浙D·8K261",
                "vehicle_model": "大众 朗逸 2019",
                "mileage_km": 61250,
            },
            attachments=[attachment("walkaround_photo", JPG) for _ in range(4)],
        ),
    ),
    Step(
        "diagnosis",
        {
            "repair_order": "维修派工单未上传",
            "items": "服务项目未填写",
            "technician": "主修技师未填写",
        },
        ev(
            fields={"service_items": ("maintenance", "brake_pads"), "technician": "周师傅"},
            attachments=[attachment("repair_order", PNG)],
        ),
    ),
    Step(
        "estimate_approved",
        {
            "customer_approved": "客户确认报价:尚无记录",
            "amount_set": "金额未填写",
            "big_job_signed": "5000 元以上须客户签字估价单:无法判断,deal.amount未填写",
        },
        ev(events=[event("customer.confirmed", text="可以,换吧")], amount=1_380),
    ),
    Step(
        "parts_issued",
        {"parts": "配件出库:尚无记录"},
        ev(events=[event("parts.issued")]),
    ),
    Step(
        "work_done",
        {
            "qc_sheet": "完工质检单未上传",
            "road_test": "路试完成未填写",
            "paid": "结算完成:尚无记录",
        },
        ev(
            fields={"road_test_done": True},
            attachments=[attachment("qc_sheet", JPG)],
            events=[event("payment.received")],
        ),
    ),
)

WALKS: dict[str, tuple[Step, ...]] = {
    "saas_b2b": SAAS_WALK,
    "industrial_equipment": INDUSTRIAL_WALK,
    "fmcg_distributor": FMCG_WALK,
    "medical_devices": MEDICAL_WALK,
    "auto_aftersales_store": AUTO_WALK,
}


def _unmet(decision_gates: Iterable[Any]) -> dict[str, str]:
    return {r.id: r.explanation.zh for gate in decision_gates for r in gate.unmet}


def test_every_template_has_a_walk() -> None:
    assert set(WALKS) == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_a_deal_walks_from_the_first_stage_to_won_through_every_gate(key: str) -> None:
    cp = compiled(key)
    playbook = cp.playbook
    working = [s.key for s in playbook.stages if s.terminal is None]
    won = next(s.key for s in playbook.stages if s.terminal == "won")
    walk = WALKS[key]
    assert [step.stage for step in walk] == working

    gathered = Evidence()
    for position, step in enumerate(walk):
        following = working[position + 1] if position + 1 < len(working) else won
        ctx = gathered.context(step.stage)

        blocked = check_advance(cp, ctx, step.stage, following)
        assert not blocked.allowed, f"{step.stage} → {following} should be blocked"
        assert [g.stage for g in blocked.gates] == [step.stage]
        unmet = _unmet(blocked.gates)
        assert set(unmet) == set(step.unmet), step.stage
        for cid, expected in step.unmet.items():
            assert unmet[cid].startswith(expected), (step.stage, cid, unmet[cid])
        # Every unmet criterion explains itself in English too.
        assert all(r.explanation.en for _, r in blocked.unmet)

        gathered = gathered.plus(step.evidence)
        ctx = gathered.context(step.stage)
        gate = evaluate_gate(cp, ctx)
        assert gate.passed, (step.stage, _unmet([gate]))
        allowed = check_advance(cp, ctx, step.stage, following)
        assert allowed.allowed
        expected_kind = TransitionKind.WON if following == won else TransitionKind.ADVANCE
        assert allowed.kind is expected_kind

    # With everything gathered, the first stage can go straight to won (all gates pass).
    straight = check_advance(cp, gathered.context(working[0]), working[0], won)
    assert straight.allowed
    assert straight.kind is TransitionKind.WON
    assert [g.stage for g in straight.gates] == working


@pytest.mark.parametrize("key", KEYS)
def test_a_deal_can_be_lost_anywhere_and_moved_back_as_a_regression(key: str) -> None:
    cp = compiled(key)
    working = [s.key for s in cp.playbook.stages if s.terminal is None]
    lost = next(s.key for s in cp.playbook.stages if s.terminal == "lost")
    ctx = Evidence().context(working[2])

    assert check_advance(cp, ctx, working[2], lost).kind is TransitionKind.LOST
    back = check_advance(cp, ctx, working[2], working[1])
    assert back.allowed
    assert back.is_regression


# --- seed 000: the SaaS demo gate and triggers --------------------------------------------------


def _demo_context(*contacts: ContactData, budget: bool | None = True, minutes: bool = True) -> Any:
    fields = {} if budget is None else {"budget_confirmed": budget}
    attachments = (attachment("meeting_minutes", chars=620),) if minutes else ()
    return ev(fields=fields, contacts=contacts, attachments=attachments).context("demo")


def test_seed_demo_gate_blocks_with_one_decision_maker() -> None:
    ctx = _demo_context(contact("王总", decision_maker=True), contact("小刘"))

    decision = check_advance(compiled("saas_b2b"), ctx, "demo", "poc")

    assert not decision.allowed
    assert [(stage, r.id, r.explanation.zh) for stage, r in decision.unmet] == [
        ("demo", "decision_makers", "决策人参与 1/2 人"),
    ]
    assert decision.unmet[0][1].explanation.en == "Decision-makers attended: 1/2"


def test_seed_demo_gate_does_not_count_decision_makers_who_stayed_away() -> None:
    ctx = _demo_context(
        contact("王总", decision_maker=True),
        contact("李总", decision_maker=True, attended=False),
    )

    (result,) = evaluate_gate(compiled("saas_b2b"), ctx).unmet

    assert result.explanation.zh == "决策人参与 1/2 人"


def test_seed_demo_gate_passes_with_two_decision_makers_budget_and_minutes() -> None:
    ctx = _demo_context(
        contact("王总", decision_maker=True), contact("李总监", decision_maker=True)
    )

    gate = evaluate_gate(compiled("saas_b2b"), ctx)

    assert gate.passed
    assert [(r.id, r.explanation.zh) for r in gate.results] == [
        ("decision_makers", "决策人参与 2/2 人"),
        ("budget", "预算范围已确认:是"),
        ("minutes", "会议纪要已上传"),
    ]


def test_seed_demo_gate_needs_the_budget_confirmed_and_the_minutes() -> None:
    two = (contact("王总", decision_maker=True), contact("李总监", decision_maker=True))

    gate = evaluate_gate(compiled("saas_b2b"), _demo_context(*two, budget=False, minutes=False))

    assert [(r.id, r.explanation.zh) for r in gate.unmet] == [
        ("budget", "预算范围已确认:否"),
        ("minutes", "会议纪要未上传"),
    ]


def test_needs_confirmed_has_a_measurable_exit_and_a_five_day_target() -> None:
    stage = load_template("saas_b2b").stage("needs_confirmed")

    assert stage.target_dwell == timedelta(days=5)
    assert len(stage.exit) >= 3


def test_the_saas_process_has_seven_stages_with_poc_as_stage_four() -> None:
    stages = [s for s in load_template("saas_b2b").stages if s.terminal != "lost"]

    assert len(stages) == 7
    assert stages[3].key == "poc"
    assert stages[-1].terminal == "won"


def test_seed_triggers_demo_booked_2h_and_demo_held_24h_closed_by_the_proposal() -> None:
    triggers = {t.on: t for t in load_template("saas_b2b").triggers}

    booked = triggers["demo.booked"].task
    assert booked.title.zh == "准备行业案例包 + 设置试用账号"
    assert booked.due == timedelta(hours=2)
    held = triggers["demo.held"].task
    assert held.title.zh == "发送定制化方案"
    assert held.due == timedelta(hours=24)
    assert held.closes_on == ("proposal.sent",)


def test_the_integration_request_is_a_high_intent_signal() -> None:
    playbook = load_template("saas_b2b")
    trigger = next(t for t in playbook.triggers if t.on == "integration.requested")

    assert trigger.id == "integration_signal"
    assert "高意向" in (trigger.name.zh if trigger.name else "")
    assert playbook.field_def("integration_required") is not None


@pytest.mark.parametrize("key", ["saas_b2b", "industrial_equipment"])
def test_seed_health_risk_and_scorecard_numbers(key: str) -> None:
    playbook = load_template(key)

    assert playbook.health.threshold == 70
    assert playbook.risks.backward_moves.at_least == 2
    assert playbook.risks.silence.after == timedelta(hours=72)
    assert playbook.risks.stale.after == timedelta(days=47)
    assert playbook.risks.exemption_recheck == timedelta(days=14)
    card = playbook.scorecard
    assert (card.min_chars, card.upload_within) == (300, timedelta(hours=24))
    assert (card.min_knowledge_links, card.require_next_followup) == (1, True)
    assert (card.threshold, card.consecutive_below) == (75, 3)
    assert card.handbook == "objection-handbook"


# --- seed 001: technical-solution gate, quote gate, actions, forecast ----------------------------

QUOTE_FIELDS = {"signing_period": "within_1m", "decision_chain_role": "purchasing_director"}


def _quote_gate(*attachments: AttachmentData, fields: dict[str, Any] | None = None) -> Any:
    ctx = ev(fields=QUOTE_FIELDS if fields is None else fields, attachments=attachments)
    return evaluate_gate(compiled("industrial_equipment"), ctx.context("quote"))


def test_seed_quote_gate_accepts_a_signed_quote_photographed_as_jpg() -> None:
    gate = _quote_gate(attachment("signed_quote", JPG))

    assert gate.passed
    assert gate.results[0].explanation.zh == "签字报价单已上传"
    assert gate.results[0].evidence["uploaded_at"] == NOW - timedelta(hours=1)


def test_seed_quote_gate_accepts_a_pdf() -> None:
    assert _quote_gate(attachment("signed_quote", PDF)).passed


def test_seed_quote_gate_refuses_a_docx_by_its_content_type() -> None:
    gate = _quote_gate(attachment("signed_quote", DOCX))

    (result,) = gate.unmet
    assert result.id == "signed_quote"
    assert result.explanation.zh == "签字报价单格式不符(仅限 PDF/JPG)"
    assert result.explanation.en == "Signed quote: wrong file type (only PDF/JPG)"


def test_seed_quote_gate_names_all_three_missing_elements() -> None:
    gate = _quote_gate(fields={})

    assert [(r.id, r.explanation.zh) for r in gate.unmet] == [
        ("signed_quote", "签字报价单未上传"),
        ("signing_period", "预期签约周期未填写"),
        ("decision_chain_role", "客户决策链角色未填写"),
    ]


def test_the_signer_title_is_chosen_from_the_seed_list_of_eight() -> None:
    playbook = load_template("industrial_equipment")
    names = [role.name.zh for role in playbook.contact_roles]

    assert len(names) == 8
    assert {"CTO", "采购总监", "生产厂长"} <= set(names)
    for key in ("tech_signer_title", "decision_chain_role"):
        field_def = playbook.field_def(key)
        assert field_def is not None
        assert field_def.type == "contact_role"


def _tech_gate(*events: EventData, attachments: Iterable[AttachmentData] = ()) -> Any:
    ctx = ev(
        fields={"tech_signer_title": "cto"},
        attachments=attachments or (attachment("tech_agreement", PDF),),
        events=events,
    )
    return evaluate_gate(compiled("industrial_equipment"), ctx.context("technical_solution"))


def test_seed_technical_gate_captures_the_time_the_customer_wrote_confirmed() -> None:
    said_at = NOW - timedelta(hours=5)
    confirmed = EventData(
        "chat.message",
        said_at,
        {"text": "王工,技术协议已确认", "platform": "wecom", "from_customer": True},
    )

    gate = _tech_gate(confirmed)

    assert gate.passed
    result = next(r for r in gate.results if r.id == "customer_confirmed")
    assert result.evidence["occurred_at"] == said_at
    assert result.explanation.zh == "客户聊天确认「已确认」:2025-03-03 05:00"


def test_seed_technical_gate_ignores_the_reps_own_confirmed() -> None:
    gate = _tech_gate(event("chat.message", text="我这边已确认收到", from_customer=False))

    assert [r.id for r in gate.unmet] == ["customer_confirmed"]


def test_seed_technical_gate_accepts_only_pdf_or_jpg_scans() -> None:
    said = event("chat.message", text="已确认", from_customer=True)

    gate = _tech_gate(said, attachments=[attachment("tech_agreement", PNG)])

    (result,) = gate.unmet
    assert result.explanation.zh == "客户签字的技术协议格式不符(仅限 PDF/JPG)"


def test_seed_key_account_monthly_actions() -> None:
    (action_set,) = load_template("industrial_equipment").required_actions

    assert action_set.account_tiers == ("key",)
    assert action_set.period == "month"
    assert [(a.attachment or a.event, a.count) for a in action_set.actions] == [
        ("inspection_report", 1),
        ("tech_params.synced", 2),
        ("competitor.update", 1),
    ]


@pytest.mark.parametrize(
    ("overdue_days", "expected"),
    [(0, 0.5 * 0.4 + 0.6 * 0.3), (0.5, 0.5 * 0.4 + 0.6 * 0.3 - 0.15), (2, 0.0)],
)
def test_seed_forecast_formula(overdue_days: float, expected: float) -> None:
    ctx = ev(fields={"legal_review_overdue_days": overdue_days}).context("quote")

    forecast = compiled("industrial_equipment").forecast(ctx)

    assert forecast.source == "formula"
    assert forecast.probability == pytest.approx(expected)


def test_the_contract_gate_takes_the_approval_flow_and_the_erp_order_as_evidence() -> None:
    stage = load_template("industrial_equipment").stage("contract")
    types = {c.event.type for c in stage.exit if c.kind == "event"}  # type: ignore[union-attr]

    assert {"approval.sealed", "erp.order"} <= types


# --- the trade templates' own rules -------------------------------------------------------------


def test_medical_high_intent_needs_recent_inventory_data() -> None:
    cp = compiled("medical_devices")
    base = ev(
        fields={"intent_level": "high", "device_categories": ("imaging",)},
        events=[event("meeting.held")],
    )

    def backed(*attachments: AttachmentData) -> bool:
        ctx = base.plus(ev(attachments=attachments)).context("needs")
        return next(r for r in evaluate_gate(cp, ctx).results if r.id == "intent_backed").met

    assert not backed()
    assert not backed(attachment("inventory_data", hours_ago=24 * 40))
    assert backed(attachment("inventory_data", hours_ago=24 * 29))
    medium = ev(fields={"intent_level": "medium"}).context("needs")
    assert next(r for r in evaluate_gate(cp, medium).results if r.id == "intent_backed").met


def test_medical_quote_needs_the_stamped_quote_as_pdf() -> None:
    cp = compiled("medical_devices")
    ctx = ev(attachments=[attachment("stamped_quote", JPG)]).context("quote")

    result = next(r for r in evaluate_gate(cp, ctx).results if r.id == "stamped_quote")

    assert not result.met
    assert result.explanation.zh == "盖章版报价单格式不符(仅限 PDF)"


def test_medical_flags_deals_silent_for_47_days() -> None:
    assert load_template("medical_devices").risks.stale.after == timedelta(days=47)


def test_fmcg_restocking_trigger_fires_under_seven_days_of_stock() -> None:
    when = compiled("fmcg_distributor").triggers["restock"]
    assert when is not None

    assert when.evaluate(ev(fields={"stock_days": 5}).context("reorder")).met
    assert not when.evaluate(ev(fields={"stock_days": 12}).context("reorder")).met


def test_fmcg_display_standard_needs_facings_and_a_prime_position() -> None:
    cp = compiled("fmcg_distributor")

    def standard(fields: dict[str, Any]) -> bool:
        gate = evaluate_gate(cp, ev(fields=fields).context("display"))
        return next(r for r in gate.results if r.id == "display_standard").met

    assert standard({"shelf_facings": 4, "display_position": "eye_level"})
    assert not standard({"shelf_facings": 3, "display_position": "eye_level"})
    assert not standard({"shelf_facings": 8, "display_position": "low_shelf"})


def test_auto_big_jobs_need_a_signed_estimate() -> None:
    cp = compiled("auto_aftersales_store")
    approved = [event("customer.confirmed")]

    def signed_ok(amount: int, *attachments: AttachmentData) -> bool:
        ctx = ev(amount=amount, events=approved, attachments=attachments)
        gate = evaluate_gate(cp, ctx.context("estimate_approved"))
        return next(r for r in gate.results if r.id == "big_job_signed").met

    assert signed_ok(4_999)
    assert not signed_ok(5_000)
    assert signed_ok(12_800, attachment("signed_estimate", JPG))


def test_auto_vehicle_follow_ups_depend_on_the_service_items() -> None:
    cp = compiled("auto_aftersales_store")
    brakes = ev(fields={"service_items": ("brake_pads",)}).context("parts_issued")
    service = ev(fields={"service_items": ("maintenance", "tyres")}).context("work_done")

    brake_check = cp.triggers["brake_pad_check"]
    reminder = cp.triggers["next_service_reminder"]
    assert brake_check is not None
    assert reminder is not None
    assert brake_check.test(brakes)
    assert not brake_check.test(service)
    assert reminder.test(service)
    assert not reminder.test(brakes)


# --- broken copies: located errors with file, line, column and a hint ----------------------------


@dataclass(frozen=True)
class Breakage:
    key: str
    old: str
    new: str
    path: str
    message: str
    hint: str
    token: str  # the text the column must point at


BREAKAGES = (
    Breakage(
        "saas_b2b",
        "field: budget_confirmed",
        "field: budjet",
        "stages[2].exit[1].field",
        "unknown field 'budjet'",
        "did you mean 'budget_confirmed'?",
        "budjet",
    ),
    Breakage(
        "saas_b2b",
        "cel: fields.discount_pct <= 20.0",
        "cel: fields.discount_pc <= 20.0",
        "stages[4].exit[2].cel",
        "undeclared reference to 'fields.discount_pc'",
        "did you mean 'fields.discount_pct'?",
        "fields.discount_pc",
    ),
    Breakage(
        "saas_b2b",
        "stages: [demo, poc]",
        "stages: [demo, pok]",
        "triggers[4].stages[1]",
        "unknown stage 'pok'",
        "did you mean 'poc'?",
        "pok",
    ),
    Breakage(
        "industrial_equipment",
        "attachment: {kind: signed_quote, types: [pdf, jpg]}",
        "attachment: {kind: signed_quote, typs: [pdf, jpg]}",
        "stages[3].exit[0].attachment.typs",
        "unknown key 'typs'",
        "did you mean 'types'?",
        "typs",
    ),
    Breakage(
        "industrial_equipment",
        "field: tech_signer_title",
        "field: tech_signer_titel",
        "stages[2].exit[1].field",
        "unknown field 'tech_signer_titel'",
        "did you mean 'tech_signer_title'?",
        "tech_signer_titel",
    ),
    Breakage(
        "industrial_equipment",
        "stages: [technical_solution, quote, negotiation]",
        "stages: [technical_solution, quotes, negotiation]",
        "triggers[2].stages[1]",
        "unknown stage 'quotes'",
        "did you mean 'quote'?",
        "quotes",
    ),
    Breakage(
        "industrial_equipment",
        "- legal_review_overdue_days * 0.3",
        "- legal_overdue_days * 0.3",
        "forecast.formula",
        "undeclared reference to 'legal_overdue_days'",
        "did you mean 'legal_review_overdue_days'?",
        "legal_overdue_days",
    ),
    Breakage(
        "fmcg_distributor",
        "required_to_exit: [visit]\n  - key: trade_area",
        "required_to_exit: [visits]\n  - key: trade_area",
        "fields[0].required_to_exit[0]",
        "unknown stage 'visits'",
        "did you mean 'visit'?",
        "visits",
    ),
    Breakage(
        "fmcg_distributor",
        'fields.display_position in ["eye_level", "end_cap"]',
        'fields.display_positon in ["eye_level", "end_cap"]',
        "stages[2].exit[1].cel",
        "undeclared reference to 'fields.display_positon'",
        "did you mean 'fields.display_position'?",
        "fields.display_positon",
    ),
    Breakage(
        "medical_devices",
        'attachments.exists(a, a.kind == "inventory_data" && a.age_hours <= 720.0)',
        'attachments.exists(a, a.kind == "inventory_data" && a.age_hour <= 720.0)',
        "stages[1].exit[2].cel",
        "list items have no key 'age_hour'",
        "did you mean 'age_hours'?",
        "age_hour",
    ),
    Breakage(
        "medical_devices",
        "attachment: {kind: stamped_quote, types: [pdf]}",
        "attachment: {kind: stamped_qoute, types: [pdf]}",
        "stages[3].exit[0].attachment.kind",
        "unknown attachment kind 'stamped_qoute'",
        "did you mean 'stamped_quote'?",
        "stamped_qoute",
    ),
    Breakage(
        "medical_devices",
        "required_to_exit: [needs]",
        "required_to_exit: [need]",
        "fields[2].required_to_exit[0]",
        "unknown stage 'need'",
        "did you mean 'needs'?",
        "need]",
    ),
    Breakage(
        "auto_aftersales_store",
        "cel: deal.amount < 5000.0 ||",
        "cel: deal.amount < 5000 ||",
        "stages[2].exit[2].cel",
        "no matching overload",
        "write 5000.0 instead of 5000",
        "< 5000",
    ),
    Breakage(
        "auto_aftersales_store",
        "stages: [estimate_approved]",
        "stages: [estimate_aproved]",
        "triggers[0].stages[0]",
        "unknown stage 'estimate_aproved'",
        "did you mean 'estimate_approved'?",
        "estimate_aproved",
    ),
    Breakage(
        "auto_aftersales_store",
        "    on: parts.issued",
        "    on: parts.isued",
        "triggers[1].on",
        "unknown event type 'parts.isued'",
        "did you mean 'parts.issued'?",
        "parts.isued",
    ),
)


def test_every_template_has_broken_copies() -> None:
    assert {b.key for b in BREAKAGES} == set(KEYS)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[f"{b.key}:{b.path}" for b in BREAKAGES])
def test_a_broken_copy_gives_a_located_error(breakage: Breakage) -> None:
    source = template_source(breakage.key)
    assert source.count(breakage.old) == 1, breakage.old
    broken = source.replace(breakage.old, breakage.new)
    filename = f"{breakage.key}.broken.yaml"

    with pytest.raises(PlaybookInvalid) as caught:
        load_playbook(broken, filename)

    (error,) = caught.value.errors
    assert isinstance(error, LocatedError)
    assert error.file == filename
    assert error.path == breakage.path
    assert breakage.message in error.message
    assert breakage.hint in (error.hint or "")
    changed_line = _line_of(broken, breakage.new.splitlines()[0])
    assert error.line == changed_line
    line_text = broken.splitlines()[error.line - 1]
    assert line_text[error.column - 1 :].startswith(breakage.token)
    assert str(error).startswith(f"{filename}:{error.line}:{error.column}: {breakage.path}: ")


@pytest.mark.parametrize("key", KEYS)
def test_a_copy_broken_in_several_places_lists_every_error_in_file_order(key: str) -> None:
    source = template_source(key)
    # Unknown keys stop the loader before references and rules are checked, so leave them out.
    mine = [b for b in BREAKAGES if b.key == key and not b.message.startswith("unknown key")]
    broken = source
    for breakage in mine:
        broken = broken.replace(breakage.old, breakage.new)

    errors = check_playbook(broken, f"{key}.yaml")

    assert len(errors) == len(mine)
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    assert all(e.hint for e in errors)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle.strip() in line)


# --- JSON Schema and docs --------------------------------------------------------------------


def test_the_json_schema_file_is_current() -> None:
    stored = (ROOT / "docs" / "playbook.schema.json").read_text(encoding="utf-8")

    assert stored == schema_text(), (
        "docs/playbook.schema.json is out of date; regenerate it with "
        "`.venv/bin/python -m lodestar.industry_templates.export_schema`"
    )


@pytest.mark.parametrize("key", KEYS)
def test_the_playbook_docs_list_every_template_and_its_stages(key: str) -> None:
    docs = (ROOT / "docs" / "playbooks.md").read_text(encoding="utf-8")

    assert f"`{key}`" in docs
    section = docs.split(f"`{key}`", 1)[1]
    for stage in load_template(key).stages:
        assert f"`{stage.key}`" in section, (key, stage.key)
