"""A deal's files from its page: safe types open in the browser, the rest download, always
with the stored type, `nosniff` and a policy of their own, streamed, and only for those who see
the deal (anyone else: 404, as for the deal page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from lodestar.crm.models import Attachment
from tests.conftest import Cast
from tests.factories import AttachmentFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
ClientAs = Callable[[Any], Client]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DOCX_NAME = "技术协议.docx"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def deal(cast: Cast) -> Any:
    return OpportunityFactory(owner=cast.owner)


def _file(deal: Any, content: bytes, content_type: str, name: str, **extra: Any) -> Attachment:
    return AttachmentFactory(
        opportunity=deal,
        content=content,
        content_type=content_type,
        original_name=name,
        kind="quote",
        extracted_text="",
        text_length=0,
        **extra,
    )


def _body(response: Any) -> bytes:
    assert response.streaming, "a file is streamed, not read into memory"
    return b"".join(response.streaming_content)


def test_a_pdf_opens_in_the_browser_with_its_chinese_name(
    cast: Cast, client_as: ClientAs, deal: Any
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单 v2.pdf")

    response = client_as(cast.owner).get(reverse("web:attachment", args=[pdf.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "inline; filename=\"v2.pdf\"; filename*=UTF-8''" + quote("报价单 v2.pdf", safe="")
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # nothing of the file's may run
    assert response["Cache-Control"] == "private, no-store"
    assert _body(response) == PDF


def test_the_download_link_saves_even_a_safe_type(
    cast: Cast, client_as: ClientAs, deal: Any
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")

    response = client_as(cast.owner).get(reverse("web:attachment-download", args=[pdf.pk]))

    assert response["Content-Disposition"].startswith('attachment; filename="file.pdf"; ')
    assert quote("报价单.pdf", safe="") in response["Content-Disposition"]
    assert response["Content-Security-Policy"].startswith("sandbox; ")
    assert _body(response) == PDF


def test_a_docx_is_always_a_download_with_the_stored_type(
    cast: Cast, client_as: ClientAs, deal: Any
) -> None:
    docx = _file(deal, b"PK\x03\x04 stored docx bytes", DOCX, DOCX_NAME)

    response = client_as(cast.owner).get(reverse("web:attachment", args=[docx.pk]))

    assert response["Content-Type"] == DOCX
    assert response["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''" + quote(DOCX_NAME, safe="") in response["Content-Disposition"]
    assert response["Content-Security-Policy"].startswith("sandbox; ")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_type_is_the_stored_one_never_guessed_from_the_name(
    cast: Cast, client_as: ClientAs, deal: Any
) -> None:
    # Named like a web page, sniffed as plain text when uploaded: served as text, sandboxed.
    text = _file(deal, b"<script>alert(1)</script>", "text/plain", "页面.html")

    response = client_as(cast.owner).get(reverse("web:attachment", args=[text.pk]))

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("inline; ")
    assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_plain_text_says_its_character_set(cast: Cast, client_as: ClientAs, deal: Any) -> None:
    gb = _file(deal, "会议纪要:客户确认预算".encode("gb18030"), "text/plain", "纪要.txt")
    utf8 = _file(deal, "会议纪要:客户确认预算".encode(), "text/plain", "纪要2.txt")
    client = client_as(cast.owner)

    assert client.get(reverse("web:attachment", args=[gb.pk]))["Content-Type"] == (
        "text/plain; charset=gb18030"
    )
    assert client.get(reverse("web:attachment", args=[utf8.pk]))["Content-Type"] == (
        "text/plain; charset=utf-8"
    )


def test_an_image_opens_sandboxed(cast: Cast, client_as: ClientAs, deal: Any) -> None:
    png = _file(deal, b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png", "现场照片.png")

    response = client_as(cast.owner).get(reverse("web:attachment", args=[png.pk]))

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline; ")
    assert response["Content-Security-Policy"].startswith("sandbox; ")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("manager", 200),
        ("admin", 200),
        ("ops", 200),
        ("teammate", 404),
        ("other_team_rep", 404),
        ("outsider", 404),
    ],
)
def test_only_those_who_see_the_deal_get_its_files(
    cast: Cast, client_as: ClientAs, deal: Any, who: str, status: int
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")
    client = client_as(getattr(cast, who))

    for name in ("web:attachment", "web:attachment-download"):
        response = client.get(reverse(name, args=[pdf.pk]))
        assert response.status_code == status
        if status == 404:
            assert b"%PDF" not in response.content


def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(deal: Any) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")

    response = Client().get(reverse("web:attachment", args=[pdf.pk]))

    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_an_unknown_file_is_404(cast: Cast, client_as: ClientAs) -> None:
    assert client_as(cast.owner).get(reverse("web:attachment", args=[999999])).status_code == 404


def test_the_deal_page_links_each_file_with_its_size_and_type_in_words(
    cast: Cast, client_as: ClientAs, deal: Any
) -> None:
    pdf = _file(deal, PDF * 40, "application/pdf", "报价单.pdf")
    docx = _file(deal, b"PK\x03\x04" + b"x" * 2048, DOCX, DOCX_NAME)

    page = client_as(cast.owner).get(reverse("web:deal", args=[deal.pk])).content.decode()

    assert f'href="{reverse("web:attachment", args=[pdf.pk])}"' in page
    assert f'href="{reverse("web:attachment-download", args=[pdf.pk])}"' in page
    # A DOCX is not offered to open, only to download.
    assert f'href="{reverse("web:attachment", args=[docx.pk])}"' not in page
    assert f'href="{reverse("web:attachment-download", args=[docx.pk])}"' in page
    assert "PDF" in page
    assert "PDF file, 2.7\xa0KB" in page  # PDF * 40 is 2,760 bytes
