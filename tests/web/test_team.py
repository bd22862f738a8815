"""The administrators' team pages and the audit log, through the test client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from lodestar.org.models import AuditEntry, Membership, Role, Team, User
from lodestar.org.services import audit_record
from tests.conftest import Cast
from tests.factories import OpportunityFactory, TaskFactory, TeamFactory

ClientAs = Callable[[Any], Client]


def _post(client: Client, url: str, data: dict[str, Any]) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def test_the_members_page_lists_role_team_state_and_last_sign_in(
    cast: Cast, client_as: ClientAs
) -> None:
    User.objects.filter(pk=cast.owner.pk).update(last_login=timezone.now())
    page = client_as(cast.admin).get(reverse("web:team")).content.decode()
    for person in (cast.owner, cast.manager, cast.ops, cast.other_team_rep):
        assert str(person) in page
    assert str(cast.outsider) not in page
    assert "Sales manager" in page
    assert cast.team.name in page
    assert "Invited, not signed in yet" in page


def test_the_members_page_filters_by_role_team_state_and_text(
    cast: Cast, client_as: ClientAs
) -> None:
    client = client_as(cast.admin)
    page = client.get(reverse("web:team"), {"role": "manager"}).content.decode()
    assert str(cast.manager) in page
    assert str(cast.owner) not in page
    page = client.get(reverse("web:team"), {"team": cast.team.pk}).content.decode()
    assert str(cast.owner) in page
    assert str(cast.other_team_rep) not in page
    User.objects.filter(pk=cast.teammate.pk).update(is_active=False)
    page = client.get(reverse("web:team"), {"active": "no"}).content.decode()
    assert str(cast.teammate) in page
    assert str(cast.owner) not in page
    page = client.get(reverse("web:team"), {"q": cast.owner.email}).content.decode()
    assert "1 member" in page


@pytest.mark.parametrize("who", ["manager", "owner", "ops"])
def test_reps_managers_and_ops_get_403_on_the_team_pages(
    cast: Cast, client_as: ClientAs, who: str
) -> None:
    client = client_as(getattr(cast, who))
    for url in (
        reverse("web:team"),
        reverse("web:team-member", args=[cast.teammate.pk]),
        reverse("web:teams"),
    ):
        assert client.get(url).status_code == 403
    response = client.post(
        reverse("web:team-invite"),
        {"display_name": "x", "email": "x@example.com", "role": "admin"},
    )
    assert response.status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_another_organizations_people_and_teams_are_not_found(
    cast: Cast, client_as: ClientAs
) -> None:
    client = client_as(cast.admin)
    assert client.get(reverse("web:team-member", args=[cast.outsider.pk])).status_code == 404
    response = client.post(
        reverse("web:team-member-deactivate", args=[cast.outsider.pk]),
        {"successor": cast.owner.pk},
    )
    assert response.status_code == 404
    foreign = TeamFactory(organization=cast.outsider.membership.organization)
    response = client.post(reverse("web:team-update", args=[foreign.pk]), {"name": "mine now"})
    assert response.status_code == 404
    cast.outsider.refresh_from_db()
    assert cast.outsider.is_active
    assert Team.objects.get(pk=foreign.pk).name != "mine now"


def test_an_admin_invites_and_the_mail_holds_a_set_password_link(
    cast: Cast, client_as: ClientAs
) -> None:
    response = _post(
        client_as(cast.admin),
        reverse("web:team-invite"),
        {
            "display_name": "钱多多",
            "email": "qian@example.com",
            "role": "rep",
            "team": cast.team.pk,
        },
    )
    assert response.status_code == 302
    member = Membership.objects.get(user__email="qian@example.com")
    assert (member.role, member.team, member.organization) == (Role.REP, cast.team, cast.org)
    [message] = mail.outbox
    assert re.search(r"http://testserver/invitation/\S+/\S+/", message.body)
    assert "password" not in response.cookies


def test_a_refused_invitation_keeps_what_was_typed_and_says_why(
    cast: Cast, client_as: ClientAs
) -> None:
    response = _post(
        client_as(cast.admin),
        reverse("web:team-invite"),
        {"display_name": "钱多多", "email": cast.owner.email, "role": "rep"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "already has the e-mail address" in page
    assert 'value="钱多多"' in page
    assert mail.outbox == []


def test_an_admin_sets_role_and_team(cast: Cast, client_as: ClientAs) -> None:
    other = TeamFactory(organization=cast.org, name="华北组")
    response = client_as(cast.admin).post(
        reverse("web:team-member-role", args=[cast.owner.pk]), {"role": "manager", "team": other.pk}
    )
    assert response.status_code == 302
    member = Membership.objects.get(user=cast.owner)
    assert (member.role, member.team) == (Role.MANAGER, other)


def test_the_last_admin_is_refused_clearly(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.admin).post(
        reverse("web:team-member-role", args=[cast.admin.pk]), {"role": "rep", "team": ""}
    )
    assert response.status_code == 422
    assert "last active administrator" in response.content.decode()
    assert Membership.objects.get(user=cast.admin).role == Role.ADMIN


def test_deactivation_shows_the_work_then_hands_it_over(cast: Cast, client_as: ClientAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    TaskFactory(opportunity=deal)
    client = client_as(cast.admin)
    page = client.get(reverse("web:team-member", args=[cast.owner.pk])).content.decode()
    assert "1 open deal" in page
    assert "1 open task" in page
    response = client.post(
        reverse("web:team-member-deactivate", args=[cast.owner.pk]),
        {"successor": cast.teammate.pk},
        follow=True,
    )
    assert "took over" in response.content.decode()
    deal.refresh_from_db()
    assert deal.owner == cast.teammate
    page = client.get(reverse("web:team-member", args=[cast.owner.pk])).content.decode()
    assert "Reactivate" in page
    assert "Member deactivated, work handed over" in page


def test_deactivation_without_a_successor_is_refused(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.admin).post(
        reverse("web:team-member-deactivate", args=[cast.owner.pk]), {"successor": ""}
    )
    assert response.status_code == 422
    assert "Choose who takes over the open work." in response.content.decode()
    cast.owner.refresh_from_db()
    assert cast.owner.is_active


def test_an_admin_creates_and_renames_teams(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.admin)
    response = client.post(
        reverse("web:team-create"), {"name": "华北组", "manager": cast.manager.pk}
    )
    assert response.status_code == 302
    team = Team.objects.get(organization=cast.org, name="华北组")
    assert team.manager == cast.manager
    response = client.post(reverse("web:team-update", args=[team.pk]), {"name": cast.team.name})
    assert response.status_code == 422
    assert "already exists" in response.content.decode()
    client.post(reverse("web:team-update", args=[team.pk]), {"name": "华北大区", "manager": ""})
    team.refresh_from_db()
    assert (team.name, team.manager) == ("华北大区", None)
    assert "华北大区" in client.get(reverse("web:teams")).content.decode()


# --- the audit log -------------------------------------------------------------------------------


def test_ops_and_admins_read_the_audit_log_reps_and_managers_get_403(
    cast: Cast, client_as: ClientAs
) -> None:
    audit_record(
        organization_id=cast.org.pk,
        actor=cast.manager,
        action="task.reassign",
        object_type="task",
        object_id=7,
        data={"from": cast.owner.pk, "to": cast.outsider.pk},
    )
    for who in (cast.ops, cast.admin):
        page = client_as(who).get(reverse("web:audit")).content.decode()
        assert "Task reassigned" in page
        assert f"Changed from: {cast.owner}" in page
        # a person of another organization is never named, whatever the log holds
        assert f"Changed to: #{cast.outsider.pk}" in page
    for who in (cast.owner, cast.manager):
        assert client_as(who).get(reverse("web:audit")).status_code == 403


def test_the_audit_log_filters_by_actor_object_and_date_and_pages(
    cast: Cast, client_as: ClientAs
) -> None:
    now = timezone.now()
    for n in range(55):
        audit_record(
            organization_id=cast.org.pk,
            actor=cast.admin,
            action="team.update",
            object_type="team",
            object_id=n,
            at=now - dt.timedelta(minutes=n),
        )
    old = now - dt.timedelta(days=40)
    audit_record(
        organization_id=cast.org.pk,
        actor=cast.ops,
        action="playbook.publish",
        object_type="playbook_version",
        object_id=3,
        at=old,
    )
    audit_record(
        organization_id=cast.outsider.membership.organization_id,
        actor=cast.outsider,
        action="playbook.publish",
        object_type="playbook_version",
        object_id=99,
    )
    client = client_as(cast.ops)
    first = client.get(reverse("web:audit")).content.decode()
    assert "56 entries" in first
    assert "Page 1 of 2" in first
    second = client.get(reverse("web:audit"), {"page": 2}).content.decode()
    assert "Playbook version #3" in second
    assert "#99" not in first + second
    by_actor = client.get(reverse("web:audit"), {"actor": cast.ops.pk}).content.decode()
    assert "1 entry" in by_actor
    by_object = client.get(
        reverse("web:audit"), {"object_type": "team", "object_id": "4"}
    ).content.decode()
    assert "1 entry" in by_object
    day = timezone.localtime(old, cast.org.tz).date().isoformat()
    by_date = client.get(reverse("web:audit"), {"date_from": day, "date_to": day}).content.decode()
    assert "1 entry" in by_date
    assert AuditEntry.objects.count() == 57


def test_the_invitation_is_written_in_the_inviting_admins_language(cast: Cast) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.admin)
    _post(
        client,
        reverse("web:team-invite"),
        {"display_name": "钱多多", "email": "qian@example.com", "role": "rep"},
    )
    [message] = mail.outbox
    assert cast.org.name in message.subject
    assert "邀请你使用" in message.body
    assert "用户名" in message.body


def test_the_members_list_pages_by_fifty_keeping_its_filters(
    cast: Cast, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import UserFactory

    for number in range(55):
        UserFactory(
            organization=cast.org, role=Role.REP, team=cast.team, username=f"rep{number:02}"
        )
    client = client_as(cast.admin)
    first = client.get(reverse("web:team"), {"role": "rep"}).content.decode()
    assert first.count('<li>\n      <a href="/team/') == 50
    assert "Page 1 of 2" in first
    assert "?role=rep&amp;page=2" in first
    second = client.get(reverse("web:team"), {"role": "rep", "page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert second.count('<li>\n      <a href="/team/') == 55 + 3 - 50
