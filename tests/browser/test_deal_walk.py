"""A rep's whole deal on a 375 px phone, industrial template, starting from nothing.

The rep adds the deal with its account and contact (quick add), then walks it from 初步接触 to
成交 from the deal page alone: each unmet exit criterion carries the control that satisfies it
(a field, the signer's title, a PDF or JPG of the right kind, the customer's "已确认" with a
screenshot, the contract events), and the tasks the triggers open are completed on the way.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import Attachment, Contact, Opportunity, OpportunityStatus
from lodestar.events.models import Event
from lodestar.industry_templates import load_template
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAGES = load_template("industrial_equipment")

MINUTES = (
    "会议纪要:王总确认设备清单与交期要求,约定下周现场勘察,技术部准备伺服选型方案。" * 10
).encode()


def pdf_bytes() -> bytes:
    """A real one-page PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_bytes() -> bytes:
    """A real 8×8 grey baseline JPEG (one block: DC difference 0, end of block)."""
    quant = b"\xff\xdb\x00\x43\x00" + bytes([1] * 64)
    frame = b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    one_code = bytes([1] + [0] * 15) + b"\x00"
    huffman = b"\xff\xc4\x00\x14\x00" + one_code + b"\xff\xc4\x00\x14\x10" + one_code
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x3f"
    return b"\xff\xd8" + quant + frame + huffman + scan + b"\xff\xd9"


@pytest.fixture
def industrial(cast: Cast) -> Cast:
    """The organization follows the industrial template, published by its ops user."""
    from lodestar.industry_templates import template_source
    from lodestar.playbooks.services import playbook_publish_source

    playbook_publish_source(
        user=cast.ops,
        source=template_source("industrial_equipment"),
        source_name="industrial_equipment.yaml",
    )
    return cast


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def fits(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


class Walk:
    """The deal page, driven through the controls under its unmet criteria."""

    def __init__(self, page: Any, deal: Opportunity) -> None:
        self.page, self.deal = page, deal

    def control(self, criterion: str, index: int = 0) -> Any:
        control = self.page.locator(f"#ctl-{criterion}-{index}")
        try:
            control.wait_for()
        except Exception as exc:
            raise AssertionError(self.page.locator("#gate-panel").inner_html()) from exc
        return control

    def done(self, criterion: str, index: int = 0) -> None:
        """The gate panel reloads itself; the criterion is met, so its control is gone."""
        control = self.page.locator(f"#ctl-{criterion}-{index}")
        try:
            control.wait_for(state="detached")
        except Exception as exc:  # say what the page said instead
            raise AssertionError(control.inner_text()) from exc
        self.page.locator(f"#gate-panel li.met[data-criterion='{criterion}']").wait_for()

    def set_field(self, criterion: str, key: str, value: str | None, index: int = 0) -> None:
        control = self.control(criterion, index)
        field = control.locator(f"[name='cf_{key}']")
        if value is not None:
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        control.locator("button[type=submit]").click()
        self.done(criterion, index)

    def upload(self, criterion: str, name: str, mime: str, data: bytes) -> None:
        control = self.control(criterion)
        control.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": mime, "buffer": data}
        )
        control.locator("button[type=submit]").click()
        self.done(criterion)

    def record(self, criterion: str, text: str, index: int = 0) -> None:
        control = self.control(criterion, index)
        control.locator("textarea[name=text]").fill(text)
        control.locator("button[type=submit]").click()
        self.done(criterion, index)

    def settled(self) -> None:
        """The page's requests are answered: the test may read what they stored (SQLite's
        shared in-memory database refuses a read while the server writes)."""
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(300)
        self.page.wait_for_load_state("networkidle")

    def advance(self, stage: str) -> None:
        panel = self.page.locator("#gate-panel")
        assert not panel.locator("li.unmet").count(), panel.inner_text()
        panel.locator("select[name=to_stage]").select_option(stage)
        panel.locator("form.advance-form button[type=submit]").click()
        name = STAGES.stage(stage).name.zh
        self.page.locator("#gate-panel .stage-path li.current", has_text=name).wait_for()
        self.settled()
        self.deal.refresh_from_db()
        assert self.deal.stage_key == stage
        fits(self.page)

    def complete_task(self, trigger: str) -> None:
        self.settled()
        task = Task.objects.get(opportunity=self.deal, trigger_key=trigger)
        self.page.reload()
        self.page.locator(f"#task-{task.pk} form.task-action button[type=submit]").click()
        self.page.locator(f"#task-{task.pk}.done").wait_for()
        self.settled()
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE


def test_a_rep_on_a_phone_walks_a_new_deal_from_first_contact_to_won(
    industrial: Cast, live_server: Any, open_page: Any
) -> None:
    cast = industrial
    page = open_page(PHONE, locale="zh-CN")
    log_in(page, live_server.url, cast.owner.username)

    # From nothing: the account, the contact and the deal in one quick add.
    page.goto(f"{live_server.url}/deals/new/")
    page.wait_for_load_state("networkidle")
    page.fill("#id_account_name", "绍兴华纺机械有限公司")
    page.wait_for_selector("#account-suggest >> text=将与商机一起创建")
    page.fill("#id_contact_name", "王建国")
    page.fill("#id_contact_title", "设备部经理")
    page.fill("#id_contact_phone", "13800138000")
    page.fill("#id_name", "伺服改造一期")
    page.fill("#id_amount", "480000")
    page.fill("#id_expected_close_date", "2027-03-31")
    page.click("form.record-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    deal = Opportunity.objects.get(name="伺服改造一期")
    assert page.url.endswith(f"/deals/{deal.pk}/")
    assert deal.stage_key == "lead"
    assert Contact.objects.get(account=deal.account).name == "王建国"
    fits(page)
    walk = Walk(page, deal)

    # 初步接触: the contact is on file; the customer replied — a meeting, recorded here.
    assert_accessible(page)
    screenshot(page, "walk-01-lead-375")
    walk.record("customer_replied", "首次拜访,介绍伺服改造方案", index=1)
    walk.settled()
    assert Event.objects.get(opportunity=deal).type == "meeting.held"
    # The meeting opened "upload the minutes"; uploading them on this page closes it.
    minutes_task = Task.objects.get(opportunity=deal, status=TaskStatus.OPEN)
    upload = page.locator(".deal-actions form.upload-form")
    page.locator(".deal-actions details", has=page.locator("form.upload-form")).locator(
        "summary"
    ).click()
    upload.locator("select[name=kind]").select_option("meeting_minutes")
    upload.locator(f"#upload-file-{deal.pk}").set_input_files(
        {"name": "纪要.txt", "mimeType": "text/plain", "buffer": MINUTES}
    )
    upload.locator("button[type=submit]").click()
    upload.locator(".outcome.ok").wait_for()
    walk.settled()
    minutes_task.refresh_from_db()
    assert minutes_task.status == TaskStatus.DONE
    walk.advance("site_survey")

    # 现场勘察: the survey report (PDF) and the equipment list confirmed (yes is preselected).
    walk.upload("survey_report", "勘察报告.pdf", "application/pdf", pdf_bytes())
    walk.set_field("equipment_list", "equipment_list_confirmed", None)
    walk.advance("technical_solution")

    # 技术方案确认: the signed agreement as a JPG, the signer's title from the 8 roles, and
    # the customer's "已确认" with who said it, when, and a screenshot of the chat.
    screenshot(page, "walk-02-technical-solution-375")
    control = walk.control("tech_agreement")
    assert "PDF" in control.inner_text()
    assert "JPG" in control.inner_text()
    walk.upload("tech_agreement", "技术协议-签字.jpg", "image/jpeg", jpeg_bytes())
    walk.set_field("signer_title", "tech_signer_title", "purchasing_director")
    confirm = walk.control("customer_confirmed")
    confirm.locator("select[name=contact]").select_option(label="王建国")
    confirm.locator("input[name=screenshot]").set_input_files(
        {"name": "微信截图.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}
    )
    assert_accessible(page)
    screenshot(page, "walk-03-customer-confirmation-375")
    walk.record("customer_confirmed", "技术方案没有问题,已确认。")
    walk.settled()
    said = Event.objects.get(opportunity=deal, type="chat.message")
    assert said.payload["from_customer"] is True
    assert said.payload["sender"] == "王建国"
    assert Attachment.objects.filter(opportunity=deal, kind="chat_screenshot").exists()
    walk.advance("quote")

    # 报价: the signed quote (PDF), the expected signing period, the decision-chain role.
    walk.upload("signed_quote", "报价单-盖章.pdf", "application/pdf", pdf_bytes())
    walk.set_field("signing_period", "signing_period", "within_1m")
    walk.set_field("decision_chain_role", "decision_chain_role", "general_manager")
    walk.advance("negotiation")

    # 商务谈判: the delivery date; the discount rule (CEL) is explained, its fields offered.
    walk.set_field("delivery_agreed", "delivery_date", "2027-04-30")
    rule = walk.control("discount_ok")
    assert rule.locator(".needs").inner_text()
    assert_accessible(page)
    screenshot(page, "walk-04-negotiation-375")
    rule.locator("[name='cf_discount_pct']").fill("8")
    rule.locator("form", has=page.locator("[name='cf_discount_pct']")).locator(
        "button[type=submit]"
    ).click()
    walk.done("discount_ok")
    walk.advance("contract")

    # 合同签订: the legal review, the seal and the ERP order, each recorded here.
    walk.record("legal_done", "法务审核通过")
    walk.record("sealed", "OA-2027-0042")
    walk.record("erp_order", "SO-2027-0815")
    # The ERP order opened "confirm the delivery date and arrange shipping": done here too.
    walk.complete_task("arrange_delivery")
    walk.advance("won")

    deal.refresh_from_db()
    assert deal.status == OpportunityStatus.WON
    assert not Task.objects.filter(opportunity=deal, status=TaskStatus.OPEN).exists()
    screenshot(page, "walk-05-won-375")


def test_the_deal_form_and_the_controls_fit_a_desk_and_explain_a_refusal(
    industrial: Cast, live_server: Any, open_page: Any
) -> None:
    from tests.factories import ContactFactory, OpportunityFactory

    cast = industrial
    deal = OpportunityFactory(
        owner=cast.owner, name="宁波注塑-机械手", stage_key="technical_solution"
    )
    ContactFactory(account=deal.account, name="陈工")
    page = open_page(DESKTOP)
    log_in(page, live_server.url, cast.owner.username)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.wait_for_load_state("networkidle")

    # A PNG where the criterion takes PDF or JPG: refused beside the control, nothing stored.
    walk = Walk(page, deal)
    control = walk.control("tech_agreement")
    control.locator("input[type=file]").set_input_files(
        {"name": "协议.png", "mimeType": "image/png", "buffer": PNG}
    )
    control.locator("button[type=submit]").click()
    walk.control("tech_agreement").locator(".outcome.error").wait_for()
    assert "PNG" in walk.control("tech_agreement").inner_text()

    # The whole deal in one form: an amount too large to store is explained beside it, and
    # the other fields of the form are not saved either.
    card = page.locator("#deal-fields")
    card.locator("summary").click()
    card.locator("#edit-amount").fill("123456789012345678")
    card.locator("#edit-cf_signing_period").select_option("within_3m")
    card.locator("form button[type=submit]").click()
    page.locator("#edit-amount-error").wait_for()
    walk.settled()
    deal.refresh_from_db()
    assert deal.custom_fields == {}
    assert_accessible(page)
    screenshot(page, "walk-06-deal-form-error-1280")
    card = page.locator("#deal-fields")
    card.locator("#edit-amount").fill("125000")
    card.locator("form button[type=submit]").click()
    page.locator("#deal-fields .outcome.ok").wait_for()
    walk.settled()
    deal.refresh_from_db()
    assert str(deal.amount) == "125000.00"
    assert deal.custom_fields["signing_period"] == "within_3m"
    # The page's head shows the new amount too.
    page.locator("#deal-head", has_text="125,000").wait_for()
