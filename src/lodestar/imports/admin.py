"""Admin for imports: read only. Batches are uploaded, run and undone on the import page, the
API or the CLI, where files are checked, runs are chunked and undo is complete; the admin shows
them (scoped to the organization like every admin page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lodestar.imports.models import ImportBatch, ImportedRecord, ImportProblem, SavedMapping
from lodestar.org.admin_site import OrganizationScopedAdmin


class _ReadOnly(OrganizationScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(_ReadOnly):
    list_display = ["id", "original_name", "kind", "status", "created_at", "created_by"]
    list_filter = ["kind", "status", "organization"]
    list_select_related = ["created_by"]
    search_fields = ["original_name", "sha256"]
    date_hierarchy = "created_at"


@admin.register(ImportProblem)
class ImportProblemAdmin(_ReadOnly):
    list_display = ["batch", "row", "column", "severity", "code", "message_en"]
    list_filter = ["severity", "code"]
    list_select_related = ["batch"]
    search_fields = ["column", "code", "message_zh", "message_en"]


@admin.register(ImportedRecord)
class ImportedRecordAdmin(_ReadOnly):
    list_display = ["kind", "key", "object_id", "created_by_batch", "changed_by_batch"]
    list_filter = ["kind", "organization"]
    search_fields = ["key"]


@admin.register(SavedMapping)
class SavedMappingAdmin(_ReadOnly):
    list_display = ["kind", "signature", "updated_at", "updated_by"]
    list_filter = ["kind", "organization"]
    search_fields = ["signature"]
