"""Unknown columns of a deals file become custom fields of the playbook.

A deal's custom fields are defined by the playbook it follows (`fields:` in its YAML), so the
columns a deals file brings that the playbook lacks are added there: each published playbook
of the organization (its own and any team's) gets the missing definitions in a new version,
published through the playbooks services (validated, numbered, audited with the diff), and a
choice field the playbook has already gets the file's new choices. The YAML is edited round-trip,
so its comments and layout stay as ops wrote them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML

from lodestar.core.imports.mapping import CustomField
from lodestar.core.rules.results import Bilingual
from lodestar.org.models import User
from lodestar.playbooks.selectors import compiled_for_version, published_versions
from lodestar.playbooks.services import playbook_draft_create, playbook_publish

__all__ = ["deal_fields_publish"]

_TYPES = {"number": "number", "date": "date", "boolean": "boolean", "choice": "choice"}


def _definition(custom: CustomField) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "key": custom.key,
        "type": _TYPES.get(custom.type, "text"),
        "name": {"zh": custom.label.zh or custom.key, "en": custom.label.en or custom.key},
    }
    if definition["type"] == "choice":
        definition["choices"] = [choice[:64] for choice in custom.choices]
    return definition


def deal_fields_publish(
    *, user: User, organization_id: int, customs: Sequence[CustomField], batch_id: int
) -> list[Bilingual]:
    """Add the custom fields the playbooks lack (and new choices of choice fields) as a new
    published version of each; returns what was done, in words, for the batch's report.

    Without a published playbook nothing can define them: the values are still kept on the
    deals, and the report says so.
    """
    if not customs:
        return []
    versions = published_versions(organization_id=organization_id).all()
    if not versions:
        return [
            Bilingual(
                "尚未发布销售流程:自定义列的值保存在商机上,但没有字段定义;发布流程后再导入一次即可补上。",
                "No playbook is published: the custom columns' values are kept on the deals "
                "without field definitions; import again after publishing one to add them.",
            )
        ]
    notes = []
    for version in versions:
        playbook = compiled_for_version(version).playbook
        existing = {field.key: field for field in playbook.fields}
        added, extended = [], {}
        for custom in customs:
            field = existing.get(custom.key)
            if field is None:
                added.append(_definition(custom))
            elif field.type == "choice" and custom.type == "choice":
                known = {choice.key for choice in field.choices}
                new = [c[:64] for c in custom.choices if c[:64] not in known]
                if new:
                    extended[custom.key] = new
        if not added and not extended:
            continue
        source = _edited(version.source, added, extended)
        draft = playbook_draft_create(
            user=user,
            source=source,
            source_name=version.source_name,
            note=f"import #{batch_id}: " + ", ".join([d["key"] for d in added] + list(extended)),
            team_id=version.team_id,
        )
        playbook_publish(user=user, version=draft)
        keys = ", ".join([d["key"] for d in added] + list(extended))
        notes.append(
            Bilingual(
                f"销售流程“{version.name}”发布了第 {draft.number} 版,新增自定义字段:{keys}。",
                f"Playbook “{version.name}” published as version {draft.number} with the "
                f"custom fields: {keys}.",
            )
        )
    return notes


def _edited(source: str, added: list[dict[str, Any]], extended: dict[str, list[str]]) -> str:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(source)
    fields = document.get("fields")
    if fields is None:
        document["fields"] = fields = []
    for definition in fields:
        more = extended.get(definition.get("key"))
        if more:
            definition.setdefault("choices", []).extend(more)
    fields.extend(added)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()
