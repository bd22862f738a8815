"""Playbook versions over REST.

- `GET/POST /playbooks`, `GET /playbooks/{id}`, `POST /playbooks/{id}/publish`,
  `POST /playbooks/validate`

Stage gates (`/opportunities/{id}/gate`, `/advance`) are `lodestar.gates.api`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema, Status
from pydantic import Field

from lodestar.core.playbook import check_playbook
from lodestar.fields import Id, Text
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.playbooks import selectors, services
from lodestar.playbooks.models import PlaybookVersion
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS, ErrorOut
from lodestar.rest.schemas import StrictIn

router = Router()


class ChangeOut(Schema):
    path: str
    en: str
    zh: str


class PlaybookVersionOut(Schema):
    id: int
    number: int
    team_id: int | None = Field(description="The team it is for; null for the organization.")
    status: str
    name: str
    source_name: str
    note: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    changes: list[ChangeOut] = Field(validation_alias="diff")


class PlaybookVersionDetailOut(PlaybookVersionOut):
    source: str


class PlaybookIn(StrictIn):
    source: Text = Field(min_length=1, max_length=1_000_000, description="The playbook YAML text.")
    source_name: Text = Field(default="playbook.yaml", min_length=1, max_length=255)
    note: Text = Field(default="", max_length=2000)
    team_id: Id | None = Field(
        default=None, description="Publish for one team; omit for the whole organization."
    )


class LocatedErrorOut(Schema):
    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str | None


class ValidationOut(Schema):
    valid: bool
    errors: list[LocatedErrorOut]


@router.get(
    "/playbooks", response={200: list[PlaybookVersionOut], **ERROR_RESPONSES}, tags=["playbooks"]
)
def list_playbooks(request: AuthenticatedHttpRequest) -> list[PlaybookVersion]:
    return list(selectors.playbook_version_list(user=request.user))


@router.post(
    "/playbooks", response={201: PlaybookVersionDetailOut, **WRITE_ERRORS}, tags=["playbooks"]
)
def create_playbook_draft(request: AuthenticatedHttpRequest, payload: PlaybookIn) -> Status[Any]:
    """Store a new draft version; 422 lists every located error when the YAML is invalid."""
    return Status(201, services.playbook_draft_create(user=request.user, **payload.model_dump()))


@router.post(
    "/playbooks/validate",
    response={200: ValidationOut, **ERROR_RESPONSES, 413: ErrorOut},
    tags=["playbooks"],
)
def validate_playbook(request: AuthenticatedHttpRequest, payload: PlaybookIn) -> ValidationOut:
    """Check a YAML text without storing it (for editors)."""
    errors = check_playbook(payload.source, payload.source_name)  # team does not matter here
    return ValidationOut(
        valid=not errors,
        errors=[LocatedErrorOut.model_validate(error.as_dict()) for error in errors],
    )


@router.get(
    "/playbooks/{version_id}",
    response={200: PlaybookVersionDetailOut, **ERROR_RESPONSES},
    tags=["playbooks"],
)
def get_playbook(request: AuthenticatedHttpRequest, version_id: Id) -> PlaybookVersion:
    return selectors.access_playbook_version(user=request.user, version_id=version_id)


@router.post(
    "/playbooks/{version_id}/publish",
    response={200: PlaybookVersionOut, **WRITE_ERRORS},
    tags=["playbooks"],
)
def publish_playbook(request: AuthenticatedHttpRequest, version_id: Id) -> PlaybookVersion:
    """Publish a draft: deals are evaluated against it from now on; the diff is recorded."""
    user = request.user
    version = selectors.access_playbook_version(user=user, version_id=version_id, for_write=True)
    return services.playbook_publish(user=user, version=version)
