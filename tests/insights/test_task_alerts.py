"""The SLA sweep: heads-up, overdue alert to the owner, escalation to the manager, clean-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.services import task_complete
from lodestar.insights.models import Alert, AlertStatus
from lodestar.insights.task_alerts import sweep_tasks
from lodestar.integrations.models import Notification
from tests.conftest import Cast
from tests.factories import TaskFactory

HOUR = dt.timedelta(hours=1)


def make_task(cast: Cast, due_in: dt.timedelta) -> Task:
    now = timezone.now()
    return TaskFactory(
        opportunity__owner=cast.owner,
        opportunity__stage_key="demo",
        title="发送定制化方案",
        created_at=now - 24 * HOUR,
        due_at=now + due_in,
    )


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now()


def test_it_gives_a_heads_up_an_hour_before_the_deadline_once(
    cast: Cast, published: Any, now: dt.datetime
) -> None:
    task = make_task(cast, 30 * dt.timedelta(minutes=1))
    assert sweep_tasks(now=now).reminded == 1
    assert sweep_tasks(now=now).reminded == 0
    assert Notification.objects.filter(cause_key=f"task:{task.pk}:due-soon").exists()
    assert not Alert.objects.exists()


def test_it_alerts_the_owner_once_when_a_task_is_overdue(
    cast: Cast, published: Any, now: dt.datetime
) -> None:
    task = make_task(cast, -HOUR)
    sweep_tasks(now=now)
    sweep_tasks(now=now)
    alert = Alert.objects.get(kind="task_overdue")
    assert (alert.recipient, alert.opportunity) == (cast.owner, task.opportunity)
    assert "发送定制化方案" in alert.message_zh


def test_it_escalates_to_the_manager_after_the_grace_period(
    cast: Cast, published: Any, now: dt.datetime
) -> None:
    task = make_task(cast, -HOUR)
    sweep_tasks(now=now)
    assert not Alert.objects.filter(kind="task_escalated").exists()

    report = sweep_tasks(now=now + 4 * HOUR)

    assert report.escalated == 1
    escalation = Alert.objects.get(kind="task_escalated")
    assert escalation.recipient == cast.manager
    task.refresh_from_db()
    assert task.escalated_at == now + 4 * HOUR
    assert sweep_tasks(now=now + 5 * HOUR).escalated == 0


def test_it_reminds_the_owner_again_every_day_while_overdue(
    cast: Cast, published: Any, now: dt.datetime
) -> None:
    task = make_task(cast, -HOUR)
    sweep_tasks(now=now + 24 * HOUR)
    sweep_tasks(now=now + 48 * HOUR)
    causes = set(Notification.objects.values_list("cause_key", flat=True))
    assert {f"task:{task.pk}:overdue:1", f"task:{task.pk}:overdue:2"} <= causes


def test_it_resolves_the_overdue_alerts_when_the_task_is_completed(
    cast: Cast, published: Any, now: dt.datetime
) -> None:
    task = make_task(cast, -5 * HOUR)
    sweep_tasks(now=now)
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 2

    task_complete(user=cast.owner, task=task, now=now)

    assert set(Alert.objects.values_list("status", flat=True)) == {AlertStatus.RESOLVED}
    task.refresh_from_db()
    assert (task.status, task.on_time) == (TaskStatus.DONE, False)


def test_it_uses_the_default_policy_without_a_playbook(cast: Cast, now: dt.datetime) -> None:
    make_task(cast, -HOUR)
    assert sweep_tasks(now=now).overdue == 1
