"""`/api/v1/imports`: upload, mapping, preview, dry run, import, problems, undo — scoped to ops and
admins of the organization, every refusal a located 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from lodestar.crm.models import Account
from lodestar.imports.models import ImportBatch
from lodestar.org.models import User
from tests.conftest import Cast

ACCOUNTS = "客户名称,行业,区域\n华东机械有限公司,制造业,华东\n南方医疗器械,医疗,华南\n"
WITH_ERRORS = "客户名称,行业,客户等级\n华东机械,制造业,key\n,医疗,standard\n北方物流,物流,gold\n"


class Uploader:
    """An API client of one user that also sends multipart bodies."""

    def __init__(self, user: User) -> None:
        from lodestar.org.services import api_token_create

        _, secret = api_token_create(user=user, name="tests")
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")

    def upload(self, text: str | bytes, *, kind: str = "accounts", name: str = "a.csv") -> Any:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                "/api/v1/imports",
                {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="text/csv")},
            )

    def send(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        import json

        with TestCase.captureOnCommitCallbacks(execute=True):
            if method == "get":
                return self.client.get(f"/api/v1/imports{path}", data=query or None)
            return getattr(self.client, method)(
                f"/api/v1/imports{path}",
                data=json.dumps(body if body is not None else {}),
                content_type="application/json",
            )


@pytest.fixture
def as_user(db: None) -> Callable[[User], Uploader]:
    return Uploader


def test_an_upload_answers_the_batch_with_its_suggested_mapping(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    response = as_user(cast.ops).upload(ACCOUNTS)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "uploaded"
    assert body["headers"] == ["客户名称", "行业", "区域"]
    targets = {rule["column"]: rule["target"] for rule in body["mapping"]["columns"]}
    assert targets["客户名称"] == "name"
    assert not Account.objects.filter(organization=cast.org).exists()


def test_an_xlsx_workbook_uploads_and_imports_like_a_csv(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["客户名称", "行业"], ["华东机械", "制造业"], ["南方医疗", "医疗"]):
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    api = as_user(cast.ops)

    batch = api.upload(data.getvalue(), name="客户.xlsx").json()
    api.send("post", f"/{batch['id']}/run")

    assert batch["format"] == "xlsx"
    assert api.send("get", f"/{batch['id']}").json()["counts"]["imported"] == 2
    assert set(
        Account.objects.filter(organization=cast.org).values_list("industry", flat=True)
    ) == {
        "制造业",
        "医疗",
    }


def test_a_dry_run_then_an_import_then_undo(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.ops)
    batch_id = api.upload(ACCOUNTS).json()["id"]

    checked = api.send("post", f"/{batch_id}/check")
    assert checked.status_code == 202, checked.content
    assert api.send("get", f"/{batch_id}").json()["status"] == "checked"
    assert not Account.objects.filter(organization=cast.org).exists()

    ran = api.send("post", f"/{batch_id}/run")
    assert ran.status_code == 202, ran.content
    done = api.send("get", f"/{batch_id}").json()
    assert done["status"] == "done"
    assert done["counts"]["imported"] == 2
    assert done["progress"] == {"done": 2, "total": 2}
    assert Account.objects.filter(organization=cast.org).count() == 2

    undone = api.send("post", f"/{batch_id}/undo")
    assert undone.status_code == 200, undone.content
    assert undone.json()["status"] == "undone"
    assert not Account.objects.filter(organization=cast.org).exists()


def test_problems_are_listed_by_row_and_column_and_filtered_by_severity(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.ops)
    batch_id = api.upload(WITH_ERRORS).json()["id"]
    api.send("post", f"/{batch_id}/check")

    everything = api.send("get", f"/{batch_id}/problems").json()
    errors = api.send("get", f"/{batch_id}/problems", severity="error").json()

    assert everything["count"] >= errors["count"] >= 2
    rows = {(item["row"], item["column"]) for item in errors["items"]}
    assert (3, "客户名称") in rows  # the empty required name, on the file's third line
    assert (4, "客户等级") in rows  # "gold" is no tier
    assert all(item["severity"] == "error" for item in errors["items"])
    assert all(item["message"] for item in errors["items"])


def test_problems_are_counted_by_kind_with_the_first_row_and_an_example(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.ops)
    rows = "".join(f"客户{n},制造业,gold\n" for n in range(30))
    batch_id = api.upload("客户名称,行业,客户等级\n" + rows + ",医疗,key\n").json()["id"]
    api.send("post", f"/{batch_id}/check")

    kinds = api.send("get", f"/{batch_id}/problems/kinds").json()

    by_column = {kind["column"]: kind for kind in kinds}
    assert by_column["客户等级"]["count"] == 30
    assert by_column["客户等级"]["first_row"] == 2
    assert "gold" in by_column["客户等级"]["example"]
    assert by_column["客户名称"]["count"] == 1
    assert by_column["客户名称"]["first_row"] == 32
    assert all(kind["severity"] == "error" for kind in kinds)


def test_the_preview_names_the_records_rows_refer_to(
    cast: Cast, as_user: Callable[[User], Uploader], published: Any
) -> None:
    api = as_user(cast.ops)
    batch_id = api.upload("商机名称,客户,阶段\n水厂改造,华东水务,初步接触\n", kind="deals").json()[
        "id"
    ]

    row = api.send("get", f"/{batch_id}/preview").json()["rows"][0]

    assert row["references"]["account"] == {"value": "华东水务", "found": False, "create": True}
    assert row["values"]["stage"] == "first_contact"


def test_the_preview_shows_rows_as_they_will_be_stored(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.ops)
    batch_id = api.upload(WITH_ERRORS).json()["id"]

    response = api.send("get", f"/{batch_id}/preview")

    assert response.status_code == 200, response.content
    rows = {row["number"]: row for row in response.json()["rows"]}
    assert rows[2]["values"]["name"] == "华东机械"
    assert rows[2]["values"]["tier"] == "key"
    assert any(p["severity"] == "error" for p in rows[3]["problems"])
    assert not ImportBatch.objects.get(pk=batch_id).problems.exists()  # nothing stored


def test_a_mapping_is_replaced_and_a_bad_one_refused_with_its_problems(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.ops)
    batch = api.upload(ACCOUNTS).json()
    mapping = batch["mapping"]
    for rule in mapping["columns"]:
        if rule["column"] == "区域":
            rule["target"] = "ignore"

    changed = api.send("put", f"/{batch['id']}/mapping", {"mapping": mapping})
    assert changed.status_code == 200, changed.content
    targets = {rule["column"]: rule["target"] for rule in changed.json()["mapping"]["columns"]}
    assert targets["区域"] == "ignore"

    for rule in mapping["columns"]:
        if rule["column"] == "客户名称":
            rule["target"] = "ignore"  # the required name has no column now
    refused = api.send("put", f"/{batch['id']}/mapping", {"mapping": mapping})
    assert refused.status_code == 422
    assert refused.json()["details"]


def test_an_unreadable_file_is_refused_before_anything_is_stored(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    response = as_user(cast.ops).upload(b"", name="empty.csv")

    assert response.status_code == 422
    assert response.json()["message"]
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_413(
    cast: Cast, as_user: Callable[[User], Uploader], settings: Any
) -> None:
    settings.LODESTAR_IMPORT_MAX_BYTES = 40

    response = as_user(cast.ops).upload(ACCOUNTS * 3)

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert "at most" in body["message"]
    assert body["details"][0]["field"] == "file"
    assert not ImportBatch.objects.exists()


def test_an_unknown_kind_is_a_located_422(cast: Cast, as_user: Callable[[User], Uploader]) -> None:
    response = as_user(cast.ops).upload(ACCOUNTS, kind="customers")

    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "kind"


def test_reps_and_managers_may_not_import(cast: Cast, as_user: Callable[[User], Uploader]) -> None:
    for user in (cast.owner, cast.manager):
        response = as_user(user).upload(ACCOUNTS)
        assert response.status_code == 403, response.content
        assert as_user(user).send("get", "").status_code == 403
    assert not ImportBatch.objects.exists()


def test_another_organizations_import_is_not_found(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    batch_id = as_user(cast.ops).upload(ACCOUNTS).json()["id"]
    outsider = as_user(cast.outsider)

    assert outsider.send("get", f"/{batch_id}").status_code == 404
    assert outsider.send("post", f"/{batch_id}/run").status_code == 404
    assert outsider.send("get", "").json()["count"] == 0


def test_undo_of_a_batch_not_imported_is_refused(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.ops)
    batch_id = api.upload(ACCOUNTS).json()["id"]

    response = api.send("post", f"/{batch_id}/undo")

    assert response.status_code == 409
    assert response.json()["message"]


def test_the_list_is_newest_first_and_paged(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    api = as_user(cast.admin)
    first = api.upload(ACCOUNTS, name="first.csv").json()["id"]
    second = api.upload(ACCOUNTS, name="second.csv").json()["id"]

    page = api.send("get", "", limit=1).json()

    assert page["count"] == 2
    assert [item["id"] for item in page["items"]] == [second]
    assert first != second


def test_the_kinds_list_each_kinds_fields_and_header_names(
    cast: Cast, as_user: Callable[[User], Uploader]
) -> None:
    response = as_user(cast.ops).send("get", "/kinds")

    assert response.status_code == 200
    kinds = {kind["key"]: kind for kind in response.json()}
    assert set(kinds) == {
        "accounts",
        "contacts",
        "products",
        "deals",
        "stage_history",
        "activities",
    }
    name = next(f for f in kinds["accounts"]["fields"] if f["key"] == "name")
    assert name["required"]
    assert "客户名称" in name["synonyms"]


def test_the_openapi_document_lists_the_import_operations(client: Client, db: None) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/imports"])
    for path in ("mapping", "preview", "check", "run", "cancel", "undo", "problems"):
        assert f"/api/v1/imports/{{batch_id}}/{path}" in paths
    upload = paths["/api/v1/imports"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "413" in upload["responses"]
