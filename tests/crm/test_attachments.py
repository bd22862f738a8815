"""Attachment uploads: type sniffed from the bytes, text extracted, unsupported types refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lodestar.crm.attachments import PDF_TEXT, sniff
from lodestar.crm.models import Attachment
from tests.conftest import Cast
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
MINUTES = "会议纪要:客户确认预算范围,下周安排 POC。" * 20


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def deal(cast: Cast) -> Any:
    return OpportunityFactory(owner=cast.owner)


def docx(text: str) -> bytes:
    buffer = io.BytesIO()
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraph = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"
    body = f'<w:document xmlns:w="{ns}"><w:body>{paragraph}</w:body></w:document>'
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", body)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def upload(api: Any, deal: Any, name: str, data: bytes, kind: str = "meeting_minutes") -> Any:
    return api.client.post(
        f"/api/v1/opportunities/{deal.pk}/attachments",
        {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


@pytest.mark.parametrize(
    ("name", "data", "content_type", "chars"),
    [
        ("纪要.txt", MINUTES.encode(), "text/plain", len(MINUTES.replace(" ", ""))),
        (
            "纪要.docx",
            docx(MINUTES),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            len(MINUTES.replace(" ", "")),
        ),
        ("报价.pdf", PDF, "application/pdf", 0),
        ("报价.png", PNG, "image/png", 0),
        ("gbk.txt", MINUTES.encode("gb18030"), "text/plain", len(MINUTES.replace(" ", ""))),
    ],
)
def test_it_sniffs_the_type_from_the_bytes_and_extracts_text(
    cast: Cast, deal: Any, api_as: Any, name: str, data: bytes, content_type: str, chars: int
) -> None:
    response = upload(api_as(cast.owner), deal, name, data)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["content_type"], body["text_length"]) == (content_type, chars)
    stored = Attachment.objects.get(pk=body["id"])
    assert stored.file.read() == data
    assert stored.original_name == name


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


def test_it_reports_whether_pdf_text_can_be_extracted() -> None:
    assert sniff(PDF) == "application/pdf"
    assert isinstance(PDF_TEXT, bool)  # False until `pypdf` is installed
