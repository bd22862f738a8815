"""`alerts_raise_many`: one live alert per key and recipient, whatever the batch holds."""

from __future__ import annotations

import pytest

from lodestar.insights.alerts import AlertSpec, alert_raise, alerts_raise_many
from lodestar.insights.models import Alert, AlertStatus
from lodestar.integrations.models import Notification
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def spec(cast: Cast, key: str, recipient: object = None, zh: str = "提醒") -> AlertSpec:
    return AlertSpec(
        kind="risk.silence",
        recipient=recipient or cast.owner,  # type: ignore[arg-type]
        dedupe_key=key,
        message_zh=zh,
        message_en="alert",
    )


def test_it_raises_each_pair_once_and_notifies_each_new_alert(cast: Cast) -> None:
    live = alert_raise(
        organization=cast.org,
        kind="risk.silence",
        recipient=cast.owner,
        dedupe_key="deal:1:silence",
        message_zh="旧",
        message_en="old",
    )
    assert live is not None
    raised = alerts_raise_many(
        organization=cast.org,
        specs=[
            spec(cast, "deal:1:silence"),  # live already
            spec(cast, "deal:1:silence", recipient=cast.manager),  # same key, other recipient
            spec(cast, "deal:2:silence"),
            spec(cast, "deal:2:silence", zh="重复"),  # repeated inside the batch
        ],
    )
    assert sorted((a.dedupe_key, a.recipient_id, a.message_zh) for a in raised) == [
        ("deal:1:silence", cast.manager.pk, "提醒"),
        ("deal:2:silence", cast.owner.pk, "提醒"),
    ]
    assert all(a.pk for a in raised)
    assert Alert.objects.count() == 3
    for alert in [live, *raised]:
        assert Notification.objects.filter(cause_key=f"alert:{alert.pk}").count() == 1


def test_a_resolved_alert_may_be_raised_again(cast: Cast) -> None:
    (first,) = alerts_raise_many(organization=cast.org, specs=[spec(cast, "deal:3:stale")])
    assert alerts_raise_many(organization=cast.org, specs=[spec(cast, "deal:3:stale")]) == []
    Alert.objects.filter(pk=first.pk).update(status=AlertStatus.RESOLVED)
    (again,) = alerts_raise_many(organization=cast.org, specs=[spec(cast, "deal:3:stale")])
    assert again.pk != first.pk
