"""Channels, attachment kinds and file types by their human names, never their codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from lodestar.web.labels import attachment_kind_name, content_type_name, source_name
from tests.conftest import Cast
from tests.factories import AttachmentFactory, EventFactory
from tests.web.conftest import DemoDeal


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("zh-hans", ("企业微信", "邮件", "PDF 文件", "JPEG 图片", "图片", "文件", "报价单")),
        ("en", ("WeCom", "e-mail", "PDF file", "JPEG image", "image", "file", "Quote")),
    ],
)
def test_codes_read_as_names_in_the_active_language(language: str, names: tuple[str, ...]) -> None:
    with translation.override(language):
        assert (
            source_name("wecom"),
            source_name("email"),
            content_type_name("application/pdf"),
            content_type_name("image/jpeg; charset=binary"),
            content_type_name("image/x-unknown"),
            content_type_name("application/octet-stream"),
            attachment_kind_name("quote", {}),
        ) == names


def test_a_playbooks_own_name_for_a_kind_comes_first_and_unknown_codes_show_as_given() -> None:
    assert attachment_kind_name("quote", {"quote": "正式报价"}) == "正式报价"
    assert attachment_kind_name("site_photo", {}) == "site_photo"
    assert source_name("tests") == "tests"


@pytest.mark.django_db
def test_the_deal_page_names_the_channel_the_kind_and_the_file_type(
    cast: Cast, demo_deal: DemoDeal, settings: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    EventFactory(opportunity=demo_deal.deal, actor=None, source="wecom", type="email.received")
    AttachmentFactory(
        opportunity=demo_deal.deal, kind="quote", content_type="application/pdf", content=b"%PDF"
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.owner)

    page = client.get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()

    assert "· 企业微信" in page
    assert "PDF 文件" in page
    assert "· wecom" not in page
    assert "application/pdf ·" not in page  # (the upload form's accept list names types)
    assert ">quote<" not in page
