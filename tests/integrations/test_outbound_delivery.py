"""Outbound webhooks through the outbox's worker step (`delivery.deliver`) to a real receiver.

Signature (checked with the recipe of docs/webhooks.md), retries with back-off, one delivery id
across attempts, the delivery log, switching off after repeated failure and back on, the test
delivery, and the address checks when saved and when connecting.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from lodestar.errors import ValidationFailed
from lodestar.integrations.delivery import Outcome, deliver
from lodestar.integrations.models import (
    DisabledReason,
    Notification,
    NotificationStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from lodestar.integrations.outbound import (
    WebhookEvent,
    sign,
    url_problem,
    webhook_create,
    webhook_rotate_secret,
    webhook_send_test,
    webhook_set_enabled,
    webhooks_publish,
)
from lodestar.integrations.services import notification_retry
from lodestar.org.models import AuditEntry
from tests.conftest import Cast
from tests.integrations.outbound_receiver import Receiver, verify

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 9, 3, 2, 0, tzinfo=dt.UTC)


def clock(moment: dt.datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are read in English here (the site's default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def private_allowed(settings: Any) -> None:
    """The receiver listens on 127.0.0.1 over plain http: allowed for these tests only."""
    settings.LODESTAR_WEBHOOK_ALLOW_PRIVATE = True


def subscribe(cast: Cast, url: str, *types: str) -> tuple[WebhookSubscription, str]:
    return webhook_create(user=cast.admin, url=url, event_types=types or ["task.created"])


def publish(cast: Cast, key: str = "task:1:created", at: dt.datetime = T0) -> WebhookDelivery:
    count = webhooks_publish(
        organization_id=cast.org.pk,
        event_type="task.created",
        events=[WebhookEvent(key=key, data={"task": {"id": 1}}, occurred_at=at)],
        now=at,
    )
    assert count == 1
    return WebhookDelivery.objects.get(
        event_id__isnull=False, notification__cause_key__endswith=key
    )


def log_of(subscription: WebhookSubscription) -> list[WebhookAttempt]:
    return list(WebhookAttempt.objects.filter(subscription=subscription).order_by("pk"))


class TestSigning:
    def test_the_receiver_verifies_a_delivery_with_the_documented_recipe(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        _subscription, secret = subscribe(cast, receiver.url)
        delivery = publish(cast, at=timezone.now())

        assert deliver(delivery.pk, worker="w") is Outcome.DELIVERED

        (arrival,) = receiver.arrivals
        assert verify(secret, arrival.headers, arrival.body)
        assert arrival.headers["X-Lodestar-Event"] == "task.created"
        assert arrival.headers["X-Lodestar-Delivery"] == delivery.delivery_id
        assert arrival.body == delivery.body.encode()
        body = json.loads(arrival.body)
        assert (body["type"], body["id"], body["data"]) == (
            "task.created",
            delivery.event_id,
            {"task": {"id": 1}},
        )
        assert body["organization"] == {"id": cast.org.pk, "slug": "east"}

    def test_another_secret_or_a_changed_body_fails_verification(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscribe(cast, receiver.url)
        deliver(publish(cast, at=timezone.now()).pk, worker="w")
        (arrival,) = receiver.arrivals

        assert not verify("whsec_someone-else", arrival.headers, arrival.body)
        assert not verify(
            WebhookSubscription.objects.get().secret, arrival.headers, arrival.body + b" "
        )

    def test_an_old_timestamp_fails_verification(self) -> None:
        stale = str(int(timezone.now().timestamp()) - 3600)
        body = b'{"id":"evt_1"}'
        headers = {
            "X-Lodestar-Timestamp": stale,
            "X-Lodestar-Signature": f"v1={sign('whsec_k', stale, body)}",
        }
        assert not verify("whsec_k", headers, body)

    def test_after_a_rotation_both_secrets_sign_for_a_day(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, old = subscribe(cast, receiver.url)
        new = webhook_rotate_secret(user=cast.admin, subscription=subscription)
        deliver(publish(cast, "task:1:created", at=timezone.now()).pk, worker="w")
        (arrival,) = receiver.arrivals
        assert new != old
        assert verify(new, arrival.headers, arrival.body)
        assert verify(old, arrival.headers, arrival.body)

        WebhookSubscription.objects.update(previous_secret_until=timezone.now())
        deliver(publish(cast, "task:2:created", at=timezone.now()).pk, worker="w")
        assert verify(new, receiver.arrivals[1].headers, receiver.arrivals[1].body)
        assert not verify(old, receiver.arrivals[1].headers, receiver.arrivals[1].body)


class TestRetries:
    def test_it_retries_with_back_off_under_one_delivery_id_and_logs_each_attempt(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        delivery = publish(cast)
        receiver.statuses.extend([503, 500])

        assert deliver(delivery.pk, worker="w", now=clock(T0), rand=lambda: 1.0) == "retry"
        # Before the back-off has passed the row is not due: nothing is sent.
        early = T0 + dt.timedelta(seconds=29)
        assert deliver(delivery.pk, worker="w", now=clock(early)) is Outcome.SKIPPED
        second = T0 + dt.timedelta(seconds=30)
        assert deliver(delivery.pk, worker="w", now=clock(second), rand=lambda: 1.0) == "retry"
        third = second + dt.timedelta(seconds=60)
        assert deliver(delivery.pk, worker="w", now=clock(third)) is Outcome.DELIVERED

        assert [a.headers["X-Lodestar-Delivery"] for a in receiver.arrivals] == [
            delivery.delivery_id
        ] * 3
        assert {a.body for a in receiver.arrivals} == {delivery.body.encode()}
        log = log_of(subscription)
        assert [(a.number, a.status_code, a.outcome) for a in log] == [
            (1, 503, "retry"),
            (2, 500, "retry"),
            (3, 200, "delivered"),
        ]
        assert [a.next_retry_at for a in log] == [second, third, None]
        assert log[0].error == "HTTP 503"
        assert log[0].response_excerpt == "receiver says no"
        assert all(a.duration_ms >= 0 for a in log)

    def test_a_receiver_recognises_a_delivery_sent_again(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscribe(cast, receiver.url)
        delivery = publish(cast, at=timezone.now())
        deliver(delivery.pk, worker="w")
        # Sent again (as after a worker died before recording it): the same id and body.
        Notification.objects.filter(pk=delivery.pk).update(status=NotificationStatus.DEAD)
        notification_retry(notification=delivery.notification, actor=cast.admin)
        deliver(delivery.pk, worker="w")

        first, again = receiver.arrivals
        assert first.headers["X-Lodestar-Delivery"] == again.headers["X-Lodestar-Delivery"]
        assert first.body == again.body
        assert (first.duplicate, again.duplicate) == (False, True)

    def test_a_4xx_fails_for_good_at_once(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        delivery = publish(cast)
        receiver.statuses.append(410)
        assert deliver(delivery.pk, worker="w", now=clock(T0)) is Outcome.DEAD
        (attempt,) = log_of(subscription)
        assert (attempt.status_code, attempt.outcome, attempt.next_retry_at) == (410, "dead", None)

    def test_a_redirect_is_not_followed(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        receiver.statuses.append(302)
        assert deliver(publish(cast).pk, worker="w", now=clock(T0)) is Outcome.DEAD
        assert len(receiver.arrivals) == 1
        assert "redirects are not followed" in log_of(subscription)[0].error

    def test_no_receiver_is_retried_and_logged_without_a_status(
        self, cast: Cast, private_allowed: None
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        subscription, _ = subscribe(cast, f"http://127.0.0.1:{port}/hook")
        assert deliver(publish(cast).pk, worker="w", now=clock(T0)) is Outcome.RETRY
        (attempt,) = log_of(subscription)
        assert attempt.status_code is None
        assert "cannot connect" in attempt.error


class TestSwitchingOff:
    def test_it_switches_off_after_n_failed_deliveries_in_a_row_and_tells_the_managers(
        self, cast: Cast, receiver: Receiver, private_allowed: None, settings: Any
    ) -> None:
        settings.LODESTAR_WEBHOOK_MAX_FAILURES = 3
        subscription, _ = subscribe(cast, receiver.url)
        receiver.statuses.extend([400, 400, 400])
        for n in range(3):
            deliver(publish(cast, f"task:{n}:created").pk, worker="w", now=clock(T0))
            subscription.refresh_from_db()
            assert subscription.enabled is (n < 2)

        assert (subscription.disabled_reason, subscription.consecutive_failures) == (
            DisabledReason.FAILURES,
            3,
        )
        told = Notification.objects.filter(message_key="webhook.disabled", channel="in_app")
        assert {n.recipient for n in told} == {cast.admin, cast.ops}
        assert AuditEntry.objects.filter(action="webhook.auto_disable", actor=None).count() == 1
        # Switched off, it is written no more events.
        assert (
            webhooks_publish(
                organization_id=cast.org.pk,
                event_type="task.created",
                events=[WebhookEvent("task:9:created", {}, T0)],
            )
            == 0
        )

    def test_switched_back_on_it_receives_again_with_its_count_at_zero(
        self, cast: Cast, receiver: Receiver, private_allowed: None, settings: Any
    ) -> None:
        settings.LODESTAR_WEBHOOK_MAX_FAILURES = 1
        subscription, _ = subscribe(cast, receiver.url)
        receiver.statuses.append(400)
        deliver(publish(cast, "task:1:created").pk, worker="w", now=clock(T0))
        subscription.refresh_from_db()
        assert not subscription.enabled

        webhook_set_enabled(user=cast.admin, subscription=subscription, enabled=True)
        subscription.refresh_from_db()
        assert (subscription.enabled, subscription.consecutive_failures) == (True, 0)
        assert deliver(publish(cast, "task:2:created").pk, worker="w") is Outcome.DELIVERED

    def test_a_delivery_that_arrives_starts_the_count_again(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        receiver.statuses.extend([400, 400])
        for n in range(3):
            deliver(publish(cast, f"task:{n}:created").pk, worker="w", now=clock(T0))
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 0

    def test_retries_that_have_not_run_out_do_not_count(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        receiver.statuses.append(503)
        deliver(publish(cast).pk, worker="w", now=clock(T0))
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 0

    def test_a_delivery_waiting_when_it_is_switched_off_is_not_sent(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        delivery = publish(cast)
        webhook_set_enabled(user=cast.ops, subscription=subscription, enabled=False)

        assert deliver(delivery.pk, worker="w", now=clock(T0)) is Outcome.DEAD
        assert receiver.arrivals == []
        assert log_of(subscription)[0].error == "the webhook is switched off"
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 0


class TestSendTest:
    def test_a_test_is_sent_once_even_switched_off_and_counts_for_nothing(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        webhook_set_enabled(user=cast.admin, subscription=subscription, enabled=False)
        receiver.statuses.append(503)
        delivery = webhook_send_test(user=cast.admin, subscription=subscription)

        assert deliver(delivery.pk, worker="w") is Outcome.DEAD
        (arrival,) = receiver.arrivals
        assert arrival.headers["X-Lodestar-Event"] == "webhook.test"
        (attempt,) = log_of(subscription)
        assert attempt.error == "HTTP 503 (a test is sent once)"
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 0

    def test_each_test_is_a_delivery_of_its_own(
        self, cast: Cast, receiver: Receiver, private_allowed: None
    ) -> None:
        subscription, _ = subscribe(cast, receiver.url)
        first = webhook_send_test(user=cast.admin, subscription=subscription)
        second = webhook_send_test(user=cast.ops, subscription=subscription)
        assert first.delivery_id != second.delivery_id


class TestAddresses:
    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://192.168.1.10/hook",
            "https://172.16.0.5/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/hook",
            "https://[::1]/hook",
            "https://[fd00::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
            "https://2130706433/hook",
            "https://127.1/hook",
            "https://0.0.0.0/hook",
        ],
    )
    def test_it_refuses_loopback_private_and_reserved_addresses(self, cast: Cast, url: str) -> None:
        with pytest.raises(ValidationFailed) as refused:
            subscribe(cast, url)
        assert refused.value.details[0].field == "url"
        assert "address" in str(refused.value.details[0].message)

    @pytest.mark.parametrize(
        ("url", "words"),
        [
            ("http://crm.example.com/hook", "https://"),
            ("ftp://crm.example.com/hook", "https://"),
            ("https://user:pw@crm.example.com/hook", "password"),
            ("crm.example.com/hook", "https://"),
            ("https://crm.example.com:99999/hook", "not a URL"),
        ],
    )
    def test_it_refuses_what_is_not_an_https_url(self, url: str, words: str) -> None:
        problem = url_problem(url)
        assert problem is not None
        assert words in problem

    def test_it_takes_a_public_https_url(self, cast: Cast) -> None:
        subscription, secret = subscribe(cast, "https://crm.example.com/lodestar")
        assert subscription.url == "https://crm.example.com/lodestar"
        assert secret.startswith("whsec_")
        assert len(secret) > 40

    def test_the_setting_allows_plain_http_to_a_private_address(
        self, private_allowed: None
    ) -> None:
        assert url_problem("http://127.0.0.1:8080/hook") is None

    def test_a_name_that_resolves_to_a_private_address_is_refused_when_connecting(
        self, cast: Cast, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        port = receiver.url.split(":")[2].split("/")[0]
        subscription, _ = subscribe(cast, f"https://hooks.example.com:{port}/lodestar")
        real = socket.getaddrinfo

        def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
            if host == "hooks.example.com":  # DNS answers with the loopback address
                return real("127.0.0.1", *args, **kwargs)
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        assert deliver(publish(cast).pk, worker="w", now=clock(T0)) is Outcome.DEAD
        assert receiver.arrivals == []
        assert log_of(subscription)[0].error.startswith("refused: 127.0.0.1 is a private")

    def test_a_webhook_saved_while_allowed_is_refused_once_the_setting_is_off(
        self, cast: Cast, receiver: Receiver, settings: Any
    ) -> None:
        settings.LODESTAR_WEBHOOK_ALLOW_PRIVATE = True
        subscription, _ = subscribe(cast, receiver.url)
        delivery = publish(cast)
        settings.LODESTAR_WEBHOOK_ALLOW_PRIVATE = False
        assert deliver(delivery.pk, worker="w", now=clock(T0)) is Outcome.DEAD
        assert receiver.arrivals == []
        assert log_of(subscription)[0].error.startswith("refused: ")
