"""Incremental (as events arrive) and full recompute end in the same state on the same data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import TestCase

from lodestar.crm.models import KnowledgeEntry, KnowledgeKind, StageTransition
from lodestar.events.services import events_ingest
from lodestar.insights.models import (
    Alert,
    AlertStatus,
    CommunicationScore,
    HandbookPush,
    HealthSnapshot,
)
from lodestar.insights.refresh import insights_recompute
from tests.conftest import Cast
from tests.factories import TaskFactory
from tests.insights.conftest import DAY, HOUR, event

pytestmark = pytest.mark.django_db


def state() -> dict[str, Any]:
    return {
        "alerts": sorted(
            Alert.objects.filter(
                status__in=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
            ).values_list("dedupe_key", "recipient_id", "kind", "message_zh", "since", "wording")
        ),
        "health": sorted(
            HealthSnapshot.objects.values_list(
                "rep_id",
                "date",
                "score",
                "dwell_score",
                "task_score",
                "interaction_score",
                "figures",
                "weights",
            )
        ),
        "scores": sorted(
            CommunicationScore.objects.values_list(
                "event_id", "rep_id", "score", "final", "criteria"
            )
        ),
        "pushes": sorted(HandbookPush.objects.values_list("rep_id", "communication_ids", "scores")),
    }


def test_it_gives_the_same_results_incrementally_and_in_full(
    cast: Cast, make_deal: Any, now: dt.datetime
) -> None:
    KnowledgeEntry.objects.create(
        organization=cast.org, key="objection_handling", title="手册", kind=KnowledgeKind.HANDBOOK
    )
    silent = make_deal(stage="first_contact", entered=5 * DAY, opened=6 * DAY)
    overrun = make_deal(stage="demo", entered=12 * DAY, opened=20 * DAY)
    stale = make_deal(stage="first_contact", entered=60 * DAY, opened=60 * DAY)
    regressed = make_deal(stage="demo", entered=DAY, opened=10 * DAY, owner=cast.teammate)
    for days_ago in (3, 2):
        StageTransition.objects.create(
            organization=cast.org,
            opportunity=regressed,
            from_stage="demo",
            to_stage="first_contact",
            direction="backward",
            occurred_at=now - days_ago * DAY,
        )
    TaskFactory(
        opportunity=overrun,
        title="方案",
        created_at=now - 3 * DAY,
        due_at=now - 2 * DAY,
        completed_at=now - DAY,
        status="done",
    )
    items = [
        event(silent, "call", "a", now - 80 * HOUR),
        event(overrun, "meeting.held", "b", now - 5 * DAY),
        event(overrun, "meeting.held", "c", now - 4 * DAY),
        event(overrun, "call", "d", now - 3 * DAY),
        event(overrun, "email.received", "e", now - 2 * HOUR),
        event(stale, "task.completed", "f", now - 50 * DAY, payload={"task_id": 1}),
        event(regressed, "demo.held", "g", now - 3 * HOUR),
    ]
    # Incremental: the events arrive in three batches, all recorded at `now`.
    # Each delivery commits, then the worker scores what it touched (on-commit work runs here).
    for user, batch in (
        (cast.owner, items[:3]),
        (cast.owner, items[3:6]),
        (cast.teammate, items[6:]),
    ):
        with TestCase.captureOnCommitCallbacks(execute=True):
            events_ingest(user=user, items=batch, now=now)
    incremental = state()
    assert incremental["alerts"]
    assert incremental["health"]
    assert incremental["scores"]
    assert incremental["pushes"]

    # Full: the derived tables emptied, then one recompute over the same rows at the same time.
    Alert.objects.all().delete()
    HandbookPush.objects.all().delete()
    CommunicationScore.objects.all().delete()
    HealthSnapshot.objects.all().delete()
    insights_recompute(now=now)

    full = state()
    # The full run also writes a snapshot for reps no event touched (here: with no data at all).
    touched = {row[0] for row in incremental["health"]}
    assert {row[2] for row in full["health"] if row[0] not in touched} == {None}
    full["health"] = [row for row in full["health"] if row[0] in touched]
    assert full == incremental
