"""`/api/v1/me`: who the caller is, in which organization, with which role."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

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
def me(request: HttpRequest) -> dict[str, object]:
    membership = membership_of(user=request.auth)  # type: ignore[attr-defined]
    return {
        "user": request.auth,  # type: ignore[attr-defined]
        "organization": membership.organization if membership else None,
        "role": membership.role if membership else None,
        "team": membership.team if membership else None,
    }
