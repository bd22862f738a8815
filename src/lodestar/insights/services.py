"""Writes people make about insights: exemptions and coaching.

- `exemption_declare` — a rep marks their own deal "客户临时失联" for a period: the deal stops
  counting against their health and raises no silence/stale alerts until it ends; a re-check
  task falls due after the playbook's `risks.exemption_recheck` (14 days). Audited.
- `coaching_task_create` — a manager plans a coaching session with a rep of their team (a task
  for the rep), often prompted by a health alert, which it acknowledges. Audited.

The alerts themselves are written in `insights.alerts`.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.outbound_events import tasks_created
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from lodestar.i18n import in_site_language
from lodestar.insights.alerts import alert_acknowledge
from lodestar.insights.models import Exemption, ExemptionReason
from lodestar.insights.policy import insights_policy
from lodestar.insights.refresh import insights_refresh
from lodestar.insights.task_titles import COACHING_TRIGGER_PREFIX, coaching_title, recheck_title
from lodestar.org.models import Membership, Role, User
from lodestar.org.selectors import actor_of
from lodestar.org.services import audit_record

__all__ = ["COACHING_DUE", "EXEMPTION_MAX_DAYS", "coaching_task_create", "exemption_declare"]

EXEMPTION_MAX_DAYS = 60


@transaction.atomic
def exemption_declare(
    *,
    user: User,
    opportunity: Opportunity,
    reason_code: str,
    reason: str,
    days: int,
    now: dt.datetime | None = None,
) -> Exemption:
    """Exempt the user's own open deal for `days` days and schedule the re-check task.

    The caller fetched `opportunity` with `access_opportunity(…, for_write=True)`; only the
    deal's owner may declare (the rep knows the customer went quiet; a manager sees it).
    """
    now = now or timezone.now()
    if opportunity.owner_id != user.pk:
        raise PermissionDenied(_("Only the deal's owner declares an exemption for it."))
    if opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(_("Only open deals can be exempted."))
    problems: list[FieldError] = []
    if reason_code not in ExemptionReason.values:
        problems.append(
            FieldError(
                "reason_code",
                _("Choose one of: %(codes)s.") % {"codes": ", ".join(ExemptionReason.values)},
            )
        )
    if not reason.strip():
        problems.append(FieldError("reason", _("Say why the customer cannot be reached.")))
    if not 1 <= days <= EXEMPTION_MAX_DAYS:
        problems.append(
            FieldError(
                "days", _("An exemption lasts 1 to %(max)d days.") % {"max": EXEMPTION_MAX_DAYS}
            )
        )
    if problems:
        raise ValidationFailed(details=problems)
    deal = (
        Opportunity.objects.select_for_update()
        .select_related("organization")
        .get(pk=opportunity.pk)
    )
    if Exemption.objects.filter(opportunity=deal, starts_at__lte=now, ends_at__gt=now).exists():
        raise Conflict(_("This deal is already exempted; the current exemption must end first."))
    policy = insights_policy(organization=deal.organization, team_id=deal.team_id)
    exemption = Exemption.objects.create(
        organization_id=deal.organization_id,
        opportunity=deal,
        declared_by=user,
        reason_code=reason_code,
        reason=reason.strip(),
        starts_at=now,
        ends_at=now + dt.timedelta(days=days),
        recheck_at=now + policy.exemption_recheck,
        created_at=now,
    )
    task = Task.objects.create(
        organization_id=deal.organization_id,
        opportunity=deal,
        assignee=deal.owner,
        # Stored in the site's language; pages word it for their reader (`task_titles`).
        title=in_site_language(recheck_title(reason_code, deal.name))[:200],
        description=exemption.reason,
        trigger_key=exemption.recheck_trigger_key,
        created_at=now,
        due_at=exemption.recheck_at,
        status=TaskStatus.OPEN,
    )
    audit_record(
        organization_id=deal.organization_id,
        actor=user,
        action="exemption.declare",
        object_type="opportunity",
        object_id=deal.pk,
        data={
            "exemption": exemption.pk,
            "reason_code": reason_code,
            "reason": exemption.reason,
            "starts_at": exemption.starts_at.isoformat(),
            "ends_at": exemption.ends_at.isoformat(),
            "recheck_task": task.pk,
        },
        at=now,
    )
    tasks_created([task], now=now)
    # Silence and stale alerts of the deal resolve now, not at the next sweep.
    insights_refresh(organization_id=deal.organization_id, deal_ids={deal.pk}, now=now)
    return exemption


COACHING_DUE = dt.timedelta(days=2)


@transaction.atomic
def coaching_task_create(
    *,
    user: User,
    rep_id: int,
    note: str = "",
    alert_id: int | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Plan a coaching session: a task for the rep, due in two days, made by their manager.

    Only the manager of the rep's team (or an admin) may plan it. With `alert_id`, the alert
    that prompted it (one of the user's own) is acknowledged in the same transaction.
    """
    actor = actor_of(user=user)
    rep = (
        Membership.objects.select_related("user", "team")
        .filter(organization_id=actor.organization_id if actor else -1, user_id=rep_id)
        .first()
    )
    if actor is None or rep is None:
        raise NotFound(_("No sales rep %(id)s among the people you can see.") % {"id": rep_id})
    manages = actor.is_manager and rep.team_id in actor.managed_team_ids
    if not (manages or actor.is_admin) or rep.role != Role.REP:
        raise PermissionDenied(_("Only the rep's manager plans their coaching."))
    now = now or timezone.now()
    if alert_id is not None:
        alert_acknowledge(user=user, alert_id=alert_id, now=now)
    task = Task.objects.create(
        organization_id=actor.organization_id,
        assignee=rep.user,
        title=in_site_language(coaching_title(str(user)))[:200],
        description=note.strip(),
        # Names the manager, so pages word the title in their reader's language.
        trigger_key=f"{COACHING_TRIGGER_PREFIX}{user.pk}",
        created_at=now,
        due_at=now + COACHING_DUE,
    )
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="task.coaching_planned",
        object_type="task",
        object_id=task.pk,
        data={"rep_id": rep_id, "alert_id": alert_id},
        at=now,
    )
    tasks_created([task], now=now)
    return task
