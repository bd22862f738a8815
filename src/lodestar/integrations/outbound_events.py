"""The payloads of the outbound webhooks' events about deals, and the gates' steps that send them.

The gates sit below this app, so they name these steps in the settings
(`LODESTAR_STAGE_MOVED_STEPS`, `LODESTAR_GATE_REFUSED_STEPS`). The tasks' and alerts' events are
published by the automation and insights apps (`automation.outbound_events`,
`insights.outbound_events`), which build their payloads with `deal_ref` and `user_ref`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from lodestar.core.rules import AdvanceDecision
from lodestar.crm.models import Opportunity, StageTransition
from lodestar.integrations.outbound import WebhookEvent, user_ref, webhooks_publish
from lodestar.org.models import User

__all__ = ["deal_ref", "on_gate_refused", "on_stage_moved", "user_ref"]


def deal_ref(deal: Opportunity) -> dict[str, Any]:
    """A deal as every payload names it: enough for a receiver to find it in its own system."""
    account = deal.account
    return {
        "id": deal.pk,
        "name": deal.name,
        "external_ref": deal.external_ref,
        "stage": deal.stage_key,
        "status": deal.status,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "account": {"id": account.pk, "name": account.name, "external_ref": account.external_ref},
        "owner_id": deal.owner_id,
        "team_id": deal.team_id,
    }


def on_stage_moved(
    *,
    opportunity: Opportunity,
    transition: StageTransition,
    decision: AdvanceDecision,
    user: User,
    now: dt.datetime,
) -> None:
    """`deal.stage_changed`, in the move's transaction."""
    webhooks_publish(
        organization_id=opportunity.organization_id,
        event_type="deal.stage_changed",
        events=[
            WebhookEvent(
                key=f"transition:{transition.pk}",
                occurred_at=now,
                data={
                    "deal": deal_ref(opportunity),
                    "from_stage": decision.from_stage,
                    "to_stage": decision.to_stage,
                    "kind": decision.kind.value,
                    "direction": transition.direction,
                    "skipped_stages": list(decision.skipped),
                    "moved_by": user_ref(user),
                    "moved_at": now,
                },
            )
        ],
        now=now,
    )


def on_gate_refused(
    *, opportunity: Opportunity, decision: AdvanceDecision, user: User, now: dt.datetime
) -> None:
    """`deal.gate_refused`, once the refused move has rolled back: each refusal is its own."""
    webhooks_publish(
        organization_id=opportunity.organization_id,
        event_type="deal.gate_refused",
        events=[
            WebhookEvent(
                key=f"refusal:{opportunity.pk}:{uuid.uuid4().hex}",
                occurred_at=now,
                data={
                    "deal": deal_ref(opportunity),
                    "from_stage": decision.from_stage,
                    "to_stage": decision.to_stage,
                    "kind": decision.kind.value,
                    "unmet": [
                        {
                            "stage": stage,
                            "criterion": result.id,
                            "label": result.label.as_dict(),
                            "explanation": result.explanation.as_dict(),
                        }
                        for stage, result in decision.unmet
                    ],
                    "requested_by": user_ref(user),
                    "requested_at": now,
                },
            )
        ],
        now=now,
    )
