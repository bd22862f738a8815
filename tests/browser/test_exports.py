"""The Export menu in a real browser: opened with the keyboard or the mouse, it downloads the list
on screen, with the page's filters, as a file a spreadsheet opens."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in
from tests.conftest import Cast, seed_playbook_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(cast: Cast) -> Cast:
    """The `published` fixture for a transactional test (it runs outside its `db`)."""
    from lodestar.playbooks.services import playbook_publish_source

    playbook_publish_source(user=cast.ops, source=seed_playbook_source(), source_name="seed.yaml")
    return cast


def test_a_manager_exports_the_filtered_board_as_csv_with_the_keyboard(
    seeded: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import AccountFactory, OpportunityFactory

    cast = seeded
    east = AccountFactory(organization=cast.org, name="华东机床")
    OpportunityFactory(owner=cast.owner, account=east, name="机床改造", stage_key="demo")
    OpportunityFactory(owner=cast.teammate, name="仓储系统")
    page = open_page(DESKTOP)
    log_in(page, live_server.url, cast.manager.username)
    page.goto(f"{live_server.url}/board/")
    page.fill("#id_q", "华东")
    page.click("#board-filters button[type=submit]")
    page.wait_for_load_state("networkidle")

    summary = page.locator("main .export-menu summary")
    summary.focus()
    page.keyboard.press("Enter")  # a <details> opens from the keyboard
    csv_link = page.get_by_role("link", name="CSV (opens in Excel)")
    assert csv_link.is_visible()
    assert_accessible(page)
    csv_link.focus()
    with page.expect_download() as started:
        page.keyboard.press("Enter")
    download = started.value

    assert download.suggested_filename.startswith("Deals-")
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["Name", "Account", "Owner"]
    assert [row[0] for row in rows[1:]] == ["机床改造"]


def test_an_admin_on_a_phone_downloads_the_members_as_an_excel_workbook_in_chinese(
    cast: Cast, live_server: Any, open_page: Any
) -> None:
    page = open_page(PHONE, locale="zh-CN")
    log_in(page, live_server.url, cast.admin.username)
    page.goto(f"{live_server.url}/team/?role=manager")
    page.click("main .export-menu summary")
    with page.expect_download() as started:
        page.click("main .export-menu a[href*='format=xlsx']")
    download = started.value

    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("显示名称", "用户名")
    assert [row[1] for row in rows[1:]] == ["manager"]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
