"""Token and session authentication, and the error shape of a refused caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from lodestar.org.models import ApiToken
from lodestar.org.services import api_token_create, api_token_revoke
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory


def assert_unauthenticated(response: Any) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["message"]
    assert body["details"] == []


def test_it_accepts_a_personal_token(cast: Cast) -> None:
    _, secret = api_token_create(user=cast.owner, name="t")
    response = ApiClient(secret).get("/me")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "owner"


def test_it_refuses_a_revoked_token(cast: Cast) -> None:
    token, secret = api_token_create(user=cast.owner, name="t")
    api_token_revoke(token=token)
    assert_unauthenticated(ApiClient(secret).get("/opportunities"))


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_it_refuses_a_revoked_token_on_every_method(cast: Cast, method: str) -> None:
    token, secret = api_token_create(user=cast.owner, name="t")
    deal = OpportunityFactory(owner=cast.owner)
    api_token_revoke(token=token)
    client = ApiClient(secret)
    path = "/opportunities" if method == "post" else f"/opportunities/{deal.pk}"
    body = [{}] if method in {"post", "patch"} else []
    response = getattr(client, method)(path, *body)
    assert_unauthenticated(response)


def test_it_refuses_an_unknown_token(cast: Cast) -> None:
    assert_unauthenticated(ApiClient(ApiToken.new_secret()).get("/me"))


def test_it_refuses_a_call_without_credentials(client: Client, cast: Cast) -> None:
    assert_unauthenticated(client.get("/api/v1/opportunities"))


def test_it_records_when_a_token_was_last_used(cast: Cast) -> None:
    token, secret = api_token_create(user=cast.owner, name="t")
    ApiClient(secret).get("/me")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_accepts_a_signed_in_browser_session(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["role"] == "rep"


def test_it_requires_csrf_for_session_writes(cast: Cast) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.owner)
    response = browser.post("/api/v1/accounts", data={"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_it_accepts_session_writes_with_the_csrf_token(cast: Cast) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.owner)
    browser.get("/api/v1/docs")  # sets the CSRF cookie, as the docs page does in a browser
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/api/v1/accounts",
        data={"name": "苏州精密"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201, response.content


def test_it_does_not_ask_token_callers_for_csrf(cast: Cast, api_as: Callable[..., Any]) -> None:
    api = api_as(cast.owner)
    api.client = Client(enforce_csrf_checks=True, **api.client.defaults)
    assert api.post("/accounts", {"name": "苏州精密"}).status_code == 201
