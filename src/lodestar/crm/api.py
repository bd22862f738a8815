"""CRUD endpoints for accounts, contacts, products and deals.

Each view parses, makes one selector or service call (an update first fetches through
`access_*(for_write=True)`), and returns; permissions and validation live below.
"""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema, Status

from lodestar.crm import selectors, services
from lodestar.crm.models import Account, Contact, Opportunity, Product
from lodestar.crm.schemas import (
    AccountCreateIn,
    AccountOut,
    AccountPage,
    AccountQuery,
    AccountUpdateIn,
    ContactCreateIn,
    ContactOut,
    ContactPage,
    ContactQuery,
    ContactUpdateIn,
    OpportunityCreateIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityQuery,
    OpportunityUpdateIn,
    ProductCreateIn,
    ProductOut,
    ProductPage,
    ProductQuery,
    ProductUpdateIn,
)
from lodestar.fields import Id
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import page_of

router = Router()


def _changes(payload: Schema) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


# --- accounts ----------------------------------------------------------------------------------


@router.get("/accounts", response={200: AccountPage, **ERROR_RESPONSES}, tags=["accounts"])
def list_accounts(
    request: AuthenticatedHttpRequest, filters: Query[AccountQuery]
) -> dict[str, Any]:
    """Accounts you can see, by name."""
    found = selectors.account_list(
        user=request.user,
        filters=selectors.AccountFilters(
            q=filters.q, tier=filters.tier, industry=filters.industry, owner_id=filters.owner
        ),
    )
    return page_of(found, filters)


@router.post("/accounts", response={201: AccountOut, **WRITE_ERRORS}, tags=["accounts"])
def create_account(request: AuthenticatedHttpRequest, payload: AccountCreateIn) -> Status[Any]:
    return Status(201, services.account_create(user=request.user, **payload.model_dump()))


@router.get(
    "/accounts/{account_id}", response={200: AccountOut, **ERROR_RESPONSES}, tags=["accounts"]
)
def get_account(request: AuthenticatedHttpRequest, account_id: Id) -> Account:
    return selectors.access_account(user=request.user, account_id=account_id)


@router.patch(
    "/accounts/{account_id}", response={200: AccountOut, **WRITE_ERRORS}, tags=["accounts"]
)
def update_account(
    request: AuthenticatedHttpRequest, account_id: Id, payload: AccountUpdateIn
) -> Account:
    user = request.user
    account = selectors.access_account(user=user, account_id=account_id, for_write=True)
    return services.account_update(user=user, account=account, data=_changes(payload))


@router.delete("/accounts/{account_id}", response={204: None, **WRITE_ERRORS}, tags=["accounts"])
def delete_account(request: AuthenticatedHttpRequest, account_id: Id) -> Status[None]:
    user = request.user
    account = selectors.access_account(user=user, account_id=account_id, for_write=True)
    services.account_delete(user=user, account=account)
    return Status(204, None)


# --- contacts ----------------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, **ERROR_RESPONSES}, tags=["contacts"])
def list_contacts(
    request: AuthenticatedHttpRequest, filters: Query[ContactQuery]
) -> dict[str, Any]:
    """Contacts of the accounts you can see."""
    found = selectors.contact_list(
        user=request.user,
        filters=selectors.ContactFilters(account_id=filters.account, q=filters.q),
    )
    return page_of(found, filters)


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS}, tags=["contacts"])
def create_contact(request: AuthenticatedHttpRequest, payload: ContactCreateIn) -> Status[Any]:
    return Status(201, services.contact_create(user=request.user, **payload.model_dump()))


@router.get(
    "/contacts/{contact_id}", response={200: ContactOut, **ERROR_RESPONSES}, tags=["contacts"]
)
def get_contact(request: AuthenticatedHttpRequest, contact_id: Id) -> Contact:
    return selectors.access_contact(user=request.user, contact_id=contact_id)


@router.patch(
    "/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS}, tags=["contacts"]
)
def update_contact(
    request: AuthenticatedHttpRequest, contact_id: Id, payload: ContactUpdateIn
) -> Contact:
    user = request.user
    contact = selectors.access_contact(user=user, contact_id=contact_id, for_write=True)
    return services.contact_update(user=user, contact=contact, data=_changes(payload))


@router.delete("/contacts/{contact_id}", response={204: None, **WRITE_ERRORS}, tags=["contacts"])
def delete_contact(request: AuthenticatedHttpRequest, contact_id: Id) -> Status[None]:
    user = request.user
    contact = selectors.access_contact(user=user, contact_id=contact_id, for_write=True)
    services.contact_delete(user=user, contact=contact)
    return Status(204, None)


# --- products ----------------------------------------------------------------------------------


@router.get("/products", response={200: ProductPage, **ERROR_RESPONSES}, tags=["products"])
def list_products(
    request: AuthenticatedHttpRequest, filters: Query[ProductQuery]
) -> dict[str, Any]:
    """The organization's product catalog."""
    found = selectors.product_list(
        user=request.user,
        filters=selectors.ProductFilters(q=filters.q, category=filters.category),
    )
    return page_of(found, filters)


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, tags=["products"])
def create_product(request: AuthenticatedHttpRequest, payload: ProductCreateIn) -> Status[Any]:
    return Status(201, services.product_create(user=request.user, **payload.model_dump()))


@router.get(
    "/products/{product_id}", response={200: ProductOut, **ERROR_RESPONSES}, tags=["products"]
)
def get_product(request: AuthenticatedHttpRequest, product_id: Id) -> Product:
    return selectors.access_product(user=request.user, product_id=product_id)


@router.patch(
    "/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS}, tags=["products"]
)
def update_product(
    request: AuthenticatedHttpRequest, product_id: Id, payload: ProductUpdateIn
) -> Product:
    user = request.user
    product = selectors.access_product(user=user, product_id=product_id, for_write=True)
    return services.product_update(user=user, product=product, data=_changes(payload))


@router.delete("/products/{product_id}", response={204: None, **WRITE_ERRORS}, tags=["products"])
def delete_product(request: AuthenticatedHttpRequest, product_id: Id) -> Status[None]:
    user = request.user
    product = selectors.access_product(user=user, product_id=product_id, for_write=True)
    services.product_delete(user=user, product=product)
    return Status(204, None)


# --- deals -------------------------------------------------------------------------------------


@router.get(
    "/opportunities", response={200: OpportunityPage, **ERROR_RESPONSES}, tags=["opportunities"]
)
def list_opportunities(
    request: AuthenticatedHttpRequest, filters: Query[OpportunityQuery]
) -> dict[str, Any]:
    """Deals you can see, newest first."""
    found = selectors.opportunity_list(
        user=request.user,
        filters=selectors.OpportunityFilters(
            status=filters.status,
            stage_key=filters.stage,
            owner_id=filters.owner,
            team_id=filters.team,
            account_id=filters.account,
            q=filters.q,
            expected_close_from=filters.expected_close_from,
            expected_close_to=filters.expected_close_to,
        ),
    )
    return page_of(found, filters)


@router.post(
    "/opportunities", response={201: OpportunityOut, **WRITE_ERRORS}, tags=["opportunities"]
)
def create_opportunity(
    request: AuthenticatedHttpRequest, payload: OpportunityCreateIn
) -> Status[Any]:
    """Open a deal; its team follows the owner. Later stage moves use their own action."""
    return Status(201, services.opportunity_create(user=request.user, **payload.model_dump()))


@router.get(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **ERROR_RESPONSES},
    tags=["opportunities"],
)
def get_opportunity(request: AuthenticatedHttpRequest, opportunity_id: Id) -> Opportunity:
    return selectors.access_opportunity(user=request.user, opportunity_id=opportunity_id)


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **WRITE_ERRORS},
    tags=["opportunities"],
)
def update_opportunity(
    request: AuthenticatedHttpRequest, opportunity_id: Id, payload: OpportunityUpdateIn
) -> Opportunity:
    """Change a deal's fields. `stage_key` is refused: stages move through the stage action."""
    user = request.user
    deal = selectors.access_opportunity(user=user, opportunity_id=opportunity_id, for_write=True)
    return services.opportunity_update(user=user, opportunity=deal, data=_changes(payload))


@router.delete(
    "/opportunities/{opportunity_id}", response={204: None, **WRITE_ERRORS}, tags=["opportunities"]
)
def delete_opportunity(request: AuthenticatedHttpRequest, opportunity_id: Id) -> Status[None]:
    user = request.user
    deal = selectors.access_opportunity(user=user, opportunity_id=opportunity_id, for_write=True)
    services.opportunity_delete(user=user, opportunity=deal)
    return Status(204, None)
