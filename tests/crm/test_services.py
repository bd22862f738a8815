from __future__ import annotations

from decimal import Decimal

import pytest

from lodestar.crm.models import Contact, Opportunity, OpportunityStatus
from lodestar.crm.services import (
    DEFAULT_FIRST_STAGE,
    account_create,
    account_delete,
    account_update,
    contact_create,
    contact_update,
    opportunity_create,
    opportunity_delete,
    opportunity_update,
    product_create,
    product_update,
)
from lodestar.errors import Conflict, PermissionDenied, ValidationFailed
from lodestar.events.models import Event
from lodestar.org.models import AuditEntry
from tests.conftest import Cast
from tests.factories import (
    AccountFactory,
    ContactFactory,
    DecisionRoleFactory,
    OpportunityFactory,
    ProductFactory,
)


def field_of(exc: pytest.ExceptionInfo[ValidationFailed] | pytest.ExceptionInfo[PermissionDenied]):
    return [d.field for d in exc.value.details]


# --- deals -------------------------------------------------------------------------------------


def test_it_opens_a_deal_in_the_owners_organization_and_team(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    deal = opportunity_create(user=cast.owner, name="PLC 升级", account_id=account.pk)
    assert (deal.organization, deal.team, deal.owner) == (cast.org, cast.team, cast.owner)
    assert deal.stage_key == DEFAULT_FIRST_STAGE
    assert deal.status == OpportunityStatus.OPEN


def test_it_accepts_any_stage_key_at_creation(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    deal = opportunity_create(user=cast.owner, name="x", account_id=account.pk, stage_key="demo")
    assert deal.stage_key == "demo"


def test_it_refuses_a_blank_stage_key(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_create(user=cast.owner, name="x", account_id=account.pk, stage_key=" ")
    assert field_of(exc) == ["stage_key"]


def test_it_audits_a_new_deal(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    deal = opportunity_create(user=cast.owner, name="x", account_id=account.pk)
    assert AuditEntry.objects.filter(action="opportunity.create", object_id=str(deal.pk)).exists()


def test_it_refuses_an_account_of_another_organization(cast: Cast) -> None:
    foreign = AccountFactory(organization=cast.outsider.membership.organization)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_create(user=cast.owner, name="x", account_id=foreign.pk)
    assert field_of(exc) == ["account_id"]


def test_it_refuses_a_rep_opening_a_deal_for_a_teammate(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    with pytest.raises(PermissionDenied) as exc:
        opportunity_create(
            user=cast.owner, name="x", account_id=account.pk, owner_id=cast.teammate.pk
        )
    assert field_of(exc) == ["owner_id"]


def test_it_lets_a_manager_assign_a_deal_to_a_team_member(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.teammate)
    deal = opportunity_create(
        user=cast.manager, name="x", account_id=account.pk, owner_id=cast.teammate.pk
    )
    assert deal.owner == cast.teammate
    assert deal.team == cast.team


def test_it_refuses_a_manager_assigning_to_another_team(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.manager)
    with pytest.raises(PermissionDenied):
        opportunity_create(
            user=cast.manager, name="x", account_id=account.pk, owner_id=cast.other_team_rep.pk
        )


def test_it_refuses_ops_opening_a_deal(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org)
    with pytest.raises(PermissionDenied):
        opportunity_create(user=cast.ops, name="x", account_id=account.pk)


def test_it_refuses_a_negative_amount(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_create(user=cast.owner, name="x", account_id=account.pk, amount=Decimal("-1"))
    assert field_of(exc) == ["amount"]


def test_it_refuses_a_stage_change_through_update(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_update(user=cast.owner, opportunity=deal, data={"stage_key": "won"})
    assert field_of(exc) == ["stage_key"]
    deal.refresh_from_db()
    assert deal.stage_key == "lead"


def test_it_stamps_closed_at_when_a_deal_is_won_and_clears_it_on_reopen(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    opportunity_update(user=cast.owner, opportunity=deal, data={"status": "won"})
    assert deal.closed_at is not None
    opportunity_update(user=cast.owner, opportunity=deal, data={"status": "open"})
    assert deal.closed_at is None


def test_it_moves_a_reassigned_deal_to_the_new_owners_team(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.other_team_rep)
    opportunity_update(user=cast.admin, opportunity=deal, data={"owner_id": cast.owner.pk})
    deal.refresh_from_db()
    assert (deal.owner, deal.team) == (cast.owner, cast.team)


def test_it_refuses_moving_a_deal_to_an_account_outside_the_scope(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    hidden = AccountFactory(organization=cast.org, owner=cast.teammate)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_update(user=cast.owner, opportunity=deal, data={"account_id": hidden.pk})
    assert field_of(exc) == ["account_id"]


def test_it_refuses_an_unknown_field_in_an_update(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_update(user=cast.owner, opportunity=deal, data={"colour": "red"})
    assert field_of(exc) == ["colour"]


def test_it_reports_model_validation_errors_by_field(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    with pytest.raises(ValidationFailed) as exc:
        opportunity_update(user=cast.owner, opportunity=deal, data={"name": "x" * 201})
    assert field_of(exc) == ["name"]


def test_it_deletes_a_deal_and_audits_it(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    opportunity_delete(user=cast.owner, opportunity=deal)
    assert not Opportunity.objects.filter(pk=deal.pk).exists()
    assert AuditEntry.objects.filter(action="opportunity.delete").exists()


def test_it_refuses_deleting_a_deal_with_logged_activity(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    Event.objects.create(
        organization=cast.org,
        type="call",
        source="web",
        external_id="1",
        occurred_at=deal.created_at,
        recorded_at=deal.created_at,
        opportunity=deal,
    )
    with pytest.raises(Conflict):
        opportunity_delete(user=cast.owner, opportunity=deal)


# --- accounts ----------------------------------------------------------------------------------


def test_it_makes_the_creator_the_owner_of_a_new_account(cast: Cast) -> None:
    account = account_create(user=cast.owner, name="上海电气")
    assert (account.organization, account.owner) == (cast.org, cast.owner)


def test_it_refuses_ops_creating_an_account(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        account_create(user=cast.ops, name="上海电气")


def test_it_refuses_a_rep_giving_away_their_account(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    with pytest.raises(PermissionDenied) as exc:
        account_update(user=cast.owner, account=account, data={"owner_id": cast.teammate.pk})
    assert field_of(exc) == ["owner_id"]


def test_it_lets_an_admin_leave_an_account_unowned(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    account_update(user=cast.admin, account=account, data={"owner_id": None})
    assert account.owner is None


def test_it_refuses_a_repurchase_rate_above_one(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    with pytest.raises(ValidationFailed) as exc:
        account_update(user=cast.owner, account=account, data={"repurchase_rate": Decimal("1.5")})
    assert field_of(exc) == ["repurchase_rate"]


def test_it_refuses_deleting_an_account_with_deals(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    with pytest.raises(Conflict):
        account_delete(user=cast.admin, account=deal.account)


# --- contacts ----------------------------------------------------------------------------------


def test_it_adds_a_contact_to_an_account_the_rep_works(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    role = DecisionRoleFactory(organization=cast.org)
    contact = contact_create(
        user=cast.owner, account_id=deal.account_id, name="王总", decision_role_id=role.pk
    )
    assert contact.organization == cast.org
    assert contact.decision_role == role


def test_it_refuses_a_contact_on_an_account_outside_the_scope(cast: Cast) -> None:
    hidden = AccountFactory(organization=cast.org, owner=cast.teammate)
    with pytest.raises(ValidationFailed) as exc:
        contact_create(user=cast.owner, account_id=hidden.pk, name="王总")
    assert field_of(exc) == ["account_id"]
    assert not Contact.objects.exists()


def test_it_refuses_a_decision_role_of_another_organization(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    foreign = DecisionRoleFactory(organization=cast.outsider.membership.organization)
    with pytest.raises(ValidationFailed) as exc:
        contact_create(
            user=cast.owner, account_id=account.pk, name="王总", decision_role_id=foreign.pk
        )
    assert field_of(exc) == ["decision_role_id"]


def test_it_refuses_a_malformed_email(cast: Cast) -> None:
    contact = ContactFactory(account=AccountFactory(organization=cast.org, owner=cast.owner))
    with pytest.raises(ValidationFailed) as exc:
        contact_update(user=cast.owner, contact=contact, data={"email": "not-an-email"})
    assert field_of(exc) == ["email"]


# --- products ----------------------------------------------------------------------------------


def test_it_lets_ops_add_a_product(cast: Cast) -> None:
    product = product_create(user=cast.ops, name="S7-1200 PLC", list_price=Decimal("8800.00"))
    assert product.organization == cast.org


def test_it_refuses_a_rep_adding_a_product(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        product_create(user=cast.owner, name="S7-1200 PLC")


def test_it_refuses_a_negative_list_price(cast: Cast) -> None:
    product = ProductFactory(organization=cast.org)
    with pytest.raises(ValidationFailed) as exc:
        product_update(user=cast.ops, product=product, data={"list_price": Decimal("-5")})
    assert field_of(exc) == ["list_price"]
