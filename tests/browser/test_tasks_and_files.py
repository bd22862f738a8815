"""A rep on a 375 px phone adds a task on a deal page, reschedules it, and opens the deal's PDF."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from lodestar.automation.models import Task
from lodestar.org.models import AuditEntry
from tests.browser.conftest import PHONE, log_in, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_rep_on_a_phone_adds_and_reschedules_a_task_and_opens_a_pdf(
    cast: Cast, live_server: Any, open_page: Any, settings: Any, tmp_path: Any
) -> None:
    from tests.factories import AttachmentFactory, OpportunityFactory

    settings.MEDIA_ROOT = str(tmp_path)
    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")
    pdf = AttachmentFactory(
        opportunity=deal,
        content=PDF,
        content_type="application/pdf",
        original_name="报价单.pdf",
        kind="quote",
        extracted_text="",
        text_length=0,
    )
    page = open_page(PHONE)
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.wait_for_load_state("networkidle")

    # Add a task: title, due date and time in the organization's zone; it is the rep's own.
    tomorrow = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    page.locator("details.task-add summary").click()
    add = page.locator("form.task-add-form")
    add.get_by_label("Task").fill("寄送样机")
    add.get_by_label("Due date").fill(tomorrow.isoformat())
    add.get_by_label("Due time").fill("15:30")
    add.get_by_role("button", name="Add task").click()
    add.get_by_text("Added “寄送样机”").wait_for()
    task = Task.objects.get(opportunity=deal, title="寄送样机")
    assert task.assignee == cast.owner
    assert task.due_at == dt.datetime.combine(tomorrow, dt.time(15, 30), tzinfo=SHANGHAI)
    # The task list reloads itself with the new row.
    row = page.locator(f"#task-{task.pk}")
    row.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "tasks-01-added-375")

    # Reschedule it, with the reason; only its row changes.
    later = tomorrow + dt.timedelta(days=2)
    row.locator("summary", has_text="Reschedule").click()
    row.get_by_label("New due date").fill(later.isoformat())
    row.get_by_label("Due time").fill("09:00")
    row.get_by_label("Why?").fill("客户下周才回来")
    row.get_by_role("button", name="Save the new due time").click()
    page.locator(f"#task-{task.pk}").get_by_text("Rescheduled: due").wait_for()
    task.refresh_from_db()
    assert task.due_at == dt.datetime.combine(later, dt.time(9, 0), tzinfo=SHANGHAI)
    entry = AuditEntry.objects.get(action="task.reschedule", object_id=str(task.pk))
    assert entry.data["reason"] == "客户下周才回来"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "tasks-02-rescheduled-375")

    # The PDF: its link opens it in the browser, with the stored type and its own policy.
    files = page.locator("#attachments")
    files.get_by_text("PDF file").wait_for()
    link = files.get_by_role("link", name="Open file 报价单.pdf")
    link.scroll_into_view_if_needed()
    assert link.is_visible()
    assert link.get_attribute("target") == "_blank"
    opened = page.request.get(live_server.url + str(link.get_attribute("href")))
    assert opened.status == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"].startswith("inline; ")
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in opened.headers["content-security-policy"]
    assert opened.body() == PDF
    saved = files.get_by_role("link", name="Download 报价单.pdf")
    assert saved.get_attribute("href") == f"/files/{pdf.pk}/download/"
