"""The processing steps are the apps' own, named in order by `LODESTAR_EVENT_STEPS`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils.module_loading import import_string

from lodestar.events.processing import event_steps
from lodestar.events.records import RecordedEvent
from lodestar.events.services import events_ingest
from tests.conftest import Cast
from tests.factories import OpportunityFactory

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
# What the steps below saw, in the order they ran: (step, event types of the batch).
calls: list[tuple[str, list[str]]] = []


def first_step(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    calls.append(("first", [event.type for event in events]))


def second_step(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    calls.append(("second", [event.type for event in events]))


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


def _ingest_a_call(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    item: dict[str, Any] = {
        "type": "proposal.sent",
        "external_id": "c-1",
        "occurred_at": NOW.isoformat(),
        "opportunity_id": deal.pk,
    }
    report = events_ingest(user=cast.owner, items=[item], now=NOW)
    assert report.count("accepted") == 1


def test_the_steps_are_those_the_settings_name_in_their_order() -> None:
    named = tuple(import_string(path) for path in settings.LODESTAR_EVENT_STEPS)

    assert event_steps() == named


def test_a_step_registered_in_the_settings_runs_on_each_batch_in_its_place(cast: Cast) -> None:
    steps = [f"{__name__}.second_step", f"{__name__}.first_step"]

    with override_settings(LODESTAR_EVENT_STEPS=steps):
        _ingest_a_call(cast)

    assert calls == [("second", ["proposal.sent"]), ("first", ["proposal.sent"])]


def test_the_steps_of_the_settings_come_back_once_an_override_ends(cast: Cast) -> None:
    with override_settings(LODESTAR_EVENT_STEPS=[f"{__name__}.first_step"]):
        assert len(event_steps()) == 1

    assert len(event_steps()) == len(settings.LODESTAR_EVENT_STEPS)
    _ingest_a_call(cast)
    assert calls == []
