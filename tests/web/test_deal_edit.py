"""The deal page's edits: every deal field, and the control under each unmet exit criterion.

The deals follow the industrial template (技术方案确认 needs a signed agreement as PDF/JPG, the
signer's title and the customer's "已确认" in chat)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.crm.models import Attachment, Contact
from lodestar.events.models import Event
from lodestar.gates.services import opportunity_gate
from lodestar.org.models import AuditEntry
from tests.conftest import Cast
from tests.web.conftest import htmx

ClientAs = Callable[[Any], Client]


def pdf_bytes() -> bytes:
    """A real one-page PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_bytes() -> bytes:
    """A real 8×8 grey baseline JPEG: one DC table and one AC table of a single 1-bit code
    each, so the one block is coded as "DC difference 0, end of block" (bits 00)."""
    quant = b"\xff\xdb\x00\x43\x00" + bytes([1] * 64)
    frame = b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    one_code = bytes([1] + [0] * 15) + b"\x00"
    huffman = b"\xff\xc4\x00\x14\x00" + one_code + b"\xff\xc4\x00\x14\x10" + one_code
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x3f"
    return b"\xff\xd8" + quant + frame + huffman + scan + b"\xff\xd9"


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def industrial(cast: Cast) -> Any:
    from lodestar.industry_templates import template_source
    from lodestar.playbooks.services import playbook_publish_source

    return playbook_publish_source(
        user=cast.ops,
        source=template_source("industrial_equipment"),
        source_name="industrial_equipment.yaml",
    )


@pytest.fixture
def deal_in(cast: Cast, industrial: Any) -> Callable[..., Any]:
    """`deal_in(stage, **fields)`: the owner's deal in `stage` with one contact, 王总."""
    from tests.factories import ContactFactory, OpportunityFactory

    def make(stage: str, **custom: Any) -> Any:
        deal = OpportunityFactory(
            owner=cast.owner, name="绍兴纺机-伺服改造", stage_key=stage, custom_fields=custom
        )
        ContactFactory(account=deal.account, name="王总")
        return deal

    return make


def unmet(deal: Any) -> list[str]:
    return [r.id for r in opportunity_gate(opportunity=deal, now=timezone.now()).unmet]


def fired(response: Any) -> set[str]:
    return set(json.loads(response.headers.get("HX-Trigger", "{}")))


PostControl = Callable[..., Any]


@pytest.fixture
def post_control(cast: Cast, client_as: ClientAs) -> PostControl:
    """`post_control(view, deal, data)`: POST `data` as htmx does to the deal page's control
    `web:<view>` of `deal`, signed in as the deal's owner; `user=` posts as someone else and
    `client=` through a client of the test's own (e.g. one asking for Chinese)."""

    def post(
        view: str,
        deal: Any,
        data: dict[str, Any] | None = None,
        *,
        user: Any = None,
        client: Client | None = None,
    ) -> Any:
        client = client or client_as(user or cast.owner)
        return htmx(client, reverse(f"web:{view}", args=[deal.pk]), data)

    return post


def deal_page(client: Client, deal: Any) -> str:
    return client.get(reverse("web:deal", args=[deal.pk])).content.decode()


def upload(criterion: str, name: str = "", content: bytes = b"", kind: str = "") -> dict[str, Any]:
    """The upload control's form for `criterion`'s first rule, with a file `name` if given."""
    data: dict[str, Any] = {"criterion": criterion, "index": "0"}
    if name:
        data["file"] = SimpleUploadedFile(name, content, kind)
    return data


# --- the page ----------------------------------------------------------------------------------


def test_it_shows_every_field_and_a_control_under_each_unmet_criterion(
    cast: Cast, client_as: ClientAs, deal_in: Callable[..., Any]
) -> None:
    deal = deal_in("technical_solution", signing_period="within_1m")
    page = deal_page(client_as(cast.owner), deal)

    # The card lists the deal's own fields and the playbook's, with the stored choice's name.
    for label in ("Deal name", "Amount", "Expected close date", "Agreed delivery date"):
        assert label in page
    assert "Within 1 month" in page
    assert f'hx-post="{reverse("web:deal-edit", args=[deal.pk])}"' in page
    # The signed agreement: an upload of that kind taking PDF or JPG only.
    assert "Upload: Signed technical agreement" in page
    assert "File type: PDF or JPG" in page
    assert 'accept="application/pdf,.pdf,image/jpeg,.jpg"' in page
    # The signer's title: the 8 roles of the playbook to pick from.
    assert 'name="cf_tech_signer_title"' in page
    assert "Purchasing director" in page
    # The customer's "已确认": who (the account's contacts), when, the words, a screenshot.
    assert "Record the customer's confirmation" in page
    assert "王总" in page
    assert 'name="screenshot"' in page


def test_it_explains_a_rule_it_cannot_satisfy_and_offers_the_fields_it_reads(
    cast: Cast, client_as: ClientAs, deal_in: Callable[..., Any]
) -> None:
    deal = deal_in("negotiation", discount_pct=15)
    page = deal_page(client_as(cast.owner), deal)

    assert "computed from the deal&#x27;s fields" in page
    assert 'id="ctl-discount_ok-0-cf_discount_pct"' in page
    assert 'id="ctl-discount_ok-0-cf_discount_approved"' in page


def test_it_shows_ops_who_only_read_deals_no_controls(
    cast: Cast, client_as: ClientAs, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    response = client_as(cast.ops).get(reverse("web:deal", args=[deal.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Deal details" in page  # the values are shown
    assert "criterion-control" not in page
    assert "Edit deal" not in page
    refused = post_control(
        "criterion-field",
        deal,
        {"field": "tech_signer_title", "cf_tech_signer_title": "cto"},
        user=cast.ops,
    )
    assert refused.status_code == 403
    deal.refresh_from_db()
    assert deal.custom_fields == {}


# --- the "Deal details" form -------------------------------------------------------------------


def edit_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "绍兴纺机-伺服改造二期",
        "amount": "380000",
        "currency": "cny",
        "expected_close_date": "2027-01-15",
        "cf_equipment_list_confirmed": "yes",
        "cf_tech_signer_title": "purchasing_director",
        "cf_signing_period": "within_2w",
        "cf_decision_chain_role": "",
        "cf_delivery_date": "2027-02-01",
        "cf_discount_pct": "8.5",
        "cf_discount_approved": "no",
        "cf_legal_review_overdue_days": "0",
    }
    return {**data, **overrides}


def test_it_saves_every_field_in_one_edit_typed_as_the_api_stores_them(
    cast: Cast, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution", decision_chain_role="cfo")
    response = post_control("deal-edit", deal, edit_data())

    assert response.status_code == 200
    assert "Deal saved." in response.content.decode()
    assert f"deal-fields-{deal.pk}" in fired(response)
    deal.refresh_from_db()
    assert deal.name == "绍兴纺机-伺服改造二期"
    assert str(deal.amount) == "380000.00"
    assert deal.currency == "CNY"
    assert deal.expected_close_date == dt.date(2027, 1, 15)
    assert deal.custom_fields == {
        "equipment_list_confirmed": True,
        "tech_signer_title": "purchasing_director",
        "signing_period": "within_2w",
        "delivery_date": "2027-02-01",
        "discount_pct": 8.5,
        "discount_approved": False,
        "legal_review_overdue_days": 0,
    }  # the emptied role is removed
    entry = AuditEntry.objects.get(action="opportunity.update", object_id=str(deal.pk))
    assert entry.actor == cast.owner
    assert "custom_fields" in entry.data["fields"]
    assert "signer_title" not in unmet(deal)


def test_it_refuses_the_whole_edit_with_an_error_beside_each_bad_field(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    response = post_control(
        "deal-edit",
        deal,
        edit_data(amount="-5", cf_delivery_date="2027-13-40", cf_signing_period="tomorrow"),
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="edit-amount-error"' in page
    assert "greater than or equal to 0" in page
    assert 'id="edit-cf_delivery_date-error"' in page
    assert 'id="edit-cf_signing_period-error"' in page
    assert 'value="2027-13-40"' in page  # what was typed stays in the form
    deal.refresh_from_db()
    assert deal.name == "绍兴纺机-伺服改造"  # the valid name was not saved either
    assert deal.custom_fields == {}
    assert not AuditEntry.objects.filter(action="opportunity.update").exists()


def test_it_words_the_edit_errors_in_chinese(
    cast: Cast, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.owner)
    response = post_control("deal-edit", deal, edit_data(amount="-5"), client=client)

    assert response.status_code == 422
    page = response.content.decode()
    assert "请检查" in page
    assert "Please check" not in page


def test_it_lets_only_those_who_may_write_the_deal_edit_it(
    cast: Cast, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    for user in (cast.outsider, cast.other_team_rep):
        assert post_control("deal-edit", deal, edit_data(), user=user).status_code in (403, 404)
    deal.refresh_from_db()
    assert deal.name == "绍兴纺机-伺服改造"


# --- a field criterion's control ---------------------------------------------------------------


def test_it_sets_the_signer_title_from_the_criterion_and_the_panel_reloads(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    response = post_control(
        "criterion-field",
        deal,
        {"field": "tech_signer_title", "cf_tech_signer_title": "purchasing_director"},
    )

    assert response.status_code == 200
    assert f"deal-changed-{deal.pk}" in fired(response)
    deal.refresh_from_db()
    assert deal.custom_fields["tech_signer_title"] == "purchasing_director"
    assert "signer_title" not in unmet(deal)
    assert AuditEntry.objects.filter(action="opportunity.update").count() == 1


def test_it_refuses_a_role_outside_the_list_and_keeps_nothing(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    response = post_control(
        "criterion-field", deal, {"field": "tech_signer_title", "cf_tech_signer_title": "janitor"}
    )

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert "HX-Trigger" not in response.headers
    deal.refresh_from_db()
    assert deal.custom_fields == {}


def test_it_refuses_a_field_the_playbook_does_not_have(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    response = post_control("criterion-field", deal, {"field": "budget", "cf_budget": "1"})
    assert response.status_code == 422
    assert "out of date" in response.content.decode()


# --- an attachment criterion's control ---------------------------------------------------------


def test_it_uploads_the_signed_agreement_under_the_kind_the_criterion_waits_for(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    response = post_control(
        "criterion-upload", deal, upload("tech_agreement", "协议.jpg", jpeg_bytes(), "image/jpeg")
    )

    assert response.status_code == 200, response.content.decode()
    assert "Uploaded 协议.jpg." in response.content.decode()
    assert f"deal-changed-{deal.pk}" in fired(response)
    attachment = Attachment.objects.get(opportunity=deal)
    assert (attachment.kind, attachment.content_type) == ("tech_agreement", "image/jpeg")
    assert "tech_agreement" not in unmet(deal)


@pytest.mark.parametrize(
    ("criterion", "file", "message"),
    [
        pytest.param(
            "tech_agreement",
            ("协议.png", lambda: PNG, "image/png"),
            "This criterion takes PDF or JPG; the file is a PNG image.",
            id="a-type-the-criterion-does-not-take",
        ),
        pytest.param("tech_agreement", None, "Choose a file to upload.", id="no-file"),
        pytest.param(
            "customer_confirmed",
            ("a.pdf", pdf_bytes, "application/pdf"),
            "out of date",
            id="a-criterion-of-another-kind-of-control",
        ),
    ],
)
def test_it_refuses_an_upload_the_criterion_does_not_take_and_keeps_no_file(
    deal_in: Callable[..., Any],
    post_control: PostControl,
    criterion: str,
    file: tuple[str, Callable[[], bytes], str] | None,
    message: str,
) -> None:
    deal = deal_in("technical_solution")
    form = upload(criterion) if file is None else upload(criterion, file[0], file[1](), file[2])
    response = post_control("criterion-upload", deal, form)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Attachment.objects.exists()


def test_it_says_so_when_the_criterion_was_met_meanwhile(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution", tech_signer_title="cto")
    form = upload("signer_title", "a.pdf", pdf_bytes(), "application/pdf")
    response = post_control("criterion-upload", deal, form)

    assert response.status_code == 200
    assert "met already" in response.content.decode()
    assert not Attachment.objects.exists()


# --- an event criterion's control: the customer's confirmation ---------------------------------


def confirmation(deal: Any, **overrides: Any) -> dict[str, Any]:
    contact = Contact.objects.get(account=deal.account, name="王总")
    data = {
        "criterion": "customer_confirmed",
        "index": "0",
        "delivery_id": "d-1",
        "contact": str(contact.pk),
        "occurred_at": timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "text": "方案没问题,已确认,下周走合同",
    }
    return {**data, **overrides}


def chat_screenshot() -> SimpleUploadedFile:
    return SimpleUploadedFile("chat.jpg", jpeg_bytes())


def test_it_records_the_customers_confirmation_as_the_event_the_criterion_waits_for(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    data = confirmation(deal, screenshot=chat_screenshot())
    response = post_control("criterion-event", deal, data)

    assert response.status_code == 200, response.content.decode()
    assert f"deal-changed-{deal.pk}" in fired(response)
    event = Event.objects.get(opportunity=deal)
    screenshot = Attachment.objects.get(opportunity=deal)
    assert event.type == "chat.message"
    assert event.source == "web"
    assert event.contact_id == int(data["contact"])
    assert event.payload == {
        "text": "方案没问题,已确认,下周走合同",
        "from_customer": True,
        "sender": "王总",
        "attachment_id": screenshot.pk,
    }
    assert screenshot.kind == "chat_screenshot"
    assert abs(event.occurred_at - (timezone.now() - dt.timedelta(hours=1))) < dt.timedelta(
        minutes=2
    )
    assert "customer_confirmed" not in unmet(deal)
    # Delivered twice (a double tap), it is logged once.
    post_control("criterion-event", deal, confirmation(deal))
    assert Event.objects.filter(opportunity=deal).count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"text": "好的,收到"}, "containing “已确认”"),
        ({"text": ""}, "This field is required."),
        ({"contact": ""}, "This field is required."),
        ({"occurred_at": "2099-01-01T10:00"}, "in the future"),
        ({"occurred_at": "yesterday"}, "Enter a valid date/time."),
        ({"occurred_at": "1899-12-31T10:00"}, "Not logged."),  # before the log's range
    ],
)
def test_it_refuses_a_confirmation_that_would_not_count_and_keeps_no_screenshot(
    deal_in: Callable[..., Any],
    post_control: PostControl,
    overrides: dict[str, str],
    message: str,
) -> None:
    deal = deal_in("technical_solution")
    data = confirmation(deal, screenshot=chat_screenshot(), **overrides)
    response = post_control("criterion-event", deal, data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Event.objects.exists()
    assert not Attachment.objects.exists()


def test_it_records_any_other_event_a_criterion_waits_for(
    cast: Cast, client_as: ClientAs, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("contract")
    assert "Record: ERP order" in deal_page(client_as(cast.owner), deal)

    response = post_control(
        "criterion-event",
        deal,
        {
            "criterion": "erp_order",
            "index": "0",
            "delivery_id": "erp-1",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "text": "SO-2026-1207",
        },
    )

    assert response.status_code == 200, response.content.decode()
    event = Event.objects.get(opportunity=deal)
    assert (event.type, event.payload) == ("erp.order", {"order_no": "SO-2026-1207"})
    assert "erp_order" not in unmet(deal)


# --- a contact criterion's control -------------------------------------------------------------


def test_it_adds_the_contact_a_count_criterion_waits_for(
    cast: Cast, industrial: Any, post_control: PostControl
) -> None:
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, stage_key="lead")
    missing = post_control("criterion-contact", deal, {"criterion": "contact_known", "index": "0"})
    assert missing.status_code == 422
    assert "Pick a contact or give the new contact" in missing.content.decode()
    assert not Contact.objects.exists()

    response = post_control(
        "criterion-contact",
        deal,
        {
            "criterion": "contact_known",
            "index": "0",
            "name": "李厂长",
            "title": "生产厂长",
            "phone": "13800000000",
        },
    )

    assert response.status_code == 200, response.content.decode()
    contact = Contact.objects.get(account=deal.account)
    assert (contact.name, contact.title, contact.phone) == ("李厂长", "生产厂长", "13800000000")
    assert "contact_known" not in unmet(deal)


# --- the API does the same ---------------------------------------------------------------------


def test_the_api_edit_is_audited_like_the_page_edit(
    cast: Cast, api_as: Any, deal_in: Callable[..., Any]
) -> None:
    deal = deal_in("technical_solution")
    response = api_as(cast.owner).patch(
        f"/opportunities/{deal.pk}", {"custom_fields": {"tech_signer_title": "cto"}}
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="opportunity.update", object_id=str(deal.pk))
    assert entry.data["values"]["custom_fields"] == {"tech_signer_title": "cto"}
    deal.refresh_from_db()
    assert "signer_title" not in unmet(deal)


def test_a_confirmation_recorded_on_the_page_counts_as_one_posted_to_the_api(
    cast: Cast, api_as: Any, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    on_page, by_api = deal_in("technical_solution"), deal_in("technical_solution")
    post_control("criterion-event", on_page, confirmation(on_page))
    contact = Contact.objects.get(account=by_api.account)
    response = api_as(cast.owner).post(
        "/events",
        {
            "type": "chat.message",
            "source": "wecom",
            "external_id": "msg-8812",
            "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "opportunity_id": by_api.pk,
            "contact_id": contact.pk,
            "payload": {
                "text": "方案没问题,已确认,下周走合同",
                "from_customer": True,
                "sender": "王总",
            },
        },
    )
    assert response.status_code == 200, response.json()

    page_event = Event.objects.get(opportunity=on_page)
    api_event = Event.objects.get(opportunity=by_api)
    assert (page_event.type, page_event.payload, page_event.with_customer) == (
        api_event.type,
        api_event.payload,
        api_event.with_customer,
    )
    assert unmet(on_page) == unmet(by_api) == ["tech_agreement", "signer_title"]


def test_it_speaks_chinese_on_the_controls(cast: Cast, deal_in: Callable[..., Any]) -> None:
    deal = deal_in("technical_solution")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.owner)
    page = deal_page(client, deal)

    for words in (
        "商机信息",
        "编辑商机",
        "上传:客户签字的技术协议",
        "文件类型:PDF 或 JPG",
        "记录客户确认",
        "采购总监",
    ):
        assert words in page
    for english in ("Deal details", "Record the customer", "File type", "Purchasing director"):
        assert english not in page


def test_it_saves_and_audits_only_what_changed(
    deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    deal = deal_in("technical_solution")
    post_control("deal-edit", deal, edit_data())
    changed = post_control("deal-edit", deal, edit_data(cf_discount_pct="9"))
    again = post_control("deal-edit", deal, edit_data(cf_discount_pct="9"))

    assert changed.status_code == again.status_code == 200
    assert "Nothing changed" in again.content.decode()
    entries = list(AuditEntry.objects.filter(action="opportunity.update").order_by("pk"))
    assert len(entries) == 2
    assert entries[1].data["values"] == {"custom_fields": {"discount_pct": 9}}


def test_an_agreement_uploaded_through_the_api_meets_the_criterion_as_the_pages_does(
    cast: Cast, deal_in: Callable[..., Any], post_control: PostControl
) -> None:
    from django.test import TestCase

    from lodestar.org.services import api_token_create

    on_page, by_api = deal_in("technical_solution"), deal_in("technical_solution")
    post_control(
        "criterion-upload",
        on_page,
        upload("tech_agreement", "协议.pdf", pdf_bytes(), "application/pdf"),
    )
    _, secret = api_token_create(user=cast.owner, name="tests")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").post(
            f"/api/v1/opportunities/{by_api.pk}/attachments",
            {
                "kind": "tech_agreement",
                "file": SimpleUploadedFile("协议.pdf", pdf_bytes(), "application/pdf"),
            },
        )

    assert response.status_code == 201, response.content.decode()
    kinds = {a.opportunity_id: (a.kind, a.content_type) for a in Attachment.objects.all()}
    assert kinds[on_page.pk] == kinds[by_api.pk] == ("tech_agreement", "application/pdf")
    assert unmet(on_page) == unmet(by_api) == ["signer_title", "customer_confirmed"]
