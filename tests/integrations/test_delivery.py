"""Worker steps called directly: claim, deliver, back-off, dead letters, sweep, crash recovery."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from lodestar.errors import Conflict, PermissionDenied
from lodestar.integrations import delivery
from lodestar.integrations.delivery import Outcome, claim, deliver, due_ids, retry_delay
from lodestar.integrations.models import Channel, ChannelConfig, Notification, NotificationStatus
from lodestar.integrations.services import notification_retry, notify
from lodestar.integrations.tasks import sweep_notifications
from lodestar.integrations.transport import transport_for
from lodestar.org.models import AuditEntry, User
from tests.conftest import Cast
from tests.integrations.servers import Received, Reply, WebhookReceiver, refused_url

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2024, 9, 3, 2, 0, tzinfo=dt.UTC)


def clock(moment: dt.datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def outbox_row(cast: Cast, url: str, cause: str = "task:1:due") -> Notification:
    ChannelConfig.objects.get_or_create(
        organization=cast.org, kind=Channel.DINGTALK, defaults={"webhook_url": url}
    )
    rows = notify(
        organization=cast.org,
        recipient=cast.owner,
        title="任务逾期",
        cause_key=cause,
        channels=[Channel.DINGTALK],
        now=T0,
    )
    (row,) = rows
    return row


def status_of(row: Notification) -> Notification:
    row.refresh_from_db()
    return row


class TestDeliver:
    def test_it_delivers_and_records(self, cast: Cast, receiver: WebhookReceiver) -> None:
        row = outbox_row(cast, receiver.url)
        assert deliver(row.pk, worker="w1", now=clock(T0)) is Outcome.DELIVERED
        row = status_of(row)
        assert (row.status, row.attempts, row.delivered_at) == ("delivered", 1, T0)
        assert receiver.keys() == [f"lodestar-{cast.org.pk}-{row.pk}"]

    def test_a_delivered_row_is_never_sent_again(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        row = outbox_row(cast, receiver.url)
        deliver(row.pk, worker="w1", now=clock(T0))
        assert deliver(row.pk, worker="w2", now=clock(T0 + dt.timedelta(days=1))) is Outcome.SKIPPED
        assert len(receiver.received) == 1

    def test_a_receiver_that_is_down_schedules_a_retry(self, cast: Cast) -> None:
        row = outbox_row(cast, refused_url())
        assert deliver(row.pk, worker="w1", now=clock(T0), rand=lambda: 1.0) is Outcome.RETRY
        row = status_of(row)
        assert row.status == NotificationStatus.FAILED
        assert "cannot connect" in row.last_error
        assert row.next_attempt_at == T0 + dt.timedelta(seconds=30)  # first back-off step
        # Not due yet: nobody may take it early.
        assert deliver(row.pk, worker="w2", now=clock(T0 + dt.timedelta(seconds=29))) == "skipped"

    def test_it_retries_until_the_receiver_is_back(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        calls = Counter[str]()

        def flaky(_: Received) -> Reply:
            calls["n"] += 1
            return (503, {"error": "busy"}, {}) if calls["n"] < 3 else (200, {"errcode": 0}, {})

        receiver.reply = flaky
        row = outbox_row(cast, receiver.url)
        moment = T0
        outcomes = []
        for _ in range(3):
            outcomes.append(deliver(row.pk, worker="w", now=clock(moment), rand=lambda: 1.0))
            moment = status_of(row).next_attempt_at
        assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.DELIVERED]
        assert status_of(row).attempts == 3

    def test_a_4xx_is_a_dead_letter_at_once(self, cast: Cast, receiver: WebhookReceiver) -> None:
        receiver.reply = lambda _: (404, {"error": "no such robot"}, {})
        row = outbox_row(cast, receiver.url)
        assert deliver(row.pk, worker="w", now=clock(T0)) is Outcome.DEAD
        row = status_of(row)
        assert (row.status, row.attempts) == (NotificationStatus.DEAD, 1)
        assert "HTTP 404" in row.last_error
        assert due_ids(now=T0 + dt.timedelta(days=30)) == []

    def test_retryable_failures_end_dead_after_the_attempt_limit(
        self, cast: Cast, settings
    ) -> None:  # type: ignore[no-untyped-def]
        settings.NOTIFICATION_MAX_ATTEMPTS = 3
        row = outbox_row(cast, refused_url())
        moment, outcomes = T0, []
        for _ in range(4):
            outcomes.append(deliver(row.pk, worker="w", now=clock(moment)))
            moment += dt.timedelta(days=1)
        assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.DEAD, Outcome.SKIPPED]

    def test_the_receivers_retry_after_is_honoured(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        receiver.reply = lambda _: (429, {}, {"Retry-After": "600"})
        row = outbox_row(cast, receiver.url)
        deliver(row.pk, worker="w", now=clock(T0), rand=lambda: 1.0)
        assert status_of(row).next_attempt_at == T0 + dt.timedelta(seconds=600)

    def test_a_deleted_channel_setting_is_a_dead_letter(self, cast: Cast) -> None:
        row = outbox_row(cast, "https://x.example/hook")
        ChannelConfig.objects.all().delete()
        assert deliver(row.pk, worker="w", now=clock(T0)) is Outcome.DEAD
        assert "deleted" in status_of(row).last_error

    def test_an_unexpected_error_is_retried_not_lost(self, cast: Cast, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        row = outbox_row(cast, "https://x.example/hook")

        def boom(kind: str) -> object:
            raise KeyError("bug")

        monkeypatch.setattr(delivery, "transport_for", boom)
        assert deliver(row.pk, worker="w", now=clock(T0)) is Outcome.RETRY
        assert "unexpected" in status_of(row).last_error

    def test_it_delivers_email_rows(self, cast: Cast, mailoutbox) -> None:  # type: ignore[no-untyped-def]
        ChannelConfig.objects.create(organization=cast.org, kind=Channel.EMAIL)
        (row,) = notify(
            organization=cast.org,
            recipient=cast.owner,
            title="t",
            cause_key="c",
            channels=["email"],
            now=T0,
        )
        assert deliver(row.pk, worker="w", now=clock(T0)) is Outcome.DELIVERED
        assert [m.to for m in mailoutbox] == [[cast.owner.email]]


class TestBackoff:
    def test_it_doubles_with_jitter_and_a_cap(self) -> None:
        assert retry_delay(1, rand=lambda: 0.0) == dt.timedelta(seconds=15)
        assert retry_delay(1, rand=lambda: 1.0) == dt.timedelta(seconds=30)
        assert retry_delay(4, rand=lambda: 1.0) == dt.timedelta(seconds=240)
        assert retry_delay(40, rand=lambda: 1.0) == dt.timedelta(hours=6)
        delays = {retry_delay(3) for _ in range(20)}
        assert all(dt.timedelta(seconds=60) <= d <= dt.timedelta(seconds=120) for d in delays)
        assert len(delays) > 1  # jittered


class TestClaim:
    def test_only_one_worker_wins_a_claim(self, cast: Cast) -> None:
        row = outbox_row(cast, "https://x.example/hook")
        assert claim(row.pk, worker="a", now=T0)
        assert not claim(row.pk, worker="b", now=T0)
        assert status_of(row).claimed_by == "a"

    def test_a_worker_that_lost_its_claim_cannot_record_an_outcome(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        row = outbox_row(cast, receiver.url)
        assert claim(row.pk, worker="dead-worker", now=T0)
        later = T0 + delivery.lease() + dt.timedelta(seconds=1)
        assert deliver(row.pk, worker="b", now=clock(later)) is Outcome.DELIVERED
        # The first worker wakes up and tries to mark it failed: refused, row stays delivered.
        assert not delivery._finish(row.pk, "dead-worker", status=NotificationStatus.FAILED)
        assert status_of(row).status == NotificationStatus.DELIVERED


class TestCrashRecovery:
    """A worker killed mid-delivery: nothing lost, nothing shown twice."""

    def test_claimed_then_crashed_before_sending(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        rows = [outbox_row(cast, receiver.url, cause=f"task:{n}:due") for n in range(5)]
        for row in rows:
            assert claim(row.pk, worker="killed", now=T0)
        # Inside the lease nobody touches them: the worker might still be sending.
        assert due_ids(now=T0 + delivery.lease() - dt.timedelta(seconds=1)) == []
        after_lease = T0 + delivery.lease() + dt.timedelta(seconds=1)
        assert sorted(due_ids(now=after_lease)) == sorted(row.pk for row in rows)
        for row_id in due_ids(now=after_lease):
            deliver(row_id, worker="survivor", now=clock(after_lease))
        assert Counter(receiver.keys()) == Counter(
            f"lodestar-{cast.org.pk}-{row.pk}" for row in rows
        )
        assert {status_of(row).status for row in rows} == {"delivered"}
        assert {status_of(row).attempts for row in rows} == {2}

    def test_crashed_after_sending_before_recording(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        row = outbox_row(cast, receiver.url)
        assert claim(row.pk, worker="killed", now=T0)
        # The killed worker got the message out, then died before writing `delivered`.
        message, destination = delivery._message_and_destination(row)
        transport_for(row.channel).send(message, destination)
        after_lease = T0 + delivery.lease() + dt.timedelta(seconds=1)
        for row_id in due_ids(now=after_lease):
            deliver(row_id, worker="survivor", now=clock(after_lease))
        # Sent twice on the wire, with one idempotency key: an idempotent receiver shows it once.
        assert len(receiver.received) == 2
        assert set(receiver.keys()) == {f"lodestar-{cast.org.pk}-{row.pk}"}
        assert status_of(row).status == NotificationStatus.DELIVERED


class TestSweep:
    def test_the_periodic_sweep_sends_what_was_never_queued(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        # `notify` ran inside the test transaction, so its on-commit enqueue never fired:
        # exactly the "process died between commit and enqueue" case.
        rows = [outbox_row(cast, receiver.url, cause=f"c{n}") for n in range(3)]
        assert sweep_notifications.call_local() == 3  # queued tasks run at once in tests
        assert {status_of(row).status for row in rows} == {"delivered"}
        assert sweep_notifications.call_local() == 0

    def test_the_sweep_leaves_rows_that_are_not_due(self, cast: Cast) -> None:
        row = outbox_row(cast, refused_url())
        deliver(row.pk, worker="w", now=clock(T0))
        assert due_ids(now=T0) == []
        assert due_ids(now=status_of(row).next_attempt_at) == [row.pk]


class TestRetryDeadLetters:
    def make_dead(self, cast: Cast, receiver: WebhookReceiver) -> Notification:
        receiver.reply = lambda _: (400, {}, {})
        row = outbox_row(cast, receiver.url)
        deliver(row.pk, worker="w", now=clock(T0))
        receiver.reply = lambda _: (200, {"errcode": 0}, {})
        return status_of(row)

    def test_an_admin_retries_a_dead_letter(
        self, cast: Cast, receiver: WebhookReceiver, django_capture_on_commit_callbacks
    ) -> None:  # type: ignore[no-untyped-def]
        row = self.make_dead(cast, receiver)
        with django_capture_on_commit_callbacks(execute=True):
            notification_retry(notification=row, actor=cast.admin)
        row = status_of(row)
        assert row.status == NotificationStatus.DELIVERED
        assert row.attempts == 1  # a fresh budget
        entry = AuditEntry.objects.get(action="notification.retry")
        assert (entry.actor, entry.object_id) == (cast.admin, str(row.pk))

    @pytest.mark.parametrize("who", ["owner", "manager", "outsider"])
    def test_others_may_not_retry(self, cast: Cast, receiver: WebhookReceiver, who: str) -> None:
        row = self.make_dead(cast, receiver)
        with pytest.raises(PermissionDenied):
            notification_retry(notification=row, actor=getattr(cast, who))
        assert status_of(row).status == NotificationStatus.DEAD

    def test_a_delivered_notification_cannot_be_retried(
        self, cast: Cast, receiver: WebhookReceiver
    ) -> None:
        row = outbox_row(cast, receiver.url)
        deliver(row.pk, worker="w", now=clock(T0))
        with pytest.raises(Conflict):
            notification_retry(notification=status_of(row), actor=cast.admin)

    def test_the_admin_lists_dead_letters_and_retries_them(
        self,
        cast: Cast,
        receiver: WebhookReceiver,
        client,
        django_capture_on_commit_callbacks,
    ) -> None:  # type: ignore[no-untyped-def]
        root = User.objects.create_superuser("root", "root@example.com", "pw")
        client.force_login(root)
        admin_client = client
        row = self.make_dead(cast, receiver)
        url = reverse("admin:integrations_notification_changelist")
        page = admin_client.get(url, {"status__exact": "dead"})
        assert page.status_code == 200
        assert "任务逾期" in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                url, {"action": "retry", "_selected_action": [row.pk]}, follow=True
            )
        assert response.status_code == 200
        assert status_of(row).status == NotificationStatus.DELIVERED
        assert timezone.now() - status_of(row).delivered_at < dt.timedelta(minutes=1)  # type: ignore[operator]


@pytest.mark.parametrize("model", ["channelconfig", "notification", "calendarfeed"])
def test_the_admin_lists_each_model(cast: Cast, client, model: str) -> None:  # type: ignore[no-untyped-def]
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    url = reverse(f"admin:integrations_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "x"}).status_code == 200
