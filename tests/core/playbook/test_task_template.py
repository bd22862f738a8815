"""Trigger task templates: clock, department and the events that close the task."""

from lodestar.core.playbook import check_playbook, load_playbook

PLAYBOOK = """\
key: p
name: P
stages:
  - {key: demo, name: 演示}
  - {key: won, name: 赢单, terminal: won}
triggers:
  - id: proposal
    on: demo.held
    task:
      title: 发送定制化方案
      due: 24h
      clock: business
      department: presales
      closes_on: [CLOSING]
"""


def test_it_reads_clock_department_and_closing_events() -> None:
    playbook = load_playbook(PLAYBOOK.replace("CLOSING", "proposal.sent"))
    task = playbook.triggers[0].task
    assert (task.clock, task.department, task.closes_on) == (
        "business",
        "presales",
        ("proposal.sent",),
    )


def test_it_locates_an_unknown_closing_event_with_a_hint() -> None:
    errors = check_playbook(PLAYBOOK.replace("CLOSING", "proposal.snt"))
    assert len(errors) == 1
    error = errors[0]
    assert (error.line, error.path) == (14, "triggers[0].task.closes_on[0]")
    assert "unknown event type 'proposal.snt'" in error.message
    assert error.hint == "did you mean 'proposal.sent'?"


def test_it_defaults_to_the_wall_clock_with_no_closing_events() -> None:
    playbook = load_playbook(
        PLAYBOOK.replace("      clock: business\n", "").replace("CLOSING", "call")
    )
    assert playbook.triggers[0].task.clock == "wall"
