"""An event re-renders the kept pages that show its deal, and no others.

The event road says what it touched (`lodestar.changes`); pages are kept under the versions of
what they show (`lodestar.web.caching.kept_page`). Renders are counted by template. These tests
commit for real (`transactional_db`): versions change when a transaction commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.events.services import events_ingest
from lodestar.org.models import Role
from tests.conftest import Cast
from tests.web.conftest import DemoDeal

ClientAs = Callable[[Any], Client]

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each template was rendered for a kept page."""
    from lodestar.web import caching

    counted: Counter[str] = Counter()
    render = caching.render

    def counting(request: Any, template: str, context: Any = None, **kwargs: Any) -> Any:
        counted[template] += 1
        return render(request, template, context, **kwargs)

    monkeypatch.setattr(caching, "render", counting)
    return counted


@pytest.fixture
def south_manager(cast: Cast) -> Any:
    """The manager of the other team (the one `cast.other_team_rep` works in)."""
    from tests.factories import UserFactory

    team = cast.other_team_rep.membership.team
    manager = UserFactory(organization=cast.org, role=Role.MANAGER, team=team, username="south")
    team.manager = manager
    team.save()
    return manager


def _log(user: Any, deal: Any, kind: str = "call") -> None:
    report = events_ingest(
        user=user,
        items=[
            {
                "type": kind,
                "source": "test",
                "external_id": uuid.uuid4().hex,
                "occurred_at": timezone.now(),
                "opportunity_id": deal.pk,
                "payload": {},
            }
        ],
    )
    assert report.count("accepted") == 1


def _visit(client: Client, *names: str) -> None:
    for name in names:
        assert client.get(reverse(name)).status_code == 200


def test_it_renders_no_page_of_another_organization_for_an_event(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, renders: Counter[str]
) -> None:
    outsider = client_as(cast.outsider)
    _visit(outsider, "web:today", "web:today-deals", "web:dashboard", "web:inbox")
    renders.clear()

    _log(cast.owner, demo_deal.deal)

    _visit(outsider, "web:today", "web:today-deals", "web:dashboard", "web:inbox")
    assert renders == Counter()


def test_it_renders_no_page_of_an_unrelated_team_for_an_event(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, south_manager: Any, renders: Counter[str]
) -> None:
    manager, rep = client_as(south_manager), client_as(cast.other_team_rep)
    _visit(manager, "web:dashboard")
    _visit(rep, "web:today", "web:today-deals")
    renders.clear()

    _log(cast.owner, demo_deal.deal)

    _visit(manager, "web:dashboard")
    _visit(rep, "web:today", "web:today-deals")
    assert renders == Counter()


def test_it_renders_again_the_pages_that_show_the_deal(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, renders: Counter[str]
) -> None:
    owner, manager, admin = (client_as(u) for u in (cast.owner, cast.manager, cast.admin))
    stuck = reverse("web:dashboard-part", args=["stuck"])
    _visit(owner, "web:today-deals")
    for client in (manager, admin):
        assert client.get(stuck).status_code == 200
    renders.clear()

    _log(cast.owner, demo_deal.deal)

    _visit(owner, "web:today-deals")
    for client in (manager, admin):
        assert client.get(stuck).status_code == 200
    assert renders == Counter({"web/partials/today_deals.html": 1, "web/partials/stuck.html": 2})


def test_it_takes_a_deal_off_the_kept_dashboards_silent_list_when_the_customer_answers(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    from lodestar.crm.models import Opportunity
    from lodestar.insights.refresh import insights_refresh

    deal = demo_deal.deal
    Opportunity.objects.filter(pk=deal.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    insights_refresh(organization_id=cast.org.pk, deal_ids=[deal.pk])
    manager = client_as(cast.manager)
    assert "No customer interaction for" in manager.get(reverse("web:dashboard")).content.decode()

    _log(cast.owner, deal, kind="meeting.held")

    page = manager.get(reverse("web:dashboard")).content.decode()
    assert "No customer interaction for" not in page


def test_it_keeps_the_reps_task_list_when_an_event_changes_no_task_of_theirs(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, renders: Counter[str]
) -> None:
    owner = client_as(cast.owner)
    _visit(owner, "web:today")
    renders.clear()

    _log(cast.manager, demo_deal.deal)

    _visit(owner, "web:today")
    assert renders == Counter()


def test_it_shows_the_task_an_event_triggers_on_the_assignees_kept_page_at_once(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    owner = client_as(cast.owner)
    # Trigger tasks are titled in the reader's language (the playbook's title in English).
    assert (
        "Prepare case pack and trial account"
        not in owner.get(reverse("web:today")).content.decode()
    )

    _log(cast.manager, demo_deal.deal, kind="demo.booked")

    page = owner.get(reverse("web:today")).content.decode()
    assert "Prepare case pack and trial account" in page
    assert 'id="inbox-badge" class="badge" hidden' not in page  # the task was announced
