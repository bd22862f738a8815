"""Attachment uploads: the type is sniffed from the bytes, the file stored, the text extracted.

`attachment_upload(user=…, opportunity=…, kind=…, uploaded_file=…)` is the one door for files
on a deal (meeting minutes, signed quotes, technical agreements …). What it accepts:

- **PDF** — text extracted with `pypdf`, page by page;
- **DOCX** — the paragraphs of `word/document.xml` (zip + XML read with defusedxml);
- **JPEG / PNG** — stored, no text yet (quote photos get theirs from OCR later);
- **plain text** — anything that decodes as UTF-8 (with or without a BOM) or GB18030.

Everything else is refused with a clear error, and so is a file that fails the cheap checks of
`extraction.check_upload` (a decompression bomb, a damaged archive, a DTD in the XML, a
truncated or password-protected PDF): nothing is stored then. A file that passes is stored with
`text_status=pending`, and `attachment_extract_text` — run by the worker once the upload commits
— reads its text within the limits of `extraction.limits()` and records `done` or `refused`
with the reason. The stored name is the content hash, so the client's file name is kept only as
a label. The `minutes.uploaded` event of an upload is appended by the log's side of the upload
(`lodestar.events.uploads.deal_file_upload`), the path the pages and the API take.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import zipfile
from typing import Any

import filetype
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.crm.extraction import (
    DOCX,
    Refused,
    as_text,
    check_upload,
    check_zip_entries,
    extract_text,
    limits,
)
from lodestar.crm.models import Attachment, Opportunity, TextProblem, TextStatus
from lodestar.errors import PermissionDenied, ValidationFailed
from lodestar.org.models import User
from lodestar.org.selectors import actor_of

__all__ = [
    "MAX_UPLOAD_BYTES",
    "SUPPORTED_TYPES",
    "attachment_extract_text",
    "attachment_pending_ids",
    "attachment_upload",
    "sniff",
]

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SUPPORTED_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "image/jpeg": "jpg",
    "image/png": "png",
    "text/plain": "txt",
}
# Types whose text the worker reads; the others are stored with none (images wait for OCR).
_TEXT_TYPES = frozenset({"application/pdf", DOCX, "text/plain"})


def _is_docx(data: bytes) -> bool:
    check_zip_entries(data, limits())  # before zipfile reads a directory of any size
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def sniff(data: bytes) -> str | None:
    """The content type of `data` judged from its bytes, or None when it is not supported.
    Raises `Refused` for a ZIP archive with more entries than a DOCX may hold."""
    guess = filetype.guess(data)
    if guess is not None:
        if guess.mime == "application/zip" or guess.mime == DOCX:
            return DOCX if _is_docx(data) else None
        return guess.mime if guess.mime in SUPPORTED_TYPES else None
    if data and as_text(data) is not None:
        return "text/plain"
    return None


def _count_chars(text: str) -> int:
    """Characters that carry content (whitespace does not make minutes longer)."""
    return sum(1 for char in text if not char.isspace())


@transaction.atomic
def attachment_upload(
    *,
    user: User,
    opportunity: Opportunity,
    kind: str,
    uploaded_file: Any,
    now: dt.datetime | None = None,
) -> Attachment:
    """Store a file on the deal. The caller fetched `opportunity` with
    `access_opportunity(…, for_write=True)`; refuses empty, too large and unsupported files."""
    actor = actor_of(user=user)
    if actor is None or not actor.works_deals:
        raise PermissionDenied()
    kind = (kind or "").strip()
    if not kind or len(kind) > 32:
        raise ValidationFailed.on("kind", _("Name the kind of attachment (at most 32 characters)."))
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationFailed.on(
            "file", _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
        )
    data = uploaded_file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed.on(
            "file", _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
        )
    if not data:
        raise ValidationFailed.on("file", _("The file is empty."))
    try:
        content_type = sniff(data)
        if content_type is None:
            raise ValidationFailed.on(
                "file",
                _("This file type is not supported; upload PDF, DOCX, JPG, PNG or plain text."),
            )
        check_upload(data, content_type)
    except Refused as refused:
        raise ValidationFailed.on("file", refused.message) from None
    digest = hashlib.sha256(data).hexdigest()
    name = str(getattr(uploaded_file, "name", "") or f"upload.{SUPPORTED_TYPES[content_type]}")
    pending = content_type in _TEXT_TYPES
    attachment = Attachment(
        organization_id=opportunity.organization_id,
        opportunity=opportunity,
        account_id=opportunity.account_id,
        kind=kind,
        original_name=name.rsplit("/", 1)[-1][:255],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        text_status=TextStatus.PENDING if pending else TextStatus.DONE,
        uploaded_by=user,
        uploaded_at=now or timezone.now(),
    )
    attachment.file.save(digest, ContentFile(data), save=False)
    try:
        attachment.save()
    except BaseException:
        # The row was not written: take back the file so storage holds no orphan.
        attachment.file.delete(save=False)
        raise
    if pending:
        transaction.on_commit(functools.partial(_enqueue_extraction, attachment.pk), robust=True)
    return attachment


def _enqueue_extraction(attachment_id: int) -> None:
    from lodestar.crm.tasks import extract_attachment_text

    extract_attachment_text(attachment_id)


def attachment_extract_text(*, attachment_id: int) -> TextStatus | None:
    """Worker step: read a pending attachment's text within the extraction limits and record it
    (`done`, possibly truncated, or `refused` with the problem). Returns the status written, or
    None when the row is gone or no longer pending (another run finished it first).

    The extraction runs outside any transaction (it may take seconds); the result is written
    by one conditional UPDATE, so two runs of the same task never both record."""
    attachment = (
        Attachment.objects.filter(pk=attachment_id, text_status=TextStatus.PENDING)
        .only("file", "content_type")
        .first()
    )
    if attachment is None:
        return None
    with attachment.file.open("rb") as stored:
        data = stored.read(MAX_UPLOAD_BYTES + 1)
    try:
        extracted = extract_text(data, attachment.content_type)
    except Refused as refused:
        logger.info("attachment %s: text not read: %s", attachment_id, refused)
        status, text, problem = TextStatus.REFUSED, "", refused.problem
    else:
        status, text = TextStatus.DONE, extracted.text
        problem = TextProblem.TRUNCATED if extracted.truncated else TextProblem.NONE
    written = Attachment.objects.filter(pk=attachment_id, text_status=TextStatus.PENDING).update(
        text_status=status,
        text_problem=problem,
        extracted_text=text,
        text_length=_count_chars(text),
    )
    return status if written else None


def attachment_pending_ids(*, older_than: dt.datetime) -> list[int]:
    """Attachments still pending since before `older_than`: their task was lost (a broker
    outage at enqueue, a worker killed mid-extraction) and the sweep queues them again."""
    return list(
        Attachment.objects.filter(
            text_status=TextStatus.PENDING, uploaded_at__lt=older_than
        ).values_list("pk", flat=True)[:1000]
    )
