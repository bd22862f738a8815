"""A rep who forgot the password sets a new one by e-mail, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.cache import caches

from lodestar.throttling import RATELIMIT_CACHE
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Lantern-harbour-42"


def test_a_rep_who_forgot_the_password_sets_a_new_one_by_e_mail(
    cast: Cast, live_server: Any, open_page: Any
) -> None:
    caches[RATELIMIT_CACHE].clear()
    page = open_page(PHONE)
    page.goto(f"{live_server.url}/login/")
    page.click("text=Forgot password?")
    page.fill("#id_email", cast.owner.email)
    screenshot(page, "password-reset-request")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your e-mail")
    screenshot(page, "password-reset-sent")

    [message] = mail.outbox
    link = re.search(r"https?://\S+/password-reset/\S+/", message.body)
    assert link is not None, message.body
    page.goto(link.group(0))
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    screenshot(page, "password-reset-new-password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Your new password is saved.")

    page.click("main a:text-is('Log in')")
    page.fill("#id_username", cast.owner.username)
    page.fill("#id_password", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login/" not in page.url
    assert page.locator("button:has-text('Log out')").count() == 1
