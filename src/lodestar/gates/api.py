"""Stage gates over REST.

- `GET  /opportunities/{id}/gate`     the current stage's exit checklist
- `POST /opportunities/{id}/advance`  move the deal; 409 `gate_blocked` lists the unmet criteria
"""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema
from pydantic import Field

from lodestar.core.rules import CriterionResult, GateResult
from lodestar.crm.selectors import access_opportunity
from lodestar.fields import Id, Text
from lodestar.gates import services
from lodestar.i18n import localized
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import WRITE_ERRORS
from lodestar.rest.schemas import StrictIn

router = Router()


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
def get_gate(request: AuthenticatedHttpRequest, opportunity_id: Id) -> GateOut:
    deal = access_opportunity(user=request.user, opportunity_id=opportunity_id)
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
def advance(
    request: AuthenticatedHttpRequest, opportunity_id: Id, payload: AdvanceIn
) -> AdvanceOut:
    user = request.user
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
