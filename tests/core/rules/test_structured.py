"""Structured criteria: each operation answers met/unmet with a bilingual explanation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest

from lodestar.core.playbook import PlaybookInvalid
from lodestar.core.rules import ContactData, EventData
from tests.core.rules.helpers import (
    NOW,
    attachment,
    context,
    criterion,
    decision_maker,
    event,
)


def test_it_counts_decision_makers_who_attended() -> None:
    rule = criterion(
        {
            "label": {"zh": "决策人参与", "en": "Decision-makers attended"},
            "count": {
                "of": "contacts",
                "where": {"is_decision_maker": True, "attended": True},
                "at_least": 2,
            },
        }
    )
    ctx = context(contacts=(decision_maker("王总"), decision_maker("李总", attended=False)))

    result = rule.evaluate(ctx)

    assert not result.met
    assert result.explanation.zh == "决策人参与 1/2 人"
    assert result.explanation.en == "Decision-makers attended: 1/2"


def test_it_meets_the_count_when_enough_contacts_match() -> None:
    rule = criterion(
        {
            "count": {
                "of": "contacts",
                "where": {"is_decision_maker": True, "attended": True},
                "at_least": 2,
            }
        }
    )
    ctx = context(contacts=(decision_maker("王总"), decision_maker("李总")))

    assert rule.test(ctx)
    assert rule.evaluate(ctx).met


def test_it_filters_contacts_by_a_specific_meeting() -> None:
    rule = criterion({"count": {"of": "contacts", "where": {"attended": "kickoff"}}})
    ctx = context(contacts=(ContactData("王总", attended=frozenset({"kickoff"})),))

    assert rule.evaluate(ctx).met
    assert not rule.test(context(contacts=(decision_maker("李总"),)))


def test_it_filters_contacts_by_declared_role() -> None:
    rule = criterion({"count": {"of": "contacts", "where": {"role": ["cto", "cfo"]}}})

    assert rule.test(context(contacts=(ContactData("王总", role="cfo"),)))
    assert not rule.test(context(contacts=(ContactData("王总", role="plant_manager"),)))


def test_it_rejects_an_undeclared_contact_role_in_a_filter() -> None:
    with pytest.raises(PlaybookInvalid, match="unknown contact role 'ctoo'"):
        criterion({"count": {"of": "contacts", "where": {"role": "ctoo"}}})


def test_it_counts_only_recent_events_when_a_window_is_given() -> None:
    rule = criterion(
        {
            "count": {
                "of": "events",
                "where": {"type": "chat.message"},
                "within": "72h",
                "at_least": 2,
            }
        }
    )
    ctx = context(events=(event("chat.message", hours_ago=5), event("chat.message", hours_ago=80)))

    result = rule.evaluate(ctx)

    assert not result.met
    assert result.explanation.zh.endswith("1/2 次")


def test_it_says_the_meeting_minutes_are_not_uploaded() -> None:
    rule = criterion({"attachment": {"kind": "meeting_minutes"}})

    result = rule.evaluate(context())

    assert not result.met
    assert result.explanation.zh == "会议纪要未上传"
    assert result.explanation.en == "Meeting minutes not uploaded"


def test_it_accepts_an_uploaded_attachment_and_records_when() -> None:
    rule = criterion({"attachment": {"kind": "meeting_minutes"}})
    upload = attachment("meeting_minutes")

    result = rule.evaluate(context(attachments=(upload,)))

    assert result.met
    assert result.evidence["uploaded_at"] == upload.uploaded_at


def test_it_refuses_an_attachment_of_a_type_not_allowed() -> None:
    rule = criterion({"attachment": {"kind": "signed_quote", "types": ["pdf", "jpg"]}})
    ctx = context(attachments=(attachment("signed_quote", "image/png"),))

    result = rule.evaluate(ctx)

    assert not result.met
    assert result.explanation.zh == "签字报价单格式不符(仅限 PDF/JPG)"


def test_it_accepts_a_jpeg_scan_when_jpg_is_allowed() -> None:
    rule = criterion({"attachment": {"kind": "signed_quote", "types": ["pdf", "jpg"]}})

    assert rule.test(context(attachments=(attachment("signed_quote", "image/jpeg"),)))


def test_it_requires_enough_extracted_text() -> None:
    rule = criterion({"attachment": {"kind": "meeting_minutes", "min_chars": 300}})
    ctx = context(attachments=(attachment("meeting_minutes", "text/plain", chars=120),))

    result = rule.evaluate(ctx)

    assert not result.met
    assert result.explanation.zh == "会议纪要文字不足 300 字(当前 120 字)"


def test_it_says_the_text_is_still_being_extracted_rather_than_too_short() -> None:
    rule = criterion({"attachment": {"kind": "meeting_minutes", "min_chars": 300}})
    pending = replace(attachment("meeting_minutes", "text/plain", chars=0), text_pending=True)

    result = rule.evaluate(context(attachments=(pending,)))

    assert not result.met
    assert (
        result.explanation.en
        == "Meeting minutes: text is still being extracted, check again shortly"
    )


def test_it_requires_the_upload_within_the_window() -> None:
    rule = criterion({"attachment": {"kind": "meeting_minutes", "within": "24h"}})

    assert not rule.test(context(attachments=(attachment("meeting_minutes", hours_ago=30),)))
    assert rule.test(context(attachments=(attachment("meeting_minutes", hours_ago=3),)))


def test_it_rejects_an_unknown_file_type_name() -> None:
    with pytest.raises(PlaybookInvalid, match="unknown file type 'pdff'"):
        criterion({"attachment": {"kind": "signed_quote", "types": ["pdff"]}})


def test_it_captures_the_time_the_customer_wrote_confirmed() -> None:
    rule = criterion({"event": {"type": "chat.message", "text_contains": "已确认"}})
    said = event("chat.message", hours_ago=6, text="好的,方案已确认")
    ctx = context(events=(event("chat.message", hours_ago=2, text="收到"), said))

    result = rule.evaluate(ctx)

    assert result.met
    assert result.evidence["occurred_at"] == said.occurred_at
    assert result.explanation.zh == "聊天消息「已确认」:2025-03-03 04:00"


def test_it_words_the_time_in_the_zone_of_the_context_whatever_zone_the_event_was_given_in() -> (
    None
):
    rule = criterion({"event": {"type": "chat.message", "text_contains": "已确认"}})
    said = event("chat.message", hours_ago=6, text="已确认")
    in_utc = EventData(said.type, said.occurred_at.astimezone(UTC), said.payload)

    assert (
        rule.evaluate(context(events=(in_utc,))).explanation.zh
        == "聊天消息「已确认」:2025-03-03 04:00"
    )
    assert rule.evaluate(replace(context(events=(said,)), zone=UTC)).explanation.en.endswith(
        "2025-03-02 20:00"
    )


def test_it_records_the_latest_matching_event() -> None:
    rule = criterion({"event": {"type": "chat.message", "text_contains": "已确认"}})
    early = event("chat.message", hours_ago=30, text="已确认")
    late = event("chat.message", hours_ago=3, text="再次已确认")

    result = rule.evaluate(context(events=(early, late)))

    assert result.evidence["occurred_at"] == late.occurred_at


def test_it_says_no_matching_event_happened() -> None:
    rule = criterion(
        {"event": {"type": "chat.message", "text_contains": "已确认", "within": "72h"}}
    )

    result = rule.evaluate(context(events=(event("chat.message", hours_ago=100, text="已确认"),)))

    assert not result.met
    assert result.explanation.zh == "聊天消息「已确认」:近 3 天内无记录"
    assert result.explanation.en == "Chat message “已确认”: none in the last 3 days"


def test_it_matches_event_payload_values() -> None:
    rule = criterion({"event": {"type": "chat.message", "payload": {"from_customer": True}}})

    assert rule.test(context(events=(event("chat.message", from_customer=True),)))
    assert not rule.test(context(events=(event("chat.message", from_customer=False),)))


def test_it_rejects_an_unknown_event_type() -> None:
    with pytest.raises(PlaybookInvalid, match=r"did you mean 'chat\.message'"):
        criterion({"event": {"type": "chat.mesage"}})


def test_it_checks_a_boolean_field() -> None:
    rule = criterion({"field": "budget_confirmed", "eq": True})

    assert rule.evaluate(context(fields={"budget_confirmed": True})).explanation.zh == (
        "预算范围已确认:是"
    )
    assert rule.evaluate(context(fields={"budget_confirmed": False})).explanation.en == (
        "Budget range confirmed: no"
    )


def test_it_says_a_field_is_not_set() -> None:
    rule = criterion({"field": "budget_confirmed", "eq": True})

    result = rule.evaluate(context())

    assert not result.met
    assert result.explanation.zh == "预算范围已确认未填写"


def test_it_checks_a_choice_field_against_a_list() -> None:
    rule = criterion(
        {"field": "signer_role", "in": ["cto", "purchasing_director", "plant_manager"]}
    )

    met = rule.evaluate(context(fields={"signer_role": "purchasing_director"}))
    unmet = rule.evaluate(context(fields={"signer_role": "cfo"}))

    assert met.met
    assert met.explanation.zh == "客户签字人职务:采购总监"
    assert not unmet.met
    assert unmet.explanation.zh == "客户签字人职务为财务总监,需为以下之一:CTO、采购总监、生产厂长"


def test_it_accepts_a_choice_written_by_its_name() -> None:
    rule = criterion({"field": "signer_role", "eq": "采购总监"})

    assert rule.test(context(fields={"signer_role": "purchasing_director"}))


def test_it_compares_money_as_decimal() -> None:
    rule = criterion({"field": "deal.amount", "gte": 100000})

    assert rule.test(context(amount=Decimal("100000.00")))
    result = rule.evaluate(context(amount=Decimal("99999.99")))
    assert not result.met
    assert result.explanation.zh == "金额为 99,999.99,需 ≥ 100,000"


def test_it_compares_dates() -> None:
    playbook_field = criterion({"field": "deal.expected_close_date", "lte": date(2025, 6, 30)})
    from lodestar.core.rules import DealContext, DealData

    soon = DealContext(DealData("demo", expected_close_date=date(2025, 5, 1)), NOW)
    late = DealContext(DealData("demo", expected_close_date=date(2025, 7, 1)), NOW)

    assert playbook_field.test(soon)
    assert not playbook_field.test(late)


def test_it_checks_that_a_field_is_set() -> None:
    rule = criterion({"field": "signing_period", "is_set": True})

    assert not rule.test(context())
    result = rule.evaluate(context(fields={"signing_period": "within_3m"}))
    assert result.met
    assert result.explanation.zh == "预计签约周期已填写:3个月内"


def test_it_treats_a_value_of_the_wrong_type_as_unmet_with_an_error() -> None:
    rule = criterion({"field": "legal_review_overdue_days", "gt": 3})

    result = rule.evaluate(context(fields={"legal_review_overdue_days": "many"}))

    assert not result.met
    assert result.error == "wrong value type"
    assert not rule.test(context(fields={"legal_review_overdue_days": "many"}))


def test_it_rejects_an_operator_that_does_not_fit_the_field_type() -> None:
    with pytest.raises(PlaybookInvalid, match="'gt' does not apply to the boolean field"):
        criterion({"field": "budget_confirmed", "gt": 1})


def test_it_rejects_a_value_of_the_wrong_type_at_compile_time() -> None:
    with pytest.raises(PlaybookInvalid, match="'soon' is not a number"):
        criterion({"field": "deal.amount", "gt": "soon"})


def test_it_requires_every_child_of_all() -> None:
    rule = criterion(
        {
            "all": [
                {"field": "budget_confirmed", "eq": True},
                {"attachment": {"kind": "meeting_minutes"}},
            ]
        }
    )

    result = rule.evaluate(context(fields={"budget_confirmed": True}))

    assert not result.met
    assert result.explanation.zh == "会议纪要未上传"
    assert [child.met for child in result.children] == [True, False]


def test_it_meets_any_when_one_child_is_met() -> None:
    rule = criterion(
        {
            "any": [
                {"attachment": {"kind": "signed_quote"}},
                {"event": {"type": "approval.sealed"}},
            ]
        }
    )

    assert rule.evaluate(context(events=(event("approval.sealed"),))).met
    assert not rule.test(context())


def test_it_negates_with_not() -> None:
    rule = criterion({"not": {"field": "signer_role", "eq": "legal_counsel"}})

    assert rule.test(context(fields={"signer_role": "cto"}))
    assert not rule.evaluate(context(fields={"signer_role": "legal_counsel"})).met


def test_it_gives_nested_criteria_ids_under_their_parent() -> None:
    rule = criterion({"id": "ready", "all": [{"field": "budget_confirmed", "eq": True}]})

    result = rule.evaluate(context())

    assert result.children[0].id == "ready.budget_confirmed"


def test_it_keeps_a_result_json_ready_for_the_gate_snapshot() -> None:
    rule = criterion({"event": {"type": "chat.message"}})

    data = rule.evaluate(context(events=(event("chat.message", hours_ago=1),))).as_dict()

    assert data["evidence"] == {"occurred_at": (NOW - timedelta(hours=1)).isoformat()}
    assert data["explanation"]["zh"].startswith("聊天消息")
