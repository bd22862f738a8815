"""Deal facts: the same whether the rows behind the deals are named by id or joined; customer
interactions counted per health window as a plain count of the log would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

import pytest
from django.db.models import Q

from lodestar.crm.models import Opportunity
from lodestar.demo import generate
from lodestar.events.models import Event
from lodestar.insights import facts
from lodestar.insights.models import Exemption
from lodestar.insights.policy import Policies
from lodestar.org.models import Organization

NOW = dt.datetime(2026, 3, 16, 18, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
WINDOWS = (dt.timedelta(days=7), dt.timedelta(days=28))

pytestmark = pytest.mark.django_db


def test_deal_facts_by_id_and_by_join_agree(
    monkeypatch: pytest.MonkeyPatch, settings: object, tmp_path: object
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    generate(slug="facts", reps=4, deals=120, months=3, seed=3, now=NOW, events_per_deal=30)
    policies = Policies(Organization.objects.get(slug="facts"))

    def read() -> dict[int, dict[str, object]]:
        found = facts.deal_facts(policy=policies.default, deal_q=Q(), now=NOW, windows=WINDOWS)
        return {deal_id: dataclasses.asdict(item) for deal_id, item in found.items()}

    by_id = read()
    monkeypatch.setattr(facts, "_BY_ID", 0)
    joined = read()

    assert by_id == joined
    assert any(item["backward"] for item in by_id.values())
    assert any(any(item["interaction_counts"].values()) for item in by_id.values())


def test_deal_facts_count_customer_interactions_per_window_since_each_deal_opened(
    settings: object, tmp_path: object
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    generate(slug="counts", reps=3, deals=60, months=2, seed=5, now=NOW, events_per_deal=30)
    policies = Policies(Organization.objects.get(slug="counts"))

    found = facts.deal_facts(policy=policies.default, deal_q=Q(), now=NOW, windows=WINDOWS)

    for deal_id, item in found.items():
        for window in WINDOWS:
            since = max(NOW - window, item.opened_at)
            logged = Event.objects.filter(
                opportunity_id=deal_id, with_customer=True, occurred_at__gte=since
            ).filter(occurred_at__lt=NOW)
            assert item.interaction_counts[NOW - window] == logged.count()
    assert sum(n for item in found.values() for n in item.interaction_counts.values()) > 0


def test_deal_facts_give_the_interaction_times_only_of_deals_exempted_inside_a_window(
    settings: object, tmp_path: object
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    generate(slug="times", reps=3, deals=60, months=2, seed=5, now=NOW, events_per_deal=30)
    organization = Organization.objects.get(slug="times")
    deal = Opportunity.objects.filter(
        organization=organization,
        status="open",
        events__with_customer=True,
        events__occurred_at__gte=NOW - dt.timedelta(days=7),
        events__occurred_at__lt=NOW,
    ).first()
    assert deal is not None
    Exemption.objects.create(
        organization=organization,
        opportunity=deal,
        starts_at=NOW - dt.timedelta(days=3),
        ends_at=NOW - dt.timedelta(days=1),
        reason="客户临时失联",
        declared_by=deal.owner,
        recheck_at=NOW + dt.timedelta(days=11),
        created_at=NOW - dt.timedelta(days=3),
    )

    found = facts.deal_facts(
        policy=Policies(organization).default, deal_q=Q(), now=NOW, windows=WINDOWS
    )

    with_times = {deal_id for deal_id, item in found.items() if item.interactions}
    assert with_times <= {deal.pk} | {
        deal_id
        for deal_id, item in found.items()
        if any(e.overlap(NOW - max(WINDOWS), NOW) for e in item.exemptions)
    }
    logged = Event.objects.filter(
        opportunity=deal, with_customer=True, occurred_at__gte=NOW - max(WINDOWS)
    ).filter(occurred_at__lt=NOW)
    assert logged.exists()
    times = sorted(logged.values_list("occurred_at", flat=True))
    assert sorted(found[deal.pk].interactions) == times
