"""The event catalogue: what can happen to a deal, and what each event's payload must carry."""

from lodestar.core.events.catalogue import (
    CATALOGUE,
    EventCatalogue,
    EventTypeSpec,
    PayloadField,
    PayloadProblem,
    UnknownEventType,
)

__all__ = [
    "CATALOGUE",
    "EventCatalogue",
    "EventTypeSpec",
    "PayloadField",
    "PayloadProblem",
    "UnknownEventType",
]
