"""What the pages keep between requests: a user's own writes show at once; drill-down headers;
the stuck deals ranked by how far past their stage's target they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Cast
from tests.factories import TaskFactory
from tests.web.conftest import DemoDeal, htmx

ClientAs = Callable[[Any], Client]


def test_it_shows_the_reps_own_change_at_once_though_the_page_is_kept(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    done_button = f'hx-post="{reverse("web:task-done", args=[demo_deal.task.pk])}"'
    assert done_button in client.get(reverse("web:today")).content.decode()
    client.get(reverse("web:today-deals"))

    htmx(client, reverse("web:task-done", args=[demo_deal.task.pk]))
    assert done_button not in client.get(reverse("web:today")).content.decode()


def test_it_keeps_a_page_for_its_user_only(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    assert (
        demo_deal.deal.name
        in client_as(cast.owner).get(reverse("web:today-deals")).content.decode()
    )
    other = client_as(cast.teammate).get(reverse("web:today-deals")).content.decode()
    assert demo_deal.deal.name not in other


def test_it_shows_drilldown_columns_in_words(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    now = timezone.now()
    TaskFactory(
        opportunity=demo_deal.deal,
        title="催款",
        created_at=now - dt.timedelta(days=3),
        due_at=now - dt.timedelta(days=2),
    )
    page = client_as(cast.manager).get(reverse("web:drilldown", args=["task_on_time"]))
    html = page.content.decode()
    assert '<th scope="col">Due at</th>' in html
    assert '<th scope="col">Deal</th>' in html
    assert ">due_at<" not in html
    assert f'href="{reverse("web:deal", args=[demo_deal.deal.pk])}"' in html


def test_it_ranks_stuck_deals_by_overrun_of_their_stages_target(
    cast: Cast, client_as: ClientAs, published: Any
) -> None:
    from tests.factories import OpportunityFactory

    now = timezone.now()
    a_little = OpportunityFactory(
        owner=cast.owner, name="稍久", stage_key="demo", stage_entered_at=now - dt.timedelta(days=8)
    )
    far = OpportunityFactory(
        owner=cast.teammate,
        name="很久",
        stage_key="demo",
        stage_entered_at=now - dt.timedelta(days=40),
    )
    within = OpportunityFactory(
        owner=cast.owner,
        name="正常",
        stage_key="demo",
        stage_entered_at=now - dt.timedelta(hours=2),
    )
    html = (
        client_as(cast.manager).get(reverse("web:dashboard-part", args=["stuck"])).content.decode()
    )
    assert far.name in html
    assert a_little.name in html
    assert within.name not in html
    assert html.index(far.name) < html.index(a_little.name)
    outsider = client_as(cast.outsider).get(reverse("web:dashboard-part", args=["stuck"]))
    assert far.name not in outsider.content.decode()
