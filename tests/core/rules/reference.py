"""A deliberately plain interpreter of structured criteria: the oracle for the property tests.

It reads the criterion models directly and spells every rule out the obvious way, sharing no
code with the compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from lodestar.core.playbook.model import (
    AllCriterion,
    AnyCriterion,
    AttachmentCriterion,
    CountCriterion,
    Criterion,
    EventCriterion,
    FieldCriterion,
    NotCriterion,
    Playbook,
)
from lodestar.core.rules import AttachmentData, ContactData, DealContext, EventData

MIME = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "txt": "text/plain"}
BUILTIN_TYPES = {
    "deal.amount": "money",
    "deal.expected_close_date": "date",
    "deal.stage": "text",
    "deal.status": "text",
    "deal.currency": "text",
    "account.tier": "text",
    "account.industry": "text",
    "account.repurchase_rate": "number",
}


def _unset(value: Any) -> bool:
    return value is None or value == "" or value == () or value == frozenset()


def _read(ctx: DealContext, name: str) -> Any:
    if name.startswith("deal."):
        return getattr(ctx.deal, name.removeprefix("deal."))
    if name.startswith("account."):
        return getattr(ctx.account, name.removeprefix("account."))
    return ctx.deal.fields.get(name)


def _operand(kind: str, value: Any) -> Any:
    if kind == "money" and not isinstance(value, bool):
        return Decimal(str(value))
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _field(playbook: Playbook, c: FieldCriterion, ctx: DealContext) -> bool:
    definition = playbook.field_def(c.field)
    kind = definition.type if definition is not None else BUILTIN_TYPES[c.field]
    value = _read(ctx, c.field)
    op = c.operator
    if op == "is_set":
        return (not _unset(value)) == c.is_set
    if _unset(value):
        return False
    try:
        if kind == "multi_choice":
            chosen = set(value)
            wanted = set(c.operand)  # type: ignore[arg-type]
            return bool(chosen & wanted) if op == "in" else not (chosen & wanted)
        if op in ("in", "not_in"):
            options = [_operand(kind, v) for v in c.operand]  # type: ignore[union-attr]
            return (value in options) == (op == "in")
        target = _operand(kind, c.operand)
        comparisons: dict[str, Callable[[], Any]] = {
            "eq": lambda: value == target,
            "ne": lambda: value != target,
            "gt": lambda: value > target,
            "gte": lambda: value >= target,
            "lt": lambda: value < target,
            "lte": lambda: value <= target,
        }
        return bool(comparisons[op]())
    except TypeError:
        return False


def _mentions(payload: Any, text: str) -> bool:
    return any(isinstance(v, str) and text in v for v in payload.values())


def _as_tuple(want: Any) -> tuple[Any, ...]:
    return want if isinstance(want, tuple) else (want,)


def _contact_fits(contact: ContactData, key: str, want: Any) -> bool:
    if key == "is_decision_maker":
        return bool(contact.is_decision_maker == want)
    if key == "attended":
        if want is True:
            return len(contact.attended) > 0
        if want is False:
            return len(contact.attended) == 0
        return any(m in contact.attended for m in _as_tuple(want))
    if key == "role":
        return contact.role in _as_tuple(want)
    return True


def _event_fits(event: EventData, key: str, want: Any) -> bool:
    if key == "type":
        return bool(event.type == want)
    if key == "text_contains":
        return _mentions(event.payload, str(want))
    return True


def _attachment_fits(item: AttachmentData, key: str, want: Any) -> bool:
    if key == "kind":
        return bool(item.kind == want)
    if key == "type":
        return item.content_type in {MIME[w] for w in _as_tuple(want)}
    if key == "min_chars":
        return bool(item.text_length >= want)
    return True


def _count(c: CountCriterion, ctx: DealContext) -> bool:
    spec = c.count
    cutoff = ctx.now - spec.within if spec.within is not None else None
    where = spec.where.items()
    if spec.of == "contacts":
        found = sum(all(_contact_fits(x, k, w) for k, w in where) for x in ctx.contacts)
    elif spec.of == "events":
        found = sum(
            (cutoff is None or x.occurred_at >= cutoff)
            and all(_event_fits(x, k, w) for k, w in where)
            for x in ctx.events
        )
    else:
        found = sum(
            (cutoff is None or x.uploaded_at >= cutoff)
            and all(_attachment_fits(x, k, w) for k, w in where)
            for x in ctx.attachments
        )
    return found >= spec.at_least


def _attachment(c: AttachmentCriterion, ctx: DealContext) -> bool:
    spec = c.attachment
    found = 0
    for item in ctx.attachments:
        if item.kind != spec.kind:
            continue
        if spec.within is not None and item.uploaded_at < ctx.now - spec.within:
            continue
        if spec.types and item.content_type not in {MIME[t] for t in spec.types}:
            continue
        if item.text_length < spec.min_chars:
            continue
        found += 1
    return found >= spec.at_least


def _event(c: EventCriterion, ctx: DealContext) -> bool:
    spec = c.event
    for event in ctx.events:
        if event.type != spec.type:
            continue
        if spec.within is not None and event.occurred_at < ctx.now - spec.within:
            continue
        if spec.text_contains and not _mentions(event.payload, spec.text_contains):
            continue
        if any(event.payload.get(k) != v for k, v in spec.payload.items()):
            continue
        return True
    return False


def reference_met(playbook: Playbook, c: Criterion, ctx: DealContext) -> bool:
    if isinstance(c, FieldCriterion):
        return _field(playbook, c, ctx)
    if isinstance(c, CountCriterion):
        return _count(c, ctx)
    if isinstance(c, AttachmentCriterion):
        return _attachment(c, ctx)
    if isinstance(c, EventCriterion):
        return _event(c, ctx)
    if isinstance(c, AllCriterion):
        return all(reference_met(playbook, child, ctx) for child in c.all)
    if isinstance(c, AnyCriterion):
        return any(reference_met(playbook, child, ctx) for child in c.any)
    assert isinstance(c, NotCriterion)
    return not reference_met(playbook, c.not_, ctx)
