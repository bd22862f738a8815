"""A yardstick's drill-down as a manager reads it: names instead of ids, local times, durations.

`metric_report` (insights) gives each row in the API's terms: ids, stage and requirement keys,
ISO timestamps, hours as decimals. This page shows, per metric, the columns worth reading, each
cell in words: deals, accounts and reps by name (linked), stages and required actions by the
playbook's names, moments in the organization's zone, durations and percentages as
`lodestar.web.readable` words them. On a phone the table becomes one card per row (app.css).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lodestar.core.playbook.model import Playbook
from lodestar.core.rules.scope import event_type_names
from lodestar.core.scoring import action_key
from lodestar.crm.models import Account, Opportunity
from lodestar.i18n import localized, speaks_chinese
from lodestar.insights.metrics import MetricReport, metric_report
from lodestar.org.models import User
from lodestar.org.selectors import actor_of
from lodestar.playbooks.selectors import published_playbook
from lodestar.web import labels
from lodestar.web.dashboard import DRILLDOWNS, DashboardFilters
from lodestar.web.readable import local_date, local_moment, percent_text, span_text

__all__ = ["COLUMNS", "Cell", "Drilldown", "cell_of", "drilldown_page", "row_keys", "row_names"]

DRILLDOWN_ROWS = 500

# The columns each yardstick shows, in order (row keys of `lodestar.insights.metrics`). `deal`
# is the row's own deal (its `id`), `stage` the row's own stage, `account_name` the row's own
# account.
COLUMNS: dict[str, tuple[str, ...]] = {
    "task_on_time": ("title", "opportunity", "rep", "due_at", "completed_at", "hit"),
    "daily_report_on_time": ("rep", "date", "due_at", "submitted_at", "hit"),
    "cross_department_response": (
        "title",
        "department",
        "opportunity",
        "requested_at",
        "responded_at",
        "hours",
        "waiting_hours",
    ),
    "record_completeness": ("account_name", "rep", "missing", "hit"),
    "stage_accuracy": ("deal", "rep", "failing_gates", "hit"),
    "win_rate": ("deal", "rep", "opened_at", "closed_at", "days", "won"),
    "cycle_time": ("deal", "rep", "opened_at", "closed_at", "days"),
    "stage_conversion": ("from_stage", "to_stage", "rate", "reached", "stopped"),
    "stage_dwell": ("stage", "count", "median_hours", "mean_hours", "p90_hours", "target_hours"),
    "action_penetration": ("account", "rep", "set", "action", "due", "done", "hit"),
}

LABELS = {
    "title": _("Task"),
    "opportunity": _("Deal"),
    "deal": _("Deal"),
    "rep": _("Rep"),
    "due_at": _("Due at"),
    "completed_at": _("Completed at"),
    "hit": _("Met"),
    "date": _("Date"),
    "submitted_at": _("Submitted at"),
    "department": _("Department"),
    "requested_at": _("Requested at"),
    "responded_at": _("Responded at"),
    "hours": _("Response time"),
    "waiting_hours": _("Waiting"),
    "account_name": _("Account"),
    "account": _("Account"),
    "missing": _("Missing"),
    "failing_gates": _("Gates not met"),
    "opened_at": _("Opened at"),
    "closed_at": _("Closed at"),
    "days": _("Cycle time"),
    "won": _("Won"),
    "from_stage": _("From stage"),
    "to_stage": _("To stage"),
    "rate": _("Went on"),
    "reached": _("Deals that went on"),
    "stopped": _("Deals that stopped"),
    "stage": _("Stage"),
    "count": _("Stays"),
    "median_hours": _("Median dwell"),
    "mean_hours": _("Mean dwell"),
    "p90_hours": _("90th percentile"),
    "target_hours": _("Target"),
    "set": _("Action set"),
    "action": _("Required action"),
    "due": _("Due"),
    "done": _("Done"),
    "name": _("Name"),
}

# What an account's record lacks (`record_completeness`), in words.
MISSING_FIELDS = {
    "industry": _("industry"),
    "region": _("region"),
    "owner": _("owner"),
    "contacts": _("contacts"),
    "decision_maker": _("a decision-maker"),
}

# What the headline figure is, by the report's unit.
BASIS = {
    "percent (first stage to won)": _("from the first stage to won"),
    "days (median)": _("median"),
    "days (median, won deals)": _("median of the won deals"),
    "hours (mean over finished stays)": _("mean of the finished stays"),
}


@dataclass(frozen=True)
class Cell:
    label: str  # the column's header, repeated on each card at 375 px
    value: str
    href: str = ""  # the deal, account or rep the cell names
    numeric: bool = False


@dataclass
class Drilldown:
    """One yardstick with the rows behind it, ready to show (first `DRILLDOWN_ROWS` rows)."""

    report: MetricReport
    title: str
    headline: str  # the figure in words: "61.9 %", "3 days 4 hours"; "" when there is none
    basis: str  # what the figure is ("median"), "" when the title says it
    notes: list[str]
    columns: list[str]
    rows: list[list[Cell]]
    total_rows: int


def _link(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page this installation does not have
        return ""


def _join(items: Iterable[str]) -> str:
    return ("、" if speaks_chinese() else ", ").join(items)


@dataclass
class _Names:
    """Everything a drill-down's ids stand for, read once per page."""

    deals: dict[int, str]
    accounts: dict[int, str]
    reps: dict[int, str]
    stages: dict[str, str]
    sets: dict[str, str]
    actions: dict[str, str]

    def deal(self, label: str, deal_id: Any) -> Cell:
        if not isinstance(deal_id, int):
            return Cell(label, "–")
        name = self.deals.get(deal_id)
        if name is None:  # removed since: its number is all there is
            return Cell(label, gettext("Deal %(id)d") % {"id": deal_id})
        return Cell(label, name, href=_link("web:deal", deal_id))

    def account(self, label: str, account_id: Any, name: str | None = None) -> Cell:
        if not isinstance(account_id, int):
            return Cell(label, "–")
        shown = (
            name or self.accounts.get(account_id) or gettext("Account %(id)d") % {"id": account_id}
        )
        return Cell(label, shown, href=_link("web:account", account_id))

    def rep(self, label: str, rep_id: Any) -> Cell:
        if not isinstance(rep_id, int):
            return Cell(label, "–")
        return Cell(label, self.reps.get(rep_id, "–"), href=_link("web:rep", rep_id))

    def stage(self, key: Any) -> str:
        return self.stages.get(key, str(key)) if key else "–"


def _playbook_names(
    playbook: Playbook | None,
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The playbook's stage names, required-action set names and required-action names."""
    if playbook is None:
        return {}, {}, {}
    stages = {stage.key: localized(stage.name) for stage in playbook.stages}
    events = event_type_names(playbook)
    kinds = {kind.key: localized(kind.name) for kind in playbook.attachment_kinds}
    sets: dict[str, str] = {}
    actions: dict[str, str] = {}
    for action_set in playbook.required_actions:
        sets[action_set.id] = localized(action_set.name)
        for action in action_set.actions:
            key = action_key(event=action.event, attachment=action.attachment)
            if action.name is not None:
                actions[key] = localized(action.name)
            elif action.event is not None:
                event = events.get(action.event)
                actions[key] = localized(event) if event else action.event
            else:
                actions[key] = labels.attachment_kind_name(action.attachment or "", kinds)
    return stages, sets, actions


def _names(
    user: User, rows: list[dict[str, Any]], keys: tuple[str, ...], team_id: int | None
) -> _Names:
    actor = actor_of(user=user)
    organization_id = actor.organization_id if actor else -1
    deal_ids: set[int] = set()
    account_ids: set[int] = set()
    rep_ids: set[int] = set()
    for row in rows:
        if "deal" in keys and isinstance(row.get("id"), int):
            deal_ids.add(row["id"])
        if isinstance(row.get("opportunity"), int):
            deal_ids.add(row["opportunity"])
        if isinstance(row.get("account"), int):
            account_ids.add(row["account"])
        if isinstance(row.get("rep"), int):
            rep_ids.add(row["rep"])
    compiled = published_playbook(organization_id=organization_id, team_id=team_id)
    stages, sets, actions = _playbook_names(compiled.playbook if compiled else None)
    return _Names(
        deals=dict(
            Opportunity.objects.filter(
                organization_id=organization_id, pk__in=deal_ids
            ).values_list("pk", "name")
        ),
        accounts=dict(
            Account.objects.filter(organization_id=organization_id, pk__in=account_ids).values_list(
                "pk", "name"
            )
        ),
        reps={u.pk: str(u) for u in User.objects.filter(pk__in=rep_ids)},
        stages=stages,
        sets=sets,
        actions=actions,
    )


def _yes_no(value: Any) -> str:
    if value is None:
        return "–"
    return gettext("Yes") if value else gettext("No")


def _hours(value: Any) -> str:
    return "–" if value is None else span_text(dt.timedelta(hours=float(value)))


def _count(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    return "–" if value is None else str(value)


_PLAIN: dict[str, Callable[[Any], str]] = {
    "due_at": local_moment,
    "completed_at": local_moment,
    "submitted_at": local_moment,
    "requested_at": local_moment,
    "responded_at": local_moment,
    "opened_at": local_moment,
    "closed_at": local_moment,
    "date": local_date,
    "hit": _yes_no,
    "won": _yes_no,
}
_NUMERIC: dict[str, Callable[[Any], str]] = {
    "hours": _hours,
    "waiting_hours": _hours,
    "median_hours": _hours,
    "mean_hours": _hours,
    "p90_hours": _hours,
    "target_hours": _hours,
    "days": lambda v: "–" if v is None else span_text(dt.timedelta(days=float(v))),
    "rate": percent_text,
    "count": _count,
    "reached": _count,
    "stopped": _count,
    "due": _count,
    "done": _count,
}
# Cells that name something: (column label, row, names) → the cell.
_NAMED: dict[str, Callable[[str, dict[str, Any], _Names], Cell]] = {
    "deal": lambda label, row, names: names.deal(label, row.get("id")),
    "opportunity": lambda label, row, names: names.deal(label, row.get("opportunity")),
    "account": lambda label, row, names: names.account(label, row.get("account")),
    "account_name": lambda label, row, names: names.account(label, row.get("id"), row.get("name")),
    "rep": lambda label, row, names: names.rep(label, row.get("rep")),
    "stage": lambda label, row, names: Cell(label, names.stage(row.get("id"))),
    "from_stage": lambda label, row, names: Cell(label, names.stage(row.get("from_stage"))),
    "to_stage": lambda label, row, names: Cell(label, names.stage(row.get("to_stage"))),
    "failing_gates": lambda label, row, names: Cell(
        label, _join(names.stage(k) for k in row.get("failing_gates") or ()) or "–"
    ),
    "missing": lambda label, row, names: Cell(
        label, _join(str(MISSING_FIELDS.get(k, k)) for k in row.get("missing") or ()) or "–"
    ),
    "set": lambda label, row, names: Cell(
        label, names.sets.get(row.get("set") or "", str(row.get("set") or "–"))
    ),
    "action": lambda label, row, names: Cell(
        label, names.actions.get(row.get("action") or "", str(row.get("action") or "–"))
    ),
}


def _cell(key: str, row: dict[str, Any], names: _Names) -> Cell:
    label = str(LABELS.get(key, key))
    value = row.get(key)
    if key in _PLAIN:
        return Cell(label, _PLAIN[key](value))
    if key in _NUMERIC:
        return Cell(label, _NUMERIC[key](value), numeric=True)
    if key in _NAMED:
        return _NAMED[key](label, row, names)
    return Cell(label, "–" if value is None or value == "" else str(value))


def _headline(report: MetricReport) -> str:
    figure = report.figure
    if figure is None:
        return ""
    if report.unit.startswith("days"):
        return span_text(dt.timedelta(days=figure))
    if report.unit.startswith("hours"):
        return span_text(dt.timedelta(hours=figure))
    return percent_text(figure)


def _notes(report: MetricReport) -> list[str]:
    details = report.details
    notes: list[str] = []
    if report.name == "cross_department_response" and details:

        def days(key: str) -> str:
            value = details.get(key)
            return "–" if value is None else span_text(dt.timedelta(days=value))

        notes.append(
            gettext("Mean %(mean)s, 90th percentile %(p90)s, %(unanswered)d not answered yet.")
            % {
                "mean": days("mean_days"),
                "p90": days("p90_days"),
                "unanswered": int(details.get("unanswered") or 0),
            }
        )
    if "fields_filled" in details:
        notes.append(
            gettext("Fields filled: %(share)s.") % {"share": percent_text(details["fields_filled"])}
        )
    if "rep_average" in details:
        notes.append(
            gettext("Average of the reps: %(share)s.")
            % {"share": percent_text(details["rep_average"])}
        )
    if "limit" in details:
        notes.append(
            gettext("Only the first %(n)d open deals are checked.")
            % {"n": int(details["limit"] or 0)}
        )
    return notes


def _keys(name: str, rows: list[dict[str, Any]]) -> tuple[str, ...]:
    if name in COLUMNS:
        return COLUMNS[name]
    # A yardstick without its own columns yet: every plain value but the row's id and kind.
    first = rows[0] if rows else {}
    return tuple(
        key
        for key, value in first.items()
        if key not in ("id", "kind") and not isinstance(value, list | dict)
    )


def drilldown_page(
    *, user: User, name: str, filters: DashboardFilters, now: dt.datetime
) -> Drilldown:
    """One yardstick with the rows behind it (the tiles' drill-down), every cell in words."""
    report = metric_report(user=user, name=name, filters=filters.metric_filters(now), now=now)
    shown = report.rows[:DRILLDOWN_ROWS]
    keys = _keys(name, shown)
    names = _names(user, shown, keys, filters.team_id)
    return Drilldown(
        report=dataclasses.replace(report, rows=[]),
        title=str(DRILLDOWNS.get(name, name)),
        headline=_headline(report),
        basis=str(BASIS.get(report.unit, "")),
        notes=_notes(report),
        columns=[str(LABELS.get(key, key)) for key in keys],
        rows=[[_cell(key, row, names) for key in keys] for row in shown],
        total_rows=len(report.rows),
    )


# The drill-down's columns, names and cells, for its export (`lodestar.web.exports`).
row_keys = _keys
row_names = _names
cell_of = _cell
