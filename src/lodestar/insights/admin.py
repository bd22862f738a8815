"""Admin for alerts, exemptions, and the computed rows (health, scorecard, activity; read-only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from lodestar.core.scoring import Message, shown_score
from lodestar.i18n import localized
from lodestar.insights.models import (
    Alert,
    CommunicationScore,
    DealActivity,
    Exemption,
    HandbookPush,
    HealthSnapshot,
    KnowledgeFile,
    KnowledgeStage,
    WeeklyReport,
    WeeklyReportSchedule,
)
from lodestar.org.admin_site import OrganizationScopedAdmin


@admin.register(Alert)
class AlertAdmin(OrganizationScopedAdmin):
    list_display = ["kind", "status", "recipient", "opportunity", "subject_user", "raised_at"]
    list_filter = ["kind", "status", "organization"]
    list_select_related = ["recipient", "opportunity", "subject_user"]
    search_fields = ["kind", "dedupe_key", "message_zh", "message_en", "opportunity__name"]
    raw_id_fields = ["opportunity", "subject_user", "recipient"]
    date_hierarchy = "raised_at"


@admin.register(Exemption)
class ExemptionAdmin(OrganizationScopedAdmin):
    list_display = [
        "opportunity",
        "reason_code",
        "declared_by",
        "starts_at",
        "ends_at",
        "recheck_at",
    ]
    list_filter = ["reason_code", "organization"]
    list_select_related = ["opportunity", "declared_by"]
    search_fields = ["reason", "opportunity__name", "declared_by__username"]
    raw_id_fields = ["opportunity", "declared_by"]
    date_hierarchy = "starts_at"


def _shown(model: type[models.Model], field: str) -> Callable[[Any], str]:
    """A score column as every page shows the score (a whole number, halves up)."""

    column = model._meta.get_field(field)
    label = column.verbose_name if isinstance(column, models.Field) else field

    @admin.display(description=label, ordering=field)
    def show(obj: Any) -> str:
        value = getattr(obj, field)
        return "–" if value is None else str(shown_score(value))

    return show


class _Computed(OrganizationScopedAdmin):
    """Rows the insights computation writes: look, never edit (a recompute would undo it)."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(_Computed):
    list_display = [
        "rep",
        "date",
        _shown(HealthSnapshot, "score"),
        _shown(HealthSnapshot, "dwell_score"),
        _shown(HealthSnapshot, "task_score"),
        _shown(HealthSnapshot, "interaction_score"),
    ]
    list_filter = ["organization", "date"]
    list_select_related = ["rep"]
    raw_id_fields = ["rep"]
    date_hierarchy = "date"


@admin.register(CommunicationScore)
class CommunicationScoreAdmin(_Computed):
    list_display = [
        "event",
        "rep",
        "opportunity",
        "occurred_at",
        _shown(CommunicationScore, "score"),
        "final",
    ]
    list_filter = ["organization", "final"]
    list_select_related = ["rep", "opportunity", "event"]
    raw_id_fields = ["event", "rep", "opportunity"]
    date_hierarchy = "occurred_at"
    # Each criterion's explanation in the reader's language, not the stored pair.
    exclude = ["criteria"]
    readonly_fields = ["criteria_shown"]

    @admin.display(description=_("criteria"))
    def criteria_shown(self, score: CommunicationScore) -> str:
        return "; ".join(
            ("✓ " if item.get("met") else "✗ ")
            + localized(Message(str(item.get("zh", "")), str(item.get("en", ""))))
            for item in score.criteria
            if isinstance(item, dict)
        )


@admin.register(HandbookPush)
class HandbookPushAdmin(_Computed):
    list_display = ["rep", "handbook_key", "pushed_at", "notified"]
    list_filter = ["organization", "notified"]
    list_select_related = ["rep"]
    raw_id_fields = ["rep", "fired_by", "handbook"]


@admin.register(DealActivity)
class DealActivityAdmin(_Computed):
    list_display = ["opportunity", "last_event_at", "last_customer_at", "events", "customer_events"]
    list_filter = ["organization"]
    list_select_related = ["opportunity"]
    raw_id_fields = ["opportunity"]

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # Ingestion keeps these rows equal to the event log; `rebuild` is the way to repair them.
        return False


class _ChangedOnTheirPages(OrganizationScopedAdmin):
    """Rows looked at here and changed on their own pages or the API, where the input is
    checked and every change is audited: a knowledge entry's stages and files, the weekly
    report schedule. (Weekly reports themselves are snapshots the worker makes.)"""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(KnowledgeStage)
class KnowledgeStageAdmin(_ChangedOnTheirPages):
    list_display = ["entry", "stage_key"]
    list_filter = ["organization", "stage_key"]
    list_select_related = ["entry"]
    raw_id_fields = ["entry"]


@admin.register(KnowledgeFile)
class KnowledgeFileAdmin(_ChangedOnTheirPages):
    list_display = ["entry", "original_name", "content_type", "size", "uploaded_at"]
    list_filter = ["organization", "content_type"]
    list_select_related = ["entry"]
    search_fields = ["original_name", "entry__title"]
    raw_id_fields = ["entry", "uploaded_by"]
    date_hierarchy = "uploaded_at"


@admin.register(WeeklyReportSchedule)
class WeeklyReportScheduleAdmin(_ChangedOnTheirPages):
    list_display = ["organization", "weekday", "hour", "enabled", "updated_at"]
    list_filter = ["enabled"]
    raw_id_fields = ["updated_by"]


@admin.register(WeeklyReport)
class WeeklyReportAdmin(_ChangedOnTheirPages):
    list_display = ["team", "week", "team_health", "weighted_pipeline", "generated_at", "trigger"]
    list_filter = ["organization", "week", "trigger"]
    list_select_related = ["team"]
    raw_id_fields = ["team", "generated_by"]
    date_hierarchy = "generated_at"
    # The snapshot holds its texts in both languages; it is read on the report's own page
    # (/reports/weekly/…), in the reader's language.
    exclude = ["figures"]
