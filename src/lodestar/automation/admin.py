"""Admin for tasks raised by people and by playbook triggers."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task
from lodestar.automation.titles import trigger_titles
from lodestar.i18n import localized
from lodestar.org.admin_site import OrganizationScopedAdmin


@dataclass(frozen=True)
class _Shown:
    """A row as its admin checkbox needs it: its key and how it is named."""

    pk: int
    name: str

    def __str__(self) -> str:
        return self.name


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

    def action_checkbox(self, obj: Task) -> SafeString:
        # The checkbox is named after the task as the list shows it, not its stored title.
        shown = _Shown(obj.pk, self.shown_title(obj))
        return super().action_checkbox(shown)  # a pk and a name is all it reads

    @admin.display(description=_("title"), ordering="title")
    def shown_title(self, task: Task) -> str:
        """A trigger's task in the reader's language (the playbook has its title in both)."""
        title = trigger_titles([task]).get(task.pk)
        return localized(title) if title is not None else task.title
