"""Input parsing of the task controls (add, reschedule, reassign). Forms only parse and shape
input; the services in `lodestar.automation.services` judge it, with the API's messages.

A due moment is entered as a date and a time of day in the organization's time zone (the zone
the pages run in, set by `member_view`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["TaskAddForm", "TaskReassignForm", "TaskRescheduleForm", "default_due"]


def default_due(now: dt.datetime) -> dt.datetime:
    """What a new task's due time starts at: today at 18:00, or tomorrow at 09:00 once the
    afternoon is nearly over (local time)."""
    local = timezone.localtime(now)
    if local.hour < 17:
        return local.replace(hour=18, minute=0, second=0, microsecond=0)
    return (local + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


class _DueForm(forms.Form):
    due_date = forms.DateField(
        label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    due_time = forms.TimeField(
        label=_("Due time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def due_at(self) -> dt.datetime:
        """The date and time entered, in the organization's zone."""
        moment = dt.datetime.combine(self.cleaned_data["due_date"], self.cleaned_data["due_time"])
        return timezone.make_aware(moment, timezone.get_current_timezone())


class TaskAddForm(_DueForm):
    title = forms.CharField(label=_("Task"), max_length=200)
    # Any member id: the service says who may take it, with the API's message.
    assignee = forms.IntegerField(label=_("Assignee"), required=False, min_value=1)
    description = forms.CharField(label=_("Notes"), max_length=2000, required=False)
    # Only on Today, where the task's deal is chosen (on a deal page it is that deal).
    opportunity = forms.IntegerField(label=_("Deal"), required=False, min_value=1)

    def __init__(self, *args: Any, needs_deal: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].required = needs_deal


class TaskRescheduleForm(_DueForm):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class TaskReassignForm(forms.Form):
    assignee = forms.IntegerField(label=_("New assignee"), min_value=1)
