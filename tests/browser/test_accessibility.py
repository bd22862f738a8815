"""axe-core on every page each role reaches, on a 375 px phone and a 1280 px desk.

The pages are found from the web app's URL patterns (`lodestar.web.urls`), so a page added there
is checked without touching this file: each named pattern is reversed with the world's ids, asked
for as each role, and every answer that is a whole page (HTML with a `<main>`) is opened in the
browser, its fragments loaded, and axe-core run on it. A serious or critical violation fails,
and so does any landmark problem (a page's regions must be told apart), and a page wider than
the screen it is shown on.
A pattern with a parameter this file does not know fails too, so no page is skipped silently.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from tests.browser.conftest import (
    AXE_BLOCKING,
    DESKTOP,
    ONE_DATABASE_ENOUGH,
    PHONE,
    axe_violations,
    log_in,
)
from tests.conftest import Cast, seed_playbook_source

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    ONE_DATABASE_ENOUGH,
]

ROLES = ("owner", "manager", "ops", "admin")
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
# Addresses that are not pages to look at: leaving, and the file bodies.
NOT_PAGES = {
    "logout",
    "attachment",
    "attachment-download",
    "knowledge-file",
    "export",
    "weekly-report-pdf",
}


@dataclass
class World:
    cast: Cast
    ids: dict[str, Any]


@pytest.fixture
def world(cast: Cast, settings: Any, tmp_path: Any) -> World:
    """One of everything the pages show: a deal with its account, contact, task, file and
    alert, a knowledge entry, a health score, a team."""
    from lodestar.imports.services import import_upload
    from lodestar.playbooks.services import playbook_publish_source
    from tests.factories import (
        AlertFactory,
        AttachmentFactory,
        ContactFactory,
        HealthSnapshotFactory,
        KnowledgeEntryFactory,
        NotificationFactory,
        OpportunityFactory,
        TaskFactory,
        WebhookAttemptFactory,
        WeeklyReportFactory,
    )

    settings.MEDIA_ROOT = str(tmp_path)
    playbook_publish_source(user=cast.ops, source=seed_playbook_source(), source_name="seed.yaml")
    now = timezone.now()
    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机", stage_key="demo")
    contact = ContactFactory(account=deal.account, name="王总", is_decision_maker=True)
    task = TaskFactory(opportunity=deal, title="准备行业案例包", due_at=now - dt.timedelta(hours=5))
    attachment = AttachmentFactory(opportunity=deal)
    alert = AlertFactory(opportunity=deal, recipient=cast.manager, message_zh="已 3 天无客户互动")
    entry = KnowledgeEntryFactory(organization=cast.org, title="高频异议应答手册")
    HealthSnapshotFactory(rep=cast.owner, date=timezone.localdate(now), score=64.0)
    NotificationFactory(recipient=cast.owner, title="商机“华东机床-伺服电机”已静默 3 天")
    ids = {
        "deal_id": deal.pk,
        "account_id": deal.account_id,
        "contact_id": contact.pk,
        "task_id": task.pk,
        "attachment_id": attachment.pk,
        "alert_id": alert.pk,
        "rep_id": cast.owner.pk,
        "user_id": cast.owner.pk,
        "team_id": cast.team.pk,
        "entry_id": entry.pk,
        "file_id": 0,
        "metric": "task_on_time",
        "part": "tiles",
        # An import waiting for its mapping: the page of one import, with the mapping table.
        "batch_id": import_upload(
            user=cast.ops,
            kind="accounts",
            file="客户名称,行业\n华东机械,制造\n".encode(),
            filename="a.csv",
        ).pk,
        "report_id": WeeklyReportFactory(team=cast.team).pk,
        # A webhook with a line in its delivery log.
        "webhook_id": WebhookAttemptFactory(
            delivery__subscription__organization=cast.org
        ).subscription_id,
    }
    return World(cast=cast, ids=ids)


def _patterns(patterns: list[Any], prefix: str = "") -> list[tuple[str, list[str]]]:
    """(name, parameter names) of every named pattern of the web app, includes followed."""
    found: list[tuple[str, list[str]]] = []
    for item in patterns:
        if isinstance(item, URLResolver):
            found += _patterns(item.url_patterns, prefix)
        elif isinstance(item, URLPattern) and item.name:
            found.append((item.name, list(getattr(item.pattern, "converters", {}))))
    return found


def _addresses(ids: dict[str, Any]) -> list[str]:
    from lodestar.web import urls

    addresses, unknown = [], []
    for name, params in _patterns(urls.urlpatterns):
        # The set-password pages open from a one-time link in a mail, signed out.
        if name in NOT_PAGES or name.startswith("password-reset") or name == "invitation-accept":
            continue
        missing = [p for p in params if p not in ids]
        if missing:
            unknown.append(f"{name} ({', '.join(missing)})")
            continue
        addresses.append(reverse(f"web:{name}", kwargs={p: ids[p] for p in params}))
    assert not unknown, f"pages whose parameters this test cannot fill: {unknown}"
    return sorted(set(addresses))


def _pages_of(user: Any, addresses: list[str]) -> list[str]:
    """The addresses that answer `user` with a whole page (fragments load inside pages)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    pages = []
    for address in addresses:
        response = client.get(address)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        if b"<main" in response.content:
            pages.append(address)
    return pages


# `LODESTAR_SCREENSHOTS=docs/screenshots pytest tests/browser/test_accessibility.py` refreshes
# the guide's pictures: every page at both widths, as the first role that reaches it sees it.
SCREENSHOTS = os.environ.get("LODESTAR_SCREENSHOTS", "")
_photographed: set[str] = set()


def _photograph(page: Any, address: str, where: str) -> None:
    role, width = where.split("@")
    # Ids differ from run to run: a deal's page is "deals-n" whatever its id.
    name = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\d+", "n", address.lower())).strip("-") or "home"
    if f"{name}-{width}" in _photographed:
        return
    _photographed.add(f"{name}-{width}")
    page.screenshot(path=str(Path(SCREENSHOTS) / f"page-{name}-{width}-{role}.png"))


def _overflow(page: Any) -> int:
    """How far the page reaches past the screen's right edge, in CSS pixels."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def _check(page: Any, base: str, addresses: list[str], where: str) -> list[str]:
    problems = []
    for address in addresses:
        page.goto(f"{base}{address}")
        page.wait_for_load_state("networkidle")
        if SCREENSHOTS:
            _photograph(page, address, where)
        if (wider := _overflow(page)) > 0:
            problems.append(f"{where} {address}: the page is {wider} px wider than the screen")
        # Forms folded in <details> (log a call, upload, add a task) are checked open.
        page.evaluate(
            "() => document.querySelectorAll('details').forEach((d) => { d.open = true; })"
        )
        page.wait_for_load_state("networkidle")
        for v in axe_violations(page, ALL_IMPACTS):
            if v["impact"] not in AXE_BLOCKING and not v["id"].startswith("landmark"):
                continue  # the landmarks are held to every impact, the rest to serious ones
            problems.append(
                f"{where} {address}: {v['impact']} {v['id']} ({v['help']}): "
                + ", ".join(v["nodes"])
            )
    return problems


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_has_no_serious_accessibility_violation(
    world: World, live_server: Any, open_page: Any, role: str, viewport: dict[str, int]
) -> None:
    user = getattr(world.cast, role)
    pages = _pages_of(user, _addresses(world.ids))
    assert reverse("web:today") in pages or role != "owner"
    assert len(pages) >= 3, pages
    # The phone in Chinese, the desk in English: names and labels are checked in both.
    page = open_page(viewport, locale="zh-CN" if viewport == PHONE else "en-US")
    log_in(page, live_server.url, user.username)
    problems = _check(page, live_server.url, pages, f"{role}@{viewport['width']}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_pages_before_signing_in_have_no_serious_accessibility_violation(
    world: World, live_server: Any, open_page: Any, chromium: Any, viewport: dict[str, int]
) -> None:
    page = open_page(viewport, locale="zh-CN")
    addresses = [reverse("web:login"), reverse("web:password-reset")]
    problems = _check(page, live_server.url, addresses, f"anonymous@{viewport['width']}")
    # The error page answers 404, which the browser logs as an error: a context of its own.
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    try:
        missing = context.new_page()
        response = missing.goto(f"{live_server.url}/no-such-page/")
        assert response is not None
        assert response.status == 404
        problems += [
            f"404 page: {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}"
            for v in axe_violations(missing)
        ]
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_violation_where_there_is_one(open_page: Any) -> None:
    page = open_page(PHONE)
    page.set_content(
        '<html lang="en"><title>t</title><body><main><input type="text"></main></body></html>'
    )
    assert [v["id"] for v in axe_violations(page)] == ["label"]


# The focused element's outline (or a ring drawn with a shadow), as the browser paints it.
_FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {tag: el.tagName, text: (el.textContent || "").trim().slice(0, 30),
          ring: ring || style.boxShadow !== "none"};
}"""


def test_every_control_shows_where_the_keyboard_is(
    world: World, live_server: Any, open_page: Any
) -> None:
    page = open_page(PHONE, locale="zh-CN")
    log_in(page, live_server.url, "owner")
    page.goto(f"{live_server.url}{reverse('web:today')}")
    page.wait_for_load_state("networkidle")
    seen = []
    for _ in range(15):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUS_RING)
        if focused is not None:
            seen.append(focused)
    assert len(seen) >= 10
    assert all(f["ring"] for f in seen), [f for f in seen if not f["ring"]]


def test_a_drilldown_is_a_card_per_row_on_a_phone(
    world: World, live_server: Any, open_page: Any
) -> None:
    from tests.factories import TaskFactory

    TaskFactory(
        opportunity_id=world.ids["deal_id"],
        assignee=world.cast.owner,
        title="发送定制化方案并确认参会决策人名单",
        due_at=timezone.now() - dt.timedelta(days=2),
    )
    page = open_page(PHONE, locale="zh-CN")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}{reverse('web:drilldown', args=['task_on_time'])}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    widths = page.eval_on_selector_all(
        ".drill-table tbody td", "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert widths
    assert min(widths) > 250  # each value spans the card, never a character per line
    labels = page.eval_on_selector_all(
        ".drill-table tbody td", "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert '"截止时间"' in labels
