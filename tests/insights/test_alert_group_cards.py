"""The first cards of a page of alert groups, read in one query: the same alerts, in the same
order, as each group's own list gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lodestar.insights.alerts import alert_raise
from lodestar.insights.models import Alert, AlertStatus
from lodestar.insights.selectors import alert_group_cards, alert_group_list, alert_groups
from lodestar.org.selectors import actor_of, actors_kept
from tests.alerting import raise_alerts
from tests.conftest import Cast

pytestmark = pytest.mark.django_db
FIRST = 4


@pytest.fixture
def mixed_groups(cast: Cast) -> None:
    """Groups about reps (as subject, and as the deal's owner), one about nobody, one longer
    than FIRST with some alerts acknowledged and raised at different moments."""
    from tests.factories import OpportunityFactory

    org = cast.owner.membership.organization
    stale = raise_alerts(cast, cast.owner, "risk.stale", FIRST + 3)
    for index, alert in enumerate(stale):
        alert.raised_at = timezone.now() - dt.timedelta(hours=index % 3)
        alert.status = AlertStatus.ACKNOWLEDGED if index % 2 else AlertStatus.OPEN
        alert.save(update_fields=["raised_at", "status"])
    raise_alerts(cast, cast.teammate, "risk.stale", 2)
    for index in range(2):
        deal = OpportunityFactory(owner=cast.teammate, name=f"silent-{index}")
        alert_raise(
            organization=org,
            kind="risk.silence",
            recipient=cast.manager,
            dedupe_key=f"silence:{deal.pk}",
            message_zh="沉默",
            message_en="Silent",
            opportunity=deal,
        )
    alert_raise(
        organization=org,
        kind="task_overdue",
        recipient=cast.manager,
        dedupe_key="about-nobody",
        message_zh="逾期",
        message_en="Overdue",
    )


def test_it_gives_each_group_its_first_alerts_as_the_groups_own_list_does(
    cast: Cast, mixed_groups: None
) -> None:
    groups = [(g.rep_id, g.kind) for g in alert_groups(user=cast.manager)]
    assert len(groups) == 4

    cards = alert_group_cards(user=cast.manager, groups=groups, first=FIRST)

    for rep_id, kind in groups:
        expected = list(alert_group_list(user=cast.manager, rep_id=rep_id, kind=kind)[:FIRST])
        assert [a.pk for a in cards[(rep_id, kind)]] == [a.pk for a in expected]
    assert len(cards[(cast.owner.pk, "risk.stale")]) == FIRST
    assert len(cards[(None, "task_overdue")]) == 1


def test_it_reads_the_cards_of_every_group_in_one_query(
    cast: Cast, mixed_groups: None, django_assert_num_queries: Any
) -> None:
    groups = [(g.rep_id, g.kind) for g in alert_groups(user=cast.manager)]
    with actors_kept():
        actor_of(user=cast.manager)
        with django_assert_num_queries(1):
            cards = alert_group_cards(user=cast.manager, groups=groups, first=FIRST)
            owners = {
                a.opportunity.owner_id for found in cards.values() for a in found if a.opportunity
            }
    assert owners == {cast.owner.pk, cast.teammate.pk}  # the deals and owners came along


def test_it_leaves_out_alerts_no_longer_live_and_other_recipients(cast: Cast) -> None:
    mine = raise_alerts(cast, cast.owner, "risk.stale", 2)
    raise_alerts(cast, cast.owner, "risk.stale", 2, recipient=cast.admin)
    Alert.objects.filter(pk=mine[0].pk).update(status=AlertStatus.RESOLVED)

    cards = alert_group_cards(
        user=cast.manager, groups=[(cast.owner.pk, "risk.stale")], first=FIRST
    )

    assert [a.pk for a in cards[(cast.owner.pk, "risk.stale")]] == [mine[1].pk]
