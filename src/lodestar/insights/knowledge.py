"""The knowledge base: handbooks, product knowledge and case studies that ops maintain.

Everyone in an organization reads its entries (`knowledge_list`, `access_knowledge_entry`,
`access_knowledge_file`); sales ops and administrators write them (`knowledge_entry_create`,
`knowledge_entry_update`, `knowledge_entry_delete`, `knowledge_file_add`,
`knowledge_file_delete`), and every write is audited. An entry may name the stages of the sales
process it helps with (`KnowledgeStage`), checked against the organization's published
playbooks, and carry files (`KnowledgeFile`): their type is sniffed from the bytes and refused
as a deal attachment's is (`lodestar.crm.attachments.sniff` and the same cheap checks), and
each is stored under its content hash.

The entry's `key` is what a playbook's `scorecard.handbook` names: a handbook pushed to a rep
links to the entry with that key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from lodestar.crm.attachments import MAX_UPLOAD_BYTES, SUPPORTED_TYPES, sniff
from lodestar.crm.extraction import Refused, check_upload
from lodestar.crm.models import KnowledgeEntry, KnowledgeKind, Product
from lodestar.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from lodestar.i18n import localized
from lodestar.insights.models import KnowledgeFile, KnowledgeStage, knowledge_file_path
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of
from lodestar.org.services import audit_record
from lodestar.playbooks.selectors import compiled_for_version, published_versions

__all__ = [
    "KnowledgeFilters",
    "access_knowledge_file",
    "knowledge_entry_create",
    "knowledge_entry_delete",
    "knowledge_entry_update",
    "knowledge_file_add",
    "knowledge_file_delete",
    "knowledge_list",
    "knowledge_stage_choices",
]

TITLE_MAX = 200
BODY_MAX = 100_000
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELDS = frozenset({"title", "kind", "body", "key", "product_id", "stage_keys"})


@dataclass(frozen=True)
class KnowledgeFilters:
    q: str = ""
    kind: str | None = None
    stage: str | None = None


# --- reads -------------------------------------------------------------------------------------


def knowledge_list(
    *, user: User, filters: KnowledgeFilters | None = None
) -> QuerySet[KnowledgeEntry]:
    """The entries of the user's organization, by kind and title, with their stages and files."""
    filters = filters or KnowledgeFilters()
    actor = actor_of(user=user)
    if actor is None:
        return KnowledgeEntry.objects.none()
    entries = KnowledgeEntry.objects.filter(organization_id=actor.organization_id)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.stage:
        entries = entries.filter(stages__stage_key=filters.stage)
    if q := filters.q.strip():
        entries = entries.filter(Q(title__icontains=q) | Q(body__icontains=q) | Q(key__iexact=q))
    return (
        entries.select_related("product")
        .prefetch_related(
            "stages", Prefetch("files", KnowledgeFile.objects.select_related("organization"))
        )
        .order_by("kind", "title", "id")
    )


def access_knowledge_file(*, user: User, entry_id: int, file_id: int) -> KnowledgeFile:
    """A file of an entry of the user's organization (everyone there may read it); else 404."""
    actor = actor_of(user=user)
    found = (
        KnowledgeFile.objects.filter(
            organization_id=actor.organization_id, entry_id=entry_id, pk=file_id
        ).first()
        if actor is not None
        else None
    )
    if found is None:
        raise NotFound(_("No such file in this knowledge entry."))
    return found


def knowledge_stage_choices(*, organization_id: int) -> list[tuple[str, str]]:
    """The stages of the organization's published playbooks (each key once, in playbook
    order), as (key, name in the request's language)."""
    seen: dict[str, str] = {}
    for version in published_versions(organization_id=organization_id).all():
        for stage in compiled_for_version(version).playbook.stages:
            seen.setdefault(stage.key, localized(stage.name))
    return list(seen.items())


# --- writes ------------------------------------------------------------------------------------


def _editor(user: User) -> Actor:
    actor = actor_of(user=user)
    if actor is None or not actor.edits_catalog:
        raise PermissionDenied(_("Only sales ops and administrators edit the knowledge base."))
    return actor


def _title(value: Any) -> str:
    title = str(value or "").strip()
    if not title:
        raise ValidationFailed.on("title", _("Give the entry a title."))
    if len(title) > TITLE_MAX:
        raise ValidationFailed.on(
            "title", _("The title is longer than %(n)d characters.") % {"n": TITLE_MAX}
        )
    return title


def _kind(value: Any) -> str:
    kind = str(value or "")
    if kind not in KnowledgeKind.values:
        raise ValidationFailed.on(
            "kind",
            _("Unknown kind “%(kind)s”: use one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KnowledgeKind.values)},
        )
    return kind


def _body(value: Any) -> str:
    body = str(value or "")
    if len(body) > BODY_MAX:
        raise ValidationFailed.on(
            "body", _("The text is longer than %(n)d characters.") % {"n": BODY_MAX}
        )
    return body


def _key(actor: Actor, value: Any, title: str, entry_id: int | None) -> str:
    """The given key, checked; or one made from the title (an ASCII slug, else `entry-N`)."""
    taken = KnowledgeEntry.objects.filter(organization_id=actor.organization_id)
    if entry_id is not None:
        taken = taken.exclude(pk=entry_id)
    key = str(value or "").strip()
    if key:
        if not KEY_PATTERN.match(key):
            raise ValidationFailed.on(
                "key",
                _(
                    "Write the key with at most 64 letters, digits, hyphens or underscores "
                    "(e.g. objection_handling)."
                ),
            )
        if taken.filter(key=key).exists():
            raise ValidationFailed.on(
                "key",
                _("Another entry already has the key “%(key)s”: choose another one.")
                % {"key": key},
            )
        return key
    base = (slugify(title)[:56].strip("-") or "entry").lower()
    candidate, n = base, 1
    while taken.filter(key=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _product(actor: Actor, value: Any) -> Product | None:
    if value in (None, ""):
        return None
    product = Product.objects.filter(organization_id=actor.organization_id, pk=value).first()
    if product is None:
        raise ValidationFailed.on(
            "product_id", _("No product %(id)s in your catalog.") % {"id": value}
        )
    return product


def _stage_keys(actor: Actor, values: Iterable[Any] | None) -> list[str]:
    keys = list(dict.fromkeys(str(v).strip() for v in (values or []) if str(v).strip()))
    if not keys:
        return []
    known = dict(knowledge_stage_choices(organization_id=actor.organization_id))
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValidationFailed.on(
            "stage_keys",
            _("No published playbook has the stage %(stages)s; known stages: %(known)s.")
            % {"stages": ", ".join(unknown), "known": ", ".join(known) or "–"},
        )
    return keys


def _set_stages(actor: Actor, entry: KnowledgeEntry, keys: list[str]) -> None:
    KnowledgeStage.objects.filter(entry=entry).exclude(stage_key__in=keys).delete()
    have = set(KnowledgeStage.objects.filter(entry=entry).values_list("stage_key", flat=True))
    KnowledgeStage.objects.bulk_create(
        KnowledgeStage(organization_id=actor.organization_id, entry=entry, stage_key=key)
        for key in keys
        if key not in have
    )


@transaction.atomic
def knowledge_entry_create(
    *,
    user: User,
    title: str,
    kind: str = KnowledgeKind.HANDBOOK,
    body: str = "",
    key: str = "",
    product_id: int | None = None,
    stage_keys: Iterable[str] = (),
) -> KnowledgeEntry:
    """A new entry (ops and admins). Every field is checked before anything is written."""
    actor = _editor(user)
    clean_title = _title(title)
    entry = KnowledgeEntry(
        organization_id=actor.organization_id,
        title=clean_title,
        kind=_kind(kind),
        body=_body(body),
        key=_key(actor, key, clean_title, None),
        product=_product(actor, product_id),
    )
    stages = _stage_keys(actor, stage_keys)
    entry.save()
    _set_stages(actor, entry, stages)
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="knowledge.created",
        object_type="knowledge_entry",
        object_id=entry.pk,
        data={"key": entry.key, "title": entry.title},
    )
    return entry


@transaction.atomic
def knowledge_entry_update(
    *, user: User, entry: KnowledgeEntry, data: Mapping[str, Any]
) -> KnowledgeEntry:
    """Change the fields named in `data` (ops and admins); the caller fetched `entry` with
    `access_knowledge_entry(…, for_write=True)`."""
    actor = _editor(user)
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValidationFailed(
            details=[FieldError(field=name, message=_("Unknown field.")) for name in unknown]
        )
    if "title" in data:
        entry.title = _title(data["title"])
    if "kind" in data:
        entry.kind = _kind(data["kind"])
    if "body" in data:
        entry.body = _body(data["body"])
    if "key" in data:
        entry.key = _key(actor, data["key"], entry.title, entry.pk)
    if "product_id" in data:
        entry.product = _product(actor, data["product_id"])
    stages = _stage_keys(actor, data["stage_keys"]) if "stage_keys" in data else None
    entry.save()
    if stages is not None:
        _set_stages(actor, entry, stages)
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="knowledge.updated",
        object_type="knowledge_entry",
        object_id=entry.pk,
        data={"fields": sorted(data)},
    )
    return entry


def _drop_stored(names: list[str]) -> None:
    """Remove stored files no row names any more (the same bytes may serve several entries)."""
    still = set(KnowledgeFile.objects.filter(file__in=names).values_list("file", flat=True))
    for name in names:
        if name not in still:
            default_storage.delete(name)


@transaction.atomic
def knowledge_entry_delete(*, user: User, entry: KnowledgeEntry) -> None:
    """Delete an entry with its files (ops and admins). A handbook push that linked to it
    keeps its key and loses the link."""
    actor = _editor(user)
    names = list(KnowledgeFile.objects.filter(entry=entry).values_list("file", flat=True))
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="knowledge.deleted",
        object_type="knowledge_entry",
        object_id=entry.pk,
        data={"key": entry.key, "title": entry.title},
    )
    entry.delete()
    if names:
        transaction.on_commit(functools.partial(_drop_stored, names), robust=True)


@transaction.atomic
def knowledge_file_add(
    *,
    user: User,
    entry: KnowledgeEntry,
    uploaded_file: Any,
    now: dt.datetime | None = None,
) -> KnowledgeFile:
    """Store a file on the entry (ops and admins): PDF, DOCX, JPG, PNG or plain text, at most
    `MAX_UPLOAD_BYTES`; empty, damaged or other files are refused and nothing is stored."""
    actor = _editor(user)
    too_large = _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationFailed.on("file", too_large)
    data = uploaded_file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed.on("file", too_large)
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
    name = str(getattr(uploaded_file, "name", "") or f"file.{SUPPORTED_TYPES[content_type]}")
    stored = KnowledgeFile(
        organization_id=actor.organization_id,
        entry=entry,
        original_name=name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        uploaded_by=user,
        uploaded_at=now or timezone.now(),
    )
    path = knowledge_file_path(stored, name)
    if stored.file.storage.exists(path):  # the same bytes are stored already (content-addressed)
        stored.file.name = path
        fresh = False
    else:
        stored.file.save(digest, ContentFile(data), save=False)
        fresh = True
    try:
        stored.save()
    except BaseException:
        if fresh:  # the row was not written: storage keeps no orphan
            stored.file.delete(save=False)
        raise
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="knowledge.file_added",
        object_type="knowledge_entry",
        object_id=entry.pk,
        data={"file": stored.pk, "name": stored.original_name, "type": content_type},
    )
    return stored


@transaction.atomic
def knowledge_file_delete(*, user: User, stored: KnowledgeFile) -> None:
    """Remove a file from its entry (ops and admins)."""
    actor = _editor(user)
    name = str(stored.file.name)
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="knowledge.file_deleted",
        object_type="knowledge_entry",
        object_id=stored.entry_id,
        data={"file": stored.pk, "name": stored.original_name},
    )
    stored.delete()
    transaction.on_commit(functools.partial(_drop_stored, [name]), robust=True)
