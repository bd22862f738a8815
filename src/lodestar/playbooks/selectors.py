"""Reads of playbook versions, and the compiled published playbook every deal is judged by."""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from lodestar.core.events import EventCatalogue
from lodestar.core.playbook import event_catalogue, load_playbook
from lodestar.core.rules import CompiledPlaybook, compile_playbook
from lodestar.crm.models import Opportunity
from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import User
from lodestar.org.selectors import actor_of
from lodestar.playbooks.models import PlaybookStatus, PlaybookVersion

__all__ = [
    "PublishedVersions",
    "access_playbook_version",
    "compiled_for_version",
    "organization_catalogue",
    "playbook_for_deal",
    "playbook_version_list",
    "published_playbook",
    "published_version",
    "published_versions",
]

_CACHE_SIZE = 64
_compiled: OrderedDict[tuple[int, str], CompiledPlaybook] = OrderedDict()
_compiled_lock = threading.Lock()


def compiled_for_version(version: PlaybookVersion) -> CompiledPlaybook:
    """The compiled rules of a stored version; compiled once per process and version."""
    key = (version.pk, version.checksum)
    with _compiled_lock:
        cached = _compiled.get(key)
        if cached is not None:
            _compiled.move_to_end(key)
            return cached
    compiled = compile_playbook(load_playbook(version.source, version.source_name))
    with _compiled_lock:
        _compiled[key] = compiled
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return compiled


def published_version(
    *, organization_id: int, team_id: int | None = None, exact: bool = False
) -> PlaybookVersion | None:
    """The version a team follows: its own published one, else the organization's.

    With `exact=True` only a version published for exactly that scope (team, or the
    organization when `team_id` is None) is returned.
    """
    published = PlaybookVersion.objects.filter(
        organization_id=organization_id, status=PlaybookStatus.PUBLISHED
    )
    if team_id is not None:
        own = published.filter(team_id=team_id).first()
        if own is not None or exact:
            return own
    return published.filter(team__isnull=True).first()


class PublishedVersions:
    """Every published version of one organization, read in one query: for code that looks up
    the version of many teams at once (a batch of events touching deals of several teams)."""

    def __init__(self, organization_id: int) -> None:
        self._by_team = {
            version.team_id: version
            for version in PlaybookVersion.objects.filter(
                organization_id=organization_id, status=PlaybookStatus.PUBLISHED
            )
        }

    def of_team(self, team_id: int | None) -> PlaybookVersion | None:
        """The version a team follows: its own published one, else the organization's."""
        return self._by_team.get(team_id) or self._by_team.get(None)

    def all(self) -> list[PlaybookVersion]:
        """The organization's own version first, then the teams' in the order they were made."""
        return sorted(
            self._by_team.values(), key=lambda v: (v.team_id is not None, v.team_id or 0, v.pk)
        )


def published_versions(*, organization_id: int) -> PublishedVersions:
    return PublishedVersions(organization_id)


def published_playbook(
    *, organization_id: int, team_id: int | None = None
) -> CompiledPlaybook | None:
    """The compiled playbook a team (or the organization) follows; None while there is none."""
    version = published_version(organization_id=organization_id, team_id=team_id)
    return compiled_for_version(version) if version is not None else None


def playbook_for_deal(opportunity: Opportunity) -> PlaybookVersion | None:
    return published_version(
        organization_id=opportunity.organization_id, team_id=opportunity.team_id
    )


def organization_catalogue(*, organization_id: int) -> EventCatalogue:
    """The event types an organization accepts: built-in ones plus those its published
    playbooks (organization-wide and per team) declare."""
    versions = published_versions(organization_id=organization_id).all()
    return event_catalogue(compiled_for_version(version).playbook for version in versions)


def playbook_version_list(*, user: User) -> QuerySet[PlaybookVersion]:
    """Every member reads the versions (reps need stage names); drafts only ops and admins."""
    actor = actor_of(user=user)
    if actor is None:
        return PlaybookVersion.objects.none()
    versions = PlaybookVersion.objects.filter(organization_id=actor.organization_id)
    if not (actor.is_ops or actor.is_admin):
        versions = versions.exclude(status=PlaybookStatus.DRAFT)
    return versions.select_related("created_by", "published_by")


def access_playbook_version(
    *, user: User, version_id: int, for_write: bool = False
) -> PlaybookVersion:
    version = playbook_version_list(user=user).filter(pk=version_id).first()
    if version is None:
        raise NotFound(_("No playbook version %(id)s in your organization.") % {"id": version_id})
    actor = actor_of(user=user)
    if for_write and not (actor and (actor.is_ops or actor.is_admin)):
        raise PermissionDenied(_("Only sales ops and admins change playbooks."))
    return version
