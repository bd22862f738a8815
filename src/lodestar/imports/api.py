"""Imports over REST: a file taken in, its mapping, a dry run, the import, its report, undo.

- `POST /imports` (multipart: `kind`, `file`) reads the file and suggests a mapping;
- `GET /imports`, `GET /imports/{id}` (status, progress, counts), `GET /imports/kinds`;
- `PUT /imports/{id}/mapping`, `GET /imports/{id}/preview`;
- `POST /imports/{id}/check` (dry run), `/run`, `/cancel`, `/undo`;
- `GET /imports/{id}/problems?severity=&limit=&offset=`.

Ops and administrators only (403 for the other roles); another organization's batches are 404.
The work is `lodestar.imports.services`; each view parses, makes one call and returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from lodestar.errors import ApplicationError, FieldError
from lodestar.fields import Id, JsonObject
from lodestar.i18n import speaks_chinese
from lodestar.imports import selectors, services
from lodestar.imports.models import ImportBatch, ImportProblem
from lodestar.imports.problem_kinds import problem_kinds
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictIn, UserRef

__all__ = ["BatchOut", "router", "upload_limit"]

router = Router(tags=["imports"])


def upload_limit() -> int:
    """The largest import file in bytes (the setting `LODESTAR_IMPORT_MAX_BYTES`)."""
    return services.import_limits().max_bytes


class TooLarge(ApplicationError):
    code = "too_large"
    status = 413


def refuse_oversized(size: int | None, name: str) -> None:
    """413 before anything is read or stored when the file is larger than the limit."""
    limit = upload_limit()
    if size is not None and size > limit:
        raise TooLarge(
            _(
                "%(name)s is %(size).1f MB; an import file may be at most %(limit).1f MB. "
                "Split it into smaller files (by year or region), or save it as CSV, which is "
                "smaller than XLSX."
            )
            % {"name": name, "size": size / 1024 / 1024, "limit": limit / 1024 / 1024},
            details=[FieldError(field="file", message=_("The file is too large."))],
        )


# --- outputs ---------------------------------------------------------------------------------


class ProgressOut(Schema):
    done: int = Field(description="Rows read so far in the current (or last) run.")
    total: int = Field(description="Rows in the file.")


class CountsOut(Schema):
    imported: int = Field(0, description="Rows that created a record.")
    updated: int = Field(0, description="Rows that changed a record imported before.")
    unchanged: int = Field(0, description="Rows identical to what an earlier import wrote.")
    skipped: int = Field(0, description="Rows not written because of an error (see problems).")
    warnings: int = Field(0, description="Warnings (they never stop a row).")
    errors: int = Field(0, description="Errors (each stops its row only).")


class BatchOut(Schema):
    id: int
    kind: str = Field(
        description="accounts, contacts, products, deals, stage_history or activities."
    )
    status: str = Field(
        description="uploaded, checking, checked, importing, done, failed, cancelled, undoing "
        "or undone."
    )
    dry_run: bool = Field(description="The last run checked the rows and wrote nothing.")
    original_name: str
    size: int = Field(description="In bytes.")
    format: str = Field(description="csv, xlsx or xls.")
    encoding: str = Field(description="CSV only: the encoding found (utf-8, gb18030 …).")
    headers: list[str]
    mapping: dict[str, Any] = Field(
        description="How the columns map to fields (see `PUT /imports/{id}/mapping`)."
    )
    mapping_source: str = Field(
        description="Where the suggested mapping came from: saved (the last mapping used for "
        "files with these headers), ready (a ready-made mapping) or headers (matched by name)."
    )
    progress: ProgressOut
    counts: CountsOut
    created_by: UserRef | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    undone_at: dt.datetime | None
    error: str = Field(description="Why the run failed; empty otherwise.")

    @staticmethod
    def resolve_progress(obj: ImportBatch) -> dict[str, int]:
        return {"done": obj.progress_done, "total": obj.progress_total}

    @staticmethod
    def resolve_counts(obj: ImportBatch) -> dict[str, int]:
        return dict(obj.counts or {})


class BatchPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[BatchOut]


class ProblemOut(Schema):
    row: int | None = Field(
        description="The row as it is numbered in the file (the header is row 1); null for "
        "the whole file."
    )
    column: str = Field(description="The column's header; empty when no one column is meant.")
    field: str
    severity: Literal["error", "warning"]
    code: str
    message: str = Field(description="In the caller's language.")
    hint: str = Field(description="How to fix it, in the caller's language; may be empty.")

    @staticmethod
    def resolve_message(obj: ImportProblem) -> str:
        return obj.message_zh if speaks_chinese() else obj.message_en

    @staticmethod
    def resolve_hint(obj: ImportProblem) -> str:
        return obj.hint_zh if speaks_chinese() else obj.hint_en


class ProblemPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProblemOut]


class ProblemKindOut(Schema):
    severity: Literal["error", "warning"]
    code: str
    column: str
    count: int = Field(description="How many problems of this kind (one a row, mostly).")
    first_row: int | None = Field(description="The first row it is on.")
    example: str = Field(description="The first one's message, in the caller's language.")


class ProblemQuery(PageQuery):
    severity: Literal["error", "warning"] | None = Field(
        None, description="Only errors or only warnings."
    )


class FieldOut(Schema):
    key: str
    label: str = Field(description="In the caller's language.")
    type: str
    required: bool
    synonyms: list[str] = Field(description="Header names (zh and en) matched to this field.")


class KindOut(Schema):
    key: str
    label: str
    fields: list[FieldOut]


class PreviewProblemOut(Schema):
    column: str
    field: str
    severity: str
    code: str
    message: str
    hint: str


class ReferenceOut(Schema):
    value: str = Field(description="The name or key the row gives.")
    found: bool = Field(description="It names a record that exists.")
    create: bool = Field(description="The import creates it (an account named by a deal).")


class PreviewRowOut(Schema):
    number: int = Field(description="The row as numbered in the file.")
    key: str = Field(description="The row's key (the key column's value, or a stable hash).")
    values: dict[str, Any] = Field(description="Field → the value as it will be stored.")
    custom: dict[str, Any] = Field(description="Custom field → the value as it will be stored.")
    references: dict[str, ReferenceOut] = Field(
        description="Field → the record it names (account, owner, product, deal …)."
    )
    problems: list[PreviewProblemOut]


class PreviewOut(Schema):
    columns: list[str] = Field(description="The fields shown, in mapping order.")
    rows: list[PreviewRowOut]


# --- inputs ----------------------------------------------------------------------------------


class MappingIn(StrictIn):
    mapping: JsonObject = Field(
        description='`{"columns": [{"column": "客户名称", "target": "account"}, {"column": '
        '"行业", "target": "custom:industry", "custom": {"key": "industry", "label": "行业", '
        '"type": "choice", "choices": ["制造", "医疗"]}}, {"column": "备注", "target": '
        '"ignore"}], "key_column": "编号", "value_maps": {"stage": {"Won": "won"}}, '
        '"options": {"date_order": "ymd"}}` — as `GET /imports/{id}` shows it.'
    )


Kind = Literal["accounts", "contacts", "products", "deals", "stage_history", "activities"]


# --- views -----------------------------------------------------------------------------------


@router.get("/kinds", response={200: list[KindOut], **ERROR_RESPONSES})
def list_kinds(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    """What can be imported: each kind's fields, their types and the header names (Chinese and
    English) a column is matched to them by."""
    return [_kind_out(kind) for kind in selectors.import_kinds()]


@router.post("", response={201: BatchOut, **WRITE_ERRORS})
def upload(
    request: AuthenticatedHttpRequest, kind: Form[Kind], file: File[UploadedFile]
) -> Status[Any]:
    """Upload a file (multipart: `kind`, `file`): CSV in any encoding (UTF-8 with or without a
    BOM, GBK/GB18030, UTF-16 — detected), XLSX or XLS. It is read and refused before anything is
    stored when it is too large (413), unreadable, empty, without a header row, or has too many
    columns or rows (422, the reason in `message`). Otherwise the batch is stored with a
    suggested mapping (`mapping_source` says from where); nothing is imported yet."""
    name = file.name or "upload"
    refuse_oversized(file.size, name)
    batch = services.import_upload(user=request.user, kind=kind, file=file, filename=name)
    return Status(201, batch)


@router.get("", response={200: BatchPage, **ERROR_RESPONSES})
def list_batches(request: AuthenticatedHttpRequest, filters: Query[PageQuery]) -> dict[str, Any]:
    """The organization's imports, newest first."""
    return page_of(selectors.import_batches(user=request.user), filters)


@router.get("/{batch_id}", response={200: BatchOut, **ERROR_RESPONSES})
def get_batch(request: AuthenticatedHttpRequest, batch_id: Id) -> ImportBatch:
    """One import: its status, progress (poll it while `status` is checking, importing or
    undoing) and counts."""
    return selectors.import_batch(user=request.user, batch_id=batch_id)


@router.put("/{batch_id}/mapping", response={200: BatchOut, **WRITE_ERRORS})
def set_mapping(request: AuthenticatedHttpRequest, batch_id: Id, payload: MappingIn) -> ImportBatch:
    """Replace the mapping before a run. A mapping that names a column the file lacks, a field
    twice, or leaves a required field unmapped is refused (422, each problem in `details`)."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    return services.import_set_mapping(user=request.user, batch=batch, mapping=payload.mapping)


@router.get("/{batch_id}/preview", response={200: PreviewOut, **ERROR_RESPONSES})
def preview(request: AuthenticatedHttpRequest, batch_id: Id) -> dict[str, Any]:
    """The first 20 rows as they will be stored under the current mapping, each with its
    problems."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    return preview_out(services.import_preview(user=request.user, batch=batch, limit=20))


@router.post("/{batch_id}/check", response={202: BatchOut, **WRITE_ERRORS})
def check(request: AuthenticatedHttpRequest, batch_id: Id) -> Status[Any]:
    """A dry run: every row is checked and its problems recorded; nothing is written. The
    worker runs it; poll `GET /imports/{id}` until `status` is checked (or failed), then read
    `counts` and `GET /imports/{id}/problems`."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    return Status(202, services.import_start(user=request.user, batch=batch, dry_run=True))


@router.post("/{batch_id}/run", response={202: BatchOut, **WRITE_ERRORS})
def run(request: AuthenticatedHttpRequest, batch_id: Id) -> Status[Any]:
    """Import: rows without errors are written (a row with an error is skipped and reported).
    Rows are keyed, so importing the same file again updates or leaves them unchanged, never
    duplicates them. The worker runs it; poll `GET /imports/{id}` until `status` is done (or
    failed). The mapping is saved for the next file with the same headers."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    return Status(202, services.import_start(user=request.user, batch=batch, dry_run=False))


@router.post("/{batch_id}/cancel", response={200: BatchOut, **WRITE_ERRORS})
def cancel(request: AuthenticatedHttpRequest, batch_id: Id) -> ImportBatch:
    """Stop a run in progress (what an import already wrote stays, and can be undone), or drop
    a batch not run yet."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    services.import_cancel(user=request.user, batch=batch)
    return selectors.import_batch(user=request.user, batch_id=batch_id)


@router.post("/{batch_id}/undo", response={200: BatchOut, **WRITE_ERRORS})
def undo(request: AuthenticatedHttpRequest, batch_id: Id) -> ImportBatch:
    """Undo a finished import as a whole: records it created are removed, records it updated get
    their earlier values back, and the events it logged are removed. 409 when the batch is not
    a finished import."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    return services.import_undo(user=request.user, batch=batch)


@router.get("/{batch_id}/problems", response={200: ProblemPage, **ERROR_RESPONSES})
def problems(
    request: AuthenticatedHttpRequest, batch_id: Id, filters: Query[ProblemQuery]
) -> dict[str, Any]:
    """What the last run found, by row and column: what is wrong and how to fix it."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    found = selectors.import_problems(user=request.user, batch=batch, severity=filters.severity)
    return page_of(found, filters)


@router.get("/{batch_id}/problems/kinds", response={200: list[ProblemKindOut], **ERROR_RESPONSES})
def problem_kinds_of(request: AuthenticatedHttpRequest, batch_id: Id) -> list[dict[str, Any]]:
    """The problems counted by kind (severity, code and column): errors first, then the most
    frequent; at most 50 kinds, each with the first row it is on and one message as example."""
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    found = selectors.import_problems(user=request.user, batch=batch)
    chinese = speaks_chinese()
    return [
        {
            "severity": kind.severity,
            "code": kind.code,
            "column": kind.column,
            "count": kind.count,
            "first_row": kind.first_row,
            "example": kind.example.message_zh if chinese else kind.example.message_en,
        }
        for kind in problem_kinds(found, limit=50)
    ]


# --- shaping ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "zh") and hasattr(value, "en"):
        return str(value.zh if speaks_chinese() else value.en)
    return str(value)


def _kind_out(kind: Any) -> dict[str, Any]:
    return {
        "key": kind.key,
        "label": _text(kind.label),
        "fields": [
            {
                "key": field.key,
                "label": _text(field.label),
                "type": field.type,
                "required": field.required,
                "synonyms": list(field.synonyms),
            }
            for field in kind.fields
        ],
    }


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return str(value)


def preview_out(found: Any) -> dict[str, Any]:
    return {
        "columns": list(found.columns),
        "rows": [
            {
                "number": row.number,
                "key": row.key,
                "values": {name: _value(value) for name, value in row.values.items()},
                "custom": {name: _value(value) for name, value in row.custom.items()},
                "references": {
                    name: {
                        "value": str(ref.value),
                        "found": ref.id is not None,
                        "create": bool(ref.create),
                    }
                    for name, ref in row.references.items()
                },
                "problems": [
                    {
                        "column": problem.column or "",
                        "field": problem.field or "",
                        "severity": problem.severity,
                        "code": problem.code,
                        "message": _text(problem.message),
                        "hint": _text(problem.hint),
                    }
                    for problem in row.problems
                ],
            }
            for row in found.rows
        ],
    }
