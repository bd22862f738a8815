"""Undoing an import batch as a whole.

What the batch created is removed — its deals (with their stage transitions), contacts,
products, accounts (those named by its rows included), stage-history transitions — and the
events it appended are taken out of the log (`events_remove_imported`, the one sanctioned
removal). What it updated gets back the values it had before (kept on each `ImportedRecord`).

An undo that would take away more than the batch put in is refused, naming the rows and why:
a row a later import changed (undo that import first — newest first), an object a later import
or a person built on (a deal with activity logged since, a contact or a deal added by hand to
an imported account). The undo is one transaction: it happens entirely or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.crm.models import Account, Attachment, Contact, Opportunity, Product, StageTransition
from lodestar.errors import Conflict, FieldError
from lodestar.events.models import Event
from lodestar.events.services import events_remove_imported
from lodestar.imports.models import BatchStatus, ImportBatch, ImportedRecord, ImportKind
from lodestar.imports.running import recompute_insights
from lodestar.imports.writers import IMPORT_SOURCE, batch_prefix
from lodestar.org.models import User
from lodestar.org.services import audit_record

__all__ = ["later_changes", "undo_batch"]

_MODELS: dict[str, type[models.Model]] = {
    ImportKind.ACCOUNTS: Account,
    ImportKind.CONTACTS: Contact,
    ImportKind.PRODUCTS: Product,
    ImportKind.DEALS: Opportunity,
    ImportKind.STAGE_HISTORY: StageTransition,
}
_NAMED = {ImportKind.ACCOUNTS, ImportKind.CONTACTS, ImportKind.PRODUCTS, ImportKind.DEALS}
_SHOWN = 10
_CHUNK = 1000


def _created(batch: ImportBatch) -> dict[str, list[int]]:
    created: dict[str, list[int]] = defaultdict(list)
    for kind, object_id in ImportedRecord.objects.filter(
        organization_id=batch.organization_id, created_by_batch=batch
    ).values_list("kind", "object_id"):
        created[kind].append(object_id)
    return created


def _names(kind: str, ids: Iterable[int]) -> dict[int, str]:
    model = _MODELS.get(kind)
    if model is None or kind not in _NAMED:
        return {}
    return dict(model._default_manager.filter(pk__in=list(ids)[:_SHOWN]).values_list("pk", "name"))


def _not_this_batch(batch: ImportBatch) -> Q:
    prefix = batch_prefix(batch.pk)
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return ~Q(source=IMPORT_SOURCE, external_id__gte=prefix, external_id__lt=upper)


def later_changes(batch: ImportBatch) -> list[str]:
    """Why undoing the batch would take more than it put in: one line per row (empty: none)."""
    org = batch.organization_id
    lines: list[str] = []
    # Rows a later import changed after this one created or updated them.
    later = ImportedRecord.objects.filter(organization_id=org).filter(
        (Q(created_by_batch=batch) & ~Q(changed_by_batch=batch))
        | (Q(previous__changed_by=batch.pk) & ~Q(changed_by_batch=batch))
    )
    created = _created(batch)
    for kind, ids in created.items():
        if kind in _NAMED:
            later = later | ImportedRecord.objects.filter(
                organization_id=org, kind=kind, object_id__in=ids
            ).exclude(created_by_batch=batch).exclude(changed_by_batch=batch)
    by_kind: dict[str, dict[int, int | None]] = defaultdict(dict)
    for kind, object_id, last in later.values_list("kind", "object_id", "changed_by_batch"):
        by_kind[kind][object_id] = last
    for kind, objects in by_kind.items():
        names = _names(kind, objects)
        for object_id, changed_by in list(objects.items())[:_SHOWN]:
            lines.append(
                str(
                    _("%(what)s “%(name)s” was changed by import %(batch)s.")
                    % {
                        "what": ImportKind(kind).label,
                        "name": names.get(object_id, object_id),
                        "batch": f"#{changed_by}" if changed_by else "?",
                    }
                )
            )
    lines += _built_on(batch, created)
    return lines


def _built_on(batch: ImportBatch, created: dict[str, list[int]]) -> list[str]:
    """Objects of the batch that others built on since: activity, deals, contacts, files."""
    lines: list[str] = []
    deals = created.get(ImportKind.DEALS, [])
    accounts = created.get(ImportKind.ACCOUNTS, [])
    contacts = created.get(ImportKind.CONTACTS, [])
    products = created.get(ImportKind.PRODUCTS, [])
    if deals:
        logged = (
            Event.objects.filter(opportunity_id__in=deals)
            .filter(_not_this_batch(batch))
            .values_list("opportunity_id", flat=True)
            .distinct()
        )
        filed = Attachment.objects.filter(opportunity_id__in=deals).values_list(
            "opportunity_id", flat=True
        )
        busy = sorted(set(logged) | set(filed))
        names = _names(ImportKind.DEALS, busy)
        lines += [
            str(
                _("Deal “%(name)s” has activity or files added after this import.")
                % {"name": names.get(pk, pk)}
            )
            for pk in busy[:_SHOWN]
        ]
    if accounts:
        foreign_deals = Opportunity.objects.filter(account_id__in=accounts).exclude(pk__in=deals)
        foreign_contacts = Contact.objects.filter(account_id__in=accounts).exclude(pk__in=contacts)
        foreign_events = (
            Event.objects.filter(account_id__in=accounts)
            .filter(_not_this_batch(batch))
            .exclude(opportunity_id__in=deals)
        )
        busy = sorted(
            set(foreign_deals.values_list("account_id", flat=True))
            | set(foreign_contacts.values_list("account_id", flat=True))
            | set(foreign_events.values_list("account_id", flat=True))
        )
        names = _names(ImportKind.ACCOUNTS, busy)
        lines += [
            str(
                _("Account “%(name)s” has deals, contacts or activity added after this import.")
                % {"name": names.get(pk, pk)}
            )
            for pk in busy[:_SHOWN]
        ]
    if contacts:
        busy = sorted(
            set(
                Event.objects.filter(contact_id__in=contacts)
                .filter(_not_this_batch(batch))
                .values_list("contact_id", flat=True)
            )
        )
        names = _names(ImportKind.CONTACTS, busy)
        lines += [
            str(
                _("Contact “%(name)s” has activity logged after this import.")
                % {"name": names.get(pk, pk)}
            )
            for pk in busy[:_SHOWN]
        ]
    if products:
        busy = sorted(
            set(
                Opportunity.objects.filter(product_id__in=products)
                .exclude(pk__in=deals)
                .values_list("product_id", flat=True)
            )
        )
        names = _names(ImportKind.PRODUCTS, busy)
        lines += [
            str(
                _("Product “%(name)s” is used by deals added after this import.")
                % {"name": names.get(pk, pk)}
            )
            for pk in busy[:_SHOWN]
        ]
    return lines


def undo_batch(*, batch: ImportBatch, user: User) -> ImportBatch:
    """Undo `batch` (the caller checked the user and the status); see the module's words."""
    lines = later_changes(batch)
    if lines:
        raise Conflict(
            ngettext(
                "Import %(id)s cannot be undone: %(count)d of its rows was changed or built on "
                "afterwards. Undo the later imports first (newest first); rows with activity "
                "added by hand keep this import.",
                "Import %(id)s cannot be undone: %(count)d of its rows were changed or built on "
                "afterwards. Undo the later imports first (newest first); rows with activity "
                "added by hand keep this import.",
                len(lines),
            )
            % {"id": batch.pk, "count": len(lines)},
            details=[FieldError("rows", line) for line in lines],
        )
    now = timezone.now()
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == BatchStatus.UNDONE:
            raise Conflict(_("Import %(id)s is undone already.") % {"id": batch.pk})
        removed = events_remove_imported(
            organization_id=batch.organization_id,
            source=IMPORT_SOURCE,
            prefix=batch_prefix(batch.pk),
        )
        restored = _restore_updates(batch)
        deleted = _delete_created(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.UNDONE, undone_at=now, cancel_requested=False
        )
        audit_record(
            organization_id=batch.organization_id,
            actor=user,
            action="import.undo",
            object_type="import_batch",
            object_id=batch.pk,
            data={"events": removed, "restored": restored, "deleted": deleted},
            at=now,
        )
    recompute_insights(batch.organization_id)
    batch.refresh_from_db()
    return batch


def _restore_updates(batch: ImportBatch) -> int:
    records = list(
        ImportedRecord.objects.filter(
            organization_id=batch.organization_id, changed_by_batch=batch
        ).exclude(created_by_batch=batch)
    )
    by_kind: dict[str, list[ImportedRecord]] = defaultdict(list)
    for record in records:
        by_kind[record.kind].append(record)
    transitions: list[int] = []
    for kind, group in by_kind.items():
        model = _MODELS.get(kind)
        if model is None or kind not in _NAMED:
            continue
        objects = model._default_manager.in_bulk([record.object_id for record in group])
        names: set[str] = set()
        changed = []
        for record in group:
            obj = objects.get(record.object_id)
            previous = record.previous or {}
            transitions += previous.get("transitions", [])
            if obj is None:
                continue
            for name, value in (previous.get("values") or {}).items():
                field = model._meta.get_field(name)
                setattr(obj, getattr(field, "attname", name), _restored(field, value))
                names.add(field.name)
            changed.append(obj)
        if names:
            model._default_manager.bulk_update(changed, sorted(names), batch_size=500)
    if transitions:
        StageTransition.objects.filter(pk__in=transitions).delete()
    _records_back(records)
    return len(records)


def _records_back(records: list[ImportedRecord]) -> None:
    """Each record as it was before the batch changed it (or gone, if the batch made it)."""
    back, gone = [], []
    for record in records:
        previous = record.previous or {}
        if previous.get("linked"):
            gone.append(record.pk)
            continue
        record.digest = previous.get("digest", "")
        record.changed_by_batch_id = previous.get("changed_by")
        record.history = previous.get("history") or []
        record.previous = previous.get("previous")
        back.append(record)
    ImportedRecord.objects.bulk_update(
        back, ["digest", "changed_by_batch", "history", "previous"], batch_size=500
    )
    ImportedRecord.objects.filter(pk__in=gone).delete()


def _restored(field: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def _delete_created(batch: ImportBatch) -> int:
    created = _created(batch)
    deleted = 0
    # Dependents first: history and deals before the accounts and products they point to.
    for kind in (
        ImportKind.STAGE_HISTORY,
        ImportKind.DEALS,
        ImportKind.CONTACTS,
        ImportKind.PRODUCTS,
        ImportKind.ACCOUNTS,
    ):
        ids = created.get(kind, [])
        model = _MODELS[kind]
        for start in range(0, len(ids), _CHUNK):
            model._default_manager.filter(
                organization_id=batch.organization_id, pk__in=ids[start : start + _CHUNK]
            ).delete()
        deleted += len(ids)
    ImportedRecord.objects.filter(
        organization_id=batch.organization_id, created_by_batch=batch
    ).delete()
    return deleted
