"""The pages. Each view parses its input, calls one selector or service, and renders.

Actions answer htmx with the fragment they change (a task row, a form with its outcome, the
gate panel, a board card). Refusals come back with 409/422 and the service's message, which
the page swaps in next to the form (see `htmx-config` in base.html).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.cache import cache
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from lodestar.automation.selectors import access_task
from lodestar.automation.services import task_complete
from lodestar.changes import alerts_scope, health_scopes, person_scope, work_scopes
from lodestar.crm.models import Opportunity
from lodestar.crm.selectors import access_opportunity
from lodestar.errors import ApplicationError, FieldError, ValidationFailed
from lodestar.events.services import events_ingest
from lodestar.gates.services import GateBlocked, opportunity_advance
from lodestar.insights.alerts import alert_acknowledge
from lodestar.insights.selectors import reps_in_scope
from lodestar.insights.services import coaching_task_create, exemption_declare
from lodestar.integrations.selectors import calendar_feed_path
from lodestar.integrations.services import calendar_feed_rotate, notification_mark_read
from lodestar.org.models import Role, Team, User
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import Actor, actor_of
from lodestar.playbooks.selectors import playbook_version_list
from lodestar.web import board as pipeline
from lodestar.web import dashboard, inbox, pages
from lodestar.web import drilldown as drilldowns
from lodestar.web.access import member_of, member_view
from lodestar.web.auth import USER_TTL
from lodestar.web.caching import cached_for, data_version, kept_page, may_keep, note_write
from lodestar.web.forms import (
    AdvanceForm,
    DashboardFilterForm,
    ExemptionForm,
    LogCallForm,
    LogMeetingForm,
    UploadForm,
    new_delivery_id,
)

# How long a user's page data is kept (see `lodestar.web.caching`): anyone's committed write
# makes it stale at once, so these bound only what time alone changes.
# Risk findings count silence in days: a few minutes' lag is invisible.
TODAY_DEALS_TTL = 300
# The rep's task lists are split into overdue / today / next days when they are read.
TODAY_TTL = 60
DASHBOARD_TTL = 300
# Health snapshots are written once a day by the insights worker.
TREND_TTL = 300
# Notifications show their dates, not "… ago": only writes change the inbox.
INBOX_TTL = 300

HOME_BY_ROLE = {
    Role.REP: "web:today",
    Role.MANAGER: "web:dashboard",
    Role.OPS: "web:playbooks",
    Role.ADMIN: "web:dashboard",
}


@member_view
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    return redirect(HOME_BY_ROLE.get(Role(member_of(request).role), "web:today"))


# --- shared rendering of outcomes --------------------------------------------------------------


def _error(exc: ApplicationError) -> dict[str, Any]:
    return {"message": str(exc.message), "details": [str(d.message) for d in exc.details]}


def _form_error(form: forms.Form) -> dict[str, Any]:
    details = [
        f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
        for name, messages in form.errors.items()
        for message in messages
    ]
    return {"message": _("Please check the form."), "details": details}


def _deal_changed(
    request: AuthenticatedHttpRequest, response: HttpResponse, deal_id: int
) -> HttpResponse:
    """Tell the page that a deal's facts changed, so its checklist reloads itself; the user's
    cached pages are stale from now on. The deal is named in the event itself: a filter on the
    event's details would be evaluated by htmx with eval, which the security policy forbids."""
    note_write(request)
    return trigger_client_event(response, f"deal-changed-{deal_id}")


def _kept_actor(request: AuthenticatedHttpRequest) -> Actor | None:
    """The user's `Actor`, kept as the signed-in user is (`lodestar.web.auth`): under the data
    version, which any change of a role, a team or its manager replaces. A kept page asks for
    it on every request, and a manager's costs a query."""
    if not may_keep():
        return actor_of(user=request.user)
    key = f"web:actor:{request.user.pk}:{data_version()}"
    kept = cache.get(key, _NO_ACTOR)
    if kept is None or isinstance(kept, Actor):  # None: kept for a user without a membership
        return kept
    actor = actor_of(user=request.user)
    cache.set(key, actor, USER_TTL)
    return actor


_NO_ACTOR = object()


def _shows(
    request: AuthenticatedHttpRequest, *, deals: bool = False, alerts: bool = False
) -> list[str] | None:
    """What a page of the user's shows (`lodestar.changes` scopes): what is addressed to them
    (tasks, notifications); with `deals`, what happens on the deals they may read; with
    `alerts`, their alerts and the health figures they may read. None (anything) without a
    membership."""
    actor = _kept_actor(request)
    if actor is None:
        return None
    shows = [person_scope(actor.user_id)]
    if deals:
        shows += work_scopes(actor=actor)
    if alerts:
        shows += [alerts_scope(actor.user_id), *health_scopes(actor=actor)]
    return shows


# --- the rep's 今日 page -------------------------------------------------------------------------


@require_GET
@member_view
def today(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The rep's tasks, read at most `TODAY_TTL` ago and after anyone's last write; the
    countdowns are counted from when the page is rendered (kept HTML: `TODAY_TTL` too).
    It shows what is addressed to the user, not what happens on their deals."""
    shows = _shows(request, deals=False)

    def build() -> tuple[str, dict[str, Any]]:
        page = cached_for(
            request,
            "today",
            TODAY_TTL,
            lambda: pages.today_page(user=request.user, now=timezone.now()),
            shows=shows,
        )
        page = dataclasses.replace(page, now=timezone.now())
        return "web/today.html", {"page": page, "delivery_id": new_delivery_id}

    return kept_page(request, "today", build, TODAY_TTL, shows=shows)


@require_GET
@member_view
def today_deals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The Today page's second half, loaded right after the tasks are on screen.

    Kept per user (see `lodestar.web.caching`): anyone's committed write shows at the next
    request; time alone changes it after `TODAY_DEALS_TTL`.
    """
    shows = _shows(request, deals=True)

    def build() -> tuple[str, dict[str, Any]]:
        page = cached_for(
            request,
            "today-deals",
            TODAY_DEALS_TTL,
            lambda: pages.today_deals(user=request.user, now=timezone.now()),
            shows=shows,
        )
        return "web/partials/today_deals.html", {"page": page, "delivery_id": new_delivery_id}

    return kept_page(request, "today-deals", build, TODAY_DEALS_TTL, shows=shows)


@require_POST
@member_view
def task_done(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    task = access_task(user=request.user, task_id=task_id, for_write=True)
    context: dict[str, Any] = {"task": task, "now": timezone.now()}
    try:
        task_complete(user=request.user, task=task)
    except ApplicationError as exc:
        context["error"] = _error(exc)
        return render(request, "web/partials/task_row.html", context, status=exc.status)
    context["just_done"] = True
    response = render(request, "web/partials/task_row.html", context)
    if task.opportunity_id:
        return _deal_changed(request, response, task.opportunity_id)
    note_write(request)
    return response


# --- logging what happened ---------------------------------------------------------------------

LoggingForm = LogCallForm | LogMeetingForm
FormT = TypeVar("FormT", bound=forms.Form)


def _ingest_one(
    request: AuthenticatedHttpRequest, deal: Opportunity, kind: str, form: LoggingForm
) -> bool:
    """Log one event from a page form; raises with the reasons when it is rejected."""
    report = events_ingest(
        user=request.user,
        items=[
            {
                "type": kind,
                "source": "web",
                "external_id": form.cleaned_data["delivery_id"],
                "occurred_at": timezone.now(),
                "opportunity_id": deal.pk,
                "payload": form.payload(),
            }
        ],
    )
    item = report.items[0]
    if item.status == "rejected":
        raise ValidationFailed(
            _("Not logged."),
            details=[FieldError(d.field, f"{d.field}: {d.message}") for d in item.details],
        )
    return True


def _deal_form_action(
    request: AuthenticatedHttpRequest,
    deal_id: int,
    *,
    template: str,
    make_form: Callable[[Opportunity], FormT],
    act: Callable[[Opportunity, FormT], object],
    done: str,
    extra: Callable[[Opportunity], dict[str, Any]] = lambda deal: {},
) -> HttpResponse:
    """The one path of a deal page's small forms: check the form, call one service through
    `act(deal, form)`, and answer with the form's partial — the outcome under `done`, or the
    error beside the form with the service's status."""
    deal = access_opportunity(
        user=request.user,
        opportunity_id=deal_id,
        for_write=True,
    )
    form = make_form(deal)
    context: dict[str, Any] = {"deal": deal, "delivery_id": new_delivery_id, **extra(deal)}
    if not form.is_valid():
        context.update(error=_form_error(form), form=form)
        return render(request, template, context, status=422)
    try:
        context[done] = act(deal, form)
    except ApplicationError as exc:
        context.update(error=_error(exc), form=form)
        return render(request, template, context, status=exc.status)
    return _deal_changed(request, render(request, template, context), deal.pk)


def _log_action(
    request: AuthenticatedHttpRequest,
    deal_id: int,
    *,
    kind: str,
    template: str,
    make_form: Callable[[Opportunity, QueryDict], LoggingForm],
    extra: Callable[[Opportunity], dict[str, Any]] = lambda deal: {},
) -> HttpResponse:
    return _deal_form_action(
        request,
        deal_id,
        template=template,
        make_form=lambda deal: make_form(deal, request.POST),
        act=lambda deal, form: _ingest_one(request, deal, kind, form),
        done="logged",
        extra=extra,
    )


def _contacts_of(deal: Opportunity) -> dict[str, Any]:
    return {"contacts": list(deal.account.contacts.select_related("decision_role"))}


@require_POST
@member_view
def log_call(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    return _log_action(
        request,
        deal_id,
        kind="call",
        template="web/partials/log_call.html",
        make_form=lambda deal, data: LogCallForm(data),
    )


@require_POST
@member_view
def log_meeting(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    return _log_action(
        request,
        deal_id,
        kind="meeting.held",
        template="web/partials/log_meeting.html",
        make_form=lambda deal, data: LogMeetingForm(
            data, contact_ids=[c.pk for c in _contacts_of(deal)["contacts"]]
        ),
        extra=_contacts_of,
    )


@require_POST
@member_view
def upload(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Minutes, a quote or a signed scan: the type is sniffed and the text extracted; minutes
    are logged as `minutes.uploaded` on the API's path too (`deal_file_upload`)."""
    from lodestar.events.uploads import deal_file_upload

    return _deal_form_action(
        request,
        deal_id,
        template="web/partials/upload.html",
        make_form=lambda deal: UploadForm(request.POST, request.FILES),
        act=lambda deal, form: deal_file_upload(
            user=request.user,
            opportunity=deal,
            kind=form.cleaned_data["kind"],
            uploaded_file=form.cleaned_data["file"],
        ),
        done="uploaded",
        extra=lambda deal: {
            "attachment_kinds": pages.attachment_kinds_for(deal),
            "chosen_kind": request.POST.get("kind", ""),
        },
    )


@require_POST
@member_view
def exemption(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """客户临时失联: no penalty while it lasts, and a re-check memo in two weeks."""
    return _deal_form_action(
        request,
        deal_id,
        template="web/partials/exemption.html",
        make_form=lambda deal: ExemptionForm(request.POST),
        act=lambda deal, form: exemption_declare(
            user=request.user,
            opportunity=deal,
            reason_code=form.cleaned_data["reason_code"],
            reason=form.cleaned_data["reason"],
            days=form.cleaned_data["days"],
        ),
        done="declared",
        extra=lambda deal: {"exemption_reasons": pages.exemption_reason_choices()},
    )


@require_GET
@member_view
def deal_needs(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    summary = pages.deal_needs(
        user=request.user,
        opportunity_id=deal_id,
        now=timezone.now(),
    )
    return render(request, "web/partials/deal_needs.html", {"summary": summary})


# --- stages ------------------------------------------------------------------------------------


@require_GET
@member_view
def deal_detail(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    page = pages.deal_page(
        user=request.user,
        opportunity_id=deal_id,
        now=timezone.now(),
    )
    return render(request, "web/deal.html", {"page": page, "delivery_id": new_delivery_id})


@require_GET
@member_view
def gate_panel(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    page = pages.deal_page(
        user=request.user,
        opportunity_id=deal_id,
        now=timezone.now(),
    )
    return render(request, "web/partials/gate_panel.html", {"page": page})


def _blocked_context(exc: GateBlocked) -> dict[str, Any]:
    return {
        "message": str(exc.message),
        "details": [str(d.message) for d in exc.details],
    }


def _advance_outcome(
    request: AuthenticatedHttpRequest, deal: Opportunity
) -> tuple[dict[str, Any], int]:
    """Move `deal` as the posted form asks; what the template shows, and the status."""
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        return {"error": _form_error(form)}, 422
    try:
        opportunity_advance(
            user=request.user,
            opportunity=deal,
            to_stage=form.cleaned_data["to_stage"],
        )
    except GateBlocked as exc:
        return {"blocked": _blocked_context(exc)}, exc.status
    except ApplicationError as exc:
        return {"error": _error(exc)}, exc.status
    return {"moved": True}, 200


@require_POST
@member_view
def advance(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Move a deal on its deal page; the gate panel comes back with the outcome."""
    deal = access_opportunity(
        user=request.user,
        opportunity_id=deal_id,
        for_write=True,
    )
    outcome, status = _advance_outcome(request, deal)
    page = pages.deal_page(
        user=request.user,
        opportunity_id=deal_id,
        now=timezone.now(),
    )
    response = render(
        request, "web/partials/gate_panel.html", {"page": page, **outcome}, status=status
    )
    return _deal_changed(request, response, deal_id) if status == 200 else response


# --- the board ---------------------------------------------------------------------------------


@require_GET
@member_view
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = pipeline.board_filter_form(user=request.user, data=request.GET)
    page = pipeline.board_page(
        user=request.user,
        filters=form.filters(),
        now=timezone.now(),
        stage=request.GET.get("stage", ""),
    )
    return render(request, "web/board.html", {"page": page, "form": form})


@require_POST
@member_view
def board_move(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Move a card: the card comes back in its (new or unchanged) stage, with any refusal."""
    deal = access_opportunity(
        user=request.user,
        opportunity_id=deal_id,
        for_write=True,
    )
    context, status = _advance_outcome(request, deal)
    if status == 200:
        note_write(request)
    # The move form sends the board's filters along, so the columns' sums stay filtered.
    filters = pipeline.board_filter_form(user=request.user, data=request.POST).filters()
    moved = pipeline.board_card(
        user=request.user, opportunity_id=deal_id, filters=filters, now=timezone.now()
    )
    context.update(card=moved.card, stages=moved.stages, sums=moved.sums, can_write=True)
    return render(request, "web/partials/board_moved.html", context, status=status)


# --- the manager dashboard ---------------------------------------------------------------------


def dashboard_filters(
    request: AuthenticatedHttpRequest,
) -> tuple[DashboardFilterForm, dashboard.DashboardFilters]:
    """The dashboard's filters from the address, as its page, its drill-downs and their
    exports read them (the team and rep picked, and the period)."""
    actor = actor_of(user=request.user)
    page_teams = Team.objects.filter(organization_id=actor.organization_id if actor else -1)
    if actor is not None and actor.is_manager:
        page_teams = page_teams.filter(pk__in=actor.managed_team_ids)
    reps = User.objects.filter(pk__in=reps_in_scope(actor=actor).values("user_id")).order_by(
        "display_name", "username"
    )
    form = DashboardFilterForm(request.GET or None, teams=page_teams.order_by("name"), reps=reps)
    if form.is_bound and form.is_valid():
        team, rep = form.cleaned_data.get("team"), form.cleaned_data.get("rep")
        filters = dashboard.DashboardFilters(
            team_id=team.pk if team else None,
            rep_id=rep.pk if rep else None,
            weeks=form.weeks,
        )
    else:
        filters = dashboard.DashboardFilters()
    return form, filters


@require_GET
@member_view
def dashboard_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Kept per user and query (`kept_page`): the filters are checked when it is rendered.
    It shows the user's alerts (the silent deals among them) and the reps' health, not what
    happens on every deal: an event shows here through the alerts it raises or rewrites."""
    shows = _shows(request, alerts=True)

    def build() -> tuple[str, dict[str, Any]]:
        form, filters = dashboard_filters(request)
        alerts_page = _page_number(request.GET.get("alerts"))
        page = cached_for(
            request,
            "dashboard",
            DASHBOARD_TTL,
            lambda: dashboard.dashboard_page(
                user=request.user,
                filters=filters,
                now=timezone.now(),
                alerts_page=alerts_page,
            ),
            filters,
            alerts_page,
            shows=shows,
        )
        # The alert groups' pages keep the filters: "team=3&" before "alerts=2".
        others = request.GET.copy()
        others.pop("alerts", None)
        return "web/dashboard.html", {
            "page": page,
            "form": form,
            "query": request.GET.urlencode(),
            "alerts_query": others.urlencode() + "&" if others else "",
        }

    return kept_page(request, "dashboard", build, DASHBOARD_TTL, shows=shows)


# Each fragment's HTML is kept no longer than the figures in it (kept by time only).
DASHBOARD_PARTS = {
    "tiles": dashboard.TILES_TTL,
    "funnel": dashboard.TILES_TTL,
    "stuck": dashboard.STUCK_TTL,
    "rep-stuck": dashboard.STUCK_TTL,
    "trend": TREND_TTL,
}


@require_GET
@member_view
def dashboard_part(request: AuthenticatedHttpRequest, part: str) -> HttpResponse:
    """The dashboard's heavier fragments: yardstick tiles, funnel, 12-week trend, stuck deals;
    each kept per user and query (`kept_page`)."""
    if part not in DASHBOARD_PARTS:
        raise Http404
    return kept_page(
        request,
        f"dashboard-{part}",
        lambda: _dashboard_part(request, part),
        DASHBOARD_PARTS[part],
        shows=_shows(request, deals=True),
    )


def _dashboard_part(request: AuthenticatedHttpRequest, part: str) -> tuple[str, dict[str, Any]]:
    _form, filters = dashboard_filters(request)
    user, now = request.user, timezone.now()
    query = request.GET.urlencode()
    if part == "tiles":
        tiles = dashboard.tiles(user=user, filters=filters, now=now)
        return "web/partials/tiles.html", {"tiles": tiles, "query": query}
    if part == "funnel":
        rows = dashboard.funnel_rows(user=user, filters=filters, now=now)
        chart = [{"name": r.name, "count": r.count, "conversion": r.conversion} for r in rows]
        return "web/partials/funnel.html", {"rows": rows, "rows_json": chart, "query": query}
    if part == "stuck":
        stuck = dashboard.stuck_ranked(user=user, filters=filters, now=now)
        return "web/partials/stuck.html", {"stuck": stuck}
    if part == "rep-stuck":
        rep = request.GET.get("owner", "")
        stuck = dashboard.stuck_ranked(
            user=user,
            filters=filters,
            now=now,
            owner_id=int(rep) if rep.isdigit() else -1,
            limit=3,
        )
        return "web/partials/stuck.html", {"stuck": stuck, "compact": True}
    if part == "trend":
        trend = cached_for(
            request,
            "trend",
            TREND_TTL,
            lambda: dashboard.health_trend(user=user, filters=filters, now=now).chart_data(),
            filters,
            time_only=True,
        )
        return "web/partials/trend.html", {"trend": trend}
    raise Http404


@require_GET
@member_view
def drilldown(request: AuthenticatedHttpRequest, metric: str) -> HttpResponse:
    form, filters = dashboard_filters(request)
    page = cached_for(
        request,
        f"drilldown:{metric}",
        dashboard.TILES_TTL,
        lambda: drilldowns.drilldown_page(
            user=request.user,
            name=metric,
            filters=filters,
            now=timezone.now(),
        ),
        filters,
        time_only=True,  # a yardstick over weeks, as costly as the tiles
    )
    return render(
        request,
        "web/drilldown.html",
        {"page": page, "form": form, "metric": metric, "query": request.GET.urlencode()},
    )


@require_POST
@member_view
def alert_ack(request: AuthenticatedHttpRequest, alert_id: int) -> HttpResponse:
    try:
        alert = alert_acknowledge(user=request.user, alert_id=alert_id)
    except ApplicationError as exc:
        return render(
            request, "web/partials/outcome.html", {"error": _error(exc)}, status=exc.status
        )
    note_write(request)
    return render(request, "web/partials/alert_status.html", {"alert": alert, "acked": True})


@require_POST
@member_view
def alert_coaching(request: AuthenticatedHttpRequest, alert_id: int) -> HttpResponse:
    rep_id = request.POST.get("rep_id", "")
    try:
        task = coaching_task_create(
            user=request.user,
            rep_id=int(rep_id) if rep_id.isdigit() else -1,
            note=request.POST.get("note", ""),
            alert_id=alert_id,
        )
    except ApplicationError as exc:
        return render(
            request, "web/partials/outcome.html", {"error": _error(exc)}, status=exc.status
        )
    note_write(request)
    return render(request, "web/partials/alert_status.html", {"coaching": task, "acked": True})


# --- ops: the playbook versions ----------------------------------------------------------------


@require_GET
@member_view
def playbooks(request: AuthenticatedHttpRequest) -> HttpResponse:
    versions = playbook_version_list(user=request.user)
    return render(request, "web/playbooks.html", {"versions": versions[:50]})


# --- the in-app inbox --------------------------------------------------------------------------


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


@require_GET
@member_view
def inbox_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Kept per user and page number until a write to their notifications (a new one, one read)."""

    def build() -> tuple[str, dict[str, Any]]:
        page = inbox.inbox_page(
            user=request.user,
            page=_page_number(request.GET.get("page")),
        )
        return "web/inbox.html", {"page": page}

    return kept_page(request, "inbox", build, INBOX_TTL, shows=_shows(request, deals=False))


@require_POST
@member_view
def inbox_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Mark one notification (`id`) or all unread ones read; the list and the badge come back."""
    raw = request.POST.getlist("id")
    ids = [int(value) for value in raw if value.isdigit()]
    if raw and not ids:
        return render(
            request,
            "web/partials/outcome.html",
            {"error": {"message": _("Please check the form."), "details": []}},
            status=422,
        )
    notification_mark_read(
        user=request.user,
        notification_ids=ids or None,
    )
    note_write(request)
    page = inbox.inbox_page(
        user=request.user,
        page=_page_number(request.POST.get("page")),
    )
    return render(request, "web/partials/inbox_list.html", {"page": page, "oob": True})


@require_POST
@member_view
def calendar_feed(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make (or replace) the private calendar address; the raw token is shown this once."""
    try:
        token = calendar_feed_rotate(user=request.user)
    except ApplicationError as exc:
        return render(
            request,
            "web/partials/calendar_feed.html",
            {"error": _error(exc), "feed_since": inbox.calendar_feed_since(user=request.user)},
            status=exc.status,
        )
    note_write(request)
    url = request.build_absolute_uri(calendar_feed_path(token=token))
    response = render(request, "web/partials/calendar_feed.html", {"feed_url": url})
    # The address is a credential: no cache anywhere may keep a copy of this answer.
    response["Cache-Control"] = "no-store"
    return response
