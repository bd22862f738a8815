"""Shared helpers of the insights tests: deals at chosen times, events through the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import ApiClient, Cast

ApiAs = Callable[[Any], ApiClient]
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def event(deal: Any, type_: str, external_id: str, at: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "source": "crm",
        "external_id": external_id,
        "occurred_at": at.isoformat(),
        "opportunity_id": deal.pk,
        **extra,
    }


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def make_deal(cast: Cast, published: Any, now: dt.datetime) -> Callable[..., Any]:
    """`make_deal(stage="demo", entered=2 * DAY, opened=30 * DAY, owner=cast.owner)`."""
    from tests.factories import OpportunityFactory

    def make(
        stage: str = "first_contact",
        entered: dt.timedelta = HOUR,
        opened: dt.timedelta = 30 * DAY,
        owner: Any = None,
    ) -> Any:
        return OpportunityFactory(
            owner=owner or cast.owner,
            stage_key=stage,
            stage_entered_at=now - entered,
            created_at=now - opened,
        )

    return make


def live_keys(user: Any) -> set[str]:
    from lodestar.insights.models import Alert, AlertStatus

    return set(
        Alert.objects.filter(
            recipient=user, status__in=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
        ).values_list("dedupe_key", flat=True)
    )


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    """Uploaded files go to a temporary folder, not the project's media root."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
