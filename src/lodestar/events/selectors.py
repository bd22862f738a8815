"""Reads of the event log, scoped to who asks.

A caller reads the events of the deals they may read (`crm.selectors.opportunity_scope`) and, of
the events naming no deal, those of the accounts they may read (`account_scope`). Events naming
neither (organization-wide facts) are read by ops and admins, who see the whole organization.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from lodestar.crm.selectors import account_scope, opportunity_scope
from lodestar.events.models import Event
from lodestar.org.models import User
from lodestar.org.selectors import actor_of

__all__ = ["EventFilters", "event_list"]


@dataclass(frozen=True)
class EventFilters:
    opportunity_id: int | None = None
    account_id: int | None = None
    type: str | None = None
    source: str | None = None
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None


def event_list(*, user: User, filters: EventFilters | None = None) -> QuerySet[Event]:
    """The events the user may read, newest first."""
    filters = filters or EventFilters()
    actor = actor_of(user=user)
    if actor is None:
        return Event.objects.none()
    events = Event.objects.filter(organization_id=actor.organization_id)
    if not actor.sees_whole_organization:
        events = events.filter(
            Q(opportunity__in=opportunity_scope(actor=actor).values("pk"))
            | Q(opportunity__isnull=True, account__in=account_scope(actor=actor).values("pk"))
        )
    if filters.opportunity_id is not None:
        events = events.filter(opportunity_id=filters.opportunity_id)
    if filters.account_id is not None:
        events = events.filter(account_id=filters.account_id)
    if filters.type:
        events = events.filter(type=filters.type)
    if filters.source:
        events = events.filter(source=filters.source)
    if filters.occurred_from is not None:
        events = events.filter(occurred_at__gte=filters.occurred_from)
    if filters.occurred_to is not None:
        events = events.filter(occurred_at__lt=filters.occurred_to)
    return events.select_related("actor").order_by("-occurred_at", "-id")
