"""The event catalogue a set of playbooks accepts: the built-in types plus their own."""

from __future__ import annotations

from collections.abc import Iterable

from lodestar.core.events.catalogue import CATALOGUE, EventCatalogue, EventTypeSpec, PayloadField
from lodestar.core.playbook.model import Playbook

__all__ = ["event_catalogue"]


def event_catalogue(playbooks: Iterable[Playbook]) -> EventCatalogue:
    """Built-in types plus every type the playbooks declare (the first declaration of a key
    wins when two playbooks of one organization declare it)."""
    declared: dict[str, EventTypeSpec] = {}
    for playbook in playbooks:
        for event_type in playbook.event_types:
            declared.setdefault(
                event_type.key,
                EventTypeSpec(
                    key=event_type.key,
                    name_zh=event_type.name.zh,
                    name_en=event_type.name.en,
                    with_customer=event_type.with_customer,
                    fields=tuple(
                        PayloadField(field.name, field.type, field.required)
                        for field in event_type.payload
                    ),
                ),
            )
    return CATALOGUE.extended(declared.values())
