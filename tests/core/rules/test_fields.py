"""Stored custom field values (JSON) are typed by the playbook before evaluation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lodestar.core.rules import field_values_from_json
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
