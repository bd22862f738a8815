"""Which column fills which field: the suggestion from the headers, custom fields inferred from
the values, and the mapping's plain-data form (JSON/YAML) with its own checks."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from lodestar.core.errors import LodestarError
from lodestar.core.imports.fields import FIELDS, KINDS, TargetField
from lodestar.core.imports.problems import Problem
from lodestar.core.imports.stages import LOST_WORDS, WON_WORDS
from lodestar.core.imports.values import (
    ValueInvalid,
    compact_name,
    date_order_of,
    parse_bool,
    parse_date,
    parse_number,
)
from lodestar.core.rules.results import Bilingual

__all__ = [
    "CUSTOM_TYPES",
    "ColumnMapping",
    "ColumnRule",
    "CustomField",
    "MappingInvalid",
    "header_signature",
    "infer_custom",
    "suggest_mapping",
]

CustomType = Literal["number", "date", "choice", "boolean", "text"]
CUSTOM_TYPES: tuple[CustomType, ...] = ("number", "date", "choice", "boolean", "text")
IGNORE = "ignore"
CUSTOM_PREFIX = "custom:"
STAGE_AT_PREFIX = "stage_at:"
DATE_ORDERS = ("ymd", "dmy", "mdy")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_CHOICES = 12
_NOTE = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]|[*＊]")


class MappingInvalid(LodestarError):
    """A mapping that cannot be used; ``problems`` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message.en for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class CustomField:
    key: str
    label: Bilingual
    type: CustomType = "text"
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label.as_dict(),
            "type": self.type,
            "choices": list(self.choices),
        }


@dataclass(frozen=True, slots=True)
class ColumnRule:
    """``target`` is a field key, ``custom:<key>`` (with ``custom``), ``stage_at:<stage>``
    (deals: the time the deal entered that stage) or ``ignore``."""

    column: str
    target: str
    custom: CustomField | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "target": self.target,
            "custom": self.custom.as_dict() if self.custom else None,
        }


@dataclass(slots=True)
class ColumnMapping:
    kind: str
    columns: list[ColumnRule]
    key_column: str | None = None
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    source: str = "headers"  # "saved", "ready:<name>" or "headers"

    # --- plain data ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "columns": [rule.as_dict() for rule in self.columns],
            "key_column": self.key_column,
            "value_maps": {t: dict(m) for t, m in self.value_maps.items()},
            "options": dict(self.options),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, kind: str | None = None) -> ColumnMapping:
        """Read a mapping back; a wrong shape raises :class:`MappingInvalid`."""
        if not isinstance(data, Mapping):
            raise MappingInvalid([_shape("mapping", "a mapping (an object)")])
        the_kind = kind or data.get("kind")
        if not isinstance(the_kind, str):
            raise MappingInvalid([_shape("kind", "one of " + ", ".join(KINDS))])
        columns = _columns_from(data.get("columns", []))
        key_column = data.get("key_column")
        if key_column is not None and not isinstance(key_column, str):
            raise MappingInvalid([_shape("key_column", "a column name or null")])
        raw_maps = data.get("value_maps") or {}
        if not isinstance(raw_maps, Mapping) or not all(
            isinstance(m, Mapping) for m in raw_maps.values()
        ):
            raise MappingInvalid([_shape("value_maps", "an object of objects")])
        value_maps = {
            str(target): {str(k): str(v) for k, v in values.items()}
            for target, values in raw_maps.items()
        }
        options = data.get("options") or {}
        if not isinstance(options, Mapping):
            raise MappingInvalid([_shape("options", "an object")])
        source = data.get("source", "saved")
        return cls(
            kind=the_kind,
            columns=columns,
            key_column=key_column,
            value_maps=value_maps,
            options=dict(options),
            source=str(source),
        )

    # --- reading ---------------------------------------------------------------------------

    def target_of(self, column: str) -> str:
        for rule in self.columns:
            if rule.column == column:
                return rule.target
        return IGNORE

    def columns_for(self, target: str) -> list[str]:
        return [rule.column for rule in self.columns if rule.target == target]

    @property
    def custom_fields(self) -> list[CustomField]:
        return [rule.custom for rule in self.columns if rule.custom is not None]

    @property
    def date_order(self) -> str:
        order = self.options.get("date_order", "ymd")
        return order if order in DATE_ORDERS else "ymd"

    def validate(self, headers: Sequence[str] | None = None) -> list[Problem]:
        """What makes this mapping unusable (errors) or doubtful (warnings), row None."""
        problems: list[Problem] = []
        if self.kind not in KINDS:
            problems.append(
                _mapping_problem(
                    None,
                    None,
                    "kind_unknown",
                    f"不认识的导入类型“{self.kind}”。",
                    f"Unknown import kind “{self.kind}”.",
                    "可选:" + "、".join(KINDS),
                    "Choose one of: " + ", ".join(KINDS),
                )
            )
            return problems
        fields = {f.key: f for f in FIELDS[self.kind]}
        known = set(headers) if headers is not None else None
        seen_columns: set[str] = set()
        custom_keys: dict[str, str] = {}
        for rule in self.columns:
            if rule.column in seen_columns:
                problems.append(
                    _mapping_problem(
                        rule.column,
                        None,
                        "column_twice",
                        f"列“{rule.column}”在映射中出现了两次。",
                        f"Column “{rule.column}” appears twice in the mapping.",
                        "每列只能对应一个字段。",
                        "Map each column to one field only.",
                    )
                )
            seen_columns.add(rule.column)
            if known is not None and rule.column not in known and rule.target != IGNORE:
                problems.append(
                    _mapping_problem(
                        rule.column,
                        None,
                        "column_missing",
                        f"文件中没有列“{rule.column}”。",
                        f"The file has no column “{rule.column}”.",
                        "检查列名是否改过,或从映射中删除这一列。",
                        "Check whether the column was renamed, or remove it from the mapping.",
                        severity="warning",
                    )
                )
            problems.extend(self._rule_problems(rule, fields, custom_keys))
        problems.extend(self._unmapped_required(fields))
        if self.key_column is not None and (
            (known is not None and self.key_column not in known)
            or (known is None and self.key_column not in seen_columns)
        ):
            problems.append(
                _mapping_problem(
                    self.key_column,
                    None,
                    "key_column_missing",
                    f"作为唯一编号的列“{self.key_column}”不在文件中。",
                    f"The key column “{self.key_column}” is not in the file.",
                    "选择文件中的一列作为唯一编号,或不选(按整行内容识别)。",
                    "Choose a column of the file as the key, or none (rows are then "
                    "recognised by their content).",
                )
            )
        order = self.options.get("date_order", "ymd")
        if order not in DATE_ORDERS:
            problems.append(
                _mapping_problem(
                    None,
                    None,
                    "date_order_unknown",
                    f"日期顺序“{order}”无效。",
                    f"The date order “{order}” is not valid.",
                    "可选:ymd(年月日)、dmy(日月年)、mdy(月日年)。",
                    "Choose ymd (year-month-day), dmy (day/month/year) or mdy (month/day/year).",
                )
            )
        return problems

    def _unmapped_required(self, fields: Mapping[str, TargetField]) -> list[Problem]:
        mapped = {rule.target for rule in self.columns}
        problems = []
        for target in fields.values():
            if not target.required or target.key in mapped:
                continue
            if target.key == "account" and "account_key" in mapped:
                continue
            if self.kind == "deals" and target.key == "stage" and "status" in mapped:
                continue
            problems.append(
                _mapping_problem(
                    None,
                    target.key,
                    "required_unmapped",
                    f"必填字段“{target.label.zh}”没有对应的列。",
                    f"The required field “{target.label.en}” has no column.",
                    "在映射中为它选择一列。",
                    "Choose the column that holds it in the mapping.",
                )
            )
        return problems

    def _rule_problems(
        self, rule: ColumnRule, fields: Mapping[str, TargetField], custom_keys: dict[str, str]
    ) -> list[Problem]:
        target = rule.target
        if target == IGNORE or target in fields:
            return []
        if target.startswith(STAGE_AT_PREFIX) and self.kind == "deals":
            return []
        if target.startswith(CUSTOM_PREFIX) and self.kind in ("accounts", "contacts", "deals"):
            custom = rule.custom
            key = target[len(CUSTOM_PREFIX) :]
            problems = []
            if custom is None or custom.key != key or not _KEY.match(key) or len(key) > 64:
                problems.append(
                    _mapping_problem(
                        rule.column,
                        None,
                        "custom_key_invalid",
                        f"列“{rule.column}”的自定义字段标识“{key}”无效。",
                        f"The custom field key “{key}” of column “{rule.column}” is not valid.",
                        "标识用小写英文字母开头,只含小写字母、数字和下划线。",
                        "Keys start with a lower-case letter and hold only lower-case letters, "
                        "digits and underscores.",
                    )
                )
            elif key in custom_keys:
                problems.append(
                    _mapping_problem(
                        rule.column,
                        None,
                        "custom_key_twice",
                        f"列“{rule.column}”和“{custom_keys[key]}”用了同一个自定义字段标识“{key}”。",
                        f"Columns “{rule.column}” and “{custom_keys[key]}” use the same custom "
                        f"field key “{key}”.",
                        "给其中一个换一个标识。",
                        "Give one of them another key.",
                    )
                )
            else:
                custom_keys[key] = rule.column
                if custom.type not in CUSTOM_TYPES:
                    problems.append(
                        _mapping_problem(
                            rule.column,
                            None,
                            "custom_type_invalid",
                            f"列“{rule.column}”的类型“{custom.type}”无效。",
                            f"The type “{custom.type}” of column “{rule.column}” is not valid.",
                            "可选:数字、日期、选项、是/否、文本。",
                            "Choose number, date, choice, yes/no or text.",
                        )
                    )
                elif custom.type == "choice" and not custom.choices:
                    problems.append(
                        _mapping_problem(
                            rule.column,
                            None,
                            "custom_choices_missing",
                            f"列“{rule.column}”是选项类型,但没有列出选项。",
                            f"Column “{rule.column}” is a choice but lists no choices.",
                            "列出可选的值,或改为文本类型。",
                            "List its values, or make it a text field.",
                        )
                    )
            return problems
        return [
            _mapping_problem(
                rule.column,
                None,
                "target_unknown",
                f"列“{rule.column}”对应的字段“{target}”不存在。",
                f"Column “{rule.column}” is mapped to “{target}”, which is no field of this "
                "import.",
                "选择一个字段、“自定义字段”或“忽略”。",
                "Choose a field, a custom field or “ignore”.",
            )
        ]


def _shape(where: str, expected: str) -> Problem:
    return Problem(
        row=None,
        column=None,
        field=None,
        severity="error",
        message=Bilingual(
            f"映射中“{where}”的格式不对。", f"“{where}” in the mapping is malformed."
        ),
        hint=Bilingual(f"应为 {expected}。", f"It should be {expected}."),
        code="mapping_malformed",
    )


def _mapping_problem(
    column: str | None,
    field_key: str | None,
    code: str,
    zh: str,
    en: str,
    hint_zh: str,
    hint_en: str,
    *,
    severity: Literal["error", "warning"] = "error",
) -> Problem:
    return Problem(
        row=None,
        column=column,
        field=field_key,
        severity=severity,
        message=Bilingual(zh, en),
        hint=Bilingual(hint_zh, hint_en),
        code=code,
    )


def _columns_from(raw_columns: Any) -> list[ColumnRule]:
    if not isinstance(raw_columns, list):
        raise MappingInvalid([_shape("columns", "a list")])
    columns = []
    for index, raw in enumerate(raw_columns):
        if not isinstance(raw, Mapping):
            raise MappingInvalid([_shape(f"columns[{index}]", "an object")])
        column, target = raw.get("column"), raw.get("target")
        if not isinstance(column, str) or not isinstance(target, str):
            raise MappingInvalid(
                [_shape(f"columns[{index}]", "an object with 'column' and 'target' texts")]
            )
        custom = None
        raw_custom = raw.get("custom")
        if raw_custom is not None:
            custom = _custom_from(raw_custom, index)
        elif target.startswith(CUSTOM_PREFIX):
            key = target[len(CUSTOM_PREFIX) :]
            custom = CustomField(key, Bilingual(column, column))
        columns.append(ColumnRule(column, target, custom))
    return columns


def _custom_from(raw: Any, index: int) -> CustomField:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
        raise MappingInvalid([_shape(f"columns[{index}].custom", "an object with a 'key'")])
    label = raw.get("label")
    if isinstance(label, Mapping):
        the_label = Bilingual(str(label.get("zh", "")), str(label.get("en", "")))
    elif isinstance(label, str):
        the_label = Bilingual(label, label)
    else:
        the_label = Bilingual(raw["key"], raw["key"])
    choices = raw.get("choices") or []
    if not isinstance(choices, list):
        raise MappingInvalid([_shape(f"columns[{index}].custom.choices", "a list")])
    return CustomField(
        key=raw["key"],
        label=the_label,
        type=cast(CustomType, str(raw.get("type", "text"))),
        choices=tuple(str(c) for c in choices),
    )


# --- suggesting ----------------------------------------------------------------------------


def header_signature(headers: Iterable[str]) -> str:
    """The same for the same set of column names, whatever their order, case or spacing."""
    names = sorted({compact_name(h) or h.strip() for h in headers if h.strip()})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()[:32]


def _header_forms(header: str) -> list[str]:
    forms = [compact_name(header)]
    without_notes = compact_name(_NOTE.sub("", header))
    if without_notes and without_notes not in forms:
        forms.append(without_notes)
    return [f for f in forms if f]


def _synonym_index(kind: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for target in FIELDS[kind]:
        for synonym in target.synonyms:
            index.setdefault(compact_name(synonym), target.key)
    return index


def match_header(kind: str, header: str) -> str | None:
    """The field key a column name means for ``kind``, or None."""
    index = _synonym_index(kind)
    for form in _header_forms(header):
        if form in index:
            return index[form]
    return None


def custom_key(header: str, taken: Iterable[str] = ()) -> str:
    """A field key for a column name: ASCII words joined by "_" (Chinese as pinyin)."""
    text = unicodedata.normalize("NFKC", header)
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        try:
            from pypinyin import lazy_pinyin

            text = "_".join(lazy_pinyin(text))
        except ImportError:  # pragma: no cover - pypinyin is a dependency
            text = "field_" + hashlib.sha256(text.encode()).hexdigest()[:8]
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    key = re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")
    key = re.sub(r"_c$", "", key) if key.endswith("_c") and "__c" in header.casefold() else key
    if not key or not key[0].isalpha():
        key = "field_" + key if key else "field"
    key = key[:60].rstrip("_")
    taken_set = set(taken)
    unique, suffix = key, 2
    while unique in taken_set:
        unique, suffix = f"{key[:57]}_{suffix}", suffix + 1
    return unique


def infer_custom(header: str, values: Iterable[str], taken: Iterable[str] = ()) -> CustomField:
    """A custom field for a column the import does not know, typed from its values: yes/no,
    number, date, a choice (few distinct values, each repeated), else text."""
    present = [v.strip() for v in values if v and v.strip()]
    label = Bilingual(header, header)
    key = custom_key(header, taken)
    if not present:
        return CustomField(key, label, "text")
    distinct = Counter(present)
    lowered = {v.casefold() for v in distinct}
    if _all(parse_bool, distinct) and (not lowered <= {"1", "0"} or lowered == {"1", "0"}):
        return CustomField(key, label, "boolean")
    if _all(parse_number, distinct):
        return CustomField(key, label, "number")
    if _all(parse_date, distinct):
        return CustomField(key, label, "date")
    if (
        len(distinct) <= _MAX_CHOICES
        and len(present) >= 2 * len(distinct)
        and all(len(v) <= 40 for v in distinct)
    ):
        ordered = [value for value, _ in distinct.most_common()]
        return CustomField(key, label, "choice", tuple(ordered))
    return CustomField(key, label, "text")


def _all(parser: Any, values: Iterable[str]) -> bool:
    for value in values:
        try:
            parser(value)
        except ValueInvalid:
            return False
    return True


def suggest_mapping(
    kind: str,
    headers: Sequence[str],
    sample_rows: Sequence[Sequence[str]],
    *,
    saved: ColumnMapping | None = None,
    stage_names: Iterable[str] = (),
) -> ColumnMapping:
    """The mapping to propose for a file: ``saved`` (the one used last time for the same
    shape) adapted to these headers, else each column matched by its name in Chinese or
    English, and the rest as typed custom fields (accounts, contacts, deals) or ignored.

    Pass all rows as ``sample_rows`` when you can: the choices of a choice field and the day/
    month order are read from them. ``stage_names`` (names or keys of the organization's
    stages) keep stage values that need no translation out of the value maps.
    """
    if kind not in KINDS:
        raise MappingInvalid(
            [
                _mapping_problem(
                    None,
                    None,
                    "kind_unknown",
                    f"不认识的导入类型“{kind}”。",
                    f"Unknown import kind “{kind}”.",
                    "可选:" + "、".join(KINDS),
                    "Choose one of: " + ", ".join(KINDS),
                )
            ]
        )
    if saved is not None:
        return _adapt(saved, kind, headers, sample_rows)
    taken_targets: set[str] = set()
    taken_keys: set[str] = {f.key for f in FIELDS[kind]}
    columns: list[ColumnRule] = []
    for index, header in enumerate(headers):
        target = match_header(kind, header)
        if target is not None and target not in taken_targets:
            taken_targets.add(target)
            columns.append(ColumnRule(header, target))
            continue
        columns.append(_unknown_rule(kind, header, _values(sample_rows, index), taken_keys))
    mapping = ColumnMapping(kind=kind, columns=columns)
    external = mapping.columns_for("external_ref")
    mapping.key_column = external[0] if external else None
    _fill_inferred(mapping, headers, sample_rows, stage_names)
    return mapping


def _unknown_rule(kind: str, header: str, values: list[str], taken_keys: set[str]) -> ColumnRule:
    if kind not in ("accounts", "contacts", "deals") or not any(v.strip() for v in values):
        return ColumnRule(header, IGNORE)
    custom = infer_custom(header, values, taken_keys)
    taken_keys.add(custom.key)
    return ColumnRule(header, CUSTOM_PREFIX + custom.key, custom)


def _values(rows: Sequence[Sequence[str]], index: int) -> list[str]:
    return [row[index] for row in rows if index < len(row)]


def _fill_inferred(
    mapping: ColumnMapping,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    stage_names: Iterable[str],
) -> None:
    """Day/month order from the date columns; stage words for won and lost."""
    positions = {header: i for i, header in enumerate(headers)}
    if "date_order" not in mapping.options:
        order = date_order_of(_dated_values(mapping, positions, rows))
        if order:
            mapping.options["date_order"] = order
    known = {compact_name(n) for n in stage_names}
    stage_map: dict[str, str] = {}
    for target in ("stage", "from_stage"):
        for column in mapping.columns_for(target):
            if column in positions:
                _stage_words(stage_map, _values(rows, positions[column]), known)
    if stage_map:
        mapping.value_maps.setdefault("stage", {}).update(stage_map)


def _dated_values(
    mapping: ColumnMapping, positions: Mapping[str, int], rows: Sequence[Sequence[str]]
) -> list[str]:
    fields = {f.key: f for f in FIELDS[mapping.kind]}
    dated: list[str] = []
    for rule in mapping.columns:
        target = fields.get(rule.target)
        is_date = (
            (target is not None and target.type in ("date", "datetime"))
            or (rule.custom is not None and rule.custom.type == "date")
            or rule.target.startswith(STAGE_AT_PREFIX)
        )
        if is_date and rule.column in positions:
            dated.extend(_values(rows, positions[rule.column]))
    return dated


def _stage_words(stage_map: dict[str, str], values: Iterable[str], known: set[str]) -> None:
    for value in dict.fromkeys(values):
        word = compact_name(value)
        if not value or value in stage_map or word in known:
            continue
        if word in WON_WORDS:
            stage_map[value] = "@won"
        elif word in LOST_WORDS:
            stage_map[value] = "@lost"


def _adapt(
    saved: ColumnMapping, kind: str, headers: Sequence[str], rows: Sequence[Sequence[str]]
) -> ColumnMapping:
    """The saved mapping for these headers (matched loosely); new columns are suggested."""
    by_name = {compact_name(rule.column): rule for rule in saved.columns}
    taken_keys = {f.key for f in FIELDS[kind]} | {c.key for c in saved.custom_fields}
    used = {rule.target for rule in saved.columns}
    columns: list[ColumnRule] = []
    for index, header in enumerate(headers):
        rule = by_name.get(compact_name(header))
        if rule is not None:
            columns.append(ColumnRule(header, rule.target, rule.custom))
            continue
        target = match_header(kind, header)
        if target is not None and target not in used:
            used.add(target)
            columns.append(ColumnRule(header, target))
        else:
            columns.append(_unknown_rule(kind, header, _values(rows, index), taken_keys))
    key_column = None
    if saved.key_column is not None:
        for header in headers:
            if compact_name(header) == compact_name(saved.key_column):
                key_column = header
    return ColumnMapping(
        kind=kind,
        columns=columns,
        key_column=key_column,
        value_maps={t: dict(m) for t, m in saved.value_maps.items()},
        options=dict(saved.options),
        source="saved",
    )
