"""Stored custom field values (JSON) are typed by the playbook before evaluation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lodestar.core.rules import check_field_values, field_values_from_json
from tests.core.rules.helpers import seed_playbook


def test_it_types_stored_values_by_their_field_definitions() -> None:
    values, problems = field_values_from_json(
        seed_playbook(),
        {
            "budget_amount": "120000.50",
            "poc_date": "2025-04-01",
            "integrations": ["mes", "erp"],
            "budget_confirmed": True,
            "signer_role": "cto",
        },
    )

    assert values == {
        "budget_amount": Decimal("120000.50"),
        "poc_date": date(2025, 4, 1),
        "integrations": ("erp", "mes"),
        "budget_confirmed": True,
        "signer_role": "cto",
    }
    assert problems == {}


def test_it_leaves_out_a_value_that_does_not_fit_and_says_why() -> None:
    values, problems = field_values_from_json(
        seed_playbook(), {"poc_date": "next week", "budget_confirmed": "yes"}
    )

    assert values == {}
    assert set(problems) == {"poc_date", "budget_confirmed"}


def test_it_ignores_keys_the_playbook_does_not_declare() -> None:
    values, problems = field_values_from_json(seed_playbook(), {"colour": "red"})

    assert (values, problems) == ({}, {})


def test_it_treats_empty_stored_values_as_not_set() -> None:
    values, _ = field_values_from_json(seed_playbook(), {"competitor": "", "integrations": []})

    assert values == {}


def test_it_accepts_values_that_fit_their_fields() -> None:
    assert (
        check_field_values(seed_playbook(), {"budget_confirmed": True, "signing_period": None})
        == {}
    )


def test_it_names_an_unknown_field_with_a_spelling_hint() -> None:
    problems = check_field_values(seed_playbook(), {"budjet_confirmed": True})
    assert "did you mean 'budget_confirmed'?" in problems["budjet_confirmed"].en
    assert "是否要填“budget_confirmed”" in problems["budjet_confirmed"].zh


def test_it_refuses_a_value_of_the_wrong_type() -> None:
    problems = check_field_values(seed_playbook(), {"budget_confirmed": "yes"})
    assert problems["budget_confirmed"].en.startswith("'yes' is not a valid boolean value")
    assert "应为是或否" in problems["budget_confirmed"].zh


def test_it_refuses_a_choice_key_that_is_not_in_the_list() -> None:
    problems = check_field_values(seed_playbook(), {"signing_period": "within_2m"})
    assert problems["signing_period"].en.startswith(
        "'within_2m' is not one of: within_1m, within_3m"
    )
    assert problems["signing_period"].zh.startswith("“within_2m”不是“预计签约周期”的可选项")


def test_it_checks_contact_roles_against_the_playbooks_role_list() -> None:
    assert check_field_values(seed_playbook(), {"signer_role": "cto"}) == {}
    assert (
        "not one of"
        in check_field_values(seed_playbook(), {"signer_role": "ceo"})["signer_role"].en
    )
