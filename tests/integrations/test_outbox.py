"""`notify`: which channels apply, dedupe, transactions, and the in-app inbox."""

from __future__ import annotations

import pytest
from django.db import transaction

from lodestar.errors import ValidationFailed
from lodestar.integrations.models import (
    Channel,
    ChannelConfig,
    Notification,
    NotificationStatus,
)
from lodestar.integrations.selectors import inbox_list, inbox_unread_count
from lodestar.integrations.services import notification_mark_read, notify
from tests.conftest import Cast
from tests.integrations.servers import WebhookReceiver

pytestmark = pytest.mark.django_db


def channels(rows: list[Notification]) -> set[str]:
    return {row.channel for row in rows}


def robot(cast: Cast, url: str, **scope: object) -> ChannelConfig:
    return ChannelConfig.objects.create(
        organization=cast.org, kind=Channel.DINGTALK, webhook_url=url, **scope
    )


class TestChannelResolution:
    def test_it_always_writes_the_in_app_item(self, cast: Cast) -> None:
        rows = notify(
            organization=cast.org, recipient=cast.owner, title="t", cause_key="task:1:due"
        )
        (row,) = rows
        assert row.channel == Channel.IN_APP
        # The inbox item needs no worker: it is delivered the moment it is written.
        assert row.status == NotificationStatus.DELIVERED
        assert row.delivered_at is not None

    def test_it_uses_the_organization_robot(self, cast: Cast) -> None:
        org_robot = robot(cast, "https://org.example/hook")
        rows = notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
        (robot_row,) = [row for row in rows if row.channel == Channel.DINGTALK]
        assert robot_row.config == org_robot
        assert robot_row.status == NotificationStatus.PENDING

    def test_user_beats_team_beats_organization(self, cast: Cast) -> None:
        robot(cast, "https://org.example/hook")
        team_robot = robot(cast, "https://team.example/hook", team=cast.team)
        own_robot = robot(cast, "https://mine.example/hook", user=cast.owner)

        def config_for(user: object, cause: str) -> ChannelConfig | None:
            rows = notify(organization=cast.org, recipient=user, title="t", cause_key=cause)  # type: ignore[arg-type]
            return next(row.config for row in rows if row.channel == Channel.DINGTALK)

        assert config_for(cast.owner, "a") == own_robot
        assert config_for(cast.teammate, "b") == team_robot
        assert config_for(cast.other_team_rep, "c").webhook_url == "https://org.example/hook"  # type: ignore[union-attr]

    def test_a_disabled_specific_setting_mutes_the_channel(self, cast: Cast) -> None:
        robot(cast, "https://team.example/hook", team=cast.team)
        robot(cast, "", user=cast.owner, enabled=False)
        rows = notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
        assert channels(rows) == {Channel.IN_APP}

    def test_other_organizations_settings_never_apply(self, cast: Cast) -> None:
        ChannelConfig.objects.create(
            organization=cast.outsider.membership.organization,
            kind=Channel.WECOM,
            webhook_url="https://other.example/hook",
        )
        rows = notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
        assert channels(rows) == {Channel.IN_APP}

    def test_email_goes_to_the_user_or_the_configured_address(self, cast: Cast) -> None:
        ChannelConfig.objects.create(organization=cast.org, kind=Channel.EMAIL)
        ChannelConfig.objects.create(
            organization=cast.org, team=cast.team, kind=Channel.EMAIL, email_address="t@x.cn"
        )
        (own,) = notify(
            organization=cast.org,
            recipient=cast.other_team_rep,
            title="t",
            cause_key="c",
            channels=["email"],
        )
        assert own.email_address == cast.other_team_rep.email
        (team,) = notify(
            organization=cast.org,
            recipient=cast.owner,
            title="t",
            cause_key="d",
            channels=["email"],
        )
        assert team.email_address == "t@x.cn"

    def test_channels_narrows_the_set(self, cast: Cast) -> None:
        robot(cast, "https://org.example/hook")
        rows = notify(
            organization=cast.org,
            recipient=cast.owner,
            title="t",
            cause_key="c",
            channels=[Channel.DINGTALK],
        )
        assert channels(rows) == {Channel.DINGTALK}

    def test_without_a_recipient_it_posts_to_the_team_robot_only(self, cast: Cast) -> None:
        team_robot = robot(cast, "https://team.example/hook", team=cast.team)
        (row,) = notify(
            organization=cast.org, recipient=None, team=cast.team, title="t", cause_key="c"
        )
        assert (row.channel, row.config, row.recipient) == (Channel.DINGTALK, team_robot, None)

    def test_it_refuses_a_recipient_from_another_organization(self, cast: Cast) -> None:
        with pytest.raises(ValidationFailed) as caught:
            notify(organization=cast.org, recipient=cast.outsider, title="t", cause_key="c")
        assert caught.value.details[0].field == "recipient"

    def test_it_needs_a_cause_and_a_title(self, cast: Cast) -> None:
        with pytest.raises(ValidationFailed):
            notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="")
        with pytest.raises(ValidationFailed):
            notify(organization=cast.org, recipient=cast.owner, title="  ", cause_key="c")


class TestDedupe:
    def test_one_cause_notifies_once(self, cast: Cast) -> None:
        robot(cast, "https://org.example/hook")
        first = notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
        again = notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
        assert len(first) == 2
        assert again == []
        assert Notification.objects.count() == 2

    def test_a_shared_team_robot_gets_one_post_for_two_recipients(self, cast: Cast) -> None:
        robot(cast, "https://team.example/hook", team=cast.team)
        for user in (cast.owner, cast.teammate):
            notify(organization=cast.org, recipient=user, title="t", cause_key="deal:9:stuck")
        assert Notification.objects.filter(channel=Channel.DINGTALK).count() == 1
        assert Notification.objects.filter(channel=Channel.IN_APP).count() == 2


class TestTransactions:
    def test_delivery_is_queued_after_commit(
        self, cast: Cast, receiver: WebhookReceiver, django_capture_on_commit_callbacks
    ) -> None:  # type: ignore[no-untyped-def]
        robot(cast, receiver.url)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            with transaction.atomic():
                notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
            assert receiver.received == []  # nothing leaves before the commit
        for callback in callbacks:
            callback()
        assert len(receiver.received) == 1
        row = Notification.objects.get(channel=Channel.DINGTALK)
        assert row.status == NotificationStatus.DELIVERED

    def test_a_rolled_back_cause_notifies_nobody(
        self, cast: Cast, receiver: WebhookReceiver, django_capture_on_commit_callbacks
    ) -> None:  # type: ignore[no-untyped-def]
        robot(cast, receiver.url)

        def notify_then_fail() -> None:
            with transaction.atomic():
                notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="c")
                raise RuntimeError("the cause failed")

        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError, match="the cause failed"),
        ):
            notify_then_fail()
        assert Notification.objects.count() == 0
        assert receiver.received == []


class TestInbox:
    def test_each_user_sees_only_their_own(self, cast: Cast) -> None:
        notify(organization=cast.org, recipient=cast.owner, title="mine", cause_key="a")
        notify(organization=cast.org, recipient=cast.teammate, title="theirs", cause_key="b")
        assert [n.title for n in inbox_list(user=cast.owner)] == ["mine"]
        assert [n.title for n in inbox_list(user=cast.teammate)] == ["theirs"]
        assert list(inbox_list(user=cast.manager)) == []
        assert list(inbox_list(user=cast.outsider)) == []

    def test_robot_rows_are_not_inbox_items(self, cast: Cast) -> None:
        robot(cast, "https://org.example/hook")
        notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="a")
        assert inbox_list(user=cast.owner).count() == 1

    def test_mark_read_touches_only_the_users_own_items(self, cast: Cast) -> None:
        (mine,) = notify(organization=cast.org, recipient=cast.owner, title="t", cause_key="a")
        (theirs,) = notify(organization=cast.org, recipient=cast.teammate, title="t", cause_key="b")
        assert inbox_unread_count(user=cast.owner) == 1
        changed = notification_mark_read(user=cast.owner, notification_ids=[mine.pk, theirs.pk])
        assert changed == 1
        assert inbox_unread_count(user=cast.owner) == 0
        assert inbox_unread_count(user=cast.teammate) == 1
        assert notification_mark_read(user=cast.teammate) == 1
