"""`POST /api/v1/events`: one event or a batch of up to 1000, judged item by item;
`GET /api/v1/events`: the log as the caller may read it, filtered and paged."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils import timezone
from ninja import Body, Query, Router, Schema, Status
from pydantic import Field, ValidationError

from lodestar.errors import ValidationFailed
from lodestar.events.models import Event
from lodestar.events.selectors import EventFilters, event_list
from lodestar.events.services import MAX_BATCH, events_ingest, pydantic_details
from lodestar.fields import Id, SupportedDatetime, Text
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import organization_zone
from lodestar.rest.errors import ERROR_RESPONSES, ErrorOut
from lodestar.rest.pagination import Page, PageQuery, page_of
from lodestar.rest.schemas import UserRef

router = Router(tags=["events"])


class FieldErrorOut(Schema):
    field: str
    message: str


class IngestItemOut(Schema):
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: int | None = Field(description="The logged event (also for duplicates).")
    source: str
    external_id: str
    details: list[FieldErrorOut]


class IngestOut(Schema):
    accepted: int
    duplicates: int
    rejected: int
    results: list[IngestItemOut]


class BatchIn(Schema):
    # Items are `Any` so that one that is not even an object is rejected alone, by the service.
    events: list[Any] = Field(
        min_length=1, max_length=MAX_BATCH, description="The events; each is checked on its own."
    )


@router.post(
    "/events",
    response={200: IngestOut, 207: IngestOut, **ERROR_RESPONSES, 413: ErrorOut},
    summary="Record one event or a batch",
    description=(
        'Send one event object, or `{"events": [...]}` with up to 1000. Each item is accepted, '
        "recognised as a duplicate of an earlier delivery with the same `(source, external_id)`, "
        "or rejected with the reason; a bad item never rejects the others. The status is 200 "
        "when no item was rejected and 207 when at least one was (the others are stored); "
        "422 means the envelope itself was refused and nothing was stored."
    ),
)
def post_events(request: AuthenticatedHttpRequest, body: Body[dict[str, Any]]) -> Status[IngestOut]:
    if "events" in body:
        try:
            items = BatchIn.model_validate(body).events
        except ValidationError as exc:
            raise ValidationFailed(details=pydantic_details(exc)) from exc
    else:
        items = [body]
    report = events_ingest(user=request.user, items=items)
    rejected = report.count("rejected")
    return Status(
        207 if rejected else 200,
        IngestOut(
            accepted=report.count("accepted"),
            duplicates=report.count("duplicate"),
            rejected=rejected,
            results=[
                IngestItemOut(
                    index=item.index,
                    status=item.status,
                    event_id=item.event_id,
                    source=item.source,
                    external_id=item.external_id,
                    details=[FieldErrorOut(**detail.as_dict()) for detail in item.details],
                )
                for item in report.items
            ],
        ),
    )


class EventOut(Schema):
    id: int
    type: str
    source: str
    external_id: str
    occurred_at: dt.datetime = Field(description="In the organization's time zone.")
    recorded_at: dt.datetime = Field(description="In the organization's time zone.")
    actor: UserRef | None
    opportunity_id: int | None
    account_id: int | None
    contact_id: int | None
    with_customer: bool
    payload: dict[str, Any]


class EventPage(Page[EventOut]):
    pass


class EventQuery(PageQuery):
    opportunity: Id | None = Field(None, description="Deal id.")
    account: Id | None = Field(None, description="Account id.")
    type: Text | None = Field(None, max_length=64, description="Event type, e.g. meeting.held.")
    source: Text | None = Field(None, max_length=64, description="Where it came from, e.g. web.")
    occurred_from: SupportedDatetime | None = Field(
        None, description="Occurred at or after this moment (with its offset)."
    )
    occurred_to: SupportedDatetime | None = Field(
        None, description="Occurred before this moment (with its offset)."
    )


def _event_out(event: Event, zone: dt.tzinfo) -> EventOut:
    return EventOut(
        id=event.pk,
        type=event.type,
        source=event.source,
        external_id=event.external_id,
        occurred_at=timezone.localtime(event.occurred_at, zone),
        recorded_at=timezone.localtime(event.recorded_at, zone),
        actor=UserRef.model_validate(event.actor) if event.actor else None,
        opportunity_id=event.opportunity_id,
        account_id=event.account_id,
        contact_id=event.contact_id,
        with_customer=event.with_customer,
        payload=event.payload,
    )


@router.get(
    "/events",
    response={200: EventPage, **ERROR_RESPONSES},
    summary="Read the event log",
    description=(
        "Events newest first: those of the deals you may read and, of events naming no deal, "
        "those of the accounts you may read (ops and admins read the whole organization). "
        "Times are given in the organization's time zone."
    ),
)
def list_events(request: AuthenticatedHttpRequest, filters: Query[EventQuery]) -> dict[str, Any]:
    found = event_list(
        user=request.user,
        filters=EventFilters(
            opportunity_id=filters.opportunity,
            account_id=filters.account,
            type=filters.type,
            source=filters.source,
            occurred_from=filters.occurred_from,
            occurred_to=filters.occurred_to,
        ),
    )
    zone = organization_zone(user=request.user)
    return page_of(found, filters, lambda event: _event_out(event, zone))
