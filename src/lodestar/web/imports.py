"""The import pages (ops and administrators): take a spreadsheet or a CRM export in, step by step.

- `/imports/`: past imports (status, counts, who, when) and the upload form (kind, file —
  chosen or dropped);
- `/imports/<id>/`: one import. Before it runs: the mapping table (each column's header, sample
  values, the field it goes to, a custom field's type and choices, the key column, the stage
  value map), the first 20 rows as they will be stored, and the buttons to save the mapping,
  check every row (a dry run, nothing written) or import. While it runs: a progress bar the page
  polls every second. After: the report (imported / updated / unchanged / skipped) and every
  problem by row and column, filtered by errors or warnings, and the way to undo it;
- `/imports/<id>/undo/`: what undoing removes, and the confirmation.

Each POST parses its form and makes one call to `lodestar.imports.services`; a refusal shows the
service's words where it happened (422) and nothing is stored then. Other roles get 403,
another organization's imports 404.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lodestar.core.imports import FIELDS, STAGE_AT_PREFIX
from lodestar.core.imports.mapping import custom_key
from lodestar.errors import ApplicationError, PermissionDenied
from lodestar.i18n import localized, speaks_chinese
from lodestar.imports import selectors, services
from lodestar.imports.models import BatchStatus, ImportBatch, ImportKind
from lodestar.imports.problem_kinds import problem_kinds
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import actor_of
from lodestar.web.access import member_view
from lodestar.web.caching import note_write

__all__ = [
    "import_cancel",
    "import_detail",
    "import_mapping",
    "import_progress",
    "import_undo",
    "imports_index",
]

PREVIEW_ROWS = 20
PROBLEMS_PER_PAGE = 50
PROBLEM_KINDS = 20
BATCHES_PER_PAGE = 25
# Values of a stage column given a value-map row each, at most.
VALUE_MAP_ROWS = 50
# Statuses in which the mapping may still change and the batch be run.
EDITABLE = frozenset(
    {BatchStatus.UPLOADED, BatchStatus.CHECKED, BatchStatus.FAILED, BatchStatus.CANCELLED}
)
RUNNING = frozenset({BatchStatus.CHECKING, BatchStatus.IMPORTING, BatchStatus.UNDOING})
CUSTOM_TYPES = ("text", "number", "date", "choice", "boolean")
# Targets whose source values are mapped to ours one by one on the page.
VALUE_MAPPED = ("stage",)
# Kinds whose unknown columns may become custom fields.
CUSTOM_KINDS = frozenset({"accounts", "contacts", "deals"})


def upload_limit() -> int:
    return services.import_limits().max_bytes


def _importer(request: AuthenticatedHttpRequest) -> None:
    actor = actor_of(user=request.user)
    if actor is None or not actor.sees_whole_organization:
        raise PermissionDenied(_("Only ops and administrators import data."))


# Detail fields that name no column of the file: their messages are shown as they are.
_PLAIN_FIELDS = frozenset({"", "file", "rows", "mapping", "kind"})


def _refusal(exc: ApplicationError) -> dict[str, Any]:
    """The service's words; a detail about one column of the file starts with its name."""
    return {
        "message": str(exc.message),
        "details": [
            str(detail.message)
            if detail.field in _PLAIN_FIELDS
            else f"{detail.field}: {detail.message}"
            for detail in exc.details
        ],
    }


def _status_of(exc: ApplicationError) -> int:
    """409 for a clash with the batch's state, else 422 (both shown beside the form)."""
    return 409 if exc.status == 409 else 422


def _text(value: Any) -> str:
    """A bilingual text (or a plain one) in the reader's language."""
    if value is None:
        return ""
    if hasattr(value, "zh") and hasattr(value, "en"):
        return localized(value)
    if isinstance(value, dict) and "zh" in value:
        return str(value["zh"] if speaks_chinese() or not value.get("en") else value["en"])
    return str(value)


# --- the list and the upload -----------------------------------------------------------------


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the rows are"), choices=ImportKind.choices)
    file = forms.FileField(
        label=gettext_lazy("File"),
        error_messages={"required": gettext_lazy("Choose a CSV, XLSX or XLS file.")},
    )


def _index(
    request: AuthenticatedHttpRequest, form: UploadForm, error: dict[str, Any] | None = None
) -> HttpResponse:
    batches = Paginator(
        selectors.import_batches(user=request.user).select_related("created_by"),
        BATCHES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "error": error,
        "batches": batches,
        "kinds": ImportKind.choices,
        "limit_mb": upload_limit() // (1024 * 1024),
        "running": RUNNING,
    }
    return render(request, "web/imports.html", context, status=422 if error else 200)


@require_http_methods(["GET", "POST"])
@member_view
def imports_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _importer(request)
    if request.method != "POST":
        return _index(request, UploadForm(initial={"kind": request.GET.get("kind", "deals")}))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        details = [str(message) for errors in form.errors.values() for message in errors]
        return _index(request, form, {"message": _("Nothing was uploaded."), "details": details})
    upload = form.cleaned_data["file"]
    limit = upload_limit()
    if upload.size > limit:
        message = _(
            "%(name)s is %(size).1f MB; an import file may be at most %(limit).1f MB. Split it "
            "into smaller files, or save it as CSV, which is smaller than XLSX."
        ) % {"name": upload.name, "size": upload.size / 1024 / 1024, "limit": limit / 1024 / 1024}
        return _index(request, form, {"message": message, "details": []})
    try:
        batch = services.import_upload(
            user=request.user,
            kind=form.cleaned_data["kind"],
            file=upload,
            filename=upload.name or "upload",
        )
    except ApplicationError as exc:
        return _index(request, form, _refusal(exc))
    note_write(request)
    messages.success(
        request,
        _("Read %(name)s: check how its columns map, then check the rows.")
        % {"name": batch.original_name},
    )
    return redirect("web:import", batch_id=batch.pk)


# --- one import ------------------------------------------------------------------------------


@dataclass
class ColumnRow:
    """One column of the file on the mapping table."""

    index: int
    header: str
    samples: list[str]
    target: str
    custom_type: str = "text"
    custom_choices: str = ""
    custom_label: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def is_custom(self) -> bool:
        return self.target.startswith("custom:") or self.target == "custom"


@dataclass
class ValueRow:
    index: int
    target: str
    source: str
    count: int
    chosen: str
    # The label of a chosen value that is no stage key (a ready-made mapping's "@won").
    extra: str = ""


_REF = re.compile(r"^@(first|last|won|lost|working:(\d+)|progress:(\d+)/(\d+))$")


def _ref_label(ref: str) -> str:
    """A ready-made mapping's stage by position, in words."""
    found = _REF.match(ref)
    if found is None:
        return ref
    word = found.group(1)
    if word.startswith("working:"):
        return _("Working stage %(n)s") % {"n": found.group(2)}
    if word.startswith("progress:"):
        return _("Step %(k)s of %(n)s of the process") % {"k": found.group(3), "n": found.group(4)}
    return str(
        {
            "first": _("The first stage"),
            "last": _("The last working stage"),
            "won": _("Won"),
            "lost": _("Lost"),
        }[word]
    )


def _fields_of(kind: str) -> list[Any]:
    return list(FIELDS.get(kind, ()))


def _target_options(kind: str, mapping: dict[str, Any]) -> list[tuple[str, str]]:
    options = [(f.key, _text(f.label) + (" *" if f.required else "")) for f in _fields_of(kind)]
    known = {value for value, _label in options}
    # Targets a ready-made mapping may use beyond the fields: the day a deal entered a stage.
    for rule in mapping.get("columns", []):
        target = str(rule.get("target") or "")
        if target.startswith(STAGE_AT_PREFIX) and target not in known:
            known.add(target)
            options.append(
                (
                    target,
                    _("Day it entered the stage “%(stage)s”")
                    % {"stage": target.removeprefix(STAGE_AT_PREFIX)},
                )
            )
    if kind in CUSTOM_KINDS:
        options.append(("custom", _("Custom field (a new field)")))
    options.append(("ignore", _("Do not import")))
    return options


def _column_rows(
    headers: list[str], mapping: dict[str, Any], samples: dict[str, list[str]]
) -> list[ColumnRow]:
    rules = {str(rule.get("column")): rule for rule in mapping.get("columns", [])}
    rows = []
    for index, header in enumerate(headers):
        rule = rules.get(header, {})
        custom = rule.get("custom") or {}
        rows.append(
            ColumnRow(
                index=index,
                header=header,
                samples=[str(v) for v in samples.get(header, [])[:3]],
                target=str(rule.get("target") or "ignore"),
                custom_type=str(custom.get("type") or "text"),
                custom_choices="; ".join(str(c) for c in custom.get("choices") or []),
                custom_label=_text(custom.get("label")) or header,
            )
        )
    return rows


def _value_rows(
    mapping: dict[str, Any], distinct: dict[str, list[Any]], stage_keys: set[str]
) -> list[ValueRow]:
    """A row per distinct value of each column mapped to a value-mapped field (the stage)."""
    value_maps = mapping.get("value_maps") or {}
    rows: list[ValueRow] = []
    for rule in mapping.get("columns", []):
        target = str(rule.get("target"))
        if target not in VALUE_MAPPED:
            continue
        chosen = value_maps.get(target) or {}
        for source, count in list(distinct.get(str(rule.get("column")), []))[:VALUE_MAP_ROWS]:
            value = str(chosen.get(str(source), ""))
            rows.append(
                ValueRow(
                    index=len(rows),
                    target=target,
                    source=str(source),
                    count=int(count),
                    chosen=value,
                    extra=_ref_label(value) if value and value not in stage_keys else "",
                )
            )
    return rows


def _shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return "; ".join(_shown(item) for item in value)
    return str(value)


def _reference_text(reference: Any) -> str:
    if getattr(reference, "create", False):
        return _("%(name)s (new)") % {"name": reference.value}
    return str(getattr(reference, "value", reference))


def _preview_context(
    batch: ImportBatch, preview: Any, stage_labels: dict[str, str]
) -> dict[str, Any]:
    labels = {f.key: _text(f.label) for f in _fields_of(batch.kind)}
    customs = {
        str(rule.get("target")): _text((rule.get("custom") or {}).get("label"))
        or str(rule.get("column"))
        for rule in (batch.mapping or {}).get("columns", [])
        if str(rule.get("target", "")).startswith("custom:")
    }
    columns = list(getattr(preview, "columns", []) or [])
    if not columns:
        columns = [
            str(rule.get("target"))
            for rule in (batch.mapping or {}).get("columns", [])
            if rule.get("target") not in (None, "ignore")
        ]
    heads = [labels.get(c) or customs.get(c) or c for c in columns]
    rows = []
    for row in getattr(preview, "rows", []):
        values = {**dict(row.values), **{f"custom:{k}": v for k, v in dict(row.custom).items()}}
        for name, reference in dict(getattr(row, "references", {}) or {}).items():
            values[name] = _reference_text(reference)
        if values.get("stage") in stage_labels:
            values["stage"] = stage_labels[values["stage"]]
        problems = list(row.problems)
        rows.append(
            {
                "number": row.number,
                "cells": [_shown(values.get(column)) for column in columns],
                "errors": sum(1 for p in problems if p.severity == "error"),
                "warnings": sum(1 for p in problems if p.severity != "error"),
                "problems": [
                    {
                        "column": p.column or "",
                        "severity": p.severity,
                        "message": _text(p.message),
                        "hint": _text(p.hint),
                    }
                    for p in problems
                ],
            }
        )
    return {"preview_heads": heads, "preview_rows": rows}


def _problems_context(request: AuthenticatedHttpRequest, batch: ImportBatch) -> dict[str, Any]:
    severity = request.GET.get("severity")
    if severity not in ("error", "warning"):
        severity = None
    found = selectors.import_problems(user=request.user, batch=batch, severity=severity)
    page = Paginator(found, PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    chinese = speaks_chinese()
    shown = [
        {
            "row": problem.row,
            "column": problem.column,
            "severity": problem.severity,
            "code": problem.code,
            "message": problem.message_zh if chinese else problem.message_en,
            "hint": problem.hint_zh if chinese else problem.hint_en,
        }
        for problem in page.object_list
    ]
    query = QueryDict(mutable=True)
    if severity:
        query["severity"] = severity
    kinds = [
        {
            "severity": kind.severity,
            "column": kind.column,
            "count": kind.count,
            "first_row": kind.first_row,
            "example": kind.example.message_zh if chinese else kind.example.message_en,
        }
        for kind in problem_kinds(
            selectors.import_problems(user=request.user, batch=batch), limit=PROBLEM_KINDS
        )
    ]
    return {
        "problem_kinds": kinds,
        "problems": shown,
        "problems_page": page,
        "severity": severity or "",
        "problems_query": query.urlencode(),
    }


def _detail_context(
    request: AuthenticatedHttpRequest, batch: ImportBatch, **extra: Any
) -> dict[str, Any]:
    editable = batch.status in EDITABLE
    # Findings of a run stand until the mapping changes (the batch is "uploaded" again then).
    has_run = batch.started_at is not None and batch.status != BatchStatus.UPLOADED
    preview: Any = None
    context: dict[str, Any] = {
        "batch": batch,
        "kind_label": ImportKind(batch.kind).label,
        "status_label": BatchStatus(batch.status).label,
        "editable": editable,
        "running": batch.status in RUNNING,
        "has_run": has_run,
        "counts": {name: (batch.counts or {}).get(name, 0) for name in COUNT_NAMES},
        "extra_counts": _extra_counts(batch),
        "count_labels": COUNT_LABELS,
        "custom_types": [(t, CUSTOM_TYPE_LABELS[t]) for t in CUSTOM_TYPES],
        "percent": _percent(batch),
        "undoable": _undoable(batch),
    }
    if editable:
        try:
            preview = services.import_preview(user=request.user, batch=batch, limit=PREVIEW_ROWS)
        except ApplicationError as exc:  # the stored file or mapping cannot be read any more
            context["editable"] = False
            context.setdefault("error", _refusal(exc))
            preview = None
    # After a refused mapping the table shows what was sent, to be corrected.
    shown = extra.pop("sent_mapping", None) or batch.mapping or {}
    if preview is not None:
        samples = getattr(preview, "samples", {}) or {}
        distinct = getattr(preview, "distinct", {}) or {}
        stage_options = [
            (key, _text(label)) for key, label in getattr(preview, "stage_options", []) or []
        ]
        context.update(
            {
                "columns": _column_rows(list(batch.headers or []), shown, samples),
                "targets": _target_options(batch.kind, shown),
                "key_column": shown.get("key_column") or "",
                "value_rows": _value_rows(shown, distinct, {key for key, _ in stage_options}),
                "stage_options": stage_options,
                **_preview_context(batch, preview, dict(stage_options)),
            }
        )
    if has_run:
        context.update(_problems_context(request, batch))
    context.update(extra)
    return context


COUNT_NAMES = ("imported", "updated", "unchanged", "skipped", "errors", "warnings")
COUNT_LABELS = {
    "imported": gettext_lazy("Imported (new)"),
    "updated": gettext_lazy("Updated (changed)"),
    "unchanged": gettext_lazy("Unchanged rows"),
    "skipped": gettext_lazy("Skipped (errors)"),
    "errors": gettext_lazy("Errors"),
    "warnings": gettext_lazy("Warnings"),
}
CUSTOM_TYPE_LABELS = {
    "text": gettext_lazy("Plain text"),
    "number": gettext_lazy("A number"),
    "date": gettext_lazy("A date"),
    "choice": gettext_lazy("A choice"),
    "boolean": gettext_lazy("Yes / no"),
}


def _extra_counts(batch: ImportBatch) -> dict[str, int]:
    """What a run wrote beside its rows: accounts a deals file named, events it logged."""
    counts = batch.counts or {}
    return {name: int(counts.get(name) or 0) for name in ("accounts_created", "events")}


def _undoable(batch: ImportBatch) -> bool:
    """A real run that wrote (all, or up to where it stopped or failed)."""
    return (
        not batch.dry_run
        and batch.started_at is not None
        and batch.status in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED)
    )


def _percent(batch: ImportBatch) -> int:
    if not batch.progress_total:
        return 100 if batch.status not in RUNNING and batch.started_at else 0
    return min(100, round(100 * batch.progress_done / batch.progress_total))


@require_GET
@member_view
def import_detail(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    _importer(request)
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    return render(request, "web/imports_batch.html", _detail_context(request, batch))


# --- the mapping form ------------------------------------------------------------------------

_CHOICE_SPLIT = re.compile(r"\s*[;；,，、|\n]\s*")


def mapping_from_form(batch: ImportBatch, post: QueryDict) -> dict[str, Any]:
    """The mapping the form describes, over the batch's current one (options kept)."""
    current = dict(batch.mapping or {})
    old_rules = {str(rule.get("column")): rule for rule in current.get("columns", [])}
    taken = {
        str(rule["target"]).removeprefix("custom:")
        for rule in current.get("columns", [])
        if str(rule.get("target", "")).startswith("custom:")
    }
    rules = []
    for index, header in enumerate(batch.headers or []):
        target = (post.get(f"target-{index}") or "ignore").strip()
        old = old_rules.get(header, {})
        rule: dict[str, Any] = {"column": header, "target": target}
        if target in ("custom",) or target.startswith("custom:"):
            old_custom = old.get("custom") or {}
            key = str(old_custom.get("key") or "")
            if not key:
                key = custom_key(header, taken)
                taken.add(key)
            kind = post.get(f"custom-type-{index}") or old_custom.get("type") or "text"
            choices_text = post.get(f"custom-choices-{index}", "")
            choices = [c for c in _CHOICE_SPLIT.split(choices_text.strip()) if c]
            rule = {
                "column": header,
                "target": f"custom:{key}",
                "custom": {
                    "key": key,
                    "label": (post.get(f"custom-label-{index}") or header).strip() or header,
                    "type": kind,
                    "choices": choices if kind == "choice" else [],
                },
            }
        rules.append(rule)
    value_maps: dict[str, dict[str, str]] = {
        target: dict(values)
        for target, values in (current.get("value_maps") or {}).items()
        if target not in VALUE_MAPPED
    }
    for name in post:
        found = re.fullmatch(r"value-source-(\d+)", name)
        if not found:
            continue
        number = found.group(1)
        target = str(post.get(f"value-target-{number}", ""))
        chosen = str(post.get(f"value-{number}", ""))
        if target in VALUE_MAPPED and chosen:
            value_maps.setdefault(target, {})[str(post.get(name, ""))] = str(chosen)
    key_column = post.get("key_column") or None
    return {
        **current,
        "columns": rules,
        "key_column": key_column if key_column in (batch.headers or []) else None,
        "value_maps": value_maps,
    }


@require_POST
@member_view
def import_mapping(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """Save the mapping; then (the button pressed) preview, check every row, or import."""
    _importer(request)
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    then = request.POST.get("then", "preview")
    sent = mapping_from_form(batch, request.POST)
    try:
        batch = services.import_set_mapping(user=request.user, batch=batch, mapping=sent)
        if then in ("check", "run"):
            batch = services.import_start(user=request.user, batch=batch, dry_run=then == "check")
    except ApplicationError as exc:
        batch.refresh_from_db()
        context = _detail_context(request, batch, error=_refusal(exc), sent_mapping=sent)
        return render(request, "web/imports_batch.html", context, status=_status_of(exc))
    note_write(request)
    if then == "check":
        messages.success(request, _("Checking every row; nothing is written."))
    elif then == "run":
        messages.success(request, _("Importing."))
    else:
        messages.success(request, _("Mapping saved; the preview below uses it."))
    anchor = "#preview" if then == "preview" else "#progress"
    return redirect(reverse("web:import", kwargs={"batch_id": batch.pk}) + anchor)


@require_GET
@member_view
def import_progress(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """The progress bar, polled every second while the run lasts; once it has ended the page
    is loaded again to show the report."""
    _importer(request)
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    response = render(
        request,
        "web/partials/imports_progress.html",
        {"batch": batch, "running": batch.status in RUNNING, "percent": _percent(batch)},
    )
    if batch.status not in RUNNING and request.GET.get("from") == "running":
        response["HX-Refresh"] = "true"
    return response


@require_POST
@member_view
def import_cancel(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    _importer(request)
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    try:
        services.import_cancel(user=request.user, batch=batch)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        note_write(request)
        messages.success(request, _("Stopped."))
    return redirect("web:import", batch_id=batch.pk)


@require_http_methods(["GET", "POST"])
@member_view
def import_undo(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """GET: what undoing this import removes, and the button; POST: undo it."""
    _importer(request)
    batch = selectors.import_batch(user=request.user, batch_id=batch_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            services.import_undo(user=request.user, batch=batch)
        except ApplicationError as exc:
            error, status = _refusal(exc), _status_of(exc)
        else:
            note_write(request)
            messages.success(
                request, _("Import undone: what it wrote is removed or put back as it was.")
            )
            return redirect("web:import", batch_id=batch.pk)
    context = {
        "batch": batch,
        "kind_label": ImportKind(batch.kind).label,
        "counts": {name: (batch.counts or {}).get(name, 0) for name in COUNT_NAMES},
        "extra_counts": _extra_counts(batch),
        "undoable": _undoable(batch),
        "error": error,
    }
    return render(request, "web/imports_undo.html", context, status=status)
