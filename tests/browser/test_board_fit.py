"""The board fits the screen: at 1280 px every stage of an eight-stage playbook can be read with
its header kept in view; on a 375 px phone one stage at a time, picked with tabs, and nothing
wider than the screen; the main navigation is a tab bar at the bottom of a phone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lodestar.industry_templates import template_source
from tests.browser.conftest import DESKTOP, PHONE, log_in, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAGES = [
    "lead",
    "site_survey",
    "technical_solution",
    "quote",
    "negotiation",
    "contract",
    "won",
    "lost",
]


@pytest.fixture
def industrial(cast: Cast) -> Cast:
    """The industrial template (eight stages) published, and deals in every open stage but
    the first."""
    from lodestar.playbooks.services import playbook_publish_source
    from tests.factories import OpportunityFactory

    playbook_publish_source(
        user=cast.ops,
        source=template_source("industrial_equipment"),
        source_name="industrial_equipment.yaml",
    )
    for index, stage in enumerate(STAGES[1:6]):
        for n in range(12):
            OpportunityFactory(
                owner=cast.owner if n % 2 else cast.teammate,
                name=f"华东机床改造项目第{index}{n}期-伺服系统与产线自动化升级",
                stage_key=stage,
                amount=Decimal(150_000 + 10_000 * n),
            )
    return cast


def _page_overflow(page: Any) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_at_1280_every_stage_header_is_in_view_or_reached_by_scrolling_and_stays_on_top(
    industrial: Cast, live_server: Any, open_page: Any
) -> None:
    page = open_page(DESKTOP)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/board/")
    page.wait_for_load_state("networkidle")
    screenshot(page, "board-fit-1280")
    assert _page_overflow(page) <= 0
    board = page.locator("[data-board]")
    board_box = board.bounding_box()
    assert board_box is not None
    for stage in STAGES:
        header = page.locator(f"#col-{stage} .column-head")
        header.scroll_into_view_if_needed()
        box = header.bounding_box()
        assert box is not None, stage
        assert header.is_visible(), stage
        assert box["x"] >= 0, stage
        assert box["x"] + box["width"] <= DESKTOP["width"], stage
    # All eight fit side by side at 1280 px: the first and the last are in view together.
    board.evaluate("el => { el.scrollLeft = 0; el.scrollTop = 0; }")
    first = page.locator("#col-lead .column-head").bounding_box()
    last = page.locator("#col-lost .column-head").bounding_box()
    assert first is not None
    assert last is not None
    assert last["x"] + last["width"] <= DESKTOP["width"]
    assert first["width"] >= 120  # narrow, still readable

    # Scrolling down a long column keeps its stage header at the top of the board.
    before = page.locator("#col-quote .column-head").bounding_box()
    board.evaluate("el => { el.scrollTop = 600; }")
    after = page.locator("#col-quote .column-head").bounding_box()
    assert before is not None
    assert after is not None
    assert abs(after["y"] - board_box["y"]) <= 2
    assert (
        page.locator("#col-quote .column-head").evaluate("el => getComputedStyle(el).position")
        == "sticky"
    )
    # The count and the ¥ sum of each column.
    assert page.locator("#sum-quote").inner_text().startswith("12 deals")
    assert "¥2,460,000" in page.locator("#sum-quote").inner_text()
    # The tab bar is a phone's: at a desk the navigation stays on top.
    assert not page.locator(".stage-tabs").is_visible()
    assert not page.get_by_role("link", name="More").is_visible()


def test_on_a_phone_one_stage_at_a_time_with_tabs_and_nothing_wider_than_the_screen(
    industrial: Cast, live_server: Any, open_page: Any
) -> None:
    page = open_page(PHONE)
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/board/")
    page.wait_for_load_state("networkidle")
    screenshot(page, "board-fit-375")
    assert _page_overflow(page) <= 0
    # The empty first stage does not fill the screen: the first stage holding deals is shown.
    assert not page.locator("#col-lead").is_visible()
    assert page.locator("#col-site_survey").is_visible()
    visible = [s for s in STAGES if page.locator(f"#col-{s}").is_visible()]
    assert visible == ["site_survey"]
    tab = page.get_by_role("tab", name="Negotiation")
    tab.click()
    assert tab.get_attribute("aria-selected") == "true"
    assert page.locator("#col-negotiation").is_visible()
    assert not page.locator("#col-site_survey").is_visible()
    assert page.url.endswith("stage=negotiation")
    # Arrow keys move between the tabs too.
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Contract").get_attribute("aria-selected") == "true"
    assert page.locator("#col-contract").is_visible()
    assert _page_overflow(page) <= 0
    screenshot(page, "board-fit-375-contract")

    # Filters narrow the board and survive switching tabs.
    page.fill("#id_q", "第11期")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert "q=" in page.url
    page.get_by_role("tab", name="Technical solution").click()
    cards = page.locator("#col-technical_solution .board-card")
    assert cards.count() == 1
    assert _page_overflow(page) <= 0


def test_a_phone_has_a_bottom_tab_bar_with_the_rest_under_more(
    industrial: Cast, live_server: Any, open_page: Any
) -> None:
    page = open_page(PHONE)
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}/board/")
    page.wait_for_load_state("networkidle")
    nav = page.get_by_role("navigation", name="Main navigation")
    box = nav.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] >= PHONE["height"] - 1  # at the bottom of the screen
    current = nav.locator('[aria-current="page"]')
    assert current.inner_text().strip() == "Pipeline"
    for name in ("Today", "Pipeline", "Inbox", "More"):
        assert nav.get_by_role("link", name=name).is_visible(), name
    knowledge = nav.get_by_role("link", name="Knowledge")
    assert not knowledge.is_visible()
    nav.get_by_role("link", name="More").click()
    knowledge.wait_for(state="visible")
    assert _page_overflow(page) <= 0
    screenshot(page, "tabbar-more-375")
    knowledge.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/knowledge/")
    assert _page_overflow(page) <= 0
    # The last card of a long page is not hidden under the bar.
    page.goto(f"{live_server.url}/board/")
    page.wait_for_load_state("networkidle")
    last = page.locator("#col-site_survey .board-card").last
    last.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    card_box = last.bounding_box()
    bar_box = nav.bounding_box()
    assert card_box is not None
    assert bar_box is not None
    assert card_box["y"] + card_box["height"] <= bar_box["y"] + 1


def test_ops_get_their_own_tabs(industrial: Cast, live_server: Any, open_page: Any) -> None:
    page = open_page(PHONE)
    log_in(page, live_server.url, "ops")
    page.goto(f"{live_server.url}/knowledge/")
    page.wait_for_load_state("networkidle")
    nav = page.get_by_role("navigation", name="Main navigation")
    for name in ("Playbooks", "Knowledge", "Inbox", "More"):
        assert nav.get_by_role("link", name=name).is_visible(), name
    assert nav.locator('[aria-current="page"]').inner_text().strip() == "Knowledge"
    assert _page_overflow(page) <= 0
    screenshot(page, "knowledge-ops-375")
