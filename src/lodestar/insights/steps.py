"""The insights' step of event processing (listed in `LODESTAR_EVENT_STEPS`).

Risk patterns are checked inline, in the ingestion transaction; communication scores and
health follow incrementally in the worker once the events are committed (ARCHITECTURE: the
main road).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction

from lodestar.events.records import RecordedEvent
from lodestar.insights.refresh import insights_refresh
from lodestar.insights.tasks import refresh_scores

__all__ = ["insights_on_events"]


def insights_on_events(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    """Ingestion step: re-check the risks of the deals the new events touched in the same
    transaction; their communication scores and owners' health follow in the worker once the
    events are committed (ARCHITECTURE: risk patterns inline, scores incrementally)."""
    touched: defaultdict[int, set[int]] = defaultdict(set)
    for event in events:
        if event.opportunity_id is not None:
            touched[event.organization_id].add(event.opportunity_id)
    for organization_id, deal_ids in touched.items():
        insights_refresh(organization_id=organization_id, deal_ids=deal_ids, now=now, scores=False)
        transaction.on_commit(
            functools.partial(refresh_scores, organization_id, sorted(deal_ids), now.isoformat())
        )
