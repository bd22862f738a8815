"""Input and output schemas of the CRM endpoints: one input schema per write, strict.

Update schemas give every field a default of None without allowing null, so an omitted field is
left alone (`exclude_unset`) while `"name": null` is refused; fields that may be cleared say
`| None`. Money is a Decimal and leaves the API as a string.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from lodestar.fields import DecimalText, Id, JsonObject, SupportedDate, Text
from lodestar.rest.pagination import PageQuery
from lodestar.rest.schemas import AccountRef, StrictIn, TeamRef, UserRef

Name = Annotated[Text, Field(min_length=1, max_length=200)]
ShortText = Annotated[Text, Field(max_length=100)]
SearchText = Annotated[Text, Field(max_length=100)]
Money = Annotated[Decimal, DecimalText(max_digits=14, decimal_places=2)]
Rate = Annotated[Decimal, DecimalText(max_digits=5, decimal_places=4, le=Decimal(1))]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. CNY.")]
StageKey = Annotated[Text, Field(min_length=1, max_length=64)]
Tier = Literal["key", "standard", "small"]
Status = Literal["open", "won", "lost"]

# The default of an update's field that may be left out but not sent as null: pydantic does not
# validate defaults, so a left-out field reads None and `model_dump(exclude_unset=True)` leaves
# it out of the changes, while a null sent for it is refused by the field's own type (typed as
# `Any` so the field keeps that type for mypy).
LEFT_OUT: Any = None


# --- accounts ----------------------------------------------------------------------------------


class AccountOut(Schema):
    id: int
    name: str
    industry: str
    tier: str
    region: str
    repurchase_rate: Decimal
    owner: UserRef | None
    external_ref: str
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AccountOut]


class AccountQuery(PageQuery):
    q: SearchText = Field("", description="Text in the name, or the external reference.")
    tier: Tier | None = None
    industry: ShortText | None = None
    owner: Id | None = Field(None, description="Owner's user id.")


class AccountCreateIn(StrictIn):
    name: Name
    industry: ShortText = ""
    tier: Tier = "standard"
    region: ShortText = ""
    repurchase_rate: Rate = Decimal("0")
    owner_id: Id | None = Field(None, description="Defaults to you.")
    external_ref: ShortText = ""


class AccountUpdateIn(StrictIn):
    name: Name = LEFT_OUT
    industry: ShortText = LEFT_OUT
    tier: Tier = LEFT_OUT
    region: ShortText = LEFT_OUT
    repurchase_rate: Rate = LEFT_OUT
    owner_id: Id | None = None
    external_ref: ShortText = LEFT_OUT


# --- contacts ----------------------------------------------------------------------------------


class DecisionRoleRef(Schema):
    id: int
    key: str
    name_zh: str
    name_en: str


class ContactOut(Schema):
    id: int
    account: AccountRef
    name: str
    title: str
    decision_role: DecisionRoleRef | None
    is_decision_maker: bool
    phone: str
    email: str
    chat_ids: dict[str, Any]
    created_at: dt.datetime


class ContactPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ContactOut]


class ContactQuery(PageQuery):
    account: Id | None = Field(None, description="Account id.")
    q: SearchText = Field("", description="Text in the name or title; phone; e-mail.")


ContactName = Annotated[Text, Field(min_length=1, max_length=100)]
Phone = Annotated[Text, Field(max_length=32)]
Email = Annotated[Text, Field(max_length=254)]
ChatIds = dict[Annotated[Text, Field(max_length=32)], Annotated[Text, Field(max_length=200)]]


class ContactCreateIn(StrictIn):
    account_id: Id
    name: ContactName
    title: ShortText = ""
    decision_role_id: Id | None = None
    is_decision_maker: bool = False
    phone: Phone = ""
    email: Email = ""
    chat_ids: ChatIds = Field(
        default_factory=dict, description="Chat identities by platform, e.g. {'wecom': 'wang'}."
    )


class ContactUpdateIn(StrictIn):
    account_id: Id = LEFT_OUT
    name: ContactName = LEFT_OUT
    title: ShortText = LEFT_OUT
    decision_role_id: Id | None = None
    is_decision_maker: bool = LEFT_OUT
    phone: Phone = LEFT_OUT
    email: Email = LEFT_OUT
    chat_ids: ChatIds = LEFT_OUT


# --- products ----------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    name: str
    model_number: str
    category: str
    list_price: Decimal | None
    aliases: list[str]


class ProductPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProductOut]


class ProductQuery(PageQuery):
    q: SearchText = Field("", description="Text in the name or model number.")
    category: ShortText | None = None


Alias = Annotated[Text, Field(min_length=1, max_length=100)]
Aliases = Annotated[list[Alias], Field(max_length=50)]


class ProductCreateIn(StrictIn):
    name: Name
    model_number: ShortText = ""
    category: ShortText = ""
    list_price: Money | None = None
    aliases: Aliases = Field(default_factory=list)


class ProductUpdateIn(StrictIn):
    name: Name = LEFT_OUT
    model_number: ShortText = LEFT_OUT
    category: ShortText = LEFT_OUT
    list_price: Money | None = None
    aliases: Aliases = LEFT_OUT


# --- deals -------------------------------------------------------------------------------------


class OpportunityOut(Schema):
    id: int
    name: str
    account: AccountRef
    owner: UserRef
    team: TeamRef | None
    stage_key: str
    stage_entered_at: dt.datetime
    status: str
    amount: Decimal
    currency: str
    expected_close_date: dt.date | None
    custom_fields: dict[str, Any]
    external_ref: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None


class OpportunityPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OpportunityOut]


class OpportunityQuery(PageQuery):
    status: Status | None = None
    stage: StageKey | None = Field(None, description="Stage key.")
    owner: Id | None = Field(None, description="Owner's user id.")
    team: Id | None = Field(None, description="Team id.")
    account: Id | None = Field(None, description="Account id.")
    q: SearchText = Field("", description="Text in the deal or account name.")
    expected_close_from: SupportedDate | None = Field(None, description="On or after this date.")
    expected_close_to: SupportedDate | None = Field(None, description="On or before this date.")


class OpportunityCreateIn(StrictIn):
    name: Name
    account_id: Id
    owner_id: Id | None = Field(None, description="Defaults to you.")
    stage_key: StageKey | None = Field(None, description="Defaults to the first stage.")
    amount: Money = Decimal("0")
    currency: Currency = "CNY"
    expected_close_date: SupportedDate | None = None
    custom_fields: JsonObject = Field(default_factory=dict)
    external_ref: ShortText = ""


class OpportunityUpdateIn(StrictIn):
    name: Name = LEFT_OUT
    account_id: Id = LEFT_OUT
    owner_id: Id = LEFT_OUT
    status: Status = LEFT_OUT
    amount: Money = LEFT_OUT
    currency: Currency = LEFT_OUT
    expected_close_date: SupportedDate | None = None
    custom_fields: JsonObject = LEFT_OUT
    external_ref: ShortText = LEFT_OUT
    # Not part of the documented schema: present only to explain why it is refused.
    stage_key: SkipJsonSchema[str | None] = None

    @field_validator("stage_key")
    @classmethod
    def _stage_moves_elsewhere(cls, value: object) -> object:
        raise PydanticCustomError(
            "stage_not_editable",
            str(_("The stage cannot be edited; move the deal with the stage action.")),
        )
