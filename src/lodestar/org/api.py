"""`/api/v1/me`: who the caller is, in which organization, with which role; and the member
directory (`/members`, `/teams`), read in the scope `org.selectors.member_scope` sets."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Query, Router, Schema

from lodestar.fields import Id, Text
from lodestar.org.models import Membership, Role
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import (
    MemberFilters,
    access_member,
    member_list,
    membership_of,
    team_list,
)
from lodestar.rest.errors import ERROR_RESPONSES
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import TeamRef, UserRef

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


class MemberPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[MemberOut]


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


class TeamPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TeamOut]


def _member(member: Membership) -> MemberOut:
    user = member.user
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
    page = page_of(found, filters)
    return {**page, "items": [_member(member) for member in page["items"]]}


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
