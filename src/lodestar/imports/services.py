"""Writes of imports: the only doors for batches, their mappings, runs, cancels and undos.

Every function takes the acting `user`, who must be sales ops or an administrator of the
organization (`PermissionDenied` otherwise), and a batch the caller fetched through
`lodestar.imports.selectors.import_batch` (checked again here: a batch of another organization
is `NotFound`).

- `import_upload` reads the file within the limits of `import_limits()` and refuses it with the
  reason before anything is stored or written; it keeps the file privately (Django storage under
  the organization's folder, never served) and suggests a mapping: the one saved for files of
  the same header signature, else a ready-made one (Salesforce, Maven CRM), else by the headers;
- `import_set_mapping` replaces the mapping (located problems refuse it);
- `import_preview` shows the first rows as they will be stored, with their problems;
- `import_start` queues the run for the worker; `import_run_now` runs it in the caller's process
  (the CLI's progress bar). How a run writes — chunk by chunk, each chunk all or nothing — is
  `lodestar.imports.running`;
- `import_cancel` stops a queued or running batch between two chunks;
- `import_undo` takes a batch back as a whole (`lodestar.imports.undo`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.core import imports as core
from lodestar.core.rules.results import Bilingual
from lodestar.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from lodestar.i18n import localized
from lodestar.imports.lookups import Lookups
from lodestar.imports.models import (
    RUNNING_STATUSES,
    BatchStatus,
    ImportBatch,
    ImportKind,
    SavedMapping,
)
from lodestar.imports.running import Progress, lookup_context, read_stored, run_batch
from lodestar.imports.undo import undo_batch
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of

__all__ = [
    "ImportPreview",
    "import_cancel",
    "import_limits",
    "import_preview",
    "import_run_now",
    "import_set_mapping",
    "import_start",
    "import_undo",
    "import_upload",
    "require_importer",
]

# Rows the mapping suggestion reads for choices and the date order (all of them up to this).
_SUGGESTION_ROWS = 20_000
_DEFAULT_LIMITS = {
    "LODESTAR_IMPORT_MAX_BYTES": 50 * 1024 * 1024,
    "LODESTAR_IMPORT_MAX_COLUMNS": 200,
    "LODESTAR_IMPORT_MAX_ROWS": 1_000_000,
}


def _limit(name: str) -> int:
    value = getattr(settings, name, _DEFAULT_LIMITS[name])
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}.")
    return value


def import_limits() -> core.TableLimits:
    """The limits every import file is read within (settings, documented defaults: 50 MB,
    200 columns, 1,000,000 rows); a setting that is not a positive whole number is refused
    loudly rather than disabling its limit."""
    return core.TableLimits(
        max_bytes=_limit("LODESTAR_IMPORT_MAX_BYTES"),
        max_columns=_limit("LODESTAR_IMPORT_MAX_COLUMNS"),
        max_rows=_limit("LODESTAR_IMPORT_MAX_ROWS"),
    )


def require_importer(user: User) -> Actor:
    """The acting user as an importer: sales ops or an administrator of an organization."""
    actor = actor_of(user=user)
    if actor is None or not (actor.is_ops or actor.is_admin):
        raise PermissionDenied(_("Only sales ops and administrators import data."))
    return actor


def _own(actor: Actor, batch: ImportBatch) -> None:
    if batch.organization_id != actor.organization_id:
        raise NotFound(_("No import %(id)s in your organization.") % {"id": batch.pk})


def _refusal(message: Bilingual, field_name: str = "file") -> ValidationFailed:
    text = localized(message)
    return ValidationFailed(text, details=[FieldError(field_name, text)])


def _problem_details(problems: Sequence[core.Problem]) -> list[FieldError]:
    details = []
    for problem in problems:
        where = problem.column or problem.field or "mapping"
        text = localized(problem.message)
        if problem.hint is not None:
            text = f"{text} {localized(problem.hint)}"
        details.append(FieldError(where, text))
    return details


# --- upload ----------------------------------------------------------------------------------


def _read_upload(file: UploadedFile[Any] | bytes, limits: core.TableLimits) -> bytes:
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        # A larger upload is refused before it is read into memory.
        if file.size is not None and file.size > limits.max_bytes:
            _too_large(file.size, limits)
        data = file.read()
    if len(data) > limits.max_bytes:
        _too_large(len(data), limits)
    return data


def _too_large(size: int, limits: core.TableLimits) -> None:
    mb = limits.max_bytes / (1024 * 1024)
    raise _refusal(
        Bilingual(
            f"文件有 {size / (1024 * 1024):.1f} MB,超过导入上限 {mb:.0f} MB;请拆分成几个文件。",
            f"The file is {size / (1024 * 1024):.1f} MB, over the import limit of {mb:.0f} MB; "
            "split it into smaller files.",
        )
    )


def _stage_names(lookups: Lookups) -> list[str]:
    names: list[str] = []
    for info in lookups.stages.values():
        names += [info.key, info.name_zh, info.name_en]
    return names


def _suggest(
    *, organization_id: int, kind: str, table: core.Table, lookups: Lookups
) -> core.ColumnMapping:
    """The saved mapping of this header signature, else a ready-made one, else by headers."""
    sample = table.rows[:_SUGGESTION_ROWS]
    stage_names = _stage_names(lookups)
    signature = core.header_signature(table.headers)[:64]
    saved = SavedMapping.objects.filter(
        organization_id=organization_id, kind=kind, signature=signature
    ).first()
    if saved is not None:
        try:
            previous = core.ColumnMapping.from_dict(saved.mapping, kind=kind)
            mapping = core.suggest_mapping(
                kind, table.headers, sample, saved=previous, stage_names=stage_names
            )
            mapping.source = "saved"
            return mapping
        except core.MappingInvalid:
            pass  # a mapping saved by an older version: suggest afresh
    ready = core.ready_mapping(kind, table.headers, sample)
    if ready is not None:
        return ready
    return core.suggest_mapping(kind, table.headers, sample, stage_names=stage_names)


@transaction.atomic
def import_upload(
    *,
    user: User,
    kind: str,
    file: UploadedFile[Any] | bytes,
    filename: str,
    now: dt.datetime | None = None,
) -> ImportBatch:
    """Take a file in as a new batch of `kind` with a suggested mapping (nothing imported yet).

    A file that is too large, too wide, too long, empty, without a header row or unreadable is
    refused with the reason (`ValidationFailed` on `file`) before anything is stored.
    """
    actor = require_importer(user)
    if kind not in ImportKind.values:
        raise ValidationFailed.on(
            "kind",
            _("Unknown kind of rows “%(kind)s”; choose one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(ImportKind.values)},
        )
    limits = import_limits()
    data = _read_upload(file, limits)
    name = (filename or "import").strip()[:255] or "import"
    try:
        table = core.read_table(data, name, limits)
    except core.TableRefused as exc:
        raise _refusal(exc.message) from exc
    lookups = Lookups.load(actor.organization_id)
    mapping = _suggest(
        organization_id=actor.organization_id, kind=kind, table=table, lookups=lookups
    )
    if not mapping.options.get("default_owner"):
        mapping.options["default_owner"] = user.get_username()
    batch = ImportBatch(
        organization_id=actor.organization_id,
        kind=kind,
        original_name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=table.format,
        encoding=table.encoding or "",
        delimiter=table.delimiter or "",
        sheet=(table.sheet or "")[:100],
        headers=list(table.headers),
        mapping=mapping.to_dict(),
        mapping_source=mapping.source.split(":")[0][:16],
        progress_total=len(table.rows),
        created_by=user,
        created_at=now or timezone.now(),
    )
    batch.file.save(batch.sha256, ContentFile(data), save=False)
    try:
        batch.save()
    except Exception:  # the row was not written: take back the file so storage holds no orphan
        batch.file.storage.delete(batch.file.name or "")
        raise
    return batch


# --- mapping and preview ---------------------------------------------------------------------


def _not_running(batch: ImportBatch) -> None:
    if batch.status in RUNNING_STATUSES:
        raise Conflict(
            _("Import %(id)s is running; wait for it to finish or cancel it first.")
            % {"id": batch.pk}
        )


@transaction.atomic
def import_set_mapping(*, user: User, batch: ImportBatch, mapping: dict[str, Any]) -> ImportBatch:
    """Replace the batch's mapping; refused with every located problem when it is unusable
    (warnings are kept for the preview)."""
    actor = require_importer(user)
    _own(actor, batch)
    _not_running(batch)
    try:
        parsed = core.ColumnMapping.from_dict(mapping, kind=batch.kind)
    except core.MappingInvalid as exc:
        raise ValidationFailed(
            _("The mapping cannot be used."), details=_problem_details(exc.problems)
        ) from exc
    errors = [p for p in parsed.validate(batch.headers) if p.severity == "error"]
    if errors:
        raise ValidationFailed(_("The mapping cannot be used."), details=_problem_details(errors))
    if parsed.source == "headers":
        parsed.source = "edited"
    batch.mapping = parsed.to_dict()
    batch.mapping_source = parsed.source.split(":")[0][:16]
    if batch.status == BatchStatus.CHECKED:
        batch.status = BatchStatus.UPLOADED  # the dry run's findings were for another mapping
    batch.save(update_fields=["mapping", "mapping_source", "status"])
    return batch


@dataclass
class ImportPreview:
    """The first rows of a batch as they will be stored, and what the page needs to map them."""

    batch: ImportBatch
    columns: list[str]  # field keys or "custom:<key>", in mapping order
    rows: list[core.RowResult]
    mapping_problems: list[core.Problem] = field(default_factory=list)
    # The first non-empty values of every column of the file.
    samples: dict[str, list[str]] = field(default_factory=dict)
    # For the stage column and every choice column: distinct values with their counts.
    distinct: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    stage_options: list[tuple[str, Bilingual]] = field(default_factory=list)
    total_rows: int = 0


_DISTINCT_MAX = 50
_SAMPLES = 3


def import_preview(*, user: User, batch: ImportBatch, limit: int = 20) -> ImportPreview:
    """The first `limit` rows checked through the batch's mapping (nothing written)."""
    actor = require_importer(user)
    _own(actor, batch)
    limit = max(1, min(limit, 200))
    try:
        table = read_stored(batch, import_limits())
    except core.TableRefused as exc:
        raise _refusal(exc.message) from exc
    try:
        mapping = core.ColumnMapping.from_dict(batch.mapping, kind=batch.kind)
    except core.MappingInvalid as exc:
        raise ValidationFailed(
            _("The mapping cannot be used."), details=_problem_details(exc.problems)
        ) from exc
    lookups = Lookups.load(batch.organization_id)
    context = lookup_context(lookups, batch.kind)
    head = replace(table, rows=table.rows[:limit], row_numbers=table.row_numbers[:limit])
    rows = list(core.check_rows(batch.kind, mapping, head, context))
    return ImportPreview(
        batch=batch,
        columns=[rule.target for rule in mapping.columns if rule.target != core.IGNORE],
        rows=rows,
        mapping_problems=mapping.validate(table.headers),
        samples=_samples(table),
        distinct=_distinct(batch.kind, mapping, table),
        stage_options=[
            (info.key, Bilingual(info.name_zh, info.name_en))
            for info in sorted(lookups.stages.values(), key=lambda s: s.order)
        ],
        total_rows=len(table.rows),
    )


def _samples(table: core.Table) -> dict[str, list[str]]:
    samples: dict[str, list[str]] = {header: [] for header in table.headers}
    for row in table.rows[:_SUGGESTION_ROWS]:
        for header, value in zip(table.headers, row, strict=False):
            found = samples[header]
            if value and len(found) < _SAMPLES:
                found.append(value)
        if all(len(found) >= _SAMPLES for found in samples.values()):
            break
    return samples


def _distinct(
    kind: str, mapping: core.ColumnMapping, table: core.Table
) -> dict[str, list[tuple[str, int]]]:
    choice_fields = {f.key for f in core.FIELDS.get(kind, ()) if f.type == "choice"}
    wanted = [
        rule.column
        for rule in mapping.columns
        if rule.target == "stage"
        or rule.target in choice_fields
        or (rule.custom is not None and rule.custom.type == "choice")
    ]
    positions = {header: index for index, header in enumerate(table.headers)}
    out = {}
    for column in wanted:
        index = positions.get(column)
        if index is None:
            continue
        counts = Counter(row[index] for row in table.rows if row[index])
        out[column] = counts.most_common(_DISTINCT_MAX)
    return out


# --- running ---------------------------------------------------------------------------------


def _claim(batch: ImportBatch, *, dry_run: bool) -> None:
    """Mark the batch as running, unless a run already is (then `Conflict`)."""
    status = BatchStatus.CHECKING if dry_run else BatchStatus.IMPORTING
    claimed = (
        ImportBatch.objects.filter(pk=batch.pk)
        .exclude(status__in=RUNNING_STATUSES)
        .update(
            status=status,
            dry_run=dry_run,
            progress_done=0,
            started_at=timezone.now(),
            finished_at=None,
            error="",
            cancel_requested=False,
        )
    )
    if not claimed:
        raise Conflict(
            _("Import %(id)s is running already; wait for it to finish or cancel it first.")
            % {"id": batch.pk}
        )
    batch.refresh_from_db()


def import_start(*, user: User, batch: ImportBatch, dry_run: bool) -> ImportBatch:
    """Queue the batch's run for the worker (a dry run writes only its problems and counts; a
    real run writes the rows and saves the mapping for the next file of this shape)."""
    from lodestar.imports.tasks import run_import

    actor = require_importer(user)
    _own(actor, batch)
    _check_mapping(batch)
    with transaction.atomic():
        _claim(batch, dry_run=dry_run)
        batch_id, user_id = batch.pk, user.pk
        transaction.on_commit(lambda: run_import(batch_id, user_id, dry_run))
    return batch


def _check_mapping(batch: ImportBatch) -> None:
    try:
        mapping = core.ColumnMapping.from_dict(batch.mapping, kind=batch.kind)
    except core.MappingInvalid as exc:
        raise ValidationFailed(
            _("The mapping cannot be used."), details=_problem_details(exc.problems)
        ) from exc
    errors = [p for p in mapping.validate(batch.headers) if p.severity == "error"]
    if errors:
        raise ValidationFailed(_("The mapping cannot be used."), details=_problem_details(errors))


def import_run_now(
    *,
    user: User,
    batch: ImportBatch,
    dry_run: bool,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportBatch:
    """Run the batch in this process (the CLI shows `progress(done, total)` as a bar). The
    batch ends `checked` / `done`, `cancelled` or `failed` (with its reason in `error`)."""
    actor = require_importer(user)
    _own(actor, batch)
    _check_mapping(batch)
    _claim(batch, dry_run=dry_run)
    return run_batch(
        batch=batch, user=user, dry_run=dry_run, limits=import_limits(), progress=progress, now=now
    )


def run_claimed(*, batch_id: int, user_id: int, dry_run: bool) -> ImportBatch | None:
    """The worker's half of `import_start`: run a batch it claimed (None if it is gone)."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    user = User.objects.filter(pk=user_id).first()
    if batch is None or user is None:
        return None
    if batch.status not in RUNNING_STATUSES:  # cancelled before the worker got to it
        return batch
    return run_batch(batch=batch, user=user, dry_run=dry_run, limits=import_limits())


@transaction.atomic
def import_cancel(*, user: User, batch: ImportBatch) -> ImportBatch:
    """Stop a batch: a queued or running one at the next chunk (what earlier chunks wrote stays,
    and undo removes it), one not yet run at once."""
    actor = require_importer(user)
    _own(actor, batch)
    if batch.status in (BatchStatus.DONE, BatchStatus.UNDONE, BatchStatus.UNDOING):
        raise Conflict(
            _("Import %(id)s is %(status)s; only an import not yet done can be cancelled.")
            % {"id": batch.pk, "status": batch.get_status_display()}
        )
    if batch.status in RUNNING_STATUSES:
        ImportBatch.objects.filter(pk=batch.pk).update(cancel_requested=True)
    else:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.CANCELLED, finished_at=timezone.now()
        )
    batch.refresh_from_db()
    return batch


def import_undo(
    *, user: User, batch: ImportBatch, progress: Callable[[int, int], None] | None = None
) -> ImportBatch:
    """Take back everything the batch wrote: created rows and the events it logged removed,
    updated rows restored. Refused (`Conflict`, naming the rows and the later imports) when
    later imports or later activity changed rows of this batch: undo those first."""
    actor = require_importer(user)
    _own(actor, batch)
    if batch.status in RUNNING_STATUSES:
        raise Conflict(
            _("Import %(id)s is running; cancel it and wait for it to stop before undoing it.")
            % {"id": batch.pk}
        )
    if batch.status == BatchStatus.UNDONE:
        raise Conflict(_("Import %(id)s is undone already.") % {"id": batch.pk})
    wrote = batch.status in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED)
    if not wrote or batch.dry_run:
        raise Conflict(
            _("Import %(id)s has written nothing (it is %(status)s); there is nothing to undo.")
            % {"id": batch.pk, "status": batch.get_status_display()}
        )
    return undo_batch(batch=batch, user=user)
