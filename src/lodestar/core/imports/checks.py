"""Checking every row of a table against a mapping: values parsed, references looked up,
history assembled, and every problem located (row as the user sees it, column) with a fix."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from lodestar.core.imports.fields import ACTIVITY_TYPES, FIELDS, Option, TargetField
from lodestar.core.imports.mapping import (
    CUSTOM_PREFIX,
    IGNORE,
    STAGE_AT_PREFIX,
    ColumnMapping,
    CustomField,
)
from lodestar.core.imports.problems import Problem, Severity
from lodestar.core.imports.stages import StageInfo, StageMatcher
from lodestar.core.imports.table import Table
from lodestar.core.imports.values import (
    DateOrder,
    ValueInvalid,
    compact_name,
    loose_name,
    nearest_names,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_number,
)
from lodestar.core.rules.results import Bilingual

__all__ = [
    "HistoryItem",
    "LookupContext",
    "Reference",
    "RowResult",
    "check_rows",
    "row_key",
]

Ref = int | str
_UNREAD, _INVALID = object(), object()
_PARSED_MAX = 100_000
_DEAL_PLAIN = (
    "name",
    "amount",
    "currency",
    "close_date",
    "expected_close_date",
    "closed_at",
    "created_at",
    "stage_entered_at",
    "external_ref",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ALIAS_SPLIT = re.compile(r"[,，、;；|/]")


@dataclass(frozen=True, slots=True)
class LookupContext:
    """What the rows are checked against, filled by the caller from the database.

    Name mappings are matched loosely (case, full-width forms and repeated spaces ignored);
    key mappings exactly. ``timezone`` (an IANA name) is the zone of times written without one.
    """

    stages: Sequence[StageInfo] = ()
    products: Mapping[str, Ref] = field(default_factory=dict)
    accounts: Mapping[str, Ref] = field(default_factory=dict)
    account_keys: Mapping[str, Ref] = field(default_factory=dict)
    members: Mapping[str, Ref] = field(default_factory=dict)
    teams: Mapping[str, Ref] = field(default_factory=dict)
    contacts: Mapping[str, Ref] = field(default_factory=dict)
    decision_roles: Mapping[str, str] = field(default_factory=dict)
    deal_keys: Mapping[str, Ref] = field(default_factory=dict)
    existing_keys: Collection[str] = frozenset()
    event_types: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """Another record a row names. ``id`` None: not found (``create``: the import makes it;
    otherwise the field stays empty, with a warning, or the row has an error)."""

    kind: str
    value: str
    id: Ref | None = None
    create: bool = False


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """The deal entered ``stage`` at ``at`` (a stage move to append with its original time)."""

    stage: str
    at: dt.datetime  # aware, in the context's time zone unless the file gave an offset
    amount: Decimal | None = None
    from_stage: str | None = None
    source: str = ""


@dataclass(slots=True)
class RowResult:
    number: int
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    references: dict[str, Reference] = field(default_factory=dict)
    history: list[HistoryItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: The key is among the context's ``existing_keys`` (imported before: an update).
    exists: bool = False

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


_NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("name",),
    "products": ("name",),
    "contacts": ("account", "account_key", "name", "phone", "email"),
    "stage_history": ("deal", "stage", "changed_at"),
}


def row_key(kind: str, parts: Sequence[str]) -> str:
    """A stable key for a row without an external id: a hash of its identifying values."""
    text = "\x1f".join([kind, *(loose_name(p) for p in parts)])
    return "h-" + hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


class _Names:
    """A loose-name index over one mapping, with "did you mean" suggestions (cached)."""

    def __init__(self, names: Mapping[str, Ref]) -> None:
        self.names = names
        self.index: dict[str, Ref] = {}
        for name, ref in names.items():
            self.index.setdefault(loose_name(name), ref)
        self._near: dict[str, list[str]] = {}

    def get(self, value: str) -> Ref | None:
        return self.index.get(loose_name(value))

    def near(self, value: str) -> list[str]:
        if value not in self._near:
            self._near[value] = nearest_names(value, self.names)
        return self._near[value]


def _options_index(options: Sequence[Option]) -> dict[str, str]:
    index: dict[str, str] = {}
    for option in options:
        for word in (option.key, option.label.zh, option.label.en, *option.synonyms):
            index.setdefault(compact_name(word), option.key)
    return index


_DATE_HINT = {
    "ymd": ("2024-03-05 或 2024/3/5", "2024-03-05 or 2024/3/5"),
    "dmy": ("05/03/2024(日/月/年)或 2024-03-05", "05/03/2024 (day/month/year) or 2024-03-05"),
    "mdy": ("03/05/2024(月/日/年)或 2024-03-05", "03/05/2024 (month/day/year) or 2024-03-05"),
}


class _Checker:
    def __init__(
        self, kind: str, mapping: ColumnMapping, table: Table, context: LookupContext
    ) -> None:
        self.kind = kind
        self.mapping = mapping
        self.context = context
        self.fields: dict[str, TargetField] = {f.key: f for f in FIELDS[kind]}
        self.order = cast(DateOrder, mapping.date_order)
        positions = {h: i for i, h in enumerate(table.headers)}
        self.targets: dict[str, list[tuple[str, int]]] = {}
        self.customs: list[tuple[CustomField, str, int]] = []
        self.stage_at: list[tuple[str, str, int]] = []
        for rule in mapping.columns:
            if rule.target == IGNORE or rule.column not in positions:
                continue
            where = (rule.column, positions[rule.column])
            if rule.target.startswith(CUSTOM_PREFIX) and rule.custom is not None:
                self.customs.append((rule.custom, *where))
            elif rule.target.startswith(STAGE_AT_PREFIX):
                self.stage_at.append((rule.target[len(STAGE_AT_PREFIX) :], *where))
            elif rule.target in self.fields:
                self.targets.setdefault(rule.target, []).append(where)
        self.key_index = positions.get(mapping.key_column) if mapping.key_column else None
        self.mapped_indices = sorted(
            {index for wheres in self.targets.values() for _, index in wheres}
            | {index for _, _, index in self.customs}
            | {index for _, _, index in self.stage_at}
        )
        self.value_maps = {
            target: {compact_name(k): v for k, v in values.items()}
            for target, values in mapping.value_maps.items()
            if target != "stage"
        }
        self.stages = StageMatcher(context.stages, mapping.value_maps.get("stage"))
        self.products = _Names(context.products)
        self.accounts = _Names(context.accounts)
        self.members = _Names(context.members)
        self.teams = _Names(context.teams)
        self.contacts = _Names(context.contacts)
        self.roles = _Names(context.decision_roles)
        self.activity_types = _options_index(ACTIVITY_TYPES)
        for name, key in context.event_types.items():
            self.activity_types[compact_name(name)] = key
            self.activity_types.setdefault(compact_name(key), key)
        self.option_indices = {
            key: _options_index(f.choices) for key, f in self.fields.items() if f.choices
        }
        self.custom_choices = {
            custom.key: {compact_name(c): c for c in custom.choices}
            for custom, _, _ in self.customs
            if custom.type == "choice"
        }
        self.zone = context.timezone or "UTC"
        zone = ZoneInfo(self.zone)
        order = self.order
        self.parsers: dict[str, Callable[[str], Any]] = {
            "number": parse_number,
            "money": parse_number,
            "date": lambda text: parse_date(text, order),
            "datetime": lambda text: parse_datetime(text, order, zone),
            "boolean": parse_bool,
        }
        self.parsed: dict[tuple[str, str], Any] = {}
        self.seen: dict[str, int] = {}
        self.row: list[str] = []
        self.existing = context.existing_keys

    # --- helpers -----------------------------------------------------------------------

    def raw(self, row: Sequence[str], target: str) -> tuple[str, str | None]:
        """The row's text for ``target`` and the column it came from."""
        wheres = self.targets.get(target)
        if not wheres:
            return "", None
        if len(wheres) == 1:
            column, index = wheres[0]
            value = row[index]
        elif target == "name":
            parts = [row[i] for _, i in wheres if row[i]]
            cjk = all(any("\u4e00" <= ch <= "\u9fff" for ch in p) for p in parts)
            value = ("" if cjk else " ").join(parts)
            column = wheres[0][0]
        else:
            column, value = wheres[0][0], ""
            for name, index in wheres:
                if row[index]:
                    column, value = name, row[index]
                    break
        mapped = self.value_maps.get(target)
        if mapped and value:
            value = mapped.get(compact_name(value), value)
        return value, column

    def problem(
        self,
        result: RowResult,
        column: str | None,
        target: str | None,
        code: str,
        message: Bilingual,
        hint: Bilingual | None = None,
        severity: Severity = "error",
    ) -> None:
        result.problems.append(
            Problem(result.number, column, target, severity, message, hint, code)
        )

    def label(self, target: str) -> Bilingual:
        f = self.fields.get(target)
        return f.label if f else Bilingual(target, target)

    def parse(self, result: RowResult, target: str) -> Any:
        """The parsed value of a plain (non-reference) field, or None (empty or wrong)."""
        value, column = self.raw(self.row, target)
        f = self.fields[target]
        if not value:
            if f.required:
                self.required_empty(result, column, target)
            return None
        return self.convert(result, column, target, f.type, value, f.max_length)

    def convert(
        self,
        result: RowResult,
        column: str | None,
        target: str,
        type_: str,
        value: str,
        max_length: int | None = None,
    ) -> Any:
        parser = self.parsers.get(type_)
        if parser is not None:
            # Files repeat their values (the same days, amounts, yes/no): each is read once.
            found = self.parsed.get((type_, value), _UNREAD)
            if found is _UNREAD:
                try:
                    found = parser(value)
                except ValueInvalid:
                    found = _INVALID
                if len(self.parsed) >= _PARSED_MAX:
                    self.parsed.clear()
                self.parsed[(type_, value)] = found
            if found is _INVALID:
                label = self.label(target) if target in self.fields else Bilingual(target, target)
                self.invalid(result, column, target, type_, value, label)
                return None
            return found
        if type_ == "email" and not _EMAIL.match(value):
            self.problem(
                result,
                column,
                target,
                "email_invalid",
                Bilingual(
                    f"“{value}”不是有效的邮件地址,已留空。",
                    f"“{value}” is not a valid e-mail address; left empty.",
                ),
                Bilingual("写成 name@example.com 的形式。", "Write it as name@example.com."),
                severity="warning",
            )
            return None
        if max_length is not None and len(value) > max_length:
            label = self.label(target) if target in self.fields else Bilingual(target, target)
            self.problem(
                result,
                column,
                target,
                "too_long",
                Bilingual(
                    f"“{label.zh}”有 {len(value)} 个字符,最多 {max_length} 个。",
                    f"“{label.en}” has {len(value)} characters; at most {max_length} are allowed.",
                ),
                Bilingual("缩短后重新导入这一行。", "Shorten it and import the row again."),
            )
            return None
        return value

    def invalid(
        self,
        result: RowResult,
        column: str | None,
        target: str,
        type_: str,
        value: str,
        label: Bilingual,
    ) -> None:
        if type_ in ("date", "datetime"):
            zh, en = _DATE_HINT[self.order]
            self.problem(
                result,
                column,
                target,
                "date_invalid",
                Bilingual(f"“{value}”不是日期。", f"“{value}” is not a date."),
                Bilingual(f"“{label.zh}”请写成 {zh}。", f"Write “{label.en}” as {en}."),
            )
        elif type_ in ("number", "money"):
            self.problem(
                result,
                column,
                target,
                "number_invalid",
                Bilingual(f"“{value}”不是数字。", f"“{value}” is not a number."),
                Bilingual(
                    f"“{label.zh}”请只写数字,如 1234.5、1,234 或 1.2万。",
                    f"Write “{label.en}” as a number, such as 1234.5 or 1,234.",
                ),
            )
        else:
            self.problem(
                result,
                column,
                target,
                "boolean_invalid",
                Bilingual(f"“{value}”不是“是/否”。", f"“{value}” is not a yes/no value."),
                Bilingual(
                    f"“{label.zh}”请写 是/否、有/无、Y/N 或 1/0。",
                    f"Write “{label.en}” as yes/no, Y/N, true/false or 1/0.",
                ),
            )

    def required_empty(self, result: RowResult, column: str | None, target: str) -> None:
        label = self.label(target)
        self.problem(
            result,
            column,
            target,
            "required_empty",
            Bilingual(f"必填的“{label.zh}”为空。", f"The required “{label.en}” is empty."),
            Bilingual(
                f"填写“{label.zh}”后重新导入这一行。",
                f"Fill in “{label.en}” and import the row again.",
            ),
        )

    def choice(self, result: RowResult, target: str) -> str | None:
        value, column = self.raw(self.row, target)
        if not value:
            if self.fields[target].required:
                self.required_empty(result, column, target)
            return None
        index = self.option_indices[target]
        found = index.get(compact_name(value))
        if found is None:
            label = self.label(target)
            options = self.fields[target].choices
            self.problem(
                result,
                column,
                target,
                "choice_unknown",
                Bilingual(
                    f"“{value}”不是“{label.zh}”的可选值。",
                    f"“{value}” is not a value of “{label.en}”.",
                ),
                Bilingual(
                    "可选:" + "、".join(o.label.zh for o in options),
                    "Choose one of: " + ", ".join(o.label.en for o in options),
                ),
            )
        return found

    def lookup(
        self,
        result: RowResult,
        target: str,
        names: _Names,
        kind: str,
        *,
        unknown: Literal["create", "warning", "error"],
    ) -> Reference | None:
        value, column = self.raw(self.row, target)
        if not value:
            if self.fields[target].required:
                self.required_empty(result, column, target)
            return None
        ref = names.get(value)
        if ref is not None:
            reference = Reference(kind, value, ref)
        elif unknown == "create":
            reference = Reference(kind, value, None, create=True)
        else:
            reference = Reference(kind, value, None)
            near = names.near(value)
            message, hint = _MISSING[kind](value)
            if near:
                hint = Bilingual(
                    f"是不是:{'、'.join(near)}?{hint.zh}",
                    f"Did you mean: {', '.join(near)}? {hint.en}",
                )
            self.problem(
                result,
                column,
                target,
                f"{kind}_unknown",
                message,
                hint,
                severity="warning" if unknown == "warning" else "error",
            )
        result.references[target] = reference
        return reference

    def stage(self, result: RowResult, target: str, value: str, column: str | None) -> str | None:
        found = self.stages.match(value)
        if found is None:
            near = self.stages.suggestions(value)
            names = self.stages.names()
            if near:
                hint = Bilingual(
                    f"是不是:{'、'.join(near)}?也可以在映射中把“{value}”对应到某个阶段。",
                    f"Did you mean: {', '.join(near)}? You can also map “{value}” to a stage "
                    "in the mapping.",
                )
            else:
                hint = Bilingual(
                    f"在映射中把“{value}”对应到一个阶段(可选:{'、'.join(names[:12])})。",
                    f"Map “{value}” to one of the stages in the mapping ({', '.join(names[:12])}).",
                )
            self.problem(
                result,
                column,
                target,
                "stage_unknown",
                Bilingual(
                    f"阶段“{value}”不在销售流程中。",
                    f"The stage “{value}” is not in the sales process.",
                ),
                hint,
            )
        return found

    # --- the kinds ---------------------------------------------------------------------

    def check(self, number: int, row: list[str]) -> RowResult:
        result = RowResult(number=number, key="")
        self.row = row
        getattr(self, "_" + self.kind)(result)
        self.customs_of(result, row)
        self.key_of(result, row)
        return result

    def customs_of(self, result: RowResult, row: list[str]) -> None:
        for custom, column, index in self.customs:
            value = row[index]
            if not value:
                continue
            if custom.type == "text":
                result.custom[custom.key] = value
            elif custom.type == "choice":
                choice = self.custom_choices[custom.key].get(compact_name(value))
                if choice is None:
                    self.problem(
                        result,
                        column,
                        CUSTOM_PREFIX + custom.key,
                        "choice_unknown",
                        Bilingual(
                            f"“{value}”不是“{custom.label.zh}”的可选值。",
                            f"“{value}” is not a value of “{custom.label.en}”.",
                        ),
                        Bilingual(
                            "在映射中把它加入可选值,或改为文本类型。可选:"
                            + "、".join(custom.choices[:12]),
                            "Add it to the choices in the mapping, or make the field text. "
                            "Choices: " + ", ".join(custom.choices[:12]),
                        ),
                    )
                else:
                    result.custom[custom.key] = choice
            else:
                parsed = self.convert(
                    result, column, CUSTOM_PREFIX + custom.key, custom.type, value
                )
                if parsed is not None:
                    result.custom[custom.key] = parsed

    def key_of(self, result: RowResult, row: list[str]) -> None:
        key = ""
        if self.key_index is not None:
            key = row[self.key_index]
            if not key:
                self.problem(
                    result,
                    self.mapping.key_column,
                    None,
                    "key_empty",
                    Bilingual(
                        "唯一编号为空,按整行内容识别这一行。",
                        "The key is empty; the row is recognised by its content.",
                    ),
                    Bilingual(
                        "填写编号,以便再次导入时更新而不是新建。",
                        "Fill in the key so that a later import updates the row "
                        "instead of adding it again.",
                    ),
                    severity="warning",
                )
        if not key:
            natural = _NATURAL_KEYS.get(self.kind)
            parts: list[str] = []
            if natural and any(t in self.targets for t in natural):
                for target in natural:
                    parts.append(self.raw(row, target)[0])
            else:
                parts = [row[i] for i in self.mapped_indices]
            key = row_key(self.kind, parts)
        result.key = key
        first = self.seen.get(key)
        if first is not None:
            self.problem(
                result,
                self.mapping.key_column,
                None,
                "duplicate_key",
                Bilingual(
                    f"与第 {first} 行重复(编号 {key})。", f"Duplicates row {first} (key {key})."
                ),
                Bilingual(
                    "删除重复的行,或给它们不同的编号;只导入第一次出现的行。",
                    "Delete the repeated row or give it its own key; only the first "
                    "one is imported.",
                ),
            )
        else:
            self.seen[key] = result.number
        result.exists = key in self.existing

    def _accounts(self, result: RowResult) -> None:
        values = result.values
        for target in ("name", "industry", "region", "external_ref"):
            if target in self.targets or self.fields[target].required:
                values[target] = self.parse(result, target)
        if "tier" in self.targets:
            values["tier"] = self.choice(result, "tier")
        if "repurchase_rate" in self.targets:
            rate = self.parse(result, "repurchase_rate")
            if rate is not None and 1 < rate <= 100:
                rate = rate / 100
            if rate is not None and not 0 <= rate <= 1:
                value, column = self.raw(self.row, "repurchase_rate")
                self.problem(
                    result,
                    column,
                    "repurchase_rate",
                    "out_of_range",
                    Bilingual(
                        f"复购率“{value}”不在 0 到 1 之间。",
                        f"The repurchase rate “{value}” is not between 0 and 1.",
                    ),
                    Bilingual("写成 0.35 或 35%。", "Write it as 0.35 or 35%."),
                )
                rate = None
            values["repurchase_rate"] = rate
        if "owner" in self.targets:
            self.owner(result)

    def owner(self, result: RowResult) -> None:
        self.lookup(
            result,
            "owner",
            self.members,
            "member",
            unknown="warning",
        )

    def account(self, result: RowResult, *, empty: Literal["warning", "error"]) -> None:
        if "account_key" in self.targets:
            value, column = self.raw(self.row, "account_key")
            if value:
                ref = self.context.account_keys.get(value)
                if ref is None:
                    self.problem(
                        result,
                        column,
                        "account_key",
                        "account_key_unknown",
                        Bilingual(
                            f"找不到外部编号为“{value}”的客户。",
                            f"No account has the external reference “{value}”.",
                        ),
                        Bilingual(
                            "先导入客户文件(含此编号),再导入这个文件。",
                            "Import the accounts file (with this reference) first, then this file.",
                        ),
                    )
                result.references["account"] = Reference("account", value, ref)
                return
        value, column = self.raw(self.row, "account")
        if not value:
            if empty == "error":
                self.required_empty(result, column or self.column_of("account_key"), "account")
            else:
                self.problem(
                    result,
                    column or self.column_of("account_key"),
                    "account",
                    "account_empty",
                    Bilingual(
                        "客户为空;商机已导入到“未填写客户”名下。",
                        "The account is empty; the deal is imported under “No account given”.",
                    ),
                    Bilingual(
                        "在文件中填写客户后重新导入,商机会移到该客户名下。",
                        "Fill in the account in the file and import it again to move "
                        "the deal to it.",
                    ),
                    severity="warning",
                )
            return
        ref = self.accounts.get(value)
        result.references["account"] = Reference("account", value, ref, create=ref is None)

    def column_of(self, target: str) -> str | None:
        wheres = self.targets.get(target)
        return wheres[0][0] if wheres else None

    def _contacts(self, result: RowResult) -> None:
        values = result.values
        for target in ("name", "title", "phone", "email", "external_ref"):
            if target in self.targets or self.fields[target].required:
                values[target] = self.parse(result, target)
        if "is_decision_maker" in self.targets:
            values["is_decision_maker"] = self.parse(result, "is_decision_maker")
        self.account(result, empty="error")
        if "decision_role" in self.targets:
            self.lookup(
                result,
                "decision_role",
                self.roles,
                "decision_role",
                unknown="warning",
            )

    def _products(self, result: RowResult) -> None:
        values = result.values
        for target in ("name", "model_number", "category", "list_price", "external_ref"):
            if target in self.targets or self.fields[target].required:
                values[target] = self.parse(result, target)
        if "aliases" in self.targets:
            raw, _ = self.raw(self.row, "aliases")
            values["aliases"] = [a.strip() for a in _ALIAS_SPLIT.split(raw) if a.strip()]

    def _deals(self, result: RowResult) -> None:
        values = result.values
        for target in _DEAL_PLAIN:
            if target in self.targets:
                values[target] = self.parse(result, target)
        if not values.get("currency") and self.mapping.options.get("currency"):
            values["currency"] = str(self.mapping.options["currency"])
        self._deal_references(result)
        stage, terminal = self._deal_stage(result)
        values["stage"] = stage
        values["status"] = terminal or ("open" if stage else None)
        close_date = values.pop("close_date", None)
        if close_date is not None:
            if terminal and values.get("closed_at") is None:
                values["closed_at"] = _midnight(close_date, self.zone)
            elif not terminal and values.get("expected_close_date") is None:
                values["expected_close_date"] = close_date
        result.history = self._deal_history(result, stage, terminal)
        if result.history:
            self._created_at(result, result.history[0].at)
        if not values.get("name"):
            self._deal_name(result)

    def _deal_references(self, result: RowResult) -> None:
        self.account(result, empty="warning")
        if "owner" in self.targets:
            self.owner(result)
        if "team" in self.targets:
            self.lookup(
                result,
                "team",
                self.teams,
                "team",
                unknown="warning",
            )
        if "product" in self.targets:
            self.lookup(
                result,
                "product",
                self.products,
                "product",
                unknown="warning",
            )

    def _deal_stage(self, result: RowResult) -> tuple[str | None, Literal["won", "lost"] | None]:
        """The deal's stage key and its terminal (won/lost), the status column considered."""
        status = self.choice(result, "status") if "status" in self.targets else None
        stage_value, stage_column = self.raw(self.row, "stage")
        stage: str | None = None
        if stage_value:
            stage = self.stage(result, "stage", stage_value, stage_column)
        elif status in ("won", "lost"):
            stage = self.stages.match("@" + status)
        elif "stage" in self.targets:
            self.required_empty(result, stage_column, "stage")
        else:
            stage = self.stages.match("@first")
        terminal = self.stages.terminal(stage) if stage else None
        if stage and terminal is None and status in ("won", "lost"):
            stage = self.stages.match("@" + status) or stage
            terminal = self.stages.terminal(stage)
        return stage, terminal

    def _deal_history(
        self, result: RowResult, stage: str | None, terminal: str | None
    ) -> list[HistoryItem]:
        """The stages the deal entered, with their times: the ``stage_at:`` columns, then the
        current stage (entered when it closed, when it entered the stage, or was created)."""
        values = result.values
        history: list[HistoryItem] = []
        for ref, column, index in self.stage_at:
            text = self.row[index]
            moment = text and self.convert(result, column, STAGE_AT_PREFIX + ref, "datetime", text)
            key = self.stages.match(ref) if moment else None
            if moment and key is not None:
                history.append(HistoryItem(key, moment, source=ref))
        if stage is None:
            return history
        if terminal:
            final_at = values.get("closed_at")
            if final_at is None:
                self._closed_without_date(result)
        else:
            final_at = values.get("stage_entered_at") or (
                None if history else values.get("created_at")
            )
        if final_at is not None and not any(h.stage == stage for h in history):
            history.append(HistoryItem(stage, final_at, values.get("amount"), source=stage))
        history.sort(key=lambda item: item.at)
        return history

    def _created_at(self, result: RowResult, first: dt.datetime) -> None:
        """A deal starts no later than its first stage move (a file's creation date may be the
        day the records were loaded into the old system, after they had closed)."""
        created = result.values.get("created_at")
        if created is not None and created > first:
            self.problem(
                result,
                self.column_of("created_at"),
                "created_at",
                "created_after_history",
                Bilingual(
                    f"创建时间 {created:%Y-%m-%d} 晚于最早的阶段时间 {first:%Y-%m-%d};"
                    "按最早的阶段时间创建。",
                    f"Created {created:%Y-%m-%d}, after its earliest stage date {first:%Y-%m-%d}; "
                    "the deal is created at the earliest stage date.",
                ),
                Bilingual(
                    "检查创建时间和阶段日期是否填反。",
                    "Check whether the creation and stage dates are swapped.",
                ),
                severity="warning",
            )
        if created is None or created > first:
            result.values["created_at"] = first

    def _closed_without_date(self, result: RowResult) -> None:
        self.problem(
            result,
            self.column_of("closed_at") or self.column_of("close_date") or self.column_of("stage"),
            "closed_at",
            "closed_without_date",
            Bilingual(
                "已赢单/输单的商机没有关闭日期;按导入时间记录。",
                "A won or lost deal without a close date; the import time is recorded.",
            ),
            Bilingual(
                "在文件中加上关闭日期并重新导入。",
                "Add the close date to the file and import it again.",
            ),
            severity="warning",
        )

    def _deal_name(self, result: RowResult) -> None:
        """A deal without a name is called "account · product" (or by its key)."""
        account = result.references.get("account")
        product = result.references.get("product")
        parts = [r.value for r in (account, product) if r is not None and r.value]
        if not parts and self.key_index is not None and self.row[self.key_index]:
            parts = [self.row[self.key_index]]
        result.values["name"] = " · ".join(parts)[:200] if parts else None
        if result.values["name"] is None:
            self.required_empty(result, self.column_of("name"), "name")

    def _stage_history(self, result: RowResult) -> None:
        row = self.row
        values = result.values
        value, column = self.raw(row, "deal")
        if not value:
            self.required_empty(result, column, "deal")
        else:
            ref = self.context.deal_keys.get(value)
            if ref is None:
                self.problem(
                    result,
                    column,
                    "deal",
                    "deal_unknown",
                    Bilingual(f"找不到编号为“{value}”的商机。", f"No deal has the key “{value}”."),
                    Bilingual(
                        "先导入商机文件(含此编号),再导入阶段历史。",
                        "Import the deals file (with this key) first, then the stage history.",
                    ),
                )
            result.references["deal"] = Reference("deal", value, ref)
        stage_value, stage_column = self.raw(row, "stage")
        stage = None
        if stage_value:
            stage = self.stage(result, "stage", stage_value, stage_column)
        else:
            self.required_empty(result, stage_column, "stage")
        values["stage"] = stage
        values["changed_at"] = self.parse(result, "changed_at")
        values["amount"] = self.parse(result, "amount") if "amount" in self.targets else None
        from_stage = None
        from_value, _ = self.raw(row, "from_stage")
        if from_value:
            from_stage = self.stages.match(from_value)
        values["from_stage"] = from_stage
        if "external_ref" in self.targets:
            values["external_ref"] = self.parse(result, "external_ref")
        if stage is not None and values["changed_at"] is not None:
            result.history = [
                HistoryItem(stage, values["changed_at"], values["amount"], from_stage, stage_value)
            ]

    def _activity_type(self, result: RowResult) -> str | None:
        value, column = self.raw(self.row, "type")
        if not value:
            self.required_empty(result, column, "type")
            return None
        found = self.activity_types.get(compact_name(value))
        if found is None:
            words = [o.label.zh for o in ACTIVITY_TYPES]
            near = nearest_names(value, [*words, *(o.label.en for o in ACTIVITY_TYPES)])
            self.problem(
                result,
                column,
                "type",
                "activity_type_unknown",
                Bilingual(f"不认识的活动类型“{value}”。", f"Unknown activity type “{value}”."),
                Bilingual(
                    ("是不是:" + "、".join(near) + "?" if near else "")
                    + "可选:"
                    + "、".join(words),
                    (f"Did you mean: {', '.join(near)}? " if near else "")
                    + "Choose one of: "
                    + ", ".join(o.label.en for o in ACTIVITY_TYPES),
                ),
            )
        return found

    def _activities(self, result: RowResult) -> None:
        row = self.row
        values = result.values
        values["type"] = self._activity_type(result)
        values["occurred_at"] = self.parse(result, "occurred_at")
        for target in ("summary", "minutes", "external_ref"):
            if target in self.targets:
                values[target] = self.parse(result, target)
        deal_value, deal_column = self.raw(row, "deal")
        if deal_value:
            ref = self.context.deal_keys.get(deal_value)
            if ref is None:
                self.problem(
                    result,
                    deal_column,
                    "deal",
                    "deal_unknown",
                    Bilingual(
                        f"找不到编号为“{deal_value}”的商机。",
                        f"No deal has the key “{deal_value}”.",
                    ),
                    Bilingual(
                        "先导入商机文件,或清空这一格只关联客户。",
                        "Import the deals file first, or clear the cell to link the account only.",
                    ),
                )
            result.references["deal"] = Reference("deal", deal_value, ref)
        if "account" in self.targets:
            self.lookup(
                result,
                "account",
                self.accounts,
                "account",
                unknown="error",
            )
        if not deal_value and not result.references.get("account"):
            self.problem(
                result,
                deal_column or self.column_of("account"),
                "deal",
                "activity_unlinked",
                Bilingual(
                    "活动既没有商机编号也没有客户。",
                    "The activity names neither a deal nor an account.",
                ),
                Bilingual("填写商机编号或客户名称。", "Fill in the deal's key or the account."),
            )
        if "contact" in self.targets:
            self.lookup(
                result,
                "contact",
                self.contacts,
                "contact",
                unknown="warning",
            )
        if "owner" in self.targets:
            self.owner(result)


def _missing_member(value: str) -> tuple[Bilingual, Bilingual]:
    return (
        Bilingual(
            f"负责人“{value}”不是本组织的成员,将由默认负责人接手。",
            f"The owner “{value}” is no member of the organization; the default owner takes it.",
        ),
        Bilingual(
            "先在团队管理中添加此成员,或在映射中对应到现有成员。",
            "Add the member in team management first, or map the name to an existing member.",
        ),
    )


def _missing_product(value: str) -> tuple[Bilingual, Bilingual]:
    return (
        Bilingual(
            f"产品“{value}”不在产品目录中;商机已导入,产品留空。",
            f"The product “{value}” is not in the catalogue; the deal is imported without a "
            "product.",
        ),
        Bilingual(
            "在映射的“产品”取值对应中把它对应到目录中的产品,或先把它加入产品目录。",
            "Map it to a catalogue product in the mapping's product values, or add it to the "
            "catalogue first.",
        ),
    )


def _missing_role(value: str) -> tuple[Bilingual, Bilingual]:
    return (
        Bilingual(
            f"决策链角色“{value}”不存在,已留空。",
            f"The decision-chain role “{value}” does not exist; left empty.",
        ),
        Bilingual(
            "在销售流程中添加该角色,或改用已有角色。",
            "Add the role to the playbook, or use an existing one.",
        ),
    )


def _missing_team(value: str) -> tuple[Bilingual, Bilingual]:
    return (
        Bilingual(f"找不到团队“{value}”,已留空。", f"No team is named “{value}”; left empty."),
        Bilingual("检查团队名称。", "Check the team's name."),
    )


def _missing_account(value: str) -> tuple[Bilingual, Bilingual]:
    return (
        Bilingual(f"找不到客户“{value}”。", f"No account is named “{value}”."),
        Bilingual("先导入或新建该客户。", "Import or add the account first."),
    )


def _missing_contact(value: str) -> tuple[Bilingual, Bilingual]:
    return (
        Bilingual(f"找不到联系人“{value}”,已留空。", f"No contact is named “{value}”; left empty."),
        Bilingual("先导入联系人。", "Import the contacts first."),
    )


_MISSING: dict[str, Callable[[str], tuple[Bilingual, Bilingual]]] = {
    "member": _missing_member,
    "product": _missing_product,
    "decision_role": _missing_role,
    "team": _missing_team,
    "account": _missing_account,
    "contact": _missing_contact,
}


def _midnight(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))


def check_rows(
    kind: str,
    mapping: ColumnMapping,
    table: Table,
    context: LookupContext,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[RowResult]:
    """Each data row of ``table`` read through ``mapping``: its values, references, history
    and problems. Rows come in file order; ``number`` is the row as the user sees it."""
    checker = _Checker(kind, mapping, table, context)
    total = len(table.rows)
    for position, (number, row) in enumerate(zip(table.row_numbers, table.rows, strict=True)):
        yield checker.check(number, row)
        if progress is not None and (position + 1) % 1000 == 0:
            progress(position + 1, total)
    if progress is not None:
        progress(total, total)
