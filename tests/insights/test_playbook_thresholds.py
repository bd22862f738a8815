"""The limits in the published playbook are the ones the pages and the risk checks use: changing
one there changes what the dashboard shows and what the risk checks flag."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.playbooks.services import playbook_publish_source
from lodestar.web.dashboard import DashboardFilters, dashboard_page, health_trend
from tests.conftest import Cast, seed_playbook_source
from tests.insights.conftest import DAY, HOUR, ApiAs, event

pytestmark = pytest.mark.django_db


def _publish_limits(cast: Cast, limits: str) -> None:
    source = seed_playbook_source() + limits
    playbook_publish_source(user=cast.ops, source=source, source_name="limits.yaml")


def test_the_dashboard_reads_the_health_threshold_of_the_published_playbook(
    cast: Cast, published: Any, now: dt.datetime
) -> None:
    filters = DashboardFilters()
    assert dashboard_page(user=cast.manager, filters=filters, now=now).threshold == 70
    assert health_trend(user=cast.manager, filters=filters, now=now).threshold == 70

    _publish_limits(cast, "health:\n  threshold: 55\n")

    assert dashboard_page(user=cast.manager, filters=filters, now=now).threshold == 55
    assert health_trend(user=cast.manager, filters=filters, now=now).threshold == 55


def test_the_risk_checks_read_the_silence_limit_of_the_published_playbook(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(stage="first_contact", entered=10 * DAY, opened=20 * DAY)
    api = api_as(cast.owner)
    api.post("/events", event(deal, "call", "c1", now - 30 * HOUR))

    def kinds() -> set[str]:
        findings = api.get(f"/opportunities/{deal.pk}/risks").json()["findings"]
        return {finding["kind"] for finding in findings}

    assert "silence" not in kinds()  # 30 hours: under the default 72

    _publish_limits(cast, "risks:\n  silence:\n    after: 24h\n")

    assert "silence" in kinds()
