"""The JSON Schema editors use to check playbook files."""

from __future__ import annotations

import json
from typing import Any

from lodestar.core.playbook import playbook_json_schema


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_it_is_plain_json() -> None:
    schema = playbook_json_schema()

    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"].endswith("2020-12/schema")


def test_it_describes_every_section_of_the_file() -> None:
    properties = playbook_json_schema()["properties"]

    assert {"stages", "fields", "triggers", "sla", "risks", "health", "scorecard"} <= set(
        properties
    )
    assert {"required_actions", "forecast", "event_types", "attachment_kinds"} <= set(properties)


def test_every_reference_resolves() -> None:
    schema = playbook_json_schema()

    for ref in _refs(schema):
        assert ref.removeprefix("#/$defs/") in schema["$defs"]


def test_it_accepts_a_bare_string_for_a_bilingual_name() -> None:
    text = playbook_json_schema()["$defs"]["Text"]

    assert {"type": "string", "minLength": 1} in text["anyOf"]


def test_it_offers_each_criterion_kind_for_exit_criteria() -> None:
    exit_items = playbook_json_schema()["$defs"]["Stage"]["properties"]["exit"]["items"]

    assert len(exit_items["oneOf"]) == 8


def test_it_writes_keys_as_they_appear_in_yaml() -> None:
    field_criterion = playbook_json_schema()["$defs"]["FieldCriterion"]["properties"]

    assert "in" in field_criterion
    assert "in_" not in field_criterion


def test_it_describes_durations_as_text_with_a_unit() -> None:
    due = playbook_json_schema()["$defs"]["TaskTemplate"]["properties"]["due"]

    assert due["type"] == "string"
    assert "pattern" in due
