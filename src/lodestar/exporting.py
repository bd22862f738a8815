"""Lists written out as CSV or XLSX: a table (column specs and an iterator of rows) in, a
download out, the rows read one at a time so that memory stays flat whatever the list's length.

- **CSV** is UTF-8 with a byte-order mark (Excel then reads Chinese text right), quoted as
  RFC 4180 says (a field holding a comma, a quote or a line break is quoted, quotes doubled,
  lines end with CRLF), and streamed in chunks of rows as they are read.
- **XLSX** is written by openpyxl's write-only workbook, which keeps no cell in memory, to a
  temporary file that is then streamed; dates and moments are real spreadsheet dates.
- **Formula injection**: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return would run as a formula when a spreadsheet opens the file. In CSV such a cell gets a
  leading `'`; in XLSX it is stored as text (never a formula) and marked with the quote prefix,
  which keeps a spreadsheet from reading it as a formula when the cell is edited.
- **Values**: the columns say what a cell holds; text, numbers (int, float, Decimal), booleans,
  dates and moments are written as such. Moments should come in the reader's time zone: CSV
  writes them in ISO 8601 with their offset, XLSX as that local date and time.

Which lists exist is the apps' business: the pages (and the API, through
`LODESTAR_EXPORT_TABLES`) build a `Table` and hand it to `export_response`. This module imports
none of the apps.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, Generic, Literal, TypeVar

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from lodestar.errors import ValidationFailed

__all__ = [
    "CSV_CONTENT_TYPE",
    "FORMATS",
    "XLSX_CONTENT_TYPE",
    "Column",
    "ExportFormat",
    "Table",
    "Value",
    "csv_chunks",
    "export_response",
    "safe_text",
    "table_builder",
    "write_xlsx",
    "xlsx_file",
]

ExportFormat = Literal["csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Value = str | int | float | Decimal | bool | dt.date | dt.datetime | None
R = TypeVar("R")

# Rows written into the CSV buffer before it is handed to the response: a few tens of KB.
CSV_CHUNK_ROWS = 256
# What a spreadsheet would read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MOMENT = "yyyy-mm-dd hh:mm:ss"
XLSX_DATE = "yyyy-mm-dd"
# A sheet's name: at most 31 characters, none of these.
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
# Control characters an XLSX file cannot hold (openpyxl refuses them): dropped from text.
_XLSX_ILLEGAL = {code: None for code in (*range(0, 9), 11, 12, *range(14, 32))}


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header (in the reader's language) and how a row gives its cell."""

    header: str
    value: Callable[[R], Value]


@dataclass(frozen=True)
class Table(Generic[R]):
    """What an export writes: the columns, the rows (any iterable; read once, in order), and
    the name of the file (without its extension) and of the sheet."""

    columns: Sequence[Column[R]]
    rows: Iterable[R]
    name: str
    # The reader's language and time zone, active while the rows are read: a streamed file
    # is written after the view has returned, when the request's own are no longer active.
    language: str | None = None
    zone: dt.tzinfo | None = None

    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def values(self) -> Iterator[list[Value]]:
        columns = self.columns
        with ExitStack() as active:
            if self.language:
                active.enter_context(translation.override(self.language))
            if self.zone is not None:
                active.enter_context(timezone.override(self.zone))
            for row in self.rows:
                yield [column.value(row) for column in columns]


def safe_text(text: str) -> str:
    """`text` as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_text(str(value))


def csv_chunks(table: Table[Any], *, chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
    """The table as UTF-8 CSV with a byte-order mark, in chunks of `chunk_rows` rows: the
    header first, then the rows as they are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(header) for header in table.headers()])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for values in table.values():
        writer.writerow([_csv_cell(value) for value in values])
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def _sheet_title(name: str) -> str:
    title = name.translate(_SHEET_FORBIDDEN).strip("' ")[:31]
    return title or "Sheet1"


def _xlsx_cell(sheet: Any, value: Value) -> Any:
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    if value is None or isinstance(value, bool | int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Decimal) and not value.is_finite():
            return None
        return value
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = XLSX_MOMENT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE
        return cell
    text = str(value).translate(_XLSX_ILLEGAL)
    if not text.startswith(FORMULA_STARTS):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
    cell.quotePrefix = True
    return cell


def write_xlsx(table: Table[Any], target: IO[bytes]) -> None:
    """Write the table as a one-sheet XLSX workbook into `target` (openpyxl's write-only mode:
    each row goes to disk as it is appended)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    most: int = settings.LODESTAR_EXPORT_XLSX_MAX_ROWS
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(table.name))
    sheet.append([_xlsx_cell(sheet, header) for header in table.headers()])
    too_long = False
    for written, values in enumerate(table.values()):
        if written == most:
            too_long = True
            break
        sheet.append([_xlsx_cell(sheet, value) for value in values])
    if too_long:
        # A workbook is built whole before its first byte goes out: a longer one would
        # outlast the web server's request timeout. CSV streams, whatever the length.
        sheet.close()
        raise ValidationFailed.on(
            "format",
            _(
                "This list has more than %(most)s rows, more than an Excel export holds here; "
                "export it as CSV (any length) or narrow the filters."
            )
            % {"most": f"{most:,}"},
        )
    workbook.save(target)


def xlsx_file(table: Table[Any]) -> IO[bytes]:
    """The table as XLSX in a temporary file, read from its start; the file is removed when
    it is closed."""
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    try:
        write_xlsx(table, target)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return target


def export_response(table: Table[Any], fmt: ExportFormat) -> StreamingHttpResponse:
    """The table as a download named `<table.name>.<fmt>`: CSV streamed as it is written,
    XLSX written to a temporary file first and then streamed from it. Never kept by a cache."""
    filename = f"{table.name}.{fmt}"
    response: StreamingHttpResponse
    if fmt == "xlsx":
        response = FileResponse(
            xlsx_file(table), as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
        )
    else:
        response = StreamingHttpResponse(csv_chunks(table), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def table_builder(name: str) -> Callable[..., Table[Any]] | None:
    """The function that builds the export `name`, as `LODESTAR_EXPORT_TABLES` names it (a
    dotted path); None when no installed part of Lodestar offers that list.

    The API's exports word their rows as the pages do (stage names, the audit log's actions,
    a drill-down's cells), and those words live with the pages, which the API may not import:
    the pages register their tables here, as the event log's consumers register their steps.
    """
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "LODESTAR_EXPORT_TABLES", {}).get(name)
    return import_string(path) if path else None
