"""The knowledge base over REST: everyone in the organization lists and reads entries and their
files; sales ops and administrators create, change and delete entries and attach files.

Each view makes one call to `lodestar.insights.knowledge` (or to `access_knowledge_entry`),
which checks the role and the input; a refusal answers with the one error body.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import FileResponse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from lodestar.crm.models import KnowledgeEntry
from lodestar.crm.selectors import access_knowledge_entry
from lodestar.fields import Id, Text
from lodestar.insights import knowledge
from lodestar.insights.models import KnowledgeFile
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictIn

__all__ = ["router"]

router = Router(tags=["knowledge"])

Kind = Literal["product", "handbook", "case"]
Title = Annotated[Text, Field(min_length=1, max_length=knowledge.TITLE_MAX)]
Key = Annotated[Text, Field(max_length=64, description="Letters, digits, - and _.")]
Body = Annotated[Text, Field(max_length=knowledge.BODY_MAX)]
StageKey = Annotated[Text, Field(min_length=1, max_length=64)]
LEFT_OUT: Any = None


class KnowledgeFileOut(Schema):
    id: int
    original_name: str
    content_type: str = Field(description="Judged from the bytes when uploaded.")
    size: int = Field(description="In bytes.")
    sha256: str
    uploaded_at: dt.datetime = Field(description="In the organization's time zone.")
    url: str = Field(description="The file's content (`GET`), for anyone in the organization.")

    @staticmethod
    def resolve_uploaded_at(obj: KnowledgeFile) -> dt.datetime:
        return obj.uploaded_at.astimezone(obj.organization.tz)

    @staticmethod
    def resolve_url(obj: KnowledgeFile) -> str:
        return f"/api/v1/knowledge/{obj.entry_id}/files/{obj.pk}/content"


class KnowledgeEntryOut(Schema):
    id: int
    key: str = Field(description="What a playbook's `scorecard.handbook` names.")
    title: str
    kind: Kind
    body: str
    product_id: int | None
    stage_keys: list[str] = Field(description="The stages the entry helps with.")
    files: list[KnowledgeFileOut]

    @staticmethod
    def resolve_stage_keys(obj: KnowledgeEntry) -> list[str]:
        return sorted(s.stage_key for s in obj.stages.all())

    @staticmethod
    def resolve_files(obj: KnowledgeEntry) -> list[KnowledgeFile]:
        return list(obj.files.all())


class KnowledgePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[KnowledgeEntryOut]


class KnowledgeQuery(PageQuery):
    q: Annotated[Text, Field(max_length=100)] = Field(
        "", description="Text in the title or the text, or the exact key."
    )
    kind: Kind | None = None
    stage: StageKey | None = Field(None, description="Entries that help with this stage.")


class KnowledgeCreateIn(StrictIn):
    title: Title
    kind: Kind = "handbook"
    body: Body = ""
    key: Key = Field("", description="Made from the title when left empty.")
    product_id: Id | None = None
    stage_keys: Annotated[list[StageKey], Field(max_length=50)] = Field(default_factory=list)


class KnowledgeUpdateIn(StrictIn):
    title: Title = LEFT_OUT
    kind: Kind = LEFT_OUT
    body: Body = LEFT_OUT
    key: Key = LEFT_OUT
    product_id: Id | None = None
    stage_keys: Annotated[list[StageKey], Field(max_length=50)] = LEFT_OUT


def _entry(request: AuthenticatedHttpRequest, entry_id: int) -> KnowledgeEntry:
    access_knowledge_entry(user=request.user, entry_id=entry_id)
    return knowledge.knowledge_list(user=request.user).get(pk=entry_id)


@router.get("/knowledge", response={200: KnowledgePage, **ERROR_RESPONSES})
def list_knowledge(
    request: AuthenticatedHttpRequest, filters: Query[KnowledgeQuery]
) -> dict[str, Any]:
    """The organization's knowledge entries by kind and title, with their stages and files."""
    found = knowledge.knowledge_list(
        user=request.user,
        filters=knowledge.KnowledgeFilters(q=filters.q, kind=filters.kind, stage=filters.stage),
    )
    return page_of(found, filters)


@router.post("/knowledge", response={201: KnowledgeEntryOut, **WRITE_ERRORS})
def create_knowledge(request: AuthenticatedHttpRequest, payload: KnowledgeCreateIn) -> Status[Any]:
    """A new entry (sales ops and administrators; 403 for others)."""
    entry = knowledge.knowledge_entry_create(user=request.user, **payload.model_dump())
    return Status(201, _entry(request, entry.pk))


@router.get("/knowledge/{entry_id}", response={200: KnowledgeEntryOut, **ERROR_RESPONSES})
def get_knowledge(request: AuthenticatedHttpRequest, entry_id: Id) -> KnowledgeEntry:
    return _entry(request, entry_id)


@router.patch("/knowledge/{entry_id}", response={200: KnowledgeEntryOut, **WRITE_ERRORS})
def update_knowledge(
    request: AuthenticatedHttpRequest, entry_id: Id, payload: KnowledgeUpdateIn
) -> KnowledgeEntry:
    """Change the fields given (sales ops and administrators); `stage_keys` replaces the list."""
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    knowledge.knowledge_entry_update(
        user=request.user, entry=entry, data=payload.model_dump(exclude_unset=True)
    )
    return _entry(request, entry_id)


@router.delete("/knowledge/{entry_id}", response={204: None, **WRITE_ERRORS})
def delete_knowledge(request: AuthenticatedHttpRequest, entry_id: Id) -> Status[None]:
    """Delete an entry with its files (sales ops and administrators)."""
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    knowledge.knowledge_entry_delete(user=request.user, entry=entry)
    return Status(204, None)


@router.post("/knowledge/{entry_id}/files", response={201: KnowledgeFileOut, **WRITE_ERRORS})
def upload_knowledge_file(
    request: AuthenticatedHttpRequest, entry_id: Id, file: File[UploadedFile]
) -> Status[Any]:
    """Attach a file (multipart `file`; sales ops and administrators): PDF, DOCX, JPG, PNG or
    plain text up to 20 MB, its type judged from the bytes; anything else is refused (422)."""
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    return Status(
        201, knowledge.knowledge_file_add(user=request.user, entry=entry, uploaded_file=file)
    )


@router.get(
    "/knowledge/{entry_id}/files/{file_id}/content",
    response=ERROR_RESPONSES,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file's bytes with its stored type, as a download named "
                "after the original file, with `X-Content-Type-Options: nosniff`.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def knowledge_file_content(
    request: AuthenticatedHttpRequest, entry_id: Id, file_id: Id
) -> FileResponse:
    """A file's content, for anyone in the organization."""
    stored = knowledge.access_knowledge_file(user=request.user, entry_id=entry_id, file_id=file_id)
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.original_name or "file",
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@router.delete("/knowledge/{entry_id}/files/{file_id}", response={204: None, **WRITE_ERRORS})
def delete_knowledge_file(
    request: AuthenticatedHttpRequest, entry_id: Id, file_id: Id
) -> Status[None]:
    """Remove a file from its entry (sales ops and administrators)."""
    access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    stored = knowledge.access_knowledge_file(user=request.user, entry_id=entry_id, file_id=file_id)
    knowledge.knowledge_file_delete(user=request.user, stored=stored)
    return Status(204, None)
