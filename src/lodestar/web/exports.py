"""Every list the pages show, as a CSV or XLSX download (`lodestar.exporting` writes it).

The tables here word their rows as the pages do, in the reader's language: headers are the
models' field names (`verbose_name`, so that an export imports again without a manual step) or
the page's own column names; choices by their labels; stages, alert kinds, audit actions and a
drill-down's ids by name. Values stay values: amounts and figures are numbers, dates and moments
are dates (in the organization's time zone), yes/no in words.

Each builder takes the rows its caller selected — the page with its filters, or the API with the
list endpoint's — so an export holds exactly what the list shows to that person. The API reaches
these builders through `LODESTAR_EXPORT_TABLES` (it may not import the pages).

`export_view` is the pages' door: `/export/<list>/?format=csv|xlsx&…` with the page's own query
string, read with the page's own filter form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar, cast

from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.selectors import TaskFilters, task_list_for
from lodestar.core.rules import CompiledPlaybook
from lodestar.crm.models import Account, AccountTier, Contact, Opportunity, OpportunityStatus
from lodestar.crm.search import account_search
from lodestar.crm.selectors import (
    ContactFilters,
    OpportunityFilters,
    access_account,
    contact_list,
    opportunity_list,
)
from lodestar.errors import PermissionDenied, ValidationFailed
from lodestar.exporting import Column, ExportFormat, Table, Value, export_response
from lodestar.i18n import localized, speaks_chinese
from lodestar.insights.metrics import MetricReport, metric_report
from lodestar.insights.models import Alert, AlertStatus, CommunicationScore
from lodestar.insights.selectors import (
    access_rep,
    alert_list,
    alerts_about_reps,
    communication_score_list,
    reps_in_scope,
)
from lodestar.insights.wording import alert_text
from lodestar.org.models import AuditEntry, Membership, Role, User
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import (
    AuditFilters,
    MemberFilters,
    actor_of,
    audit_entry_list,
    member_list,
    organization_zone,
)
from lodestar.playbooks.selectors import (
    compiled_for_version,
    published_playbook,
    published_versions,
)
from lodestar.web import drilldown as drilldowns
from lodestar.web.access import member_view
from lodestar.web.alert_groups import kind_label
from lodestar.web.audit_words import audit_rows
from lodestar.web.board import board_deals, board_filter_form
from lodestar.web.dashboard import DRILLDOWNS
from lodestar.web.record_forms import SearchForm
from lodestar.web.team import AuditFilterForm, MemberFilterForm
from lodestar.web.views import dashboard_filters

__all__ = [
    "EXPORTS",
    "accounts_table",
    "alerts_table",
    "audit_table",
    "contacts_table",
    "deals_table",
    "export_view",
    "members_table",
    "metric_table",
    "scorecards_table",
    "tasks_table",
]

R = TypeVar("R")
M = TypeVar("M", bound=Model)

# Rows read from the database at a time: memory stays flat whatever the list's length.
CHUNK = 2000
# Audit entries worded at a time (their people, teams and deals are looked up per batch).
AUDIT_BATCH = 500


# --- wording shared by the tables ----------------------------------------------------------------


def _header(model: type[Model], field: str) -> str:
    """A model field's name as the reader reads it (its `verbose_name`)."""
    return str(capfirst(getattr(model._meta.get_field(field), "verbose_name", field)))


def _local(zone: dt.tzinfo) -> Callable[[dt.datetime | None], dt.datetime | None]:
    def local(moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else moment.astimezone(zone)

    return local


def _words(value: bool | None) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def _person(user: User | None) -> str:
    return str(user) if user is not None else ""


def _rows(queryset: QuerySet[M]) -> Iterator[M]:
    """The rows in chunks (a server-side cursor on PostgreSQL), never all at once."""
    return queryset.iterator(chunk_size=CHUNK)


def _table(name: str, columns: list[Column[R]], rows: Iterable[R], zone: dt.tzinfo) -> Table[R]:
    stamp = timezone.now().astimezone(zone).date().isoformat()
    return Table(
        columns=columns,
        rows=rows,
        name=f"{name}-{stamp}",
        language=get_language(),
        zone=zone,
    )


def _custom_field(key: str) -> Callable[[Opportunity], Value]:
    def value(deal: Opportunity) -> Value:
        return _custom_value(deal.custom_fields.get(key))

    return value


def _custom_value(value: Any) -> Value:
    """A custom field's stored value as a cell (a list of choices joined)."""
    if isinstance(value, bool):
        return _words(value)
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    if isinstance(value, dict):
        return str(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return cast(Value, value)
    return str(value)


# --- deals ---------------------------------------------------------------------------------------


class _Playbooks:
    """The playbook each team follows (the organization's when it has none of its own), read
    once per team while the rows stream by."""

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self._by_team: dict[int | None, CompiledPlaybook | None] = {}

    def of_team(self, team_id: int | None) -> CompiledPlaybook | None:
        if team_id not in self._by_team:
            self._by_team[team_id] = published_playbook(
                organization_id=self.organization_id, team_id=team_id
            )
        return self._by_team[team_id]

    def stage_name(self, deal: Opportunity) -> str:
        compiled = self.of_team(deal.team_id)
        if compiled is None:
            return deal.stage_key
        try:
            return localized(compiled.playbook.stage(deal.stage_key).name)
        except KeyError:  # a stage the playbook no longer has
            return deal.stage_key


def _deal_fields(organization_id: int) -> list[tuple[str, str]]:
    """The custom deal fields of the organization's published playbooks: (key, name)."""
    fields: dict[str, str] = {}
    for version in published_versions(organization_id=organization_id).all():
        for field in compiled_for_version(version).playbook.fields:
            fields.setdefault(field.key, localized(field.name))
    return list(fields.items())


_DEAL_FIELDS = (
    "name",
    "stage_key",
    "status",
    "amount",
    "currency",
    "expected_close_date",
    "stage_entered_at",
    "created_at",
    "closed_at",
    "external_ref",
    "custom_fields",
)


def deals_table(*, user: User, rows: QuerySet[Opportunity]) -> Table[Opportunity]:
    """Deals with their account, owner, team, product, stage by name, status, amount and
    dates, then the playbook's custom fields."""
    zone = organization_zone(user=user)
    actor = actor_of(user=user)
    organization_id = actor.organization_id if actor is not None else -1
    playbooks = _Playbooks(organization_id)
    local = _local(zone)
    statuses = {value: str(label) for value, label in OpportunityStatus.choices}
    o = Opportunity
    columns: list[Column[Opportunity]] = [
        Column(_header(o, "name"), lambda d: d.name),
        Column(_header(o, "account"), lambda d: d.account.name),
        Column(_header(o, "owner"), lambda d: _person(d.owner)),
        Column(_header(o, "team"), lambda d: d.team.name if d.team else ""),
        Column(_header(o, "product"), lambda d: d.product.name if d.product else ""),
        Column(_header(o, "stage_key"), playbooks.stage_name),
        Column(_header(o, "status"), lambda d: statuses.get(d.status, d.status)),
        Column(_header(o, "amount"), lambda d: d.amount),
        Column(_header(o, "currency"), lambda d: d.currency),
        Column(_header(o, "expected_close_date"), lambda d: d.expected_close_date),
        Column(_header(o, "stage_entered_at"), lambda d: local(d.stage_entered_at)),
        Column(_header(o, "created_at"), lambda d: local(d.created_at)),
        Column(_header(o, "closed_at"), lambda d: local(d.closed_at)),
        Column(_header(o, "external_ref"), lambda d: d.external_ref),
    ]
    columns += [Column(name, _custom_field(key)) for key, name in _deal_fields(organization_id)]
    # Only the columns written: a deal's related rows carry text and JSON the file never shows.
    found = rows.select_related("account", "owner", "team", "product").only(
        *_DEAL_FIELDS,
        "account__name",
        "owner__username",
        "owner__display_name",
        "team__name",
        "product__name",
    )
    return _table(_("Deals"), columns, _rows(found), zone)


# --- accounts and contacts -----------------------------------------------------------------------


def accounts_table(*, user: User, rows: QuerySet[Account]) -> Table[Account]:
    """Accounts with the fields an import takes back (no creation time: it would come back as
    a custom field)."""
    zone = organization_zone(user=user)
    tiers = {value: str(label) for value, label in AccountTier.choices}
    a = Account
    columns: list[Column[Account]] = [
        Column(_header(a, "name"), lambda x: x.name),
        Column(_header(a, "industry"), lambda x: x.industry),
        Column(_header(a, "region"), lambda x: x.region),
        Column(_header(a, "tier"), lambda x: tiers.get(x.tier, x.tier)),
        Column(_header(a, "owner"), lambda x: _person(x.owner)),
        Column(_header(a, "repurchase_rate"), lambda x: x.repurchase_rate),
        Column(_header(a, "external_ref"), lambda x: x.external_ref),
    ]
    return _table(_("Accounts"), columns, _rows(rows.select_related("owner")), zone)


def contacts_table(*, user: User, rows: QuerySet[Contact]) -> Table[Contact]:
    zone = organization_zone(user=user)
    chinese = speaks_chinese()
    c = Contact

    def role(contact: Contact) -> str:
        found = contact.decision_role
        if found is None:
            return ""
        return found.name_zh if chinese or not found.name_en else found.name_en

    columns: list[Column[Contact]] = [
        Column(_header(c, "name"), lambda x: x.name),
        Column(_header(c, "account"), lambda x: x.account.name),
        Column(_header(c, "title"), lambda x: x.title),
        Column(_header(c, "decision_role"), role),
        Column(_header(c, "is_decision_maker"), lambda x: _words(x.is_decision_maker)),
        Column(_header(c, "phone"), lambda x: x.phone),
        Column(_header(c, "email"), lambda x: x.email),
    ]
    found = rows.select_related("account", "decision_role")
    return _table(_("Contacts"), columns, _rows(found), zone)


# --- tasks and alerts ----------------------------------------------------------------------------


def tasks_table(*, user: User, rows: QuerySet[Task]) -> Table[Task]:
    zone = organization_zone(user=user)
    local = _local(zone)
    statuses = {value: str(label) for value, label in TaskStatus.choices}
    t = Task
    columns: list[Column[Task]] = [
        Column(_header(t, "title"), lambda x: x.title),
        Column(_header(t, "opportunity"), lambda x: x.opportunity.name if x.opportunity else ""),
        Column(
            _header(Opportunity, "account"),
            lambda x: x.opportunity.account.name if x.opportunity else "",
        ),
        Column(_header(t, "assignee"), lambda x: _person(x.assignee)),
        Column(_header(t, "status"), lambda x: statuses.get(x.status, x.status)),
        Column(_header(t, "department"), lambda x: x.department),
        Column(_header(t, "created_at"), lambda x: local(x.created_at)),
        Column(_header(t, "due_at"), lambda x: local(x.due_at)),
        Column(_header(t, "completed_at"), lambda x: local(x.completed_at)),
        Column(_header(t, "description"), lambda x: x.description),
    ]
    found = rows.select_related("opportunity__account", "assignee")
    return _table(_("Tasks"), columns, _rows(found), zone)


def alerts_table(*, user: User, rows: QuerySet[Alert]) -> Table[Alert]:
    """Alerts with their kind, state, the rep they are about, the deal and the sentence as it
    reads now."""
    zone = organization_zone(user=user)
    local = _local(zone)
    now = timezone.now()
    statuses = {value: str(label) for value, label in AlertStatus.choices}
    a = Alert

    def about(alert: Alert) -> str:
        if alert.subject_user is not None:
            return _person(alert.subject_user)
        return _person(alert.opportunity.owner) if alert.opportunity else ""

    columns: list[Column[Alert]] = [
        Column(_header(a, "kind"), lambda x: kind_label(x.kind)),
        Column(_header(a, "status"), lambda x: statuses.get(x.status, x.status)),
        Column(_header(a, "subject_user"), about),
        Column(_header(a, "opportunity"), lambda x: x.opportunity.name if x.opportunity else ""),
        Column(_header(a, "message_key"), lambda x: alert_text(x, now)),
        Column(_header(a, "raised_at"), lambda x: local(x.raised_at)),
        Column(_header(a, "acknowledged_at"), lambda x: local(x.acknowledged_at)),
        Column(_header(a, "resolved_at"), lambda x: local(x.resolved_at)),
    ]
    found = rows.select_related("subject_user", "opportunity__owner")
    return _table(_("Alerts"), columns, _rows(found), zone)


# --- a yardstick's drill-down --------------------------------------------------------------------


def _moment_value(zone: dt.tzinfo) -> Callable[[Any], Value]:
    def moment(value: Any) -> Value:
        if not isinstance(value, str):
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.astimezone(zone) if parsed.tzinfo else parsed

    return moment


def _day_value(value: Any) -> Value:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return str(value)


def _number(value: Any) -> Value:
    if isinstance(value, list):
        return len(value)
    return value if isinstance(value, int | float | Decimal) else None


# The drill-down columns that hold numbers, with the unit their header names.
_UNITS = {
    "hours": "hours",
    "waiting_hours": "hours",
    "median_hours": "hours",
    "mean_hours": "hours",
    "p90_hours": "hours",
    "target_hours": "hours",
    "days": "days",
    "rate": "percent",
}
_COUNTS = frozenset({"count", "reached", "stopped", "due", "done"})
_MOMENTS = frozenset(
    {
        "due_at",
        "completed_at",
        "submitted_at",
        "requested_at",
        "responded_at",
        "opened_at",
        "closed_at",
    }
)


def _unit_header(label: str, unit: str) -> str:
    if unit == "hours":
        return _("%(label)s (hours)") % {"label": label}
    if unit == "days":
        return _("%(label)s (days)") % {"label": label}
    return _("%(label)s (%%)") % {"label": label}


def _metric_column(key: str, names: Any, moment: Callable[[Any], Value]) -> Column[dict[str, Any]]:
    """A drill-down column: moments and dates as such, yes/no in words, figures as numbers
    (hours, days and percentages say so in their header), ids by name."""
    label = str(drilldowns.LABELS.get(key, key))
    value: Callable[[dict[str, Any]], Value]
    if key in _MOMENTS:
        value = lambda row: moment(row.get(key))  # noqa: E731
    elif key == "date":
        value = lambda row: _day_value(row.get(key))  # noqa: E731
    elif key in {"hit", "won"}:
        value = lambda row: _words(row.get(key))  # noqa: E731
    elif key in _UNITS or key in _COUNTS:
        value = lambda row: _number(row.get(key))  # noqa: E731
        label = _unit_header(label, _UNITS[key]) if key in _UNITS else label
    else:
        value = lambda row: drilldowns.cell_of(key, row, names).value  # noqa: E731
    return Column(label, value)


def metric_table(
    *, user: User, name: str, report: MetricReport, team_id: int | None = None
) -> Table[dict[str, Any]]:
    """Every row behind a yardstick (not only the page's first ones), in the page's columns:
    names for ids, moments and dates as such, hours, days and percentages as numbers."""
    zone = organization_zone(user=user)
    keys = drilldowns.row_keys(name, report.rows)
    names = drilldowns.row_names(user, report.rows, keys, team_id)
    moment = _moment_value(zone)
    columns = [_metric_column(key, names, moment) for key in keys]
    title = str(DRILLDOWNS.get(name, name))
    return _table(title, columns, iter(report.rows), zone)


# --- scorecards, the audit log, the members ------------------------------------------------------


def scorecards_table(
    *, user: User, rows: QuerySet[CommunicationScore]
) -> Table[CommunicationScore]:
    """A rep's communication scorecards: the deal, the score, the criteria met and missed."""
    zone = organization_zone(user=user)
    local = _local(zone)
    chinese = speaks_chinese()
    s = CommunicationScore

    def criteria(score: CommunicationScore) -> list[dict[str, Any]]:
        return [c for c in score.criteria if isinstance(c, dict)]

    def missed(score: CommunicationScore) -> str:
        return "、".join(
            str((c.get("zh") if chinese else c.get("en")) or c.get("zh") or c.get("key", ""))
            for c in criteria(score)
            if not c.get("met")
        )

    columns: list[Column[CommunicationScore]] = [
        Column(_header(s, "occurred_at"), lambda x: local(x.occurred_at)),
        Column(_header(s, "rep"), lambda x: _person(x.rep)),
        Column(_header(s, "opportunity"), lambda x: x.opportunity.name),
        Column(_header(s, "score"), lambda x: x.score),
        Column(_header(s, "final"), lambda x: _words(x.final)),
        Column(_("Criteria met"), lambda x: sum(1 for c in criteria(x) if c.get("met"))),
        Column(_("Criteria checked"), lambda x: len(criteria(x))),
        Column(_("Criteria missed"), missed),
    ]
    found = rows.select_related("rep", "opportunity")
    return _table(_("Scorecards"), columns, _rows(found), zone)


def _audit_lines(user: User, entries: QuerySet[AuditEntry]) -> Iterator[dict[str, Any]]:
    """The log's lines as the audit page words them, a batch of entries at a time."""
    actor = actor_of(user=user)
    organization_id = actor.organization_id if actor is not None else -1
    admin = actor is not None and actor.is_admin
    stream = _rows(entries.select_related("actor"))
    while batch := list(islice(stream, AUDIT_BATCH)):
        yield from audit_rows(batch, organization_id=organization_id, admin=admin)


def audit_table(*, user: User, rows: QuerySet[AuditEntry]) -> Table[dict[str, Any]]:
    """The audit log: when, who, what, to which object (by name) and the details in words."""
    zone = organization_zone(user=user)
    local = _local(zone)
    e = AuditEntry
    columns: list[Column[dict[str, Any]]] = [
        Column(_header(e, "at"), lambda line: local(line["entry"].at)),
        Column(_header(e, "actor"), lambda line: _person(line["entry"].actor)),
        Column(_header(e, "action"), lambda line: str(line["action"])),
        Column(_header(e, "object_type"), lambda line: str(line["object"])),
        Column(_header(e, "object_id"), lambda line: line["entry"].object_id),
        Column(_("Object name"), lambda line: line["name"]),
        Column(
            _header(e, "data"),
            lambda line: "; ".join(
                f"{label}: {value}" if label else value for label, value in line["data"]
            ),
        ),
    ]
    return _table(_("Audit log"), columns, _audit_lines(user, rows), zone)


def members_table(*, user: User, rows: QuerySet[Membership]) -> Table[Membership]:
    zone = organization_zone(user=user)
    local = _local(zone)
    roles = {value: str(label) for value, label in Role.choices}
    u = User
    columns: list[Column[Membership]] = [
        Column(_header(u, "display_name"), lambda m: m.user.display_name),
        Column(_header(u, "username"), lambda m: m.user.username),
        Column(_header(u, "email"), lambda m: m.user.email),
        Column(_header(u, "phone"), lambda m: m.user.phone),
        Column(_header(Membership, "role"), lambda m: roles.get(m.role, m.role)),
        Column(_header(Membership, "team"), lambda m: m.team.name if m.team else ""),
        Column(_header(u, "is_active"), lambda m: _words(m.user.is_active)),
        Column(_header(u, "last_login"), lambda m: local(m.user.last_login)),
    ]
    found = rows.select_related("user", "team")
    return _table(_("Members"), columns, _rows(found), zone)


# --- the pages' exports --------------------------------------------------------------------------


def _deals_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    """The board's open deals under its filters; with `account`, the account page's deals
    (every status); with `rep`, the rep page's (their open deals)."""
    account, rep = request.GET.get("account", ""), request.GET.get("rep", "")
    if rep:  # a rep's page: their open deals, for those who may read the rep
        member = access_rep(user=request.user, rep_id=_id(rep))
        deals = opportunity_list(
            user=request.user,
            filters=OpportunityFilters(status=OpportunityStatus.OPEN, owner_id=member.user_id),
        ).order_by("stage_entered_at", "pk")
    elif account:
        found = access_account(user=request.user, account_id=_id(account))
        deals = opportunity_list(
            user=request.user, filters=OpportunityFilters(account_id=found.pk)
        ).order_by("status", "-created_at", "-id")
    else:
        filters = board_filter_form(user=request.user, data=request.GET).filters()
        deals = board_deals(user=request.user, filters=filters).order_by(
            "stage_key", "-amount", "id"
        )
    return deals_table(user=request.user, rows=deals)


def _accounts_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    form = SearchForm(request.GET)
    q = form.cleaned_data.get("q") or "" if form.is_valid() else ""
    return accounts_table(user=request.user, rows=account_search(user=request.user, q=q))


def _contacts_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    """An account's contacts, as its page lists them (`account` is required)."""
    account = access_account(user=request.user, account_id=_id(request.GET.get("account", "")))
    contacts = contact_list(user=request.user, filters=ContactFilters(account_id=account.pk))
    return contacts_table(user=request.user, rows=contacts.order_by("id"))


def _tasks_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    """Open tasks in the user's scope: with `assignee`, that person's (Today: the user's own,
    a rep's page: the rep's)."""
    assignee = request.GET.get("assignee", "")
    status = request.GET.get("status", TaskStatus.OPEN)
    if status not in TaskStatus.values:
        raise Http404
    tasks = task_list_for(
        user=request.user,
        filters=TaskFilters(status=status, assignee_id=_id(assignee) if assignee else None),
    )
    return tasks_table(user=request.user, rows=tasks)


def _dashboard_reps(request: AuthenticatedHttpRequest) -> tuple[set[int], Any]:
    _form, filters = dashboard_filters(request)
    reps = reps_in_scope(actor=actor_of(user=request.user))
    if filters.team_id is not None:
        reps = reps.filter(team_id=filters.team_id)
    if filters.rep_id is not None:
        reps = reps.filter(user_id=filters.rep_id)
    return set(reps.values_list("user_id", flat=True)), filters


def _alerts_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    """The dashboard's live alerts: about the reps its filters keep, or about nobody."""
    rep_ids, _filters = _dashboard_reps(request)
    alerts = alerts_about_reps(
        alert_list(user=request.user, status="live"), rep_ids=rep_ids
    ).order_by("-raised_at", "-pk")
    return alerts_table(user=request.user, rows=alerts)


def _metric_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    """A drill-down's rows under the dashboard's filters (`metric` names the yardstick)."""
    name = request.GET.get("metric", "")
    if name not in DRILLDOWNS:
        raise Http404
    _form, filters = dashboard_filters(request)
    now = timezone.now()
    report = metric_report(user=request.user, name=name, filters=filters.metric_filters(now))
    return metric_table(user=request.user, name=name, report=report, team_id=filters.team_id)


def _scorecards_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    scores = communication_score_list(user=request.user, rep_id=_id(request.GET.get("rep", "")))
    return scorecards_table(user=request.user, rows=scores.order_by("-occurred_at", "-pk"))


def _audit_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    form = AuditFilterForm(request.GET or None)
    chosen: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    entries = audit_entry_list(
        user=request.user,
        filters=AuditFilters(
            actor_id=chosen.get("actor"),
            action=chosen.get("action") or "",
            object_type=chosen.get("object_type") or "",
            object_id=chosen.get("object_id") or "",
            date_from=chosen.get("date_from"),
            date_to=chosen.get("date_to"),
        ),
    )
    return audit_table(user=request.user, rows=entries)


def _members_of_page(request: AuthenticatedHttpRequest) -> Table[Any]:
    """The team page's members under its filters; administrators only, as the page."""
    actor = actor_of(user=request.user)
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only administrators manage members and teams."))
    form = MemberFilterForm(request.GET or None)
    chosen = form.cleaned_data if form.is_valid() else {}
    active = chosen.get("active") or ""
    members = member_list(
        user=request.user,
        filters=MemberFilters(
            role=chosen.get("role") or None,
            team_id=chosen.get("team"),
            is_active={"yes": True, "no": False}.get(active),
            q=chosen.get("q") or "",
        ),
    )
    return members_table(user=request.user, rows=members)


def _id(raw: str) -> int:
    """An id from the address; anything else names nothing (404)."""
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise Http404
    return int(raw)


# The lists the pages export, by the name in their address.
EXPORTS: dict[str, Callable[[AuthenticatedHttpRequest], Table[Any]]] = {
    "deals": _deals_of_page,
    "accounts": _accounts_of_page,
    "contacts": _contacts_of_page,
    "tasks": _tasks_of_page,
    "alerts": _alerts_of_page,
    "metric": _metric_of_page,
    "scorecards": _scorecards_of_page,
    "audit": _audit_of_page,
    "members": _members_of_page,
}


@require_GET
@member_view
def export_view(request: AuthenticatedHttpRequest, name: str) -> HttpResponseBase:
    """`/export/<name>/?format=csv|xlsx&<the page's query>`: the list as the page shows it to
    this person, as a file. An unknown list or format is not found (404)."""
    fmt: ExportFormat
    raw = request.GET.get("format", "csv")
    if raw == "csv":
        fmt = "csv"
    elif raw == "xlsx":
        fmt = "xlsx"
    else:
        raise Http404
    build = EXPORTS.get(name)
    if build is None:
        raise Http404
    try:
        return export_response(build(request), fmt)
    except ValidationFailed as exc:
        context = {
            "status": exc.status,
            "heading": _("This export is too long for Excel"),
            "what_happened": " ".join(str(detail.message) for detail in exc.details),
            "what_next": _("Go back and choose CSV in the Export menu."),
        }
        return render(request, "web/error.html", context, status=exc.status)
