"""Stage gates and playbook versions over REST.

- `GET  /opportunities/{id}/gate`     the current stage's exit checklist
- `POST /opportunities/{id}/advance`  move the deal; 409 `gate_blocked` lists the unmet criteria
- `GET/POST /playbooks`, `GET /playbooks/{id}`, `POST /playbooks/{id}/publish`,
  `POST /playbooks/validate`
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from lodestar.api.errors import ERROR_RESPONSES, WRITE_ERRORS, ErrorOut
from lodestar.api.fields import Id, Text
from lodestar.api.schemas import StrictIn
from lodestar.core.playbook import check_playbook
from lodestar.core.rules import CriterionResult, GateResult
from lodestar.crm.selectors import access_opportunity
from lodestar.i18n import localized
from lodestar.org.models import User
from lodestar.playbooks import selectors, services
from lodestar.playbooks.models import PlaybookVersion

router = Router()


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class BilingualOut(Schema):
    zh: str
    en: str


class CriterionOut(Schema):
    id: str
    met: bool
    label: str
    explanation: str
    label_i18n: BilingualOut
    explanation_i18n: BilingualOut
    evidence: dict[str, Any]
    error: str | None
    children: list[CriterionOut]


class GateOut(Schema):
    stage: str
    passed: bool
    criteria: list[CriterionOut]


def _criterion(result: CriterionResult) -> CriterionOut:
    as_dict = result.as_dict()
    return CriterionOut(
        id=result.id,
        met=result.met,
        label=localized(result.label),
        explanation=localized(result.explanation),
        label_i18n=BilingualOut(**result.label.as_dict()),
        explanation_i18n=BilingualOut(**result.explanation.as_dict()),
        evidence=as_dict.get("evidence", {}),
        error=result.error,
        children=[_criterion(child) for child in result.children],
    )


def _gate(result: GateResult) -> GateOut:
    return GateOut(
        stage=result.stage,
        passed=result.passed,
        criteria=[_criterion(item) for item in result.results],
    )


@router.get(
    "/opportunities/{opportunity_id}/gate",
    response={200: GateOut, **WRITE_ERRORS},
    tags=["stage gates"],
    summary="The current stage's exit checklist",
)
def get_gate(request: HttpRequest, opportunity_id: Id) -> GateOut:
    deal = access_opportunity(user=_user(request), opportunity_id=opportunity_id)
    return _gate(services.opportunity_gate(opportunity=deal))


class AdvanceIn(StrictIn):
    to_stage: Text = Field(min_length=1, max_length=64, description="The stage key to move to.")


class AdvanceOut(Schema):
    opportunity_id: int
    from_stage: str
    to_stage: str
    kind: str = Field(description="advance, won, lost, regression or reopen")
    is_regression: bool
    status: str
    gates: list[GateOut]


@router.post(
    "/opportunities/{opportunity_id}/advance",
    response={200: AdvanceOut, **WRITE_ERRORS},
    tags=["stage gates"],
    summary="Move a deal to another stage through its gates",
    description=(
        "Forward moves need every exit criterion of the current stage (and of every skipped "
        "stage) met; otherwise 409 with `code: gate_blocked`, the unmet criteria in `details` "
        "and the full checklists in `decision`. Backward moves are allowed and recorded as "
        "regressions."
    ),
)
def advance(request: HttpRequest, opportunity_id: Id, payload: AdvanceIn) -> AdvanceOut:
    user = _user(request)
    deal = access_opportunity(user=user, opportunity_id=opportunity_id, for_write=True)
    decision = services.opportunity_advance(user=user, opportunity=deal, to_stage=payload.to_stage)
    return AdvanceOut(
        opportunity_id=deal.pk,
        from_stage=decision.from_stage,
        to_stage=decision.to_stage,
        kind=decision.kind.value,
        is_regression=decision.is_regression,
        status=deal.status,
        gates=[_gate(gate) for gate in decision.gates],
    )


# --- versions ----------------------------------------------------------------------------------


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
def list_playbooks(request: HttpRequest) -> list[PlaybookVersion]:
    return list(selectors.playbook_version_list(user=_user(request)))


@router.post(
    "/playbooks", response={201: PlaybookVersionDetailOut, **WRITE_ERRORS}, tags=["playbooks"]
)
def create_playbook_draft(request: HttpRequest, payload: PlaybookIn) -> Status[Any]:
    """Store a new draft version; 422 lists every located error when the YAML is invalid."""
    return Status(201, services.playbook_draft_create(user=_user(request), **payload.model_dump()))


@router.post(
    "/playbooks/validate",
    response={200: ValidationOut, **ERROR_RESPONSES, 413: ErrorOut},
    tags=["playbooks"],
)
def validate_playbook(request: HttpRequest, payload: PlaybookIn) -> ValidationOut:
    """Check a YAML text without storing it (for editors)."""
    errors = check_playbook(payload.source, payload.source_name)  # team does not matter here
    return ValidationOut(
        valid=not errors,
        errors=[LocatedErrorOut(**error.as_dict()) for error in errors],  # type: ignore[arg-type]
    )


@router.get(
    "/playbooks/{version_id}",
    response={200: PlaybookVersionDetailOut, **ERROR_RESPONSES},
    tags=["playbooks"],
)
def get_playbook(request: HttpRequest, version_id: Id) -> PlaybookVersion:
    return selectors.access_playbook_version(user=_user(request), version_id=version_id)


@router.post(
    "/playbooks/{version_id}/publish",
    response={200: PlaybookVersionOut, **WRITE_ERRORS},
    tags=["playbooks"],
)
def publish_playbook(request: HttpRequest, version_id: Id) -> PlaybookVersion:
    """Publish a draft: deals are evaluated against it from now on; the diff is recorded."""
    user = _user(request)
    version = selectors.access_playbook_version(user=user, version_id=version_id, for_write=True)
    return services.playbook_publish(user=user, version=version)
