"""Attachment uploads: type sniffed from the bytes, unsupported types refused, text extracted by
the worker within bounds (decompression bombs, damaged files)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.crm import extraction
from lodestar.crm.attachments import attachment_extract_text, attachment_upload, sniff
from lodestar.crm.models import Attachment, TextProblem, TextStatus
from lodestar.errors import ValidationFailed
from tests.conftest import Cast
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
MINUTES = "会议纪要:客户确认预算范围,下周安排 POC。" * 20
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MB = 2**20
# Above what the bounded readers hold (a chunk, a stream capped at 16 MB, the kept text), far
# below what reading a bomb whole would take (the files below unpack to 100-500 MB).
MEMORY_BOUND = 48 * MB


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def deal(cast: Cast) -> Any:
    return OpportunityFactory(owner=cast.owner)


# --- files ---------------------------------------------------------------------------------------


def document_xml(text: str) -> str:
    paragraph = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"
    return f'<w:document xmlns:w="{WORD_NS}"><w:body>{paragraph}</w:body></w:document>'


def docx_of(document: str | bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def docx(text: str) -> bytes:
    return docx_of(document_xml(text))


@functools.cache  # built once: compressing 500 MB takes a few seconds
def bomb_docx(unpacked: int) -> bytes:
    """A DOCX whose document.xml is `unpacked` bytes of XML that compress ~1000:1 (500 MB in
    ~500 kB), written in chunks so the test never holds it."""
    buffer = io.BytesIO()
    head = f'<w:document xmlns:w="{WORD_NS}"><w:body><w:p><w:r><w:t>'.encode()
    chunk = b"A" * MB
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as member,
    ):
        member.write(head)
        written = len(head)
        while written < unpacked:
            member.write(chunk)
            written += len(chunk)
        member.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return buffer.getvalue()


def _central_entries(data: bytes) -> Iterator[int]:
    offset = data.find(b"PK\x01\x02")
    while offset >= 0:
        yield offset
        offset = data.find(b"PK\x01\x02", offset + 4)


def with_document_header(data: bytes, **fields: int) -> bytes:
    """`data` with the CRC or the sizes of word/document.xml rewritten in both its headers."""
    patched = bytearray(data)
    for offset in _central_entries(data):
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46 : offset + 46 + name_length] == b"word/document.xml":
            local = struct.unpack_from("<I", data, offset + 42)[0]
            for field, (central_at, local_at) in {
                "crc": (16, 14),
                "file_size": (24, 22),
            }.items():
                if field in fields:
                    struct.pack_into("<I", patched, offset + central_at, fields[field])
                    struct.pack_into("<I", patched, local + local_at, fields[field])
    return bytes(patched)


def many_entries_zip(entries: int) -> bytes:
    """A ZIP of `entries` empty stored files, its headers written directly (zipfile takes seconds
    for 100k entries); ~9 MB for 100k."""
    local = bytearray()
    central = bytearray()
    for index in range(entries):
        name = b"%x" % index
        offset = len(local)
        local += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
        local += name
        central += struct.pack(
            "<4s6H3I5H2I",
            b"PK\x01\x02",
            20,
            20,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
    count = min(entries, 0xFFFF)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    return bytes(local + central + end)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
        for i in range(1, 10)
    )
    + f']>\n<w:document xmlns:w="{WORD_NS}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>'
    "</w:body></w:document>"
)


def pdf_of(*pages: bytes, trailer_extra: bytes = b"") -> bytes:
    """A PDF whose pages draw `pages` (content streams, flate-compressed)."""
    count = len(pages)
    font = 3 + 2 * count
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[%s]/Count %d>>"
        % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(count)), count),
    ]
    for index, content in enumerate(pages):
        packed = zlib.compress(content, 9)
        objects.append(
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents %d 0 R"
            b"/Resources<</Font<</F1 %d 0 R>>>>>>" % (4 + 2 * index, font)
        )
        objects.append(
            b"<</Length %d/Filter/FlateDecode>>stream\n" % len(packed) + packed + b"\nendstream"
        )
    objects.append(b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R%s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref,
    )
    return bytes(out)


def text_page(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1")


ENGLISH_MINUTES = "Minutes: budget confirmed, POC next week. " * 12
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def upload(api: Any, deal: Any, name: str, data: bytes, kind: str = "meeting_minutes") -> Any:
    return api.client.post(
        f"/api/v1/opportunities/{deal.pk}/attachments",
        {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


@pytest.fixture
def upload_and_extract(
    cast: Cast, deal: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> Callable[..., Any]:
    """Upload as the deal's owner and let the worker's task run (Huey is immediate in tests)."""
    api = api_as(cast.owner)

    def run(name: str, data: bytes) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return upload(api, deal, name, data)

    return run


def peak_memory(action: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def service_peak(user: Any, deal: Any, name: str, data: bytes) -> int:
    """Peak memory of the upload service refusing `data` (the HTTP test client's own copies of
    the request body are left out of the measure)."""

    def refuse() -> None:
        with pytest.raises(ValidationFailed):
            attachment_upload(
                user=user,
                opportunity=deal,
                kind="meeting_minutes",
                uploaded_file=SimpleUploadedFile(name, data),
            )

    return peak_memory(refuse)


def nothing_stored(media: Path) -> bool:
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    return not files and not Attachment.objects.exists()


# --- what is accepted ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type", "chars"),
    [
        ("纪要.txt", MINUTES.encode(), "text/plain", len(MINUTES.replace(" ", ""))),
        ("纪要.docx", docx(MINUTES), extraction.DOCX, len(MINUTES.replace(" ", ""))),
        (
            "minutes.pdf",
            pdf_of(text_page(ENGLISH_MINUTES)),
            "application/pdf",
            len(ENGLISH_MINUTES.replace(" ", "")),
        ),
        ("报价.png", PNG, "image/png", 0),
        ("gbk.txt", MINUTES.encode("gb18030"), "text/plain", len(MINUTES.replace(" ", ""))),
    ],
)
def test_it_sniffs_the_type_from_the_bytes_and_extracts_text_in_the_worker(
    upload_and_extract: Any, name: str, data: bytes, content_type: str, chars: int
) -> None:
    response = upload_and_extract(name, data)

    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type
    stored = Attachment.objects.get(pk=response.json()["id"])
    assert (stored.text_status, stored.text_length, stored.text_problem) == ("done", chars, "")
    assert stored.file.read() == data
    assert stored.original_name == name


def test_it_stores_text_files_as_pending_until_the_worker_has_read_them(
    cast: Cast, deal: Any, api_as: Any
) -> None:
    response = upload(api_as(cast.owner), deal, "纪要.txt", MINUTES.encode())

    assert response.status_code == 201
    assert (response.json()["text_status"], response.json()["text_length"]) == ("pending", 0)
    stored = Attachment.objects.get()
    assert attachment_extract_text(attachment_id=stored.pk) == TextStatus.DONE
    stored.refresh_from_db()
    assert stored.text_length == len(MINUTES.replace(" ", ""))


def test_it_records_the_extraction_once_when_two_runs_race(
    cast: Cast, deal: Any, api_as: Any
) -> None:
    upload(api_as(cast.owner), deal, "纪要.txt", MINUTES.encode())
    stored = Attachment.objects.get()

    assert attachment_extract_text(attachment_id=stored.pk) == TextStatus.DONE
    assert attachment_extract_text(attachment_id=stored.pk) is None


def test_it_refuses_unsupported_types_whatever_the_name(cast: Cast, deal: Any, api_as: Any) -> None:
    api = api_as(cast.owner)
    for name, data in [
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200)),
        ("archive.docx", _zip_without_document()),
        ("empty.txt", b""),
    ]:
        response = upload(api, deal, name, data)
        assert response.status_code == 422, name
        assert response.json()["details"][0]["field"] == "file"
    assert Attachment.objects.count() == 0


def _zip_without_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("who", "status"), [("teammate", 404), ("outsider", 404), ("ops", 403), ("manager", 201)]
)
def test_it_lets_only_people_who_work_the_deal_upload(
    cast: Cast, deal: Any, api_as: Any, who: str, status: int
) -> None:
    response = upload(api_as(getattr(cast, who)), deal, "纪要.txt", MINUTES.encode())
    assert response.status_code == status


def test_it_sniffs_a_pdf_from_its_bytes() -> None:
    assert sniff(pdf_of(text_page("x"))) == "application/pdf"


# --- bombs and damaged files: refused in the request, nothing stored ---------------------------


def refusal(api: Any, deal: Any, name: str, data: bytes) -> str:
    response = upload(api, deal, name, data)
    assert response.status_code == 422, response.json()
    detail = response.json()["details"][0]
    assert detail["field"] == "file"
    return str(detail["message"])


def test_it_refuses_a_docx_whose_text_declares_500_mb_without_inflating_it(
    cast: Cast, deal: Any, api_as: Any, media: Path
) -> None:
    bomb = bomb_docx(500 * MB)
    assert len(bomb) < 1 * MB
    api = api_as(cast.owner)
    message = refusal(api, deal, "bomb.docx", bomb)
    peak = service_peak(cast.owner, deal, "bomb.docx", bomb)

    assert "unpacks to more than 16 MB" in message
    assert peak < MEMORY_BOUND
    assert nothing_stored(media)


def test_it_refuses_a_docx_compressed_beyond_the_ratio_limit(
    cast: Cast, deal: Any, api_as: Any, media: Path
) -> None:
    message = refusal(api_as(cast.owner), deal, "dense.docx", bomb_docx(12 * MB))

    assert "compressed more than 100 to 1" in message
    assert nothing_stored(media)


def test_it_does_not_inflate_past_what_a_lying_header_declares(
    cast: Cast, deal: Any, api_as: Any, media: Path
) -> None:
    # The headers say 4 kB; the member inflates to 500 MB. Reading stops at what was declared
    # and the checksum of that part does not match.
    liar = with_document_header(bomb_docx(500 * MB), file_size=4096)
    api = api_as(cast.owner)
    message = refusal(api, deal, "liar.docx", liar)
    peak = service_peak(cast.owner, deal, "liar.docx", liar)

    assert "checksum does not match" in message
    assert peak < MEMORY_BOUND
    assert nothing_stored(media)


def test_it_refuses_a_zip_with_100k_entries_before_reading_its_directory(
    cast: Cast, deal: Any, api_as: Any, media: Path
) -> None:
    archive = many_entries_zip(100_000)
    api = api_as(cast.owner)
    message = refusal(api, deal, "many.docx", archive)
    peak = service_peak(cast.owner, deal, "many.docx", archive)

    assert "holds 100000 files; at most 1000" in message
    assert peak < MEMORY_BOUND
    assert nothing_stored(media)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("laughs.docx", docx_of(BILLION_LAUGHS), "declares a document type, entities"),
        ("text.docx", docx_of(b"this is plain text, not XML"), "is not valid XML"),
        ("crc.docx", with_document_header(docx(MINUTES), crc=0xDEADBEEF), "checksum does not"),
        ("cut.pdf", pdf_of(text_page("minutes"))[:-200], "PDF is incomplete"),
    ],
)
def test_it_refuses_a_damaged_file_with_what_is_wrong_and_how_to_fix_it(
    cast: Cast, deal: Any, api_as: Any, media: Path, name: str, data: bytes, says: str
) -> None:
    api = api_as(cast.owner)
    message = refusal(api, deal, name, data)
    peak = service_peak(cast.owner, deal, name, data)

    assert says in message
    assert "again" in message  # … and how to fix it
    assert peak < MEMORY_BOUND
    assert nothing_stored(media)


def test_it_refuses_a_password_protected_pdf(
    cast: Cast, deal: Any, api_as: Any, media: Path
) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_of(text_page("secret")))))
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)

    message = refusal(api_as(cast.owner), deal, "locked.pdf", buffer.getvalue())

    assert "password-protected" in message
    assert nothing_stored(media)


def test_it_answers_the_refusal_in_chinese_too(cast: Cast, deal: Any, api_as: Any) -> None:
    api = api_as(cast.owner)
    response = api.client.post(
        f"/api/v1/opportunities/{deal.pk}/attachments",
        {"kind": "meeting_minutes", "file": SimpleUploadedFile("x.docx", docx_of(BILLION_LAUGHS))},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 422
    assert "安全" in response.json()["details"][0]["message"]


# --- bounded in the worker: stored without (all of) its text, with the reason ------------------


def test_it_keeps_a_pdf_flate_bomb_without_its_text(cast: Cast, deal: Any, api_as: Any) -> None:
    bomb = pdf_of(b"BT /F1 12 Tf 72 720 Td (" + b"A" * (100 * MB) + b") Tj ET")
    assert len(bomb) < 200_000
    response = upload(api_as(cast.owner), deal, "bomb.pdf", bomb)
    assert response.status_code == 201

    peak = peak_memory(lambda: attachment_extract_text(attachment_id=response.json()["id"]))

    stored = Attachment.objects.get()
    assert (stored.text_status, stored.text_problem) == (TextStatus.REFUSED, TextProblem.TOO_LARGE)
    assert (stored.text_length, stored.extracted_text) == (0, "")
    assert peak < MEMORY_BOUND


def test_it_refuses_the_text_of_a_pdf_page_with_too_many_drawing_instructions(
    upload_and_extract: Any,
) -> None:
    crowded = pdf_of(b"BT /F1 12 Tf 72 720 Td " + b"(AAAA) Tj " * 200_000 + b"ET")

    upload_and_extract("crowded.pdf", crowded)

    stored = Attachment.objects.get()
    assert (stored.text_status, stored.text_problem) == (TextStatus.REFUSED, TextProblem.TOO_LARGE)


def test_it_keeps_the_first_characters_of_a_long_text_and_says_it_was_cut(
    settings: Any, upload_and_extract: Any
) -> None:
    settings.ATTACHMENT_MAX_TEXT_CHARS = 1000

    upload_and_extract("long.docx", docx("纪" * 5000))

    stored = Attachment.objects.get()
    assert (stored.text_status, stored.text_problem) == (TextStatus.DONE, TextProblem.TRUNCATED)
    assert stored.extracted_text == "纪" * 1000
    assert stored.text_length == 1000


def test_it_reads_only_the_first_pages_of_a_long_pdf(
    settings: Any, upload_and_extract: Any
) -> None:
    settings.ATTACHMENT_MAX_PDF_PAGES = 2

    upload_and_extract("long.pdf", pdf_of(*(text_page(f"page{n}") for n in range(1, 4))))

    stored = Attachment.objects.get()
    assert stored.text_problem == TextProblem.TRUNCATED
    assert "page2" in stored.extracted_text
    assert "page3" not in stored.extracted_text


def test_it_keeps_a_docx_whose_body_is_broken_past_the_prolog_without_text(
    upload_and_extract: Any,
) -> None:
    broken = f'<w:document xmlns:w="{WORD_NS}"><w:body><w:p><w:t>纪要</w:p>'

    response = upload_and_extract("broken.docx", docx_of(broken))

    assert response.status_code == 201
    stored = Attachment.objects.get()
    assert (stored.text_status, stored.text_problem) == (TextStatus.REFUSED, TextProblem.DAMAGED)


def test_it_gives_up_reading_when_the_time_budget_is_spent(
    settings: Any, cast: Cast, deal: Any, api_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ATTACHMENT_TEXT_SECONDS = 5
    upload(api_as(cast.owner), deal, "minutes.pdf", pdf_of(text_page("a"), text_page("b")))
    ticks = iter(range(0, 1000, 3))  # every look at the clock is three seconds later
    monkeypatch.setattr(extraction.time, "monotonic", lambda: next(ticks))

    attachment_extract_text(attachment_id=Attachment.objects.get().pk)

    stored = Attachment.objects.get()
    assert (stored.text_status, stored.text_problem) == (TextStatus.REFUSED, TextProblem.TOO_SLOW)


@pytest.mark.parametrize("value", [0, -1, "20", 2.5, True])
def test_it_refuses_a_limit_setting_that_is_not_a_positive_whole_number(
    settings: Any, value: Any
) -> None:
    settings.ATTACHMENT_TEXT_SECONDS = value

    with pytest.raises(ValueError, match="ATTACHMENT_TEXT_SECONDS"):
        extraction.limits()


@pytest.mark.parametrize(
    ("language", "says"), [("en", "not valid XML"), ("zh-hans", "不是有效的 XML")]
)
def test_it_shows_the_refusal_beside_the_upload_form(
    cast: Cast, deal: Any, media: Path, language: str, says: str
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.owner)
    notxml = SimpleUploadedFile("纪要.docx", docx_of(b"not xml at all"))

    response = client.post(
        reverse("web:upload", args=[deal.pk]),
        {"kind": "meeting_minutes", "file": notxml},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert says in response.content.decode()
    assert nothing_stored(media)


def test_it_says_on_the_page_that_the_text_is_being_read(
    cast: Cast, deal: Any, media: Path
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.owner)
    minutes = SimpleUploadedFile("纪要.txt", MINUTES.encode())

    response = client.post(
        reverse("web:upload", args=[deal.pk]),
        {"kind": "meeting_minutes", "file": minutes},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200, response.content.decode()
    assert "Uploaded 纪要.txt; its text is being read." in response.content.decode()


def test_the_sweep_reads_what_was_left_pending_by_a_lost_task(
    cast: Cast, deal: Any, api_as: Any
) -> None:
    from lodestar.crm.tasks import sweep_pending_attachments

    upload(api_as(cast.owner), deal, "纪要.txt", MINUTES.encode())  # its task never ran
    Attachment.objects.update(uploaded_at=timezone.now() - dt.timedelta(hours=1))

    sweep_pending_attachments.call_local()

    stored = Attachment.objects.get()
    assert (stored.text_status, stored.text_length) == ("done", len(MINUTES.replace(" ", "")))


def test_it_takes_the_file_back_when_the_row_cannot_be_written(
    cast: Cast, deal: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(Attachment, "save", fail)

    with pytest.raises(DatabaseError):
        attachment_upload(
            user=cast.owner,
            opportunity=deal,
            kind="meeting_minutes",
            uploaded_file=SimpleUploadedFile("纪要.txt", MINUTES.encode()),
        )

    assert nothing_stored(media)
