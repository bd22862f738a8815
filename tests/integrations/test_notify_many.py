"""`notify_many`: what one `notify` per item would give, in a handful of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lodestar.errors import ValidationFailed
from lodestar.integrations.models import Channel, ChannelConfig, Notification
from lodestar.integrations.services import NotificationSpec, notify, notify_many
from lodestar.org.models import User
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def robot(cast: Cast, url: str, **scope: object) -> ChannelConfig:
    return ChannelConfig.objects.create(
        organization=cast.org, kind=Channel.DINGTALK, webhook_url=url, **scope
    )


def test_it_resolves_each_recipients_channels_like_notify(cast: Cast) -> None:
    robot(cast, "https://org.example/hook")
    team_robot = robot(cast, "https://team.example/hook", team=cast.team)
    ChannelConfig.objects.create(
        organization=cast.org, kind=Channel.DINGTALK, user=cast.teammate, enabled=False
    )
    rows = notify_many(
        organization=cast.org,
        specs=[
            NotificationSpec(recipient=cast.owner, title="t", cause_key="c:1"),
            NotificationSpec(recipient=cast.teammate, title="t", cause_key="c:2"),
            NotificationSpec(recipient=cast.other_team_rep, title="t", cause_key="c:3"),
        ],
    )
    got = {(row.cause_key, row.channel, row.config_id) for row in rows}
    assert ("c:1", Channel.IN_APP, None) in got
    assert ("c:1", Channel.DINGTALK, team_robot.pk) in got
    # The teammate muted the robot for themselves.
    assert {(c, ch) for c, ch, _ in got if c == "c:2"} == {("c:2", Channel.IN_APP)}
    # Another team falls back to the organization's robot.
    org_robot = ChannelConfig.objects.get(team=None, user=None)
    assert ("c:3", Channel.DINGTALK, org_robot.pk) in got


def test_it_dedupes_inside_the_batch_and_against_the_outbox(cast: Cast) -> None:
    notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="alert:1")
    rows = notify_many(
        organization=cast.org,
        specs=[
            NotificationSpec(recipient=cast.owner, title="t", cause_key="alert:1"),
            NotificationSpec(recipient=cast.owner, title="t", cause_key="alert:2"),
            NotificationSpec(recipient=cast.owner, title="again", cause_key="alert:2"),
        ],
    )
    assert [(row.cause_key, row.title) for row in rows] == [("alert:2", "t")]
    assert Notification.objects.filter(cause_key__in=["alert:1", "alert:2"]).count() == 2
    assert (
        notify_many(
            organization=cast.org,
            specs=[NotificationSpec(recipient=cast.owner, title="t", cause_key="alert:2")],
        )
        == []
    )


def test_its_queries_do_not_grow_with_the_batch(cast: Cast) -> None:
    robot(cast, "https://org.example/hook")

    def queries_for(size: int, prefix: str) -> int:
        recipients = [User.objects.get(pk=cast.owner.pk), User.objects.get(pk=cast.teammate.pk)]
        specs = [
            NotificationSpec(recipient=recipients[i % 2], title="t", cause_key=f"{prefix}:{i}")
            for i in range(size)
        ]
        with CaptureQueriesContext(connection) as queries:
            rows = notify_many(organization=cast.org, specs=specs)
        assert len(rows) == 2 * size  # in-app + robot for each
        return len(queries.captured_queries)

    # Settings, dedupe check, insert(s) and read-back: not one round per item.
    assert queries_for(2, "few") <= queries_for(60, "many") <= 8


def test_it_refuses_a_recipient_from_another_organization(cast: Cast) -> None:
    with pytest.raises(ValidationFailed):
        notify_many(
            organization=cast.org,
            specs=[
                NotificationSpec(recipient=cast.owner, title="t", cause_key="c:1"),
                NotificationSpec(recipient=cast.outsider, title="t", cause_key="c:2"),
            ],
        )
    assert not Notification.objects.filter(cause_key="c:1").exists()
