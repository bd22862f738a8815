"""Deals are opened under the playbook the setting LODESTAR_DEAL_PLAYBOOK looks up."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from lodestar.core.rules import CompiledPlaybook
from lodestar.crm.services import DEFAULT_FIRST_STAGE, opportunity_create
from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import Cast
from tests.factories import AccountFactory


def no_playbook(*, organization_id: int, team_id: int | None) -> CompiledPlaybook | None:
    return None


def test_a_new_deal_opens_in_the_first_stage_of_the_published_playbook(
    cast: Cast, published: PlaybookVersion
) -> None:
    account: Any = AccountFactory(organization=cast.org, owner=cast.owner)

    deal = opportunity_create(user=cast.owner, name="x", account_id=account.pk)

    assert deal.stage_key == "first_contact"


def test_the_lookup_is_the_one_the_setting_names(cast: Cast, published: PlaybookVersion) -> None:
    account: Any = AccountFactory(organization=cast.org, owner=cast.owner)

    with override_settings(LODESTAR_DEAL_PLAYBOOK=f"{__name__}.no_playbook"):
        deal = opportunity_create(user=cast.owner, name="x", account_id=account.pk)

    assert deal.stage_key == DEFAULT_FIRST_STAGE
