"""Administrators staff their organization: invitations, roles and teams, deactivation with a
handover of the open work, teams. The owner / teammate / outsider trio of `cast` throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase, override_settings
from django.utils import timezone, translation

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import OpportunityStatus
from lodestar.errors import NotFound, PermissionDenied, ValidationFailed
from lodestar.org.members import (
    member_deactivate,
    member_invitation_resend,
    member_invite,
    member_reactivate,
    member_update,
    team_create,
    team_update,
)
from lodestar.org.models import ApiToken, AuditEntry, Membership, Role, Team, User
from lodestar.org.services import api_token_authenticate, api_token_create
from tests.conftest import Cast
from tests.factories import OpportunityFactory, TaskFactory, TeamFactory, UserFactory

SITE = "https://crm.example.com"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are read in English here; zh-Hans is the default language."""
    with translation.override("en"):
        yield


def _invite(cast: Cast, **fields: Any) -> Membership:
    values = {
        "display_name": "赵新人",
        "email": "zhao@example.com",
        "role": Role.REP,
        "team_id": cast.team.pk,
        "site": SITE,
        **fields,
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        return member_invite(user=cast.admin, **values)


# --- invitations ---------------------------------------------------------------------------------


def test_it_invites_a_person_who_chooses_their_own_password_from_the_mail(cast: Cast) -> None:
    member = _invite(cast)
    invited = member.user
    assert (member.organization, member.role, member.team) == (cast.org, Role.REP, cast.team)
    assert invited.username == "zhao@example.com"
    assert invited.is_active
    assert not invited.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["zhao@example.com"]
    link = re.search(r"https://crm\.example\.com/invitation/\S+/\S+/", message.body)
    assert link is not None, message.body
    assert "zhao@example.com" in message.body
    entry = AuditEntry.objects.get(action="member.invite")
    assert (entry.actor, entry.object_id) == (cast.admin, str(invited.pk))
    assert entry.data["role"] == "rep"


def test_it_reports_every_problem_of_an_invitation_at_once_and_creates_nobody(cast: Cast) -> None:
    users = User.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        _invite(cast, display_name=" ", email=cast.owner.email.upper())
    assert {d.field for d in exc.value.details} == {"display_name", "email"}
    with pytest.raises(ValidationFailed) as exc:
        _invite(cast, email="not an address")
    assert "not an e-mail address" in str(exc.value.details[0].message)
    with pytest.raises(ValidationFailed) as exc:
        _invite(cast, role="boss")
    assert exc.value.details[0].field == "role"
    assert User.objects.count() == users
    assert mail.outbox == []


def test_it_refuses_an_invitation_into_another_organizations_team(cast: Cast) -> None:
    foreign = TeamFactory(organization=cast.outsider.membership.organization)
    with pytest.raises(NotFound):
        _invite(cast, team_id=foreign.pk)
    assert not User.objects.filter(email="zhao@example.com").exists()


@pytest.mark.parametrize("who", ["manager", "owner", "ops"])
def test_only_an_admin_invites(cast: Cast, who: str) -> None:
    with pytest.raises(PermissionDenied):
        member_invite(
            user=getattr(cast, who),
            display_name="x",
            email="x@example.com",
            role=Role.REP,
            team_id=None,
            site=SITE,
        )


def test_it_sends_the_invitation_again_only_to_who_never_signed_in(cast: Cast) -> None:
    invited = _invite(cast).user
    with TestCase.captureOnCommitCallbacks(execute=True):
        member_invitation_resend(user=cast.admin, member_user_id=invited.pk, site=SITE)
    assert len(mail.outbox) == 2
    User.objects.filter(pk=cast.owner.pk).update(last_login=timezone.now())
    with pytest.raises(ValidationFailed) as exc:
        member_invitation_resend(user=cast.admin, member_user_id=cast.owner.pk, site=SITE)
    assert "has signed in before" in str(exc.value.details[0].message)
    assert len(mail.outbox) == 2


# --- role and team -------------------------------------------------------------------------------


def test_it_sets_role_and_team_and_audits_the_change(cast: Cast) -> None:
    other = TeamFactory(organization=cast.org)
    member_update(
        user=cast.admin, member_user_id=cast.owner.pk, role=Role.MANAGER, team_id=other.pk
    )
    member = Membership.objects.get(user=cast.owner)
    assert (member.role, member.team_id) == (Role.MANAGER, other.pk)
    entry = AuditEntry.objects.get(action="member.update")
    assert entry.data == {
        "before": {"role": "rep", "team_id": cast.team.pk},
        "after": {"role": "manager", "team_id": other.pk},
    }


def test_the_last_admin_cannot_be_demoted(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as exc:
        member_update(user=cast.admin, member_user_id=cast.admin.pk, role=Role.OPS, team_id=None)
    assert "last active administrator" in str(exc.value.details[0].message)
    second = UserFactory(organization=cast.org, role=Role.ADMIN)
    member_update(user=second, member_user_id=cast.admin.pk, role=Role.OPS, team_id=None)
    assert Membership.objects.get(user=cast.admin).role == Role.OPS


def test_a_manager_keeps_the_role_while_managing_a_team(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as exc:
        member_update(user=cast.admin, member_user_id=cast.manager.pk, role=Role.REP, team_id=None)
    assert cast.team.name in str(exc.value.details[0].message)


def test_no_target_of_another_organization_is_found(cast: Cast) -> None:
    with pytest.raises(NotFound):
        member_update(user=cast.admin, member_user_id=cast.outsider.pk, role=Role.REP, team_id=None)
    with pytest.raises(NotFound):
        member_deactivate(
            user=cast.admin, member_user_id=cast.owner.pk, successor_id=cast.outsider.pk
        )
    foreign_team = TeamFactory(organization=cast.outsider.membership.organization)
    with pytest.raises(NotFound):
        team_update(user=cast.admin, team_id=foreign_team.pk, name="x", manager_id=None)
    assert cast.owner.is_active


@pytest.mark.parametrize("who", ["manager", "owner", "ops"])
def test_only_an_admin_changes_roles_and_teams(cast: Cast, who: str) -> None:
    with pytest.raises(PermissionDenied):
        member_update(
            user=getattr(cast, who), member_user_id=cast.teammate.pk, role=Role.ADMIN, team_id=None
        )
    with pytest.raises(PermissionDenied):
        team_create(user=getattr(cast, who), name="新组")


# --- deactivation with a handover ---------------------------------------------------------------


def test_it_deactivates_and_hands_open_work_to_the_successor_in_one_step(cast: Cast) -> None:
    open_deal = OpportunityFactory(owner=cast.owner)
    won = OpportunityFactory(owner=cast.owner, status=OpportunityStatus.WON)
    open_task = TaskFactory(opportunity=open_deal)
    done_task = TaskFactory(opportunity=open_deal, status=TaskStatus.DONE)
    loose_task = TaskFactory(opportunity=None, assignee=cast.owner)
    _, secret = api_token_create(user=cast.owner, name="sync")

    handover = member_deactivate(
        user=cast.admin, member_user_id=cast.owner.pk, successor_id=cast.other_team_rep.pk
    )

    assert handover.moved == {"deals": 1, "accounts": 0, "tasks": 2, "teams": 0, "alerts": 0}
    cast.owner.refresh_from_db()
    assert not cast.owner.is_active
    open_deal.refresh_from_db()
    won.refresh_from_db()
    assert open_deal.owner == cast.other_team_rep
    assert open_deal.team == cast.other_team_rep.membership.team
    assert won.owner == cast.owner
    assert Task.objects.get(pk=open_task.pk).assignee == cast.other_team_rep
    assert Task.objects.get(pk=loose_task.pk).assignee == cast.other_team_rep
    assert Task.objects.get(pk=done_task.pk).assignee == cast.owner
    assert api_token_authenticate(raw=secret) is None
    assert ApiToken.objects.get(user=cast.owner).revoked_at is not None
    entry = AuditEntry.objects.get(action="member.deactivate")
    assert entry.object_id == str(cast.owner.pk)
    assert entry.data["successor_id"] == cast.other_team_rep.pk
    assert entry.data["moved"]["deals"] == 1


def test_a_departing_managers_teams_pass_to_a_manager_successor(cast: Cast) -> None:
    successor = UserFactory(organization=cast.org, role=Role.MANAGER)
    handover = member_deactivate(
        user=cast.admin, member_user_id=cast.manager.pk, successor_id=successor.pk
    )
    assert handover.moved["teams"] == 1
    assert Team.objects.get(pk=cast.team.pk).manager == successor


def test_a_failing_handover_changes_nothing(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    with (
        override_settings(
            LODESTAR_MEMBER_HANDOVER_STEPS=[
                "lodestar.crm.handover.hand_over_deals",
                "tests.org.test_members.broken_step",
            ]
        ),
        pytest.raises(RuntimeError),
    ):
        member_deactivate(
            user=cast.admin, member_user_id=cast.owner.pk, successor_id=cast.teammate.pk
        )
    deal.refresh_from_db()
    cast.owner.refresh_from_db()
    assert deal.owner == cast.owner
    assert cast.owner.is_active
    assert not AuditEntry.objects.filter(action="member.deactivate").exists()


def broken_step(**kwargs: Any) -> dict[str, int]:
    raise RuntimeError("the step failed")


def test_it_refuses_unfit_successors_and_the_last_admin(cast: Cast) -> None:
    cases = [
        (cast.owner.pk, cast.owner.pk, "someone else"),
        (cast.owner.pk, cast.ops.pk, "cannot own deals"),
        (cast.admin.pk, cast.owner.pk, "yourself"),
    ]
    for member, successor, words in cases:
        with pytest.raises(ValidationFailed) as exc:
            member_deactivate(user=cast.admin, member_user_id=member, successor_id=successor)
        assert words in str(exc.value.details[0].message)
    assert cast.owner.is_active


def test_deactivated_admins_do_not_count_as_the_organizations_admins(cast: Cast) -> None:
    second = UserFactory(organization=cast.org, role=Role.ADMIN)
    member_deactivate(user=cast.admin, member_user_id=second.pk, successor_id=cast.owner.pk)
    with pytest.raises(ValidationFailed) as exc:
        member_update(user=cast.admin, member_user_id=cast.admin.pk, role=Role.REP, team_id=None)
    assert "last active administrator" in str(exc.value.details[0].message)
    third = UserFactory(organization=cast.org, role=Role.ADMIN)
    member_deactivate(user=third, member_user_id=cast.admin.pk, successor_id=cast.owner.pk)
    with pytest.raises(ValidationFailed) as exc:
        member_update(user=third, member_user_id=third.pk, role=Role.REP, team_id=None)
    assert "last active administrator" in str(exc.value.details[0].message)


def test_a_deactivated_member_is_reactivated_without_getting_the_work_back(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    member_deactivate(user=cast.admin, member_user_id=cast.owner.pk, successor_id=cast.teammate.pk)
    with pytest.raises(ValidationFailed):
        member_deactivate(
            user=cast.admin, member_user_id=cast.owner.pk, successor_id=cast.teammate.pk
        )
    member_reactivate(user=cast.admin, member_user_id=cast.owner.pk)
    cast.owner.refresh_from_db()
    deal.refresh_from_db()
    assert cast.owner.is_active
    assert deal.owner == cast.teammate
    assert AuditEntry.objects.filter(action="member.reactivate").count() == 1
    with pytest.raises(ValidationFailed):
        member_reactivate(user=cast.admin, member_user_id=cast.owner.pk)


# --- teams ---------------------------------------------------------------------------------------


def test_it_creates_and_renames_teams_with_a_manager(cast: Cast) -> None:
    team = team_create(user=cast.admin, name=" 华北组 ", manager_id=cast.manager.pk)
    assert (team.name, team.manager, team.organization) == ("华北组", cast.manager, cast.org)
    team_update(user=cast.admin, team_id=team.pk, name="华北大区", manager_id=None)
    team.refresh_from_db()
    assert (team.name, team.manager) == ("华北大区", None)
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == ["team.create", "team.update"]


def test_it_refuses_a_taken_team_name_and_a_manager_without_the_role(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as exc:
        team_create(user=cast.admin, name=cast.team.name)
    assert "already exists" in str(exc.value.details[0].message)
    with pytest.raises(ValidationFailed) as exc:
        team_create(user=cast.admin, name="新组", manager_id=cast.owner.pk)
    assert exc.value.details[0].field == "manager"
    with pytest.raises(NotFound):
        team_create(user=cast.admin, name="新组", manager_id=cast.outsider.pk)
    assert not Team.objects.filter(name="新组").exists()
