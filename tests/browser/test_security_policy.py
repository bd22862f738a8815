"""The admin site and the API docs work under the Content-Security-Policy (the `open_page`
fixture fails a test on any policy violation or console error)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.utils import timezone

from lodestar.ops.health import HEARTBEAT_KEY, worker_heartbeat_record
from tests.browser.conftest import DESKTOP, PASSWORD, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_site_works_under_the_policy(
    cast: Cast, live_server: Any, open_page: Any
) -> None:
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.save()
    page = open_page(DESKTOP)
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#site-name").wait_for()
    page.goto(f"{live_server.url}/admin/org/user/")
    page.wait_for_load_state("networkidle")
    # The change list's scripts ran: "select all" ticks every row's box.
    page.locator("#action-toggle").check()
    boxes = page.locator("input.action-select")
    assert boxes.count() >= 2
    assert all(boxes.nth(index).is_checked() for index in range(boxes.count()))
    screenshot(page, "20-admin-users-1280")


@pytest.fixture
def worker_alive() -> Iterator[None]:
    worker_heartbeat_record(now=timezone.now())
    yield
    caches["shared"].delete(HEARTBEAT_KEY)


def test_the_api_docs_render_and_call_the_api_under_the_policy(
    db: None, worker_alive: None, live_server: Any, open_page: Any
) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{live_server.url}/api/v1/docs")
    page.locator(".swagger-ui .info .title", has_text="Lodestar API").wait_for()
    health = page.locator(".opblock", has_text="/api/v1/health")
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table tbody .response-col_status")
    status.wait_for()
    assert status.inner_text() == "200"
    assert '"status": "ok"' in health.locator(".live-responses-table tbody").inner_text()
    screenshot(page, "21-api-docs-1280")
