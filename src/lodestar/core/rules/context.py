"""What rules are evaluated against: plain frozen data the Django side builds from the database.

Nothing here reads the clock: ``DealContext.now`` is passed in, and every datetime must be
time-zone aware (a naive one is refused when the context is built).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from lodestar.core.errors import LodestarError

__all__ = [
    "AccountData",
    "AttachmentData",
    "ContactData",
    "ContextError",
    "DealContext",
    "DealData",
    "EventData",
    "FieldValue",
]

FieldValue = str | int | float | Decimal | bool | date | tuple[str, ...] | frozenset[str] | None
"""A custom field's value: text/choice/contact_role → str, number → int/float/Decimal,
money → Decimal, date → date, boolean → bool, multi_choice → tuple or frozenset of keys."""


class ContextError(LodestarError):
    """The context handed to the engine breaks an invariant (e.g. a naive datetime)."""


def _require_aware(value: datetime | None, what: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ContextError(f"{what} must be a time-zone aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class DealData:
    """The deal (opportunity) itself; ``fields`` holds custom field values by field key."""

    stage: str
    amount: Decimal | None = None
    currency: str = "CNY"
    expected_close_date: date | None = None
    status: str = "open"
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    stage_entered_at: datetime | None = None
    id: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.stage_entered_at, "DealData.stage_entered_at")


@dataclass(frozen=True, slots=True)
class AccountData:
    industry: str = ""
    tier: str = ""
    repurchase_rate: float | None = None


@dataclass(frozen=True, slots=True)
class ContactData:
    """A customer contact; ``attended`` holds the ids or kinds of meetings they attended."""

    name: str
    title: str = ""
    role: str | None = None
    is_decision_maker: bool = False
    attended: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AttachmentData:
    """An uploaded file; ``content_type`` is the sniffed MIME type, ``text_length`` the number
    of characters of extracted text (OCR or document text), ``text_pending`` true while that
    text is still being read (``text_length`` is 0 until then)."""

    kind: str
    content_type: str
    uploaded_at: datetime
    text_length: int = 0
    name: str = ""
    text_pending: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.uploaded_at, "AttachmentData.uploaded_at")


@dataclass(frozen=True, slots=True)
class EventData:
    type: str
    occurred_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(self.occurred_at, "EventData.occurred_at")


@dataclass(frozen=True, slots=True)
class DealContext:
    """Everything one gate evaluation may look at, as of ``now``.

    ``events`` should hold the deal's recent events (the window the playbook's criteria look
    back over); the engine never fetches more.
    """

    deal: DealData
    now: datetime
    account: AccountData = AccountData()
    contacts: tuple[ContactData, ...] = ()
    attachments: tuple[AttachmentData, ...] = ()
    events: tuple[EventData, ...] = ()
    # The zone the explanations word times in (the organization's): the stored times are UTC.
    zone: tzinfo = UTC
    # Derived indexes, built once here so criteria never scan for their kind/type.
    attachments_by_kind: Mapping[str, tuple[AttachmentData, ...]] = field(
        init=False, repr=False, compare=False
    )
    events_by_type: Mapping[str, tuple[EventData, ...]] = field(
        init=False, repr=False, compare=False
    )
    # Per-context memo for evaluators (e.g. one CEL activation per compiled playbook).
    memo: dict[object, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require_aware(self.now, "DealContext.now")
        by_kind: dict[str, list[AttachmentData]] = {}
        for attachment in self.attachments:
            by_kind.setdefault(attachment.kind, []).append(attachment)
        by_type: dict[str, list[EventData]] = {}
        for event in self.events:
            by_type.setdefault(event.type, []).append(event)
        object.__setattr__(self, "attachments_by_kind", {k: tuple(v) for k, v in by_kind.items()})
        object.__setattr__(self, "events_by_type", {k: tuple(v) for k, v in by_type.items()})
        object.__setattr__(self, "memo", {})

    __hash__ = object.__hash__
