"""Suggesting which column fills which field, typed custom fields, and the mapping's checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lodestar.core.imports import (
    FIELDS,
    KINDS,
    ColumnMapping,
    MappingInvalid,
    compact_name,
    header_signature,
    infer_custom,
    suggest_mapping,
)

PO = Path(__file__).resolve().parents[3] / "src/lodestar/locale/zh_Hans/LC_MESSAGES/django.po"


def _targets(mapping: ColumnMapping) -> dict[str, str]:
    return {rule.column: rule.target for rule in mapping.columns}


def test_chinese_contact_headers_map_without_a_manual_step() -> None:
    mapping = suggest_mapping(
        "contacts", ["客户名称", "联系人", "手机"], [["华东机电", "王总", "1"]]
    )

    assert _targets(mapping) == {"客户名称": "account", "联系人": "name", "手机": "phone"}
    assert mapping.validate(["客户名称", "联系人", "手机"]) == []


def test_the_same_header_means_the_account_name_in_an_accounts_file() -> None:
    mapping = suggest_mapping("accounts", ["客户名称", "所属行业"], [])

    assert _targets(mapping) == {"客户名称": "name", "所属行业": "industry"}


def test_english_headers_match_whatever_their_case_and_spacing() -> None:
    mapping = suggest_mapping("deals", ["Account Name", "DEAL STAGE", "close_value"], [])

    assert _targets(mapping) == {
        "Account Name": "account",
        "DEAL STAGE": "stage",
        "close_value": "amount",
    }


def test_a_required_marker_in_a_header_is_ignored() -> None:
    mapping = suggest_mapping("accounts", ["客户名称(必填)*"], [])

    assert _targets(mapping) == {"客户名称(必填)*": "name"}


def test_an_external_id_column_becomes_the_key() -> None:
    mapping = suggest_mapping("deals", ["商机编号", "客户", "阶段"], [])

    assert mapping.key_column == "商机编号"


def test_a_second_column_for_a_taken_field_becomes_a_custom_field() -> None:
    mapping = suggest_mapping("contacts", ["联系人", "姓名", "客户"], [["a", "b", "c"]])

    assert _targets(mapping)["姓名"].startswith("custom:")


@pytest.mark.parametrize(
    ("values", "type_"),
    [(["是", "否", "是"], "boolean"), (["有", "无"], "boolean"), (["Y", "N", "Y"], "boolean"),
     (["true", "false"], "boolean"), (["1", "0", "1"], "boolean"),
     (["12", "1,200.5", "¥30"], "number"), (["2024-03-05", "2024/3/6"], "date"),
     (["华东", "华北", "华东", "华北"], "choice"),
     (["第一条很长的备注", "另一条备注", "第三条"], "text")],
)  # fmt: skip
def test_custom_fields_are_typed_from_their_values(values: list[str], type_: str) -> None:
    assert infer_custom("x", values).type == type_


def test_a_choice_lists_its_values_most_frequent_first() -> None:
    custom = infer_custom("区域", ["华北", "华东", "华东", "华南", "华东", "华北"])

    assert custom.choices == ("华东", "华北", "华南")


def test_a_chinese_header_gets_a_pinyin_key() -> None:
    assert infer_custom("客户来源", ["a"]).key == "ke_hu_lai_yuan"


def test_custom_keys_do_not_collide_with_fields_or_each_other() -> None:
    mapping = suggest_mapping("accounts", ["名称", "Name2", "name 2"], [["a", "b", "c"]])

    keys = [c.key for c in mapping.custom_fields]
    assert len(set(keys)) == len(keys)


def test_slashed_dates_with_a_day_above_twelve_set_the_date_order() -> None:
    mapping = suggest_mapping(
        "deals",
        ["客户", "阶段", "预计成交日期"],
        [["a", "b", "05/03/2024"], ["a", "b", "25/12/2024"]],
    )

    assert mapping.options["date_order"] == "dmy"


def test_won_and_lost_words_map_to_the_terminal_stages() -> None:
    rows = [["a", "赢单"], ["b", "Closed Lost"], ["c", "需求确认"]]

    mapping = suggest_mapping("deals", ["客户", "阶段"], rows)

    assert mapping.value_maps == {"stage": {"赢单": "@won", "Closed Lost": "@lost"}}


def test_a_saved_mapping_is_reused_for_a_file_of_the_same_shape() -> None:
    saved = suggest_mapping("deals", ["客户", "阶段", "渠道"], [["a", "b", "c"]])
    saved.columns[2] = saved.columns[2].__class__("渠道", "ignore")

    again = suggest_mapping("deals", ["阶段", "客户 ", "渠道"], [], saved=saved)

    assert again.source == "saved"
    assert _targets(again) == {"阶段": "stage", "客户 ": "account", "渠道": "ignore"}


def test_a_mapping_round_trips_through_plain_data() -> None:
    mapping = suggest_mapping("deals", ["编号", "客户", "阶段", "渠道"], [["1", "a", "Won", "x"]])

    again = ColumnMapping.from_dict(mapping.to_dict())

    assert again.to_dict() == mapping.to_dict()


def test_a_malformed_mapping_says_where() -> None:
    with pytest.raises(MappingInvalid) as invalid:
        ColumnMapping.from_dict({"kind": "deals", "columns": [{"column": 3}]})

    assert invalid.value.problems[0].code == "mapping_malformed"
    assert "columns[0]" in invalid.value.problems[0].message.en


def test_validate_finds_a_required_field_without_a_column() -> None:
    mapping = ColumnMapping.from_dict({"kind": "contacts", "columns": [
        {"column": "手机", "target": "phone"}]})  # fmt: skip

    codes = {(p.code, p.field) for p in mapping.validate()}

    assert codes == {("required_unmapped", "name"), ("required_unmapped", "account")}


def test_validate_finds_an_unknown_target_and_a_bad_custom_key() -> None:
    mapping = ColumnMapping.from_dict(
        {"kind": "accounts", "columns": [
            {"column": "名称", "target": "name"},
            {"column": "x", "target": "colour"},
            {"column": "y", "target": "custom:Bad Key"}]}
    )  # fmt: skip

    assert {p.code for p in mapping.validate()} == {"target_unknown", "custom_key_invalid"}


def test_validate_wants_choices_for_a_choice_field() -> None:
    mapping = ColumnMapping.from_dict(
        {"kind": "accounts", "columns": [
            {"column": "名称", "target": "name"},
            {"column": "区域", "target": "custom:qu_yu",
             "custom": {"key": "qu_yu", "type": "choice", "choices": []}}]}
    )  # fmt: skip

    assert [p.code for p in mapping.validate()] == ["custom_choices_missing"]


def _translations() -> dict[str, str]:
    text = PO.read_text(encoding="utf-8")
    return dict(re.findall(r'\nmsgid "([^"\n]+)"\nmsgstr "([^"\n]+)"', text))


# The models' field names, as the exports write them in headers.
VERBOSE = {
    "accounts": ["name", "industry", "tier", "region", "repurchase rate", "owner",
                 "external reference"],
    "contacts": ["name", "account", "title", "phone", "e-mail", "decision maker",
                 "decision-chain role"],
    "products": ["name", "model number", "category", "list price", "aliases"],
    "deals": ["name", "account", "owner", "team", "product", "stage", "status", "amount",
              "currency", "expected close date", "closed at", "created at", "entered stage at",
              "external reference"],
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(VERBOSE))
def test_exported_headers_in_both_languages_map_back_to_their_fields(kind: str) -> None:
    zh = _translations()
    english = VERBOSE[kind]
    chinese = [zh[name] for name in english]

    for headers in (english, [h.title() for h in english], chinese):
        mapping = suggest_mapping(kind, headers, [])
        assert all(not r.target.startswith(("custom:", "ignore")) for r in mapping.columns), (
            headers,
            _targets(mapping),
        )


def test_no_two_fields_of_a_kind_claim_the_same_column_name() -> None:
    for kind in KINDS:
        seen: dict[str, str] = {}
        for target in FIELDS[kind]:
            for synonym in target.synonyms:
                word = compact_name(synonym)
                assert seen.setdefault(word, target.key) == target.key, (kind, synonym)


@given(
    st.lists(
        st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8),
        min_size=1,
        max_size=8,
        unique_by=str.casefold,
    ),
    st.randoms(),
)
def test_header_signature_ignores_order_case_and_spacing(headers: list[str], rng: object) -> None:
    shuffled = [f"  {h.upper()} " for h in headers]
    rng.shuffle(shuffled)  # type: ignore[attr-defined]

    assert header_signature(shuffled) == header_signature(headers)


def test_header_signature_tells_different_shapes_apart() -> None:
    assert header_signature(["客户", "阶段"]) != header_signature(["客户", "金额"])
