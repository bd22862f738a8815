"""Attachment uploads: the type is sniffed from the bytes, the text extracted, the file stored.

`attachment_upload(user=…, opportunity=…, kind=…, uploaded_file=…)` is the one door for files
on a deal (meeting minutes, signed quotes, technical agreements …). What it accepts:

- **PDF** — text extracted with `pypdf` when it is installed; without it the file is stored
  with no text (a gate or scorecard needing N characters stays unmet), see `PDF_TEXT`;
- **DOCX** — the paragraphs of `word/document.xml` (zip + XML, no dependency);
- **JPEG / PNG** — stored, no text yet (quote photos get theirs from OCR later);
- **plain text** — anything that decodes as UTF-8 (with or without a BOM) or GB18030.

Everything else is refused with a clear error. The stored name is the content hash, so the
client's file name is kept only as a label. A `minutes.uploaded` event is not appended here:
callers that want the event log to show the upload ingest one themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from typing import Any
from xml.etree import ElementTree

import filetype  # type: ignore[import-untyped]
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.crm.models import Attachment, Opportunity
from lodestar.errors import PermissionDenied, ValidationFailed
from lodestar.org.models import User
from lodestar.org.selectors import actor_of

__all__ = ["MAX_UPLOAD_BYTES", "PDF_TEXT", "SUPPORTED_TYPES", "attachment_upload", "sniff"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SUPPORTED_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "image/jpeg": "jpg",
    "image/png": "png",
    "text/plain": "txt",
}
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

try:  # Needed for PDF text; optional so uploads work without it (text stays empty).
    import pypdf  # type: ignore[import-not-found, unused-ignore]

    PDF_TEXT = True
except ImportError:  # pragma: no cover - depends on the environment
    pypdf = None
    PDF_TEXT = False


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def sniff(data: bytes) -> str | None:
    """The content type of `data` judged from its bytes, or None when it is not supported."""
    guess = filetype.guess(data)
    if guess is not None:
        if guess.mime == "application/zip" or guess.mime == _DOCX:
            return _DOCX if _is_docx(data) else None
        return guess.mime if guess.mime in SUPPORTED_TYPES else None
    if data and _as_text(data) is not None:
        return "text/plain"
    return None


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("word/document.xml"))  # noqa: S314 - no DTDs in docx
    paragraphs = []
    for paragraph in root.iter(f"{_WORD_NS}p"):
        paragraphs.append("".join(node.text or "" for node in paragraph.iter(f"{_WORD_NS}t")))
    return "\n".join(p for p in paragraphs if p)


def _pdf_text(data: bytes) -> str:
    if pypdf is None:
        return ""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:
        return ""


def extract_text(data: bytes, content_type: str) -> str:
    if content_type == "text/plain":
        return _as_text(data) or ""
    if content_type == _DOCX:
        return _docx_text(data)
    if content_type == "application/pdf":
        return _pdf_text(data)
    return ""


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
    content_type = sniff(data)
    if content_type is None:
        raise ValidationFailed.on(
            "file",
            _("This file type is not supported; upload PDF, DOCX, JPG, PNG or plain text."),
        )
    text = extract_text(data, content_type)
    digest = hashlib.sha256(data).hexdigest()
    name = str(getattr(uploaded_file, "name", "") or f"upload.{SUPPORTED_TYPES[content_type]}")
    attachment = Attachment(
        organization_id=opportunity.organization_id,
        opportunity=opportunity,
        account_id=opportunity.account_id,
        kind=kind,
        original_name=name.rsplit("/", 1)[-1][:255],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        extracted_text=text,
        text_length=_count_chars(text),
        uploaded_by=user,
        uploaded_at=now or timezone.now(),
    )
    attachment.file.save(digest, ContentFile(data), save=False)
    attachment.save()
    return attachment
