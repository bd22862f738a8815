"""The OpenAPI document and the docs page, which must work without any CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client

CRUD = [
    ("/api/v1/opportunities", {"get", "post"}),
    ("/api/v1/opportunities/{opportunity_id}", {"get", "patch", "delete"}),
    ("/api/v1/accounts", {"get", "post"}),
    ("/api/v1/accounts/{account_id}", {"get", "patch", "delete"}),
    ("/api/v1/contacts", {"get", "post"}),
    ("/api/v1/contacts/{contact_id}", {"get", "patch", "delete"}),
    ("/api/v1/products", {"get", "post"}),
    ("/api/v1/products/{product_id}", {"get", "patch", "delete"}),
    ("/api/v1/me", {"get"}),
]


@pytest.fixture
def openapi(client: Client, db: None) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("path", "methods"), CRUD)
def test_it_documents_the_crud_endpoints(openapi: dict, path: str, methods: set[str]) -> None:
    assert methods <= set(openapi["paths"][path])


def test_it_documents_the_error_shape(openapi: dict) -> None:
    error = openapi["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"code", "message", "details"}


def test_it_documents_bearer_tokens(openapi: dict) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_it_keeps_the_stage_out_of_the_documented_update(openapi: dict) -> None:
    update = openapi["components"]["schemas"]["OpportunityUpdateIn"]
    assert "stage_key" not in update["properties"]


def test_it_serves_the_docs_page_without_any_outside_address(client: Client, db: None) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/api/v1/") for source in sources)


@pytest.mark.parametrize("name", ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js"])
def test_it_serves_the_swagger_ui_files_itself(client: Client, db: None, name: str) -> None:
    response = client.get(f"/api/v1/docs/assets/{name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_it_serves_no_other_file_as_a_docs_asset(client: Client, db: None) -> None:
    response = client.get("/api/v1/docs/assets/redoc.standalone.js.map")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
