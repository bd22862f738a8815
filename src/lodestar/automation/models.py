"""Tasks created by people or by playbook triggers, with their SLA deadlines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lodestar.crm.models import Opportunity
from lodestar.org.models import Organization


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("opportunity"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("assignee"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Department the task waits on (technical support, legal …); blank for the rep's own work.
    department = models.CharField(_("department"), max_length=64, blank=True)
    # The playbook trigger that made it; with the opportunity it keeps triggers idempotent.
    trigger_key = models.CharField(_("trigger"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"))
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        constraints = [
            # A trigger makes its task once per deal, however often its event is delivered.
            models.UniqueConstraint(
                fields=["opportunity", "trigger_key"],
                condition=~models.Q(trigger_key=""),
                name="task_once_per_trigger_and_deal",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "assignee", "status", "due_at"]),
            models.Index(fields=["organization", "status", "due_at"]),
            models.Index(fields=["organization", "opportunity", "trigger_key"]),
            # A deal's latest completed task (its last action) in one seek.
            models.Index(fields=["opportunity", "completed_at"], name="task_deal_completed"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def on_time(self) -> bool | None:
        if self.completed_at is None:
            return None
        return self.completed_at <= self.due_at
