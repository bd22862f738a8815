"""The knowledge page a pushed handbook links to."""

from __future__ import annotations

import pytest
from django.test import Client

from lodestar.crm.models import KnowledgeEntry, KnowledgeKind
from tests.conftest import Cast


@pytest.fixture
def handbook(cast: Cast) -> KnowledgeEntry:
    return KnowledgeEntry.objects.create(
        organization=cast.org,
        key="objection_handling",
        title="《高频异议应答手册》",
        kind=KnowledgeKind.HANDBOOK,
        body="价格异议:先确认预算范围,再给阶梯返点测算。",
    )


@pytest.mark.parametrize(
    ("actor", "status"), [("owner", 200), ("teammate", 200), ("outsider", 404)]
)
def test_it_shows_a_handbook_to_members_of_its_organization_only(
    cast: Cast, handbook: KnowledgeEntry, actor: str, status: int
) -> None:
    client = Client()
    client.force_login(getattr(cast, actor))
    response = client.get(f"/knowledge/{handbook.pk}/")
    assert response.status_code == status
    if status == 200:
        assert "阶梯返点测算" in response.content.decode()
