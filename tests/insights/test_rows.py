"""`rows_of` gives what Django's own `values_list` gives, only faster on SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Max

from lodestar.crm.models import Opportunity
from lodestar.insights.models import Alert
from lodestar.insights.rows import Stored, rows_of
from tests.conftest import Cast
from tests.insights.conftest import DAY

pytestmark = pytest.mark.django_db


def test_it_reads_the_same_rows_as_django(cast: Cast, make_deal: Any, now: dt.datetime) -> None:
    make_deal(stage="demo", entered=2 * DAY)
    make_deal(stage="first_contact", entered=DAY + dt.timedelta(microseconds=1234))
    Alert.objects.create(
        organization=cast.org,
        kind="risk.silence",
        recipient=cast.owner,
        dedupe_key="k",
        message_zh="z",
        message_en="e",
        since=now - DAY,
        raised_at=now,
    )
    queries = [
        Opportunity.objects.order_by("pk").values_list(
            "pk", "name", "owner_id", "team_id", "stage_entered_at", "created_at"
        ),
        Opportunity.objects.values("owner_id")
        .annotate(latest=Max("stage_entered_at"))
        .order_by("owner_id")
        .values_list("owner_id", "latest"),
        Alert.objects.order_by("pk").values_list("pk", "since", "resolved_at", "wording"),
    ]
    for query in queries:
        assert rows_of(query) == list(query)
    as_stored = Opportunity.objects.annotate(at=Stored("stage_entered_at")).order_by("pk")
    assert rows_of(as_stored.values_list("pk", "at")) == list(
        Opportunity.objects.order_by("pk").values_list("pk", "stage_entered_at")
    )
    assert rows_of(Opportunity.objects.filter(pk__in=[]).values_list("pk", "created_at")) == []
