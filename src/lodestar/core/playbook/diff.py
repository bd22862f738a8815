"""Old playbook vs new playbook → a human-readable list of changes (for publishing and the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from lodestar.core.playbook.durations import format_duration
from lodestar.core.playbook.model import (
    AllCriterion,
    AnyCriterion,
    AttachmentCriterion,
    CelCriterion,
    CountCriterion,
    Criterion,
    EventCriterion,
    FieldCriterion,
    FieldDef,
    NotCriterion,
    Playbook,
    Stage,
    Text,
    default_criterion_id,
)

__all__ = ["Change", "ChangeKind", "describe_criterion", "diff_playbooks"]

_T = TypeVar("_T")
ChangeKind = Literal["added", "removed", "changed", "moved"]
_VERB_ZH = {"added": "新增", "removed": "删除", "changed": "修改", "moved": "调整"}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. ``path`` names the thing (``stages.demo.exit.minutes``); ``before`` and
    ``after`` are short readable renderings (``None`` when absent)."""

    kind: ChangeKind
    path: str
    what_en: str
    what_zh: str
    before: str | None = None
    after: str | None = None

    @property
    def text(self) -> str:
        head = f"{self.kind} {self.what_en}"
        if self.kind in ("changed", "moved"):
            return f"{head}: {self.before} → {self.after}"
        return f"{head}: {self.after if self.kind == 'added' else self.before}"

    @property
    def text_zh(self) -> str:
        head = f"{_VERB_ZH[self.kind]}{self.what_zh}"
        if self.kind in ("changed", "moved"):
            return f"{head}:{self.before} → {self.after}"
        return f"{head}:{self.after if self.kind == 'added' else self.before}"

    def __str__(self) -> str:
        return f"{self.path}: {self.text}"


def _name(text: Text | None) -> str:
    if text is None:
        return "—"
    return text.zh if text.zh == text.en else f"{text.zh} / {text.en}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "—"
    return str(value)


def describe_criterion(criterion: Criterion) -> str:
    """A one-line rendering of a criterion, e.g. ``count contacts(is_decision_maker=true) ≥ 2``."""
    if isinstance(criterion, FieldCriterion):
        return _describe_field(criterion)
    if isinstance(criterion, CountCriterion):
        spec = criterion.count
        where = ", ".join(f"{k}={_value(v)}" for k, v in spec.where.items())
        window = f" within {format_duration(spec.within)}" if spec.within else ""
        return f"count {spec.of}({where}){window} ≥ {spec.at_least}"
    if isinstance(criterion, AttachmentCriterion):
        return _describe_attachment(criterion)
    if isinstance(criterion, EventCriterion):
        return _describe_event(criterion)
    if isinstance(criterion, CelCriterion):
        return "cel: " + " ".join(criterion.cel.split())
    if isinstance(criterion, AllCriterion):
        return "all of (" + "; ".join(describe_criterion(c) for c in criterion.all) + ")"
    if isinstance(criterion, AnyCriterion):
        return "any of (" + "; ".join(describe_criterion(c) for c in criterion.any) + ")"
    assert isinstance(criterion, NotCriterion)
    return "not (" + describe_criterion(criterion.not_) + ")"


def _describe_field(criterion: FieldCriterion) -> str:
    op = criterion.operator
    if op == "is_set":
        return f"{criterion.field} {'is set' if criterion.operand else 'is empty'}"
    symbol = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}.get(op, op)
    return f"{criterion.field} {symbol} {_value(criterion.operand)}"


def _describe_attachment(criterion: AttachmentCriterion) -> str:
    a = criterion.attachment
    parts = [f"attachment {a.kind}"]
    if a.types:
        parts.append("[" + "/".join(a.types) + "]")
    if a.min_chars:
        parts.append(f"≥ {a.min_chars} chars")
    if a.at_least > 1:
        parts.append(f"× {a.at_least}")
    if a.within:
        parts.append(f"within {format_duration(a.within)}")
    return " ".join(parts)


def _describe_event(criterion: EventCriterion) -> str:
    e = criterion.event
    parts = [f"event {e.type}"]
    if e.within:
        parts.append(f"within {format_duration(e.within)}")
    if e.text_contains:
        parts.append(f"containing '{e.text_contains}'")
    if e.payload:
        parts.append(_value(dict(e.payload)))
    return " ".join(parts)


def _criterion_ids(criteria: Iterable[Criterion]) -> dict[str, Criterion]:
    """Criteria by id; unnamed ones get a readable id from what they check."""
    out: dict[str, Criterion] = {}
    for index, criterion in enumerate(criteria):
        base = criterion.id or default_criterion_id(criterion, index)
        key = base if base not in out else f"{base}_{index + 1}"
        out[key] = criterion
    return out


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(
        self,
        kind: ChangeKind,
        path: str,
        what_en: str,
        what_zh: str,
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        self.changes.append(Change(kind, path, what_en, what_zh, before, after))

    def value(self, path: str, what_en: str, what_zh: str, old: Any, new: Any) -> None:
        if old != new:
            self.add("changed", path, what_en, what_zh, _value(old), _value(new))

    def keyed(
        self,
        section: str,
        what_en: str,
        what_zh: str,
        old: Mapping[str, _T],
        new: Mapping[str, _T],
        show: Callable[[_T], str],
        inner: Callable[[str, _T, _T], None] | None = None,
    ) -> None:
        for key, item in old.items():
            if key not in new:
                self.add(
                    "removed",
                    f"{section}.{key}",
                    f"{what_en} '{key}'",
                    f"{what_zh}「{key}」",
                    before=show(item),
                )
        for key, item in new.items():
            if key not in old:
                self.add(
                    "added",
                    f"{section}.{key}",
                    f"{what_en} '{key}'",
                    f"{what_zh}「{key}」",
                    after=show(item),
                )
            elif inner is not None:
                inner(key, old[key], item)
            elif show(old[key]) != show(item):
                self.add(
                    "changed",
                    f"{section}.{key}",
                    f"{what_en} '{key}'",
                    f"{what_zh}「{key}」",
                    show(old[key]),
                    show(item),
                )

    def flat(self, section: str, what_zh: str, old: Any, new: Any) -> None:
        """Compare two policy models leaf by leaf."""
        before = _flatten(old.model_dump(mode="json", by_alias=True))
        after = _flatten(new.model_dump(mode="json", by_alias=True))
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                path = f"{section}.{key}" if key else section
                self.add(
                    "changed",
                    path,
                    path,
                    f"{what_zh} {key}".strip(),
                    _value(before.get(key)),
                    _value(after.get(key)),
                )


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def diff_playbooks(old: Playbook, new: Playbook) -> list[Change]:
    """Everything that differs between two playbooks, in file order of the sections."""
    d = _Differ()
    d.value("key", "playbook key", "流程标识", old.key, new.key)
    d.value("name", "playbook name", "流程名称", _name(old.name), _name(new.name))
    d.value("description", "description", "说明", _name(old.description), _name(new.description))
    d.value("industry", "industry", "行业", old.industry, new.industry)
    d.value("currency", "currency", "币种", old.currency, new.currency)
    d.value("timezone", "time zone", "时区", old.timezone, new.timezone)
    for section, en, zh in (
        ("contact_roles", "contact role", "联系人角色"),
        ("attachment_kinds", "attachment kind", "附件类型"),
        ("event_types", "event type", "事件类型"),
    ):
        d.keyed(
            section,
            en,
            zh,
            {c.key: c.name for c in getattr(old, section)},
            {c.key: c.name for c in getattr(new, section)},
            _name,
        )

    def field_changes(key: str, before: FieldDef, after: FieldDef) -> None:
        base = f"fields.{key}"
        d.value(
            f"{base}.type", f"type of field '{key}'", f"字段「{key}」类型", before.type, after.type
        )
        d.value(
            f"{base}.name",
            f"name of field '{key}'",
            f"字段「{key}」名称",
            _name(before.name),
            _name(after.name),
        )
        d.keyed(
            f"{base}.choices",
            f"choice of field '{key}'",
            f"字段「{key}」选项",
            {c.key: c.name for c in before.choices},
            {c.key: c.name for c in after.choices},
            _name,
        )
        d.value(
            f"{base}.required_to_exit",
            f"stages requiring field '{key}'",
            f"必填字段「{key}」的阶段",
            sorted(before.required_to_exit),
            sorted(after.required_to_exit),
        )

    d.keyed(
        "fields",
        "field",
        "字段",
        {f.key: f for f in old.fields},
        {f.key: f for f in new.fields},
        lambda f: f"{_name(f.name)} ({f.type})",
        field_changes,
    )

    def stage_changes(key: str, before: Stage, after: Stage) -> None:
        base = f"stages.{key}"
        for attr, en, zh in (
            ("probability", "probability", "赢率"),
            ("weight", "weight", "权重"),
            ("terminal", "terminal", "终止类型"),
        ):
            d.value(
                f"{base}.{attr}",
                f"{en} of stage '{key}'",
                f"阶段「{key}」{zh}",
                getattr(before, attr),
                getattr(after, attr),
            )
        d.value(
            f"{base}.name",
            f"name of stage '{key}'",
            f"阶段「{key}」名称",
            _name(before.name),
            _name(after.name),
        )
        d.value(
            f"{base}.target_dwell",
            f"target dwell of stage '{key}'",
            f"阶段「{key}」目标停留时长",
            format_duration(before.target_dwell) if before.target_dwell else None,
            format_duration(after.target_dwell) if after.target_dwell else None,
        )
        d.keyed(
            f"{base}.exit",
            f"exit criterion of stage '{key}'",
            f"阶段「{key}」出口条件",
            _criterion_ids(before.exit),
            _criterion_ids(after.exit),
            describe_criterion,
        )

    old_stages = {s.key: s for s in old.stages}
    new_stages = {s.key: s for s in new.stages}
    d.keyed(
        "stages", "stage", "阶段", old_stages, new_stages, lambda s: _name(s.name), stage_changes
    )
    old_order = [s.key for s in old.stages if s.key in new_stages]
    new_order = [s.key for s in new.stages if s.key in old_stages]
    if old_order != new_order:
        d.add(
            "moved",
            "stages",
            "stage order",
            "阶段顺序",
            " → ".join(old_order),
            " → ".join(new_order),
        )

    def trigger_show(trigger: Any) -> str:
        parts = [f"on {trigger.on}"]
        if trigger.stages:
            parts.append("in " + "/".join(trigger.stages))
        if trigger.when is not None:
            parts.append("when " + describe_criterion(trigger.when))
        task = trigger.task
        return (
            ", ".join(parts)
            + f" → task '{task.title.zh}' due {format_duration(task.due)}, owner {task.owner}"
            + ", notify "
            + "/".join(trigger.notify)
        )

    d.keyed(
        "triggers",
        "trigger",
        "触发器",
        {t.id: t for t in old.triggers},
        {t.id: t for t in new.triggers},
        trigger_show,
    )
    d.flat("sla", "SLA", old.sla, new.sla)
    d.flat("risks", "风险规则", old.risks, new.risks)
    d.flat("health", "健康度", old.health, new.health)
    d.flat("scorecard", "评分卡", old.scorecard, new.scorecard)

    def actions_show(action_set: Any) -> str:
        items = ", ".join(f"{a.count}× {a.event or a.attachment}" for a in action_set.actions)
        tiers = "/".join(action_set.account_tiers) or "all accounts"
        return f"{_name(action_set.name)}: {items} per {action_set.period} ({tiers})"

    d.keyed(
        "required_actions",
        "required action set",
        "规定动作",
        {r.id: r for r in old.required_actions},
        {r.id: r for r in new.required_actions},
        actions_show,
    )
    d.flat("forecast", "预测", old.forecast, new.forecast)
    return d.changes
