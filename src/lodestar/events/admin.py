"""Admin for the activity log: read only, because events are never changed or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lodestar.events.models import Event
from lodestar.org.admin_site import OrganizationScopedAdmin


@admin.register(Event)
class EventAdmin(OrganizationScopedAdmin):
    list_display = [
        "occurred_at",
        "type",
        "source",
        "external_id",
        "opportunity",
        "account",
        "actor",
        "with_customer",
    ]
    list_filter = ["type", "source", "with_customer", "organization"]
    list_select_related = ["opportunity", "account", "actor"]
    search_fields = ["type", "source", "external_id", "opportunity__name", "account__name"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
