"""The two roads of the computed insights: incremental for what changed, full on demand.

One function does each job for a *deal filter* (`risks_sync`, `health_sync`,
`scorecard_sync` and `handbooks_push`), and both roads call it:

- **incremental** — `insights_refresh(organization_id=…, deal_ids=…, now=…)`, run inside the
  event-ingestion transaction for the deals a batch touched (`insights.steps`), after an
  exemption is declared, and by anyone who changed a deal outside the event log;
- **full** — `insights_recompute(organization_id=None, progress=None, now=None)`, the CLI's
  `lodestar insights recompute` and the hourly sweep, which also catches what only time
  changes (silence, staleness, dwell, scores becoming final).

Both end in the same state for the same data and `now` (a test holds them to it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lodestar.crm.models import Opportunity
from lodestar.insights.activity import deal_activity_rebuild
from lodestar.insights.facts import deal_facts, reps_of, task_records
from lodestar.insights.handbook import handbooks_push
from lodestar.insights.health import health_of, health_sync, rep_health_now
from lodestar.insights.policy import Policies
from lodestar.insights.risks import live_risk_alerts, risks_sync
from lodestar.insights.scorecards import scorecard_sync
from lodestar.insights.summary import RecomputeSummary
from lodestar.org.models import Organization
from lodestar.runtime import cycle_collection_paused

__all__ = ["Progress", "insights_recompute", "insights_refresh"]

# (phase, done, total): how far the full recompute of an organization has come.
Progress = Callable[[str, int, int], None]


def _scores_sync(
    policies: Policies, deal_q: Q, now: dt.datetime, summary: RecomputeSummary
) -> None:
    """Communication scores of the deals, then the handbook pushes their final ones call for."""
    newly_final = scorecard_sync(policies, deal_q, now, summary)
    handbooks_push(policies, newly_final, now, summary)


@transaction.atomic
def insights_refresh(
    *,
    organization_id: int,
    deal_ids: Iterable[int],
    now: dt.datetime | None = None,
    risks: bool = True,
    scores: bool = True,
) -> RecomputeSummary:
    """Re-check the given deals (risks, communication scores) and their owners' health.

    Ingestion runs the risk part in its own transaction and leaves the scores (scorecard and
    health, which read weeks of history) to the worker: `risks=False` runs only those.
    """
    now = now or timezone.now()
    summary = RecomputeSummary()
    ids = set(deal_ids)
    if not ids:
        return summary
    organization = Organization.objects.get(pk=organization_id)
    policies = Policies(organization)
    deal_q = Q(pk__among=sorted(ids))
    if risks:
        facts = deal_facts(policy=policies.default, deal_q=deal_q, now=now)
        summary.deals = len(facts)
        risks_sync(policies, facts, live_risk_alerts(organization_id, ids), now, summary)
    if not scores:
        return summary
    _scores_sync(policies, deal_q, now, summary)
    owners = set(
        Opportunity.objects.filter(pk__among=sorted(ids)).values_list("owner_id", flat=True)
    ) & reps_of(organization_id)
    if owners:
        health = rep_health_now(policies=policies, rep_ids=owners, now=now)
        health_sync(policies, health, now, summary)
    return summary


def _recompute_org(
    organization: Organization, now: dt.datetime, progress: Progress
) -> RecomputeSummary:
    summary = RecomputeSummary(organizations=1)
    policies = Policies(organization)
    org_id = organization.pk
    windows = policies.health_windows()
    progress("deals", 0, 3)
    facts = deal_facts(policy=policies.default, deal_q=Q(), now=now, windows=windows)
    summary.deals = len(facts)
    # Alerts of deals that closed since the last run resolve here too: `live` covers them all.
    risks_sync(policies, facts, live_risk_alerts(org_id, None), now, summary)
    progress("health", 1, 3)
    reps = reps_of(org_id)
    tasks = task_records(organization_id=org_id, rep_ids=None, now=now, window=max(windows))
    health_sync(policies, health_of(policies, facts, tasks, reps, now), now, summary)
    progress("scorecard", 2, 3)
    _scores_sync(policies, Q(), now, summary)
    progress("done", 3, 3)
    return summary


def insights_recompute(
    *,
    organization_id: int | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    rebuild: bool = False,
) -> RecomputeSummary:
    """Recompute everything for one organization (or all of them), each in one transaction.

    With `rebuild`, the per-deal activity summary is first recounted from the event log
    (after a bulk load that bypassed ingestion, or to repair it).

    `progress(phase, done, total)` is called as each organization advances ("deals",
    "health", "scorecard", "done"); the CLI's `lodestar insights recompute` prints it.
    """
    now = now or timezone.now()
    report = progress or (lambda phase, done, total: None)
    organizations = Organization.objects.order_by("pk")
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    summary = RecomputeSummary()
    for organization in organizations:
        with transaction.atomic(), cycle_collection_paused():
            if rebuild:
                deal_activity_rebuild(organization_id=organization.pk)
            summary.add(_recompute_org(organization, now, report))
    return summary
