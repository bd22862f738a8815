"""Writes of accounts, contacts, products and deals: the only doors for these tables.

Update and delete functions take an object the caller fetched through the matching
`access_*(…, for_write=True)` selector; they assume that check passed (Zulip's `do_*`
convention) and validate everything the call *refers to* — accounts, owners, decision roles —
against the acting user's organization and scope.

Field errors name the input fields as the API spells them (`account_id`, not `account`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from lodestar.core.playbook import Playbook
from lodestar.core.rules import CompiledPlaybook, check_field_values
from lodestar.crm.models import (
    Account,
    AccountTier,
    Contact,
    DecisionRole,
    Opportunity,
    OpportunityStatus,
    Product,
)
from lodestar.crm.selectors import account_scope
from lodestar.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from lodestar.i18n import localized
from lodestar.org.models import Membership, User
from lodestar.org.selectors import Actor, actor_of, may_assign_to
from lodestar.org.services import audit_record

__all__ = [
    "DEFAULT_FIRST_STAGE",
    "account_create",
    "account_delete",
    "account_update",
    "contact_create",
    "contact_delete",
    "contact_update",
    "opportunity_create",
    "opportunity_delete",
    "opportunity_update",
    "product_create",
    "product_delete",
    "product_update",
]

# Where a new deal starts while its team has no published playbook.
DEFAULT_FIRST_STAGE = "lead"

# Foreign keys are checked against the user's scope by the services themselves, so full_clean
# skips them (it would query each one again, without the scope).
_FK_INPUT_NAMES = {
    "account": "account_id",
    "owner": "owner_id",
    "team": "team_id",
    "decision_role": "decision_role_id",
    "organization": "organization_id",
}


# --- shared helpers ----------------------------------------------------------------------------


def _require_actor(user: User) -> Actor:
    actor = actor_of(user=user)
    if actor is None:
        raise PermissionDenied(_("You do not belong to an organization."))
    return actor


def _validate_model(instance: models.Model) -> None:
    """Run the model's field validators; report errors by their API input names."""
    try:
        instance.full_clean(
            exclude=list(_FK_INPUT_NAMES), validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        details = [
            FieldError(field=_FK_INPUT_NAMES.get(field, field), message=message)
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        raise ValidationFailed(details=details) from exc


def _reject_unknown(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            details=[FieldError(field=name, message=_("Unknown field.")) for name in unknown]
        )


def _require_text(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed.on(field, _("This field may not be blank."))
    return value


def _check_owner(actor: Actor, owner_id: int | None, *, allow_none: bool = False) -> None:
    if owner_id is None:
        if allow_none and actor.is_admin:
            return
        raise PermissionDenied(
            details=[FieldError("owner_id", _("Only an administrator may leave this empty."))]
        )
    if not may_assign_to(actor=actor, user_id=owner_id):
        raise PermissionDenied(
            details=[
                FieldError(
                    "owner_id",
                    _("You may assign only to yourself or to members of teams you manage."),
                )
            ]
        )


def _scoped_account(actor: Actor, account_id: int) -> Account:
    account = account_scope(actor=actor).filter(pk=account_id).first()
    if account is None:
        raise ValidationFailed.on("account_id", _("Unknown account."))
    return account


def _check_money(field: str, value: Decimal | None) -> None:
    if value is not None and value < 0:
        raise ValidationFailed.on(field, _("Must not be negative."))


def _check_currency(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 3 or not value.isalpha():
        raise ValidationFailed.on("currency", _("Use a three-letter ISO 4217 code such as CNY."))
    return value


# --- accounts ----------------------------------------------------------------------------------

_ACCOUNT_FIELDS = frozenset(
    {"name", "industry", "tier", "region", "repurchase_rate", "owner_id", "external_ref"}
)


@transaction.atomic
def account_create(
    *,
    user: User,
    name: str,
    industry: str = "",
    tier: str = AccountTier.STANDARD,
    region: str = "",
    repurchase_rate: Decimal = Decimal("0"),
    owner_id: int | None = None,
    external_ref: str = "",
) -> Account:
    """Create a customer account; its owner defaults to the user creating it."""
    actor = _require_actor(user)
    if not actor.works_deals:
        raise PermissionDenied(_("Your role may not create accounts."))
    owner_id = actor.user_id if owner_id is None else owner_id
    _check_owner(actor, owner_id)
    account = Account(
        organization_id=actor.organization_id,
        name=_require_text("name", name),
        industry=industry.strip(),
        tier=tier,
        region=region.strip(),
        repurchase_rate=repurchase_rate,
        owner_id=owner_id,
        external_ref=external_ref.strip(),
    )
    _validate_model(account)
    account.save()
    return account


@transaction.atomic
def account_update(*, user: User, account: Account, data: Mapping[str, Any]) -> Account:
    """Change the fields present in `data` (a partial update)."""
    actor = _require_actor(user)
    _reject_unknown(data, _ACCOUNT_FIELDS)
    if "owner_id" in data and data["owner_id"] != account.owner_id:
        _check_owner(actor, data["owner_id"], allow_none=True)
    for field, value in data.items():
        if field == "name":
            value = _require_text("name", value)
        setattr(account, field, value)
    _validate_model(account)
    account.save()
    return account


@transaction.atomic
def account_delete(*, user: User, account: Account) -> None:
    """Delete an account and its contacts; refused while deals still point at it."""
    if account.opportunities.exists():
        raise Conflict(_("The account still has deals; delete or move them first."))
    # The activity log is append-only; deleting the account would erase its history. It is
    # asked through the relation the log declares (`events`): the events app sits above this one.
    if account.events.exists():
        raise Conflict(_("The account has recorded activity and cannot be deleted."))
    try:
        account.delete()
    except ProtectedError as exc:  # something else now protects it (a race with a new deal)
        raise Conflict(_("The account is still in use.")) from exc


# --- contacts ----------------------------------------------------------------------------------

_CONTACT_FIELDS = frozenset(
    {
        "account_id",
        "name",
        "title",
        "decision_role_id",
        "is_decision_maker",
        "phone",
        "email",
        "chat_ids",
    }
)


def _check_decision_role(actor: Actor, decision_role_id: int | None) -> None:
    if decision_role_id is None:
        return
    if not DecisionRole.objects.filter(
        pk=decision_role_id, organization_id=actor.organization_id
    ).exists():
        raise ValidationFailed.on("decision_role_id", _("Unknown decision-chain role."))


@transaction.atomic
def contact_create(
    *,
    user: User,
    account_id: int,
    name: str,
    title: str = "",
    decision_role_id: int | None = None,
    is_decision_maker: bool = False,
    phone: str = "",
    email: str = "",
    chat_ids: dict[str, str] | None = None,
) -> Contact:
    """Add a person to an account the user can see."""
    actor = _require_actor(user)
    if not actor.works_deals:
        raise PermissionDenied(_("Your role may not change contacts."))
    account = _scoped_account(actor, account_id)
    _check_decision_role(actor, decision_role_id)
    contact = Contact(
        organization_id=account.organization_id,
        account=account,
        name=_require_text("name", name),
        title=title.strip(),
        decision_role_id=decision_role_id,
        is_decision_maker=is_decision_maker,
        phone=phone.strip(),
        email=email.strip(),
        chat_ids=chat_ids or {},
    )
    _validate_model(contact)
    contact.save()
    return contact


@transaction.atomic
def contact_update(*, user: User, contact: Contact, data: Mapping[str, Any]) -> Contact:
    actor = _require_actor(user)
    _reject_unknown(data, _CONTACT_FIELDS)
    if "account_id" in data and data["account_id"] != contact.account_id:
        contact.account = _scoped_account(actor, data["account_id"])
    if "decision_role_id" in data:
        _check_decision_role(actor, data["decision_role_id"])
    for field, value in data.items():
        if field == "account_id":
            continue
        if field == "name":
            value = _require_text("name", value)
        setattr(contact, field, value)
    _validate_model(contact)
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, user: User, contact: Contact) -> None:
    contact.delete()


# --- products ----------------------------------------------------------------------------------

_PRODUCT_FIELDS = frozenset({"name", "model_number", "category", "list_price", "aliases"})


def _require_catalog_editor(user: User) -> Actor:
    actor = _require_actor(user)
    if not actor.edits_catalog:
        raise PermissionDenied(_("Only sales ops and administrators edit the product catalog."))
    return actor


@transaction.atomic
def product_create(
    *,
    user: User,
    name: str,
    model_number: str = "",
    category: str = "",
    list_price: Decimal | None = None,
    aliases: list[str] | None = None,
) -> Product:
    actor = _require_catalog_editor(user)
    _check_money("list_price", list_price)
    product = Product(
        organization_id=actor.organization_id,
        name=_require_text("name", name),
        model_number=model_number.strip(),
        category=category.strip(),
        list_price=list_price,
        aliases=list(aliases or []),
    )
    _validate_model(product)
    product.save()
    return product


@transaction.atomic
def product_update(*, user: User, product: Product, data: Mapping[str, Any]) -> Product:
    _require_catalog_editor(user)
    _reject_unknown(data, _PRODUCT_FIELDS)
    if "list_price" in data:
        _check_money("list_price", data["list_price"])
    for field, value in data.items():
        if field == "name":
            value = _require_text("name", value)
        setattr(product, field, value)
    _validate_model(product)
    product.save()
    return product


@transaction.atomic
def product_delete(*, user: User, product: Product) -> None:
    _require_catalog_editor(user)
    product.delete()


# --- deals -------------------------------------------------------------------------------------

_OPPORTUNITY_FIELDS = frozenset(
    {
        "name",
        "account_id",
        "owner_id",
        "amount",
        "currency",
        "expected_close_date",
        "status",
        "custom_fields",
        "external_ref",
    }
)


def _process_of(organization_id: int, team_id: int | None) -> Playbook | None:
    """The playbook a deal of this team follows, or None while none is published.

    The playbooks app keeps them and sits above this one: the setting names its lookup.
    """
    published: Callable[..., CompiledPlaybook | None] = import_string(
        settings.LODESTAR_DEAL_PLAYBOOK
    )
    compiled = published(organization_id=organization_id, team_id=team_id)
    return compiled.playbook if compiled is not None else None


def _check_custom_fields(playbook: Playbook | None, values: Mapping[str, Any]) -> None:
    if playbook is None:
        return
    problems = check_field_values(playbook, values)
    if problems:
        raise ValidationFailed(
            details=[
                FieldError(field=f"custom_fields.{key}", message=localized(message))
                for key, message in problems.items()
            ]
        )


def _opening_stage(playbook: Playbook | None, stage_key: str | None) -> str:
    """The stage a new deal starts in: the one asked for (a working stage), else the first."""
    if playbook is None:
        return DEFAULT_FIRST_STAGE if stage_key is None else _require_text("stage_key", stage_key)
    working = [stage.key for stage in playbook.stages if stage.terminal is None]
    if stage_key is None:
        return working[0]
    if stage_key not in working:
        raise ValidationFailed.on(
            "stage_key",
            _("“%(stage)s” is not a working stage of the playbook; use one of: %(stages)s.")
            % {"stage": stage_key, "stages": ", ".join(working)},
        )
    return stage_key


def _owner_membership(owner_id: int) -> Membership:
    # may_assign_to has already proved the owner is a member of the actor's organization.
    return Membership.objects.get(user_id=owner_id)


@transaction.atomic
def opportunity_create(
    *,
    user: User,
    name: str,
    account_id: int,
    owner_id: int | None = None,
    stage_key: str | None = None,
    amount: Decimal = Decimal("0"),
    currency: str = "CNY",
    expected_close_date: dt.date | None = None,
    custom_fields: dict[str, Any] | None = None,
    external_ref: str = "",
    now: dt.datetime | None = None,
) -> Opportunity:
    """Open a deal. Its organization and team come from the owner's membership.

    A rep opens deals only for themselves; a manager also for members of the teams they
    manage; an admin for anyone in the organization. The stage is set here once; later moves go
    through the stage service, never through `opportunity_update`.
    """
    actor = _require_actor(user)
    if not actor.works_deals:
        raise PermissionDenied(_("Your role may read deals but not create them."))
    owner_id = actor.user_id if owner_id is None else owner_id
    _check_owner(actor, owner_id)
    account = _scoped_account(actor, account_id)
    _check_money("amount", amount)
    membership = _owner_membership(owner_id)
    playbook = _process_of(membership.organization_id, membership.team_id)
    stage = _opening_stage(playbook, stage_key)
    _check_custom_fields(playbook, custom_fields or {})
    now = now or timezone.now()
    deal = Opportunity(
        organization_id=membership.organization_id,
        team_id=membership.team_id,
        owner_id=owner_id,
        account=account,
        name=_require_text("name", name),
        stage_key=stage,
        stage_entered_at=now,
        status=OpportunityStatus.OPEN,
        amount=amount,
        currency=_check_currency(currency),
        expected_close_date=expected_close_date,
        custom_fields={k: v for k, v in (custom_fields or {}).items() if v is not None},
        external_ref=external_ref.strip(),
        created_at=now,
    )
    _validate_model(deal)
    deal.save()
    audit_record(
        organization_id=deal.organization_id,
        actor=user,
        action="opportunity.create",
        object_type="opportunity",
        object_id=deal.pk,
        data={"stage_key": stage, "owner_id": owner_id},
        at=now,
    )
    return deal


@transaction.atomic
def opportunity_update(
    *,
    user: User,
    opportunity: Opportunity,
    data: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> Opportunity:
    """Change the fields present in `data`. The stage is not one of them.

    Reassigning the owner moves the deal to the new owner's team. Closing (won/lost) stamps
    `closed_at`; reopening clears it.
    """
    if "stage_key" in data:
        raise ValidationFailed.on(
            "stage_key", _("The stage cannot be edited; move the deal with the stage action.")
        )
    actor = _require_actor(user)
    _reject_unknown(data, _OPPORTUNITY_FIELDS)
    now = now or timezone.now()
    changes = dict(data)
    if "owner_id" in changes and changes["owner_id"] != opportunity.owner_id:
        _check_owner(actor, changes["owner_id"])
        opportunity.team_id = _owner_membership(changes["owner_id"]).team_id
    if "account_id" in changes and changes["account_id"] != opportunity.account_id:
        opportunity.account = _scoped_account(actor, changes.pop("account_id"))
    if "amount" in changes:
        _check_money("amount", changes["amount"])
    if "currency" in changes:
        changes["currency"] = _check_currency(changes["currency"])
    if "name" in changes:
        changes["name"] = _require_text("name", changes["name"])
    playbook = _process_of(opportunity.organization_id, opportunity.team_id)
    if "status" in changes and changes["status"] != opportunity.status:
        _stamp_closing(opportunity, changes["status"], playbook=playbook, now=now)
    if "custom_fields" in changes:
        # A patch of custom fields merges into the stored ones; null removes a field.
        _check_custom_fields(playbook, changes["custom_fields"] or {})
        merged = {**opportunity.custom_fields, **(changes["custom_fields"] or {})}
        changes["custom_fields"] = {k: v for k, v in merged.items() if v is not None}
    for field, value in changes.items():
        setattr(opportunity, field, value)
    _validate_model(opportunity)
    opportunity.save()
    # Every front edits through here (the page's deal form and its criterion controls, the
    # API's PATCH): one audit line per edit names what was set, custom fields by key.
    audit_record(
        organization_id=opportunity.organization_id,
        actor=user,
        action="opportunity.update",
        object_type="opportunity",
        object_id=opportunity.pk,
        data={
            "fields": sorted(data),
            "values": {
                name: value if name == "custom_fields" or value is None else str(value)
                for name, value in data.items()
            },
        },
        at=now,
    )
    return opportunity


def _stamp_closing(
    opportunity: Opportunity, status: str, *, playbook: Playbook | None, now: dt.datetime
) -> None:
    """Closing a deal without a playbook stamps `closed_at`, reopening clears it; a deal that
    follows a playbook closes and reopens only through its stages."""
    if playbook is not None:
        raise ValidationFailed.on(
            "status",
            _("Close or reopen a deal by moving it to a won, lost or working stage."),
        )
    opportunity.closed_at = now if status != OpportunityStatus.OPEN else None


@transaction.atomic
def opportunity_delete(*, user: User, opportunity: Opportunity) -> None:
    """Delete a deal with its transitions, tasks and attachments (an audit line remains).

    Refused once activity is logged against the deal: the event log is append-only, so such a
    deal is closed as lost instead.
    """
    if opportunity.events.exists():
        raise Conflict(_("The deal has recorded activity; close it as lost instead."))
    audit_record(
        organization_id=opportunity.organization_id,
        actor=user,
        action="opportunity.delete",
        object_type="opportunity",
        object_id=opportunity.pk,
        data={"name": opportunity.name, "account_id": opportunity.account_id},
    )
    opportunity.delete()
