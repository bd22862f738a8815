"""Attachments over REST: the files you can see (a deal's), one file's details, its content.

Who may read a file is `lodestar.crm.selectors.access_attachment` (whoever sees its deal, as on
the deal page; 404 otherwise); how its bytes are served is `lodestar.crm.downloads` (the stored
type, inline only for safe types, `nosniff`, a policy of its own, streamed). Uploading is
`POST /opportunities/{id}/attachments` (`lodestar.insights.api`), which logs the upload's event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse
from ninja import Field, Query, Router, Schema

from lodestar.crm.downloads import INLINE_TYPES, attachment_response
from lodestar.crm.models import Attachment
from lodestar.crm.selectors import access_attachment, access_opportunity, attachment_scope
from lodestar.fields import Id
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import actor_of
from lodestar.rest.errors import ERROR_RESPONSES
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictQuery

__all__ = ["AttachmentOut", "router"]

router = Router(tags=["attachments"])


class AttachmentOut(Schema):
    id: int
    opportunity_id: int | None
    kind: str
    original_name: str
    content_type: str = Field(description="Judged from the bytes when uploaded.")
    size: int = Field(description="In bytes.")
    sha256: str
    text_length: int
    text_status: str = Field(
        description="pending (the worker is reading the text), done, or refused (no text)."
    )
    text_problem: str = Field(
        description="Why the text is partial or missing: truncated, too_large, too_slow, "
        "damaged; empty when there is none."
    )
    uploaded_at: dt.datetime = Field(description="In the organization's time zone.")
    opens_inline: bool = Field(
        description="Whether `GET /attachments/{id}/content` shows it in a browser (PDF, PNG, "
        "JPEG, plain text) rather than downloading it."
    )

    @staticmethod
    def resolve_uploaded_at(obj: Attachment) -> dt.datetime:
        return obj.uploaded_at.astimezone(obj.organization.tz)

    @staticmethod
    def resolve_opens_inline(obj: Attachment) -> bool:
        return obj.content_type in INLINE_TYPES


class AttachmentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AttachmentOut]


class AttachmentQuery(PageQuery):
    opportunity: Id | None = Field(None, description="Only this deal's files.")


@router.get("/attachments", response={200: AttachmentPage, **ERROR_RESPONSES})
def list_attachments(
    request: AuthenticatedHttpRequest, filters: Query[AttachmentQuery]
) -> dict[str, Any]:
    """Files you can see (those on the deals you see), newest first; `opportunity` keeps one
    deal's (404 for a deal you cannot see)."""
    found = attachment_scope(actor=actor_of(user=request.user)).select_related("organization")
    if filters.opportunity is not None:
        deal = access_opportunity(user=request.user, opportunity_id=filters.opportunity)
        found = found.filter(opportunity=deal)
    return page_of(found, filters)


@router.get("/attachments/{attachment_id}", response={200: AttachmentOut, **ERROR_RESPONSES})
def get_attachment(request: AuthenticatedHttpRequest, attachment_id: Id) -> Attachment:
    """One file's details (404 unless you can see its deal)."""
    return access_attachment(user=request.user, attachment_id=attachment_id)


class ContentQuery(StrictQuery):
    download: bool = Field(
        False, description="Always answer as a download (`Content-Disposition: attachment`)."
    )


@router.get(
    "/attachments/{attachment_id}/content",
    response=ERROR_RESPONSES,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file's bytes with its stored type: PDF, PNG, JPEG and plain "
                "text inline, anything else (or with `download=true`) as a download named "
                "after the original file (RFC 5987 `filename*`). Always with "
                "`X-Content-Type-Options: nosniff` and a restrictive "
                "`Content-Security-Policy`.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachment_content(
    request: AuthenticatedHttpRequest, attachment_id: Id, filters: Query[ContentQuery]
) -> FileResponse:
    """A file's content, streamed (404 unless you can see its deal)."""
    attachment = access_attachment(user=request.user, attachment_id=attachment_id)
    return attachment_response(attachment, download=filters.download)
