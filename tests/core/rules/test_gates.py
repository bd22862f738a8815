"""Gates and transitions: forward moves need every gate on the way, backward moves are flagged."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from lodestar.core.rules import (
    ContextError,
    DealContext,
    DealData,
    TransitionKind,
    UnknownStage,
    check_advance,
    evaluate_gate,
)
from tests.core.rules.helpers import (
    NOW,
    attachment,
    context,
    decision_maker,
    event,
    seed_compiled,
)


def _demo_ready() -> DealContext:
    return context(
        fields={"budget_confirmed": True},
        contacts=(decision_maker("王总"), decision_maker("李总")),
        attachments=(attachment("meeting_minutes"),),
    )


def _all_ready() -> DealContext:
    return context(
        amount=Decimal("80000"),
        fields={"budget_confirmed": True, "signer_role": "cto", "signing_period": "within_1m"},
        contacts=(decision_maker("王总"), decision_maker("李总")),
        attachments=(
            attachment("meeting_minutes"),
            attachment("tech_agreement", "image/jpeg"),
            attachment("signed_quote", chars=80),
        ),
        events=(event("chat.message", text="已确认"),),
    )


def test_it_lists_the_demo_gate_checklist_in_playbook_order() -> None:
    gate = evaluate_gate(seed_compiled(), context())

    assert gate.stage == "demo"
    assert [r.id for r in gate.results] == ["decision_makers", "budget", "minutes"]
    assert not gate.passed


def test_it_passes_the_demo_gate_when_all_three_seed_criteria_hold() -> None:
    assert evaluate_gate(seed_compiled(), _demo_ready()).passed


def test_it_blocks_an_advance_and_names_the_unmet_criteria() -> None:
    ctx = context(fields={"budget_confirmed": True}, contacts=(decision_maker("王总"),))

    decision = check_advance(seed_compiled(), ctx, "demo", "tech_confirmed")

    assert not decision.allowed
    assert decision.kind is TransitionKind.ADVANCE
    assert [(stage, r.explanation.zh) for stage, r in decision.unmet] == [
        ("demo", "决策人参与 1/2 人"),
        ("demo", "会议纪要未上传"),
    ]


def test_it_allows_an_advance_when_the_gate_passes() -> None:
    decision = check_advance(seed_compiled(), _demo_ready(), "demo", "tech_confirmed")

    assert decision.allowed
    assert decision.skipped == ()


def test_it_requires_the_gates_of_skipped_stages() -> None:
    decision = check_advance(seed_compiled(), _demo_ready(), "demo", "quote")

    assert not decision.allowed
    assert decision.skipped == ("tech_confirmed",)
    assert {stage for stage, _ in decision.unmet} == {"tech_confirmed"}


def test_it_adds_required_fields_to_the_gate_of_their_stage() -> None:
    gate = evaluate_gate(seed_compiled(), context(stage="quote"), "quote")

    assert "signing_period_set" in [r.id for r in gate.unmet]


def test_it_requires_every_remaining_gate_to_win() -> None:
    blocked = check_advance(seed_compiled(), _demo_ready(), "demo", "won")
    allowed = check_advance(seed_compiled(), _all_ready(), "demo", "won")

    assert not blocked.allowed
    assert [g.stage for g in blocked.gates] == ["demo", "tech_confirmed", "quote"]
    assert allowed.allowed
    assert allowed.kind is TransitionKind.WON


def test_it_always_allows_losing_a_deal() -> None:
    decision = check_advance(seed_compiled(), context(), "demo", "lost")

    assert decision.allowed
    assert decision.kind is TransitionKind.LOST


def test_it_allows_a_backward_move_and_flags_it_as_regression() -> None:
    decision = check_advance(seed_compiled(), context(stage="quote"), "quote", "demo")

    assert decision.allowed
    assert decision.is_regression
    assert decision.gates == ()


def test_it_flags_reopening_a_closed_deal() -> None:
    decision = check_advance(seed_compiled(), context(stage="lost"), "lost", "demo")

    assert decision.allowed
    assert decision.kind is TransitionKind.REOPEN
    assert decision.is_regression


def test_it_refuses_a_move_to_the_same_stage() -> None:
    decision = check_advance(seed_compiled(), context(), "demo", "demo")

    assert not decision.allowed
    assert decision.kind is TransitionKind.NO_CHANGE


def test_it_raises_for_a_stage_the_playbook_does_not_have() -> None:
    with pytest.raises(UnknownStage, match="unknown stage 'demoo'"):
        check_advance(seed_compiled(), context(), "demo", "demoo")


def test_it_serialises_a_decision_for_the_transition_snapshot() -> None:
    data = check_advance(seed_compiled(), context(), "demo", "tech_confirmed").as_dict()

    assert data["allowed"] is False
    assert data["unmet"][0] == {
        "stage": "demo",
        "id": "decision_makers",
        "label": {"zh": "决策人参与", "en": "Decision-makers attended"},
        "met": False,
        "explanation": {"zh": "决策人参与 0/2 人", "en": "Decision-makers attended: 0/2"},
    }


def test_it_computes_the_seed_forecast_formula() -> None:
    ctx = context(stage="quote", fields={"legal_review_overdue_days": 0.5}, repurchase_rate=0.9)

    result = seed_compiled().forecast(ctx)

    assert result.source == "formula"
    assert result.probability == pytest.approx(0.9 * 0.4 + 0.7 * 0.3 - 0.5 * 0.3)


def test_it_falls_back_to_the_stage_probability_when_the_formula_cannot_run() -> None:
    result = seed_compiled().forecast(context(stage="quote"))

    assert (result.source, result.probability) == ("stage", 0.7)
    assert result.error is not None


def test_it_refuses_a_naive_now() -> None:
    with pytest.raises(ContextError, match="time-zone aware"):
        DealContext(DealData("demo"), datetime(2025, 1, 1))


def test_it_indexes_attachments_and_events_once() -> None:
    ctx = context(attachments=(attachment("meeting_minutes"), attachment("signed_quote")))

    assert set(ctx.attachments_by_kind) == {"meeting_minutes", "signed_quote"}
    assert ctx.now == NOW
