"""Stage gates through the API: the seed's demo gate and quote gate, regressions, permissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from lodestar.crm.models import Attachment, Direction, StageTransition
from lodestar.events.models import Event
from lodestar.org.models import AuditEntry
from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import ApiClient, Cast
from tests.factories import ContactFactory, OpportunityFactory

ApiAs = Callable[[Any], ApiClient]


def attach(deal: Any, kind: str, content_type: str = "application/pdf", chars: int = 500) -> None:
    Attachment.objects.create(
        organization=deal.organization,
        opportunity=deal,
        kind=kind,
        file=f"tests/{kind}.bin",
        original_name=f"{kind}.pdf",
        content_type=content_type,
        size=1000,
        sha256="0" * 64,
        text_length=chars,
        uploaded_at=timezone.now() - dt.timedelta(minutes=5),
    )


def attend_demo(api: ApiClient, deal: Any, contacts: list[Any], external_id: str) -> None:
    response = api.post(
        "/events",
        {
            "type": "demo.held",
            "source": "tests",
            "external_id": external_id,
            "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "opportunity_id": deal.pk,
            "payload": {"attendee_contact_ids": [c.pk for c in contacts]},
        },
    )
    assert response.json()["accepted"] == 1, response.json()


@pytest.fixture
def demo_deal(cast: Cast, published: PlaybookVersion) -> Any:
    return OpportunityFactory(owner=cast.owner, stage_key="demo")


def test_it_blocks_the_demo_gate_with_one_decision_maker_and_says_what_is_missing(
    cast: Cast, demo_deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    boss = ContactFactory(account=demo_deal.account, is_decision_maker=True)
    attend_demo(api, demo_deal, [boss], "demo-1")

    response = api.post(f"/opportunities/{demo_deal.pk}/advance", {"to_stage": "tech_confirmed"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "gate_blocked"
    fields = {detail["field"]: detail["message"] for detail in body["details"]}
    assert set(fields) == {"demo.decision_makers", "demo.budget", "demo.minutes"}
    assert "1/2" in fields["demo.decision_makers"]
    assert body["decision"]["allowed"] is False
    demo_deal.refresh_from_db()
    assert demo_deal.stage_key == "demo"
    assert not StageTransition.objects.filter(opportunity=demo_deal).exists()


def test_it_advances_through_the_demo_gate_once_every_criterion_is_met(
    cast: Cast, demo_deal: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    bosses = ContactFactory.create_batch(2, account=demo_deal.account, is_decision_maker=True)
    attend_demo(api, demo_deal, bosses, "demo-2")
    api.patch(f"/opportunities/{demo_deal.pk}", {"custom_fields": {"budget_confirmed": True}})
    attach(demo_deal, "meeting_minutes")

    gate = api.get(f"/opportunities/{demo_deal.pk}/gate").json()
    assert gate["passed"] is True
    response = api.post(f"/opportunities/{demo_deal.pk}/advance", {"to_stage": "tech_confirmed"})

    assert response.status_code == 200, response.json()
    assert response.json()["kind"] == "advance"
    demo_deal.refresh_from_db()
    assert demo_deal.stage_key == "tech_confirmed"
    transition = StageTransition.objects.get(opportunity=demo_deal)
    assert transition.direction == Direction.FORWARD
    assert transition.gate_snapshot[0]["passed"] is True
    assert AuditEntry.objects.filter(action="opportunity.stage_change").count() == 1
    logged = Event.objects.get(opportunity=demo_deal, type="stage.changed")
    assert logged.payload["to"] == "tech_confirmed"


def test_it_shows_the_gate_checklist_with_explanations_in_both_languages(
    cast: Cast, demo_deal: Any, api_as: ApiAs
) -> None:
    body = api_as(cast.owner).get(f"/opportunities/{demo_deal.pk}/gate").json()
    assert body["stage"] == "demo"
    assert body["passed"] is False
    minutes = next(c for c in body["criteria"] if c["id"] == "minutes")
    assert minutes["met"] is False
    assert minutes["explanation_i18n"]["zh"]
    assert minutes["explanation_i18n"]["en"]


def test_it_refuses_the_quote_gate_for_a_docx_signed_quote_and_accepts_a_jpg(
    cast: Cast, published: PlaybookVersion, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    deal = OpportunityFactory(owner=cast.owner, stage_key="quote", amount=50000)
    api.patch(f"/opportunities/{deal.pk}", {"custom_fields": {"signing_period": "within_3m"}})
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    attach(deal, "signed_quote", content_type=docx)

    blocked = api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "won"})
    assert blocked.status_code == 409
    assert [d["field"] for d in blocked.json()["details"]] == ["quote.quote_signed"]

    attach(deal, "signed_quote", content_type="image/jpeg")
    won = api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "won"})
    assert won.status_code == 200, won.json()
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at is not None) == ("won", True)


def test_it_allows_moving_backward_and_records_a_regression(
    cast: Cast, published: PlaybookVersion, api_as: ApiAs
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="tech_confirmed")
    response = api_as(cast.owner).post(f"/opportunities/{deal.pk}/advance", {"to_stage": "demo"})
    assert response.status_code == 200
    assert response.json()["is_regression"] is True
    assert StageTransition.objects.get(opportunity=deal).direction == Direction.BACKWARD


def test_it_names_the_stages_when_the_target_stage_is_unknown(
    cast: Cast, demo_deal: Any, api_as: ApiAs
) -> None:
    response = api_as(cast.owner).post(
        f"/opportunities/{demo_deal.pk}/advance", {"to_stage": "tech"}
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "to_stage"
    assert "tech_confirmed" in response.json()["details"][0]["message"]


def test_it_says_there_is_no_playbook_before_one_is_published(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    response = api_as(cast.owner).get(f"/opportunities/{deal.pk}/gate")
    assert response.status_code == 409
    assert response.json()["code"] == "no_playbook"


@pytest.mark.parametrize(
    ("actor", "gate_status", "advance_status"),
    [
        ("owner", 200, 200),
        ("teammate", 404, 404),
        ("manager", 200, 200),
        ("other_team_rep", 404, 404),
        ("ops", 200, 403),
        ("admin", 200, 200),
        ("outsider", 404, 404),
    ],
)
def test_it_lets_only_people_in_scope_read_and_move_a_deal(
    cast: Cast,
    published: PlaybookVersion,
    api_as: ApiAs,
    actor: str,
    gate_status: int,
    advance_status: int,
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="tech_confirmed")
    api = api_as(getattr(cast, actor))
    assert api.get(f"/opportunities/{deal.pk}/gate").status_code == gate_status
    moved = api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "demo"})
    assert moved.status_code == advance_status
