"""JSON Schema of the playbook file, for editors (YAML language servers) and the designer."""

from __future__ import annotations

from typing import Any

from lodestar.core.playbook.model import Playbook

__all__ = ["playbook_json_schema"]

SCHEMA_ID = "https://lodestar.invalid/schemas/playbook.json"


def playbook_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a playbook file, with keys as they are written."""
    schema = Playbook.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Lodestar playbook",
        **schema,
    }
