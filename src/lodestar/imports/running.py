"""Running a batch: the file read again, every row checked, and (unless a dry run) written.

The run goes through the rows in chunks of `CHUNK` rows. **Each chunk is one transaction**: its
objects, records, stage moves, events and problems are committed together or not at all, and
the batch's progress and counts are updated in the same transaction, so `progress_done` moves
at least every 1,000 rows and never counts a row that is not written. Between chunks the run
looks for a cancel request. When a chunk fails, it is rolled back whole and the batch is marked
failed with the reason; what earlier chunks wrote stays committed, with its `ImportedRecord`s
and events pointing at the batch, so `import_undo` removes it exactly — nothing is left
half-written and nothing is left that the batch cannot take back.

After a real run the organization's insights are recomputed once, by the worker when the run
has committed (`recompute_after_import`: `insights_recompute` with the activity summary
recounted from the log): the history came in without the live steps (triggers, alerts), and
this is where health, risk and the scorecard read it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from lodestar.core import imports as core
from lodestar.core.rules.results import Bilingual
from lodestar.crm.models import Contact, DecisionRole, Opportunity
from lodestar.imports.deal_fields import deal_fields_publish
from lodestar.imports.lookups import Lookups
from lodestar.imports.models import (
    BatchStatus,
    ImportBatch,
    ImportedRecord,
    ImportKind,
    ImportProblem,
    SavedMapping,
)
from lodestar.imports.writers import Run, writer_for
from lodestar.org.models import Team, User
from lodestar.org.services import audit_record

__all__ = ["CHUNK", "Progress", "lookup_context", "read_stored", "run_batch"]

logger = logging.getLogger(__name__)

CHUNK = 1000
# More problems than this are counted but not each stored (a file of a million bad rows).
MAX_STORED_PROBLEMS = 100_000

Progress = Callable[[int, int], None]


def read_stored(batch: ImportBatch, limits: core.TableLimits) -> core.Table:
    """The batch's stored file, read again as a table."""
    with batch.file.open("rb") as handle:
        data = handle.read()
    return core.read_table(data, batch.original_name, limits)


def lookup_context(lookups: Lookups, kind: str) -> core.LookupContext:
    """What the core checks rows against, from the organization's rows (read once)."""
    organization_id = lookups.organization_id
    stages = [
        core.StageInfo(info.key, Bilingual(info.name_zh, info.name_en), info.terminal)  # type: ignore[arg-type]
        for info in sorted(lookups.stages.values(), key=lambda s: s.order)
    ]
    products: dict[str, Any] = {}
    for pk, name in lookups.product_names.items():
        products.setdefault(name, pk)
        for alias in lookups.product_aliases.get(pk, []):
            products.setdefault(alias, pk)
    members: dict[str, Any] = {}
    for user_id, names in lookups.member_names.items():
        for name in names:
            members.setdefault(name, user_id)
    account_keys: dict[str, Any] = dict(
        ImportedRecord.objects.filter(
            organization_id=organization_id, kind=ImportKind.ACCOUNTS
        ).values_list("key", "object_id")
    )
    contacts: dict[str, Any] = {}
    deal_keys: dict[str, Any] = {}
    if kind in (ImportKind.STAGE_HISTORY, ImportKind.ACTIVITIES):
        deal_keys = {
            ref: pk
            for pk, ref in Opportunity.objects.filter(organization_id=organization_id)
            .exclude(external_ref="")
            .values_list("pk", "external_ref")
        }
        deal_keys.update(
            ImportedRecord.objects.filter(
                organization_id=organization_id, kind=ImportKind.DEALS
            ).values_list("key", "object_id")
        )
        contacts = {
            name: pk
            for pk, name in Contact.objects.filter(organization_id=organization_id).values_list(
                "pk", "name"
            )
        }
    roles, event_types = _roles(organization_id), _event_types(lookups)
    return core.LookupContext(
        stages=stages,
        products=products,
        accounts={name: pk for pk, name in lookups.account_names.items()},
        account_keys=account_keys,
        members=members,
        teams=dict(Team.objects.filter(organization_id=organization_id).values_list("name", "pk")),
        contacts=contacts,
        decision_roles=roles,
        deal_keys=deal_keys,
        event_types=event_types,
        timezone=str(lookups.tz),
    )


def _roles(organization_id: int) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for pk, key, zh, en in DecisionRole.objects.filter(organization_id=organization_id).values_list(
        "pk", "key", "name_zh", "name_en"
    ):
        for name in (key, zh, en):
            roles.setdefault(name, pk)
    return roles


def _event_types(lookups: Lookups) -> dict[str, str]:
    """The activity types by their names, as the organization's catalogue has them."""
    event_types: dict[str, str] = {}
    if lookups.catalogue is not None:
        for key in lookups.catalogue.types:
            spec = lookups.catalogue.get(key)
            if not spec.internal:
                event_types[spec.name_zh] = key
                event_types[spec.name_en] = key
    return event_types


def recompute_insights(organization_id: int) -> None:
    """The organization's insights recomputed once, by the worker, when the writes commit (like
    the scores after an ingestion): the rows are imported when they are written, and a
    recompute over the whole organization should not hold the importer's request or CLI."""
    from lodestar.imports.tasks import recompute_after_import

    transaction.on_commit(lambda: recompute_after_import(organization_id))


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _default_owner(lookups: Lookups, mapping: core.ColumnMapping, user: User) -> int | None:
    named = mapping.options.get("default_owner")
    if named:
        found = lookups.member_id(named) or lookups.member_id(str(named))
        if found is not None:
            return found
    return user.pk if user.pk in lookups.teams else None


def _store_problems(run: Run, row_problems: list[Any]) -> None:
    for problem in row_problems:
        run.count("errors" if problem.severity == "error" else "warnings")
        run.problems.append(
            ImportProblem(
                organization_id=run.batch.organization_id,
                batch=run.batch,
                row=problem.row,
                column=(problem.column or "")[:255],
                field=(problem.field or "")[:100],
                severity=problem.severity,
                code=problem.code[:64],
                message_zh=problem.message.zh,
                message_en=problem.message.en,
                hint_zh=problem.hint.zh if problem.hint else "",
                hint_en=problem.hint.en if problem.hint else "",
            )
        )


def _flush_problems(run: Run, stored: int) -> int:
    room = max(MAX_STORED_PROBLEMS - stored, 0)
    keep = run.problems[:room]
    ImportProblem.objects.bulk_create(keep, batch_size=1000)
    run.problems.clear()
    return stored + len(keep)


def _cancel_requested(batch_id: int) -> bool:
    return ImportBatch.objects.filter(pk=batch_id, cancel_requested=True).exists()


def run_batch(
    *,
    batch: ImportBatch,
    user: User,
    dry_run: bool,
    limits: core.TableLimits,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportBatch:
    """Check (and unless `dry_run`, write) every row of a batch the caller has claimed (its
    status is `checking` or `importing`). Never raises for what goes wrong in the rows or the
    database: the batch ends `failed` with the reason instead."""
    now = now or timezone.now()
    report = progress or (lambda done, total: None)
    run: Run | None = None
    try:
        table = read_stored(batch, limits)
        mapping = core.ColumnMapping.from_dict(batch.mapping, kind=batch.kind)
        blocking = [p for p in mapping.validate(table.headers) if p.severity == "error"]
        if blocking:
            raise _MappingUnusable(blocking)
        lookups = Lookups.load(batch.organization_id)
        context = lookup_context(lookups, batch.kind)
        run = Run(
            batch=batch,
            user_id=user.pk,
            now=now,
            dry_run=dry_run,
            lookups=lookups,
            columns={rule.target: rule.column for rule in mapping.columns},
            default_owner_id=_default_owner(lookups, mapping, user),
            options=dict(mapping.options),
        )
        ImportProblem.objects.filter(batch=batch).delete()
        total = len(table.rows)
        ImportBatch.objects.filter(pk=batch.pk).update(progress_done=0, progress_total=total)
        if not dry_run:
            _before_writing(run, mapping, table, user)
        writer = writer_for(run)
        stored = _flush_problems(run, 0)
        done = 0
        for chunk in _chunks(core.check_rows(batch.kind, mapping, table, context), CHUNK):
            if _cancel_requested(batch.pk):
                return _finish(batch, run, BatchStatus.CANCELLED, now, user)
            with transaction.atomic():
                for row in chunk:
                    _store_problems(run, row.problems)
                writer.write(chunk)
                stored = _flush_problems(run, stored)
                done += len(chunk)
                ImportBatch.objects.filter(pk=batch.pk).update(
                    progress_done=done, counts=_counts(run)
                )
            report(done, total)
        status = BatchStatus.CHECKED if dry_run else BatchStatus.DONE
        return _finish(batch, run, status, now, user)
    except Exception as exc:
        logger.exception("Import batch %s failed", batch.pk)
        return _fail(batch, run, exc, now)


class _MappingUnusable(Exception):
    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message.en for p in problems))


def _counts(run: Run) -> dict[str, int]:
    counts = {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "warnings": 0,
        "errors": 0,
    }
    counts.update(run.counts)
    return counts


def _before_writing(run: Run, mapping: core.ColumnMapping, table: core.Table, user: User) -> None:
    """What a real run does once before its rows: the deals' new custom fields into the
    playbook, and the mapping remembered for the next file of this shape."""
    batch = run.batch
    if batch.kind == ImportKind.DEALS:
        for note in deal_fields_publish(
            user=user,
            organization_id=batch.organization_id,
            customs=mapping.custom_fields,
            batch_id=batch.pk,
        ):
            run.add_problem(None, "custom_fields", note, severity="warning")
            run.counts["warnings"] -= 1  # a note, not a warning about the rows
    signature = core.header_signature(table.headers)[:64]
    SavedMapping.objects.update_or_create(
        organization_id=batch.organization_id,
        kind=batch.kind,
        signature=signature,
        defaults={"mapping": mapping.to_dict(), "updated_at": run.now, "updated_by": user},
    )


def _finish(batch: ImportBatch, run: Run, status: str, now: dt.datetime, user: User) -> ImportBatch:
    counts = _counts(run)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=status,
        counts=counts,
        finished_at=timezone.now(),
        cancel_requested=False,
    )
    if not run.dry_run:
        audit_record(
            organization_id=batch.organization_id,
            actor=user,
            action="import.run",
            object_type="import_batch",
            object_id=batch.pk,
            data={"kind": batch.kind, "status": status, "counts": counts},
            at=now,
        )
        if counts["imported"] or counts["updated"]:
            recompute_insights(batch.organization_id)
    batch.refresh_from_db()
    return batch


def _fail(batch: ImportBatch, run: Run | None, exc: Exception, now: dt.datetime) -> ImportBatch:
    if isinstance(exc, _MappingUnusable):
        reason = "; ".join(p.message.en for p in exc.problems)
    elif isinstance(exc, core.TableRefused):
        reason = exc.message.en
    elif isinstance(exc, core.MappingInvalid):
        reason = "; ".join(p.message.en for p in exc.problems)
    elif isinstance(exc, ObjectDoesNotExist | OSError):
        reason = f"The stored file or a row it needs is gone: {exc}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    updates: dict[str, Any] = {
        "status": BatchStatus.FAILED,
        "error": reason[:2000],
        "finished_at": timezone.now(),
        "cancel_requested": False,
    }
    if run is not None:
        updates["counts"] = _counts(run)
    ImportBatch.objects.filter(pk=batch.pk).update(**updates)
    batch.refresh_from_db()
    return batch


# Used by selectors and tests: a batch row's progress as a fraction.
def progress_of(batch: ImportBatch) -> float:
    total = batch.progress_total
    return 1.0 if not total else min(batch.progress_done / total, 1.0)
