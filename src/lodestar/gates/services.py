"""Stage gates: a deal's exit checklist, and the one door through which a deal changes stage.

- `opportunity_gate` answers the current stage's exit checklist;
- `opportunity_advance` moves a deal only when the gates allow it, and records the move; the
  apps above hear of each move and each refusal through the steps they name in the settings
  (`LODESTAR_STAGE_MOVED_STEPS`, `LODESTAR_GATE_REFUSED_STEPS`: the outbound webhooks).

They sit above the event log rather than in the playbooks app: the gates read the deal's
events (`deal_context`) and a move is appended to the log (`events_append`), while the log
itself reads the playbooks (its catalogue of event types). Placed here, every dependency points
down: gates → events → playbooks → crm.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.core.rules import AdvanceDecision, GateResult, TransitionKind, check_advance
from lodestar.core.rules.compiler import UnknownStage
from lodestar.crm.models import Direction, Opportunity, OpportunityStatus, StageTransition
from lodestar.errors import (
    ApplicationError,
    Conflict,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)
from lodestar.events.services import events_append
from lodestar.gates.context import deal_context
from lodestar.i18n import localized
from lodestar.org.models import User
from lodestar.org.selectors import actor_of
from lodestar.org.services import audit_record
from lodestar.playbooks.models import PlaybookVersion
from lodestar.playbooks.selectors import compiled_for_version, playbook_for_deal

__all__ = ["GateBlocked", "NoPublishedPlaybook", "opportunity_advance", "opportunity_gate"]


class NoPublishedPlaybook(Conflict):
    code = "no_playbook"
    default_message = _(
        "Your organization has no published playbook yet; sales ops publishes one first."
    )


class GateBlocked(Conflict):
    """A forward move refused because exit criteria are unmet; `decision` says which."""

    code = "gate_blocked"

    def __init__(self, decision: AdvanceDecision, *, stage_name: str) -> None:
        self.decision = decision
        unmet = [
            FieldError(field=f"{stage}.{result.id}", message=localized(result.explanation))
            for stage, result in decision.unmet
        ]
        super().__init__(
            ngettext(
                "The deal cannot move to “%(stage)s” yet: %(count)d exit criterion is unmet.",
                "The deal cannot move to “%(stage)s” yet: %(count)d exit criteria are unmet.",
                len(unmet),
            )
            % {"stage": stage_name, "count": len(unmet)},
            details=unmet,
        )

    def as_dict(self) -> dict[str, object]:
        body = super().as_dict()
        body["decision"] = self.decision.as_dict()
        return body


def _published(opportunity: Opportunity) -> PlaybookVersion:
    version = playbook_for_deal(opportunity)
    if version is None:
        raise NoPublishedPlaybook()
    return version


def opportunity_gate(*, opportunity: Opportunity, now: dt.datetime | None = None) -> GateResult:
    """The exit checklist of the deal's current stage under the published playbook."""
    compiled = compiled_for_version(_published(opportunity))
    now = now or timezone.now()
    context = deal_context(opportunity=opportunity, now=now, playbook=compiled.playbook)
    try:
        return compiled.evaluate_gate(context)
    except UnknownStage as exc:
        raise Conflict(str(exc)) from exc


_STATUS_AFTER = {
    TransitionKind.WON: OpportunityStatus.WON,
    TransitionKind.LOST: OpportunityStatus.LOST,
}


def _run_steps(setting: str, **kwargs: object) -> None:
    """The steps the apps above register for a stage decision (`LODESTAR_STAGE_MOVED_STEPS`,
    `LODESTAR_GATE_REFUSED_STEPS`): this app names none of them."""
    for path in getattr(settings, setting, ()):
        import_string(path)(**kwargs)


def opportunity_advance(
    *,
    user: User,
    opportunity: Opportunity,
    to_stage: str,
    now: dt.datetime | None = None,
) -> AdvanceDecision:
    """Move the deal to `to_stage` if the published playbook's gates allow it.

    The caller fetched `opportunity` with `access_opportunity(…, for_write=True)`. Forward moves
    need every exit criterion of the current stage (and of each skipped stage) met; backward
    moves are allowed and recorded as regressions. Raises `GateBlocked` with the unmet criteria,
    once the refused move has rolled back and the refusal's steps have run (in a transaction of
    their own, or the caller's).
    """
    now = now or timezone.now()
    try:
        return _advance(user=user, opportunity=opportunity, to_stage=to_stage, now=now)
    except GateBlocked as refused:
        with transaction.atomic():
            _run_steps(
                "LODESTAR_GATE_REFUSED_STEPS",
                opportunity=opportunity,
                decision=refused.decision,
                user=user,
                now=now,
            )
        raise


@transaction.atomic
def _advance(
    *, user: User, opportunity: Opportunity, to_stage: str, now: dt.datetime
) -> AdvanceDecision:
    actor = actor_of(user=user)
    if actor is None or not actor.works_deals:
        raise PermissionDenied()
    version = _published(opportunity)
    compiled = compiled_for_version(version)
    # Lock the row so two simultaneous moves of one deal cannot both pass the same gate.
    deal = Opportunity.objects.select_for_update().select_related("account").get(pk=opportunity.pk)
    context = deal_context(opportunity=deal, now=now, playbook=compiled.playbook)
    try:
        decision = check_advance(compiled, context, deal.stage_key, to_stage)
    except UnknownStage as exc:
        raise ValidationFailed.on("to_stage", str(exc)) from exc
    if decision.kind == TransitionKind.NO_CHANGE:
        raise ApplicationError(
            _("The deal is already in stage “%(stage)s”.") % {"stage": to_stage},
            details=[FieldError("to_stage", str(_("Choose a different stage.")))],
        )
    if not decision.allowed:
        raise GateBlocked(decision, stage_name=localized(compiled.playbook.stage(to_stage).name))
    snapshot = [gate.as_dict() for gate in decision.gates] or [
        compiled.evaluate_gate(context).as_dict()
    ]
    transition = StageTransition.objects.create(
        organization_id=deal.organization_id,
        opportunity=deal,
        from_stage=deal.stage_key,
        to_stage=to_stage,
        direction=Direction.BACKWARD if decision.is_regression else Direction.FORWARD,
        occurred_at=now,
        actor=user,
        gate_snapshot=snapshot,
    )
    deal.stage_key = to_stage
    deal.stage_entered_at = now
    deal.status = _STATUS_AFTER.get(decision.kind, OpportunityStatus.OPEN)
    deal.closed_at = now if deal.status != OpportunityStatus.OPEN else None
    deal.save(update_fields=["stage_key", "stage_entered_at", "status", "closed_at", "updated_at"])
    # The move joins the event log (the history replays read) through the log's one append
    # path, which checks it like any other event and runs its processing steps, so regressions
    # and the like are judged at once, not at the next sweep.
    logged = events_append(
        actor=actor,
        user=user,
        items=[
            {
                "type": "stage.changed",
                "source": "lodestar",
                "external_id": f"transition:{transition.pk}",
                "occurred_at": now,
                "opportunity_id": deal.pk,
                "payload": {
                    "from": decision.from_stage,
                    "to": to_stage,
                    "direction": transition.direction,
                    "kind": decision.kind.value,
                },
            }
        ],
        now=now,
    ).items[0]
    if logged.status == "rejected":
        # Rolls the move back with the reason (e.g. a clock outside the supported range).
        raise ValidationFailed(_("The stage move could not be logged."), details=logged.details)
    audit_record(
        organization_id=deal.organization_id,
        actor=user,
        action="opportunity.stage_change",
        object_type="opportunity",
        object_id=deal.pk,
        data={
            "from": decision.from_stage,
            "to": to_stage,
            "kind": decision.kind.value,
            "playbook_version": version.number,
        },
        at=now,
    )
    _run_steps(
        "LODESTAR_STAGE_MOVED_STEPS",
        opportunity=deal,
        transition=transition,
        decision=decision,
        user=user,
        now=now,
    )
    opportunity.refresh_from_db()
    return decision
