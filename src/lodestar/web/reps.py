"""The pages about reps and the manager's alert groups.

- `rep_detail` — a rep's page (`lodestar.web.rep_page`): the rep, their manager, ops and
  admins; anyone else gets 404.
- `alert_group` — the next page of a dashboard alert group's cards (htmx).
- `alerts_ack` — acknowledge a whole group, or the cards picked in it, through
  `insights.alerts.alerts_acknowledge` (each alert audited); the group comes back.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from lodestar.errors import ApplicationError, FieldError, ValidationFailed
from lodestar.insights import models as im
from lodestar.insights.alerts import ACKNOWLEDGE_MAX, alerts_acknowledge
from lodestar.insights.selectors import alert_group_list
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.web.access import member_view
from lodestar.web.alert_groups import alert_group_view
from lodestar.web.caching import note_write
from lodestar.web.forms import new_delivery_id
from lodestar.web.rep_page import rep_page

__all__ = ["alert_group", "alerts_ack", "rep_detail"]


@require_GET
@member_view
def rep_detail(request: AuthenticatedHttpRequest, rep_id: int) -> HttpResponse:
    page = rep_page(user=request.user, rep_id=rep_id, now=timezone.now())
    return render(
        request,
        "web/rep.html",
        {"page": page, "now": page.now, "delivery_id": new_delivery_id},
    )


def _group_of(data: QueryDict) -> tuple[int | None, str]:
    """The group a request names: `rep` (a user id; empty for alerts about nobody) and
    `kind`. Malformed values are refused with what to send instead."""
    rep, kind = data.get("rep", "").strip(), data.get("kind", "").strip()
    problems = []
    if rep and not rep.isdigit():
        problems.append(
            ("rep", _("Give the rep as a whole number (a person's id), or leave it empty."))
        )
    if not kind or len(kind) > 64:
        problems.append(("kind", _("Give the kind of alert of the group, e.g. risk.silence.")))
    if problems:
        raise ValidationFailed(details=[FieldError(field, message) for field, message in problems])
    return (int(rep) if rep and int(rep) > 0 else None), kind


def _page(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else 1


def _error(exc: ApplicationError) -> dict[str, Any]:
    return {"message": str(exc.message), "details": [str(d.message) for d in exc.details]}


@require_GET
@member_view
def alert_group(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One more page of a group's cards (`page`), in place of the group's "more" button."""
    try:
        rep_id, kind = _group_of(request.GET)
    except ApplicationError as exc:
        return render(
            request, "web/partials/outcome.html", {"error": _error(exc)}, status=exc.status
        )
    group = alert_group_view(
        user=request.user,
        rep_id=rep_id,
        kind=kind,
        page=_page(request.GET.get("page")),
        now=timezone.now(),
    )
    return render(request, "web/partials/alert_cards.html", {"group": group})


@require_POST
@member_view
def alerts_ack(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Acknowledge the group's unacknowledged alerts (`scope=all`) or the cards picked (`id`,
    repeated); the group comes back open, with what was done or why nothing was."""
    context: dict[str, Any] = {"expanded": True}
    status = 200
    try:
        rep_id, kind = _group_of(request.POST)
    except ApplicationError as exc:
        return render(
            request, "web/partials/outcome.html", {"error": _error(exc)}, status=exc.status
        )
    try:
        if request.POST.get("scope") == "all":
            ids = list(
                alert_group_list(user=request.user, rep_id=rep_id, kind=kind)
                .filter(status=im.AlertStatus.OPEN)
                .values_list("pk", flat=True)[:ACKNOWLEDGE_MAX]
            )
        else:
            raw = request.POST.getlist("id")
            if any(not value.isdigit() for value in raw):
                raise ValidationFailed.on("ids", _("Pick the alerts with their check boxes."))
            ids = [int(value) for value in raw]
        done = alerts_acknowledge(user=request.user, alert_ids=ids)
    except ApplicationError as exc:
        context["error"] = _error(exc)
        status = exc.status
    else:
        note_write(request)
        context["ok_message"] = ngettext(
            "%(n)d alert acknowledged.", "%(n)d alerts acknowledged.", len(done)
        ) % {"n": len(done)}
    context["group"] = alert_group_view(
        user=request.user, rep_id=rep_id, kind=kind, page=1, now=timezone.now()
    )
    return render(request, "web/partials/alert_group.html", context, status=status)
