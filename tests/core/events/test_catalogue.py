import pytest

from lodestar.core.errors import LodestarError
from lodestar.core.events import CATALOGUE, EventTypeSpec, PayloadField, UnknownEventType


def test_it_knows_the_seed_event_types() -> None:
    for key in ("demo.booked", "demo.held", "proposal.sent", "customer.confirmed", "chat.message"):
        assert key in CATALOGUE


def test_it_counts_calls_as_customer_interaction_but_not_minutes_uploads() -> None:
    assert CATALOGUE.get("call").with_customer
    assert not CATALOGUE.get("minutes.uploaded").with_customer


def test_it_names_the_known_types_when_a_type_is_unknown() -> None:
    with pytest.raises(UnknownEventType, match=r"unknown event type 'demo\.boked'.*demo\.booked"):
        CATALOGUE.get("demo.boked")


def test_it_reports_a_missing_required_payload_key_with_its_path() -> None:
    problems = CATALOGUE.get("chat.message").check_payload({"platform": "wecom"})
    assert [(p.path, "need 'text'" in p.message) for p in problems] == [("payload.text", True)]


def test_it_reports_a_payload_value_of_the_wrong_type() -> None:
    problems = CATALOGUE.get("meeting.held").check_payload({"attendee_contact_ids": [1, "2"]})
    assert problems[0].path == "payload.attendee_contact_ids"
    assert "list of integer ids" in problems[0].message


def test_it_keeps_unknown_payload_keys_without_complaint() -> None:
    assert CATALOGUE.get("call").check_payload({"minutes": 5, "crm_extra": {"a": 1}}) == []


def test_it_extends_with_playbook_types_but_refuses_to_redefine_a_built_in() -> None:
    extra = EventTypeSpec(
        "inspection.done", "巡检完成", "Inspection done", True, (PayloadField("report", "text"),)
    )
    assert "inspection.done" in CATALOGUE.extended([extra])
    with pytest.raises(LodestarError, match="built in"):
        CATALOGUE.extended([EventTypeSpec("call", "电话", "Call", True)])


def test_it_refuses_a_badly_spelled_playbook_type() -> None:
    with pytest.raises(LodestarError, match="lower-case"):
        CATALOGUE.extended([EventTypeSpec("Inspection Done", "巡检", "Inspection", True)])
