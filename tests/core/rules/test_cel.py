"""CEL criteria: type-checked when compiled, evaluated against the deal, errors never 'met'."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lodestar.core.playbook import PlaybookInvalid
from lodestar.core.rules import ContactData, DealContext, DealData
from lodestar.core.rules.cel import cel_problems
from tests.core.rules.helpers import NOW, attachment, context, criterion, event


def test_it_evaluates_a_comparison_on_the_deal() -> None:
    rule = criterion({"cel": "deal.amount >= 10000.0"})

    assert rule.test(context(amount=Decimal("20000")))
    assert not rule.test(context(amount=Decimal("5000")))


def test_it_reads_custom_fields_with_their_declared_types() -> None:
    rule = criterion({"cel": "fields.budget_confirmed && fields.signer_role in ['cto', 'cfo']"})

    assert rule.test(context(fields={"budget_confirmed": True, "signer_role": "cfo"}))


def test_it_says_it_cannot_tell_when_a_field_is_not_set() -> None:
    rule = criterion({"cel": "fields.legal_review_overdue_days < 3.0"})

    result = rule.evaluate(context())

    assert not result.met
    assert result.error == "fields.legal_review_overdue_days not set"
    assert result.explanation.zh.endswith("无法判断,法务审核超时天数未填写")


def test_it_never_reports_a_runtime_error_as_met() -> None:
    rule = criterion({"cel": "1 / size(contacts) == 1"})

    result = rule.evaluate(context())

    assert not result.met
    assert result.error is not None
    assert not rule.test(context())


def test_it_iterates_contacts_with_macros() -> None:
    rule = criterion({"cel": "contacts.filter(c, c.is_decision_maker).size() >= 2"})
    two = (ContactData("a", is_decision_maker=True), ContactData("b", is_decision_maker=True))

    assert rule.test(context(contacts=two))
    assert not rule.test(context(contacts=two[:1]))


def test_it_exposes_event_age_in_hours() -> None:
    rule = criterion({"cel": "events.exists(e, e.type == 'demo.held' && e.age_hours <= 24.0)"})

    assert rule.test(context(events=(event("demo.held", hours_ago=3),)))
    assert not rule.test(context(events=(event("demo.held", hours_ago=30),)))


def test_it_reads_event_payload_text() -> None:
    rule = criterion(
        {"cel": "events.exists(e, e.type == 'chat.message' && e.payload.text.contains('已确认'))"}
    )

    assert rule.test(context(events=(event("chat.message", text="已确认,谢谢"),)))


def test_it_exposes_attachments_with_their_text_length() -> None:
    rule = criterion(
        {"cel": "attachments.exists(a, a.kind == 'meeting_minutes' && a.text_length >= 300)"}
    )

    assert rule.test(context(attachments=(attachment("meeting_minutes", chars=301),)))


def test_it_compares_dates_as_timestamps() -> None:
    rule = criterion({"cel": "deal.expected_close_date < now"})

    assert rule.test(DealContext(DealData("demo", expected_close_date=date(2025, 1, 1)), NOW))


def test_it_reuses_one_activation_per_context() -> None:
    first = criterion({"cel": "deal.amount > 1.0"})
    ctx = context()

    first.test(ctx)
    memo_after_first = dict(ctx.memo)
    first.evaluate(ctx)

    assert len(memo_after_first) == 1
    assert ctx.memo == memo_after_first


def test_it_rejects_an_undeclared_name_with_a_suggestion() -> None:
    with pytest.raises(PlaybookInvalid, match=r"did you mean 'account\.repurchase_rate'"):
        criterion({"cel": "account.repurchace_rate > 0.5"})


def test_it_rejects_a_syntax_error() -> None:
    with pytest.raises(PlaybookInvalid, match="Syntax error"):
        criterion({"cel": "deal.amount >"})


def test_it_reads_every_error_position_from_a_compile_message() -> None:
    message = (
        "INVALID_ARGUMENT: ERROR: <input>:1:1: undeclared reference to 'a' (in container '')\n"
        " | a && b\n | ^\nERROR: <input>:2:6: undeclared reference to 'b' (in container '')"
    )

    assert cel_problems(message) == [
        (1, 1, "undeclared reference to 'a'"),
        (2, 6, "undeclared reference to 'b'"),
    ]


def test_it_ignores_selections_inside_string_literals_when_checking_item_keys() -> None:
    rule = criterion({"cel": "contacts.exists(c, c.title == 'x.notakey')"})

    assert not rule.test(context())
