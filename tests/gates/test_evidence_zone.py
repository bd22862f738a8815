"""Gate evidence words its times in the organization's time zone, as the alerts do."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory

ApiAs = Callable[[Any], ApiClient]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_it_words_the_confirmation_time_in_the_organizations_zone(
    cast: Cast, published: PlaybookVersion, api_as: ApiAs, zone: str
) -> None:
    cast.org.time_zone = zone
    cast.org.save(update_fields=["time_zone"])
    deal = OpportunityFactory(owner=cast.owner, stage_key="tech_confirmed")
    said_at = (timezone.now() - dt.timedelta(days=1)).replace(second=0, microsecond=0)
    api = api_as(cast.owner)
    api.post(
        "/events",
        {
            "type": "chat.message",
            "source": "wecom",
            "external_id": "c1",
            "occurred_at": said_at.astimezone(dt.UTC).isoformat(),
            "opportunity_id": deal.pk,
            "payload": {"text": "方案已确认"},
        },
    )

    body = api.get(f"/opportunities/{deal.pk}/gate").json()

    confirmed = next(c for c in body["criteria"] if c["id"] == "confirmed")
    local = f"{said_at.astimezone(zoneinfo.ZoneInfo(zone)):%Y-%m-%d %H:%M}"
    assert confirmed["met"] is True
    assert confirmed["explanation_i18n"]["zh"].endswith(local)
    assert confirmed["explanation_i18n"]["en"].endswith(local)
