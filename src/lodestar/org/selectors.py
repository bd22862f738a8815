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

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import AuditEntry, Membership, Role, Team, User

__all__ = [
    "Actor",
    "AuditFilters",
    "MemberFilters",
    "access_member",
    "actor_of",
    "actors_kept",
    "audit_entry_list",
    "may_assign_to",
    "member_list",
    "member_scope",
    "membership_of",
    "organization_zone",
    "team_list",
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


# Inside `actors_kept`: the actors already worked out, by user id.
_kept_actors: ContextVar[dict[int, Actor | None] | None] = ContextVar("kept_actors", default=None)


@contextmanager
def actors_kept() -> Iterator[None]:
    """Within it, `actor_of` works each user's actor out once. For work that changes no
    membership or team, such as rendering a page: every selector a page calls asks for the
    actor again, and a manager's costs a query of the teams they manage each time."""
    token = _kept_actors.set({})
    try:
        yield
    finally:
        _kept_actors.reset(token)


def actor_of(*, user: User) -> Actor | None:
    """The permission view of `user`, or None when they belong to no organization."""
    kept = _kept_actors.get()
    if kept is not None and user.pk in kept:
        return kept[user.pk]
    actor = _actor_of(user)
    if kept is not None:
        kept[user.pk] = actor
    return actor


def _actor_of(user: User) -> Actor | None:
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


def organization_zone(*, user: User) -> zoneinfo.ZoneInfo:
    """The caller's organization's time zone: every time the API answers is worded in it."""
    membership = membership_of(user=user)
    if membership is None:
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return membership.organization.tz


# --- the member directory ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilters:
    role: str | None = None
    team_id: int | None = None
    is_active: bool | None = None
    q: str = ""


def _directory_team_ids(actor: Actor) -> frozenset[int] | None:
    """The teams whose people this actor reads in the directory; None for the whole organization.

    Admins and ops read everyone (they staff and support the teams), a manager the teams they
    manage, a rep their own team: the roster they work beside.
    """
    if actor.sees_whole_organization:
        return None
    if actor.is_manager:
        return actor.managed_team_ids
    return frozenset({actor.team_id}) if actor.team_id is not None else frozenset()


def member_scope(*, actor: Actor | None) -> QuerySet[Membership]:
    """The memberships this actor may read: always their own, and those of the teams above."""
    if actor is None:
        return Membership.objects.none()
    members = Membership.objects.filter(organization_id=actor.organization_id)
    team_ids = _directory_team_ids(actor)
    if team_ids is not None:
        members = members.filter(Q(user_id=actor.user_id) | Q(team_id__in=team_ids))
    return members.select_related("user", "team")


def member_list(*, user: User, filters: MemberFilters | None = None) -> QuerySet[Membership]:
    filters = filters or MemberFilters()
    members = member_scope(actor=actor_of(user=user))
    if filters.role:
        members = members.filter(role=filters.role)
    if filters.team_id is not None:
        members = members.filter(team_id=filters.team_id)
    if filters.is_active is not None:
        members = members.filter(user__is_active=filters.is_active)
    if q := filters.q.strip():
        members = members.filter(
            Q(user__username__icontains=q)
            | Q(user__display_name__icontains=q)
            | Q(user__email__iexact=q)
        )
    return members.order_by("user__display_name", "user__username", "pk")


def access_member(*, user: User, user_id: int) -> Membership:
    """One member by user id; outside the caller's directory (or organization) → `NotFound`."""
    member = member_scope(actor=actor_of(user=user)).filter(user_id=user_id).first()
    if member is None:
        raise NotFound()
    return member


def team_list(*, user: User) -> QuerySet[Team]:
    """The teams the caller reads in the directory, by name, with their member counts."""
    actor = actor_of(user=user)
    if actor is None:
        return Team.objects.none()
    teams = Team.objects.filter(organization_id=actor.organization_id)
    team_ids = _directory_team_ids(actor)
    if team_ids is not None:
        teams = teams.filter(pk__in=team_ids)
    return (
        teams.select_related("manager")
        .annotate(member_count=Count("memberships"))
        .order_by("name", "pk")
    )


# --- the audit trail -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str = ""  # a whole action ("member.invite") or its family ("member")
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None  # local dates of the organization, both included
    date_to: dt.date | None = None


def audit_entry_list(*, user: User, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """The organization's audit trail, newest first, for its ops and admins (others:
    `PermissionDenied`). Dates are the organization's local days."""
    actor = actor_of(user=user)
    if actor is None or not actor.sees_whole_organization:
        raise PermissionDenied(_("Only sales ops and administrators read the audit log."))
    filters = filters or AuditFilters()
    entries = AuditEntry.objects.filter(organization_id=actor.organization_id)
    if filters.actor_id is not None:
        entries = entries.filter(actor_id=filters.actor_id)
    if action := filters.action.strip():
        entries = entries.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if object_type := filters.object_type.strip():
        entries = entries.filter(object_type=object_type)
    if object_id := filters.object_id.strip():
        entries = entries.filter(object_id=object_id)
    zone = organization_zone(user=user)
    if filters.date_from is not None:
        start = dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=zone)
        entries = entries.filter(at__gte=start)
    if filters.date_to is not None:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        entries = entries.filter(at__lt=end)
    return entries.select_related("actor").order_by("-at", "-pk")
