"""What satisfies an unmet exit criterion: the one action a person (or an integration) takes.

A gate answers met / unmet with an explanation; a rep also needs to know *what to do*. For each
unmet criterion of a stage, :func:`remedies_for` names the actions that satisfy it, read from
the criterion itself:

- a field criterion → :class:`SetField` (the field, its type, the choices that would satisfy
  it, a value to preselect when the criterion asks for exactly one);
- an attachment (or a count of attachments of one kind) → :class:`Upload` of that kind, with
  the allowed file types and the minimum text length;
- an event (or a count of events of one type) → :class:`RecordEvent` of that type, with the
  words and payload values the criterion waits for;
- a count of contacts → :class:`AddContact` (with the roles or the decision-maker flag it
  counts);
- ``any`` → the actions of its unmet parts, any one of which is enough; ``all`` → those of its
  unmet parts, each needed;
- what no single action satisfies (a CEL expression, ``not``, an account's or the stage's own
  fields, contacts who attended a meeting) → a :class:`Needs` reason, with the fields a CEL
  expression reads so they can be set.

Plain data in, plain data out: the pages render these, the API guide describes the calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from lodestar.core.playbook.model import (
    AllCriterion,
    AnyCriterion,
    AttachmentCriterion,
    CelCriterion,
    CountCriterion,
    Criterion,
    EventCriterion,
    FieldCriterion,
    Playbook,
    Scalar,
)
from lodestar.core.rules.compiler import stage_criteria
from lodestar.core.rules.results import Bilingual, CriterionResult, GateResult
from lodestar.core.rules.scope import RuleScope

__all__ = [
    "DEAL_FIELDS",
    "Action",
    "AddContact",
    "Needs",
    "RecordEvent",
    "Remedy",
    "SetField",
    "Upload",
    "remedies_for",
]

#: The deal's own fields a criterion may compare and a person may edit (``deal.<name>``).
DEAL_FIELDS = ("amount", "currency", "expected_close_date")

NeedsReason = Literal["cel", "not", "account", "deal", "attended", "count", "unknown"]


@dataclass(frozen=True, slots=True)
class SetField:
    """Set a deal field: a custom field by its key, or ``deal.amount`` and its kin."""

    field: str
    type: str
    name: Bilingual
    #: The options that satisfy the criterion (all of the field's when it only must be set).
    choices: tuple[tuple[str, Bilingual], ...] = ()
    #: The one value that satisfies an ``eq`` criterion (preselected on a page).
    value: Scalar | None = None
    #: The lowest (``gt``/``gte``) or highest (``lt``/``lte``) value that passes, for numbers
    #: and dates; ``strict`` when the bound itself does not pass.
    minimum: int | float | date | None = None
    maximum: int | float | date | None = None
    strict: bool = False

    @property
    def custom(self) -> bool:
        return not self.field.startswith("deal.")


@dataclass(frozen=True, slots=True)
class Upload:
    """Upload ``at_least`` files of ``kind`` (of ``types``, with ``min_chars`` of text)."""

    kind: str
    kind_name: Bilingual
    types: tuple[str, ...] = ()
    min_chars: int = 0
    at_least: int = 1
    within: timedelta | None = None


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Log an event of ``type`` on the deal; its text must contain ``text_contains`` and its
    payload carry ``payload`` (e.g. ``from_customer: true`` for the customer's own words)."""

    type: str
    type_name: Bilingual
    text_contains: str | None = None
    payload: Mapping[str, Scalar] = field(default_factory=dict)
    at_least: int = 1
    within: timedelta | None = None

    @property
    def from_customer(self) -> bool:
        """The customer's own message (a chat "已确认"): recorded with who said it and when."""
        return self.payload.get("from_customer") is True


@dataclass(frozen=True, slots=True)
class AddContact:
    """Have ``at_least`` contacts on the account, of ``roles`` (any when empty), decision-makers
    when ``decision_maker``: add one, or give an existing one the role."""

    roles: tuple[tuple[str, Bilingual], ...] = ()
    decision_maker: bool = False
    at_least: int = 1


@dataclass(frozen=True, slots=True)
class Needs:
    """No single action on the deal satisfies it; ``reason`` says why, and ``fields`` lists
    fields the criterion reads (a CEL expression's), which may be set to satisfy it."""

    reason: NeedsReason
    fields: tuple[SetField, ...] = ()


Action = SetField | Upload | RecordEvent | AddContact | Needs


@dataclass(frozen=True, slots=True)
class Remedy:
    """The actions that satisfy one unmet criterion: each of them, or (``any_of``) any one."""

    actions: tuple[Action, ...]
    any_of: bool = False


def remedies_for(playbook: Playbook, stage_key: str, gate: GateResult) -> dict[str, Remedy]:
    """The remedy of each unmet criterion of the gate of ``stage_key``, by criterion id."""
    try:
        stage = playbook.stage(stage_key)
    except KeyError:
        return {}
    by_id = dict(stage_criteria(playbook, stage))
    scope = RuleScope(playbook)
    remedies: dict[str, Remedy] = {}
    for result in gate.unmet:
        criterion = by_id.get(result.id)
        if criterion is not None:
            remedies[result.id] = _remedy(scope, criterion, result)
    return remedies


def _remedy(scope: RuleScope, criterion: Criterion, result: CriterionResult | None) -> Remedy:
    if isinstance(criterion, AllCriterion | AnyCriterion):
        parts = criterion.all if isinstance(criterion, AllCriterion) else criterion.any
        children = result.children if result is not None else ()
        actions: list[Action] = []
        for index, part in enumerate(parts):
            child = children[index] if index < len(children) else None
            if child is not None and child.met:
                continue
            for action in _remedy(scope, part, child).actions:
                if action not in actions:
                    actions.append(action)
        return Remedy(tuple(actions), any_of=isinstance(criterion, AnyCriterion))
    return Remedy((_action(scope, criterion),))


def _action(scope: RuleScope, criterion: Criterion) -> Action:
    if isinstance(criterion, FieldCriterion):
        return _set_field(scope, criterion)
    if isinstance(criterion, AttachmentCriterion):
        spec = criterion.attachment
        return Upload(
            kind=spec.kind,
            kind_name=scope.attachment_kinds.get(spec.kind, Bilingual(spec.kind, spec.kind)),
            types=spec.types,
            min_chars=spec.min_chars,
            at_least=spec.at_least,
            within=spec.within,
        )
    if isinstance(criterion, EventCriterion):
        event = criterion.event
        return RecordEvent(
            type=event.type,
            type_name=scope.event_types.get(event.type, Bilingual(event.type, event.type)),
            text_contains=event.text_contains,
            payload=dict(event.payload),
            within=event.within,
        )
    if isinstance(criterion, CountCriterion):
        return _count(scope, criterion)
    if isinstance(criterion, CelCriterion):
        return Needs("cel", _cel_fields(scope, criterion.cel))
    return Needs("not" if criterion.kind == "not" else "unknown")


def _set_field(scope: RuleScope, criterion: FieldCriterion) -> Action:
    name = criterion.field
    ref = scope.field(name)
    if ref is None:
        return Needs("unknown")
    if ref.custom_key is None:
        path = ref.path
        if not path.startswith("deal.") or path.removeprefix("deal.") not in DEAL_FIELDS:
            return Needs("account" if path.startswith("account.") else "deal")
    key = ref.custom_key or ref.path
    options = tuple((choice, label) for choice, label in (ref.choices or {}).items())
    op, operand = criterion.operator, criterion.operand
    value: Scalar | None = None
    if op == "eq" and not isinstance(operand, tuple):
        value = operand
        options = tuple(o for o in options if o[0] == operand) or options
    elif op == "in" and isinstance(operand, tuple):
        wanted = {str(v) for v in operand}
        options = tuple(o for o in options if o[0] in wanted) or options
    elif op in ("ne", "not_in"):
        refused = {str(v) for v in (operand if isinstance(operand, tuple) else (operand,))}
        options = tuple(o for o in options if o[0] not in refused)
    minimum = maximum = None
    bound = operand if isinstance(operand, int | float | date) else None
    if isinstance(bound, bool):
        bound = None
    if op in ("gt", "gte"):
        minimum = bound
    elif op in ("lt", "lte"):
        maximum = bound
    return SetField(
        field=key,
        type=ref.type,
        name=ref.name,
        choices=options,
        value=value,
        minimum=minimum,
        maximum=maximum,
        strict=op in ("gt", "lt"),
    )


def _count(scope: RuleScope, criterion: CountCriterion) -> Action:
    spec = criterion.count
    where = dict(spec.where)
    if spec.of == "contacts":
        if "attended" in where:
            return Needs("attended")
        if set(where) - {"role", "is_decision_maker"}:
            return Needs("count")
        wanted = where.get("role", ())
        keys = [str(v) for v in (wanted if isinstance(wanted, tuple) else (wanted,))]
        return AddContact(
            roles=tuple((k, scope.contact_roles.get(k, Bilingual(k, k))) for k in keys),
            decision_maker=where.get("is_decision_maker") is True,
            at_least=max(spec.at_least, 1),
        )
    if spec.of == "attachments":
        kind = where.pop("kind", None)
        types = where.pop("type", where.pop("content_type", ()))
        min_chars = where.pop("min_chars", 0)
        if not isinstance(kind, str) or where or not isinstance(min_chars, int):
            return Needs("count")
        return Upload(
            kind=kind,
            kind_name=scope.attachment_kinds.get(kind, Bilingual(kind, kind)),
            types=tuple(str(t) for t in (types if isinstance(types, tuple) else (types,))),
            min_chars=min_chars,
            at_least=max(spec.at_least, 1),
            within=spec.within,
        )
    type_ = where.pop("type", None)
    text = where.pop("text_contains", None)
    payload = {k.removeprefix("payload."): v for k, v in where.items() if k.startswith("payload.")}
    if (
        not isinstance(type_, str)
        or len(payload) != len(where)
        or any(isinstance(v, tuple) for v in payload.values())
    ):
        return Needs("count")
    return RecordEvent(
        type=type_,
        type_name=scope.event_types.get(type_, Bilingual(type_, type_)),
        text_contains=str(text) if text is not None else None,
        payload={k: v for k, v in payload.items() if not isinstance(v, tuple)},
        at_least=max(spec.at_least, 1),
        within=spec.within,
    )


_CEL_NAME = re.compile(r"\b(fields|deal)\.([a-z][a-z0-9_]*)\b")


def _cel_fields(scope: RuleScope, expression: str) -> tuple[SetField, ...]:
    """The deal fields a CEL expression reads, in the order it names them first."""
    found: list[SetField] = []
    for prefix, name in _CEL_NAME.findall(expression):
        if prefix == "deal" and name not in DEAL_FIELDS:
            continue
        ref = scope.field(f"{prefix}.{name}")
        if ref is None:
            continue
        action = SetField(
            field=ref.custom_key or ref.path,
            type=ref.type,
            name=ref.name,
            choices=tuple((ref.choices or {}).items()),
        )
        if all(existing.field != action.field for existing in found):
            found.append(action)
    return tuple(found)
