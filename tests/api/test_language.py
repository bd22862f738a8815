"""The API answers in the caller's language: Simplified Chinese by default, English on request."""

from __future__ import annotations

import json

import pytest
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


@pytest.mark.parametrize(
    ("path", "method", "status", "words"),
    [
        ("/api/v1/no-such-thing", "get", 404, "API 中没有这个路径"),
        ("/api/v1/opportunities/1/no-such-thing/", "post", 404, "API 中没有这个路径"),
        ("/api/v1/me", "put", 405, "此路径不支持该 HTTP 方法"),
    ],
)
def test_it_answers_a_path_or_method_it_does_not_have_in_the_callers_language(
    cast: Cast, path: str, method: str, status: int, words: str
) -> None:
    _, secret = api_token_create(user=cast.owner, name="lang")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    response = getattr(client, method)(path)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] in {"not_found", "method_not_allowed"}
    assert body["message"].startswith(words)
    assert body["details"] == []
