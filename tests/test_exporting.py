"""The export writer: CSV (BOM, RFC 4180 quoting, formula injection, streaming) and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from lodestar.exporting import (
    Column,
    Table,
    csv_chunks,
    export_response,
    safe_text,
    table_builder,
    write_xlsx,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _table(rows: list[list[Any]], headers: tuple[str, ...] = ("名称", "Amount")) -> Table[Any]:
    columns = [Column(header, lambda row, i=i: row[i]) for i, header in enumerate(headers)]
    return Table(columns=columns, rows=rows, name="商机-2026-12-06")


def _csv_text(table: Table[Any]) -> str:
    return b"".join(csv_chunks(table)).decode("utf-8")


def _read_csv(table: Table[Any]) -> list[list[str]]:
    data = b"".join(csv_chunks(table))
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _read_xlsx(table: Table[Any]) -> list[tuple[Any, ...]]:
    target = io.BytesIO()
    write_xlsx(table, target)
    target.seek(0)
    sheet = load_workbook(target).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


# --- CSV -----------------------------------------------------------------------------------------


def test_it_starts_a_csv_with_the_utf8_byte_order_mark() -> None:
    data = b"".join(csv_chunks(_table([["华东工业", 1]])))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode("utf-8").startswith("名称,Amount\r\n")


def test_it_ends_csv_lines_with_crlf() -> None:
    assert _csv_text(_table([["a", 1], ["b", 2]])) == "\ufeff名称,Amount\r\na,1\r\nb,2\r\n"


def test_it_quotes_commas_quotes_and_line_breaks_as_rfc_4180_says() -> None:
    text = _csv_text(_table([['王总, "老王"', "第一行\n第二行"]]))
    assert text.splitlines(keepends=True)[1] == '"王总, ""老王""","第一行\n'
    assert _read_csv(_table([['王总, "老王"', "第一行\n第二行"]]))[1] == [
        '王总, "老王"',
        "第一行\n第二行",
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_it_prefixes_text_a_spreadsheet_would_run_as_a_formula(start: str) -> None:
    payload = f'{start}HYPERLINK("http://evil")'
    assert _read_csv(_table([[payload, 1]]))[1][0] == "'" + payload


def test_it_leaves_numbers_unprefixed_even_when_negative() -> None:
    assert _read_csv(_table([["退款", Decimal("-1280.50")]]))[1] == ["退款", "-1280.50"]


def test_it_prefixes_a_formula_in_a_header_too() -> None:
    assert _read_csv(_table([], headers=("=1+1",)))[0] == ["'=1+1"]


def test_it_writes_values_readably_in_csv() -> None:
    moment = dt.datetime(2026, 12, 6, 14, 30, tzinfo=SHANGHAI)
    row = [dt.date(2026, 12, 31), moment, Decimal("1280000.00"), 0.5, True, None]
    headers = ("date", "moment", "amount", "share", "flag", "empty")
    assert _read_csv(_table([row], headers))[1] == [
        "2026-12-31",
        "2026-12-06T14:30:00+08:00",
        "1280000.00",
        "0.5",
        "TRUE",
        "",
    ]


def test_it_leaves_cells_of_infinite_or_missing_figures_empty() -> None:
    assert _read_csv(_table([[float("nan"), Decimal("Infinity")]]))[1] == ["", ""]


@given(st.text())
def test_any_text_comes_back_from_the_csv_as_written_but_for_the_formula_prefix(
    text: str,
) -> None:
    # csv normalizes a lone CR inside an unquoted field; every field with one is quoted.
    back = _read_csv(_table([[text, 0]]))
    assert back[1][0] == safe_text(text)


def test_it_streams_csv_without_reading_every_row_first() -> None:
    read = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal read
        while True:  # endless: a writer that built the whole file would never answer
            read += 1
            yield ["客户", read]

    chunks = csv_chunks(_table(rows()), chunk_rows=100)  # type: ignore[arg-type]
    header = next(chunks)
    first = next(chunks)
    assert header.endswith(b"\r\n")
    assert first.count(b"\r\n") == 100
    assert read == 100


# --- XLSX ----------------------------------------------------------------------------------------


def test_it_writes_an_xlsx_that_openpyxl_reads_back() -> None:
    rows = _read_xlsx(_table([["华东工业", Decimal("1280000.50")], ["华南", 3]]))
    assert rows == [("名称", "Amount"), ("华东工业", 1280000.5), ("华南", 3)]


def test_it_writes_dates_and_moments_as_spreadsheet_dates_in_local_time() -> None:
    moment = dt.datetime(2026, 12, 6, 14, 30, tzinfo=SHANGHAI)
    rows = _read_xlsx(_table([[dt.date(2026, 12, 31), moment]], ("date", "moment")))
    assert rows[1] == (dt.datetime(2026, 12, 31), dt.datetime(2026, 12, 6, 14, 30))


def test_it_stores_formula_like_text_in_xlsx_as_text_never_as_a_formula() -> None:
    target = io.BytesIO()
    write_xlsx(_table([["=cmd|' /C calc'!A0", "@SUM(1)"]]), target)
    target.seek(0)
    cell = load_workbook(target).active["A2"]
    assert cell.value == "=cmd|' /C calc'!A0"
    assert cell.data_type == "s"
    assert cell.quotePrefix


def test_it_drops_control_characters_an_xlsx_cannot_hold() -> None:
    assert _read_xlsx(_table([["a\x00b\x1fc", 1]]))[1] == ("abc", 1)


def test_it_names_the_sheet_after_the_table_within_excels_limits() -> None:
    target = io.BytesIO()
    table = Table(columns=[Column("x", lambda row: row)], rows=[1], name="a/b:c" + "长" * 40)
    write_xlsx(table, target)
    target.seek(0)
    title = load_workbook(target).active.title
    assert len(title) == 31
    assert title.startswith("a b c")


# --- the download --------------------------------------------------------------------------------


def test_it_streams_a_csv_download_named_after_the_table() -> None:
    response = export_response(_table([["a", 1]]), "csv")
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%95%86%E6%9C%BA-2026-12-06.csv"
    )
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbf")  # type: ignore[arg-type]


def test_it_streams_an_xlsx_download_from_a_temporary_file() -> None:
    response = export_response(_table([["a", 1]]), "xlsx")
    assert response.streaming
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert load_workbook(io.BytesIO(data)).active["A2"].value == "a"


def test_it_reads_the_rows_in_the_tables_language_and_zone() -> None:
    from django.utils import timezone
    from django.utils.translation import get_language

    seen: list[tuple[str | None, str]] = []
    table = Table(
        columns=[
            Column(
                "x",
                lambda row: (
                    seen.append((get_language(), str(timezone.get_current_timezone()))) or row
                ),
            )
        ],
        rows=[1],
        name="t",
        language="en",
        zone=zoneinfo.ZoneInfo("Europe/Berlin"),
    )
    list(table.values())
    assert seen == [("en", "Europe/Berlin")]


def test_it_knows_no_table_the_settings_do_not_name(settings: Any) -> None:
    settings.LODESTAR_EXPORT_TABLES = {}
    assert table_builder("opportunities") is None
