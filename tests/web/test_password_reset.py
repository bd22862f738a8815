"""Setting a new password by e-mail: the mail, the link, no account enumeration, the limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from lodestar.org.models import AuditEntry
from lodestar.throttling import RATELIMIT_CACHE
from tests.conftest import Cast

NEW_PASSWORD = "Lantern-harbour-42"


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    caches[RATELIMIT_CACHE].clear()
    yield
    caches[RATELIMIT_CACHE].clear()


def ask(client: Client, email: str) -> Any:
    return client.post(reverse("web:password-reset"), {"email": email}, follow=True)


def link_in(message: Any) -> str:
    found = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", message.body)
    assert found is not None, message.body
    return found.group(1)


def set_password(client: Client, link: str, password: str = NEW_PASSWORD) -> Any:
    form = client.get(link, follow=True)  # Django moves the token from the URL to the session
    return client.post(
        form.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


def test_it_links_the_reset_page_from_the_login_page(client: Client, db: None) -> None:
    assert reverse("web:password-reset") in client.get(reverse("web:login")).content.decode()


def test_it_mails_a_link_to_the_account_with_the_address(cast: Cast) -> None:
    ask(Client(HTTP_ACCEPT_LANGUAGE="en"), cast.owner.email)
    [message] = mail.outbox
    assert message.to == [cast.owner.email]
    assert message.subject == "Set a new password for Lodestar"
    assert "Your username is owner." in message.body
    assert link_in(message)


def test_it_writes_the_mail_in_chinese_by_default(cast: Cast) -> None:
    ask(Client(), cast.owner.email)
    [message] = mail.outbox
    assert message.subject == "重设 Lodestar 密码"
    assert "你的用户名是 owner" in message.body


def test_it_answers_an_unknown_address_exactly_as_a_known_one(cast: Cast) -> None:
    known = ask(Client(HTTP_ACCEPT_LANGUAGE="en"), cast.owner.email)
    unknown = ask(Client(HTTP_ACCEPT_LANGUAGE="en"), "nobody@example.com")
    assert len(mail.outbox) == 1
    assert known.redirect_chain == unknown.redirect_chain
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())


def test_it_leaves_the_sending_to_the_worker(cast: Cast) -> None:
    with mock.patch("lodestar.web.password_reset.send_password_reset_mail") as queue:
        ask(Client(), cast.owner.email)
    assert mail.outbox == []
    [(subject, body, _sender, to)] = [call.args for call in queue.call_args_list]
    assert (subject, to) == ("重设 Lodestar 密码", cast.owner.email)
    assert "/password-reset/" in body


def test_it_sends_nothing_to_an_inactive_account(cast: Cast) -> None:
    cast.owner.is_active = False
    cast.owner.save()
    ask(Client(), cast.owner.email)
    assert mail.outbox == []


def test_the_link_sets_a_new_password_that_signs_in(cast: Cast) -> None:
    ask(Client(), cast.owner.email)
    done = set_password(Client(), link_in(mail.outbox[0]))
    assert done.redirect_chain[-1][0] == reverse("web:password-reset-complete")
    client = Client()
    client.post(reverse("web:login"), {"username": "owner", "password": NEW_PASSWORD})
    assert "_auth_user_id" in client.session


def test_the_link_works_only_once(cast: Cast) -> None:
    ask(Client(), cast.owner.email)
    link = link_in(mail.outbox[0])
    set_password(Client(), link)
    again = Client(HTTP_ACCEPT_LANGUAGE="en").get(link, follow=True)
    assert "This link has expired or was already used." in again.content.decode()


@override_settings(PASSWORD_RESET_TIMEOUT=60)
def test_it_says_how_long_the_link_holds(cast: Cast) -> None:
    ask(Client(HTTP_ACCEPT_LANGUAGE="en"), cast.owner.email)
    assert "The link works once, for 1 hour." in mail.outbox[0].body


def test_a_new_password_ends_the_accounts_sign_in_lock(cast: Cast, settings: Any) -> None:
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("web:login"), {"username": "owner", "password": "guess"})
    assert AccessAttempt.objects.filter(username="owner").exists()
    ask(Client(), cast.owner.email)
    set_password(Client(), link_in(mail.outbox[0]))
    response = Client().post(reverse("web:login"), {"username": "owner", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_it_writes_a_reset_to_the_audit_trail(cast: Cast) -> None:
    ask(Client(), cast.owner.email)
    set_password(Client(), link_in(mail.outbox[0]))
    entry = AuditEntry.objects.get(action="user.password_reset")
    assert (entry.organization_id, entry.actor_id) == (cast.org.pk, cast.owner.pk)


@override_settings(PASSWORD_RESET_EMAIL_RATE_PER_HOUR=2)
def test_it_mails_one_address_at_most_the_hourly_limit(cast: Cast) -> None:
    answers = [ask(Client(REMOTE_ADDR=f"10.0.0.{n}"), cast.owner.email) for n in range(3)]
    assert len(mail.outbox) == 2
    assert answers[2].redirect_chain == answers[0].redirect_chain


@override_settings(PASSWORD_RESET_RATE_PER_HOUR=2)
def test_it_refuses_reset_requests_from_one_address_beyond_the_hourly_limit(cast: Cast) -> None:
    client = Client()
    ask(client, "a@example.com")
    ask(client, "b@example.com")
    response = client.post(reverse("web:password-reset"), {"email": cast.owner.email})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert mail.outbox == []
