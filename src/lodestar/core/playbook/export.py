"""Playbook → YAML text (for ``lodestar playbook export`` and the designer's "download")."""

from __future__ import annotations

import io

from ruamel.yaml import YAML

from lodestar.core.playbook.model import Playbook

__all__ = ["dump_playbook"]


def dump_playbook(playbook: Playbook) -> str:
    """YAML text that :func:`~lodestar.core.playbook.load_playbook` reads back to an equal
    playbook. Values equal to their defaults are left out, so the text stays short."""
    data = playbook.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.default_flow_style = False
    # Keep the sections in model order (ruamel's annotation only admits None here).
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
