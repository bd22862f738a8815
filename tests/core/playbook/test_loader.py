"""Loading playbook YAML: every problem comes back located (file, line, column, path, hint)."""

from __future__ import annotations

import pytest

from lodestar.core.errors import LodestarError
from lodestar.core.playbook import LocatedError, PlaybookInvalid, check_playbook, load_playbook
from tests.core.samples import SEED_PLAYBOOK


def _errors(text: str) -> list[LocatedError]:
    return check_playbook(text, "seed.yaml")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_it_loads_the_seed_playbook() -> None:
    playbook = load_playbook(SEED_PLAYBOOK, "seed.yaml")

    assert [s.key for s in playbook.stages][:4] == [
        "first_contact",
        "demo",
        "tech_confirmed",
        "quote",
    ]
    assert playbook.stage("demo").target_dwell is not None
    assert playbook.stage("won").terminal == "won"


def test_it_applies_the_seed_defaults_to_sections_left_out() -> None:
    playbook = load_playbook(SEED_PLAYBOOK, "seed.yaml")

    assert playbook.health.threshold == 70
    assert playbook.scorecard.min_chars == 300
    assert playbook.scorecard.upload_within.total_seconds() == 24 * 3600
    assert (playbook.scorecard.threshold, playbook.scorecard.consecutive_below) == (75, 3)
    assert playbook.risks.backward_moves.at_least == 2
    assert playbook.risks.silence.after.total_seconds() == 72 * 3600
    assert playbook.risks.stale.after.days == 47


def test_it_raises_one_core_error_listing_every_problem() -> None:
    bad = SEED_PLAYBOOK.replace("field: budget_confirmed", "field: budjet").replace(
        "on: demo.held", "on: demo.hold"
    )

    with pytest.raises(PlaybookInvalid) as caught:
        load_playbook(bad, "seed.yaml")

    assert isinstance(caught.value, LodestarError)
    assert len(caught.value.errors) == 2


def test_it_suggests_the_closest_field_for_an_unknown_field() -> None:
    bad = SEED_PLAYBOOK.replace("field: budget_confirmed", "field: budjet")

    (error,) = _errors(bad)

    assert error.path == "stages[1].exit[1].field"
    assert error.message == "unknown field 'budjet'"
    assert error.hint == "did you mean 'budget_confirmed'?"
    assert (error.file, error.line) == ("seed.yaml", _line_of(bad, "field: budjet"))
    assert error.column == bad.splitlines()[error.line - 1].index("budjet") + 1


def test_it_points_at_an_unknown_key_and_suggests_the_allowed_one() -> None:
    bad = SEED_PLAYBOOK.replace("{kind: meeting_minutes}", "{kind: meeting_minutes, typs: [pdf]}")

    (error,) = _errors(bad)

    assert error.path == "stages[1].exit[2].attachment.typs"
    assert error.message == "unknown key 'typs'"
    assert error.hint == "did you mean 'types'?"
    assert error.line == _line_of(bad, "typs")


def test_it_names_the_criterion_kinds_when_a_criterion_has_none() -> None:
    bad = SEED_PLAYBOOK.replace("        field: budget_confirmed", "        fild: budget_confirmed")

    errors = _errors(bad)

    assert any(e.path == "stages[1].exit[1]" and e.hint == "did you mean 'field'?" for e in errors)


def test_it_suggests_the_allowed_value_for_a_bad_field_type() -> None:
    bad = SEED_PLAYBOOK.replace("type: boolean", "type: boolen")

    (error,) = _errors(bad)

    assert error.path == "fields[0].type"
    assert error.hint == "did you mean 'boolean'?"


def test_it_reports_a_missing_required_key_at_its_mapping() -> None:
    bad = SEED_PLAYBOOK.replace("    name: {zh: 产品演示, en: Product demo}\n", "")

    (error,) = _errors(bad)

    assert error.path == "stages[1].name"
    assert error.message == "missing required key 'name'"
    assert error.line == _line_of(bad, "- key: demo")


def test_it_reports_a_yaml_syntax_error_with_its_position() -> None:
    bad = SEED_PLAYBOOK.replace("probability: 0.3", "probability: [0.3")

    (error,) = _errors(bad)

    assert error.path == "(file)"
    assert error.line >= _line_of(bad, "probability: [0.3")


def test_it_reports_a_duplicate_key_as_a_yaml_error() -> None:
    bad = SEED_PLAYBOOK.replace(
        "    probability: 0.3\n", "    probability: 0.3\n    probability: 0.4\n"
    )

    (error,) = _errors(bad)

    assert "duplicate key" in error.message
    assert error.hint == "each key may appear only once in a mapping"


def test_it_rejects_a_file_that_is_not_a_mapping() -> None:
    (error,) = _errors("- just\n- a list\n")

    assert (error.line, error.column) == (1, 1)


def test_it_reports_a_bad_duration_with_the_accepted_forms() -> None:
    bad = SEED_PLAYBOOK.replace("due: 24h", "due: 24 hours")

    (error,) = _errors(bad)

    assert error.path == "triggers[1].task.due"
    assert "36h" in error.message


def test_it_reports_a_trigger_on_an_undeclared_event_type() -> None:
    bad = SEED_PLAYBOOK.replace("on: demo.held", "on: demo.hold")

    (error,) = _errors(bad)

    assert error.path == "triggers[1].on"
    assert error.hint == "did you mean 'demo.held'?"


def test_it_reports_an_unknown_choice_with_the_closest_one() -> None:
    bad = SEED_PLAYBOOK.replace(
        "purchasing_director, plant_manager]", "purchasing_directer, plant_manager]"
    )

    (error,) = _errors(bad)

    assert error.path == "stages[2].exit[1].in[1]"
    assert error.hint == "did you mean 'purchasing_director'?"


def test_it_reports_an_unknown_attachment_kind() -> None:
    bad = SEED_PLAYBOOK.replace("{kind: meeting_minutes}", "{kind: meeting_minute}")

    (error,) = _errors(bad)

    assert error.message == "unknown attachment kind 'meeting_minute'"
    assert error.hint == "did you mean 'meeting_minutes'?"


def test_it_places_a_cel_error_at_its_column_in_the_file() -> None:
    bad = SEED_PLAYBOOK.replace('"deal.amount >= 10000.0"', '"deal.amunt >= 10000.0"')

    (error,) = _errors(bad)

    line = bad.splitlines()[error.line - 1]
    assert error.path == "stages[3].exit[1].cel"
    assert line[error.column - 1 :].startswith("deal.amunt")
    assert error.hint == "did you mean 'deal.amount'?"


def test_it_places_a_cel_error_inside_a_block_scalar() -> None:
    bad = SEED_PLAYBOOK.replace(
        'cel: "deal.amount >= 10000.0"',
        'cel: |\n          deal.amount >= 10000.0 &&\n            fields.signr_role == "cto"',
    )

    (error,) = _errors(bad)

    assert error.line == _line_of(bad, "fields.signr_role")
    assert error.hint == "did you mean 'fields.signer_role'?"


def test_it_explains_that_cel_does_not_mix_ints_and_doubles() -> None:
    bad = SEED_PLAYBOOK.replace('"deal.amount >= 10000.0"', '"deal.amount >= 10000"')

    (error,) = _errors(bad)

    assert "10000.0" in (error.hint or "")


def test_it_rejects_a_typo_in_a_cel_list_item_key_at_load_time() -> None:
    bad = SEED_PLAYBOOK.replace(
        '"deal.amount >= 10000.0"', '"contacts.exists(c, c.is_decison_maker)"'
    )

    (error,) = _errors(bad)

    assert error.message == "list items have no key 'is_decison_maker'"
    assert error.hint == "did you mean 'is_decision_maker'?"


def test_it_rejects_a_cel_condition_that_is_not_true_or_false() -> None:
    bad = SEED_PLAYBOOK.replace('"deal.amount >= 10000.0"', '"deal.amount * 2.0"')

    (error,) = _errors(bad)

    assert "must give true/false" in error.message


def test_it_type_checks_the_forecast_formula() -> None:
    bad = SEED_PLAYBOOK.replace("- legal_review_overdue_days * 0.3", "- legal_review_days * 0.3")

    (error,) = _errors(bad)

    assert error.path == "forecast.formula"
    assert error.hint == "did you mean 'legal_review_overdue_days'?"


def test_it_collects_errors_from_several_places_in_file_order() -> None:
    bad = (
        SEED_PLAYBOOK.replace("field: budget_confirmed", "field: budjet")
        .replace("{kind: meeting_minutes}", "{kind: meeting_minute}")
        .replace('"deal.amount >= 10000.0"', '"deal.amunt >= 10000.0"')
    )

    errors = _errors(bad)

    assert len(errors) == 3
    assert [e.line for e in errors] == sorted(e.line for e in errors)


def test_it_formats_a_located_error_as_one_line() -> None:
    bad = SEED_PLAYBOOK.replace("field: budget_confirmed", "field: budjet")

    (error,) = _errors(bad)

    assert str(error) == (
        f"seed.yaml:{error.line}:{error.column}: stages[1].exit[1].field: "
        "unknown field 'budjet' — did you mean 'budget_confirmed'?"
    )


def test_it_says_how_many_stages_a_playbook_needs() -> None:
    (error,) = _errors("key: x\nname: y\nstages: []\n")

    assert (error.path, error.message) == ("stages", "needs at least 2 entries (has 0)")


def test_it_stops_an_alias_bomb_with_a_located_error() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdef", "abcde", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")

    (error,) = _errors("\n".join(levels) + "\n")

    assert error.message == "the file expands to too many values"


def test_it_follows_yaml_merge_keys() -> None:
    text = SEED_PLAYBOOK.replace(
        "  - key: first_contact\n", "  - &base\n    key: first_contact\n"
    ).replace(
        "  - key: demo\n    name: {zh: 产品演示, en: Product demo}\n",
        "  - <<: *base\n    key: demo\n    name: {zh: 产品演示, en: Product demo}\n",
    )

    assert load_playbook(text, "seed.yaml").stage("demo").probability == 0.3
