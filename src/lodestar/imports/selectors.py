"""Reads of imports, scoped to the acting user's organization (ops and administrators only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from lodestar.core import imports as core
from lodestar.core.rules.results import Bilingual
from lodestar.errors import NotFound, PermissionDenied
from lodestar.imports.models import ImportBatch, ImportProblem
from lodestar.org.models import User
from lodestar.org.selectors import actor_of

__all__ = ["ImportKindInfo", "import_batch", "import_batches", "import_kinds", "import_problems"]


def _organization_of_importer(user: User) -> int:
    actor = actor_of(user=user)
    if actor is None or not (actor.is_ops or actor.is_admin):
        raise PermissionDenied(_("Only sales ops and administrators import data."))
    return actor.organization_id


def import_batches(*, user: User) -> QuerySet[ImportBatch]:
    """The organization's batches, newest first."""
    organization_id = _organization_of_importer(user)
    return ImportBatch.objects.filter(organization_id=organization_id).select_related("created_by")


def import_batch(*, user: User, batch_id: int) -> ImportBatch:
    batch = import_batches(user=user).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No import %(id)s in your organization.") % {"id": batch_id})
    return batch


def import_problems(
    *, user: User, batch: ImportBatch, severity: str | None = None
) -> QuerySet[ImportProblem]:
    """The batch's problems in file order (row, then as found); `severity` "error"/"warning"."""
    organization_id = _organization_of_importer(user)
    if batch.organization_id != organization_id:
        raise NotFound(_("No import %(id)s in your organization.") % {"id": batch.pk})
    problems = ImportProblem.objects.filter(batch_id=batch.pk)
    if severity:
        problems = problems.filter(severity=severity)
    return problems.order_by("row", "id")


@dataclass(frozen=True)
class ImportKindInfo:
    key: str
    label: Bilingual
    fields: tuple[core.TargetField, ...]


def import_kinds() -> list[ImportKindInfo]:
    """The kinds of rows an import takes, with the fields (and their header synonyms) of each."""
    return [
        ImportKindInfo(key=kind, label=core.KIND_LABELS[kind], fields=tuple(core.FIELDS[kind]))
        for kind in core.KINDS
    ]
