"""Reading an uploaded file into a table of text cells: CSV in any encoding a Chinese office
produces (detected, never asked), XLSX and XLS.

Every limit is checked before anything is parsed in full, and an XLSX file's zip members are
measured (declared sizes, then the actual inflated bytes, which must match their CRC) before the
spreadsheet reader sees them, so a small file that inflates to gigabytes is refused instead of
filling memory.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from lodestar.core.errors import LodestarError
from lodestar.core.rules.results import Bilingual

__all__ = [
    "Table",
    "TableLimits",
    "TableRefused",
    "cell_text",
    "read_table",
]

TableFormat = Literal["csv", "xlsx", "xls"]

_DELIMITERS = (",", "\t", ";", "|")
_SEP_HINT = re.compile(r"^\ufeff?sep=(.)\r?\n", re.IGNORECASE)
_SNIFF_LINES = 50
_ZIP_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class TableLimits:
    """What a file may hold. ``max_unpacked_bytes`` bounds what a compressed spreadsheet may
    inflate to (None: 20 × ``max_bytes``)."""

    max_bytes: int = 20 * 1024 * 1024
    max_columns: int = 200
    max_rows: int = 200_000
    max_unpacked_bytes: int | None = None
    max_cell_chars: int = 32_767

    @property
    def unpacked_limit(self) -> int:
        if self.max_unpacked_bytes is not None:
            return self.max_unpacked_bytes
        return 20 * self.max_bytes


class TableRefused(LodestarError):
    """The file cannot be taken as a table; nothing was read from it into the database."""

    def __init__(self, message: Bilingual, code: str) -> None:
        super().__init__(message.en)
        self.message = message
        self.code = code


@dataclass(slots=True)
class Table:
    """A file read as text cells.

    ``rows`` hold as many cells as ``headers``. ``row_numbers[i]`` is the row number of
    ``rows[i]`` as the user sees it in the file (the header is usually row 1; blank rows are
    skipped but keep their numbers counted).
    """

    format: TableFormat
    headers: list[str]
    rows: list[list[str]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    row_numbers: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.row_numbers:
            self.row_numbers = [self.header_row + 1 + i for i in range(len(self.rows))]

    def sample(self, limit: int = 200) -> list[list[str]]:
        return self.rows[:limit]

    def column(self, header: str) -> list[str]:
        index = self.headers.index(header)
        return [row[index] for row in self.rows]


def _refuse(code: str, zh: str, en: str) -> TableRefused:
    return TableRefused(Bilingual(zh, en), code)


def _size(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MB"
    if value >= 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value} B"


# --- format and encoding ------------------------------------------------------------------


def _format_of(data: bytes, filename: str) -> TableFormat:
    name = filename.lower()
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if name.endswith((".xlsx", ".xlsm")):
        raise _refuse(
            "unreadable",
            "文件扩展名是 .xlsx,但内容不是 Excel 工作簿。请用 Excel 重新保存后再上传。",
            "The file is named .xlsx but is not an Excel workbook. Save it again from Excel "
            "and upload it.",
        )
    if name.endswith(".xls"):
        # Excel saves "web page" and text files under .xls too; read those as text.
        return "csv"
    return "csv"


_UTF16_NUL_SHARE = 0.05


def _detect_encoding(data: bytes) -> tuple[str, str]:
    """The encoding's name as reported and the text."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return name, data.decode(name)
            except UnicodeDecodeError as error:
                raise _unreadable_text(error.start) from error
    head = data[:4096]
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    if (
        head
        and (even_nuls + odd_nuls) / len(head) >= _UTF16_NUL_SHARE
        and (max(even_nuls, odd_nuls) >= 0.9 * (even_nuls + odd_nuls))
    ):
        # UTF-16 without a byte-order mark: every ASCII character (digits, commas, line
        # breaks) puts a NUL on the same side of its pair; text in other encodings has none.
        name = "utf-16-le" if odd_nuls >= even_nuls else "utf-16-be"
        try:
            return name, data.decode(name)
        except UnicodeDecodeError as error:
            raise _unreadable_text(error.start) from error
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Excel on a Chinese Windows writes.
        return "gb18030", data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise _unreadable_text(error.start) from error


def _unreadable_text(offset: int) -> TableRefused:
    return _refuse(
        "encoding",
        f"无法识别文件的文字编码(第 {offset} 字节处)。请在 Excel 中“另存为”"
        "“CSV UTF-8(逗号分隔)”或 Excel 工作簿(.xlsx)后再上传。",
        f"The file's text encoding could not be recognised (at byte {offset}). Save it from "
        'Excel as "CSV UTF-8 (Comma delimited)" or as an Excel workbook (.xlsx) and upload it.',
    )


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of cells."""
    lines = text[: 256 * 1024].splitlines()[:_SNIFF_LINES]
    sample = "\n".join(lines)
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        counts = [c for c in counts if c > 0]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- cells ---------------------------------------------------------------------------------


def _float_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def _moment_text(value: dt.datetime | dt.date | dt.time) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: numbers without a trailing ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return _moment_text(value)
    return str(value)


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


# --- the readers ---------------------------------------------------------------------------


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defused(cell: str) -> str:
    """A cell an export kept from being run as a formula ("'=SUM…", "'+86 138…") as it was
    written: one leading apostrophe before = + - @ tab or return is taken off."""
    return cell[1:] if cell[1:2] in _FORMULA_STARTS and len(cell) > 1 else cell


def _csv_rows(text: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield [_defused(cell) if cell[:1] == "'" else cell for cell in row]
    except csv.Error as error:
        raise _refuse(
            "malformed",
            f"CSV 文件第 {reader.line_num} 行无法读取({error})。请检查引号是否成对,"
            "或在 Excel 中重新保存。",
            f"Line {reader.line_num} of the CSV file cannot be read ({error}). Check that its "
            "quotes are paired, or save the file again from Excel.",
        ) from error


def _check_zip(data: bytes, limits: TableLimits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise _not_a_workbook() from error
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise _not_a_workbook()
        limit = limits.unpacked_limit
        declared = sum(info.file_size for info in infos)
        if declared > limit:
            raise _too_much_unpacked(declared, limit)
        # The declared sizes may lie: inflate every member (in chunks, never all at once) and
        # count; zipfile stops at the declared size and then checks the CRC.
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_ZIP_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise _too_much_unpacked(total, limit)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
                raise _not_a_workbook() from error
            except RuntimeError as error:  # an encrypted member
                raise _refuse(
                    "encrypted",
                    "工作簿设有密码。请在 Excel 中取消密码后再上传。",
                    "The workbook is protected by a password. Remove the password in Excel and "
                    "upload it again.",
                ) from error


def _not_a_workbook() -> TableRefused:
    return _refuse(
        "unreadable",
        "文件无法作为 Excel 工作簿读取(可能已损坏)。请用 Excel 打开并重新保存,"
        "或另存为 CSV 后上传。",
        "The file cannot be read as an Excel workbook (it may be damaged). Open it in Excel and "
        "save it again, or save it as CSV and upload that.",
    )


def _too_much_unpacked(size: int, limit: int) -> TableRefused:
    return _refuse(
        "too_large",
        f"工作簿解压后超过 {_size(limit)}(至少 {_size(size)})。请拆分为多个文件,"
        "或另存为 CSV 后上传。",
        f"The workbook unpacks to more than {_size(limit)} (at least {_size(size)}). Split it "
        "into several files, or save it as CSV and upload that.",
    )


def _sheet_rows(data: bytes, fmt: TableFormat, limits: TableLimits) -> tuple[str, list[list[str]]]:
    from python_calamine import CalamineError, CalamineWorkbook

    if fmt == "xlsx":
        _check_zip(data, limits)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        raise _not_a_workbook() from error
    except Exception as error:  # the reader raises its own error classes for damaged files
        raise _not_a_workbook() from error
    try:
        for name in workbook.sheet_names:
            try:
                sheet = workbook.get_sheet_by_name(name)
            except Exception:  # noqa: S112 - a chart sheet or a damaged sheet: try the next
                continue
            if sheet.height == 0 or sheet.width == 0:
                continue
            if sheet.width > limits.max_columns:
                raise _too_wide(sheet.width, limits.max_columns)
            if sheet.height > limits.max_rows + 1 + 100:
                raise _too_long(sheet.height - 1, limits.max_rows)
            rows = [[cell_text(cell) for cell in row] for row in sheet.to_python()]
            if any(any(cell for cell in row) for row in rows):
                return name, rows
    finally:
        workbook.close()
    raise _empty()


def _too_wide(count: int, limit: int) -> TableRefused:
    return _refuse(
        "too_many_columns",
        f"文件有 {count} 列,最多允许 {limit} 列。请删除不需要导入的列后再上传。",
        f"The file has {count} columns; at most {limit} are allowed. Delete the columns you "
        "do not need to import and upload it again.",
    )


def _too_long(count: int, limit: int) -> TableRefused:
    return _refuse(
        "too_many_rows",
        f"文件有 {count:,} 行以上数据,最多允许 {limit:,} 行。请拆分为多个文件分别导入。",
        f"The file has more than {count:,} data rows; at most {limit:,} are allowed. Split it "
        "into several files and import them one by one.",
    )


def _empty() -> TableRefused:
    return _refuse(
        "empty",
        "文件中没有数据。请确认选择了正确的文件,且第一行是列名。",
        "The file holds no data. Check that you chose the right file and that its first row "
        "holds the column names.",
    )


def _looks_like_value(text: str) -> bool:
    body = text.replace(",", "").replace(".", "").replace("-", "").replace("/", "")
    body = body.replace(":", "").replace(" ", "").replace("T", "")
    return body.isdigit()


def _cells(number: int, raw: Sequence[str], limits: TableLimits) -> list[str]:
    """One row's cells, cleaned, without trailing blanks, held to the limits."""
    cells = [_clean(cell) for cell in raw]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > limits.max_columns:
        raise _too_wide(len(cells), limits.max_columns)
    for index, cell in enumerate(cells):
        if len(cell) > limits.max_cell_chars:
            raise _refuse(
                "cell_too_long",
                f"第 {number} 行第 {index + 1} 列的内容超过 {limits.max_cell_chars:,} 个字符。"
                "请缩短后再上传。",
                f"Row {number}, column {index + 1} holds more than "
                f"{limits.max_cell_chars:,} characters. Shorten it and upload again.",
            )
    return cells


def _build(
    fmt: TableFormat,
    raw_rows: Iterable[Sequence[str]],
    limits: TableLimits,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    headers: list[str] | None = None
    header_row = 0
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, raw in enumerate(raw_rows, start=1):
        cells = _cells(number, raw, limits)
        if not cells:
            continue
        if headers is None or (_is_title(headers) and not rows and _filled(cells) > 1):
            # A lone title above the column names ("客户清单 2024") is passed over.
            headers, header_row = cells, number
            continue
        if len(rows) >= limits.max_rows:
            raise _too_long(limits.max_rows, limits.max_rows)
        rows.append(cells)
        numbers.append(number)
    if headers is None:
        raise _empty()
    if all(_looks_like_value(h) for h in headers if h):
        raise _refuse(
            "no_header",
            f"第 {header_row} 行应当是列名(如“客户名称”“联系人”),但它看起来是数据。"
            "请在数据上方加一行列名后再上传。",
            f"Row {header_row} should hold the column names (such as “Account Name”, "
            "“Contact”) but looks like data. Add a row of column names above the data and "
            "upload again.",
        )
    width = max([len(headers), *(len(row) for row in rows)])
    headers = _unique_headers(headers, width)
    for row in rows:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
    return Table(
        format=fmt,
        headers=headers,
        rows=rows,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        header_row=header_row,
        row_numbers=numbers,
    )


def _filled(cells: list[str]) -> int:
    return sum(1 for cell in cells if cell)


def _is_title(cells: list[str]) -> bool:
    return _filled(cells) == 1


def _unique_headers(headers: list[str], width: int) -> list[str]:
    """Blank headers get the column's number; repeated ones a " (2)", " (3)" …"""
    named = [h or f"Column {i + 1}" for i, h in enumerate(headers)]
    named += [f"Column {i + 1}" for i in range(len(named), width)]
    seen: dict[str, int] = {}
    unique = []
    for name in named:
        key = name.casefold()
        if key in seen:
            seen[key] += 1
            name = f"{name} ({seen[key]})"
        else:
            seen[key] = 1
        unique.append(name)
    return unique


def read_table(data: bytes, filename: str, limits: TableLimits | None = None) -> Table:
    """Read ``data`` (the uploaded file's bytes) into a :class:`Table`, or refuse it."""
    limits = limits or TableLimits()
    if len(data) > limits.max_bytes:
        raise _refuse(
            "too_large",
            f"文件大小 {_size(len(data))},超过上限 {_size(limits.max_bytes)}。请拆分为多个文件,"
            "或删除不需要的列后再上传。",
            f"The file is {_size(len(data))}, over the limit of {_size(limits.max_bytes)}. Split "
            "it into several files, or delete the columns you do not need, and upload again.",
        )
    if not data.strip(b"\x00\t\r\n \xef\xbb\xbf\xff\xfe"):
        raise _empty()
    fmt = _format_of(data, filename)
    if fmt == "csv":
        encoding, text = _detect_encoding(data)
        delimiter = _sniff_delimiter(text)
        hint = _SEP_HINT.match(text)
        if hint:  # Excel's "sep=;" first line names the delimiter
            delimiter, text = hint.group(1), text[hint.end() :]
        return _build(
            "csv", _csv_rows(text, delimiter), limits, encoding=encoding, delimiter=delimiter
        )
    sheet, rows = _sheet_rows(data, fmt, limits)
    return _build(fmt, rows, limits, sheet=sheet)
