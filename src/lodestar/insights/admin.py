"""Admin for risk and health alerts and the exemptions reps declare."""

from __future__ import annotations

from django.contrib import admin

from lodestar.insights.models import Alert, Exemption


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "status", "recipient", "opportunity", "subject_user", "raised_at"]
    list_filter = ["kind", "status", "organization"]
    list_select_related = ["recipient", "opportunity", "subject_user"]
    search_fields = ["kind", "dedupe_key", "message_zh", "message_en", "opportunity__name"]
    raw_id_fields = ["opportunity", "subject_user", "recipient"]
    date_hierarchy = "raised_at"


@admin.register(Exemption)
class ExemptionAdmin(admin.ModelAdmin):
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
