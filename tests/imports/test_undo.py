"""Undoing a batch as a whole, and refusing when later work built on it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lodestar.crm.models import Account, Opportunity, StageTransition
from lodestar.errors import Conflict
from lodestar.events.models import Event
from lodestar.events.services import events_ingest
from lodestar.imports.models import ImportedRecord
from lodestar.imports.services import import_undo
from tests.conftest import Cast
from tests.imports.helpers import DEALS_CSV, deals_mapping, imported


def test_undo_removes_what_the_batch_created_and_the_events_it_logged(
    cast: Cast, published: Any
) -> None:
    batch = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    assert Event.objects.filter(organization=cast.org).exists()
    undone = import_undo(user=cast.ops, batch=batch)
    assert undone.status == "undone"
    assert not Opportunity.objects.filter(organization=cast.org).exists()
    assert not Account.objects.filter(organization=cast.org).exists()
    assert not StageTransition.objects.filter(organization=cast.org).exists()
    assert not Event.objects.filter(organization=cast.org).exists()
    assert not ImportedRecord.objects.filter(organization=cast.org).exists()


def test_undo_of_an_update_restores_the_earlier_values(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    changed = DEALS_CSV.replace("teammate,demo,80000", "teammate,demo,95000")
    second = imported(cast.ops, "deals", changed, deals_mapping())
    import_undo(user=cast.ops, batch=second)
    assert Opportunity.objects.get(external_ref="D2").amount == Decimal("80000.00")
    assert Opportunity.objects.filter(organization=cast.org).count() == 3


def test_undo_refuses_while_a_later_import_changed_its_rows(cast: Cast, published: Any) -> None:
    first = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    changed = DEALS_CSV.replace("teammate,demo,80000", "teammate,demo,95000")
    second = imported(cast.ops, "deals", changed, deals_mapping())
    with pytest.raises(Conflict) as refused:
        import_undo(user=cast.ops, batch=first)
    assert any(f"#{second.pk}" in str(detail.message) for detail in refused.value.details)
    assert Opportunity.objects.filter(organization=cast.org).count() == 3


def test_undo_works_again_once_the_later_import_is_undone(cast: Cast, published: Any) -> None:
    first = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    changed = DEALS_CSV.replace("teammate,demo,80000", "teammate,demo,95000")
    second = imported(cast.ops, "deals", changed, deals_mapping())
    import_undo(user=cast.ops, batch=second)
    import_undo(user=cast.ops, batch=first)
    assert not Opportunity.objects.filter(organization=cast.org).exists()


def test_undo_refuses_when_activity_was_logged_on_an_imported_deal(
    cast: Cast, published: Any
) -> None:
    batch = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    deal = Opportunity.objects.get(external_ref="D2")
    events_ingest(
        user=cast.teammate,
        items=[
            {
                "type": "call",
                "external_id": "later-call",
                "occurred_at": "2026-01-05T10:00:00+08:00",
                "opportunity_id": deal.pk,
            }
        ],
    )
    with pytest.raises(Conflict) as refused:
        import_undo(user=cast.ops, batch=batch)
    assert any("产线升级" in str(detail.message) for detail in refused.value.details)
    assert Event.objects.filter(external_id="later-call").exists()
