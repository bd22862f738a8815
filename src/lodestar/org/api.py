"""`/api/v1/me`: who the caller is, in which organization, with which role."""

from __future__ import annotations

from ninja import Router, Schema

from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import membership_of
from lodestar.rest.errors import ERROR_RESPONSES
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
