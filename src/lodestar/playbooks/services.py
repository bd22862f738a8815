"""Writes of playbook versions, and the one door through which a deal changes stage.

- `playbook_draft_create` stores a validated YAML text as the next draft version;
- `playbook_publish` makes a draft the organization's published version (audited, with the diff
  against the version it replaces);
- `opportunity_gate` answers the current stage's exit checklist;
- `opportunity_advance` moves a deal only when the gates allow it, and records the move.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.core.playbook import diff_playbooks, load_playbook
from lodestar.core.playbook.errors import PlaybookInvalid
from lodestar.core.rules import AdvanceDecision, GateResult, TransitionKind, check_advance
from lodestar.core.rules.compiler import UnknownStage
from lodestar.crm.models import Direction, Opportunity, OpportunityStatus, StageTransition
from lodestar.errors import (
    ApplicationError,
    Conflict,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)
from lodestar.events.services import events_ingest
from lodestar.i18n import localized
from lodestar.org.models import Team, User
from lodestar.org.selectors import actor_of
from lodestar.org.services import audit_record
from lodestar.playbooks.context import deal_context
from lodestar.playbooks.models import PlaybookStatus, PlaybookVersion
from lodestar.playbooks.selectors import (
    compiled_for_version,
    playbook_for_deal,
    published_version,
)

__all__ = [
    "GateBlocked",
    "NoPublishedPlaybook",
    "PublishOutcome",
    "opportunity_advance",
    "opportunity_gate",
    "playbook_draft_create",
    "playbook_publish",
    "playbook_publish_source",
]


class NoPublishedPlaybook(Conflict):
    code = "no_playbook"
    default_message = _(
        "Your organization has no published playbook yet; sales ops publishes one first."
    )


class GateBlocked(Conflict):
    """A forward move refused because exit criteria are unmet; `decision` says which."""

    code = "gate_blocked"

    def __init__(self, decision: AdvanceDecision, *, stage_name: str) -> None:
        self.decision = decision
        unmet = [
            FieldError(field=f"{stage}.{result.id}", message=localized(result.explanation))
            for stage, result in decision.unmet
        ]
        super().__init__(
            ngettext(
                "The deal cannot move to “%(stage)s” yet: %(count)d exit criterion is unmet.",
                "The deal cannot move to “%(stage)s” yet: %(count)d exit criteria are unmet.",
                len(unmet),
            )
            % {"stage": stage_name, "count": len(unmet)},
            details=unmet,
        )

    def as_dict(self) -> dict[str, object]:
        body = super().as_dict()
        body["decision"] = self.decision.as_dict()
        return body


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
    current = (
        PlaybookVersion.objects.select_for_update()
        .filter(
            organization_id=organization_id,
            status=PlaybookStatus.PUBLISHED,
            team_id=version.team_id,
        )
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


def _published(opportunity: Opportunity) -> PlaybookVersion:
    version = playbook_for_deal(opportunity)
    if version is None:
        raise NoPublishedPlaybook()
    return version


def opportunity_gate(*, opportunity: Opportunity, now: dt.datetime | None = None) -> GateResult:
    """The exit checklist of the deal's current stage under the published playbook."""
    compiled = compiled_for_version(_published(opportunity))
    now = now or timezone.now()
    context = deal_context(opportunity=opportunity, now=now, playbook=compiled.playbook)
    try:
        return compiled.evaluate_gate(context)
    except UnknownStage as exc:
        raise Conflict(str(exc)) from exc


_STATUS_AFTER = {
    TransitionKind.WON: OpportunityStatus.WON,
    TransitionKind.LOST: OpportunityStatus.LOST,
}


@transaction.atomic
def opportunity_advance(
    *,
    user: User,
    opportunity: Opportunity,
    to_stage: str,
    now: dt.datetime | None = None,
) -> AdvanceDecision:
    """Move the deal to `to_stage` if the published playbook's gates allow it.

    The caller fetched `opportunity` with `access_opportunity(…, for_write=True)`. Forward moves
    need every exit criterion of the current stage (and of each skipped stage) met; backward
    moves are allowed and recorded as regressions. Raises `GateBlocked` with the unmet criteria.
    """
    version = _published(opportunity)
    compiled = compiled_for_version(version)
    now = now or timezone.now()
    # Lock the row so two simultaneous moves of one deal cannot both pass the same gate.
    deal = Opportunity.objects.select_for_update().select_related("account").get(pk=opportunity.pk)
    context = deal_context(opportunity=deal, now=now, playbook=compiled.playbook)
    try:
        decision = check_advance(compiled, context, deal.stage_key, to_stage)
    except UnknownStage as exc:
        raise ValidationFailed.on("to_stage", str(exc)) from exc
    if decision.kind == TransitionKind.NO_CHANGE:
        raise ApplicationError(
            _("The deal is already in stage “%(stage)s”.") % {"stage": to_stage},
            details=[FieldError("to_stage", str(_("Choose a different stage.")))],
        )
    if not decision.allowed:
        raise GateBlocked(decision, stage_name=localized(compiled.playbook.stage(to_stage).name))
    snapshot = [gate.as_dict() for gate in decision.gates] or [
        compiled.evaluate_gate(context).as_dict()
    ]
    transition = StageTransition.objects.create(
        organization_id=deal.organization_id,
        opportunity=deal,
        from_stage=deal.stage_key,
        to_stage=to_stage,
        direction=Direction.BACKWARD if decision.is_regression else Direction.FORWARD,
        occurred_at=now,
        actor=user,
        gate_snapshot=snapshot,
    )
    deal.stage_key = to_stage
    deal.stage_entered_at = now
    deal.status = _STATUS_AFTER.get(decision.kind, OpportunityStatus.OPEN)
    deal.closed_at = now if deal.status != OpportunityStatus.OPEN else None
    deal.save(update_fields=["stage_key", "stage_entered_at", "status", "closed_at", "updated_at"])
    # The move joins the event log (the history replays read) through the log's one door, which
    # checks it like any other event and runs its processing steps, so regressions and the like
    # are judged at once, not at the next sweep.
    logged = events_ingest(
        user=user,
        items=[
            {
                "type": "stage.changed",
                "source": "lodestar",
                "external_id": f"transition:{transition.pk}",
                "occurred_at": now,
                "opportunity_id": deal.pk,
                "payload": {
                    "from": decision.from_stage,
                    "to": to_stage,
                    "direction": transition.direction,
                    "kind": decision.kind.value,
                },
            }
        ],
        now=now,
    ).items[0]
    if logged.status == "rejected":
        # Rolls the move back with the reason (e.g. a clock outside the supported range).
        raise ValidationFailed(_("The stage move could not be logged."), details=logged.details)
    audit_record(
        organization_id=deal.organization_id,
        actor=user,
        action="opportunity.stage_change",
        object_type="opportunity",
        object_id=deal.pk,
        data={
            "from": decision.from_stage,
            "to": to_stage,
            "kind": decision.kind.value,
            "playbook_version": version.number,
        },
        at=now,
    )
    opportunity.refresh_from_db()
    return decision
