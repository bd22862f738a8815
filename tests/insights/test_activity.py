"""The per-deal activity summary: kept by ingestion, equal to a recount of the event log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.events.services import events_ingest
from lodestar.insights.activity import deal_activity_rebuild
from lodestar.insights.models import DealActivity
from tests.conftest import Cast
from tests.insights.conftest import DAY, HOUR, event

pytestmark = pytest.mark.django_db


def summary() -> list[tuple[Any, ...]]:
    return sorted(
        DealActivity.objects.values_list(
            "opportunity_id",
            "organization_id",
            "last_event_at",
            "last_customer_at",
            "events",
            "customer_events",
        )
    )


def test_late_and_out_of_order_events_land_as_if_in_order(
    cast: Cast, make_deal: Any, now: dt.datetime
) -> None:
    deal, other = make_deal(), make_deal(owner=cast.teammate)
    events_ingest(user=cast.owner, items=[event(deal, "call", "a", now - 2 * HOUR)], now=now)
    # Late: older than what is known; it counts but moves no "latest".
    events_ingest(
        user=cast.owner,
        items=[
            event(deal, "meeting.held", "b", now - 5 * DAY),
            event(deal, "legal.review.started", "c", now - HOUR),  # internal
        ],
        now=now,
    )
    events_ingest(
        user=cast.teammate,
        items=[event(other, "legal.review.started", "d", now - 3 * DAY)],
        now=now,
    )
    row = DealActivity.objects.get(opportunity=deal)
    assert (row.last_event_at, row.last_customer_at) == (now - HOUR, now - 2 * HOUR)
    assert (row.events, row.customer_events) == (3, 2)
    quiet = DealActivity.objects.get(opportunity=other)
    assert quiet.last_customer_at is None
    assert quiet.customer_events == 0

    incremental = summary()
    deal_activity_rebuild(organization_id=cast.org.pk)
    assert summary() == incremental


def test_a_reposted_batch_changes_nothing(cast: Cast, make_deal: Any, now: dt.datetime) -> None:
    deal = make_deal()
    items = [event(deal, "call", "a", now - 2 * HOUR), event(deal, "call", "b", now - DAY)]
    events_ingest(user=cast.owner, items=items, now=now)
    before = summary()
    report = events_ingest(user=cast.owner, items=[*items, items[0]], now=now)
    assert report.count("accepted") == 0
    assert summary() == before


def test_the_rebuild_is_scoped_to_one_organization(
    cast: Cast, make_deal: Any, now: dt.datetime
) -> None:
    deal = make_deal()
    events_ingest(user=cast.owner, items=[event(deal, "call", "a", now - HOUR)], now=now)
    DealActivity.objects.filter(opportunity=deal).update(events=99)
    deal_activity_rebuild(organization_id=cast.org.pk + 1000)
    assert DealActivity.objects.get(opportunity=deal).events == 99
    deal_activity_rebuild(organization_id=cast.org.pk)
    assert DealActivity.objects.get(opportunity=deal).events == 1


def test_a_rebuilding_recompute_ends_where_ingestion_did(
    cast: Cast, make_deal: Any, now: dt.datetime
) -> None:
    from lodestar.insights.models import Alert, AlertStatus
    from lodestar.insights.refresh import insights_recompute

    silent, busy = make_deal(), make_deal(owner=cast.teammate)
    events_ingest(user=cast.owner, items=[event(silent, "call", "a", now - 80 * HOUR)], now=now)
    events_ingest(user=cast.teammate, items=[event(busy, "call", "b", now - HOUR)], now=now)

    def live() -> list[tuple[str, int]]:
        return sorted(
            Alert.objects.filter(status=AlertStatus.OPEN).values_list("dedupe_key", "recipient_id")
        )

    incremental, alerts = summary(), live()
    assert f"deal:{silent.pk}:silence" in {key for key, _ in alerts}
    DealActivity.objects.all().delete()
    Alert.objects.all().delete()
    insights_recompute(now=now, rebuild=True)
    assert summary() == incremental
    assert live() == alerts
