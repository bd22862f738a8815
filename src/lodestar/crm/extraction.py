"""Reading the text of uploaded files within bounds: no decompression bomb reaches memory.

Two steps, both bounded by the same limits (see `limits()` and docs/operations.md):

- `check_upload(data, content_type)` runs in the request, before anything is stored. It is
  cheap: a DOCX's ZIP directory and declared sizes are checked, its `word/document.xml` is
  inflated in chunks (counting the bytes actually produced, never trusting the header, and
  checking the CRC) and the XML prolog is parsed with defusedxml; a PDF's trailer, cross-reference
  table and encryption are read, none of its streams. What fails here is refused with a
  specific reason and nothing is stored.
- `extract_text(data, content_type)` runs in the worker after the file is stored: the XML is
  parsed as a stream (no tree is built), PDF pages are read one by one with every decoder capped,
  the first `max_chars` characters are kept, and a wall-clock budget is checked between chunks,
  pages and content-stream operators. What fails here leaves the file stored without text and a
  `TextProblem` saying why.

The split is deliberate: what can be decided from a bounded inflate at zlib speed (bombs that
declare their size, too many entries, too high a ratio, damaged archives, DTDs, not-XML,
truncated or encrypted PDFs) answers the uploader at once; what needs a parser to walk the
content (PDF text operators, a long document body) may take seconds and is done off the request.
"""

from __future__ import annotations

import dataclasses
import io
import time
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pypdf
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pypdf.errors import LimitReachedError, PyPdfError

from lodestar.crm.models import TextProblem

__all__ = [
    "DOCX",
    "Extracted",
    "Limits",
    "Refused",
    "check_upload",
    "extract_text",
    "limits",
    "zip_entry_count",
]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_DOCUMENT = "word/document.xml"
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CHUNK = 64 * 1024
# Every central-directory entry starts with this signature. Counting it in the raw bytes bounds
# the entries before `zipfile` builds one object per entry (100k entries: ~0.5 s and tens of MB)
# and whatever the end record claims; a stray match inside file data only over-counts.
_CENTRAL_ENTRY = b"PK\x01\x02"
# The ratio limit applies once a member has produced this much: tiny members compress very well
# (a page of spaces) and are harmless; a bomb passes this floor within its first compressed block.
_RATIO_FLOOR = 1024 * 1024
# Bytes of the document XML in which the root element must have started (past the prolog).
_PROLOG_BYTES = 256 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    max_unpacked_bytes: int
    max_zip_entries: int
    max_ratio: int
    max_pdf_pages: int
    max_pdf_page_bytes: int
    max_chars: int
    seconds: int


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"settings.{name} must be a positive whole number, not {value!r}")
    return value


def limits() -> Limits:
    """The extraction limits from settings (documented defaults in docs/operations.md);
    a non-positive or non-integer value is refused loudly rather than disabling a limit."""
    return Limits(
        max_unpacked_bytes=_setting("ATTACHMENT_MAX_UNPACKED_BYTES", 16 * 1024 * 1024),
        max_zip_entries=_setting("ATTACHMENT_MAX_ZIP_ENTRIES", 1000),
        max_ratio=_setting("ATTACHMENT_MAX_COMPRESSION_RATIO", 100),
        max_pdf_pages=_setting("ATTACHMENT_MAX_PDF_PAGES", 500),
        max_pdf_page_bytes=_setting("ATTACHMENT_MAX_PDF_PAGE_BYTES", 1024 * 1024),
        max_chars=_setting("ATTACHMENT_MAX_TEXT_CHARS", 200_000),
        seconds=_setting("ATTACHMENT_TEXT_SECONDS", 20),
    )


class Refused(Exception):
    """The file's text cannot be read safely: `message` tells the uploader what is wrong and how
    to fix it (in the request), `problem` is what the worker stores on the attachment."""

    def __init__(self, problem: TextProblem, message: Any) -> None:
        self.problem = problem
        self.message = message
        super().__init__(str(message))


@dataclasses.dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    truncated: bool


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f}"


def _too_slow(limit: int) -> Refused:
    return Refused(
        TextProblem.TOO_SLOW,
        _("Reading this file took longer than %(seconds)d seconds.") % {"seconds": limit},
    )


class _Clock:
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _too_slow(self.seconds)


# --- DOCX ----------------------------------------------------------------------------------------


def zip_entry_count(data: bytes) -> int:
    """How many entries the ZIP's central directory holds, counted without trusting its header."""
    return data.count(_CENTRAL_ENTRY)


def _damaged_docx(error: Exception) -> Refused:
    if "CRC" in str(error):
        return Refused(
            TextProblem.DAMAGED,
            _(
                "This DOCX is damaged: a checksum does not match its content. Upload the "
                "original file again, or open it in Word and save it again."
            ),
        )
    return Refused(
        TextProblem.DAMAGED,
        _(
            "This DOCX is damaged (%(error)s). Upload the original file again, or open it in "
            "Word and save it again."
        )
        % {"error": error},
    )


def check_zip_entries(data: bytes, limit: Limits) -> None:
    """Refuse an archive with more entries than a DOCX needs, before opening its directory."""
    entries = zip_entry_count(data)
    if entries > limit.max_zip_entries:
        raise Refused(
            TextProblem.TOO_LARGE,
            _(
                "This archive holds %(n)d files; at most %(limit)d are accepted. Open it in "
                "Word and save it again, or upload it as PDF."
            )
            % {"n": entries, "limit": limit.max_zip_entries},
        )


def _document_chunks(data: bytes, limit: Limits, clock: _Clock) -> Iterator[bytes]:
    """The inflated bytes of `word/document.xml`, chunk by chunk, refused as soon as the header
    or the bytes actually produced pass a limit; the CRC is checked when the member ends."""
    check_zip_entries(data, limit)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(_DOCUMENT)
            if info.flag_bits & 0x1:
                raise Refused(
                    TextProblem.DAMAGED,
                    _(
                        "This DOCX is password-protected. Remove the password in Word "
                        "(File > Info > Protect Document) and upload it again."
                    ),
                )
            too_large = Refused(
                TextProblem.TOO_LARGE,
                _(
                    "The text of this DOCX unpacks to more than %(limit)s MB. Split the document "
                    "or upload it as PDF."
                )
                % {"limit": _mb(limit.max_unpacked_bytes)},
            )
            if info.file_size > limit.max_unpacked_bytes:
                raise too_large
            compressed = max(info.compress_size, 1)
            too_dense = Refused(
                TextProblem.TOO_LARGE,
                _(
                    "This DOCX is compressed more than %(ratio)d to 1, which ordinary documents "
                    "never are; it is refused as a safety measure. Open it in Word and save it "
                    "again, or upload it as PDF."
                )
                % {"ratio": limit.max_ratio},
            )
            if info.file_size > _RATIO_FLOOR and info.file_size > limit.max_ratio * compressed:
                raise too_dense
            # zipfile itself stops at the declared size (and a lying header then fails the CRC);
            # counting what is produced keeps the bound whatever the reader does.
            inflated = 0
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    inflated += len(chunk)
                    if inflated > limit.max_unpacked_bytes:
                        raise too_large
                    if inflated > _RATIO_FLOOR and inflated > limit.max_ratio * compressed:
                        raise too_dense
                    clock.check()
                    yield chunk
    except KeyError:
        raise Refused(
            TextProblem.DAMAGED,
            _("This DOCX has no document body (word/document.xml). Save it again from Word."),
        ) from None
    except NotImplementedError:
        raise Refused(
            TextProblem.DAMAGED,
            _(
                "This DOCX uses a compression method that is not supported. Open it in Word and "
                "save it again."
            ),
        ) from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _damaged_docx(error) from None


def _xml_refused(error: Exception) -> Refused:
    if isinstance(error, DefusedXmlException):
        return Refused(
            TextProblem.DAMAGED,
            _(
                "The text of this DOCX declares a document type, entities or external "
                "references, which Word never writes; it is refused as a safety measure. Open "
                "it in Word and save it again."
            ),
        )
    return Refused(
        TextProblem.DAMAGED,
        _("The text of this DOCX is not valid XML (%(error)s). Open it in Word and save it again.")
        % {"error": error},
    )


class _RootSeen(Exception):
    """Raised by the prolog check once the root element starts: what came before it is what a
    DTD or an entity declaration would be in."""


class _PrologTarget:
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootSeen


class _TextTarget:
    """Collects the text of `w:t` runs paragraph by paragraph as the parser streams; nothing
    else of the document is kept."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.kept = 0
        self.in_text = False

    @property
    def full(self) -> bool:
        return self.kept >= self.max_chars

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == f"{_WORD_NS}t":
            self.in_text = True

    def end(self, tag: str) -> None:
        if tag == f"{_WORD_NS}t":
            self.in_text = False
        elif tag == f"{_WORD_NS}p" and self.current:
            self.paragraphs.append("".join(self.current))
            self.current = []

    def data(self, text: str) -> None:
        if self.in_text and not self.full:
            piece = text[: self.max_chars - self.kept]
            self.current.append(piece)
            self.kept += len(piece)

    def close(self) -> str:
        if self.current:
            self.paragraphs.append("".join(self.current))
        return "\n".join(p for p in self.paragraphs if p)


def _defused_parser(target: object) -> DefusedXMLParser:
    return DefusedXMLParser(
        target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )


def _check_docx(data: bytes, limit: Limits, clock: _Clock) -> None:
    parser: DefusedXMLParser | None = _defused_parser(_PrologTarget())
    seen = 0
    for chunk in _document_chunks(data, limit, clock):
        if parser is None:
            continue  # past the prolog: only inflating on, for the sizes and the CRC
        try:
            parser.feed(chunk)
        except _RootSeen:
            parser = None
            continue
        except (ParseError, DefusedXmlException) as error:
            raise _xml_refused(error) from None
        seen += len(chunk)
        if seen > _PROLOG_BYTES:
            raise _xml_refused(ParseError("no document element in the first 256 kB"))
    if parser is not None:
        raise _xml_refused(ParseError("no document element"))


def _docx_text(data: bytes, limit: Limits, clock: _Clock) -> Extracted:
    target = _TextTarget(limit.max_chars)
    parser = _defused_parser(target)
    try:
        for chunk in _document_chunks(data, limit, clock):
            parser.feed(chunk)
            if target.full:
                # The rest is not read: its size and CRC were checked at upload.
                return Extracted(target.close(), truncated=True)
        parser.close()
    except (ParseError, DefusedXmlException) as error:
        raise _xml_refused(error) from None
    return Extracted(target.close(), truncated=False)


# --- PDF -----------------------------------------------------------------------------------------


def _pdf_configuration(limit: Limits) -> AbstractContextManager[pypdf.Configuration]:
    """pypdf's own decoder caps, set to our limit for the duration of one file (a context
    variable, so other threads of the worker are not affected)."""
    cap = limit.max_unpacked_bytes
    return pypdf.apply_configuration(
        zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap,
        run_length_maximum_output_length=cap,
        array_based_stream_maximum_output_length=cap,
        brotli_maximum_output_length=cap,
        jbig2_maximum_output_length=cap,
        stream_decoding_work_maximum_length=cap,
        image_maximum_buffer_size=cap,
    )


def _pdf_refused(error: Exception) -> Refused:
    if isinstance(error, LimitReachedError):
        return Refused(
            TextProblem.TOO_LARGE,
            _("A part of this PDF unpacks to more than the size limit (%(error)s).")
            % {"error": error},
        )
    return Refused(
        TextProblem.DAMAGED,
        _(
            "This PDF cannot be read (%(error)s). Export it again from the program that made it "
            "and upload it again."
        )
        % {"error": error},
    )


def _open_pdf(data: bytes) -> pypdf.PdfReader:
    # A file cut short in transfer loses its last bytes; the PDF end marker is written last.
    if b"%%EOF" not in data[-1024:]:
        raise Refused(
            TextProblem.DAMAGED,
            _(
                "This PDF is incomplete: its end is missing, as when a download or copy was cut "
                "short. Upload the complete file again."
            ),
        )
    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        # Many PDFs are encrypted with an empty user password only to restrict printing;
        # those open without a password and their text can be read.
        try:
            opened = bool(reader.decrypt(""))
        except (PyPdfError, NotImplementedError):
            opened = False
        if not opened:
            raise Refused(
                TextProblem.DAMAGED,
                _(
                    "This PDF is password-protected. Remove the password (for example, print it "
                    "to a new PDF) and upload it again."
                ),
            )
    return reader


def _check_pdf(data: bytes, limit: Limits) -> None:
    with _pdf_configuration(limit):
        try:
            _open_pdf(data)
        except PyPdfError as error:
            raise _pdf_refused(error) from None


def _pdf_text(data: bytes, limit: Limits, clock: _Clock) -> Extracted:
    def between_operators(*_args: Any) -> None:
        clock.check()

    texts: list[str] = []
    kept = 0
    truncated = False
    with _pdf_configuration(limit):
        try:
            reader = _open_pdf(data)
            pages = reader.pages
            total = len(pages)
            for index in range(min(total, limit.max_pdf_pages)):
                clock.check()
                page = pages[index]
                contents = page.get_contents()
                size = len(contents.get_data()) if contents is not None else 0
                if size > limit.max_pdf_page_bytes:
                    raise Refused(
                        TextProblem.TOO_LARGE,
                        _("Page %(page)d of this PDF holds %(mb)s MB of drawing instructions.")
                        % {"page": index + 1, "mb": _mb(size)},
                    )
                text = page.extract_text(visitor_operand_before=between_operators) or ""
                if kept + len(text) >= limit.max_chars:
                    texts.append(text[: limit.max_chars - kept])
                    truncated = True
                    break
                texts.append(text)
                kept += len(text)
            else:
                truncated = total > limit.max_pdf_pages
        except PyPdfError as error:
            raise _pdf_refused(error) from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            # pypdf reaches these on object graphs that break the PDF rules.
            raise _pdf_refused(error) from None
    return Extracted("\n".join(texts), truncated=truncated)


# --- text ----------------------------------------------------------------------------------------


def as_text(data: bytes) -> str | None:
    """`data` decoded as UTF-8 (with or without a BOM) or GB18030, or None if it is not text."""
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def check_upload(data: bytes, content_type: str) -> None:
    """In the request: refuse what cannot be read safely (raises `Refused`); cheap and bounded."""
    limit = limits()
    clock = _Clock(limit.seconds)
    if content_type == DOCX:
        _check_docx(data, limit, clock)
    elif content_type == "application/pdf":
        _check_pdf(data, limit)


def extract_text(data: bytes, content_type: str) -> Extracted:
    """In the worker: the first `max_chars` characters of the file's text (raises `Refused`)."""
    limit = limits()
    clock = _Clock(limit.seconds)
    if content_type == DOCX:
        return _docx_text(data, limit, clock)
    if content_type == "application/pdf":
        return _pdf_text(data, limit, clock)
    if content_type == "text/plain":
        text = as_text(data) or ""
        return Extracted(text[: limit.max_chars], truncated=len(text) > limit.max_chars)
    return Extracted("", truncated=False)
