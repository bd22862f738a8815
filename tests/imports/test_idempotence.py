"""Importing the same file again changes nothing; a changed row updates its object."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lodestar.crm.models import Account, Opportunity, StageTransition
from lodestar.events.models import Event
from lodestar.imports.models import ImportedRecord
from tests.conftest import Cast
from tests.imports.helpers import DEALS_CSV, deals_mapping, imported


def _rows(cast: Cast) -> tuple[int, int, int, int]:
    org = cast.org
    return (
        Opportunity.objects.filter(organization=org).count(),
        Account.objects.filter(organization=org).count(),
        StageTransition.objects.filter(organization=org).count(),
        Event.objects.filter(organization=org).count(),
    )


def test_reimporting_the_same_file_writes_nothing(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    before = _rows(cast)
    again = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    assert _rows(cast) == before
    assert (again.counts["unchanged"], again.counts["imported"], again.counts["updated"]) == (
        3,
        0,
        0,
    )


def test_reimporting_records_no_batch_change(cast: Cast, published: Any) -> None:
    first = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    assert set(
        ImportedRecord.objects.filter(kind="deals").values_list("changed_by_batch", flat=True)
    ) == {first.pk}


def test_a_changed_row_is_updated_and_keeps_what_it_replaced(cast: Cast, published: Any) -> None:
    first = imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    changed = DEALS_CSV.replace(
        "D2,产线升级,华东机械,teammate,demo,80000", "D2,产线升级,华东机械,teammate,demo,95000"
    )
    second = imported(cast.ops, "deals", changed, deals_mapping())
    assert (second.counts["updated"], second.counts["unchanged"]) == (1, 2)
    deal = Opportunity.objects.get(external_ref="D2")
    assert deal.amount == Decimal("95000.00")
    record = ImportedRecord.objects.get(kind="deals", object_id=deal.pk)
    assert record.previous["values"]["amount"] == "80000.00"
    assert record.previous["changed_by"] == first.pk


def test_a_row_that_moves_on_appends_only_the_new_move(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    deal = Opportunity.objects.get(external_ref="D2")
    won = DEALS_CSV.replace(
        "D2,产线升级,华东机械,teammate,demo,80000,2025-02-01,2025-02-20,,",
        "D2,产线升级,华东机械,teammate,won,80000,2025-02-01,2025-02-20,2025-04-01,",
    )
    imported(cast.ops, "deals", won, deals_mapping())
    moves = list(deal.transitions.values_list("from_stage", "to_stage"))
    assert moves == [("first_contact", "demo"), ("demo", "won")]
    deal.refresh_from_db()
    assert deal.status == "won"
