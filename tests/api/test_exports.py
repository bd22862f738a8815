"""`GET …/export?format=csv|xlsx`: every API list as a file, with the list's filters and scope."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from lodestar.api.router import api
from lodestar.crm.models import OpportunityStatus
from tests.conftest import ApiClient, Cast

pytestmark = pytest.mark.django_db

ApiAs = Callable[[Any], ApiClient]

# Each export beside its list: (export path, list path, first header in English).
EXPORTS = [
    ("/opportunities/export", "/opportunities", "Name"),
    ("/accounts/export", "/accounts", "Name"),
    ("/contacts/export", "/contacts", "Name"),
    ("/tasks/export", "/tasks", "Title"),
    ("/alerts/export", "/alerts", "Kind"),
    ("/metrics/{name}/export", "/metrics/{name}", "Deal"),
    ("/reps/{rep_id}/communication-scores/export", "/reps/{rep_id}/communication-scores", None),
    ("/members/export", "/members", "Display name"),
    ("/audit/export", "/audit", "At"),
]


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _column(rows: list[list[str]], header: str) -> list[str]:
    at = rows[0].index(header)
    return [row[at] for row in rows[1:]]


def _path(template: str, cast: Cast) -> str:
    return template.replace("{name}", "win_rate").replace("{rep_id}", str(cast.owner.pk))


@pytest.mark.parametrize(("export", "listed", "first"), EXPORTS)
def test_each_export_answers_a_csv_with_english_headers(
    cast: Cast, published: Any, api_as: ApiAs, export: str, listed: str, first: str | None
) -> None:
    rows = _csv(api_as(cast.admin).get(_path(export, cast), format="csv"))
    assert rows[0][0] == (first or "Occurred at")


@pytest.mark.parametrize(("export", "listed", "first"), EXPORTS)
def test_each_export_answers_an_xlsx_workbook(
    cast: Cast, published: Any, api_as: ApiAs, export: str, listed: str, first: str | None
) -> None:
    response = api_as(cast.admin).get(_path(export, cast), format="xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert next(sheet.iter_rows(values_only=True))[0] == (first or "Occurred at")


def test_an_excel_export_longer_than_its_limit_is_a_located_422(
    cast: Cast, published: Any, api_as: ApiAs, settings: Any
) -> None:
    from tests.factories import OpportunityFactory

    settings.LODESTAR_EXPORT_XLSX_MAX_ROWS = 1
    OpportunityFactory(owner=cast.owner)
    OpportunityFactory(owner=cast.owner)
    response = api_as(cast.admin).get("/opportunities/export", format="xlsx")
    assert response.status_code == 422
    [detail] = response.json()["details"]
    assert detail["field"] == "format"
    assert "CSV" in detail["message"]


def test_the_headers_follow_the_callers_language(cast: Cast, published: Any) -> None:
    from lodestar.org.services import api_token_create

    _, secret = api_token_create(user=cast.manager, name="zh")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    rows = _csv(client.get("/api/v1/opportunities/export"))
    assert rows[0][:4] == ["名称", "客户", "负责人", "团队"]


def test_the_deals_export_keeps_the_lists_filters(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, name="赢了", status=OpportunityStatus.WON)
    OpportunityFactory(owner=cast.owner, name="在谈")
    rows = _csv(api_as(cast.manager).get("/opportunities/export", status="won"))
    assert _column(rows, "Name") == ["赢了"]


def test_a_rep_exports_only_the_deals_the_list_shows_them(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, name="自己的单")
    OpportunityFactory(owner=cast.teammate, name="同事的单")
    rows = _csv(api_as(cast.owner).get("/opportunities/export"))
    assert _column(rows, "Name") == ["自己的单"]


def test_an_outsider_exports_none_of_the_organizations_accounts(cast: Cast, api_as: ApiAs) -> None:
    from tests.factories import AccountFactory

    AccountFactory(organization=cast.org, name="华东机床")
    assert _csv(api_as(cast.outsider).get("/accounts/export"))[1:] == []


def test_the_tasks_export_keeps_the_status_filter(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    from tests.factories import TaskFactory

    TaskFactory(assignee=cast.owner, opportunity=None, title="待办")
    TaskFactory(assignee=cast.owner, opportunity=None, title="已办", status="done")
    rows = _csv(api_as(cast.owner).get("/tasks/export", status="done"))
    assert _column(rows, "Title") == ["已办"]


def test_the_alerts_export_keeps_the_kind_filter(cast: Cast, published: Any, api_as: ApiAs) -> None:
    from tests.factories import AlertFactory, OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner)
    AlertFactory(opportunity=deal, recipient=cast.manager, kind="risk.silence")
    AlertFactory(opportunity=deal, recipient=cast.manager, kind="risk.stale")
    rows = _csv(api_as(cast.manager).get("/alerts/export", kind="risk.stale"))
    assert _column(rows, "Kind") == ["Stalled deal"]


def test_an_export_refuses_paging_it_holds_every_row(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.manager).get("/opportunities/export", limit=10)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "limit"


def test_an_export_refuses_an_unknown_format(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.manager).get("/accounts/export", format="pdf")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "format"


def test_a_rep_cannot_export_the_audit_log(cast: Cast, api_as: ApiAs) -> None:
    assert api_as(cast.owner).get("/audit/export").status_code == 403


def test_a_manager_cannot_export_another_teams_scorecards(cast: Cast, api_as: ApiAs) -> None:
    path = f"/reps/{cast.other_team_rep.pk}/communication-scores/export"
    assert api_as(cast.manager).get(path).status_code == 404


def test_the_members_export_reads_the_same_people_as_the_list(cast: Cast, api_as: ApiAs) -> None:
    client = api_as(cast.owner)
    listed = {m["username"] for m in client.get("/members").json()["items"]}
    exported = set(_column(_csv(client.get("/members/export")), "Username"))
    assert exported == listed


def test_an_export_without_its_table_is_not_found(cast: Cast, api_as: ApiAs, settings: Any) -> None:
    settings.LODESTAR_EXPORT_TABLES = {}
    assert api_as(cast.manager).get("/accounts/export").status_code == 404


# --- the OpenAPI document ------------------------------------------------------------------------


@pytest.mark.parametrize(("export", "listed", "first"), EXPORTS)
def test_the_document_gives_each_export_its_lists_filters_and_format(
    export: str, listed: str, first: str | None
) -> None:
    paths = api.get_openapi_schema()["paths"]
    exported = {p["name"] for p in paths[f"/api/v1{export}"]["get"]["parameters"]}
    listing = {p["name"] for p in paths[f"/api/v1{listed}"]["get"]["parameters"]}
    assert exported == (listing - {"limit", "offset"}) | {"format"}


@pytest.mark.parametrize(("export", "listed", "first"), EXPORTS)
def test_the_document_describes_the_csv_and_xlsx_answers(
    export: str, listed: str, first: str | None
) -> None:
    answer = api.get_openapi_schema()["paths"][f"/api/v1{export}"]["get"]["responses"]["200"]
    assert set(answer["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
