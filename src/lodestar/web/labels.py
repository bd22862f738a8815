"""Human names for the codes the pages show: where an event came from, what kind a file is.

One mapping for every page, so a channel or a file type reads the same everywhere and never as
its code (`wecom`, `application/pdf`) inside a translated page.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lodestar.crm.models import AttachmentKind

# Where events come from (`Event.source`): the pages, the API, and the systems that post events.
_SOURCE_NAMES: dict[str, Promise] = {
    "web": _("in the app"),
    "api": _("through the API"),
    "lodestar": _("Lodestar"),
    "email": _("e-mail"),
    "phone": _("phone"),
    "calendar": _("calendar"),
    "wecom": _("WeCom"),
    "dingtalk": _("DingTalk"),
    "feishu": _("Feishu"),
    "erp": _("ERP"),
    "oa": _("OA system"),
    "crm": _("CRM"),
    "saas-admin": _("product admin"),
}

# File types by MIME type; those not named here are told by their family or as a plain file.
_CONTENT_TYPE_NAMES: dict[str, Promise] = {
    "application/pdf": _("PDF file"),
    "image/jpeg": _("JPEG image"),
    "image/png": _("PNG image"),
    "image/heic": _("HEIC image"),
    "image/webp": _("WebP image"),
    "text/plain": _("text file"),
    "text/csv": _("CSV table"),
    "application/msword": _("Word document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _("Word document"),
    "application/vnd.ms-excel": _("Excel workbook"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _("Excel workbook"),
    "application/vnd.ms-powerpoint": _("PowerPoint slides"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _(
        "PowerPoint slides"
    ),
    "application/zip": _("ZIP archive"),
}


def source_name(source: str) -> str:
    """The channel an event came through, in the active language (unknown ones as given)."""
    name = _SOURCE_NAMES.get(source)
    return str(name) if name is not None else source


def content_type_name(content_type: str) -> str:
    """A file's type as people say it: `PDF file`, `JPEG image`, else `image` or `file`."""
    mime = content_type.split(";", 1)[0].strip().lower()
    name = _CONTENT_TYPE_NAMES.get(mime)
    if name is not None:
        return str(name)
    if mime.startswith("image/"):
        return gettext("image")
    return gettext("file")


def attachment_kind_name(kind: str, playbook_kinds: dict[str, str] | None = None) -> str:
    """An attachment kind by the playbook's name for it, else the built-in one, else its code."""
    if playbook_kinds and kind in playbook_kinds:
        return playbook_kinds[kind]
    if kind in AttachmentKind.values:
        return str(AttachmentKind(kind).label)
    if kind in _OWN_KIND_NAMES:
        return str(_OWN_KIND_NAMES[kind])
    return kind


# Kinds Lodestar files by itself: the screenshot kept with a customer's recorded confirmation.
_OWN_KIND_NAMES: dict[str, Promise] = {"chat_screenshot": _("Chat screenshot")}
