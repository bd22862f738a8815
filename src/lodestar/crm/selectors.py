"""Reads of accounts, contacts, products and deals, scoped to who asks.

`*_list` functions return querysets already limited to the user's organization and role scope;
`access_*` functions fetch one object with the permission check (Zulip style):

- outside the user's organization or scope → `NotFound` (404; existence is not revealed);
- in scope but not writable by the user's role, when `for_write=True` → `PermissionDenied` (403).

Who may do what:

- **deals** — read: a rep their own; a manager the teams they manage plus their own; ops and
  admin the whole organization. Write: the same people, except ops (read only).
- **accounts** — read: a rep those they own or hold a deal on; a manager those owned by them or
  their teams' members, or holding a deal they see; ops and admin the whole organization.
  Write: a rep only accounts they own; a manager what they see; an admin all; ops none.
- **contacts** — read with their account; written by anyone who sees the account, except ops
  (the rep working a deal records the customer's people).
- **attachments** — read by whoever sees their deal (a file on an account alone: its account).
- **products, knowledge entries** — read by everyone in the organization; written by ops and
  admin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from lodestar.crm.models import (
    Account,
    Attachment,
    Contact,
    KnowledgeEntry,
    Opportunity,
    Product,
)
from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of, work_scope_q

__all__ = [
    "AccountFilters",
    "ContactFilters",
    "OpportunityFilters",
    "ProductFilters",
    "access_account",
    "access_attachment",
    "access_contact",
    "access_knowledge_entry",
    "access_opportunity",
    "access_product",
    "account_list",
    "account_scope",
    "attachment_scope",
    "contact_list",
    "opportunity_list",
    "opportunity_scope",
    "product_list",
]


@dataclass(frozen=True)
class OpportunityFilters:
    status: str | None = None
    stage_key: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    account_id: int | None = None
    q: str = ""
    expected_close_from: dt.date | None = None
    expected_close_to: dt.date | None = None


@dataclass(frozen=True)
class AccountFilters:
    q: str = ""
    tier: str | None = None
    industry: str | None = None
    owner_id: int | None = None


@dataclass(frozen=True)
class ContactFilters:
    account_id: int | None = None
    q: str = ""


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    category: str | None = None


# --- deals -------------------------------------------------------------------------------------


def opportunity_scope(*, actor: Actor | None) -> QuerySet[Opportunity]:
    """Every deal this actor may read, unfiltered and unordered beyond the model default."""
    return Opportunity.objects.filter(work_scope_q(actor=actor))


def opportunity_list(
    *, user: User, filters: OpportunityFilters | None = None
) -> QuerySet[Opportunity]:
    filters = filters or OpportunityFilters()
    qs = opportunity_scope(actor=actor_of(user=user)).select_related("account", "owner", "team")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.stage_key:
        qs = qs.filter(stage_key=filters.stage_key)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.account_id is not None:
        qs = qs.filter(account_id=filters.account_id)
    if filters.expected_close_from is not None:
        qs = qs.filter(expected_close_date__gte=filters.expected_close_from)
    if filters.expected_close_to is not None:
        qs = qs.filter(expected_close_date__lte=filters.expected_close_to)
    if q := filters.q.strip():
        qs = qs.filter(
            Q(name__icontains=q) | Q(account__name__icontains=q) | Q(external_ref__iexact=q)
        )
    return qs


def access_opportunity(*, user: User, opportunity_id: int, for_write: bool = False) -> Opportunity:
    actor = actor_of(user=user)
    deal = (
        opportunity_scope(actor=actor)
        .select_related("account", "owner", "team")
        .filter(pk=opportunity_id)
        .first()
    )
    if actor is None or deal is None:
        raise NotFound()
    if for_write and not actor.works_deals:
        raise PermissionDenied()
    return deal


# --- accounts and contacts ---------------------------------------------------------------------


def account_scope(*, actor: Actor | None) -> QuerySet[Account]:
    """Every account this actor may read."""
    if actor is None:
        return Account.objects.none()
    in_org = Account.objects.filter(organization_id=actor.organization_id)
    if actor.sees_whole_organization:
        return in_org
    with_visible_deals = opportunity_scope(actor=actor).values("account_id")
    visible = Q(owner_id=actor.user_id) | Q(pk__in=with_visible_deals)
    if actor.is_manager and actor.managed_team_ids:
        visible |= Q(owner__membership__team_id__in=actor.managed_team_ids)
    return in_org.filter(visible)


def account_list(*, user: User, filters: AccountFilters | None = None) -> QuerySet[Account]:
    filters = filters or AccountFilters()
    qs = account_scope(actor=actor_of(user=user)).select_related("owner")
    if filters.tier:
        qs = qs.filter(tier=filters.tier)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if q := filters.q.strip():
        qs = qs.filter(Q(name__icontains=q) | Q(external_ref__iexact=q))
    return qs


def _may_write_account(actor: Actor, account: Account) -> bool:
    if actor.is_admin or actor.is_manager:
        return True  # a manager writes every account in their (already checked) scope
    return actor.works_deals and account.owner_id == actor.user_id


def access_account(*, user: User, account_id: int, for_write: bool = False) -> Account:
    actor = actor_of(user=user)
    account = account_scope(actor=actor).select_related("owner").filter(pk=account_id).first()
    if actor is None or account is None:
        raise NotFound()
    if for_write and not _may_write_account(actor, account):
        raise PermissionDenied()
    return account


def contact_list(*, user: User, filters: ContactFilters | None = None) -> QuerySet[Contact]:
    filters = filters or ContactFilters()
    actor = actor_of(user=user)
    qs = Contact.objects.filter(account__in=account_scope(actor=actor)).select_related(
        "account", "decision_role"
    )
    if filters.account_id is not None:
        qs = qs.filter(account_id=filters.account_id)
    if q := filters.q.strip():
        qs = qs.filter(
            Q(name__icontains=q) | Q(title__icontains=q) | Q(phone=q) | Q(email__iexact=q)
        )
    return qs


def access_contact(*, user: User, contact_id: int, for_write: bool = False) -> Contact:
    actor = actor_of(user=user)
    contact = (
        Contact.objects.filter(account__in=account_scope(actor=actor), pk=contact_id)
        .select_related("account", "decision_role")
        .first()
    )
    if actor is None or contact is None:
        raise NotFound()
    if for_write and not actor.works_deals:
        raise PermissionDenied()
    return contact


# --- attachments -------------------------------------------------------------------------------


def attachment_scope(*, actor: Actor | None) -> QuerySet[Attachment]:
    """Every file this actor may read: those on the deals they see (as the deal page), and those
    on an account alone when they see the account."""
    if actor is None:
        return Attachment.objects.none()
    on_deal = Q(opportunity__in=opportunity_scope(actor=actor))
    on_account = Q(opportunity__isnull=True, account__in=account_scope(actor=actor))
    return Attachment.objects.filter(on_deal | on_account, organization_id=actor.organization_id)


def access_attachment(*, user: User, attachment_id: int) -> Attachment:
    """One file the user may read (its bytes too); 404 outside their scope or organization."""
    attachment = attachment_scope(actor=actor_of(user=user)).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    return attachment


# --- catalog -----------------------------------------------------------------------------------


def _catalog_org_filter(actor: Actor | None) -> Q:
    return Q(pk__in=[]) if actor is None else Q(organization_id=actor.organization_id)


def product_list(*, user: User, filters: ProductFilters | None = None) -> QuerySet[Product]:
    filters = filters or ProductFilters()
    qs = Product.objects.filter(_catalog_org_filter(actor_of(user=user)))
    if filters.category:
        qs = qs.filter(category=filters.category)
    if q := filters.q.strip():
        qs = qs.filter(Q(name__icontains=q) | Q(model_number__icontains=q))
    return qs


def access_product(*, user: User, product_id: int, for_write: bool = False) -> Product:
    actor = actor_of(user=user)
    product = Product.objects.filter(_catalog_org_filter(actor), pk=product_id).first()
    if actor is None or product is None:
        raise NotFound()
    if for_write and not actor.edits_catalog:
        raise PermissionDenied()
    return product


def access_knowledge_entry(*, user: User, entry_id: int, for_write: bool = False) -> KnowledgeEntry:
    actor = actor_of(user=user)
    entry = KnowledgeEntry.objects.filter(_catalog_org_filter(actor), pk=entry_id).first()
    if actor is None or entry is None:
        raise NotFound()
    if for_write and not actor.edits_catalog:
        raise PermissionDenied()
    return entry
