"""The API answers in the caller's language: Simplified Chinese by default, English on request."""

from __future__ import annotations

import json

from django.test import Client

from lodestar.org.services import api_token_create
from tests.conftest import Cast


def post_unknown_field(cast: Cast, **headers: str) -> dict[str, object]:
    _, secret = api_token_create(user=cast.owner, name="lang")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", **headers)
    response = client.post(
        "/api/v1/accounts",
        data=json.dumps({"name": "甲", "colour": "red"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    return response.json()["details"][0]


def test_it_explains_errors_in_simplified_chinese_by_default(cast: Cast) -> None:
    assert post_unknown_field(cast)["message"] == "未知字段。"


def test_it_explains_errors_in_english_when_asked(cast: Cast) -> None:
    assert post_unknown_field(cast, HTTP_ACCEPT_LANGUAGE="en")["message"] == "Unknown field."
