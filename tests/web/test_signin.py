"""Failed sign-ins lock the account and the address; posts beyond a rate are refused unhashed."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from lodestar.org.models import AuditEntry
from lodestar.throttling import RATELIMIT_CACHE, client_ip, password_check_slot
from tests.conftest import Cast

RIGHT = "pw-for-tests"
LIMIT = 5  # LOGIN_FAILURE_LIMIT's default, which the tests run with


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    caches[RATELIMIT_CACHE].clear()
    yield
    caches[RATELIMIT_CACHE].clear()


def sign_in(client: Client, username: str, password: str, *, admin: bool = False) -> Any:
    url = "/admin/login/" if admin else reverse("web:login")
    return client.post(url, {"username": username, "password": password})


def fail(client: Client, username: str, times: int, *, admin: bool = False) -> Any:
    response = None
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", admin=admin)
    return response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_it_still_signs_in_after_fewer_failures_than_the_limit(cast: Cast) -> None:
    client = Client()
    assert fail(client, "owner", LIMIT - 1).status_code == 200
    assert sign_in(client, "owner", RIGHT).status_code == 302
    assert signed_in(client)


def test_it_locks_an_account_at_the_failure_limit(cast: Cast) -> None:
    response = fail(Client(), "owner", LIMIT)
    assert response.status_code == 429
    assert "web/locked_out.html" in [t.name for t in response.templates]


def test_it_refuses_the_right_password_while_the_account_is_locked(cast: Cast) -> None:
    fail(Client(), "owner", LIMIT)
    client = Client(REMOTE_ADDR="10.1.1.1")  # another address: the account itself is locked
    assert sign_in(client, "owner", RIGHT).status_code == 429
    assert not signed_in(client)


def test_it_keeps_other_accounts_signing_in_while_one_is_locked(cast: Cast) -> None:
    client = Client()
    fail(client, "owner", LIMIT)
    assert sign_in(client, "teammate", RIGHT).status_code == 302


@override_settings(LOGIN_ADDRESS_FAILURE_LIMIT=4)
def test_it_locks_an_address_after_failures_across_accounts(cast: Cast) -> None:
    client = Client(REMOTE_ADDR="10.2.2.2")
    for username in ("owner", "teammate", "manager", "nobody"):
        sign_in(client, username, "wrong-password")
    assert sign_in(client, "ops", RIGHT).status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.3.3.3"), "ops", RIGHT).status_code == 302


def test_it_hashes_no_password_while_locked(cast: Cast) -> None:
    client = Client()
    fail(client, "owner", LIMIT)
    with mock.patch.object(ModelBackend, "authenticate", autospec=True) as model_backend:
        assert sign_in(client, "owner", RIGHT).status_code == 429
    model_backend.assert_not_called()


def test_it_ends_the_lock_by_itself_after_the_cool_off(cast: Cast, settings: Any) -> None:
    client = Client()
    fail(client, "owner", LIMIT)
    past = settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - past)
    assert sign_in(client, "owner", RIGHT).status_code == 302


def test_it_does_not_extend_the_lock_with_attempts_made_while_locked(cast: Cast) -> None:
    client = Client()
    fail(client, "owner", LIMIT)
    locked_at = AccessAttempt.objects.get().attempt_time
    fail(client, "owner", 3)
    assert AccessAttempt.objects.get().attempt_time == locked_at


def test_it_forgets_an_accounts_failures_when_it_signs_in(cast: Cast) -> None:
    client = Client()
    fail(client, "owner", LIMIT - 1)
    sign_in(client, "owner", RIGHT)
    client.logout()
    assert fail(client, "owner", LIMIT - 1).status_code == 200


def test_it_keeps_a_guessed_accounts_failures_when_another_account_signs_in(cast: Cast) -> None:
    client = Client()
    fail(client, "owner", LIMIT - 1)
    sign_in(client, "teammate", RIGHT)
    client.logout()
    assert fail(client, "owner", 1).status_code == 429


def test_it_says_when_to_try_again(cast: Cast, settings: Any) -> None:
    response = fail(Client(HTTP_ACCEPT_LANGUAGE="en"), "owner", LIMIT)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert abs(int(response["Retry-After"]) - minutes * 60) <= 2
    assert f"You can try again in {minutes} minutes, at" in response.content.decode()


def test_it_says_when_to_try_again_in_chinese(cast: Cast) -> None:
    response = fail(Client(HTTP_ACCEPT_LANGUAGE="zh-hans"), "owner", LIMIT)
    assert "登录已暂停" in response.content.decode()


def test_it_writes_a_lockout_to_the_accounts_audit_trail_once(cast: Cast) -> None:
    client = Client(REMOTE_ADDR="10.4.4.4")
    fail(client, "owner", LIMIT + 3)
    entry = AuditEntry.objects.get(action="user.sign_in_locked")
    assert entry.organization_id == cast.org.pk
    assert entry.object_id == str(cast.owner.pk)
    assert entry.data["ip_address"] == "10.4.4.4"


def test_it_logs_a_lockout(cast: Cast, caplog: pytest.LogCaptureFixture) -> None:
    fail(Client(), "nobody-here", LIMIT)
    assert any("Sign-in locked" in record.getMessage() for record in caplog.records)
    assert not AuditEntry.objects.filter(action="user.sign_in_locked").exists()


def test_it_locks_the_admin_login_too(cast: Cast) -> None:
    client = Client()
    assert fail(client, "admin", LIMIT, admin=True).status_code == 429
    assert sign_in(client, "admin", RIGHT, admin=True).status_code == 429


def test_it_counts_admin_and_page_failures_together(cast: Cast) -> None:
    client = Client()
    fail(client, "admin", LIMIT - 1, admin=True)
    assert fail(client, "admin", 1).status_code == 429


@override_settings(LOGIN_RATE_PER_MINUTE=3)
def test_it_refuses_sign_in_posts_beyond_the_rate_before_hashing(cast: Cast) -> None:
    client = Client()
    for username in ("a", "b", "c"):
        assert sign_in(client, username, "x").status_code == 200
    with mock.patch.object(ModelBackend, "authenticate", autospec=True) as model_backend:
        response = sign_in(client, "owner", RIGHT)
    assert response.status_code == 429
    assert "web/throttled.html" in [t.name for t in response.templates]
    assert 0 < int(response["Retry-After"]) <= 60
    model_backend.assert_not_called()


@override_settings(LOGIN_RATE_PER_MINUTE=3)
def test_it_counts_the_sign_in_rate_per_address(cast: Cast) -> None:
    fail(Client(REMOTE_ADDR="10.5.5.5"), "nobody", 4)
    assert sign_in(Client(REMOTE_ADDR="10.6.6.6"), "owner", RIGHT).status_code == 302


@override_settings(LOGIN_RATE_PER_MINUTE=3)
def test_it_counts_admin_and_page_sign_in_posts_together(cast: Cast) -> None:
    client = Client()
    fail(client, "nobody", 2, admin=True)
    fail(client, "nobody", 1)
    assert sign_in(client, "admin", RIGHT, admin=True).status_code == 429
    assert sign_in(client, "owner", RIGHT).status_code == 429


def test_it_refuses_a_sign_in_while_every_password_check_is_taken(
    cast: Cast, tmp_path: Any
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with override_settings(VAR_DIR=tmp_path, LOGIN_CONCURRENT_CHECKS=1, LOGIN_CHECK_WAIT_SECONDS=0):
        with password_check_slot():
            response = sign_in(client, "owner", RIGHT)
        assert response.status_code == 429
        assert "Many sign-ins are being checked right now." in response.content.decode()
        assert sign_in(client, "owner", RIGHT).status_code == 302


def test_it_lets_a_sign_in_wait_for_a_password_check_that_frees_up(
    cast: Cast, tmp_path: Any
) -> None:
    slot_taken = threading.Event()

    def colleague_signing_in() -> None:
        with password_check_slot():
            slot_taken.set()
            time.sleep(0.3)

    with override_settings(
        VAR_DIR=tmp_path, LOGIN_CONCURRENT_CHECKS=1, LOGIN_CHECK_WAIT_SECONDS=30
    ):
        colleague = threading.Thread(target=colleague_signing_in)
        colleague.start()
        slot_taken.wait()
        response = sign_in(Client(), "owner", RIGHT)
        colleague.join()
    assert response.status_code == 302


def test_it_counts_no_failure_for_a_sign_in_refused_as_busy(cast: Cast, tmp_path: Any) -> None:
    with (
        override_settings(VAR_DIR=tmp_path, LOGIN_CONCURRENT_CHECKS=1, LOGIN_CHECK_WAIT_SECONDS=0),
        password_check_slot(),
    ):
        sign_in(Client(), "owner", "wrong-password")
    assert not AccessAttempt.objects.exists()


@override_settings(LOGIN_RATE_PER_MINUTE=3)
def test_it_does_not_limit_showing_the_login_page(cast: Cast) -> None:
    client = Client()
    for _ in range(5):
        assert client.get(reverse("web:login")).status_code == 200


def test_it_takes_the_peer_address_without_trusted_proxies() -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.8"
    )
    assert client_ip(request) == "10.0.0.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_it_takes_what_the_trusted_proxy_saw() -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )
    assert client_ip(request) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_it_takes_the_peer_when_the_proxy_sent_no_forwarded_header() -> None:
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.9")) == "10.0.0.9"


@override_settings(LOGIN_RATE_PER_MINUTE=1)
def test_it_logs_only_the_first_refusal_of_a_window(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    fail(Client(), "nobody", 5)
    reached = [r for r in caplog.records if "Rate limit reached" in r.getMessage()]
    assert len(reached) == 1
