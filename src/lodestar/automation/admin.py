"""Admin for tasks raised by people and by playbook triggers."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task
from lodestar.automation.titles import trigger_titles
from lodestar.i18n import localized
from lodestar.org.admin_site import OrganizationScopedAdmin


@admin.register(Task)
class TaskAdmin(OrganizationScopedAdmin):
    list_display = [
        "shown_title",
        "assignee",
        "opportunity",
        "status",
        "due_at",
        "completed_at",
        "escalated_at",
        "trigger_key",
    ]
    list_filter = ["status", "department", "organization"]
    list_select_related = ["assignee", "opportunity", "organization"]
    search_fields = ["title", "trigger_key", "assignee__username", "opportunity__name"]
    raw_id_fields = ["opportunity", "assignee", "completed_by"]
    date_hierarchy = "due_at"

    @admin.display(description=_("title"), ordering="title")
    def shown_title(self, task: Task) -> str:
        """A trigger's task in the reader's language (the playbook has its title in both)."""
        title = trigger_titles([task]).get(task.pk)
        return localized(title) if title is not None else task.title
