"""Tasks on the pages: add one (on a deal page, or on Today choosing the deal), reschedule it
with a reason, give it to someone else.

Each view parses its form and calls one service of `lodestar.automation.services` — the ones
the API calls (`POST /api/v1/opportunities/{id}/tasks`, `/tasks/{id}/reschedule`,
`/tasks/{id}/reassign`) — so the page refuses what the API refuses, with the same message, and
each write is audited and announced the same way. Answers are fragments for htmx: the add form
with its outcome (and the event `tasks-changed`, on which the page's task list reloads itself),
or the task's row with its outcome. Refusals come back with the service's status (422, 409)
beside the form, what was entered kept.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from lodestar.automation.models import Task
from lodestar.automation.selectors import access_task, task_assignee_choices
from lodestar.automation.services import task_create, task_reassign, task_reschedule
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.crm.selectors import OpportunityFilters, access_opportunity, opportunity_list
from lodestar.errors import ApplicationError, NotFound
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import actor_of
from lodestar.web.access import member_view
from lodestar.web.caching import note_write
from lodestar.web.task_forms import (
    TaskAddForm,
    TaskReassignForm,
    TaskRescheduleForm,
    default_due,
)

__all__ = ["deal_task_add", "task_reassign_view", "task_reschedule_view", "today_task_add"]

# Deals offered by Today's form, by name: a rep's open deals; a manager's scope is capped.
TODAY_DEAL_CHOICES = 200

ADD_TEMPLATE = "web/partials/task_add.html"
ROW_TEMPLATE = "web/partials/task_row.html"


def _error(exc: ApplicationError) -> dict[str, Any]:
    return {"message": str(exc.message), "details": [str(d.message) for d in exc.details]}


def _form_error(form: forms.Form) -> dict[str, Any]:
    details = [
        f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
        for name, messages in form.errors.items()
        for message in messages
    ]
    return {"message": _("Please check the form."), "details": details}


# --- adding a task ------------------------------------------------------------------------------


def _add_context(
    request: AuthenticatedHttpRequest, *, deal: Opportunity | None, form_url: str
) -> dict[str, Any]:
    """What the add form offers: on a deal page its assignees; on Today the user's open deals
    too. A rep is offered only themselves."""
    actor = actor_of(user=request.user)
    context: dict[str, Any] = {
        "deal": deal,
        "form_url": form_url,
        "assignees": task_assignee_choices(actor=actor, opportunity=deal),
        "due": default_due(timezone.now()),
    }
    if deal is None:
        mine = OpportunityFilters(status=OpportunityStatus.OPEN)
        if actor is not None and not (actor.is_manager or actor.is_admin):
            mine = OpportunityFilters(status=OpportunityStatus.OPEN, owner_id=request.user.pk)
        context["deals"] = list(
            opportunity_list(user=request.user, filters=mine)
            .select_related(None)
            .only("pk", "name")
            .order_by("name", "pk")[:TODAY_DEAL_CHOICES]
        )
    return context


def _add(
    request: AuthenticatedHttpRequest, *, deal: Opportunity | None, form_url: str
) -> HttpResponse:
    context = _add_context(request, deal=deal, form_url=form_url)
    if request.method == "GET":
        return render(request, ADD_TEMPLATE, context)
    form = TaskAddForm(request.POST, needs_deal=deal is None)
    if not form.is_valid():
        context.update(error=_form_error(form), form=form)
        return render(request, ADD_TEMPLATE, context, status=422)
    try:
        target = deal or access_opportunity(
            user=request.user, opportunity_id=form.cleaned_data["opportunity"], for_write=True
        )
        task = task_create(
            user=request.user,
            opportunity=target,
            title=form.cleaned_data["title"],
            due_at=form.due_at(),
            assignee_id=form.cleaned_data["assignee"],
            description=form.cleaned_data["description"],
        )
    except NotFound:
        # A deal id posted on Today that the user cannot see: named like any unknown choice.
        context.update(
            error={"message": _("Please check the form."), "details": [_("Choose a deal.")]},
            form=form,
        )
        return render(request, ADD_TEMPLATE, context, status=422)
    except ApplicationError as exc:
        context.update(error=_error(exc), form=form)
        return render(request, ADD_TEMPLATE, context, status=exc.status)
    context["added"] = task
    note_write(request)
    return trigger_client_event(render(request, ADD_TEMPLATE, context), "tasks-changed")


@require_http_methods(["GET", "POST"])
@member_view
def deal_task_add(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """The deal page's "add a task" form (GET), and adding the task (POST)."""
    deal = access_opportunity(user=request.user, opportunity_id=deal_id, for_write=True)
    return _add(request, deal=deal, form_url=request.path)


@require_http_methods(["GET", "POST"])
@member_view
def today_task_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Today's "add a task" form, with the deal to put it on (GET), and adding it (POST)."""
    return _add(request, deal=None, form_url=request.path)


# --- changing a task ----------------------------------------------------------------------------


def _row(
    request: AuthenticatedHttpRequest, task: Task, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request, ROW_TEMPLATE, {"task": task, "now": timezone.now(), **context}, status=status
    )


@require_POST
@member_view
def task_reschedule_view(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    """A new due moment, with the reason (audited); the row comes back."""
    task = access_task(user=request.user, task_id=task_id, for_write=True)
    form = TaskRescheduleForm(request.POST)
    context: dict[str, Any] = {"open_form": "reschedule", "reschedule_form": form}
    if not form.is_valid():
        return _row(request, task, {**context, "error": _form_error(form)}, 422)
    try:
        task = task_reschedule(
            user=request.user, task=task, due_at=form.due_at(), reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        return _row(request, task, {**context, "error": _error(exc)}, exc.status)
    note_write(request)
    return _row(request, task, {"rescheduled": True})


@require_POST
@member_view
def task_reassign_view(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    """Give the task to someone else (managers and admins; audited, the new assignee told)."""
    task = access_task(user=request.user, task_id=task_id, for_write=True)
    form = TaskReassignForm(request.POST)
    context: dict[str, Any] = {"open_form": "reassign", "reassign_form": form}
    if not form.is_valid():
        return _row(request, task, {**context, "error": _form_error(form)}, 422)
    try:
        task = task_reassign(
            user=request.user, task=task, assignee_id=form.cleaned_data["assignee"]
        )
    except ApplicationError as exc:
        return _row(request, task, {**context, "error": _error(exc)}, exc.status)
    note_write(request)
    return _row(request, task, {"reassigned": True})
