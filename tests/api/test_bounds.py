"""Inputs are held to their documented ranges, and every refusal has the API's JSON error shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings

from lodestar.api.router import api
from lodestar.org.models import User
from lodestar.org.services import api_token_create
from tests.conftest import ApiClient, Cast

ApiAs = Callable[[User], ApiClient]


def assert_refused(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert [detail["field"] for detail in body["details"]] == [field]


@pytest.fixture
def owner_client(cast: Cast) -> Client:
    _, secret = api_token_create(user=cast.owner, name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")


def test_it_refuses_a_path_id_beyond_64_bits(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.owner).get("/reps/99999999999999999999/health")
    assert_refused(response, 422, "invalid", "rep_id")


def test_it_refuses_an_offset_beyond_its_maximum(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.owner).get("/accounts", offset="9223372036854775808")
    assert_refused(response, 422, "invalid", "offset")


def test_it_refuses_a_filter_id_beyond_64_bits(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.owner).get("/accounts", owner=str(10**30))
    assert_refused(response, 422, "invalid", "owner")


def test_it_refuses_a_date_not_written_as_year_month_day(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.owner).get("/opportunities", expected_close_to="0")
    assert_refused(response, 422, "invalid", "expected_close_to")
    assert "YYYY-MM-DD" in response.json()["details"][0]["message"]


def test_it_refuses_dates_outside_the_supported_range(api_as: ApiAs, cast: Cast) -> None:
    query = {"from": "0001-01-01", "to": "9999-12-31"}
    response = api_as(cast.owner).get("/metrics/win_rate", **query)
    assert_refused(response, 422, "invalid")
    assert {detail["field"] for detail in response.json()["details"]} == {"from", "to"}


def test_it_measures_a_period_at_the_end_of_the_supported_range(api_as: ApiAs, cast: Cast) -> None:
    query = {"from": "9999-01-01", "to": "9999-12-30"}
    response = api_as(cast.owner).get("/metrics/daily_report_on_time", **query)
    assert response.status_code == 200, response.content
    assert response.json()["date_to"] == "9999-12-30"


def test_it_refuses_a_metric_period_longer_than_five_years(api_as: ApiAs, cast: Cast) -> None:
    query = {"from": "1900-01-01", "to": "9999-12-30"}
    response = api_as(cast.owner).get("/metrics/daily_report_on_time", **query)
    assert_refused(response, 422, "invalid", "to")


def test_it_refuses_an_empty_decimal(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.ops).post("/products", {"name": "泵", "list_price": ""})
    assert_refused(response, 422, "invalid", "list_price")


def test_it_accepts_a_decimal_as_a_number_or_as_text(api_as: ApiAs, cast: Cast) -> None:
    client = api_as(cast.ops)  # the catalogue is kept by ops
    as_number = client.post("/products", {"name": "泵", "list_price": 12.5})
    as_text = client.post("/products", {"name": "阀", "list_price": "12.50"})
    assert (as_number.status_code, as_text.status_code) == (201, 201)
    prices = {Decimal(response.json()["list_price"]) for response in (as_number, as_text)}
    assert prices == {Decimal("12.5")}


def test_it_documents_the_decimal_forms_it_accepts() -> None:
    money = api.get_openapi_schema()["components"]["schemas"]["ProductCreateIn"]["properties"]
    forms = money["list_price"]["anyOf"]
    assert {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"} in forms
    assert not any(form == {"type": "string"} for form in forms)


def test_it_documents_the_range_of_path_ids() -> None:
    operation = api.get_openapi_schema()["paths"]["/api/v1/accounts/{account_id}"]["get"]
    (parameter,) = operation["parameters"]
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, 2**63 - 1)


def test_it_refuses_a_query_parameter_given_twice(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.owner).client.get("/api/v1/accounts?tier=key&tier=small")
    assert_refused(response, 422, "invalid")
    assert "tier" in response.json()["message"] + json.dumps(response.json()["details"])


def test_it_refuses_a_nul_character_in_a_filter(api_as: ApiAs, cast: Cast) -> None:
    response = api_as(cast.owner).get("/accounts", q="a\x00b")
    assert_refused(response, 422, "invalid", "q")


def test_it_answers_an_unknown_api_path_in_the_error_shape(owner_client: Client) -> None:
    assert_refused(owner_client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_it_answers_a_method_a_path_does_not_take_in_the_error_shape(
    owner_client: Client,
) -> None:
    response = owner_client.put("/api/v1/me")
    assert_refused(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_it_answers_malformed_json_in_the_error_shape(owner_client: Client) -> None:
    response = owner_client.post(
        "/api/v1/accounts", data="{not json", content_type="application/json"
    )
    assert_refused(response, 400, "bad_request")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024)
def test_it_answers_a_body_over_the_size_limit_with_413(owner_client: Client) -> None:
    body = json.dumps({"name": "x" * (1024 * 1024 + 1)})
    response = owner_client.post("/api/v1/accounts", data=body, content_type="application/json")
    assert_refused(response, 413, "too_large")
    assert "1 MB" in response.json()["message"]


def test_it_documents_413_on_every_operation_that_takes_a_body() -> None:
    paths = api.get_openapi_schema()["paths"]
    with_body = [
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert with_body
    undocumented = [
        (method, path) for method, path in with_body if 413 not in paths[path][method]["responses"]
    ]
    assert undocumented == []


def test_it_answers_a_server_fault_in_the_error_shape(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("lodestar.org.api.membership_of", fail)
    _, secret = api_token_create(user=cast.owner, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", raise_request_exception=False)
    assert_refused(client.get("/api/v1/me"), 500, "server_error")
