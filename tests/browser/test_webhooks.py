"""An administrator connects the CRM in a real browser, on a phone and on a desktop: subscribes a
URL to events, copies the secret shown this once, sends a test to a receiver listening on a
socket, and sees the delivery in the log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lodestar.integrations.models import WebhookSubscription
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast
from tests.integrations.outbound_receiver import Receiver, verify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    # The receiver is on this machine: allowed for this test (and plain http with it).
    settings.LODESTAR_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver().start()
    yield server
    server.stop()


def _checked(page: Any) -> None:
    """No sideways scrolling on the screen, and no serious or critical axe-core violation."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    assert_accessible(page)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_an_admin_subscribes_sees_the_secret_once_sends_a_test_and_reads_the_log(
    cast: Cast, live_server: Any, open_page: Any, receiver: Receiver, viewport: dict[str, int]
) -> None:
    width = viewport["width"]
    page = open_page(viewport)
    log_in(page, live_server.url, cast.admin.username)

    page.goto(f"{live_server.url}/")
    assert page.locator("nav a[href='/settings/webhooks/']").count() == 1
    page.goto(f"{live_server.url}/settings/webhooks/")
    page.wait_for_selector("h1:text-is('Webhooks')")
    _checked(page)

    # A refused address is explained next to the form, and nothing is made.
    page.fill("#new-webhook-url", "https://10.0.0.7/hook")
    page.check("#new-webhook-event-1")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lodestar.integrations.outbound.allow_private", lambda: False)
        page.click("#webhook-create-form button[type=submit]")
        page.wait_for_selector("text=is a loopback, private or reserved address")
    assert not WebhookSubscription.objects.exists()

    page.fill("#new-webhook-url", receiver.url)
    page.check("#new-webhook-event-1")
    page.check("#new-webhook-event-3")
    page.fill("#new-webhook-description", "CRM 同步")
    page.click("#webhook-create-form button[type=submit]")
    page.wait_for_selector("text=The webhook is subscribed.")

    # The secret is on the page this once; it signs what the receiver gets.
    hook = WebhookSubscription.objects.get()
    assert hook.event_types == ["deal.stage_changed", "task.created"]
    secret = page.input_value("#secret-value")
    assert secret == hook.secret
    _checked(page)
    screenshot(page, f"webhook-created-{width}")
    page.reload()
    assert page.locator("#secret-value").count() == 0
    assert secret not in page.content()

    page.click("button:text-is('Send test')")
    page.wait_for_selector("text=A test delivery is on its way")
    page.wait_for_selector("#webhook-log td:has-text('Test delivery')")
    row = page.locator("#webhook-log tbody tr").first
    assert "200" in row.inner_text()
    assert "Delivered" in row.inner_text()
    (arrival,) = receiver.arrivals
    assert arrival.headers["X-Lodestar-Event"] == "webhook.test"
    assert verify(secret, arrival.headers, arrival.body)
    _checked(page)
    screenshot(page, f"webhook-log-{width}")

    # Switched off by hand, then on again.
    page.click("button:text-is('Switch off')")
    page.wait_for_selector("text=The webhook is switched off.")
    page.click("button:text-is('Switch on')")
    page.wait_for_selector("text=The webhook is switched on.")
    hook.refresh_from_db()
    assert hook.enabled
