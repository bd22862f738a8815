"""The pages in a real browser: a rep on a phone, a manager at a desk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lodestar.automation.models import TaskStatus
from lodestar.crm.models import Attachment
from lodestar.insights.models import Alert, AlertStatus
from lodestar.insights.refresh import insights_recompute
from tests.browser.conftest import DESKTOP, PHONE, log_in, screenshot
from tests.conftest import Cast, seed_playbook_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINUTES = ("会议纪要:王总与李厂长参加产品演示,确认预算范围,约定下周开通试用账号。" * 12).encode()


@pytest.fixture
def seeded(cast: Cast) -> Cast:
    """The `published` fixture for a transactional test (it runs outside its `db`)."""
    from lodestar.playbooks.services import playbook_publish_source

    playbook_publish_source(user=cast.ops, source=seed_playbook_source(), source_name="seed.yaml")
    return cast


def test_a_rep_on_a_phone_works_a_deal_through_its_gate(
    seeded: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import ContactFactory, OpportunityFactory, TaskFactory

    cast, now = seeded, timezone.now()
    deal = OpportunityFactory(
        owner=cast.owner,
        name="华东机床-伺服电机",
        stage_key="demo",
        custom_fields={"budget_confirmed": True},
    )
    bosses = [
        ContactFactory(account=deal.account, name="王总", is_decision_maker=True),
        ContactFactory(account=deal.account, name="李厂长", is_decision_maker=True),
    ]
    task = TaskFactory(
        opportunity=deal,
        title="准备行业案例包",
        created_at=now - dt.timedelta(hours=1),
        due_at=now + dt.timedelta(hours=2),
    )
    TaskFactory(
        opportunity=deal,
        title="发送定制化方案",
        created_at=now - dt.timedelta(days=2),
        due_at=now - dt.timedelta(hours=5),
    )

    page = open_page(PHONE)
    log_in(page, live_server.url, "owner")
    assert page.url.endswith("/today/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_text("Overdue by 5").wait_for()
    screenshot(page, "01-rep-today-375")

    # One tap completes the task; only its row changes.
    row = page.locator(f"#task-{task.pk}")
    row.get_by_role("button", name="Done").click()
    row.get_by_role("status").get_by_text("Done").wait_for()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE

    # Minutes from the phone: open the card's upload form, pick the file, upload.
    card = page.locator("article.deal-card", has_text=deal.name)
    card.locator("summary", has_text="Upload file").click()
    form = card.locator("form.upload-form")
    form.get_by_label("What is it?").select_option("meeting_minutes")
    form.locator(f"#upload-file-{deal.pk}").set_input_files(
        {"name": "纪要.txt", "mimeType": "text/plain", "buffer": MINUTES}
    )
    form.get_by_role("button", name="Upload").click()
    card.get_by_text("Uploaded 纪要.txt").wait_for()
    assert Attachment.objects.get(opportunity=deal).text_length >= 300
    # The card's checklist reloads itself: minutes are no longer missing.
    card.get_by_text("1 criterion is still unmet").wait_for()
    screenshot(page, "02-rep-today-after-actions-375")

    # The deal page: advancing is refused with the unmet criteria.
    card.get_by_role("link", name=deal.name).click()
    page.wait_for_load_state("networkidle")
    panel = page.locator("#gate-panel")
    panel.get_by_label("Move to").select_option("tech_confirmed")
    panel.get_by_role("button", name="Advance").click()
    refusal = page.locator("#gate-panel .blocked")
    refusal.wait_for()
    assert "1 exit criterion is unmet" in refusal.inner_text()  # the minutes are uploaded
    assert "decision" in refusal.inner_text().lower()
    screenshot(page, "03-rep-deal-blocked-375")

    # Meet the last criterion: log the meeting with both decision-makers attending.
    page.locator("summary", has_text="Log meeting").click()
    meeting = page.locator(f"form[hx-post$='/deals/{deal.pk}/meeting/']")
    meeting.get_by_label("Topic").fill("产品演示")
    for boss in bosses:
        meeting.get_by_label(boss.name).check()
    meeting.get_by_role("button", name="Log meeting").click()
    page.get_by_text("Meeting logged.").wait_for()
    page.locator("#gate-panel .checklist .unmet").first.wait_for(state="detached")

    panel = page.locator("#gate-panel")
    panel.get_by_label("Move to").select_option("tech_confirmed")
    panel.get_by_role("button", name="Advance").click()
    page.locator("#gate-panel").get_by_text("Moved to").wait_for()
    deal.refresh_from_db()
    assert deal.stage_key == "tech_confirmed"
    screenshot(page, "04-rep-deal-advanced-375")

    page.goto(f"{live_server.url}/board/")
    page.wait_for_load_state("networkidle")
    screenshot(page, "05-rep-board-375")


def test_a_board_card_snaps_back_when_its_gate_refuses(
    seeded: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=seeded.owner, name="宁波注塑-MES", stage_key="demo")
    page = open_page(DESKTOP)
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/board/")
    page.wait_for_load_state("networkidle")
    card = page.locator(f"#card-{deal.pk}")
    card.drag_to(page.locator('ul.cards[data-stage="quote"]'))
    refusal = page.locator(f"#card-{deal.pk} [role=alert]")
    refusal.wait_for()
    page.locator(f'ul.cards[data-stage="demo"] #card-{deal.pk}').wait_for()
    screenshot(page, "06-board-refused-1280")

    # The keyboard way: the card's own "Move to" list. Backwards is always allowed.
    card = page.locator(f"#card-{deal.pk}")
    card.locator("select").select_option("first_contact")
    card.get_by_role("button", name="Move").click()
    page.locator(f'ul.cards[data-stage="first_contact"] #card-{deal.pk}').wait_for()
    deal.refresh_from_db()
    assert deal.stage_key == "first_contact"


def test_a_manager_sees_the_low_health_alert_with_the_stuck_reason_and_acknowledges_it(
    seeded: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import OpportunityFactory, TaskFactory

    cast, now = seeded, timezone.now()
    # The owner's deals sit far past the demo stage's 5-day target, silent, with tasks missed.
    for index in range(3):
        deal = OpportunityFactory(
            owner=cast.owner,
            name=f"停滞商机{index}",
            stage_key="demo",
            stage_entered_at=now - dt.timedelta(days=30),
            created_at=now - dt.timedelta(days=40),
        )
        TaskFactory(
            opportunity=deal,
            title="发送定制化方案",
            created_at=now - dt.timedelta(days=20),
            due_at=now - dt.timedelta(days=19),
        )
    insights_recompute(organization_id=cast.org.pk, now=now)
    alert = Alert.objects.get(kind="health", recipient=cast.manager, subject_user=cast.owner)

    page = open_page(DESKTOP)
    log_in(page, live_server.url, "manager")
    assert page.url.endswith("/dashboard/")
    # The alerts come grouped by rep and kind, collapsed: open the owner's health group.
    page.locator(f"#alerts-{cast.owner.pk}-health summary").click()
    item = page.locator(f"#alert-{alert.pk}")
    item.wait_for()
    assert alert.message_en in item.inner_text()
    stuck = item.locator(".stuck").first
    assert "demo" in stuck.inner_text().lower()
    page.locator("#tiles").wait_for()
    page.locator("#trend canvas").wait_for()
    page.locator("#funnel canvas").wait_for()
    screenshot(page, "07-manager-dashboard-1280")

    item.get_by_role("button", name="Acknowledge").click()
    item.get_by_text("Acknowledged").wait_for()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED

    page.locator("#tiles a.tile").first.click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "08-manager-drilldown-1280")

    phone = open_page(PHONE)
    log_in(phone, live_server.url, "manager")
    phone.locator("#tiles").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "09-manager-dashboard-375")


def test_the_pages_switch_to_chinese(seeded: Cast, live_server: Any, open_page: Any) -> None:
    page = open_page(PHONE, locale="zh-CN")
    log_in(page, live_server.url, "owner")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    screenshot(page, "10-rep-today-zh-375")
    with page.expect_navigation():
        page.locator("#language-select").select_option("en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Today", exact=True).count() == 1


def test_a_rep_reads_the_inbox_and_subscribes_to_the_calendar(
    seeded: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.web.test_inbox import _notify

    cast = seeded
    first = _notify(cast.owner, "商机“华东项目”已静默 7 天", minutes_ago=10)
    _notify(cast.owner, "任务“发送定制化方案”已超时", minutes_ago=2)

    page = open_page(PHONE)
    log_in(page, live_server.url, "owner")
    badge = page.locator("#inbox-badge")
    assert badge.inner_text().startswith("2")
    page.get_by_role("link", name="Inbox").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "11-rep-inbox-375")

    page.locator(f"#notification-{first.pk} button").click()
    page.get_by_text("1 unread notification", exact=True).wait_for()
    assert badge.inner_text().startswith("1")
    page.get_by_role("button", name="Mark all read").click()
    page.get_by_text("0 unread notifications").wait_for()
    assert badge.is_hidden()

    page.get_by_role("button", name="Make my calendar address").click()
    page.get_by_text("it is shown only once").wait_for()
    url = page.locator("#feed-url").input_value()
    assert url.startswith(live_server.url)
    assert url.endswith(".ics")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "12-rep-calendar-feed-375")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Make a new address").click()
    page.locator(f'#feed-url:not([value="{url}"])').wait_for()
