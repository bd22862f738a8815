"""Admin for tasks raised by people and by playbook triggers."""

from __future__ import annotations

from django.contrib import admin

from lodestar.automation.models import Task
from lodestar.org.admin_site import OrganizationScopedAdmin


@admin.register(Task)
class TaskAdmin(OrganizationScopedAdmin):
    list_display = [
        "title",
        "assignee",
        "opportunity",
        "status",
        "due_at",
        "completed_at",
        "escalated_at",
        "trigger_key",
    ]
    list_filter = ["status", "department", "organization"]
    list_select_related = ["assignee", "opportunity"]
    search_fields = ["title", "trigger_key", "assignee__username", "opportunity__name"]
    raw_id_fields = ["opportunity", "assignee", "completed_by"]
    date_hierarchy = "due_at"
