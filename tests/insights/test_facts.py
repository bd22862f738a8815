"""Deal facts read the same whether the rows behind the deals are named by id or joined."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

import pytest
from django.db.models import Q

from lodestar.demo import generate
from lodestar.insights import facts
from lodestar.insights.policy import Policies
from lodestar.org.models import Organization

NOW = dt.datetime(2026, 3, 16, 18, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))

pytestmark = pytest.mark.django_db


def test_deal_facts_by_id_and_by_join_agree(
    monkeypatch: pytest.MonkeyPatch, settings: object, tmp_path: object
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    generate(slug="facts", reps=4, deals=120, months=3, seed=3, now=NOW, events_per_deal=30)
    policies = Policies(Organization.objects.get(slug="facts"))

    def read() -> dict[int, dict[str, object]]:
        found = facts.deal_facts(
            policy=policies.default, deal_q=Q(), now=NOW, window=dt.timedelta(days=7)
        )
        return {deal_id: dataclasses.asdict(item) for deal_id, item in found.items()}

    by_id = read()
    monkeypatch.setattr(facts, "_BY_ID", 0)
    joined = read()

    assert by_id == joined
    assert any(item["backward"] for item in by_id.values())
    assert any(item["interactions"] for item in by_id.values())
