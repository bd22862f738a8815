"""Playbook event types extend the built-in catalogue, with their payload checks."""

from lodestar.core.playbook import event_catalogue, load_playbook

PLAYBOOK = """\
key: p
name: P
event_types:
  - key: inspection.done
    name: {zh: 巡检完成, en: Inspection done}
    with_customer: false
    payload:
      - {name: report_no, type: text, required: true}
      - {name: findings, type: number}
stages:
  - {key: open, name: 进行中}
  - {key: won, name: 赢单, terminal: won}
"""


def test_it_accepts_the_playbooks_own_event_types_next_to_the_built_in_ones() -> None:
    catalogue = event_catalogue([load_playbook(PLAYBOOK)])
    assert "inspection.done" in catalogue
    assert "demo.booked" in catalogue
    assert catalogue.get("inspection.done").with_customer is False


def test_it_checks_the_payload_a_playbook_type_declares() -> None:
    spec = event_catalogue([load_playbook(PLAYBOOK)]).get("inspection.done")
    problems = spec.check_payload({"findings": "many"})
    assert {p.path for p in problems} == {"payload.report_no", "payload.findings"}
    assert spec.check_payload({"report_no": "XJ-7", "findings": 2}) == []


def test_it_keeps_the_first_declaration_when_two_playbooks_declare_a_type() -> None:
    other = PLAYBOOK.replace("with_customer: false", "with_customer: true").replace(
        "key: p\n", "key: q\n"
    )
    catalogue = event_catalogue([load_playbook(PLAYBOOK), load_playbook(other)])
    assert catalogue.get("inspection.done").with_customer is False
