"""Completing a task runs the steps `LODESTAR_TASK_DONE_STEPS` lists, in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from django.test import override_settings
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.services import task_complete, task_done_steps
from lodestar.errors import Conflict
from lodestar.insights.task_alerts import alerts_on_tasks_done
from tests.conftest import Cast
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

seen: list[tuple[list[int], list[str], dt.datetime]] = []


def record(*, tasks: Sequence[Task], now: dt.datetime) -> None:
    seen.append(([task.pk for task in tasks], [task.status for task in tasks], now))


@pytest.fixture
def task(cast: Cast) -> Task:
    now = timezone.now()
    return TaskFactory(
        opportunity__owner=cast.owner,
        title="发送定制化方案",
        created_at=now - dt.timedelta(days=1),
        due_at=now + dt.timedelta(days=1),
    )


@pytest.fixture(autouse=True)
def _forget_seen() -> None:
    seen.clear()


def test_the_settings_name_the_insights_step() -> None:
    assert task_done_steps() == (alerts_on_tasks_done,)


@override_settings(LODESTAR_TASK_DONE_STEPS=["tests.automation.test_task_done_steps.record"])
def test_it_runs_the_listed_steps_with_the_completed_task(cast: Cast, task: Task) -> None:
    now = timezone.now()

    task_complete(user=cast.owner, task=task, now=now)

    assert seen == [([task.pk], [TaskStatus.DONE], now)]


@override_settings(LODESTAR_TASK_DONE_STEPS=["tests.automation.test_task_done_steps.record"])
def test_a_task_already_done_runs_no_step(cast: Cast, task: Task) -> None:
    task_complete(user=cast.owner, task=task)
    seen.clear()

    with pytest.raises(Conflict):
        task_complete(user=cast.owner, task=task)

    assert seen == []
