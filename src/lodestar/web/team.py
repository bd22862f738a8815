"""The administrators' team pages and the audit log.

- `/team/`: the members, filtered by role, team, state or text, with the invitation form;
- `/team/<id>/`: one member: role and team, deactivation with the handover of their open work,
  reactivation, the invitation sent again, and what the audit log says about them;
- `/team/teams/`: the teams, created, renamed and given a manager;
- `/audit/`: the organization's audit log, for ops and admins, filtered and paged.

Each action is a plain form posted to its own address: the view parses it, calls one service
of `lodestar.org.members`, and redirects back with a message; a refusal re-renders the page
with the service's words (422). Reps and managers get 403 on all of these pages, ops on all but
the audit log; people and teams of another organization are not found (404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from lodestar.automation.selectors import TaskFilters, task_list_for
from lodestar.crm.selectors import (
    AccountFilters,
    OpportunityFilters,
    account_list,
    opportunity_list,
)
from lodestar.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from lodestar.org import members as services
from lodestar.org.models import Membership, Role
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import (
    Actor,
    AuditFilters,
    MemberFilters,
    access_member,
    actor_of,
    audit_entry_list,
    member_list,
    team_list,
)
from lodestar.web.access import member_view
from lodestar.web.audit_words import AUDIT_ACTIONS, AUDIT_OBJECTS, audit_rows
from lodestar.web.caching import note_write
from lodestar.web.paging import page_of_rows

__all__ = [
    "audit_log",
    "moved_phrase",
    "team_create",
    "team_invite",
    "team_member",
    "team_member_deactivate",
    "team_member_invite_again",
    "team_member_reactivate",
    "team_member_role",
    "team_members",
    "team_update",
    "teams",
]

AUDIT_PAGE_SIZE = 50
MEMBERS_PAGE_SIZE = 50


def moved_phrase(kind: str, count: int) -> str:
    """One handover count as the page says it: "3 open deals", "1 account" (in the reader's
    language); a kind a handover step adds later reads "kind: count"."""
    phrases = {
        "deals": ngettext("%(n)d open deal", "%(n)d open deals", count),
        "accounts": ngettext("%(n)d account", "%(n)d accounts", count),
        "tasks": ngettext("%(n)d open task", "%(n)d open tasks", count),
        "alerts": ngettext("%(n)d open alert", "%(n)d open alerts", count),
        "teams": ngettext("%(n)d team managed", "%(n)d teams managed", count),
    }
    return phrases[kind] % {"n": count} if kind in phrases else f"{kind}: {count}"


# --- who may come in -----------------------------------------------------------------------------


def _admin(request: AuthenticatedHttpRequest) -> Actor:
    actor = actor_of(user=request.user)
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only administrators manage members and teams."))
    return actor


def _site(request: AuthenticatedHttpRequest) -> str:
    """The address the invitation link starts with, as this request reached us."""
    return request.build_absolute_uri("/").rstrip("/")


def _refusal(exc: ApplicationError) -> dict[str, Any]:
    return {"message": str(exc.message), "details": [str(d.message) for d in exc.details]}


def _form_refusal(form: forms.Form) -> dict[str, Any]:
    details = [
        f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
        for name, errors in form.errors.items()
        for message in errors
    ]
    return {"message": _("Please check the form."), "details": details}


# --- forms: they parse; the services judge -------------------------------------------------------


def _role_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Role.choices]


class InviteForm(forms.Form):
    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=_role_choices)
    team = forms.IntegerField(label=gettext_lazy("Team"), required=False, min_value=1)


class RoleTeamForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=_role_choices)
    team = forms.IntegerField(label=gettext_lazy("Team"), required=False, min_value=1)


class DeactivateForm(forms.Form):
    successor = forms.IntegerField(
        label=gettext_lazy("Hand their work over to"),
        min_value=1,
        error_messages={"required": gettext_lazy("Choose who takes over the open work.")},
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=100)
    manager = forms.IntegerField(label=gettext_lazy("Manager"), required=False, min_value=1)


class MemberFilterForm(forms.Form):
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        required=False,
        choices=lambda: [("", _("All roles")), *_role_choices()],
    )
    team = forms.IntegerField(label=gettext_lazy("Team"), required=False, min_value=1)
    active = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[
            ("", gettext_lazy("Active and deactivated")),
            ("yes", gettext_lazy("Active")),
            ("no", gettext_lazy("Deactivated")),
        ],
    )
    q = forms.CharField(label=gettext_lazy("Name or e-mail"), required=False, max_length=100)


class AuditFilterForm(forms.Form):
    actor = forms.IntegerField(label=gettext_lazy("Who"), required=False, min_value=1)
    action = forms.CharField(label=gettext_lazy("What"), required=False, max_length=64)
    object_type = forms.CharField(label=gettext_lazy("Object"), required=False, max_length=64)
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False)
    page = forms.IntegerField(required=False, min_value=1)


# --- the members ---------------------------------------------------------------------------------


def _members_page(
    request: AuthenticatedHttpRequest,
    *,
    invite: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = MemberFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    active = chosen.get("active") or ""
    found = member_list(
        user=request.user,
        filters=MemberFilters(
            role=chosen.get("role") or None,
            team_id=chosen.get("team"),
            is_active={"yes": True, "no": False}.get(active),
            q=chosen.get("q") or "",
        ),
    )
    page, pager_query = page_of_rows(request, found, MEMBERS_PAGE_SIZE)
    context = {
        "page": page,
        "pager_query": pager_query,
        "teams": list(team_list(user=request.user)),
        "roles": Role.choices,
        "chosen": chosen,
        "invite": invite or {},
        "invite_error": error,
        "filtered": any(chosen.values()),
    }
    return render(request, "web/team.html", context, status=status)


@require_GET
@member_view
def team_members(request: AuthenticatedHttpRequest) -> HttpResponse:
    _admin(request)
    return _members_page(request)


@require_POST
@member_view
def team_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    _admin(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(
            request, invite=request.POST.dict(), error=_form_refusal(form), status=422
        )
    try:
        member = services.member_invite(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            team_id=form.cleaned_data["team"],
            site=_site(request),
        )
    except (ValidationFailed, Conflict) as exc:
        return _members_page(
            request, invite=request.POST.dict(), error=_refusal(exc), status=exc.status
        )
    note_write(request)
    messages.success(
        request,
        _("%(name)s is invited: a link to choose a password is on its way to %(email)s.")
        % {"name": member.user, "email": member.user.email},
    )
    return redirect("web:team")


# --- one member ----------------------------------------------------------------------------------


def _open_work(request: AuthenticatedHttpRequest, user_id: int) -> list[str]:
    user = request.user
    counts = {
        "deals": opportunity_list(
            user=user, filters=OpportunityFilters(status="open", owner_id=user_id)
        ).count(),
        "accounts": account_list(user=user, filters=AccountFilters(owner_id=user_id)).count(),
        "tasks": task_list_for(
            user=user, filters=TaskFilters(status="open", assignee_id=user_id)
        ).count(),
    }
    return [moved_phrase(kind, count) for kind, count in counts.items()]


def _member_page(
    request: AuthenticatedHttpRequest,
    user_id: int,
    *,
    error: dict[str, Any] | None = None,
    error_form: str = "",
    status: int = 200,
) -> HttpResponse:
    member = access_member(user=request.user, user_id=user_id)
    everyone = list(member_list(user=request.user, filters=MemberFilters(is_active=True)))
    successors = [
        other for other in everyone if other.user_id != member.user_id and other.role != Role.OPS
    ]
    history = audit_entry_list(
        user=request.user, filters=AuditFilters(object_type="user", object_id=str(user_id))
    )[:10]
    teams_of_org = list(team_list(user=request.user))
    context = {
        "member": member,
        "teams": teams_of_org,
        "roles": Role.choices,
        "successors": successors,
        "open_work": _open_work(request, user_id),
        "managed": [team for team in teams_of_org if team.manager_id == user_id],
        "history": audit_rows(list(history), organization_id=member.organization_id, admin=True),
        "error": error,
        "error_form": error_form,
        "is_self": member.user_id == request.user.pk,
    }
    return render(request, "web/team_member.html", context, status=status)


@require_GET
@member_view
def team_member(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    _admin(request)
    return _member_page(request, user_id)


def _member_action(
    request: AuthenticatedHttpRequest, user_id: int, name: str, act: Any
) -> HttpResponse:
    """Run one action of the member page: a success message and back to the page, or the
    page again with the refusal next to the form `name`."""
    try:
        text = act()
    except (ValidationFailed, Conflict) as exc:
        return _member_page(
            request, user_id, error=_refusal(exc), error_form=name, status=exc.status
        )
    note_write(request)
    messages.success(request, text)
    return redirect("web:team-member", user_id=user_id)


@require_POST
@member_view
def team_member_role(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    _admin(request)
    form = RoleTeamForm(request.POST)
    if not form.is_valid():
        return _member_page(
            request, user_id, error=_form_refusal(form), error_form="role", status=422
        )

    def act() -> str:
        member = services.member_update(
            user=request.user,
            member_user_id=user_id,
            role=form.cleaned_data["role"],
            team_id=form.cleaned_data["team"],
        )
        return _("%(name)s is now %(role)s, team: %(team)s.") % {
            "name": member.user,
            "role": member.get_role_display(),
            "team": member.team or _("none"),
        }

    return _member_action(request, user_id, "role", act)


@require_POST
@member_view
def team_member_deactivate(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    _admin(request)
    form = DeactivateForm(request.POST)
    if not form.is_valid():
        return _member_page(
            request, user_id, error=_form_refusal(form), error_form="deactivate", status=422
        )

    def act() -> str:
        handover = services.member_deactivate(
            user=request.user, member_user_id=user_id, successor_id=form.cleaned_data["successor"]
        )
        moved = ", ".join(moved_phrase(kind, count) for kind, count in handover.moved.items())
        return _("%(name)s is deactivated; %(successor)s took over: %(moved)s.") % {
            "name": handover.member.user,
            "successor": handover.successor.user,
            "moved": moved,
        }

    return _member_action(request, user_id, "deactivate", act)


@require_POST
@member_view
def team_member_reactivate(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    _admin(request)

    def act() -> str:
        member = services.member_reactivate(user=request.user, member_user_id=user_id)
        return _("%(name)s can sign in again.") % {"name": member.user}

    return _member_action(request, user_id, "reactivate", act)


@require_POST
@member_view
def team_member_invite_again(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    _admin(request)

    def act() -> str:
        member = services.member_invitation_resend(
            user=request.user, member_user_id=user_id, site=_site(request)
        )
        return _("A new link to choose a password is on its way to %(email)s.") % {
            "email": member.user.email
        }

    return _member_action(request, user_id, "invite", act)


# --- teams ---------------------------------------------------------------------------------------


def _teams_page(
    request: AuthenticatedHttpRequest,
    *,
    error: dict[str, Any] | None = None,
    error_team: int | None = None,
    posted: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    managers = list(
        member_list(user=request.user, filters=MemberFilters(role=Role.MANAGER, is_active=True))
    )
    context = {
        "teams": list(team_list(user=request.user)),
        "managers": managers,
        "error": error,
        "error_team": error_team,
        "posted": posted or {},
    }
    return render(request, "web/team_teams.html", context, status=status)


@require_GET
@member_view
def teams(request: AuthenticatedHttpRequest) -> HttpResponse:
    _admin(request)
    return _teams_page(request)


def _team_write(request: AuthenticatedHttpRequest, team_id: int | None, act: Any) -> HttpResponse:
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _teams_page(
            request,
            error=_form_refusal(form),
            error_team=team_id,
            posted=request.POST.dict(),
            status=422,
        )
    try:
        text = act(form.cleaned_data["name"], form.cleaned_data["manager"])
    except (ValidationFailed, Conflict) as exc:
        return _teams_page(
            request,
            error=_refusal(exc),
            error_team=team_id,
            posted=request.POST.dict(),
            status=exc.status,
        )
    note_write(request)
    messages.success(request, text)
    return redirect("web:teams")


@require_POST
@member_view
def team_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _admin(request)

    def act(name: str, manager_id: int | None) -> str:
        team = services.team_create(user=request.user, name=name, manager_id=manager_id)
        return _("Team %(name)s is created.") % {"name": team.name}

    return _team_write(request, None, act)


@require_POST
@member_view
def team_update(request: AuthenticatedHttpRequest, team_id: int) -> HttpResponse:
    _admin(request)

    def act(name: str, manager_id: int | None) -> str:
        team = services.team_update(
            user=request.user, team_id=team_id, name=name, manager_id=manager_id
        )
        return _("Team %(name)s is saved.") % {"name": team.name}

    return _team_write(request, team_id, act)


# --- the audit log -------------------------------------------------------------------------------


@require_GET
@member_view
def audit_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    chosen: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filters = AuditFilters(
        actor_id=chosen.get("actor"),
        action=chosen.get("action") or "",
        object_type=chosen.get("object_type") or "",
        object_id=chosen.get("object_id") or "",
        date_from=chosen.get("date_from"),
        date_to=chosen.get("date_to"),
    )
    entries = audit_entry_list(user=request.user, filters=filters)  # ops and admins only
    page, query = page_of_rows(request, entries, AUDIT_PAGE_SIZE)
    actor = actor_of(user=request.user)
    admin = actor is not None and actor.is_admin
    context = {
        "form": form,
        "chosen": chosen,
        "rows": audit_rows(
            list(page.object_list),
            organization_id=actor.organization_id if actor else -1,
            admin=admin,
        ),
        "page": page,
        "query": query,
        "people": _people(request),
        "actions": sorted(AUDIT_ACTIONS.items(), key=lambda item: str(item[1])),
        "objects": sorted(AUDIT_OBJECTS.items(), key=lambda item: str(item[1])),
        "problem": _form_refusal(form) if form.is_bound and not form.is_valid() else None,
    }
    return render(request, "web/audit.html", context)


def _people(request: AuthenticatedHttpRequest) -> list[Membership]:
    return list(member_list(user=request.user))
