"""Quick add, the duplicate warning and the header search in a real browser, on a phone."""

from __future__ import annotations

from typing import Any

import pytest

from lodestar.crm.models import Account, Contact, Opportunity
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast, seed_playbook_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(cast: Cast) -> Cast:
    """The `published` fixture for a transactional test (it runs outside its `db`)."""
    from lodestar.playbooks.services import playbook_publish_source

    playbook_publish_source(user=cast.ops, source=seed_playbook_source(), source_name="seed.yaml")
    return cast


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def test_a_rep_on_a_phone_adds_a_deal_is_warned_of_a_duplicate_and_finds_it_by_pinyin(
    seeded: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import DecisionRoleFactory

    cast = seeded
    DecisionRoleFactory(organization=cast.org, key="purchasing", name_zh="采购总监")
    page = open_page(PHONE, locale="zh-CN")
    log_in(page, live_server.url, cast.owner.username)

    # From Today, the new-deal link; the account does not exist yet.
    page.goto(f"{live_server.url}/today/")
    page.locator("main a[href='/deals/new/']").first.click()
    page.wait_for_load_state("networkidle")
    _no_sideways_scroll(page)
    page.fill("#id_account_name", "华东机械有限公司")
    page.wait_for_selector("#account-suggest >> text=将与商机一起创建")
    page.fill("#id_contact_name", "王建国")
    page.fill("#id_contact_title", "采购总监")
    page.fill("#id_contact_phone", "138-0013-8000")
    page.select_option("#id_contact_role", label="采购总监")
    page.fill("#id_name", "二期产线改造")
    page.fill("#id_amount", "350000")
    page.fill("#id_expected_close_date", "2027-03-31")
    assert page.input_value("#id_stage") == "first_contact"
    assert_accessible(page)
    screenshot(page, "records-quick-add-phone")
    page.click("button:has-text('创建商机')")
    page.wait_for_load_state("networkidle")

    deal = Opportunity.objects.get(name="二期产线改造")
    assert page.url.endswith(f"/deals/{deal.pk}/")
    assert deal.account.name == "华东机械有限公司"
    contact = Contact.objects.get(account=deal.account)
    # The deal page shows the contact's number as a tap-to-call link.
    assert page.locator("a[href='tel:13800138000']").first.is_visible()
    assert contact.name == "王建国"

    # A second deal: typing the customer as pinyin initials warns of the duplicate.
    page.goto(f"{live_server.url}/deals/new/")
    page.fill("#id_account_name", "hdjx")
    warning = page.locator(".duplicate-warning")
    warning.wait_for()
    assert "可能重复" in warning.inner_text()
    assert "华东机械有限公司" in warning.inner_text()
    assert_accessible(page)
    screenshot(page, "records-duplicate-warning-phone")
    warning.locator("a", has_text="使用这个客户").click()
    page.wait_for_load_state("networkidle")
    assert "华东机械有限公司" in page.locator(".chosen-account").inner_text()
    page.check("text=王建国 · 采购总监")
    page.fill("#id_name", "备件年度框架")
    page.click("button:has-text('创建商机')")
    page.wait_for_load_state("networkidle")
    assert Account.objects.count() == 1
    assert Opportunity.objects.filter(account=deal.account).count() == 2

    # The header search finds it by pinyin initials.
    page.fill("#header-q", "hdjx")
    page.press("#header-q", "Enter")
    page.wait_for_load_state("networkidle")
    results = page.locator(".results")
    assert "华东机械有限公司" in results.inner_text()
    assert "二期产线改造" in results.inner_text()
    _no_sideways_scroll(page)
    assert_accessible(page)
    screenshot(page, "records-search-phone")
    page.locator(".results a", has_text="华东机械有限公司").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("a[href='tel:13800138000']").first.is_visible()
    _no_sideways_scroll(page)
    assert_accessible(page)
    screenshot(page, "records-account-phone")


def test_the_account_pages_fit_a_desk(seeded: Cast, live_server: Any, open_page: Any) -> None:
    from tests.factories import AccountFactory, ContactFactory, OpportunityFactory

    cast = seeded
    account = AccountFactory(organization=cast.org, name="苏州精工模具有限公司", owner=cast.owner)
    ContactFactory(account=account, name="陈经理", phone="0512-6666 8888 转 12")
    OpportunityFactory(owner=cast.owner, account=account, name="模具检测线")
    page = open_page(DESKTOP)
    log_in(page, live_server.url, cast.owner.username)
    for path in ("/accounts/", f"/accounts/{account.pk}/", f"/accounts/{account.pk}/edit/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        _no_sideways_scroll(page)
        assert_accessible(page)
    assert page.locator("#id_name").input_value() == "苏州精工模具有限公司"
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    assert page.locator("a[href='tel:051266668888;ext=12']").is_visible()
    screenshot(page, "records-account-desktop")
