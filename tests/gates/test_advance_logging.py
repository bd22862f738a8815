"""A stage move enters the event log through the log's one door, and is held to its checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lodestar.crm.models import StageTransition
from lodestar.errors import ValidationFailed
from lodestar.events.models import Event
from lodestar.gates.services import opportunity_advance
from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import Cast
from tests.factories import OpportunityFactory


@pytest.fixture
def deal(cast: Cast, published: PlaybookVersion) -> Any:
    return OpportunityFactory(owner=cast.owner, stage_key="demo")


def test_it_logs_the_move_as_a_stage_changed_event_of_the_mover(cast: Cast, deal: Any) -> None:
    now = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)

    opportunity_advance(user=cast.owner, opportunity=deal, to_stage="first_contact", now=now)

    logged = Event.objects.get(opportunity=deal, type="stage.changed")
    transition = StageTransition.objects.get(opportunity=deal)
    assert (logged.source, logged.external_id) == ("lodestar", f"transition:{transition.pk}")
    assert (logged.occurred_at, logged.actor, logged.with_customer) == (now, cast.owner, False)
    assert logged.payload == {
        "from": "demo",
        "to": "first_contact",
        "direction": "backward",
        "kind": "regression",
    }


def test_it_refuses_a_move_at_a_time_outside_the_supported_range_and_writes_nothing(
    cast: Cast, deal: Any
) -> None:
    before_1900 = dt.datetime(1899, 12, 31, 23, 0, tzinfo=dt.UTC)

    with pytest.raises(ValidationFailed) as refused:
        opportunity_advance(
            user=cast.owner, opportunity=deal, to_stage="first_contact", now=before_1900
        )

    assert [detail.field for detail in refused.value.details] == ["occurred_at"]
    deal.refresh_from_db()
    assert deal.stage_key == "demo"
    assert not StageTransition.objects.filter(opportunity=deal).exists()
    assert not Event.objects.filter(opportunity=deal).exists()
