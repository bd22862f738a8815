"""Data steps of the insights migrations, run on a database that already holds events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lodestar.crm.models import Opportunity
from lodestar.events.models import Event
from tests.factories import OpportunityFactory

BEFORE_DEAL_ACTIVITY = ("insights", "0003_communicationscore_handbookpush_healthsnapshot_and_more")
DEAL_ACTIVITY = ("insights", "0004_dealactivity")


def logged(deal: Opportunity, at: dt.datetime, *, with_customer: bool, external_id: str) -> Event:
    return Event.objects.create(
        organization=deal.organization,
        opportunity=deal,
        type="call" if with_customer else "legal.review.started",
        source="crm",
        external_id=external_id,
        occurred_at=at,
        recorded_at=at,
        with_customer=with_customer,
    )


@pytest.mark.django_db(transaction=True)
def test_the_deal_activity_table_starts_with_a_summary_of_the_events_already_logged() -> None:
    now = timezone.now().replace(microsecond=0)
    deal, quiet = OpportunityFactory(), OpportunityFactory()
    logged(deal, now - dt.timedelta(days=3), with_customer=True, external_id="a")
    logged(deal, now - dt.timedelta(days=1), with_customer=True, external_id="b")
    logged(deal, now - dt.timedelta(hours=1), with_customer=False, external_id="c")
    logged(quiet, now - dt.timedelta(days=2), with_customer=False, external_id="d")

    executor = MigrationExecutor(connection)
    try:
        executor.migrate([BEFORE_DEAL_ACTIVITY])
        executor.loader.build_graph()
        executor.migrate([DEAL_ACTIVITY])
        deal_activity = executor.loader.project_state(DEAL_ACTIVITY).apps.get_model(
            "insights", "DealActivity"
        )
        rows = {
            row.opportunity_id: (
                row.organization_id,
                row.last_event_at,
                row.last_customer_at,
                row.events,
                row.customer_events,
            )
            for row in deal_activity.objects.all()
        }
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert rows == {
        deal.pk: (
            deal.organization_id,
            now - dt.timedelta(hours=1),
            now - dt.timedelta(days=1),
            3,
            2,
        ),
        quiet.pk: (quiet.organization_id, now - dt.timedelta(days=2), None, 1, 0),
    }
