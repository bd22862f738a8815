"""Serving a stored attachment's bytes: shown in the browser or saved, never run.

`attachment_response(attachment, download=…)` is the one answer the pages and the API give
for a file's content. The caller fetched the attachment with `access_attachment`, so only people
who see its deal get it. What the answer promises:

- **inline only for safe types**: PDF, PNG, JPEG and plain text (`INLINE_TYPES`) open in the
  browser; everything else (DOCX) is always a download, and any file is one when asked;
- **the stored type**, sniffed from the bytes when uploaded, never guessed from the name; plain
  text says its character set (UTF-8 or GB18030, as the upload decoded it);
- `X-Content-Type-Options: nosniff`, so no browser second-guesses that type;
- a **Content-Security-Policy of its own** (`policy_for`): no script, no connection, no frame
  may come from the file; images and text are also sandboxed (a unique origin without scripts).
  A PDF shown inline is not sandboxed because Chromium and Safari refuse to run their PDF viewer
  in a sandboxed document (it shows "blocked" instead); the viewer runs the PDF in its own
  process without the site's cookies or DOM, and `frame-ancestors 'none'` keeps it out of
  frames;
- `Content-Disposition` with the original name: an ASCII fallback in `filename` and the exact
  name in `filename*` (RFC 5987, UTF-8), so a Chinese name arrives intact;
- streamed from storage in blocks (`FileResponse`), never read into memory whole;
- `Cache-Control: private, no-store`: a shared cache must not keep a customer's document.
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import quote

from django.http import FileResponse

from lodestar.crm.attachments import SUPPORTED_TYPES
from lodestar.crm.models import Attachment

__all__ = ["INLINE_TYPES", "attachment_response", "content_disposition", "policy_for"]

# Types a browser shows without running anything of the file's: opened in a tab.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain"})

# Blocks read at a time, to stream the file and to find a text file's character set.
_BLOCK = 64 * 1024

_BASE_POLICY = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
# A browser shows an image or a text file in a page of its own making, styled inline.
_SHOWN_POLICY = f"{_BASE_POLICY}; img-src 'self'; style-src 'unsafe-inline'"


def policy_for(content_type: str, *, inline: bool) -> str:
    """The Content-Security-Policy of a served file (see the module's notes on PDF)."""
    if inline and content_type == "application/pdf":
        return f"{_SHOWN_POLICY}; object-src 'self'"
    if inline:
        return f"sandbox; {_SHOWN_POLICY}"
    return f"sandbox; {_BASE_POLICY}"


def _ascii_fallback(name: str) -> str:
    """The name for clients that do not read `filename*`: ASCII, without quotes or
    backslashes; its extension kept."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    safe_stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" ._") or "file"
    safe_extension = re.sub(r"[^A-Za-z0-9]+", "", extension)
    return f"{safe_stem}.{safe_extension}" if safe_extension else safe_stem


def _download_name(attachment: Attachment) -> str:
    """The original name, with the stored type's extension added when it has none."""
    name = attachment.original_name.strip() or "file"
    if "." not in name.rsplit("/", 1)[-1]:
        name = f"{name}.{SUPPORTED_TYPES.get(attachment.content_type, 'bin')}"
    return name


def content_disposition(name: str, *, inline: bool) -> str:
    """`inline` or `attachment` with `filename` (ASCII) and `filename*` (RFC 5987, UTF-8)."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _text_charset(attachment: Attachment) -> str:
    """UTF-8 or GB18030, decided as the upload decided whether the file is text: the whole file
    decodes as UTF-8 (a BOM allowed), else it is GB18030. Read block by block."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with attachment.file.open("rb") as stored:
        try:
            while block := stored.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def attachment_response(attachment: Attachment, *, download: bool = False) -> FileResponse:
    """The file's bytes as the module's notes say: inline when its type is safe and `download`
    is not asked, else as a download."""
    inline = not download and attachment.content_type in INLINE_TYPES
    content_type = attachment.content_type
    if content_type == "text/plain":
        content_type = f"text/plain; charset={_text_charset(attachment)}"
    stored = attachment.file.open("rb")
    response = FileResponse(stored, content_type=content_type)
    response.block_size = _BLOCK  # read lazily, block by block, as the response is sent
    # Set after FileResponse, which would otherwise word the header from the name itself.
    response["Content-Disposition"] = content_disposition(_download_name(attachment), inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = policy_for(attachment.content_type, inline=inline)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
