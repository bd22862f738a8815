"""Who is asking: a user's membership, role and the scope of their data.

The scoping rule lives here once and every app's selectors build on it:

- a **rep** sees their own work (deals, tasks …);
- a **manager** sees the work assigned to the teams they manage (`Team.manager`) plus their own;
- **ops** and **admin** see everything in their organization;
- nothing crosses organizations, and a user without a membership sees nothing.

Superusers are platform operators: they work in the Django admin, not in this data scope, so a
superuser without a membership sees nothing here either.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from lodestar.org.models import Membership, Role, Team, User

__all__ = [
    "Actor",
    "actor_of",
    "may_assign_to",
    "membership_of",
    "work_scope_q",
]


@dataclass(frozen=True)
class Actor:
    """A user as the permission rules see them; built once per call by `actor_of`."""

    user_id: int
    organization_id: int
    role: Role
    team_id: int | None
    managed_team_ids: frozenset[int]

    @property
    def sees_whole_organization(self) -> bool:
        return self.role in (Role.OPS, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_ops(self) -> bool:
        return self.role == Role.OPS

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def works_deals(self) -> bool:
        """Reps, managers and admins write deals, accounts and contacts; ops only read them."""
        return self.role in (Role.REP, Role.MANAGER, Role.ADMIN)

    @property
    def edits_catalog(self) -> bool:
        """Products and knowledge entries are maintained by ops and admins."""
        return self.role in (Role.OPS, Role.ADMIN)


def membership_of(*, user: User) -> Membership | None:
    """The user's membership (organization, role, team), or None for users outside any org."""
    if not user.is_authenticated:
        return None
    try:
        # The reverse one-to-one is cached on the user, so repeated calls cost one query at most.
        return user.membership
    except Membership.DoesNotExist:
        return None


def actor_of(*, user: User) -> Actor | None:
    """The permission view of `user`, or None when they belong to no organization."""
    membership = membership_of(user=user)
    if membership is None:
        return None
    role = Role(membership.role)
    managed: frozenset[int] = frozenset()
    if role == Role.MANAGER:
        managed = frozenset(
            Team.objects.filter(
                organization_id=membership.organization_id, manager_id=user.pk
            ).values_list("pk", flat=True)
        )
    return Actor(
        user_id=user.pk,
        organization_id=membership.organization_id,
        role=role,
        team_id=membership.team_id,
        managed_team_ids=managed,
    )


def work_scope_q(*, actor: Actor | None, owner: str = "owner", team: str = "team") -> Q:
    """The filter for owned, team-assigned work (deals, tasks …) this actor may read.

    `owner` and `team` name the model's fields (or lookups), so every app applies the same rule
    to its own tables. Always combine with the organization filter (`organization_id=…`), which
    this function includes.
    """
    if actor is None:
        return Q(pk__in=[])
    in_org = Q(organization_id=actor.organization_id)
    if actor.sees_whole_organization:
        return in_org
    own = Q(**{f"{owner}_id": actor.user_id})
    if actor.is_manager and actor.managed_team_ids:
        return in_org & (own | Q(**{f"{team}_id__in": actor.managed_team_ids}))
    return in_org & own


def may_assign_to(*, actor: Actor, user_id: int) -> bool:
    """Whether this actor may make `user_id` the owner of a deal or account.

    A rep assigns only to themselves, a manager to themselves and the members of the teams they
    manage, an admin to anyone in the organization, ops to nobody.
    """
    if actor.role == Role.REP:
        return user_id == actor.user_id
    if not (actor.is_admin or actor.is_manager):
        return False
    members = Membership.objects.filter(organization_id=actor.organization_id, user_id=user_id)
    if actor.is_manager:
        members = members.filter(Q(user_id=actor.user_id) | Q(team_id__in=actor.managed_team_ids))
    return members.exists()
