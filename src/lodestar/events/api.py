"""`POST /api/v1/events`: one event or a batch of up to 1000, judged item by item."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Body, Router, Schema, Status
from pydantic import Field, ValidationError

from lodestar.errors import ValidationFailed
from lodestar.events.services import MAX_BATCH, events_ingest, pydantic_details
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, ErrorOut

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
