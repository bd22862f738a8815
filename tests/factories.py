"""factory_boy factories for the domain; tests build exactly the data they talk about."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from lodestar.crm import models as crm
from lodestar.org import models as org


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Organization

    name = factory.Sequence(lambda n: f"组织{n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"销售{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a membership; pass `organization`, `role` and `team` to place them."""

    class Meta:
        model = org.User
        skip_postgeneration_save = True

    class Params:
        organization = factory.SubFactory(OrganizationFactory)
        role = org.Role.REP
        team = None

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")

    membership = factory.RelatedFactory(
        "tests.factories.MembershipFactory",
        factory_related_name="user",
        organization=factory.SelfAttribute("..organization"),
        role=factory.SelfAttribute("..role"),
        team=factory.SelfAttribute("..team"),
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = org.Role.REP


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.Account

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"客户公司{n}")
    industry = "制造业"
    repurchase_rate = Decimal("0.5")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.Contact

    account = factory.SubFactory(AccountFactory)
    organization = factory.SelfAttribute("account.organization")
    name = factory.Sequence(lambda n: f"联系人{n}")
    title = "采购经理"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.Product

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"产品{n}")
    model_number = factory.Sequence(lambda n: f"PLC-{n:04d}")


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A deal owned by `owner` (a rep); its organization and team follow the owner's membership."""

    class Meta:
        model = crm.Opportunity

    owner = factory.SubFactory(UserFactory)
    organization = factory.LazyAttribute(lambda o: o.owner.membership.organization)
    team = factory.LazyAttribute(lambda o: o.owner.membership.team)
    account = factory.SubFactory(
        AccountFactory, organization=factory.SelfAttribute("..organization")
    )
    name = factory.Sequence(lambda n: f"商机{n}")
    stage_key = "lead"
    stage_entered_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    amount = Decimal("100000.00")
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class DecisionRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.DecisionRole

    organization = factory.SubFactory(OrganizationFactory)
    key = factory.Sequence(lambda n: f"role-{n}")
    name_zh = factory.Sequence(lambda n: f"角色{n}")
    name_en = factory.Sequence(lambda n: f"Role {n}")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token whose raw secret is kept on the instance as `.secret` (tests only)."""

    class Meta:
        model = org.ApiToken

    user = factory.SubFactory(UserFactory)
    name = "tests"
    secret = factory.LazyFunction(org.ApiToken.new_secret)
    digest = factory.LazyAttribute(lambda t: org.ApiToken.digest_of(t.secret))
    hint = factory.LazyAttribute(lambda t: t.secret[:8])

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> org.ApiToken:
        secret = kwargs.pop("secret")
        token = super()._create(model_class, *args, **kwargs)
        token.secret = secret
        return token
