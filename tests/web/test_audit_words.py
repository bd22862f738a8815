"""The audit log in words: codes, keys, stage keys, field keys and moments stored in an entry's
details are shown by their names in the reader's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.org.services import audit_record
from tests.conftest import Cast
from tests.factories import OpportunityFactory


def _log_page(cast: Cast, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.ops)
    return client.get(reverse("web:audit")).content.decode()


def _record(cast: Cast, action: str, object_type: str, object_id: int, data: Any) -> None:
    audit_record(
        organization_id=cast.org.pk,
        actor=cast.owner,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data,
        at=timezone.now(),
    )


def test_a_stage_change_reads_with_the_playbooks_stage_names_and_the_kind_of_move(
    cast: Cast, published: Any
) -> None:
    deal = OpportunityFactory(owner=cast.owner, name="华东产线改造")
    data = {"from": "first_contact", "to": "needs_confirmed", "kind": "advance"}
    _record(
        cast, "opportunity.stage_change", "opportunity", deal.pk, data | {"playbook_version": 1}
    )

    page = _log_page(cast, "zh-hans")

    assert "初步接触" in page
    assert "first_contact" not in page
    assert "向前推进" in page
    assert "advance" not in page
    assert "华东产线改造" in page


def test_an_exemption_reads_with_its_reason_label_and_local_moments(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    starts = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    _record(
        cast,
        "exemption.declare",
        "opportunity",
        deal.pk,
        {
            "reason_code": "customer_unreachable",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(days=3)).isoformat(),
        },
    )

    page = _log_page(cast, "zh-hans")

    assert "customer_unreachable" not in page
    assert "2026-12-01T01:30" not in page
    assert "reason_code" not in page
    assert "starts_at" not in page


def test_a_deal_edit_names_the_fields_it_set(cast: Cast, published: Any) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    _record(
        cast,
        "opportunity.update",
        "opportunity",
        deal.pk,
        {"fields": ["amount", "custom_fields"], "values": {"amount": "120000"}},
    )

    page = _log_page(cast, "en")

    assert "Deal edited" in page
    assert "Fields: amount、custom fields" in page
    assert "Set to › amount: 120000" in page


def test_a_code_nobody_named_is_shown_as_stored_not_dropped(cast: Cast) -> None:
    _record(cast, "deal.advance", "opportunity", 1, {"novel_detail": "kept"})

    page = _log_page(cast, "en")

    assert "deal.advance" in page
    assert "novel_detail: kept" in page
