"""Importing each kind of rows through the services: what is written, and how."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lodestar.crm.models import Account, Contact, Opportunity, Product, StageTransition
from lodestar.events.models import Event
from lodestar.imports.models import ImportProblem, SavedMapping
from tests.conftest import Cast
from tests.imports.helpers import DEALS_CSV, deals_mapping, imported, upload


def test_it_imports_accounts_and_keeps_unknown_columns_as_custom_fields(cast: Cast) -> None:
    batch = imported(
        cast.ops, "accounts", "客户名称,行业,员工数\n华东机械,制造,320\n南方电气,能源,45\n"
    )
    assert batch.status == "done"
    account = Account.objects.get(organization=cast.org, name="华东机械")
    assert account.industry == "制造"
    assert account.custom_fields == {next(iter(account.custom_fields)): 320}


def test_it_imports_products_with_their_price(cast: Cast) -> None:
    imported(cast.ops, "products", "product,series,sales_price\nGTX Pro,GTX,4821\n")
    product = Product.objects.get(organization=cast.org, name="GTX Pro")
    assert product.list_price == Decimal("4821.00")


def test_it_creates_the_account_a_contact_names(cast: Cast) -> None:
    batch = imported(
        cast.ops, "contacts", "联系人,客户名称,手机\n王伟,新客户有限公司,13800000000\n"
    )
    contact = Contact.objects.get(organization=cast.org, name="王伟")
    assert contact.account.name == "新客户有限公司"
    assert batch.counts["imported"] == 1


def test_it_imports_a_won_deal_with_its_close_date_amount_and_moves(
    cast: Cast, published: Any
) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    deal = Opportunity.objects.get(organization=cast.org, external_ref="D1")
    assert (deal.status, deal.stage_key, deal.amount) == ("won", "won", Decimal("120000.00"))
    assert deal.closed_at is not None
    assert deal.closed_at.astimezone(cast.org.tz).date() == dt.date(2025, 3, 10)
    moves = list(deal.transitions.values_list("from_stage", "to_stage"))
    assert moves == [("first_contact", "demo"), ("demo", "won")]


def test_it_gives_the_owner_matched_by_username_and_the_owners_team(
    cast: Cast, published: Any
) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    deal = Opportunity.objects.get(organization=cast.org, external_ref="D2")
    assert (deal.owner, deal.team) == (cast.teammate, cast.team)


def test_it_gives_an_unknown_owners_deal_to_the_default_owner_with_a_warning(
    cast: Cast, published: Any
) -> None:
    batch = imported(cast.ops, "deals", DEALS_CSV, deals_mapping(default_owner="owner"))
    deal = Opportunity.objects.get(organization=cast.org, external_ref="D3")
    assert deal.owner == cast.owner
    warning = ImportProblem.objects.get(batch=batch, row=4, code="member_unknown")
    assert warning.severity == "warning"


def test_stage_moves_become_events_at_their_original_times(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    deal = Opportunity.objects.get(organization=cast.org, external_ref="D1")
    events = Event.objects.filter(opportunity=deal, type="stage.changed").order_by("occurred_at")
    days = [event.occurred_at.astimezone(cast.org.tz).date() for event in events]
    assert days == [dt.date(2025, 2, 1), dt.date(2025, 3, 10)]


def test_each_stage_move_is_a_transition_and_an_event(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    transitions = StageTransition.objects.filter(organization=cast.org).count()
    assert transitions == Event.objects.filter(organization=cast.org, type="stage.changed").count()


def test_a_dry_run_writes_nothing_but_its_problems_and_counts(cast: Cast, published: Any) -> None:
    bad = DEALS_CSV + "D4,坏行,南方电气,owner,no_such_stage,1,2025-01-01,,,\n"
    batch = imported(cast.ops, "deals", bad, deals_mapping(), dry_run=True)
    assert batch.status == "checked"
    assert (batch.counts["imported"], batch.counts["skipped"]) == (3, 1)
    assert not Opportunity.objects.filter(organization=cast.org).exists()
    assert ImportProblem.objects.filter(batch=batch, row=5, severity="error").exists()


def test_an_error_stops_only_its_row(cast: Cast, published: Any) -> None:
    bad = DEALS_CSV + "D4,坏行,南方电气,owner,no_such_stage,1,2025-01-01,,,\n"
    batch = imported(cast.ops, "deals", bad, deals_mapping())
    assert Opportunity.objects.filter(organization=cast.org).count() == 3
    assert batch.counts["skipped"] == 1


def test_a_real_run_saves_the_mapping_for_the_next_file_of_the_same_shape(
    cast: Cast, published: Any
) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    assert SavedMapping.objects.filter(organization=cast.org, kind="deals").exists()
    again = upload(cast.ops, "deals", DEALS_CSV)
    assert again.mapping_source == "saved"


def test_activities_become_events_at_their_times_on_the_imported_deals(
    cast: Cast, published: Any
) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    activities = "deal,type,occurred_at,summary\nD2,电话,2025-02-10 10:30,谈了预算\n"
    batch = imported(cast.ops, "activities", activities)
    assert batch.counts["imported"] == 1
    call = Event.objects.get(organization=cast.org, type="call")
    assert call.opportunity == Opportunity.objects.get(external_ref="D2")
    assert call.occurred_at.astimezone(cast.org.tz) == dt.datetime(
        2025, 2, 10, 10, 30, tzinfo=cast.org.tz
    )
