"""Attachments over REST: a deal's files, one file's details and its content — inline only for
safe types, the stored type, `nosniff` and a policy of its own, streamed — for whoever sees the
deal (anyone else, in another team or organization: 404), as on the deal page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from lodestar.crm.models import Attachment
from lodestar.org.models import User
from tests.conftest import ApiClient, Cast
from tests.factories import AttachmentFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
ApiAs = Callable[[User], ApiClient]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def deal(cast: Cast) -> Any:
    return OpportunityFactory(owner=cast.owner)


def _file(deal: Any, content: bytes, content_type: str, name: str) -> Attachment:
    return AttachmentFactory(
        opportunity=deal,
        content=content,
        content_type=content_type,
        original_name=name,
        kind="quote",
        extracted_text="",
        text_length=0,
    )


def _content(api: ApiClient, attachment: Attachment, **query: object) -> Any:
    return api.get(f"/attachments/{attachment.pk}/content", **query)


def test_a_deal_lists_its_files_with_whether_they_open_in_a_browser(
    cast: Cast, api_as: ApiAs, deal: Any
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")
    docx = _file(deal, b"PK\x03\x04 docx", DOCX, "技术协议.docx")
    _file(OpportunityFactory(owner=cast.owner), PDF, "application/pdf", "别的商机.pdf")

    response = api_as(cast.owner).get("/attachments", opportunity=deal.pk)

    assert response.status_code == 200, response.json()
    items = {item["id"]: item for item in response.json()["items"]}
    assert set(items) == {pdf.pk, docx.pk}
    assert (items[pdf.pk]["opens_inline"], items[docx.pk]["opens_inline"]) == (True, False)
    assert items[pdf.pk]["original_name"] == "报价单.pdf"
    assert items[pdf.pk]["uploaded_at"].endswith("+08:00")  # the organization's zone
    one = api_as(cast.owner).get(f"/attachments/{pdf.pk}")
    assert one.json()["size"] == len(PDF)


def test_the_content_of_a_pdf_opens_inline_with_the_stored_type(
    cast: Cast, api_as: ApiAs, deal: Any
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")

    response = _content(api_as(cast.owner), pdf)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "inline; filename=\"file.pdf\"; filename*=UTF-8''" + quote("报价单.pdf", safe="")
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response.streaming
    assert b"".join(response.streaming_content) == PDF


def test_download_true_and_unsafe_types_come_as_downloads(
    cast: Cast, api_as: ApiAs, deal: Any
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")
    docx = _file(deal, b"PK\x03\x04 docx", DOCX, "技术协议.docx")
    api = api_as(cast.owner)

    saved = _content(api, pdf, download="true")
    word = _content(api, docx)

    assert saved["Content-Disposition"].startswith("attachment; ")
    assert word["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''" + quote("技术协议.docx", safe="") in word["Content-Disposition"]
    assert word["Content-Type"] == DOCX
    for response in (saved, word):
        assert response["Content-Security-Policy"].startswith("sandbox; ")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_query_parameter_is_refused(cast: Cast, api_as: ApiAs, deal: Any) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")

    response = _content(api_as(cast.owner), pdf, inline="yes")

    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "inline"


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
def test_only_those_who_see_the_deal_read_its_files(
    cast: Cast, api_as: ApiAs, deal: Any, who: str, status: int
) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")
    api = api_as(getattr(cast, who))

    assert _content(api, pdf).status_code == status
    assert api.get(f"/attachments/{pdf.pk}").status_code == status
    assert api.get("/attachments", opportunity=deal.pk).status_code == status
    if status == 404:
        assert api.get("/attachments").json()["count"] == 0
    if status == 404:
        assert _content(api, pdf).json()["code"] == "not_found"


def test_without_a_token_the_content_is_refused(deal: Any) -> None:
    pdf = _file(deal, PDF, "application/pdf", "报价单.pdf")

    response = Client().get(f"/api/v1/attachments/{pdf.pk}/content")

    assert response.status_code == 401


def test_the_openapi_document_describes_the_operations(client: Client, db: None) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    content = paths["/api/v1/attachments/{attachment_id}/content"]["get"]
    assert "application/octet-stream" in content["responses"]["200"]["content"]
    assert [p["name"] for p in content["parameters"] if p["in"] == "query"] == ["download"]
    assert "get" in paths["/api/v1/attachments/{attachment_id}"]
    assert "get" in paths["/api/v1/attachments"]
    assert "post" in paths["/api/v1/opportunities/{opportunity_id}/attachments"]
