"""An administrator staffs the organization in a real browser, on a phone and on a desktop:
invites someone, changes a role and team, and deactivates a rep whose work goes to a teammate."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from lodestar.automation.models import Task
from lodestar.org.models import AuditEntry, Membership, Role, User
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast
from tests.factories import OpportunityFactory, TaskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _checked(page: Any) -> None:
    """No sideways scrolling on the screen, and no serious or critical axe-core violation."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    assert_accessible(page)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_an_admin_invites_changes_a_role_and_deactivates_with_a_handover(
    cast: Cast, live_server: Any, open_page: Any, viewport: dict[str, int]
) -> None:
    deal = OpportunityFactory(owner=cast.owner, name="华东水厂改造")
    task = TaskFactory(opportunity=deal, title="发送方案")
    width = viewport["width"]
    page = open_page(viewport)
    log_in(page, live_server.url, cast.admin.username)

    # The team page and the audit log are in an admin's navigation (on a phone, behind "More").
    page.goto(f"{live_server.url}/")
    assert page.locator("nav a[href='/team/']").count() >= 1
    assert page.locator("nav a[href='/audit/']").count() >= 1
    page.goto(f"{live_server.url}/team/")
    page.wait_for_selector("h1:text-is('Team')")
    _checked(page)
    page.goto(f"{live_server.url}/team/teams/")
    page.wait_for_selector("h1:text-is('Teams')")
    _checked(page)
    page.goto(f"{live_server.url}/team/")

    # Invite: the person gets a link to choose their password; nobody sees one.
    page.fill("#invite-name", "孙小红")
    page.fill("#invite-email", "sun@example.com")
    page.select_option("#invite-role", "rep")
    page.select_option("#invite-team", str(cast.team.pk))
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("text=孙小红 is invited")
    assert page.locator("ul.members li:has-text('孙小红')").count() == 1
    screenshot(page, f"team-members-{width}")
    [message] = mail.outbox
    assert re.search(r"/invitation/\S+/\S+/", message.body)
    invited = Membership.objects.get(user__email="sun@example.com")
    assert (invited.role, invited.team_id) == (Role.REP, cast.team.pk)

    # Change a role and team: the teammate becomes a manager without a team.
    page.click(f"ul.members a[href='/team/{cast.teammate.pk}/']")
    page.wait_for_selector("#role-form")
    page.select_option("#member-role", "manager")
    page.select_option("#member-team", "")
    page.click("#role-form button[type=submit]")
    page.wait_for_selector("text=is now Sales manager")
    member = Membership.objects.get(user=cast.teammate)
    assert (member.role, member.team_id) == (Role.MANAGER, None)

    # Deactivate the owner: their open deal and task go to the southern rep in one step.
    page.goto(f"{live_server.url}/team/{cast.owner.pk}/")
    page.wait_for_selector("#deactivate-form")
    assert page.locator("li:text-is('1 open deal')").count() == 1
    _checked(page)
    screenshot(page, f"team-member-{width}")
    page.select_option("#successor", str(cast.other_team_rep.pk))
    page.click("#deactivate-form button[type=submit]")
    page.wait_for_selector("text=took over")
    assert page.locator("h2:text-is('Reactivate')").count() == 1
    deal.refresh_from_db()
    assert deal.owner_id == cast.other_team_rep.pk
    assert Task.objects.get(pk=task.pk).assignee_id == cast.other_team_rep.pk
    assert not User.objects.get(pk=cast.owner.pk).is_active

    # The audit log tells it, filtered by who did it.
    page.goto(f"{live_server.url}/audit/")
    page.select_option("#audit-actor", str(cast.admin.pk))
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("ul.audit strong:text-is('Member deactivated, work handed over')")
    _checked(page)
    screenshot(page, f"audit-log-{width}")
    actions = set(AuditEntry.objects.filter(actor=cast.admin).values_list("action", flat=True))
    assert {"member.invite", "member.update", "member.deactivate"} <= actions
