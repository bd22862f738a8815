"""The knowledge base over REST: everyone in the organization lists and reads; sales ops and
administrators write; bad input names its field and stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lodestar.crm.models import KnowledgeEntry
from lodestar.insights.knowledge import knowledge_entry_create
from lodestar.insights.models import KnowledgeFile
from lodestar.org.models import AuditEntry
from tests.conftest import ApiClient, Cast
from tests.crm.test_attachments import pdf_of, text_page

pytestmark = pytest.mark.django_db
ApiAs = Callable[[Any], ApiClient]


@pytest.fixture
def handbook(cast: Cast, published: Any) -> KnowledgeEntry:
    return knowledge_entry_create(
        user=cast.ops,
        title="高频异议应答手册",
        body="价格异议:先确认预算范围。",
        key="objection_handling",
        stage_keys=["quote"],
    )


def _upload(cast: Cast, user: Any, entry_id: int, data: bytes, name: str) -> Any:
    from lodestar.org.services import api_token_create

    _, secret = api_token_create(user=user, name="upload")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")
    return client.post(
        f"/api/v1/knowledge/{entry_id}/files", {"file": SimpleUploadedFile(name, data)}
    )


def test_it_lists_and_filters_entries_for_a_rep(
    cast: Cast, api_as: ApiAs, handbook: KnowledgeEntry
) -> None:
    knowledge_entry_create(user=cast.ops, title="Case: Ningbo", kind="case")
    api = api_as(cast.owner)
    everything = api.get("/knowledge").json()
    assert everything["count"] == 2
    by_stage = api.get("/knowledge", stage="quote").json()
    assert [item["key"] for item in by_stage["items"]] == ["objection_handling"]
    assert by_stage["items"][0]["stage_keys"] == ["quote"]
    assert api.get("/knowledge", kind="case").json()["items"][0]["title"] == "Case: Ningbo"
    assert api.get("/knowledge", q="预算").json()["count"] == 1
    one = api.get(f"/knowledge/{handbook.pk}")
    assert one.status_code == 200
    assert one.json()["body"] == "价格异议:先确认预算范围。"


def test_it_refuses_an_unknown_filter_and_hides_other_organizations(
    cast: Cast, api_as: ApiAs, handbook: KnowledgeEntry
) -> None:
    assert api_as(cast.owner).get("/knowledge", category="x").status_code == 422
    assert api_as(cast.outsider).get(f"/knowledge/{handbook.pk}").status_code == 404
    assert api_as(cast.outsider).get("/knowledge").json()["count"] == 0


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_a_rep_or_manager_cannot_write(
    cast: Cast, api_as: ApiAs, handbook: KnowledgeEntry, who: str
) -> None:
    api = api_as(getattr(cast, who))
    created = api.post("/knowledge", {"title": "私自手册"})
    assert created.status_code == 403
    assert created.json()["code"] == "permission_denied"
    assert api.patch(f"/knowledge/{handbook.pk}", {"title": "改"}).status_code == 403
    assert api.delete(f"/knowledge/{handbook.pk}").status_code == 403
    upload = _upload(cast, getattr(cast, who), handbook.pk, pdf_of(text_page("x")), "a.pdf")
    assert upload.status_code == 403
    assert KnowledgeEntry.objects.filter(organization=cast.org).count() == 1
    assert not KnowledgeFile.objects.exists()


def test_ops_create_change_and_delete_an_entry(cast: Cast, api_as: ApiAs, published: Any) -> None:
    api = api_as(cast.ops)
    created = api.post(
        "/knowledge",
        {"title": "Pricing handbook", "kind": "handbook", "stage_keys": ["demo"], "body": "…"},
    )
    assert created.status_code == 201
    entry = created.json()
    assert entry["key"] == "pricing-handbook"
    assert entry["stage_keys"] == ["demo"]
    assert entry["files"] == []
    changed = api.patch(f"/knowledge/{entry['id']}", {"stage_keys": ["quote", "demo"]})
    assert changed.status_code == 200
    assert changed.json()["stage_keys"] == ["demo", "quote"]
    assert changed.json()["title"] == "Pricing handbook"
    assert api.delete(f"/knowledge/{entry['id']}").status_code == 204
    assert api.get(f"/knowledge/{entry['id']}").status_code == 404
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"knowledge.created", "knowledge.updated", "knowledge.deleted"} <= actions


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": "X", "stage_keys": ["nope"]}, "stage_keys", "No published playbook has"),
        ({"title": "X", "key": "objection_handling"}, "key", "already has the key"),
        ({"title": "X", "key": "有 空格"}, "key", "at most 64 letters"),
        ({"title": "X", "product_id": 999999}, "product_id", "No product 999999"),
        ({"title": "X", "kind": "memo"}, "kind", ""),
        ({"title": ""}, "title", ""),
    ],
)
def test_ops_bad_input_names_its_field_and_stores_nothing(
    cast: Cast,
    api_as: ApiAs,
    handbook: KnowledgeEntry,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = api_as(cast.ops).post("/knowledge", body)
    assert response.status_code == 422
    details = response.json()["details"]
    assert [d["field"] for d in details] == [field]
    assert message in details[0]["message"]
    assert KnowledgeEntry.objects.filter(organization=cast.org).count() == 1


def test_ops_attach_a_file_that_everyone_downloads_and_other_types_are_refused(
    cast: Cast, api_as: ApiAs, handbook: KnowledgeEntry
) -> None:
    stored = _upload(cast, cast.ops, handbook.pk, pdf_of(text_page("Handbook")), "手册.pdf")
    assert stored.status_code == 201
    file = stored.json()
    assert file["content_type"] == "application/pdf"
    assert file["original_name"] == "手册.pdf"
    content = api_as(cast.owner).client.get(file["url"])
    assert content.status_code == 200
    assert content["Content-Type"] == "application/pdf"
    assert content["X-Content-Type-Options"] == "nosniff"
    assert content["Content-Disposition"].startswith("attachment;")
    assert b"".join(content.streaming_content).startswith(b"%PDF")
    listed = api_as(cast.owner).get(f"/knowledge/{handbook.pk}").json()
    assert [f["id"] for f in listed["files"]] == [file["id"]]

    refused = _upload(cast, cast.ops, handbook.pk, b"MZ\x90\x00" + bytes(300), "tool.exe")
    assert refused.status_code == 422
    assert refused.json()["details"][0]["field"] == "file"
    assert KnowledgeFile.objects.count() == 1

    api = api_as(cast.ops)
    assert api.delete(f"/knowledge/{handbook.pk}/files/{file['id']}").status_code == 204
    assert not KnowledgeFile.objects.exists()


def test_the_operations_are_in_the_openapi_document(cast: Cast, api_as: ApiAs) -> None:
    paths = api_as(cast.owner).get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/knowledge"]) == {"get", "post"}
    assert set(paths["/api/v1/knowledge/{entry_id}"]) == {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/knowledge/{entry_id}/files"]
    assert "get" in paths["/api/v1/knowledge/{entry_id}/files/{file_id}/content"]
    assert "delete" in paths["/api/v1/knowledge/{entry_id}/files/{file_id}"]
