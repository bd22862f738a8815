from __future__ import annotations

from lodestar.org.models import Role, User
from lodestar.org.selectors import actor_of, may_assign_to, membership_of
from tests.conftest import Cast
from tests.factories import TeamFactory


def test_it_finds_the_membership_of_a_member(cast: Cast) -> None:
    membership = membership_of(user=cast.owner)
    assert membership is not None
    assert membership.organization == cast.org


def test_it_finds_no_membership_for_a_superuser_without_one(db: None) -> None:
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    assert membership_of(user=root) is None
    assert actor_of(user=root) is None


def test_it_lists_the_teams_a_manager_manages(cast: Cast) -> None:
    second = TeamFactory(organization=cast.org, name="第二组", manager=cast.manager)
    actor = actor_of(user=cast.manager)
    assert actor is not None
    assert actor.managed_team_ids == {cast.team.pk, second.pk}


def test_it_gives_reps_no_managed_teams(cast: Cast) -> None:
    actor = actor_of(user=cast.owner)
    assert actor is not None
    assert actor.role == Role.REP
    assert actor.managed_team_ids == frozenset()


def test_it_lets_a_rep_assign_only_to_themselves(cast: Cast) -> None:
    actor = actor_of(user=cast.owner)
    assert actor is not None
    assert may_assign_to(actor=actor, user_id=cast.owner.pk)
    assert not may_assign_to(actor=actor, user_id=cast.teammate.pk)


def test_it_lets_a_manager_assign_to_their_team_but_not_another(cast: Cast) -> None:
    actor = actor_of(user=cast.manager)
    assert actor is not None
    assert may_assign_to(actor=actor, user_id=cast.teammate.pk)
    assert may_assign_to(actor=actor, user_id=cast.manager.pk)
    assert not may_assign_to(actor=actor, user_id=cast.other_team_rep.pk)


def test_it_lets_an_admin_assign_within_the_organization_only(cast: Cast) -> None:
    actor = actor_of(user=cast.admin)
    assert actor is not None
    assert may_assign_to(actor=actor, user_id=cast.other_team_rep.pk)
    assert not may_assign_to(actor=actor, user_id=cast.outsider.pk)


def test_it_lets_ops_assign_to_nobody(cast: Cast) -> None:
    actor = actor_of(user=cast.ops)
    assert actor is not None
    assert not may_assign_to(actor=actor, user_id=cast.ops.pk)
