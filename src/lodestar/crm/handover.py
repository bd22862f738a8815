"""The deals app's part of handing a departing member's work to a successor
(`lodestar.org.members.member_deactivate`, registered in `LODESTAR_MEMBER_HANDOVER_STEPS`)."""

from __future__ import annotations

import datetime as dt

from lodestar.crm.models import Account, Opportunity, OpportunityStatus
from lodestar.org.models import Membership

__all__ = ["hand_over_deals"]


def hand_over_deals(
    *, organization_id: int, from_user_id: int, to_user_id: int, now: dt.datetime
) -> dict[str, int]:
    """Give the open deals and the accounts of `from_user_id` to `to_user_id`.

    The deals move to the successor's team, as a reassigned deal does (`opportunity_update`), so
    the successor's manager sees them. Won and lost deals stay with the person who closed them:
    they are history, and the scorecards count them for that person.
    """
    team_id = (
        Membership.objects.filter(organization_id=organization_id, user_id=to_user_id)
        .values_list("team_id", flat=True)
        .get()
    )
    deals = Opportunity.objects.filter(
        organization_id=organization_id, owner_id=from_user_id, status=OpportunityStatus.OPEN
    ).update(owner_id=to_user_id, team_id=team_id)
    accounts = Account.objects.filter(
        organization_id=organization_id, owner_id=from_user_id
    ).update(owner_id=to_user_id)
    return {"deals": deals, "accounts": accounts}
