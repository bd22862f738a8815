"""A departing member's live alerts go to their successor with the rest of their work."""

from __future__ import annotations

import pytest

from lodestar.insights.models import Alert, AlertStatus
from lodestar.org.members import member_deactivate
from lodestar.org.models import Role
from tests.conftest import Cast
from tests.factories import AlertFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_departing_managers_live_alerts_pass_to_the_successor(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    successor = UserFactory(organization=cast.org, role=Role.MANAGER)
    silent = AlertFactory(opportunity=deal, recipient=cast.manager, dedupe_key="deal:1:silence")
    seen = AlertFactory(
        opportunity=deal,
        recipient=cast.manager,
        dedupe_key="deal:1:stuck",
        status=AlertStatus.ACKNOWLEDGED,
    )
    old = AlertFactory(
        opportunity=deal, recipient=cast.manager, dedupe_key="deal:1:old", status="resolved"
    )

    handover = member_deactivate(
        user=cast.admin, member_user_id=cast.manager.pk, successor_id=successor.pk
    )

    assert handover.moved["alerts"] == 2
    assert Alert.objects.get(pk=silent.pk).recipient == successor
    assert Alert.objects.get(pk=seen.pk).recipient == successor
    assert Alert.objects.get(pk=seen.pk).status == AlertStatus.ACKNOWLEDGED
    assert Alert.objects.get(pk=old.pk).recipient == cast.manager


def test_an_alert_the_successor_already_has_is_not_doubled(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    successor = UserFactory(organization=cast.org, role=Role.MANAGER)
    AlertFactory(opportunity=deal, recipient=successor, dedupe_key="deal:1:silence")
    theirs = AlertFactory(opportunity=deal, recipient=cast.manager, dedupe_key="deal:1:silence")

    member_deactivate(user=cast.admin, member_user_id=cast.manager.pk, successor_id=successor.pk)

    live = Alert.objects.filter(dedupe_key="deal:1:silence", status=AlertStatus.OPEN)
    assert list(live.values_list("recipient_id", flat=True)) == [successor.pk]
    theirs.refresh_from_db()
    assert theirs.status == AlertStatus.RESOLVED
    assert theirs.resolved_at is not None


def test_another_organizations_alerts_stay_where_they_are(cast: Cast) -> None:
    outsider_alert = AlertFactory(opportunity=OpportunityFactory(owner=cast.outsider))
    member_deactivate(user=cast.admin, member_user_id=cast.owner.pk, successor_id=cast.teammate.pk)
    assert Alert.objects.get(pk=outsider_alert.pk).recipient == cast.outsider
