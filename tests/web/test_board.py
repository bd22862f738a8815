"""The pipeline board: filters kept in the address, counts and sums per column, risk flags on
the cards, the phone's stage tabs, and a number of queries that does not grow with the deals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lodestar.insights.models import Alert, AlertStatus
from lodestar.web.board import BoardFilters, board_page
from tests.conftest import Cast
from tests.web.conftest import htmx

ClientAs = Callable[[Any], Client]


def _column(page: str, stage: str) -> str:
    """The HTML of one column of the board."""
    match = re.search(rf'<section class="column[^"]*" id="col-{stage}".*?</section>', page, re.S)
    assert match, f"no column {stage}"
    return match.group(0)


def _sum(page: str, stage: str) -> str:
    match = re.search(rf'<p class="column-sum" id="sum-{stage}"[^>]*>(.*?)</p>', page, re.S)
    assert match, f"no sum for {stage}"
    return re.sub(r"<[^>]+>", "", match.group(1))


@pytest.fixture
def deals(cast: Cast, published: Any) -> dict[str, Any]:
    from tests.factories import AccountFactory, OpportunityFactory

    acme = AccountFactory(organization=cast.org, name="宁波注塑机械")
    return {
        "big": OpportunityFactory(
            owner=cast.owner, name="伺服电机改造", stage_key="demo", amount=Decimal("1250000")
        ),
        "small": OpportunityFactory(
            owner=cast.owner,
            name="备件年度框架",
            stage_key="demo",
            amount=Decimal("30000"),
            account=acme,
        ),
        "mate": OpportunityFactory(
            owner=cast.teammate, name="产线升级", stage_key="quote", amount=Decimal("800000")
        ),
        "south": OpportunityFactory(
            owner=cast.other_team_rep, name="华南项目", stage_key="demo", amount=Decimal("5000")
        ),
    }


def test_it_shows_count_and_sum_per_column_with_thousands_separators(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    page = client_as(cast.manager).get(reverse("web:board")).content.decode()
    assert _sum(page, "demo") == "2 deals ¥1,280,000"
    assert _sum(page, "quote") == "1 deal ¥800,000"
    assert _sum(page, "first_contact") == "0 deals ¥0"
    assert "No open deal in this stage." in _column(page, "first_contact")


def test_it_filters_by_text_in_the_deal_or_account_name_and_keeps_it_in_the_links(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    page = client_as(cast.manager).get(reverse("web:board"), {"q": "宁波"}).content.decode()
    assert f'id="card-{deals["small"].pk}"' in page
    assert f'id="card-{deals["big"].pk}"' not in page
    assert _sum(page, "demo") == "1 deal ¥30,000"
    assert _sum(page, "quote") == "0 deals ¥0"
    # The phone's stage tabs keep the filter in their address.
    assert 'href="?q=%E5%AE%81%E6%B3%A2&amp;stage=demo"' in page
    assert 'value="宁波"' in page


def test_it_filters_by_owner_and_team(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    admin = client_as(cast.admin)
    by_owner = admin.get(reverse("web:board"), {"owner": cast.teammate.pk}).content.decode()
    assert f'id="card-{deals["mate"].pk}"' in by_owner
    assert f'id="card-{deals["big"].pk}"' not in by_owner
    assert _sum(by_owner, "demo") == "0 deals ¥0"
    south_team = deals["south"].team
    by_team = admin.get(reverse("web:board"), {"team": south_team.pk}).content.decode()
    assert f'id="card-{deals["south"].pk}"' in by_team
    assert _sum(by_team, "demo") == "1 deal ¥5,000"


def test_it_offers_only_the_owners_and_teams_in_the_users_scope(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    page = client_as(cast.manager).get(reverse("web:board")).content.decode()
    assert f'<option value="{cast.owner.pk}">' in page
    assert f'<option value="{cast.other_team_rep.pk}">' not in page


def test_it_refuses_an_unknown_owner_with_a_clear_message_and_filters_nothing(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    response = client_as(cast.manager).get(reverse("web:board"), {"owner": cast.other_team_rep.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "These filters were not applied:" in page
    assert "Owner: Select a valid choice." in page
    assert f'id="card-{deals["big"].pk}"' in page


def test_it_counts_deals_in_another_currency_without_adding_them_up(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, stage_key="demo", currency="USD", amount=Decimal("9"))
    page = client_as(cast.owner).get(reverse("web:board")).content.decode()
    assert _sum(page, "demo") == "3 deals ¥1,280,000 +1 in another currency"


def test_it_flags_open_alerts_overdue_tasks_and_time_past_the_stage_target(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    from tests.factories import OpportunityFactory, TaskFactory

    now = timezone.now()
    slow = OpportunityFactory(
        owner=cast.owner,
        name="停滞商机",
        stage_key="demo",
        stage_entered_at=now - dt.timedelta(days=8, hours=1),
    )
    TaskFactory(
        opportunity=slow, created_at=now - dt.timedelta(days=3), due_at=now - dt.timedelta(days=1)
    )
    TaskFactory(opportunity=slow, created_at=now, due_at=now + dt.timedelta(days=1))
    for recipient in (cast.owner, cast.manager):  # one condition, told to two people
        Alert.objects.create(
            organization=cast.org,
            kind="silent",
            opportunity=slow,
            recipient=recipient,
            dedupe_key=f"silent:{slow.pk}:{recipient.pk}",
            message_zh="静默",
            message_en="silent",
            raised_at=now,
        )
    Alert.objects.create(
        organization=cast.org,
        kind="stale",
        opportunity=slow,
        recipient=cast.owner,
        dedupe_key=f"stale:{slow.pk}",
        message_zh="停滞",
        message_en="stale",
        raised_at=now,
        status=AlertStatus.RESOLVED,
    )
    page = client_as(cast.owner).get(reverse("web:board")).content.decode()
    card = re.search(
        rf'<li class="board-card[^"]*" id="card-{slow.pk}".*?</li>\s*</ul>', page, re.S
    )
    assert card
    text = card.group(0)
    assert "1 open alert<" in text  # the resolved one does not count, two recipients are one
    assert "1 task overdue" in text
    # 8 days in a 5-day stage: 3 days past (worded by the one duration format).
    assert re.search(r"◔</span> 3\W*(d|day)[^<]*past the stage", text)
    assert 'aria-label="Risks"' in text
    quiet = re.search(rf'id="card-{deals["big"].pk}".*?</li>', page, re.S)
    assert quiet
    assert "flags" not in quiet.group(0)


def test_it_shows_a_phone_the_first_stage_holding_deals_unless_another_is_asked_for(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    client = client_as(cast.owner)
    page = client.get(reverse("web:board")).content.decode()
    assert re.search(r'class="column current" id="col-demo"', page)
    assert re.search(r'class="column" id="col-first_contact"', page)
    assert 'id="tab-demo" href="?stage=demo" aria-controls="col-demo" aria-selected="true"' in page
    asked = client.get(reverse("web:board"), {"stage": "quote"}).content.decode()
    assert re.search(r'class="column current" id="col-quote"', asked)
    # Closed stages have no tab: a deal is closed with its "Move to" list.
    assert 'id="tab-won"' not in page


def test_a_move_answers_with_the_card_and_the_columns_new_sums_under_the_filters(
    cast: Cast, client_as: ClientAs, deals: dict[str, Any]
) -> None:
    url = reverse("web:board-move", args=[deals["small"].pk])
    response = htmx(client_as(cast.owner), url, {"to_stage": "first_contact", "q": "宁波"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-stage="first_contact"' in body
    assert 'id="sum-first_contact" hx-swap-oob="true"' in body
    assert _sum(body, "first_contact") == "1 deal ¥30,000"
    assert _sum(body, "demo") == "0 deals ¥0"  # the big deal does not match 宁波
    assert 'id="tab-count-demo" hx-swap-oob="true"' in body


def test_it_keeps_the_cards_of_a_column_to_a_page_and_says_how_many_more(
    cast: Cast, client_as: ClientAs, published: Any
) -> None:
    from lodestar.web import board
    from tests.factories import OpportunityFactory

    for _ in range(board.CARDS_PER_STAGE + 2):
        OpportunityFactory(owner=cast.owner, stage_key="quote")
    page = client_as(cast.owner).get(reverse("web:board")).content.decode()
    column = _column(page, "quote")
    assert column.count('class="board-card') == board.CARDS_PER_STAGE
    assert "2 more deals not shown" in column
    assert _sum(page, "quote").startswith(f"{board.CARDS_PER_STAGE + 2} deals")


def _board_queries(user: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        page = board_page(user=user, filters=BoardFilters(), now=timezone.now())
        assert page.columns
    return len(captured.captured_queries)


def test_it_reads_the_board_in_the_same_few_queries_for_600_deals_as_for_6(
    cast: Cast, published: Any, django_assert_max_num_queries: Any
) -> None:
    from tests.factories import AccountFactory, OpportunityFactory

    accounts = [AccountFactory(organization=cast.org) for _ in range(5)]
    stages = ["first_contact", "demo", "tech_confirmed", "quote"]
    for n in range(6):
        OpportunityFactory(owner=cast.owner, stage_key=stages[n % 4], account=accounts[n % 5])
    few = _board_queries(cast.manager)
    for n in range(594):
        OpportunityFactory(owner=cast.teammate, stage_key=stages[n % 4], account=accounts[n % 5])
    many = _board_queries(cast.manager)
    assert many == few
    # Fewer than one query per column: sums, cards, two kinds of flags, the playbook, the actor.
    with django_assert_max_num_queries(len(stages) + 2):
        page = board_page(user=cast.manager, filters=BoardFilters(), now=timezone.now())
    assert sum(column.sums.count for column in page.columns) == 600
    assert sum(len(column.cards) for column in page.columns) == 160


def test_the_board_page_answers_in_a_fixed_number_of_queries(
    cast: Cast, client_as: ClientAs, published: Any, django_assert_num_queries: Any
) -> None:
    from tests.factories import OpportunityFactory

    client = client_as(cast.manager)
    client.get(reverse("web:board"))  # warm the session, the playbook and the page's caches
    for n in range(3):
        OpportunityFactory(owner=cast.owner, stage_key="demo", name=f"第{n}单")
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("web:board"))
    for n in range(60):
        OpportunityFactory(owner=cast.teammate, stage_key="quote", name=f"又{n}单")
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(reverse("web:board"))
    assert response.status_code == 200
