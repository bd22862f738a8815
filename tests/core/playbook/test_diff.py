"""Diffing two playbook versions into readable changes."""

from __future__ import annotations

from lodestar.core.playbook import Change, diff_playbooks, load_playbook
from tests.core.samples import SEED_PLAYBOOK


def _diff(new_text: str) -> list[Change]:
    return diff_playbooks(
        load_playbook(SEED_PLAYBOOK, "old.yaml"), load_playbook(new_text, "new.yaml")
    )


def test_it_finds_no_changes_between_equal_playbooks() -> None:
    assert _diff(SEED_PLAYBOOK) == []


def test_it_reports_a_changed_criterion_threshold() -> None:
    (change,) = _diff(SEED_PLAYBOOK.replace("at_least: 2", "at_least: 3"))

    assert change.kind == "changed"
    assert change.path == "stages.demo.exit.decision_makers"
    assert change.before == "count contacts(is_decision_maker=true, attended=true) ≥ 2"
    assert change.after == "count contacts(is_decision_maker=true, attended=true) ≥ 3"


def test_it_reports_an_added_and_a_removed_criterion() -> None:
    new = SEED_PLAYBOOK.replace(
        "      - id: minutes\n        attachment: {kind: meeting_minutes}\n",
        "      - id: minutes_300\n        attachment: {kind: meeting_minutes, min_chars: 300}\n",
    )

    changes = {(c.kind, c.path) for c in _diff(new)}

    assert changes == {
        ("removed", "stages.demo.exit.minutes"),
        ("added", "stages.demo.exit.minutes_300"),
    }


def test_it_reports_a_new_stage_and_the_new_order() -> None:
    new = SEED_PLAYBOOK.replace(
        "  - key: quote\n",
        "  - key: poc\n    name: {zh: POC 测试, en: POC}\n    probability: 0.6\n  - key: quote\n",
    )

    changes = _diff(new)

    assert [(c.kind, c.path) for c in changes] == [("added", "stages.poc")]


def test_it_reports_moved_stages() -> None:
    new = SEED_PLAYBOOK.replace("  - key: won\n", "  - key: won_tmp\n")
    old_order = load_playbook(SEED_PLAYBOOK, "old.yaml")
    reordered = old_order.model_copy(
        update={"stages": (old_order.stages[1], old_order.stages[0], *old_order.stages[2:])}
    )

    changes = diff_playbooks(old_order, reordered)

    assert [c.kind for c in changes] == ["moved"]
    assert changes[0].after.startswith("demo → first_contact")
    assert new  # the rename variant is covered by the added/removed test


def test_it_reports_a_trigger_deadline_change_in_both_languages() -> None:
    (change,) = _diff(SEED_PLAYBOOK.replace("due: 24h", "due: 12h"))

    assert change.path == "triggers.proposal"
    assert "due 24h" in (change.before or "")
    assert "due 12h" in (change.after or "")
    assert change.text_zh.startswith("修改触发器「proposal」")


def test_it_reports_policy_values_leaf_by_leaf() -> None:
    (change,) = _diff(SEED_PLAYBOOK + "health:\n  threshold: 65\n")

    assert (change.path, change.before, change.after) == ("health.threshold", "70.0", "65.0")


def test_it_reports_a_new_field_choice() -> None:
    (change,) = _diff(
        SEED_PLAYBOOK.replace("choices: [erp, mes, wecom]", "choices: [erp, mes, wecom, crm]")
    )

    assert (change.kind, change.path) == ("added", "fields.integrations.choices.crm")


def test_it_renders_a_change_as_one_line() -> None:
    (change,) = _diff(SEED_PLAYBOOK.replace("probability: 0.3", "probability: 0.35"))

    assert str(change) == "stages.demo.probability: changed probability of stage 'demo': 0.3 → 0.35"
