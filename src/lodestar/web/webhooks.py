"""The outbound webhooks' pages, for admins and ops (everyone else: 403).

- `/settings/webhooks/`: the organization's webhooks and the form that subscribes a URL;
- `/settings/webhooks/<id>/`: one webhook: the secret (once, right after it is made or
  rotated), its URL, events and description, switching it off and on, a test delivery, the
  secret's rotation, deletion, and the delivery log, paged (refreshed while deliveries wait).

Each action is a plain form posted to its own address: the view parses it, calls one service
of `lodestar.integrations.outbound`, and redirects with a message; a refusal shows the page
again with the service's words (422/409). A webhook of another organization is not found.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lodestar.errors import ApplicationError
from lodestar.integrations import outbound
from lodestar.integrations.models import WebhookSubscription
from lodestar.integrations.outbound_selectors import (
    access_webhook,
    webhook_attempts,
    webhook_list,
    webhook_waiting,
)
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.web.access import member_view
from lodestar.web.caching import note_write

__all__ = [
    "webhook_create",
    "webhook_delete",
    "webhook_detail",
    "webhook_edit",
    "webhook_log",
    "webhook_rotate",
    "webhook_test",
    "webhook_toggle",
    "webhooks",
]

LOG_PAGE_SIZE = 25
_SECRET_KEY = "webhook_secret"  # noqa: S105 - a session key, not a secret


class WebhookForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("Receiver URL"), max_length=500)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=lambda: list(outbound.EVENT_TYPES.items()),
        error_messages={"required": gettext_lazy("Choose at least one event type.")},
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)


def _refusal(exc: ApplicationError) -> dict[str, Any]:
    return {"message": str(exc.message), "details": [str(d.message) for d in exc.details]}


def _form_refusal(form: forms.Form) -> dict[str, Any]:
    details = [
        f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
        for name, errors in form.errors.items()
        for message in errors
    ]
    return {"message": _("Please check the form."), "details": details}


def _event_choices() -> list[tuple[str, str]]:
    return [(name, str(text)) for name, text in outbound.EVENT_TYPES.items()]


def _event_names() -> dict[str, str]:
    """Each event type by its description in the reader's language, the test one included."""
    return {**dict(_event_choices()), outbound.TEST_EVENT: _("Test delivery")}


# --- the list ------------------------------------------------------------------------------------


def _list_page(
    request: AuthenticatedHttpRequest,
    *,
    posted: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    found = list(webhook_list(user=request.user))
    names = _event_names()
    context = {
        "webhooks": [
            (hook, webhook_waiting(subscription=hook), [names.get(t, t) for t in hook.event_types])
            for hook in found
        ],
        "event_choices": _event_choices(),
        "posted": posted or {"event_types": []},
        "error": error,
        "allow_http": outbound.allow_private(),
    }
    return render(request, "web/webhooks.html", context, status=status)


@require_GET
@member_view
def webhooks(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _list_page(request)


@require_POST
@member_view
def webhook_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    webhook_list(user=request.user)  # 403 before reading the form
    form = WebhookForm(request.POST)
    posted = {
        "url": request.POST.get("url", ""),
        "description": request.POST.get("description", ""),
        "event_types": request.POST.getlist("event_types"),
    }
    if not form.is_valid():
        return _list_page(request, posted=posted, error=_form_refusal(form), status=422)
    try:
        subscription, secret = outbound.webhook_create(user=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _list_page(request, posted=posted, error=_refusal(exc), status=exc.status)
    note_write(request)
    # Shown by the next page once, then gone: kept in the (server-side) session meanwhile.
    request.session[_SECRET_KEY] = {"id": subscription.pk, "secret": secret}
    messages.success(request, _("The webhook is subscribed."))
    return redirect("web:webhook", webhook_id=subscription.pk)


# --- one webhook ---------------------------------------------------------------------------------


def _log_context(request: AuthenticatedHttpRequest, hook: WebhookSubscription) -> dict[str, Any]:
    paginator = Paginator(webhook_attempts(subscription=hook), LOG_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    names = _event_names()
    for attempt in page:
        event = attempt.delivery.event_type
        attempt.event_label = names.get(event, event)  # type: ignore[attr-defined]
    return {"hook": hook, "page": page, "waiting": webhook_waiting(subscription=hook)}


def _detail_page(
    request: AuthenticatedHttpRequest,
    webhook_id: int,
    *,
    posted: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    hook = access_webhook(user=request.user, webhook_id=webhook_id)
    shown = request.session.get(_SECRET_KEY)
    secret = None
    if isinstance(shown, dict) and shown.get("id") == hook.pk:
        secret = shown.get("secret")
        del request.session[_SECRET_KEY]
    context = {
        **_log_context(request, hook),
        "secret": secret,
        "event_choices": _event_choices(),
        "posted": posted
        or {"url": hook.url, "description": hook.description, "event_types": hook.event_types},
        "error": error,
        "max_failures": outbound.max_failures(),
    }
    response = render(request, "web/webhook.html", context, status=status)
    if secret is not None:
        # The secret is a credential: no cache anywhere may keep a copy of this answer.
        response["Cache-Control"] = "no-store"
    return response


@require_GET
@member_view
def webhook_detail(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    return _detail_page(request, webhook_id)


@require_GET
@member_view
def webhook_log(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    """The delivery log alone (the page fetches it again while deliveries wait)."""
    hook = access_webhook(user=request.user, webhook_id=webhook_id)
    return render(request, "web/partials/webhook_log.html", _log_context(request, hook))


def _act(request: AuthenticatedHttpRequest, webhook_id: int, act: Any, done: str) -> HttpResponse:
    hook = access_webhook(user=request.user, webhook_id=webhook_id)
    try:
        act(hook)
    except ApplicationError as exc:
        return _detail_page(request, webhook_id, error=_refusal(exc), status=exc.status)
    note_write(request)
    messages.success(request, done)
    return redirect("web:webhook", webhook_id=webhook_id)


@require_POST
@member_view
def webhook_edit(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    access_webhook(user=request.user, webhook_id=webhook_id)
    form = WebhookForm(request.POST)
    posted = {
        "url": request.POST.get("url", ""),
        "description": request.POST.get("description", ""),
        "event_types": request.POST.getlist("event_types"),
    }
    if not form.is_valid():
        return _detail_page(
            request, webhook_id, posted=posted, error=_form_refusal(form), status=422
        )
    try:
        outbound.webhook_update(
            user=request.user,
            subscription=access_webhook(user=request.user, webhook_id=webhook_id),
            **form.cleaned_data,
        )
    except ApplicationError as exc:
        return _detail_page(
            request, webhook_id, posted=posted, error=_refusal(exc), status=exc.status
        )
    note_write(request)
    messages.success(request, _("The webhook is saved."))
    return redirect("web:webhook", webhook_id=webhook_id)


@require_POST
@member_view
def webhook_toggle(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    enable = request.POST.get("enabled") == "1"
    return _act(
        request,
        webhook_id,
        lambda hook: outbound.webhook_set_enabled(
            user=request.user, subscription=hook, enabled=enable
        ),
        _("The webhook is switched on.") if enable else _("The webhook is switched off."),
    )


@require_POST
@member_view
def webhook_test(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    return _act(
        request,
        webhook_id,
        lambda hook: outbound.webhook_send_test(user=request.user, subscription=hook),
        _("A test delivery is on its way; its outcome shows in the log below."),
    )


@require_POST
@member_view
def webhook_rotate(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    def rotate(hook: WebhookSubscription) -> None:
        secret = outbound.webhook_rotate_secret(user=request.user, subscription=hook)
        request.session[_SECRET_KEY] = {"id": hook.pk, "secret": secret}

    return _act(
        request,
        webhook_id,
        rotate,
        _("A new secret is made; the old one also signs for one more day."),
    )


@require_POST
@member_view
def webhook_delete(request: AuthenticatedHttpRequest, webhook_id: int) -> HttpResponse:
    hook = access_webhook(user=request.user, webhook_id=webhook_id)
    try:
        outbound.webhook_delete(user=request.user, subscription=hook)
    except ApplicationError as exc:
        return _detail_page(request, webhook_id, error=_refusal(exc), status=exc.status)
    note_write(request)
    messages.success(request, _("The webhook is deleted."))
    return redirect("web:webhooks")
