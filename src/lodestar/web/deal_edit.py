"""The deal page's edits: every field of the deal, and the control next to each unmet exit
criterion that satisfies it.

- `deal_fields` / `deal_edit`: the "Deal details" card and its form — name, amount, currency,
  expected close date and every custom field of the deal's playbook — saved in one
  `opportunity_update` call, the one the API's PATCH /opportunities/{id} makes.
- `criterion_field`: one field set from the gate panel (a criterion's input).
- `criterion_upload`: a file of the kind a criterion waits for (`deal_file_upload`, the
  API's upload path).
- `criterion_event`: an event a criterion waits for — the customer's confirmation in chat with
  who said it, when, their words and an optional screenshot, or any other event type — logged
  through `events_ingest` like POST /api/v1/events.
- `criterion_contact`: a contact added to the account, or an existing one given the role a
  criterion counts (`contact_create` / `contact_update`, POST and PATCH /contacts).

Each answers with its form's fragment; a success also tells the page the deal changed, so the
gate panel reloads itself and the next unmet criterion shows its control. Refusals come back
with 422 (or the service's status) beside the form, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from lodestar.core.rules import CompiledPlaybook, GateResult
from lodestar.core.rules.remedies import Action, AddContact, RecordEvent, Upload
from lodestar.core.rules.scope import CONTENT_TYPES
from lodestar.crm.attachments import MAX_UPLOAD_BYTES, sniff
from lodestar.crm.extraction import Refused
from lodestar.crm.models import Contact, Opportunity
from lodestar.crm.selectors import access_contact, access_opportunity
from lodestar.crm.services import contact_create, contact_update, opportunity_update
from lodestar.errors import ApplicationError, FieldError, ValidationFailed
from lodestar.events.services import events_ingest
from lodestar.events.uploads import deal_file_upload
from lodestar.gates.services import opportunity_gate
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import actor_of
from lodestar.playbooks.selectors import compiled_for_version, playbook_for_deal
from lodestar.web.access import member_view
from lodestar.web.caching import note_write
from lodestar.web.criteria import (
    CHAT_SCREENSHOT_KIND,
    Control,
    DealFieldsForm,
    FieldInput,
    criterion_controls,
    deal_field_inputs,
    remedy_action,
    service_errors,
    types_text,
    with_posted,
)
from lodestar.web.labels import content_type_name

__all__ = [
    "criterion_contact",
    "criterion_event",
    "criterion_field",
    "criterion_upload",
    "deal_edit",
    "deal_fields",
]

# A moment a little ahead of the server's clock is a phone's clock running fast, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
# Where each event type keeps the words a person types for it (the timeline shows these keys);
# the others keep them under `text`.
NOTE_KEYS = {
    "call": "summary",
    "meeting.held": "topic",
    "email.sent": "subject",
    "email.received": "subject",
    "erp.order": "order_no",
    "approval.sealed": "approval_no",
    "doc.downloaded": "document",
}


def _playbook(deal: Opportunity) -> CompiledPlaybook | None:
    version = playbook_for_deal(deal)
    return compiled_for_version(version) if version is not None else None


def _gate(deal: Opportunity, now: dt.datetime) -> GateResult | None:
    try:
        return opportunity_gate(opportunity=deal, now=now)
    except ApplicationError:  # no published playbook, or a stage the playbook lost
        return None


def _error(message: str, details: list[str] | None = None) -> dict[str, Any]:
    return {"message": message, "details": details or []}


def _changed(request: AuthenticatedHttpRequest, response: HttpResponse, event: str) -> HttpResponse:
    """Tell the page what changed (see `views._deal_changed`); the user's kept pages are stale."""
    note_write(request)
    return trigger_client_event(response, event)


# --- the "Deal details" card -------------------------------------------------------------------


def _fields_context(deal: Opportunity, inputs: list[FieldInput], **extra: Any) -> dict[str, Any]:
    return {"deal": deal, "inputs": inputs, **extra}


@require_GET
@member_view
def deal_fields(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """The card, reloaded after a criterion's control set one of its fields."""
    deal = access_opportunity(user=request.user, opportunity_id=deal_id)
    compiled = _playbook(deal)
    inputs = deal_field_inputs(deal, compiled.playbook if compiled else None)
    return render(
        request,
        "web/partials/deal_fields.html",
        _fields_context(deal, inputs, can_write=_may_write(request)),
    )


def _may_write(request: AuthenticatedHttpRequest) -> bool:
    actor = actor_of(user=request.user)
    return bool(actor and actor.works_deals)


@require_POST
@member_view
def deal_edit(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Save every posted field in one `opportunity_update`: all of them or none."""
    deal = access_opportunity(user=request.user, opportunity_id=deal_id, for_write=True)
    compiled = _playbook(deal)
    inputs = deal_field_inputs(deal, compiled.playbook if compiled else None)
    form = DealFieldsForm(request.POST, inputs=inputs)
    if not form.is_valid():
        shown = with_posted(inputs, request.POST, form.errors_by_input())
        context = _fields_context(
            deal, shown, can_write=True, open=True, error=_error(_("Please check the form."))
        )
        return render(request, "web/partials/deal_fields.html", context, status=422)
    changes = form.changes(deal)
    if not changes:
        context = _fields_context(
            deal, inputs, can_write=True, ok_message=_("Nothing changed; nothing was saved.")
        )
        return render(request, "web/partials/deal_fields.html", context)
    try:
        with transaction.atomic():
            deal = opportunity_update(user=request.user, opportunity=deal, data=changes)
    except ApplicationError as exc:
        deal.refresh_from_db()
        errors = service_errors(exc.details)
        shown = with_posted(inputs, request.POST, errors)
        context = _fields_context(
            deal,
            shown,
            can_write=True,
            open=True,
            error=_error(str(exc.message), [m for ms in errors.values() for m in ms]),
        )
        return render(request, "web/partials/deal_fields.html", context, status=exc.status)
    inputs = deal_field_inputs(deal, compiled.playbook if compiled else None)
    response = render(
        request,
        "web/partials/deal_fields.html",
        _fields_context(deal, inputs, can_write=True, ok_message=_("Deal saved.")),
    )
    return _changed(request, response, f"deal-fields-{deal.pk}")


# --- the controls of the gate panel ------------------------------------------------------------


def _form_details(form: forms.Form) -> list[str]:
    """Each problem of `form`, named by its field's label where it has one."""
    return [
        f"{form.fields[name].label}: {message}"
        if name in form.fields and form.fields[name].label
        else str(message)
        for name, messages in form.errors.items()
        for message in messages
    ]


class _ControlForm(forms.Form):
    criterion = forms.CharField(max_length=100)
    index = forms.IntegerField(min_value=0, max_value=100)


def _control_of(
    deal: Opportunity, criterion: str, index: int, now: dt.datetime
) -> tuple[Control | None, Action | None]:
    """The control a page showed for action `index` of `criterion`, and that action, as the
    gate stands now (both None once the criterion is met)."""
    compiled = _playbook(deal)
    gate = _gate(deal, now)
    if compiled is None or gate is None:
        return None, None
    action = remedy_action(compiled, deal, gate, criterion, index)
    if action is None:
        return None, None
    contacts = list(Contact.objects.filter(account_id=deal.account_id).order_by("name", "pk"))
    controls = criterion_controls(deal=deal, playbook=compiled, gate=gate, contacts=contacts)
    found = controls.get(criterion)
    if found is None or index >= len(found.controls):
        return None, None
    return found.controls[index], action


def _render_control(
    request: AuthenticatedHttpRequest,
    deal: Opportunity,
    control: Control | None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {
        "deal": deal,
        "control": control,
        **extra,
    }
    return render(request, "web/partials/criterion_control.html", context, status=status)


def _already_met(request: AuthenticatedHttpRequest, deal: Opportunity) -> HttpResponse:
    response = _render_control(
        request, deal, None, ok_message=_("This criterion is met already; nothing was changed.")
    )
    return _changed(request, response, f"deal-changed-{deal.pk}")


def _locate(
    request: AuthenticatedHttpRequest, deal_id: int, expected: type[Action]
) -> tuple[Opportunity, Control | None, Action | None, HttpResponse | None]:
    """The deal (for writing), and the control and action the post names; or the answer to
    send at once (a malformed post, a criterion met meanwhile)."""
    deal = access_opportunity(user=request.user, opportunity_id=deal_id, for_write=True)
    which = _ControlForm(request.POST)
    if not which.is_valid():
        error = _error(_("This form is out of date; reload the page."))
        return deal, None, None, _render_control(request, deal, None, 422, error=error)
    control, action = _control_of(
        deal, which.cleaned_data["criterion"], which.cleaned_data["index"], timezone.now()
    )
    if control is None or action is None:
        return deal, None, None, _already_met(request, deal)
    if not isinstance(action, expected):  # posted to another control's address
        error = _error(_("This form is out of date; reload the page."))
        return deal, None, None, _render_control(request, deal, None, 422, error=error)
    return deal, control, action, None


@require_POST
@member_view
def criterion_field(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Set the field a criterion reads (or one a rule computed from fields reads)."""
    deal = access_opportunity(user=request.user, opportunity_id=deal_id, for_write=True)
    compiled = _playbook(deal)
    inputs = deal_field_inputs(deal, compiled.playbook if compiled else None)
    key = request.POST.get("field", "")
    chosen = [item for item in inputs if item.key == key]
    control = _field_control(deal, key)
    if not chosen:
        error = _error(_("This form is out of date; reload the page."))
        return _render_control(request, deal, control, 422, error=error)
    form = DealFieldsForm(request.POST, inputs=chosen)
    if not form.is_valid():
        return _render_control(
            request,
            deal,
            _with_field(control, with_posted(chosen, request.POST, form.errors_by_input())[0]),
            422,
            error=_error(_("Please check the value.")),
        )
    changes = form.changes(deal)
    if not changes:
        return _render_control(
            request, deal, control, ok_message=_("Nothing changed; nothing was saved.")
        )
    try:
        with transaction.atomic():
            opportunity_update(user=request.user, opportunity=deal, data=changes)
    except ApplicationError as exc:
        errors = service_errors(exc.details)
        shown = with_posted(chosen, request.POST, errors)[0]
        details = [m for ms in errors.values() for m in ms]
        return _render_control(
            request,
            deal,
            _with_field(control, shown),
            exc.status,
            error=_error(str(exc.message), details),
        )
    response = _render_control(
        request,
        deal,
        None,
        ok_message=_("%(field)s saved.") % {"field": chosen[0].label},
    )
    return _changed(request, response, f"deal-changed-{deal.pk}")


def _field_control(deal: Opportunity, key: str) -> Control | None:
    """The gate panel's control showing field `key` (to render it again with an error)."""
    compiled = _playbook(deal)
    gate = _gate(deal, timezone.now())
    if compiled is None or gate is None:
        return None
    contacts = list(Contact.objects.filter(account_id=deal.account_id))
    for found in criterion_controls(
        deal=deal, playbook=compiled, gate=gate, contacts=contacts
    ).values():
        for control in found.controls:
            if control.field is not None and control.field.key == key:
                return control
            for item in control.needs_fields:
                if item.key == key:
                    return Control(
                        "field", control.criterion, control.index, control.uid, field=item
                    )
    return None


def _with_field(control: Control | None, item: FieldInput) -> Control:
    if control is None:
        return Control("field", "", 0, f"field-{item.key}", field=item, title=item.label)
    return replace(control, kind="field", field=item)


class _UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))


@require_POST
@member_view
def criterion_upload(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """A file of the kind the criterion waits for, stored as every upload is."""
    deal, control, action, answer = _locate(request, deal_id, Upload)
    if answer is not None:
        return answer
    assert isinstance(action, Upload)
    form = _UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        error = _error(_("Choose a file to upload."))
        return _render_control(request, deal, control, 422, error=error)
    wrong = _wrong_type(form.cleaned_data["file"], action)
    if wrong:
        return _render_control(request, deal, control, 422, error=_error(wrong))
    try:
        uploaded = deal_file_upload(
            user=request.user,
            opportunity=deal,
            kind=action.kind,
            uploaded_file=form.cleaned_data["file"],
        )
    except ApplicationError as exc:
        error = _error(str(exc.message), [str(d.message) for d in exc.details])
        return _render_control(request, deal, control, exc.status, error=error)
    message = _("Uploaded %(name)s.") % {"name": uploaded.original_name}
    response = _render_control(request, deal, None, ok_message=message)
    return _changed(request, response, f"deal-changed-{deal.pk}")


def _wrong_type(uploaded: Any, action: Upload) -> str:
    """Why the file cannot satisfy the criterion's file types ("" when it can, or when the
    upload itself will explain what is wrong with it)."""
    if not action.types:
        return ""
    head = uploaded.read(MAX_UPLOAD_BYTES + 1)
    uploaded.seek(0)
    try:
        content_type = sniff(head)
    except Refused:
        return ""
    if content_type is None:
        return ""
    wanted = {CONTENT_TYPES.get(t.lower(), t.lower()) for t in action.types}
    if content_type in wanted:
        return ""
    return _("This criterion takes %(types)s; the file is a %(type)s.") % {
        "types": types_text(action.types),
        "type": content_type_name(content_type),
    }


class _EventForm(forms.Form):
    delivery_id = forms.CharField(max_length=64)
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("When"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
    )
    text = forms.CharField(label=gettext_lazy("Details"), max_length=4000, required=False)
    contact = forms.TypedChoiceField(
        label=gettext_lazy("Who"), coerce=int, required=False, empty_value=None
    )
    screenshot = forms.FileField(label=gettext_lazy("Screenshot"), required=False)

    def __init__(
        self,
        data: QueryDict,
        files: Any,
        *,
        action: RecordEvent,
        contacts: list[tuple[int, str]],
        now: dt.datetime,
    ) -> None:
        super().__init__(data, files)
        self.action, self.now = action, now
        self.fields["contact"].choices = [("", "—"), *contacts]  # type: ignore[attr-defined]
        if action.from_customer:
            self.fields["text"].required = True
            self.fields["text"].label = gettext_lazy("What the customer wrote")
            if contacts:
                self.fields["contact"].required = True

    def clean_occurred_at(self) -> dt.datetime:
        moment: dt.datetime = self.cleaned_data["occurred_at"]
        if moment > self.now + CLOCK_SKEW:
            raise forms.ValidationError(_("This moment is in the future; give when it happened."))
        if self.action.within is not None and moment < self.now - self.action.within:
            raise forms.ValidationError(
                _("The criterion counts only what happened since %(since)s.")
                % {
                    "since": timezone.localtime(self.now - self.action.within).strftime(
                        "%Y-%m-%d %H:%M"
                    )
                }
            )
        return moment

    def clean_text(self) -> str:
        text: str = self.cleaned_data.get("text", "").strip()
        phrase = self.action.text_contains
        if phrase and phrase not in text:
            raise forms.ValidationError(
                _(
                    "The criterion waits for a message containing “%(phrase)s”; paste the words "
                    "that say it."
                )
                % {"phrase": phrase}
            )
        return text


def _event_payload(
    action: RecordEvent, form: _EventForm, sender: Contact | None, attachment_id: int | None
) -> dict[str, Any]:
    payload: dict[str, Any] = dict(action.payload)
    text = form.cleaned_data.get("text") or ""
    if action.type == "chat.message" or action.from_customer:
        payload["text"] = text
    elif text:
        payload[NOTE_KEYS.get(action.type, "text")] = text
    if sender is not None:
        payload["sender"] = sender.name
    if attachment_id is not None:
        payload["attachment_id"] = attachment_id
    return payload


@require_POST
@member_view
def criterion_event(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Log the event a criterion waits for, e.g. the customer's "已确认" in chat: who said it,
    when, their words, and a screenshot kept as the evidence."""
    deal, control, action, answer = _locate(request, deal_id, RecordEvent)
    if answer is not None:
        return answer
    assert isinstance(action, RecordEvent)
    assert control is not None
    now = timezone.now()
    form = _EventForm(
        request.POST, request.FILES, action=action, contacts=list(control.contacts), now=now
    )
    if not form.is_valid():
        details = _form_details(form)
        error = _error(_("Please check the form."), details)
        return _render_control(request, deal, control, 422, error=error, posted=request.POST)
    contact_id = form.cleaned_data.get("contact")
    sender = access_contact(user=request.user, contact_id=contact_id) if contact_id else None
    try:
        with transaction.atomic():
            attachment_id = None
            if form.cleaned_data.get("screenshot"):
                attachment_id = deal_file_upload(
                    user=request.user,
                    opportunity=deal,
                    kind=CHAT_SCREENSHOT_KIND,
                    uploaded_file=form.cleaned_data["screenshot"],
                    now=now,
                ).pk
            report = events_ingest(
                user=request.user,
                items=[
                    {
                        "type": action.type,
                        "source": "web",
                        "external_id": form.cleaned_data["delivery_id"],
                        "occurred_at": form.cleaned_data["occurred_at"],
                        "opportunity_id": deal.pk,
                        "contact_id": contact_id,
                        "payload": _event_payload(action, form, sender, attachment_id),
                    }
                ],
                now=now,
            )
            item = report.items[0]
            if item.status == "rejected":
                raise ValidationFailed(
                    _("Not logged."),
                    details=[FieldError(d.field, f"{d.field}: {d.message}") for d in item.details],
                )
    except ApplicationError as exc:
        error = _error(str(exc.message), [str(d.message) for d in exc.details])
        return _render_control(request, deal, control, exc.status, error=error, posted=request.POST)
    message = _("Recorded: %(what)s.") % {"what": control.title}
    response = _render_control(request, deal, None, ok_message=message)
    return _changed(request, response, f"deal-changed-{deal.pk}")


class _ContactForm(forms.Form):
    contact = forms.TypedChoiceField(
        label=gettext_lazy("Contact"), coerce=int, required=False, empty_value=None
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    title = forms.CharField(label=gettext_lazy("Job title"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    role = forms.TypedChoiceField(
        label=gettext_lazy("Decision role"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, data: QueryDict, *, control: Control, action: AddContact) -> None:
        super().__init__(data)
        self.fields["contact"].choices = [("", "—"), *control.contacts]  # type: ignore[attr-defined]
        self.fields["role"].choices = [("", "—"), *control.roles]  # type: ignore[attr-defined]
        self.fields["role"].required = bool(action.roles)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("contact") and not (data.get("name") or "").strip():
            self.add_error("name", _("Pick a contact or give the new contact's name."))
        return data


@require_POST
@member_view
def criterion_contact(request: AuthenticatedHttpRequest, deal_id: int) -> HttpResponse:
    """Add a contact to the deal's account, or give an existing one the role counted."""
    deal, control, action, answer = _locate(request, deal_id, AddContact)
    if answer is not None:
        return answer
    assert isinstance(action, AddContact)
    assert control is not None
    form = _ContactForm(request.POST, control=control, action=action)
    if not form.is_valid():
        details = _form_details(form)
        error = _error(_("Please check the form."), details)
        return _render_control(request, deal, control, 422, error=error, posted=request.POST)
    data = form.cleaned_data
    role = data.get("role")
    try:
        with transaction.atomic():
            if data.get("contact"):
                contact = access_contact(
                    user=request.user, contact_id=data["contact"], for_write=True
                )
                changes: dict[str, Any] = {"decision_role_id": role}
                if action.decision_maker:
                    changes["is_decision_maker"] = True
                contact = contact_update(user=request.user, contact=contact, data=changes)
            else:
                contact = contact_create(
                    user=request.user,
                    account_id=deal.account_id,
                    name=data["name"],
                    title=data.get("title") or "",
                    phone=data.get("phone") or "",
                    decision_role_id=role,
                    is_decision_maker=action.decision_maker,
                )
    except ApplicationError as exc:
        error = _error(str(exc.message), [str(d.message) for d in exc.details])
        return _render_control(request, deal, control, exc.status, error=error, posted=request.POST)
    response = _render_control(
        request, deal, None, ok_message=_("%(name)s saved.") % {"name": contact.name}
    )
    return _changed(request, response, f"deal-changed-{deal.pk}")
