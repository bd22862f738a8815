"""History arrives as the past: no live tasks, alerts or notifications; insights read it."""

from __future__ import annotations

from typing import Any

from lodestar.automation.models import Task
from lodestar.crm.models import Opportunity
from lodestar.insights.models import Alert, DealActivity
from lodestar.integrations.models import Notification
from tests.conftest import Cast
from tests.imports.helpers import DEALS_CSV, deals_mapping, imported

ACTIVITIES = (
    "deal,type,occurred_at,summary\n"
    "D2,演示,2025-02-20 15:00,现场演示\n"
    "D2,电话,2025-02-22 09:00,跟进\n"
)


def test_imported_history_opens_no_tasks(cast: Cast, published: Any) -> None:
    # The seed playbook's triggers open tasks on a demo and on a stage move when they are live.
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    imported(cast.ops, "activities", ACTIVITIES)
    assert not Task.objects.filter(organization=cast.org).exists()


def test_appending_the_history_raises_no_alert_or_notification(cast: Cast, published: Any) -> None:
    # Without the closing recompute (queued on commit, which the test's transaction holds
    # back; it judges the deals as they stand today, as the hourly sweep would), the appended
    # past alone alerts and notifies nobody.
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    imported(cast.ops, "activities", ACTIVITIES)
    assert not Alert.objects.filter(organization=cast.org).exists()
    assert not Notification.objects.filter(organization=cast.org).exists()


def test_insights_count_the_imported_activity_once_the_import_commits(
    cast: Cast, published: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The recompute is queued for the worker on commit (Huey is immediate in tests).
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    with django_capture_on_commit_callbacks(execute=True):
        imported(cast.ops, "activities", ACTIVITIES)
    deal = Opportunity.objects.get(external_ref="D2")
    summary = DealActivity.objects.get(opportunity=deal)
    assert summary.customer_events >= 2
