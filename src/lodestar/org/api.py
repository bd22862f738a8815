"""`/api/v1/me`: who the caller is, in which organization, with which role; the member
directory (`/members`, `/teams`), read in the scope `org.selectors.member_scope` sets; the
administrators' writes of people and teams (`org.members`); and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Count
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import Strict

from lodestar.fields import Id, SupportedDate, Text
from lodestar.org import members
from lodestar.org.models import AuditEntry, Membership, Role, Team
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import (
    AuditFilters,
    MemberFilters,
    access_member,
    audit_entry_list,
    member_list,
    membership_of,
    organization_zone,
    team_list,
)
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import Page, PageQuery, page_of
from lodestar.rest.schemas import StrictIn, TeamRef, UserRef

router = Router(tags=["me"])


class OrganizationRef(Schema):
    id: int
    name: str
    slug: str
    time_zone: str


class MeOut(Schema):
    user: UserRef
    organization: OrganizationRef | None
    role: str | None
    team: TeamRef | None


@router.get("/me", response={200: MeOut, **ERROR_RESPONSES}, summary="Who am I")
def me(request: AuthenticatedHttpRequest) -> dict[str, object]:
    membership = membership_of(user=request.user)
    return {
        "user": request.user,
        "organization": membership.organization if membership else None,
        "role": membership.role if membership else None,
        "team": membership.team if membership else None,
    }


# --- the member directory ----------------------------------------------------------------------


class MemberOut(Schema):
    id: int = Field(description="The user's id.")
    username: str
    display_name: str
    email: str
    phone: str
    role: str = Field(description="rep, manager, ops or admin")
    role_name: str = Field(description="The role in the caller's language.")
    team: TeamRef | None
    is_active: bool = Field(description="False once the user was deactivated.")
    last_login: dt.datetime | None = Field(
        description="The last sign-in, in the organization's time zone; null: never."
    )


class MemberPage(Page[MemberOut]):
    pass


class MemberQuery(PageQuery):
    role: Literal["rep", "manager", "ops", "admin"] | None = None
    team: Id | None = Field(None, description="Team id.")
    active: bool | None = Field(None, description="Only active (true) or deactivated (false).")
    q: Text = Field("", max_length=100, description="Text in the name or user name, or the e-mail.")


class TeamOut(Schema):
    id: int
    name: str
    manager: UserRef | None
    member_count: int


class TeamPage(Page[TeamOut]):
    pass


def _member(member: Membership) -> MemberOut:
    user = member.user
    zone = member.organization.tz
    return MemberOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        phone=user.phone,
        role=member.role,
        role_name=str(Role(member.role).label),
        team=TeamRef(id=member.team.pk, name=member.team.name) if member.team else None,
        is_active=user.is_active,
        last_login=timezone.localtime(user.last_login, zone) if user.last_login else None,
    )


_DIRECTORY_SCOPE = (
    "Admins and ops read every member of the organization, a manager themselves and the "
    "members of the teams they manage, a rep themselves and their own team."
)


@router.get(
    "/members",
    response={200: MemberPage, **ERROR_RESPONSES},
    tags=["members and teams"],
    summary="List members",
    description=f"Members by name. {_DIRECTORY_SCOPE}",
)
def list_members(request: AuthenticatedHttpRequest, filters: Query[MemberQuery]) -> dict[str, Any]:
    found = member_list(
        user=request.user,
        filters=MemberFilters(
            role=filters.role, team_id=filters.team, is_active=filters.active, q=filters.q
        ),
    )
    return page_of(found, filters, _member)


@router.get(
    "/members/{user_id}",
    response={200: MemberOut, **ERROR_RESPONSES},
    tags=["members and teams"],
    summary="Read one member",
    description=f"404 for a user outside what you read. {_DIRECTORY_SCOPE}",
)
def get_member(request: AuthenticatedHttpRequest, user_id: Id) -> MemberOut:
    return _member(access_member(user=request.user, user_id=user_id))


@router.get(
    "/teams",
    response={200: TeamPage, **ERROR_RESPONSES},
    tags=["members and teams"],
    summary="List teams",
    description=(
        "Teams by name with their manager and member count. Admins and ops read every team, "
        "a manager the teams they manage, a rep their own team."
    ),
)
def list_teams(request: AuthenticatedHttpRequest, filters: Query[PageQuery]) -> dict[str, Any]:
    return page_of(team_list(user=request.user), filters)


# --- the administrators' writes of people and teams ----------------------------------------------

_ADMIN_ONLY = (
    "Administrators only (403 for everyone else); a person or team of another organization is "
    "not found (404). Audited."
)
RoleName = Literal["rep", "manager", "ops", "admin"]
# An id in a JSON body is a JSON integer: `true` or `"5"` is refused, not read as 1 or 5.
BodyId = Annotated[Id, Strict()]


class InviteIn(StrictIn):
    display_name: Text = Field(min_length=1, max_length=100, description="The person's name.")
    email: Text = Field(min_length=3, max_length=254)
    role: RoleName
    team: BodyId | None = Field(None, description="Team id; null: no team.")
    username: Text = Field(
        "", max_length=150, description="The user name to sign in with; empty: the e-mail."
    )


@router.post(
    "/members",
    response={201: MemberOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Invite a member",
    description=(
        "Create an active account in your organization and e-mail the person a link to choose "
        "their password (a one-time invitation link, valid for LODESTAR_INVITATION_TIMEOUT, 7 days"
        " by default; nobody sees the password). Every problem with the input is reported at once"
        " (422). " + _ADMIN_ONLY
    ),
)
def invite_member(request: AuthenticatedHttpRequest, payload: InviteIn) -> Status[MemberOut]:
    member = members.member_invite(
        user=request.user,
        display_name=payload.display_name,
        email=payload.email,
        role=payload.role,
        team_id=payload.team,
        username=payload.username,
        site=request.build_absolute_uri("/"),
    )
    return Status(201, _member(member))


@router.post(
    "/members/{user_id}/invitation",
    response={202: MemberOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Send the invitation again",
    description=(
        "A new set-password link for an active member who has never signed in (422 otherwise). "
        + _ADMIN_ONLY
    ),
)
def invite_member_again(request: AuthenticatedHttpRequest, user_id: Id) -> Status[MemberOut]:
    member = members.member_invitation_resend(
        user=request.user, member_user_id=user_id, site=request.build_absolute_uri("/")
    )
    return Status(202, _member(member))


class MemberChangeIn(StrictIn):
    role: RoleName | None = Field(None, description="Left out: unchanged.")
    team: BodyId | None = Field(None, description="Team id; null: no team; left out: unchanged.")


@router.patch(
    "/members/{user_id}",
    response={200: MemberOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Set a member's role and team",
    description=(
        "The organization's last active administrator cannot be given another role, and a "
        "manager who still manages a team keeps the manager role until the team has another "
        "manager (422, saying so). " + _ADMIN_ONLY
    ),
)
def change_member(
    request: AuthenticatedHttpRequest, user_id: Id, payload: MemberChangeIn
) -> MemberOut:
    member = members.member_update(
        user=request.user,
        member_user_id=user_id,
        role=payload.role if payload.role is not None else members.KEEP,
        team_id=payload.team if "team" in payload.model_fields_set else members.KEEP,
    )
    return _member(member)


class DeactivateIn(StrictIn):
    successor: BodyId = Field(
        description="The active rep, manager or admin of your organization who takes over."
    )


class MovedOut(Schema):
    deals: int = Field(0, description="Open deals now owned by the successor.")
    accounts: int = Field(0, description="Accounts now owned by the successor.")
    tasks: int = Field(0, description="Open tasks now assigned to the successor.")
    teams: int = Field(0, description="Teams the successor now manages (or left without one).")


class HandoverOut(Schema):
    member: MemberOut
    successor: MemberOut
    moved: MovedOut


@router.post(
    "/members/{user_id}/deactivate",
    response={200: HandoverOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Deactivate a member and hand over their work",
    description=(
        "In one transaction: the member can no longer sign in, their API tokens are revoked, "
        "and their open deals (moving to the successor's team), their accounts and their open "
        "tasks go to the successor; the teams they manage go to a successor who is a manager "
        "and are otherwise left without one. Won and lost deals and finished tasks stay theirs."
        " Refused (422): yourself, the last active administrator, an inactive or ops "
        "successor. " + _ADMIN_ONLY
    ),
)
def deactivate_member(
    request: AuthenticatedHttpRequest, user_id: Id, payload: DeactivateIn
) -> dict[str, Any]:
    handover = members.member_deactivate(
        user=request.user, member_user_id=user_id, successor_id=payload.successor
    )
    handover.member.user.refresh_from_db()
    return {
        "member": _member(handover.member),
        "successor": _member(handover.successor),
        "moved": handover.moved,
    }


@router.post(
    "/members/{user_id}/reactivate",
    response={200: MemberOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Reactivate a member",
    description=(
        "They can sign in again; handed-over work stays with its new owners and revoked "
        "tokens stay revoked. " + _ADMIN_ONLY
    ),
)
def reactivate_member(request: AuthenticatedHttpRequest, user_id: Id) -> MemberOut:
    return _member(members.member_reactivate(user=request.user, member_user_id=user_id))


class TeamIn(StrictIn):
    name: Text = Field(min_length=1, max_length=100)
    manager: BodyId | None = Field(
        None, description="An active sales manager's user id; null: none."
    )


class TeamChangeIn(StrictIn):
    name: Text | None = Field(None, min_length=1, max_length=100, description="Left out: kept.")
    manager: BodyId | None = Field(None, description="User id; null: no manager; left out: kept.")


def _team(team: Team) -> Team:
    """The team as `TeamOut` reads it, with its manager and member count."""
    return (
        Team.objects.annotate(member_count=Count("memberships"))
        .select_related("manager")
        .get(pk=team.pk)
    )


@router.post(
    "/teams",
    response={201: TeamOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Create a team",
    description="Team names are unique in the organization (422). " + _ADMIN_ONLY,
)
def create_team(request: AuthenticatedHttpRequest, payload: TeamIn) -> Status[Any]:
    team = members.team_create(user=request.user, name=payload.name, manager_id=payload.manager)
    return Status(201, _team(team))


@router.patch(
    "/teams/{team_id}",
    response={200: TeamOut, **WRITE_ERRORS},
    tags=["members and teams"],
    summary="Rename a team or set its manager",
    description="The manager must be an active sales manager (422). " + _ADMIN_ONLY,
)
def change_team(request: AuthenticatedHttpRequest, team_id: Id, payload: TeamChangeIn) -> Any:
    team = members.team_update(
        user=request.user,
        team_id=team_id,
        name=payload.name if payload.name is not None else members.KEEP,
        manager_id=payload.manager if "manager" in payload.model_fields_set else members.KEEP,
    )
    return _team(team)


# --- the audit log -------------------------------------------------------------------------------


class AuditQuery(PageQuery):
    actor: Id | None = Field(None, description="The user id of who did it.")
    action: Text = Field(
        "", max_length=64, description='An action ("member.invite") or its family ("member").'
    )
    object_type: Text = Field("", max_length=64, description="user, team, opportunity, task …")
    object_id: Text = Field("", max_length=64)
    from_: SupportedDate | None = Field(None, alias="from", description="First local date.")
    to: SupportedDate | None = Field(None, description="Last local date (included).")


class AuditEntryOut(Schema):
    id: int
    at: dt.datetime = Field(description="In the organization's time zone.")
    actor: UserRef | None
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]


class AuditPage(Page[AuditEntryOut]):
    pass


@router.get(
    "/audit",
    response={200: AuditPage, **ERROR_RESPONSES},
    tags=["members and teams"],
    summary="Read the audit log",
    description=(
        "Who did what and when in your organization, newest first: stage moves, exemptions, "
        "playbook releases, people and teams, tokens. Sales ops and administrators only (403)."
    ),
)
def list_audit(request: AuthenticatedHttpRequest, filters: Query[AuditQuery]) -> dict[str, Any]:
    found = audit_entry_list(
        user=request.user,
        filters=AuditFilters(
            actor_id=filters.actor,
            action=filters.action,
            object_type=filters.object_type,
            object_id=filters.object_id,
            date_from=filters.from_,
            date_to=filters.to,
        ),
    )
    zone = organization_zone(user=request.user)
    return page_of(found, filters, lambda entry: _audit_entry(entry, zone))


def _audit_entry(entry: AuditEntry, zone: Any) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.pk,
        at=timezone.localtime(entry.at, zone),
        actor=UserRef.model_validate(entry.actor) if entry.actor else None,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        data=entry.data,
    )
