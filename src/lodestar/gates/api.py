"""Stage gates over REST.

- `GET  /opportunities/{id}/gate`     the current stage's exit checklist
- `POST /opportunities/{id}/advance`  move the deal; 409 `gate_blocked` lists the unmet criteria
- `GET  /opportunities/{id}/transitions`  the deal's stage moves, each with its gate snapshot
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from lodestar.core.rules import GateResult
from lodestar.crm.models import StageTransition
from lodestar.crm.selectors import access_opportunity
from lodestar.fields import Id, Text
from lodestar.gates import services
from lodestar.i18n import localized
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import organization_zone
from lodestar.playbooks.selectors import compiled_for_version, playbook_for_deal
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import Page, PageQuery, page_of
from lodestar.rest.schemas import StrictIn, UserRef

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


# Built from a result's stored form (`as_dict`), the one shape a live checklist and a gate
# snapshot taken at a stage move share.
def _criterion(stored: dict[str, Any]) -> CriterionOut:
    label = BilingualOut(**stored["label"])
    explanation = BilingualOut(**stored["explanation"])
    return CriterionOut(
        id=stored["id"],
        met=stored["met"],
        label=localized(label),
        explanation=localized(explanation),
        label_i18n=label,
        explanation_i18n=explanation,
        evidence=stored.get("evidence", {}),
        error=stored.get("error"),
        children=[_criterion(child) for child in stored.get("children", [])],
    )


def _stored_gate(stored: dict[str, Any]) -> GateOut:
    return GateOut(
        stage=stored["stage"],
        passed=stored["passed"],
        criteria=[_criterion(item) for item in stored["results"]],
    )


def _gate(result: GateResult) -> GateOut:
    return _stored_gate(result.as_dict())


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


class TransitionOut(Schema):
    id: int
    from_stage: str
    from_stage_name: str = Field(description="In the caller's language, as the playbook names it.")
    to_stage: str
    to_stage_name: str
    direction: str = Field(description="forward or backward (a regression)")
    occurred_at: dt.datetime = Field(description="In the organization's time zone.")
    actor: UserRef | None
    gates: list[GateOut] = Field(
        description="The exit checklists as they stood at the move (each skipped stage's too)."
    )


class TransitionPage(Page[TransitionOut]):
    pass


@router.get(
    "/opportunities/{opportunity_id}/transitions",
    response={200: TransitionPage, **ERROR_RESPONSES},
    tags=["stage gates"],
    summary="A deal's stage moves with their gate snapshots",
    description=(
        "Every stage move of the deal, oldest first: from and to which stage, who moved it, "
        "when (in the organization's time zone), and the gate checklist taken at the move "
        "with each criterion met or unmet and its explanation."
    ),
)
def list_transitions(
    request: AuthenticatedHttpRequest, opportunity_id: Id, filters: Query[PageQuery]
) -> dict[str, Any]:
    deal = access_opportunity(user=request.user, opportunity_id=opportunity_id)
    moves = StageTransition.objects.filter(opportunity=deal).select_related("actor")
    version = playbook_for_deal(deal)
    stages = compiled_for_version(version).playbook if version is not None else None

    def stage_name(key: str) -> str:
        try:
            return localized(stages.stage(key).name) if stages is not None else key
        except KeyError:
            return key  # a stage a later playbook version removed keeps its key

    zone = organization_zone(user=request.user)

    def transition(move: StageTransition) -> TransitionOut:
        return TransitionOut(
            id=move.pk,
            from_stage=move.from_stage,
            from_stage_name=stage_name(move.from_stage),
            to_stage=move.to_stage,
            to_stage_name=stage_name(move.to_stage),
            direction=move.direction,
            occurred_at=timezone.localtime(move.occurred_at, zone),
            actor=UserRef.model_validate(move.actor) if move.actor else None,
            gates=[_stored_gate(gate) for gate in move.gate_snapshot],
        )

    return page_of(moves.order_by("occurred_at", "id"), filters, transition)
