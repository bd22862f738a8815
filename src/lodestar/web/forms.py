"""Input parsing of the pages' actions. Forms only parse and shape input; services judge it."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from lodestar.org.models import Team, User

__all__ = [
    "AdvanceForm",
    "DashboardFilterForm",
    "ExemptionForm",
    "LogCallForm",
    "LogMeetingForm",
    "UploadForm",
    "new_delivery_id",
]


def new_delivery_id() -> str:
    """The id a rendered form sends with its event, so a double tap is logged once."""
    return uuid.uuid4().hex


class _DeliveryForm(forms.Form):
    delivery_id = forms.CharField(max_length=64, widget=forms.HiddenInput)


class LogCallForm(_DeliveryForm):
    summary = forms.CharField(label=_("Summary"), max_length=2000, required=False)
    minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=0, max_value=600, required=False
    )

    def payload(self) -> dict[str, object]:
        data: dict[str, object] = {}
        if self.cleaned_data.get("summary"):
            data["summary"] = self.cleaned_data["summary"]
        if self.cleaned_data.get("minutes") is not None:
            data["minutes"] = self.cleaned_data["minutes"]
        return data


class LogMeetingForm(_DeliveryForm):
    topic = forms.CharField(label=_("Topic"), max_length=500, required=False)
    attendees = forms.TypedMultipleChoiceField(
        label=_("Attendees"), coerce=int, required=False, choices=()
    )

    def __init__(self, *args: Any, contact_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `fields` holds this form's own copies, typed as plain fields.
        attendees = cast(forms.TypedMultipleChoiceField, self.fields["attendees"])
        attendees.choices = [(pk, pk) for pk in contact_ids]

    def payload(self) -> dict[str, object]:
        data: dict[str, object] = {"attendee_contact_ids": list(self.cleaned_data["attendees"])}
        if self.cleaned_data.get("topic"):
            data["topic"] = self.cleaned_data["topic"]
        return data


class UploadForm(forms.Form):
    kind = forms.CharField(label=_("Kind"), max_length=64)
    file = forms.FileField(label=_("File"))


class ExemptionForm(forms.Form):
    reason_code = forms.CharField(label=_("Reason"), max_length=32)
    reason = forms.CharField(label=_("Explanation"), max_length=2000)
    days = forms.IntegerField(label=_("Days"), initial=14)


class AdvanceForm(forms.Form):
    to_stage = forms.CharField(label=_("Move to"), max_length=64)


PERIODS = (
    ("4w", _("Last 4 weeks")),
    ("12w", _("Last 12 weeks")),
    ("26w", _("Last 26 weeks")),
)
PERIOD_WEEKS = {"4w": 4, "12w": 12, "26w": 26}


class DashboardFilterForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams")
    )
    rep = forms.ModelChoiceField(
        label=_("Rep"), queryset=User.objects.none(), required=False, empty_label=_("All reps")
    )
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False, initial="12w")

    def __init__(
        self, *args: Any, teams: QuerySet[Team], reps: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # `fields` holds this form's own copies, typed as plain fields.
        cast("forms.ModelChoiceField[Team]", self.fields["team"]).queryset = teams
        cast("forms.ModelChoiceField[User]", self.fields["rep"]).queryset = reps

    @property
    def weeks(self) -> int:
        period = self.cleaned_data.get("period") if self.is_valid() else None
        return PERIOD_WEEKS.get(period or "12w", 12)
