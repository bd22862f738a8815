"""API requests per caller per minute: 429 with Retry-After in the API's error body beyond it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone

from lodestar.org.services import api_token_create
from lodestar.throttling import RATELIMIT_CACHE
from tests.conftest import ApiClient, Cast, published  # noqa: F401 — the fixture
from tests.factories import OpportunityFactory

ApiAs = Callable[[Any], ApiClient]


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    caches[RATELIMIT_CACHE].clear()
    yield
    caches[RATELIMIT_CACHE].clear()


@override_settings(API_RATE_PER_MINUTE=3)
def test_it_answers_429_beyond_the_rate(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.owner)
    assert [api.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/me")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["code"] == "throttled"
    assert f"wait {response['Retry-After']} seconds" in body["message"]
    assert body["details"] == []


@override_settings(API_RATE_PER_MINUTE=2)
def test_it_counts_each_caller_on_its_own(cast: Cast, api_as: ApiAs) -> None:
    busy = api_as(cast.owner)
    for _ in range(3):
        busy.get("/me")
    assert api_as(cast.teammate).get("/me").status_code == 200


@override_settings(API_RATE_PER_MINUTE=2)
def test_it_counts_all_tokens_of_one_user_together(cast: Cast, api_as: ApiAs) -> None:
    api_as(cast.owner).get("/me")
    api_as(cast.owner).get("/me")
    assert api_as(cast.owner).get("/me").status_code == 429


@override_settings(API_RATE_PER_MINUTE=2)
def test_it_counts_a_signed_in_browser_as_its_user(cast: Cast, api_as: ApiAs) -> None:
    api_as(cast.owner).get("/me")
    browser = Client()
    browser.force_login(cast.owner)
    browser.get("/api/v1/me")
    assert browser.get("/api/v1/me").status_code == 429


@override_settings(API_RATE_PER_MINUTE=2)
def test_it_counts_a_batch_of_events_as_one_request(
    cast: Cast,
    api_as: ApiAs,
    published: Any,  # noqa: F811
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    now = timezone.now().isoformat()
    batch = [
        {
            "type": "call",
            "source": "crm",
            "external_id": f"c{n}",
            "occurred_at": now,
            "opportunity_id": deal.pk,
        }
        for n in range(5)
    ]
    api = api_as(cast.owner)
    response = api.post("/events", {"events": batch})
    assert response.status_code < 300, response.json()
    assert api.get("/me").status_code == 200


def test_it_refuses_a_bad_token_before_counting(cast: Cast) -> None:
    with override_settings(API_RATE_PER_MINUTE=1):
        for _ in range(3):
            assert (
                Client(HTTP_AUTHORIZATION="Bearer lsk_wrong").get("/api/v1/me").status_code == 401
            )
        _, secret = api_token_create(user=cast.owner, name="t")
        assert ApiClient(secret).get("/me").status_code == 200


def test_it_documents_429_on_the_operations(client: Client, db: None) -> None:
    document = client.get("/api/v1/openapi.json").json()
    me = document["paths"]["/api/v1/me"]["get"]["responses"]
    assert "429" in me
