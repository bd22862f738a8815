"""Structured criteria → Python closures, from a whitelist of operations.

Nothing here ``eval``s text. Each operation has a factory that checks the criterion against
the playbook's declarations (recording an :class:`~lodestar.core.playbook.errors.Issue` when it
is wrong) and returns two closures with every constant pre-bound: ``test`` (met/unmet only,
used in bulk) and ``evaluate`` (with the explanation). No operator name is looked up while a
criterion runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lodestar.core.playbook.errors import Issue, Path
from lodestar.core.playbook.model import (
    AllCriterion,
    AnyCriterion,
    AttachmentCriterion,
    CelCriterion,
    CountCriterion,
    Criterion,
    EventCriterion,
    FieldCriterion,
    NotCriterion,
    Scalar,
    default_criterion_id,
)
from lodestar.core.rules.compiled import CompiledCriterion, Test
from lodestar.core.rules.context import (
    AttachmentData,
    ContactData,
    DealContext,
    EventData,
)
from lodestar.core.rules.results import Bilingual, CriterionResult
from lodestar.core.rules.scope import (
    CONTENT_TYPES,
    FieldRef,
    RuleScope,
    did_you_mean,
    render_value,
)
from lodestar.core.rules.wording import join_names, say_duration, say_time

if TYPE_CHECKING:
    from lodestar.core.rules.cel import CelRuntime

__all__ = ["CriterionCompiler", "all_tests", "default_criterion_id"]


_NUMERIC_TYPES = frozenset({"number", "money"})
_CHOICE_TYPES = frozenset({"choice", "contact_role", "multi_choice"})
_OPERATORS_BY_TYPE: Mapping[str, frozenset[str]] = {
    "text": frozenset({"eq", "ne", "in", "not_in", "is_set"}),
    "number": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "is_set"}),
    "money": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "is_set"}),
    "date": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "is_set"}),
    "boolean": frozenset({"eq", "ne", "is_set"}),
    "choice": frozenset({"eq", "ne", "in", "not_in", "is_set"}),
    "contact_role": frozenset({"eq", "ne", "in", "not_in", "is_set"}),
    "multi_choice": frozenset({"in", "not_in", "is_set"}),
}
_SYMBOLS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
# v OP t, written as partial(reflected, t)(v) so the check is one C call.
_REFLECTED: Mapping[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.lt,
    "gte": operator.le,
    "lt": operator.gt,
    "lte": operator.ge,
}
_CACHE_LIMIT = 512
# (unit, noun) of each thing a count criterion counts.
_COUNT_WORDS: Mapping[str, tuple[Bilingual, Bilingual]] = {
    "contacts": (Bilingual(" 人", ""), Bilingual("联系人", "Contacts")),
    "attachments": (Bilingual(" 份", ""), Bilingual("附件", "Attachments")),
    "events": (Bilingual(" 次", ""), Bilingual("事件", "Events")),
}


class _Invalid(Exception):
    """Raised inside the compiler after an issue was recorded, to abandon one criterion."""


def _always_false(ctx: DealContext) -> bool:
    return False


def _is_unset(value: Any) -> bool:
    return value is None or value == "" or value == () or value == frozenset()


def _not_in(values: frozenset[Any], value: Any) -> bool:
    return value not in values


def _overlaps(values: frozenset[Any], value: Any) -> bool:
    return not values.isdisjoint(value)


def _no_overlap(values: frozenset[Any], value: Any) -> bool:
    return values.isdisjoint(value)


class CriterionCompiler:
    """Compiles the criteria of one playbook; problems are appended to ``issues``."""

    def __init__(self, scope: RuleScope, cel: CelRuntime, issues: list[Issue]) -> None:
        self.scope = scope
        self.cel = cel
        self.issues = issues

    # -- entry point ---------------------------------------------------------------------------

    def compile(self, criterion: Criterion, path: Path, cid: str) -> CompiledCriterion:
        if criterion.id is not None:
            cid = criterion.id
        try:
            if isinstance(criterion, FieldCriterion):
                return self._field(criterion, path, cid)
            if isinstance(criterion, CountCriterion):
                return self._count(criterion, path, cid)
            if isinstance(criterion, AttachmentCriterion):
                return self._attachment(criterion, path, cid)
            if isinstance(criterion, EventCriterion):
                return self._event(criterion, path, cid)
            if isinstance(criterion, CelCriterion):
                return self._cel(criterion, path, cid)
            if isinstance(criterion, AllCriterion | AnyCriterion):
                return self._combine(criterion, path, cid)
            return self._not(criterion, path, cid)
        except _Invalid:
            return self._never_met(criterion, cid)

    def _issue(self, path: Path, message: str, hint: str | None = None) -> _Invalid:
        self.issues.append(Issue(path, message, hint))
        return _Invalid()

    def _never_met(self, criterion: Criterion, cid: str) -> CompiledCriterion:
        """What an invalid criterion compiles to while its issue is reported (the playbook is
        then refused, so it never judges a deal)."""
        label = _label(criterion, Bilingual(cid, cid))
        result = CriterionResult(
            cid, label, False, Bilingual("规则无效", "invalid rule"), error="invalid rule"
        )
        return CompiledCriterion(cid, criterion.kind, label, _always_false, lambda ctx: result)

    # -- field comparisons -------------------------------------------------------------------

    def _field(self, criterion: FieldCriterion, path: Path, cid: str) -> CompiledCriterion:
        ref = self.scope.field(criterion.field)
        if ref is None:
            raise self._issue(
                (*path, "field"),
                f"unknown field '{criterion.field}'",
                did_you_mean(criterion.field, self.scope.field_names()),
            )
        op = criterion.operator
        if op not in _OPERATORS_BY_TYPE[ref.type]:
            allowed = ", ".join(sorted(_OPERATORS_BY_TYPE[ref.type]))
            raise self._issue(
                (*path, op),
                f"'{op}' does not apply to the {ref.type} field '{criterion.field}'",
                f"use one of: {allowed}",
            )
        subject = _label(criterion, ref.name)
        operand = criterion.operand
        if op == "is_set":
            assert isinstance(operand, bool)
            return _is_set_criterion(cid, subject, ref, want=operand)
        if isinstance(operand, tuple):
            targets = tuple(
                self._coerce(ref, value, (*path, op, i)) for i, value in enumerate(operand)
            )
            target: Any = frozenset(targets)
            shown = join_names(render_value(t, ref.type, ref.choices) for t in targets)
        else:
            target = self._coerce(ref, operand, (*path, op))
            shown = render_value(target, ref.type, ref.choices)
        predicate = _predicate(op, ref.type, target)
        met_text, unmet_text = _field_texts(op, ref, subject, shown)
        return _comparison(cid, subject, ref, op, target, predicate, met_text, unmet_text)

    def _coerce(self, ref: FieldRef, value: Scalar, path: Path) -> Any:
        """Turn a YAML literal into the type the field's values have, or record an issue."""
        kind = ref.type
        if kind in _NUMERIC_TYPES:
            number = self._number(value, path)
            return Decimal(str(number)) if kind == "money" else number
        if kind == "date":
            return self._date(value, path)
        if kind == "boolean":
            return self._bool(value, path)
        if kind in _CHOICE_TYPES:
            return self._choice(ref, value, path)
        if not isinstance(value, str):
            raise self._issue(path, f"'{value}' is not text", "put the value in quotes")
        if not value:
            raise self._issue(path, "an empty text matches nothing", "use is_set: false")
        return value

    def _number(self, value: Scalar, path: Path) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._issue(path, f"'{value}' is not a number", "write e.g. 100000")
        return value

    def _date(self, value: Scalar, path: Path) -> date:
        if isinstance(value, datetime) or not isinstance(value, date | str):
            raise self._issue(path, f"'{value}' is not a date", "write e.g. 2025-06-30")
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self._issue(path, f"'{value}' is not a date", "write e.g. 2025-06-30") from None

    def _choice(self, ref: FieldRef, value: Scalar, path: Path) -> str:
        """A choice's key, written as the key or as either of its names."""
        choices = ref.choices or {}
        if isinstance(value, str) and value in choices:
            return value
        by_name = {n: k for k, name in choices.items() for n in (name.zh, name.en)}
        if isinstance(value, str) and value in by_name:
            return by_name[value]
        raise self._issue(
            path,
            f"'{value}' is not a choice of field '{ref.path}'",
            did_you_mean(str(value), [*choices, *by_name]),
        )

    # -- count of related items ------------------------------------------------------------

    def _count(self, criterion: CountCriterion, path: Path, cid: str) -> CompiledCriterion:
        spec = criterion.count
        where = dict(spec.where)
        bucket, preds, parts = self._count_filters(spec.of, where, (*path, "count", "where"))
        unit, noun = _COUNT_WORDS[spec.of]
        auto = noun
        if parts:
            joined = join_names(parts)
            auto = Bilingual(f"{noun.zh}({joined.zh})", f"{noun.en} ({joined.en})")
        subject = _label(criterion, auto)
        if spec.of == "contacts" and spec.within is None:
            flags = _contact_flags(where)
            if flags is not None:
                # The seed's "decision-makers who attended": a loop without filter calls.
                compiled = _count_criterion(
                    cid,
                    subject,
                    attrgetter("contacts"),
                    _all_of(preds),
                    None,
                    spec.at_least,
                    None,
                    unit,
                )
                test = _flag_count_test(flags, spec.at_least)
                return CompiledCriterion(cid, "count", subject, test, compiled.evaluate)
        match = _all_of(preds)
        source = _item_source(spec.of, bucket)
        stamp = _item_stamp(spec.of)
        return _count_criterion(
            cid, subject, source, match, stamp, spec.at_least, spec.within, unit
        )

    def _count_filters(
        self, of: str, where: dict[str, Any], path: Path
    ) -> tuple[str | None, list[Callable[[Any], Any]], list[Bilingual]]:
        """The filters of a count: the declared kind or type to read from (taken out of
        ``where``), a predicate per other key, and the words that name them all."""
        one_filter: Callable[
            [str, Scalar | tuple[Scalar, ...], Path], tuple[Callable[[Any], Any], Bilingual]
        ]
        bucket_by: tuple[str, Mapping[str, Bilingual]] | None
        if of == "contacts":
            one_filter, bucket_by = self._contact_filter, None
        elif of == "attachments":
            one_filter, bucket_by = self._attachment_filter, ("kind", self.scope.attachment_kinds)
        else:
            one_filter, bucket_by = self._event_filter, ("type", self.scope.event_types)
        bucket: str | None = None
        preds: list[Callable[[Any], Any]] = []
        parts: list[Bilingual] = []
        if bucket_by is not None:
            bucket_key, declared = bucket_by
            named = where.pop(bucket_key, None)
            if named is not None:
                bucket = self._kind_key(named, declared, (*path, bucket_key))
                parts.append(declared[bucket])
        for key, value in where.items():
            pred, part = one_filter(key, value, (*path, key))
            preds.append(pred)
            parts.append(part)
        return bucket, preds, parts

    def _contact_filter(
        self, key: str, value: Scalar | tuple[Scalar, ...], path: Path
    ) -> tuple[Callable[[ContactData], Any], Bilingual]:
        values = value if isinstance(value, tuple) else (value,)
        if key == "is_decision_maker":
            want = self._bool(value, path)
            if want:
                return attrgetter("is_decision_maker"), Bilingual("决策人", "decision-makers")
            return (lambda c: not c.is_decision_maker), Bilingual("非决策人", "not decision-makers")
        if key == "attended":
            if isinstance(value, bool):
                if value:
                    return attrgetter("attended"), Bilingual("已参会", "attended")
                return (lambda c: not c.attended), Bilingual("未参会", "did not attend")
            meetings = frozenset(self._text(v, path) for v in values)
            names = "/".join(sorted(meetings))
            return (
                partial(_attended_any, meetings),
                Bilingual(f"参加{names}", f"attended {names}"),
            )
        if key == "role":
            roles = self.scope.contact_roles
            keys = frozenset(
                self._kind_key(v, roles, path) if roles else self._text(v, path) for v in values
            )
            shown = join_names(roles.get(k, Bilingual(k, k)) for k in sorted(keys))
            return _attr_in("role", keys), shown
        if key in ("name", "title"):
            texts = frozenset(self._text(v, path) for v in values)
            joined = "/".join(sorted(texts))
            return _attr_in(key, texts), Bilingual(joined, joined)
        raise self._issue(
            path,
            f"contacts cannot be filtered by '{key}'",
            did_you_mean(key, ["is_decision_maker", "attended", "role", "name", "title"]),
        )

    def _attachment_filter(
        self, key: str, value: Scalar | tuple[Scalar, ...], path: Path
    ) -> tuple[Callable[[AttachmentData], Any], Bilingual]:
        values = value if isinstance(value, tuple) else (value,)
        if key in ("type", "content_type"):
            exact, prefixes = self._content_types([self._text(v, path) for v in values], path)
            shown = "/".join(self._text(v, path).upper() for v in values)
            return partial(_content_type_ok, exact, prefixes), Bilingual(shown, shown)
        if key == "min_chars":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._issue(path, "min_chars needs a whole number")
            return (
                partial(_long_enough, value),
                Bilingual(f"≥{value} 字", f"≥{value} chars"),
            )
        raise self._issue(
            path,
            f"attachments cannot be filtered by '{key}'",
            did_you_mean(key, ["kind", "type", "min_chars"]),
        )

    def _event_filter(
        self, key: str, value: Scalar | tuple[Scalar, ...], path: Path
    ) -> tuple[Callable[[EventData], Any], Bilingual]:
        if key == "text_contains":
            text = self._text(value, path)
            return partial(_payload_mentions, text), Bilingual(f"含「{text}」", f"with “{text}”")
        if key.startswith("payload."):
            name = key.removeprefix("payload.")
            values = frozenset(value if isinstance(value, tuple) else (value,))
            shown = f"{name}={'/'.join(str(v) for v in sorted(values, key=str))}"
            return partial(_payload_in, name, values), Bilingual(shown, shown)
        raise self._issue(
            path,
            f"events cannot be filtered by '{key}'",
            did_you_mean(key, ["type", "text_contains", "payload.<key>"]),
        )

    def _bool(self, value: Any, path: Path) -> bool:
        if not isinstance(value, bool):
            raise self._issue(path, f"'{value}' is not true/false", "write true or false")
        return value

    def _text(self, value: Any, path: Path) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._issue(path, f"'{value}' is not text", "put the value in quotes")
        return str(value)

    def _kind_key(self, value: Any, declared: Mapping[str, Bilingual], path: Path) -> str:
        key = self._text(value, path)
        if key not in declared:
            what = {
                id(self.scope.attachment_kinds): "attachment kind",
                id(self.scope.event_types): "event type",
                id(self.scope.contact_roles): "contact role",
            }.get(id(declared), "name")
            raise self._issue(path, f"unknown {what} '{key}'", did_you_mean(key, declared))
        return key

    def _content_types(
        self, names: Sequence[str], path: Path
    ) -> tuple[frozenset[str], tuple[str, ...]]:
        exact: set[str] = set()
        prefixes: list[str] = []
        for name in names:
            lowered = name.lower()
            if lowered in CONTENT_TYPES:
                exact.add(CONTENT_TYPES[lowered])
            elif lowered.endswith("/*") and lowered.count("/") == 1:
                prefixes.append(lowered[:-1])
            elif lowered.count("/") == 1 and not lowered.startswith("/"):
                exact.add(lowered)
            else:
                raise self._issue(
                    path,
                    f"unknown file type '{name}'",
                    did_you_mean(lowered, CONTENT_TYPES) or "write e.g. pdf, jpg or image/png",
                )
        return frozenset(exact), tuple(prefixes)

    # -- attachments ---------------------------------------------------------------------------

    def _attachment(
        self, criterion: AttachmentCriterion, path: Path, cid: str
    ) -> CompiledCriterion:
        spec = criterion.attachment
        kind = self._kind_key(spec.kind, self.scope.attachment_kinds, (*path, "attachment", "kind"))
        exact, prefixes = self._content_types(spec.types, (*path, "attachment", "types"))
        shown_types = "/".join(t.upper() for t in spec.types)
        subject = _label(criterion, self.scope.attachment_kinds[kind])
        return _attachment_criterion(
            cid,
            subject,
            kind,
            (exact, prefixes) if spec.types else None,
            shown_types,
            spec.min_chars,
            spec.at_least,
            spec.within,
        )

    # -- events --------------------------------------------------------------------------------

    def _event(self, criterion: EventCriterion, path: Path, cid: str) -> CompiledCriterion:
        spec = criterion.event
        type_ = self._kind_key(spec.type, self.scope.event_types, (*path, "event", "type"))
        name = self.scope.event_types[type_]
        if spec.text_contains:
            text = spec.text_contains
            name = Bilingual(f"{name.zh}「{text}」", f"{name.en} “{text}”")
        subject = _label(criterion, name)
        checks: list[Callable[[EventData], Any]] = []
        if spec.text_contains:
            checks.append(partial(_payload_mentions, spec.text_contains))
        for key, value in spec.payload.items():
            checks.append(partial(_payload_in, key, frozenset((value,))))
        return _event_criterion(
            cid, subject, type_, _all_of(checks) if checks else None, spec.within
        )

    # -- CEL -------------------------------------------------------------------------------

    def _cel(self, criterion: CelCriterion, path: Path, cid: str) -> CompiledCriterion:
        expression = self.cel.compile_condition(criterion.cel, (*path, "cel"), self.issues)
        if expression is None:
            raise _Invalid
        text = " ".join(criterion.cel.split())
        short = text if len(text) <= 60 else text[:57] + "…"
        subject = _label(criterion, Bilingual(short, short))
        test, evaluate = self.cel.closures(expression, cid, subject)
        return CompiledCriterion(cid, "cel", subject, test, evaluate)

    # -- combinators ---------------------------------------------------------------------------

    def _children(
        self, items: Iterable[Criterion], path: Path, cid: str
    ) -> tuple[CompiledCriterion, ...]:
        out: list[CompiledCriterion] = []
        seen: set[str] = set()
        for index, child in enumerate(items):
            base = default_criterion_id(child, index)
            child_id = f"{cid}.{child.id or base}"
            if child_id in seen:
                child_id = f"{child_id}_{index + 1}"
            seen.add(child_id)
            out.append(self.compile(child, (*path, index), child_id))
        return tuple(out)

    def _combine(
        self, criterion: AllCriterion | AnyCriterion, path: Path, cid: str
    ) -> CompiledCriterion:
        if isinstance(criterion, AllCriterion):
            children = self._children(criterion.all, (*path, "all"), cid)
            subject = _label(criterion, Bilingual("以下全部满足", "All of the following"))
            return _all_criterion(cid, subject, children)
        children = self._children(criterion.any, (*path, "any"), cid)
        subject = _label(criterion, Bilingual("以下任一满足", "Any of the following"))
        return _any_criterion(cid, subject, children)

    def _not(self, criterion: NotCriterion, path: Path, cid: str) -> CompiledCriterion:
        child_id = f"{cid}.{criterion.not_.id or default_criterion_id(criterion.not_, 0)}"
        child = self.compile(criterion.not_, (*path, "not"), child_id)
        subject = _label(criterion, Bilingual(f"非:{child.label.zh}", f"Not: {child.label.en}"))
        return _not_criterion(cid, subject, child)


# === closure factories (module level so they capture only what they need) ====================


def _label(criterion: Criterion, default: Bilingual) -> Bilingual:
    if criterion.label is None:
        return default
    return Bilingual(criterion.label.zh, criterion.label.en)


def _predicate(op: str, field_type: str, target: Any) -> Callable[[Any], bool]:
    if op == "in":
        if field_type == "multi_choice":
            return partial(_overlaps, target)
        contains: Callable[[Any], bool] = target.__contains__
        return contains
    if op == "not_in":
        if field_type == "multi_choice":
            return partial(_no_overlap, target)
        return partial(_not_in, target)
    return partial(_REFLECTED[op], target)


def _field_texts(
    op: str, ref: FieldRef, subject: Bilingual, shown: Bilingual
) -> tuple[Callable[[Bilingual], Bilingual], Callable[[Bilingual], Bilingual]]:
    s = subject

    def plain(v: Bilingual) -> Bilingual:
        return Bilingual(f"{s.zh}:{v.zh}", f"{s.en}: {v.en}")

    if ref.type == "boolean":
        return plain, plain
    if op in _SYMBOLS:
        sym = _SYMBOLS[op]

        def met_cmp(v: Bilingual) -> Bilingual:
            return Bilingual(
                f"{s.zh}:{v.zh}({sym} {shown.zh})", f"{s.en}: {v.en} ({sym} {shown.en})"
            )

        def unmet_cmp(v: Bilingual) -> Bilingual:
            return Bilingual(
                f"{s.zh}为 {v.zh},需 {sym} {shown.zh}", f"{s.en} is {v.en}; needs {sym} {shown.en}"
            )

        return met_cmp, unmet_cmp
    zh_need, en_need = {
        "eq": (f"需为{shown.zh}", f"needs {shown.en}"),
        "ne": (f"不能为{shown.zh}", f"must not be {shown.en}"),
        "in": (f"需为以下之一:{shown.zh}", f"needs one of: {shown.en}"),
        "not_in": (f"不能为:{shown.zh}", f"must not be: {shown.en}"),
    }[op]
    if ref.type == "multi_choice":
        zh_need, en_need = {
            "in": (f"需包含以下之一:{shown.zh}", f"needs any of: {shown.en}"),
            "not_in": (f"不能包含:{shown.zh}", f"must include none of: {shown.en}"),
        }[op]

    def unmet(v: Bilingual) -> Bilingual:
        return Bilingual(f"{s.zh}为{v.zh},{zh_need}", f"{s.en} is {v.en}; {en_need}")

    return plain, unmet


def _comparison(
    cid: str,
    subject: Bilingual,
    ref: FieldRef,
    op: str,
    target: Any,
    predicate: Callable[[Any], bool],
    met_text: Callable[[Bilingual], Bilingual],
    unmet_text: Callable[[Bilingual], Bilingual],
) -> CompiledCriterion:
    unset = CriterionResult(
        cid, subject, False, Bilingual(f"{subject.zh}未填写", f"{subject.en} not set")
    )
    cache: dict[tuple[type, Any], CriterionResult] = {}
    choices = ref.choices
    field_type = ref.type

    def decide(value: Any) -> CriterionResult:
        shown = render_value(value, field_type, choices)
        try:
            ok = bool(predicate(value))
        except TypeError:
            return CriterionResult(
                cid,
                subject,
                False,
                Bilingual(
                    f"{subject.zh}的值类型不符:{shown.zh}", f"{subject.en}: wrong type {shown.en}"
                ),
                error="wrong value type",
            )
        return CriterionResult(cid, subject, ok, met_text(shown) if ok else unmet_text(shown))

    test = _field_test(op, ref, target)
    get_value = ref.getter

    def evaluate(ctx: DealContext) -> CriterionResult:
        value = get_value(ctx)
        if _is_unset(value):
            return unset
        try:
            cache_key = (type(value), value)
            hit = cache.get(cache_key)
        except TypeError:  # unhashable value: decide without the cache
            return decide(value)
        if hit is None:
            hit = decide(value)
            if len(cache) < _CACHE_LIMIT:
                cache[cache_key] = hit
        return hit

    return CompiledCriterion(cid, "field", subject, test, evaluate)


def _field_test(op: str, ref: FieldRef, target: Any) -> Test:
    """The met/unmet check of a field comparison, with the comparison written inline.

    It must agree with ``evaluate``: a value that is unset (None, "", empty) is unmet, and a
    comparison that raises ``TypeError`` is unmet. Operands are never None or "" (the
    compiler refuses them), so ``==`` and ``in`` need no separate unset check.
    """
    if ref.custom_key is None:
        return _generic_test(ref.getter, _predicate(op, ref.type, target))
    # A multi-choice field's "in" asks for an overlap of sets, not membership: the generic check.
    overlap = op == "in" and ref.type == "multi_choice"
    inline = None if overlap else _CUSTOM_FIELD_TESTS.get(op)
    if inline is None:
        return _generic_test(_custom_reader(ref.custom_key), _predicate(op, ref.type, target))
    return inline(ref.custom_key, target)


# Custom fields are read from one dict; the common comparisons get a check of their own so a
# gate over them costs one lookup and one comparison.


def _custom_eq_test(key: str, target: Any) -> Test:
    def test(ctx: DealContext) -> bool:
        return bool(ctx.deal.fields.get(key) == target)

    return test


def _custom_in_test(key: str, target: Any) -> Test:
    def test(ctx: DealContext) -> bool:
        try:
            return ctx.deal.fields.get(key) in target
        except TypeError:  # an unhashable value
            return False

    return test


def _custom_gte_test(key: str, target: Any) -> Test:
    def test(ctx: DealContext) -> bool:
        value = ctx.deal.fields.get(key)
        try:
            return value is not None and bool(value >= target)
        except TypeError:
            return False

    return test


def _custom_gt_test(key: str, target: Any) -> Test:
    def test(ctx: DealContext) -> bool:
        value = ctx.deal.fields.get(key)
        try:
            return value is not None and bool(value > target)
        except TypeError:
            return False

    return test


def _custom_lte_test(key: str, target: Any) -> Test:
    def test(ctx: DealContext) -> bool:
        value = ctx.deal.fields.get(key)
        try:
            return value is not None and bool(value <= target)
        except TypeError:
            return False

    return test


def _custom_lt_test(key: str, target: Any) -> Test:
    def test(ctx: DealContext) -> bool:
        value = ctx.deal.fields.get(key)
        try:
            return value is not None and bool(value < target)
        except TypeError:
            return False

    return test


_CUSTOM_FIELD_TESTS: Mapping[str, Callable[[str, Any], Test]] = {
    "eq": _custom_eq_test,
    "in": _custom_in_test,
    "gte": _custom_gte_test,
    "gt": _custom_gt_test,
    "lte": _custom_lte_test,
    "lt": _custom_lt_test,
}


def _custom_reader(key: str) -> Callable[[DealContext], Any]:
    def read(ctx: DealContext) -> Any:
        return ctx.deal.fields.get(key)

    return read


def _generic_test(read: Callable[[DealContext], Any], predicate: Callable[[Any], bool]) -> Test:
    def test(ctx: DealContext) -> bool:
        value = read(ctx)
        if value is None or value == "" or value == () or value == frozenset():
            return False
        try:
            return bool(predicate(value))
        except TypeError:
            return False

    return test


def _is_set_criterion(
    cid: str, subject: Bilingual, ref: FieldRef, *, want: bool
) -> CompiledCriterion:
    getter = ref.getter
    empty = Bilingual(f"{subject.zh}未填写", f"{subject.en} not set")
    unset_result = CriterionResult(cid, subject, not want, empty)
    choices = ref.choices
    field_type = ref.type

    def test(ctx: DealContext) -> bool:
        return _is_unset(getter(ctx)) is not want

    def evaluate(ctx: DealContext) -> CriterionResult:
        value = getter(ctx)
        if _is_unset(value):
            return unset_result
        shown = render_value(value, field_type, choices)
        if want:
            text = Bilingual(f"{subject.zh}已填写:{shown.zh}", f"{subject.en} set: {shown.en}")
        else:
            text = Bilingual(
                f"{subject.zh}应为空,当前为{shown.zh}",
                f"{subject.en} should be empty; it is {shown.en}",
            )
        return CriterionResult(cid, subject, want, text)

    return CompiledCriterion(cid, "field", subject, test, evaluate)


def _contact_flags(where: Mapping[str, Any]) -> tuple[bool, bool] | None:
    """``(decision makers only, attendees only)`` when the filter is just those two flags."""
    if not where or set(where) - {"is_decision_maker", "attended"}:
        return None
    if any(value is not True for value in where.values()):
        return None
    return "is_decision_maker" in where, "attended" in where


def _flag_count_test(flags: tuple[bool, bool], need: int) -> Test:
    if need <= 0:
        return _always_met
    decision_makers, attendees = flags
    if decision_makers and attendees:
        return _decision_makers_who_attended_test(need)
    if decision_makers:
        return _decision_makers_test(need)
    return _attendees_test(need)


def _decision_makers_who_attended_test(need: int) -> Test:
    def test(ctx: DealContext) -> bool:
        found = 0
        for contact in ctx.contacts:
            if contact.is_decision_maker and contact.attended:
                found += 1
                if found >= need:
                    return True
        return False

    return test


def _decision_makers_test(need: int) -> Test:
    def test(ctx: DealContext) -> bool:
        found = 0
        for contact in ctx.contacts:
            if contact.is_decision_maker:
                found += 1
                if found >= need:
                    return True
        return False

    return test


def _attendees_test(need: int) -> Test:
    def test(ctx: DealContext) -> bool:
        found = 0
        for contact in ctx.contacts:
            if contact.attended:
                found += 1
                if found >= need:
                    return True
        return False

    return test


def _attended_any(meetings: frozenset[str], contact: ContactData) -> bool:
    return not meetings.isdisjoint(contact.attended)


def _attr_in(name: str, values: frozenset[str]) -> Callable[[Any], bool]:
    get = attrgetter(name)
    if len(values) == 1:
        (only,) = values

        def same(item: Any) -> bool:
            return bool(get(item) == only)

        return same

    def member(item: Any) -> bool:
        return get(item) in values

    return member


def _content_type_ok(
    exact: frozenset[str], prefixes: tuple[str, ...], item: AttachmentData
) -> bool:
    content_type = item.content_type
    return content_type in exact or (bool(prefixes) and content_type.startswith(prefixes))


def _long_enough(minimum: int, item: AttachmentData) -> bool:
    return item.text_length >= minimum


def _payload_mentions(text: str, item: EventData) -> bool:
    for value in item.payload.values():  # noqa: SIM110 — hot path: a plain loop beats any()/all() over a generator
        if isinstance(value, str) and text in value:
            return True
    return False


def _payload_in(name: str, values: frozenset[Any], item: EventData) -> bool:
    try:
        return item.payload.get(name) in values
    except TypeError:  # unhashable payload value
        return False


def _all_of(preds: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    if not preds:
        return _always_true
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds

        def both(item: Any) -> Any:
            return first(item) and second(item)

        return both
    checks = tuple(preds)

    def every(item: Any) -> bool:
        for check in checks:  # noqa: SIM110 — hot path: a plain loop beats any()/all() over a generator
            if not check(item):
                return False
        return True

    return every


def _always_true(item: Any) -> bool:
    return True


def _item_source(of: str, bucket: str | None) -> Callable[[DealContext], Sequence[Any]]:
    if of == "contacts":
        return attrgetter("contacts")
    if bucket is None:
        return attrgetter("attachments" if of == "attachments" else "events")
    index_name = "attachments_by_kind" if of == "attachments" else "events_by_type"
    index = attrgetter(index_name)

    def from_index(ctx: DealContext) -> Sequence[Any]:
        items: Sequence[Any] = index(ctx).get(bucket, ())
        return items

    return from_index


def _item_stamp(of: str) -> Callable[[Any], datetime] | None:
    if of == "attachments":
        return attrgetter("uploaded_at")
    if of == "events":
        return attrgetter("occurred_at")
    return None


def _count_criterion(
    cid: str,
    subject: Bilingual,
    source: Callable[[DealContext], Sequence[Any]],
    match: Callable[[Any], Any],
    stamp: Callable[[Any], datetime] | None,
    need: int,
    within: timedelta | None,
    unit: Bilingual,
) -> CompiledCriterion:
    if within is not None and stamp is not None:
        count, test = _recent_count_closures(source, match, stamp, within, need)
    else:
        count, test = _count_closures(source, match, need)
    cache: dict[int, CriterionResult] = {}

    def evaluate(ctx: DealContext) -> CriterionResult:
        found = count(ctx)
        hit = cache.get(found)
        if hit is None:
            text = Bilingual(
                f"{subject.zh} {found}/{need}{unit.zh}", f"{subject.en}: {found}/{need}{unit.en}"
            )
            hit = CriterionResult(cid, subject, found >= need, text)
            if len(cache) < _CACHE_LIMIT:
                cache[found] = hit
        return hit

    return CompiledCriterion(cid, "count", subject, test, evaluate)


def _recent_count_closures(
    source: Callable[[DealContext], Sequence[Any]],
    match: Callable[[Any], Any],
    stamp: Callable[[Any], datetime],
    window: timedelta,
    need: int,
) -> tuple[Callable[[DealContext], int], Test]:
    """How many items within ``window`` match, and whether at least ``need`` do."""

    def count(ctx: DealContext) -> int:
        cutoff = ctx.now - window
        return sum(1 for item in source(ctx) if stamp(item) >= cutoff and match(item))

    def test(ctx: DealContext) -> bool:
        if need <= 0:
            return True
        cutoff = ctx.now - window
        found = 0
        for item in source(ctx):
            if stamp(item) >= cutoff and match(item):
                found += 1
                if found >= need:
                    return True
        return False

    return count, test


def _count_closures(
    source: Callable[[DealContext], Sequence[Any]], match: Callable[[Any], Any], need: int
) -> tuple[Callable[[DealContext], int], Test]:
    """How many items match, and whether at least ``need`` do."""

    def count(ctx: DealContext) -> int:
        return sum(1 for item in source(ctx) if match(item))

    def test(ctx: DealContext) -> bool:
        if need <= 0:
            return True
        found = 0
        for item in source(ctx):
            if match(item):
                found += 1
                if found >= need:
                    return True
        return False

    return count, test


def _attachment_criterion(
    cid: str,
    subject: Bilingual,
    kind: str,
    types: tuple[frozenset[str], tuple[str, ...]] | None,
    shown_types: str,
    min_chars: int,
    need: int,
    within: timedelta | None,
) -> CompiledCriterion:
    exact, prefixes = types if types is not None else (frozenset(), ())
    check_type = types is not None
    test = _attachment_test(kind, types, min_chars, need, within)

    s = subject
    period = say_duration(within) if within is not None else None
    missing = (
        Bilingual(f"{s.zh}未上传", f"{s.en} not uploaded")
        if period is None
        else Bilingual(
            f"{s.zh}近 {period.zh}内未上传", f"{s.en} not uploaded in the last {period.en}"
        )
    )
    not_uploaded = CriterionResult(cid, s, False, missing)
    wrong_type = CriterionResult(
        cid,
        s,
        False,
        Bilingual(
            f"{s.zh}格式不符(仅限 {shown_types})", f"{s.en}: wrong file type (only {shown_types})"
        ),
    )

    def evaluate(ctx: DealContext) -> CriterionResult:
        items = ctx.attachments_by_kind.get(kind, ())
        if within is not None:
            cutoff = ctx.now - within
            items = tuple(item for item in items if item.uploaded_at >= cutoff)
        if not items:
            return not_uploaded
        typed = items
        if check_type:
            typed = tuple(item for item in items if _content_type_ok(exact, prefixes, item))
            if not typed:
                return wrong_type
        return _attachment_text_result(cid, s, typed, min_chars, need)

    return CompiledCriterion(cid, "attachment", subject, test, evaluate)


def _attachment_test(
    kind: str,
    types: tuple[frozenset[str], tuple[str, ...]] | None,
    min_chars: int,
    need: int,
    within: timedelta | None,
) -> Test:
    exact, prefixes = types if types is not None else (frozenset(), ())
    check_type = types is not None

    def qualifies(item: AttachmentData) -> bool:
        if check_type:
            content_type = item.content_type
            if content_type not in exact and not (prefixes and content_type.startswith(prefixes)):
                return False
        return item.text_length >= min_chars

    def test(ctx: DealContext) -> bool:
        items = ctx.attachments_by_kind.get(kind)
        if not items:
            return False
        cutoff = None if within is None else ctx.now - within
        found = 0
        for item in items:
            if (cutoff is None or item.uploaded_at >= cutoff) and qualifies(item):
                found += 1
                if found >= need:
                    return True
        return False

    return test


def _attachment_text_result(
    cid: str, s: Bilingual, typed: Sequence[AttachmentData], min_chars: int, need: int
) -> CriterionResult:
    """The verdict on the files of the right kind, time and type: enough of them with text?"""
    good = [item for item in typed if item.text_length >= min_chars]
    if not good and any(item.text_pending for item in typed):
        # Unmet for now, but not "too little text": the count is not known yet.
        return CriterionResult(
            cid,
            s,
            False,
            Bilingual(
                f"{s.zh}文字仍在提取中,请稍后再看",
                f"{s.en}: text is still being extracted, check again shortly",
            ),
        )
    if not good:
        most = max(item.text_length for item in typed)
        return CriterionResult(
            cid,
            s,
            False,
            Bilingual(
                f"{s.zh}文字不足 {min_chars} 字(当前 {most} 字)",
                f"{s.en}: too little text ({most} of {min_chars} characters)",
            ),
        )
    latest = max(item.uploaded_at for item in good)
    evidence = MappingProxyType({"uploaded_at": latest})
    if len(good) < need:
        text = Bilingual(f"{s.zh} {len(good)}/{need} 份", f"{s.en}: {len(good)}/{need}")
        return CriterionResult(cid, s, False, text, evidence)
    if need == 1:
        text = Bilingual(f"{s.zh}已上传", f"{s.en} uploaded")
    else:
        text = Bilingual(f"{s.zh} {len(good)}/{need} 份", f"{s.en}: {len(good)}/{need}")
    return CriterionResult(cid, s, True, text, evidence)


def _event_criterion(
    cid: str,
    subject: Bilingual,
    type_: str,
    check: Callable[[EventData], Any] | None,
    within: timedelta | None,
) -> CompiledCriterion:
    test = _event_test(type_, check, within)
    s = subject
    period = say_duration(within) if within is not None else None
    if period is None:
        missing = Bilingual(f"{s.zh}:尚无记录", f"{s.en}: none yet")
    else:
        missing = Bilingual(
            f"{s.zh}:近 {period.zh}内无记录", f"{s.en}: none in the last {period.en}"
        )
    not_found = CriterionResult(cid, s, False, missing)

    def evaluate(ctx: DealContext) -> CriterionResult:
        cutoff = None if within is None else ctx.now - within
        latest: datetime | None = None
        for item in ctx.events_by_type.get(type_, ()):
            if cutoff is not None and item.occurred_at < cutoff:
                continue
            if check is not None and not check(item):
                continue
            if latest is None or item.occurred_at > latest:
                latest = item.occurred_at
        if latest is None:
            return not_found
        shown = say_time(latest, ctx.zone)
        return CriterionResult(
            cid,
            s,
            True,
            Bilingual(f"{s.zh}:{shown}", f"{s.en} at {shown}"),
            MappingProxyType({"occurred_at": latest}),
        )

    return CompiledCriterion(cid, "event", subject, test, evaluate)


def _event_test(
    type_: str, check: Callable[[EventData], Any] | None, within: timedelta | None
) -> Test:
    def test(ctx: DealContext) -> bool:
        items = ctx.events_by_type.get(type_)
        if not items:
            return False
        if within is None:
            if check is None:
                return True
            for item in items:  # noqa: SIM110 — hot path: a plain loop beats any()/all() over a generator
                if check(item):
                    return True
            return False
        cutoff = ctx.now - within
        for item in items:  # noqa: SIM110 — hot path: a plain loop beats any()/all() over a generator
            if item.occurred_at >= cutoff and (check is None or check(item)):
                return True
        return False

    return test


def all_tests(tests: Sequence[Test]) -> Test:
    """One check that is met when every one of ``tests`` is (short-circuiting, unrolled)."""
    if not tests:
        return _always_met
    if len(tests) == 1:
        return tests[0]
    unrolled = _UNROLLED_TESTS.get(len(tests))
    if unrolled is not None:
        return unrolled(*tests)
    checks = tuple(tests)

    def every(ctx: DealContext) -> bool:
        for check in checks:  # noqa: SIM110 — hot path: a plain loop beats any()/all() over a generator
            if not check(ctx):
                return False
        return True

    return every


def _both(a: Test, b: Test) -> Test:
    def both(ctx: DealContext) -> bool:
        return a(ctx) and b(ctx)

    return both


def _three(a: Test, b: Test, c: Test) -> Test:
    def three(ctx: DealContext) -> bool:
        return a(ctx) and b(ctx) and c(ctx)

    return three


def _four(a: Test, b: Test, c: Test, d: Test) -> Test:
    def four(ctx: DealContext) -> bool:
        return a(ctx) and b(ctx) and c(ctx) and d(ctx)

    return four


# The few tests of a gate, chained without a loop.
_UNROLLED_TESTS: Mapping[int, Callable[..., Test]] = {2: _both, 3: _three, 4: _four}


def _always_met(ctx: DealContext) -> bool:
    return True


def _all_criterion(
    cid: str, subject: Bilingual, children: tuple[CompiledCriterion, ...]
) -> CompiledCriterion:
    test = all_tests([child.test for child in children])
    evaluators = tuple(child.evaluate for child in children)
    met_text = Bilingual(f"{subject.zh}:全部满足", f"{subject.en}: all met")

    def evaluate(ctx: DealContext) -> CriterionResult:
        results = tuple(e(ctx) for e in evaluators)
        unmet = [r.explanation for r in results if not r.met]
        if not unmet:
            return CriterionResult(cid, subject, True, met_text, children=results)
        text = Bilingual(";".join(u.zh for u in unmet), "; ".join(u.en for u in unmet))
        return CriterionResult(cid, subject, False, text, children=results)

    return CompiledCriterion(cid, "all", subject, test, evaluate)


def _any_criterion(
    cid: str, subject: Bilingual, children: tuple[CompiledCriterion, ...]
) -> CompiledCriterion:
    tests = tuple(child.test for child in children)

    def test(ctx: DealContext) -> bool:
        for check in tests:  # noqa: SIM110 — hot path: a plain loop beats any()/all() over a generator
            if check(ctx):
                return True
        return False

    evaluators = tuple(child.evaluate for child in children)

    def evaluate(ctx: DealContext) -> CriterionResult:
        results = tuple(e(ctx) for e in evaluators)
        for result in results:
            if result.met:
                return CriterionResult(
                    cid, subject, True, result.explanation, result.evidence, results
                )
        text = Bilingual(
            "均未满足:" + ";".join(r.explanation.zh for r in results),
            "none met: " + "; ".join(r.explanation.en for r in results),
        )
        return CriterionResult(cid, subject, False, text, children=results)

    return CompiledCriterion(cid, "any", subject, test, evaluate)


def _not_criterion(cid: str, subject: Bilingual, child: CompiledCriterion) -> CompiledCriterion:
    inner_test = child.test
    inner_evaluate = child.evaluate

    def test(ctx: DealContext) -> bool:
        return not inner_test(ctx)

    def evaluate(ctx: DealContext) -> CriterionResult:
        # An undecidable inner criterion counts as unmet, exactly as in ``test``.
        inner = inner_evaluate(ctx)
        if inner.met:
            text = Bilingual(
                f"{subject.zh}:不满足({inner.explanation.zh})",
                f"{subject.en}: not met ({inner.explanation.en})",
            )
        else:
            text = Bilingual(f"{subject.zh}:满足", f"{subject.en}: met")
        return CriterionResult(cid, subject, not inner.met, text, children=(inner,))

    return CompiledCriterion(cid, "not", subject, test, evaluate)
