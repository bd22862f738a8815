"""Writes of playbook versions.

- `playbook_draft_create` stores a validated YAML text as the next draft version;
- `playbook_publish` makes a draft the organization's published version (audited, with the diff
  against the version it replaces).

Stage moves, which follow the published playbook, are `lodestar.gates.services`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.core.playbook import diff_playbooks, load_playbook
from lodestar.core.playbook.errors import PlaybookInvalid
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from lodestar.org.models import Team, User
from lodestar.org.selectors import actor_of
from lodestar.org.services import audit_record
from lodestar.playbooks.models import PlaybookStatus, PlaybookVersion
from lodestar.playbooks.selectors import compiled_for_version, published_version

__all__ = [
    "PublishOutcome",
    "playbook_draft_create",
    "playbook_publish",
    "playbook_publish_source",
]


def _checksum(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _require_playbook_editor(user: User) -> int:
    actor = actor_of(user=user)
    if actor is None or not (actor.is_ops or actor.is_admin):
        raise PermissionDenied(_("Only sales ops and admins change playbooks."))
    return actor.organization_id


def _invalid(errors: PlaybookInvalid) -> ValidationFailed:
    return ValidationFailed(
        ngettext(
            "The playbook has %(count)d error.",
            "The playbook has %(count)d errors.",
            len(errors.errors),
        )
        % {"count": len(errors.errors)},
        details=[
            FieldError(field=f"{e.file}:{e.line}:{e.column} {e.path}", message=str(e))
            for e in errors.errors
        ],
    )


@transaction.atomic
def playbook_draft_create(
    *,
    user: User,
    source: str,
    source_name: str = "playbook.yaml",
    note: str = "",
    team_id: int | None = None,
    now: dt.datetime | None = None,
) -> PlaybookVersion:
    """Store `source` as the next draft, for the organization or one team; refused with every
    located error when invalid."""
    organization_id = _require_playbook_editor(user)
    if (
        team_id is not None
        and not Team.objects.filter(pk=team_id, organization_id=organization_id).exists()
    ):
        raise ValidationFailed.on(
            "team_id", _("No team %(id)s in your organization.") % {"id": team_id}
        )
    try:
        playbook = load_playbook(source, source_name)
    except PlaybookInvalid as exc:
        raise _invalid(exc) from exc
    # Numbering is serialized per organization by locking its existing versions.
    last = (
        PlaybookVersion.objects.select_for_update()
        .filter(organization_id=organization_id)
        .aggregate(Max("number"))["number__max"]
    )
    return PlaybookVersion.objects.create(
        organization_id=organization_id,
        team_id=team_id,
        number=(last or 0) + 1,
        name=playbook.name.zh,
        source_name=source_name,
        source=source,
        checksum=_checksum(source),
        note=note,
        created_by=user,
        created_at=now or timezone.now(),
    )


def _stranded_stages(version: PlaybookVersion, keep: set[str]) -> dict[str, int]:
    """Open deals that would follow `version` but sit in stages it does not have."""
    deals = Opportunity.objects.filter(
        organization_id=version.organization_id, status=OpportunityStatus.OPEN
    )
    if version.team_id is not None:
        deals = deals.filter(team_id=version.team_id)
    else:
        teams_with_own = PlaybookVersion.objects.filter(
            organization_id=version.organization_id,
            status=PlaybookStatus.PUBLISHED,
            team__isnull=False,
        ).values("team_id")
        deals = deals.exclude(team_id__in=teams_with_own)
    rows = deals.exclude(stage_key__in=keep).values("stage_key").annotate(n=Count("id"))
    return {row["stage_key"]: row["n"] for row in rows}


@transaction.atomic
def playbook_publish(
    *, user: User, version: PlaybookVersion, now: dt.datetime | None = None
) -> PlaybookVersion:
    """Make `version` (a draft) the published one; the previous one retires. Audited."""
    organization_id = _require_playbook_editor(user)
    if version.organization_id != organization_id:
        raise PermissionDenied(_("This version belongs to another organization."))
    if version.status != PlaybookStatus.DRAFT:
        raise Conflict(
            _("Version %(n)d is %(status)s; only drafts can be published.")
            % {"n": version.number, "status": version.get_status_display()}
        )
    now = now or timezone.now()
    new = compiled_for_version(version).playbook
    stranded = _stranded_stages(version, {stage.key for stage in new.stages})
    if stranded:
        listing = ", ".join(f"{key} ({count})" for key, count in sorted(stranded.items()))
        raise Conflict(
            _(
                "Open deals sit in stages this version removes: %(stages)s. Move them or keep "
                "those stages, then publish again."
            )
            % {"stages": listing}
        )
    same_scope = Q(team__isnull=True) if version.team_id is None else Q(team_id=version.team_id)
    current = (
        PlaybookVersion.objects.select_for_update()
        .filter(same_scope, organization_id=organization_id, status=PlaybookStatus.PUBLISHED)
        .first()
    )
    changes: list[dict[str, str]] = []
    if current is not None:
        old = compiled_for_version(current).playbook
        changes = [
            {"path": change.path, "en": change.text, "zh": change.text_zh}
            for change in diff_playbooks(old, new)
        ]
        current.status = PlaybookStatus.RETIRED
        current.save(update_fields=["status"])
    version.status = PlaybookStatus.PUBLISHED
    version.published_by = user
    version.published_at = now
    version.diff = changes
    version.save(update_fields=["status", "published_by", "published_at", "diff"])
    audit_record(
        organization_id=organization_id,
        actor=user,
        action="playbook.publish",
        object_type="playbook_version",
        object_id=version.pk,
        data={
            "number": version.number,
            "replaces": current.number if current else None,
            "team_id": version.team_id,
            "changes": changes,
        },
        at=now,
    )
    return version


@dataclass(frozen=True)
class PublishOutcome:
    version: PlaybookVersion
    published: bool  # False when the text equals the version already published


@transaction.atomic
def playbook_publish_source(
    *,
    user: User,
    source: str,
    source_name: str,
    note: str = "",
    team_id: int | None = None,
    now: dt.datetime | None = None,
) -> PublishOutcome:
    """Validate, store and publish a YAML text in one step (the CLI's `playbook publish`)."""
    organization_id = _require_playbook_editor(user)
    current = published_version(organization_id=organization_id, team_id=team_id, exact=True)
    if current is not None and current.checksum == _checksum(source):
        return PublishOutcome(current, published=False)
    draft = playbook_draft_create(
        user=user, source=source, source_name=source_name, note=note, team_id=team_id, now=now
    )
    return PublishOutcome(playbook_publish(user=user, version=draft, now=now), published=True)
