"""Import batches: a file taken in, how its columns map, what each row became, and how to undo it.

- `ImportBatch` — one uploaded file of one kind (accounts, contacts, products, deals, stage
  history, activities): its stored copy, the mapping, the state of its run and its counts;
- `ImportProblem` — what is wrong with a row (or the whole file), located by row and column,
  in both languages with a hint how to fix it;
- `ImportedRecord` — the organization's memory of imported rows: `(kind, key)` → the object
  written for it, the batch that created it and the one that last changed it, and the values
  it held before (so an update can be undone). It is what makes a second import of the same
  file change nothing;
- `SavedMapping` — the mapping last used for files of one shape (the header signature).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lodestar.org.models import Organization


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    PRODUCTS = "products", _("Products")
    DEALS = "deals", _("Deals")
    STAGE_HISTORY = "stage_history", _("Stage history")
    ACTIVITIES = "activities", _("Activities")


class BatchStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")


# A run in progress: the worker (or the CLI) is reading or writing the batch.
RUNNING_STATUSES = frozenset({BatchStatus.CHECKING, BatchStatus.IMPORTING, BatchStatus.UNDOING})


def import_file_path(instance: ImportBatch, filename: str) -> str:
    # Never under a public URL: media is not served; the name carries no part of the upload's.
    return f"org-{instance.organization_id}/imports/{instance.sha256[:2]}/{instance.sha256}"


def _empty_counts() -> dict[str, int]:
    return {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "warnings": 0,
        "errors": 0,
    }


class ImportBatch(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    kind = models.CharField(_("kind of rows"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.UPLOADED
    )
    # The last run (or the one in progress) was a dry run: it checked the rows and wrote nothing.
    dry_run = models.BooleanField(_("dry run"), default=False)
    original_name = models.CharField(_("original name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    file = models.FileField(_("file"), upload_to=import_file_path, max_length=255)
    format = models.CharField(_("file format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    headers = models.JSONField(_("column headers"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Where the suggested mapping came from: "saved", "ready" (a ready-made one) or "headers".
    mapping_source = models.CharField(_("mapping source"), max_length=16, blank=True)
    progress_done = models.PositiveIntegerField(_("rows done"), default=0)
    progress_total = models.PositiveIntegerField(_("rows in total"), default=0)
    counts = models.JSONField(_("counts"), default=_empty_counts, blank=True)
    # Set by `import_cancel` while a run is in progress; the run stops at the next chunk.
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    error = models.TextField(_("reason of failure"), blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name} ({self.kind})"


class Severity(models.TextChoices):
    ERROR = "error", _("Error")
    WARNING = "warning", _("Warning")


class ImportProblem(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="problems", verbose_name=_("batch")
    )
    # The row as the user sees it in the file (the header is row 1); None for the whole file.
    row = models.PositiveIntegerField(_("row"), null=True, blank=True)
    column = models.CharField(_("column"), max_length=255, blank=True)
    field = models.CharField(_("field"), max_length=100, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    code = models.CharField(_("code"), max_length=64)
    message_zh = models.TextField(_("message (Chinese)"))
    message_en = models.TextField(_("message (English)"))
    hint_zh = models.TextField(_("hint (Chinese)"), blank=True)
    hint_en = models.TextField(_("hint (English)"), blank=True)

    class Meta:
        verbose_name = _("import problem")
        verbose_name_plural = _("import problems")
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["batch", "severity", "row"])]

    def __str__(self) -> str:
        return f"{self.row or '-'} {self.column}: {self.message_en}"


class ImportedRecord(models.Model):
    """One imported row's object. `key` is the row's external id (the key column) or a stable
    hash of its values; `digest` is the hash of what was written, so an identical row is
    recognised as unchanged without reading the object."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    kind = models.CharField(_("kind of rows"), max_length=16, choices=ImportKind.choices)
    key = models.CharField(_("key"), max_length=255)
    object_id = models.BigIntegerField(_("object id"))
    digest = models.CharField(_("digest"), max_length=40)
    created_by_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_records",
        verbose_name=_("created by batch"),
    )
    changed_by_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changed_records",
        verbose_name=_("last changed by batch"),
    )
    # What an update replaced, to put back on undo: the object's earlier field values and the
    # record's earlier state (digest, batch, history keys, and its own earlier `previous`).
    previous = models.JSONField(_("previous values"), null=True, blank=True)
    # Deals: the keys of the stage moves already logged for this row, so a re-import appends
    # only the moves the file adds.
    history = models.JSONField(_("history keys"), default=list, blank=True)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "key"], name="importedrecord_unique_key"
            )
        ]
        indexes = [models.Index(fields=["organization", "kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} → {self.object_id}"


class SavedMapping(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    kind = models.CharField(_("kind of rows"), max_length=16, choices=ImportKind.choices)
    signature = models.CharField(_("header signature"), max_length=64)
    mapping = models.JSONField(_("column mapping"), default=dict)
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("saved mapping")
        verbose_name_plural = _("saved mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "signature"], name="savedmapping_unique_signature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.signature[:8]}"
