"""Reading uploaded files: encodings detected, delimiters sniffed, spreadsheets, limits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from lodestar.core.imports import TableLimits, TableRefused, read_table
from tests.core.imports.legacy_excel import xls

CHINESE = "客户名称,联系人,手机\n华东机电,王总,13800138000\n北方重工,李工,13900139000\n"


def _xlsx(rows: list[list[object]], title: str = "客户") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"),
     ("gb18030", "gb18030"), ("utf-16", "utf-16")],
)  # fmt: skip
def test_chinese_text_reads_in_every_office_encoding(encoding: str, reported: str) -> None:
    table = read_table(CHINESE.encode(encoding), "客户.csv")

    assert table.encoding == reported
    assert table.headers == ["客户名称", "联系人", "手机"]
    assert table.rows[0] == ["华东机电", "王总", "13800138000"]


def test_utf16_without_a_byte_order_mark_is_recognised() -> None:
    table = read_table(CHINESE.encode("utf-16-le"), "x.csv")

    assert table.encoding == "utf-16-le"
    assert table.rows[1][1] == "李工"


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    text = CHINESE.replace(",", delimiter)

    table = read_table(text.encode(), "x.txt")

    assert table.delimiter == delimiter
    assert table.rows[1] == ["北方重工", "李工", "13900139000"]


def test_quoted_cells_keep_their_delimiters_and_line_breaks() -> None:
    text = 'name,notes\n"Acme, Inc.","line one\nline two"\nBeta,x\n'

    table = read_table(text.encode(), "x.csv")

    assert table.rows[0] == ["Acme, Inc.", "line one\nline two"]
    assert table.row_numbers == [2, 3]


def test_row_numbers_count_the_blank_rows_the_table_skips() -> None:
    table = read_table(b"name,phone\n\nAcme,1\n,\nBeta,2\n", "x.csv")

    assert table.row_numbers == [3, 5]


def test_blank_and_repeated_headers_get_names_of_their_own() -> None:
    table = read_table(b"name,,name\na,b,c\n", "x.csv")

    assert table.headers == ["name", "Column 2", "name (2)"]


def test_short_rows_are_padded_to_the_header() -> None:
    table = read_table(b"a,b,c\n1\n", "x.csv")

    assert table.rows == [["1", "", ""]]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(TableRefused) as refused:
        read_table(b"a,b\n" + b"1,2\n" * 100, "x.csv", TableLimits(max_bytes=100))

    assert refused.value.code == "too_large"
    assert "100 B" in refused.value.message.en


def test_a_file_with_too_many_columns_is_refused() -> None:
    header = ",".join(f"c{i}" for i in range(12)).encode()

    with pytest.raises(TableRefused) as refused:
        read_table(header + b"\n", "x.csv", TableLimits(max_columns=10))

    assert refused.value.code == "too_many_columns"
    assert "12" in refused.value.message.zh


def test_a_file_with_too_many_rows_is_refused() -> None:
    with pytest.raises(TableRefused) as refused:
        read_table(b"a\n" + b"x\n" * 11, "x.csv", TableLimits(max_rows=10))

    assert refused.value.code == "too_many_rows"


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b" , ,\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(TableRefused) as refused:
        read_table(data, "x.csv")

    assert refused.value.code == "empty"


def test_a_file_whose_first_row_is_data_is_refused_for_lack_of_headers() -> None:
    with pytest.raises(TableRefused) as refused:
        read_table(b"2024-03-05,12.5,100\n2024-03-06,13,200\n", "x.csv")

    assert refused.value.code == "no_header"


def test_bytes_of_no_known_encoding_are_refused_with_the_way_out() -> None:
    with pytest.raises(TableRefused) as refused:
        read_table(b"name\n\x81\x20\xff\xfe\x80", "x.csv")

    assert refused.value.code == "encoding"
    assert "CSV UTF-8" in refused.value.message.en


def test_a_spreadsheet_reads_numbers_without_trailing_zeros_and_dates_as_iso() -> None:
    data = _xlsx(
        [
            ["客户名称", "金额", "比例", "签约日期", "时间"],
            ["华东机电", 1200.0, 0.35, dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 14, 30)],
        ]
    )

    table = read_table(data, "客户.xlsx")

    assert table.format == "xlsx"
    assert table.sheet == "客户"
    assert table.rows == [["华东机电", "1200", "0.35", "2024-03-05", "2024-03-05T14:30:00"]]


def test_a_spreadsheet_named_csv_is_still_read_as_a_spreadsheet() -> None:
    table = read_table(_xlsx([["name"], ["Acme"]]), "export.csv")

    assert table.format == "xlsx"


def test_an_empty_first_sheet_is_passed_over() -> None:
    book = Workbook()
    book.active.title = "空"  # type: ignore[union-attr]
    data_sheet = book.create_sheet("数据")
    data_sheet.append(["name"])
    data_sheet.append(["Acme"])
    out = io.BytesIO()
    book.save(out)

    table = read_table(out.getvalue(), "x.xlsx")

    assert table.sheet == "数据"


def test_a_zip_that_is_no_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(TableRefused) as refused:
        read_table(out.getvalue(), "x.xlsx")

    assert refused.value.code == "unreadable"


def test_a_workbook_that_inflates_past_the_limit_is_refused_before_parsing() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 50_000_000 + b"/>")
    data = out.getvalue()
    assert len(data) < 200_000

    with pytest.raises(TableRefused) as refused:
        read_table(data, "bomb.xlsx", TableLimits(max_bytes=1_000_000))

    assert refused.value.code == "too_large"


def test_a_workbook_lying_about_its_sizes_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"x" * 2_000_000)
    data = bytearray(out.getvalue())
    # Make the central directory claim the sheet inflates to 10 bytes.
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = (10).to_bytes(4, "little")

    with pytest.raises(TableRefused) as refused:
        read_table(bytes(data), "liar.xlsx")

    assert refused.value.code == "unreadable"


def test_a_legacy_excel_file_is_read() -> None:
    data = xls([["客户名称", "金额"], ["华东机电", 1200], ["北方重工", 35.5]], sheet="客户")

    table = read_table(data, "客户.xls")

    assert (table.format, table.sheet) == ("xls", "客户")
    assert table.headers == ["客户名称", "金额"]
    assert table.rows == [["华东机电", "1200"], ["北方重工", "35.5"]]


def test_a_legacy_excel_file_with_too_many_columns_is_refused() -> None:
    data = xls([[f"c{i}" for i in range(12)], list(range(12))])

    with pytest.raises(TableRefused) as refused:
        read_table(data, "wide.xls", TableLimits(max_columns=10))

    assert refused.value.code == "too_many_columns"


def test_damaged_legacy_excel_bytes_are_refused() -> None:
    with pytest.raises(TableRefused) as refused:
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls")

    assert refused.value.code == "unreadable"


# Any text but what an export's formula guard writes ("'=", "'+" …: read back without the "'").
_cell = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
).map(str.strip).filter(lambda t: bool(t) and not (t[:1] == "'" and t[1:2] in "=+-@"))  # fmt: skip


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
)
def test_any_text_round_trips_through_csv_in_each_encoding(
    rows: list[list[str]], encoding: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["名称", "Name", "备注"])
    writer.writerows(rows)
    try:
        data = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # gb18030 covers all of Unicode; nothing else should get here

    table = read_table(data, "x.csv")

    assert table.rows == rows


def test_a_title_row_above_the_column_names_is_passed_over() -> None:
    table = read_table("客户清单 2024\n\n客户名称,联系人\n华东机电,王总\n".encode(), "x.csv")

    assert (table.headers, table.header_row) == (["客户名称", "联系人"], 3)
    assert table.row_numbers == [4]


def test_a_one_column_file_keeps_its_only_header() -> None:
    table = read_table("客户名称\n华东机电\n".encode(), "x.csv")

    assert table.headers == ["客户名称"]


def test_excels_sep_line_names_the_delimiter() -> None:
    table = read_table(b"sep=;\nname;phone\nAcme;1,2\n", "x.csv")

    assert table.delimiter == ";"
    assert table.rows == [["Acme", "1,2"]]


def test_an_exports_formula_guard_apostrophe_is_taken_off() -> None:
    table = read_table("姓名,电话,备注\n'-A,'+86 138 0013 8000,'it's fine\n".encode(), "x.csv")

    assert table.rows == [["-A", "+86 138 0013 8000", "'it's fine"]]
