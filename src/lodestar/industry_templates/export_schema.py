"""Write the playbook JSON Schema for editors.

Run ``python -m lodestar.industry_templates.export_schema [PATH]``.

The schema comes from :func:`lodestar.core.playbook.playbook_json_schema`; the file it writes
(``docs/playbook.schema.json`` by default) is checked to be current by the template tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lodestar.core.playbook import playbook_json_schema

__all__ = ["DEFAULT_PATH", "schema_text", "write_schema"]

DEFAULT_PATH = Path("docs/playbook.schema.json")


def schema_text() -> str:
    """The schema as it is stored: UTF-8 JSON, two-space indent, keys in model order."""
    return json.dumps(playbook_json_schema(), ensure_ascii=False, indent=2) + "\n"


def write_schema(path: Path = DEFAULT_PATH) -> Path:
    path.write_text(schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover - a command-line entry
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    print(write_schema(target))
