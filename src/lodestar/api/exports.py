"""`GET …/export?format=csv|xlsx`: every list of the API as a file, with the list's own filters.

Each list operation has an export beside it (`/opportunities` → `/opportunities/export`) that
takes the same query parameters (but `limit` and `offset`: an export holds every row the filters
keep) plus `format`, selects through the same selector — so it holds exactly what the list shows
the caller — and writes the rows with `lodestar.exporting`: CSV (UTF-8 with a byte-order mark,
streamed) or XLSX, headers and values in the caller's language as the pages word them. The
tables are the pages' (`LODESTAR_EXPORT_TABLES`): the API names none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponseBase
from ninja import Field, Query, Router
from pydantic import create_model

from lodestar.automation import selectors as tasks
from lodestar.automation.api import TaskQuery
from lodestar.crm import selectors as crm
from lodestar.crm.schemas import AccountQuery, ContactQuery, OpportunityQuery
from lodestar.errors import NotFound
from lodestar.exporting import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    ExportFormat,
    export_response,
    table_builder,
)
from lodestar.fields import Id
from lodestar.insights import metrics
from lodestar.insights import selectors as insights
from lodestar.insights.api import AlertQuery, MetricName, MetricQuery
from lodestar.org import selectors as org
from lodestar.org.api import AuditQuery, MemberQuery
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES
from lodestar.rest.pagination import PageQuery
from lodestar.rest.schemas import StrictQuery

__all__ = ["router"]

router = Router()

_FORMAT: Any = Field(
    "csv",
    description="csv: UTF-8 with a byte-order mark, streamed; xlsx: an Excel workbook.",
)
_FILE = {
    "responses": {
        "200": {
            "description": "The list as a download (Content-Disposition: attachment), headers "
            "and values in the caller's language.",
            "content": {
                CSV_CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


def _export_query(name: str, listed: type[StrictQuery]) -> Any:
    """The list's query without `limit` and `offset`, with `format`: the same filters, kept
    the same by construction."""
    fields: dict[str, Any] = {
        key: (info.annotation, info)
        for key, info in listed.model_fields.items()
        if key not in PageQuery.model_fields
    }
    return create_model(name, __base__=StrictQuery, format=(ExportFormat, _FORMAT), **fields)


class _Format(StrictQuery):
    format: ExportFormat = _FORMAT


if TYPE_CHECKING:  # to the type checker, each is its list's query with `format`

    class OpportunityExport(OpportunityQuery, _Format): ...

    class AccountExport(AccountQuery, _Format): ...

    class ContactExport(ContactQuery, _Format): ...

    class TaskExport(TaskQuery, _Format): ...

    class AlertExport(AlertQuery, _Format): ...

    class MetricExport(MetricQuery, _Format): ...

    class MemberExport(MemberQuery, _Format): ...

    class AuditExport(AuditQuery, _Format): ...

else:
    OpportunityExport = _export_query("OpportunityExport", OpportunityQuery)
    AccountExport = _export_query("AccountExport", AccountQuery)
    ContactExport = _export_query("ContactExport", ContactQuery)
    TaskExport = _export_query("TaskExport", TaskQuery)
    AlertExport = _export_query("AlertExport", AlertQuery)
    MetricExport = _export_query("MetricExport", MetricQuery)
    MemberExport = _export_query("MemberExport", MemberQuery)
    AuditExport = _export_query("AuditExport", AuditQuery)


def _export(table: str, fmt: ExportFormat, **source: Any) -> HttpResponseBase:
    build = table_builder(table)
    if build is None:  # no installed part of Lodestar words this list
        raise NotFound()
    return export_response(build(**source), fmt)


@router.get(
    "/opportunities/export",
    response=ERROR_RESPONSES,
    openapi_extra=_FILE,
    tags=["opportunities"],
)
def export_opportunities(
    request: AuthenticatedHttpRequest, filters: Query[OpportunityExport]
) -> HttpResponseBase:
    """The deals `GET /opportunities` lists with these filters, every one of them, as a file."""
    found = crm.opportunity_list(
        user=request.user,
        filters=crm.OpportunityFilters(
            status=filters.status,
            stage_key=filters.stage,
            owner_id=filters.owner,
            team_id=filters.team,
            account_id=filters.account,
            q=filters.q,
            expected_close_from=filters.expected_close_from,
            expected_close_to=filters.expected_close_to,
        ),
    ).order_by("-created_at", "-id")
    return _export("opportunities", filters.format, user=request.user, rows=found)


@router.get("/accounts/export", response=ERROR_RESPONSES, openapi_extra=_FILE, tags=["accounts"])
def export_accounts(
    request: AuthenticatedHttpRequest, filters: Query[AccountExport]
) -> HttpResponseBase:
    """The accounts `GET /accounts` lists with these filters, as a file."""
    found = crm.account_list(
        user=request.user,
        filters=crm.AccountFilters(
            q=filters.q, tier=filters.tier, industry=filters.industry, owner_id=filters.owner
        ),
    ).order_by("name", "id")
    return _export("accounts", filters.format, user=request.user, rows=found)


@router.get("/contacts/export", response=ERROR_RESPONSES, openapi_extra=_FILE, tags=["contacts"])
def export_contacts(
    request: AuthenticatedHttpRequest, filters: Query[ContactExport]
) -> HttpResponseBase:
    """The contacts `GET /contacts` lists with these filters, as a file."""
    found = crm.contact_list(
        user=request.user,
        filters=crm.ContactFilters(account_id=filters.account, q=filters.q),
    ).order_by("account__name", "name", "id")
    return _export("contacts", filters.format, user=request.user, rows=found)


@router.get("/tasks/export", response=ERROR_RESPONSES, openapi_extra=_FILE, tags=["tasks"])
def export_tasks(request: AuthenticatedHttpRequest, filters: Query[TaskExport]) -> HttpResponseBase:
    """The tasks `GET /tasks` lists with these filters, earliest deadline first, as a file."""
    found = tasks.task_list_for(
        user=request.user,
        filters=tasks.TaskFilters(
            status=filters.status,
            assignee_id=filters.assignee,
            opportunity_id=filters.opportunity,
            due_before=filters.due_before,
            due_after=filters.due_after,
        ),
    )
    return _export("tasks", filters.format, user=request.user, rows=found)


@router.get("/alerts/export", response=ERROR_RESPONSES, openapi_extra=_FILE, tags=["insights"])
def export_alerts(
    request: AuthenticatedHttpRequest, filters: Query[AlertExport]
) -> HttpResponseBase:
    """Your alerts as `GET /alerts` lists them with these filters, newest first, as a file."""
    found = insights.alert_list(user=request.user, status=filters.status)
    if filters.rep is not None:
        found = insights.alerts_about(found, rep_id=filters.rep)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    found = found.order_by("-raised_at", "-pk")
    return _export("alerts", filters.format, user=request.user, rows=found)


@router.get(
    "/metrics/{name}/export", response=ERROR_RESPONSES, openapi_extra=_FILE, tags=["insights"]
)
def export_metric(
    request: AuthenticatedHttpRequest, name: MetricName, filters: Query[MetricExport]
) -> HttpResponseBase:
    """Every row behind the yardstick `GET /metrics/{name}` reports, in the drill-down page's
    columns, as a file."""
    report = metrics.metric_report(
        user=request.user,
        name=name,
        filters=metrics.MetricFilters(
            team_id=filters.team, rep_id=filters.rep, date_from=filters.from_, date_to=filters.to
        ),
    )
    return _export(
        "metric", filters.format, user=request.user, name=name, report=report, team_id=filters.team
    )


@router.get(
    "/reps/{rep_id}/communication-scores/export",
    response=ERROR_RESPONSES,
    openapi_extra=_FILE,
    tags=["insights"],
)
def export_communication_scores(
    request: AuthenticatedHttpRequest, rep_id: Id, filters: Query[_Format]
) -> HttpResponseBase:
    """Every scorecard `GET /reps/{rep_id}/communication-scores` lists, as a file."""
    found = insights.communication_score_list(user=request.user, rep_id=rep_id).order_by(
        "-occurred_at", "-pk"
    )
    return _export("communication_scores", filters.format, user=request.user, rows=found)


@router.get(
    "/members/export",
    response=ERROR_RESPONSES,
    openapi_extra=_FILE,
    tags=["members and teams"],
)
def export_members(
    request: AuthenticatedHttpRequest, filters: Query[MemberExport]
) -> HttpResponseBase:
    """The members `GET /members` lists with these filters (the same people), as a file."""
    found = org.member_list(
        user=request.user,
        filters=org.MemberFilters(
            role=filters.role, team_id=filters.team, is_active=filters.active, q=filters.q
        ),
    )
    return _export("members", filters.format, user=request.user, rows=found)


@router.get(
    "/audit/export",
    response=ERROR_RESPONSES,
    openapi_extra=_FILE,
    tags=["members and teams"],
)
def export_audit(
    request: AuthenticatedHttpRequest, filters: Query[AuditExport]
) -> HttpResponseBase:
    """The audit log as `GET /audit` lists it with these filters, in words, as a file. Sales
    ops and administrators only (403)."""
    found = org.audit_entry_list(
        user=request.user,
        filters=org.AuditFilters(
            actor_id=filters.actor,
            action=filters.action,
            object_type=filters.object_type,
            object_id=filters.object_id,
            date_from=filters.from_,
            date_to=filters.to,
        ),
    )
    return _export("audit", filters.format, user=request.user, rows=found)
