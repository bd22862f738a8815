"""Whatever a file holds, reading and checking it answers with a table or a refusal, and with
problems on rows — never with an unexpected exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lodestar.core.imports import (
    FIELDS,
    KINDS,
    LookupContext,
    Table,
    TableLimits,
    TableRefused,
    check_rows,
    read_table,
    suggest_mapping,
)
from tests.core.imports.data import STAGES

LIMITS = TableLimits(max_bytes=20_000, max_columns=20, max_rows=50)
CONTEXT = LookupContext(
    stages=STAGES,
    products={"GTX Pro": 1},
    accounts={"华东机电": 1},
    members={"王芳": 1},
    deal_keys={"D-1": 1},
    timezone="Asia/Shanghai",
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000), st.sampled_from(["x.csv", "x.xlsx", "x.xls", "x.txt"]))
def test_any_bytes_read_as_a_table_or_are_refused(data: bytes, name: str) -> None:
    refusal: TableRefused | None = None
    try:
        table = read_table(data, name, LIMITS)
    except TableRefused as refused:
        refusal = refused
    if refusal is not None:
        assert refusal.message.zh
        assert refusal.message.en
    else:
        assert all(len(row) == len(table.headers) for row in table.rows)


_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["2024-03-05", "05/03/2024", "1,234", "是", "赢单", "GTXPro", "", "D-1"]),
)


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(KINDS),
    st.lists(st.lists(_values, min_size=6, max_size=6), min_size=1, max_size=8),
    st.data(),
)
def test_any_cells_are_checked_into_results_with_problems(
    kind: str, rows: list[list[str]], data: st.DataObject
) -> None:
    synonyms = [f.synonyms[0] for f in FIELDS[kind]]
    headers = data.draw(st.permutations([*synonyms, "备注", "渠道"]))[:6]
    table = Table(format="csv", headers=list(headers), rows=[list(r) for r in rows])
    mapping = suggest_mapping(kind, table.headers, table.rows)

    results = list(check_rows(kind, mapping, table, CONTEXT))

    assert [r.number for r in results] == table.row_numbers
    assert all(p.row == r.number for r in results for p in r.problems)
    assert all(p.message.zh and p.message.en for r in results for p in r.problems)


@pytest.mark.parametrize("kind", KINDS)
def test_a_mapping_suggested_from_the_fields_own_names_is_valid(kind: str) -> None:
    headers = [f.label.zh for f in FIELDS[kind]]

    mapping = suggest_mapping(kind, headers, [])

    assert mapping.validate(headers) == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "kind": st.sampled_from([*KINDS, "x"]) | _json,
            "columns": _json,
            "key_column": _json,
            "value_maps": _json,
            "options": _json,
        },
    )
)
def test_any_json_reads_as_a_mapping_or_says_what_is_malformed(data: dict[str, object]) -> None:
    from lodestar.core.imports import ColumnMapping, MappingInvalid

    refusal: MappingInvalid | None = None
    try:
        mapping = ColumnMapping.from_dict(data)
    except MappingInvalid as invalid:
        refusal = invalid
    if refusal is not None:
        assert refusal.problems
    else:
        assert isinstance(mapping.validate(), list)
