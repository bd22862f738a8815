"""A deals file's unknown columns become playbook fields; accounts keep theirs as JSON."""

from __future__ import annotations

from typing import Any

from lodestar.crm.models import Opportunity
from lodestar.playbooks.models import PlaybookStatus, PlaybookVersion
from lodestar.playbooks.selectors import compiled_for_version, published_version
from tests.conftest import Cast
from tests.imports.helpers import DEALS_CSV, deals_mapping, imported


def test_deal_custom_columns_are_published_as_playbook_fields(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    version = published_version(organization_id=cast.org.pk)
    assert version is not None
    assert version.number == published.number + 1
    field = compiled_for_version(version).playbook.field_def("budget_wan")
    assert field is not None
    assert field.type == "number"


def test_the_new_version_keeps_the_playbooks_stages(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    version = published_version(organization_id=cast.org.pk)
    assert version is not None
    before = [s.key for s in compiled_for_version(published).playbook.stages]
    assert [s.key for s in compiled_for_version(version).playbook.stages] == before


def test_deals_keep_their_custom_values(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    assert Opportunity.objects.get(external_ref="D1").custom_fields == {"budget_wan": 50}


def test_a_dry_run_publishes_no_playbook_version(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping(), dry_run=True)
    assert PlaybookVersion.objects.filter(organization=cast.org).count() == 1
    assert PlaybookVersion.objects.get(pk=published.pk).status == PlaybookStatus.PUBLISHED


def test_a_second_import_adds_no_second_version(cast: Cast, published: Any) -> None:
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    imported(cast.ops, "deals", DEALS_CSV, deals_mapping())
    assert PlaybookVersion.objects.filter(organization=cast.org).count() == 2
