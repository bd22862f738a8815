"""What the deal page offers next to each unmet exit criterion: the control that satisfies it.

`lodestar.core.rules.remedies` says, for each unmet criterion, which action satisfies it (set a
field, upload a file of a kind, record an event, add a contact). This module turns those into
what a page renders — inputs with the field's type, its choices in the reader's language and
the deal's current value; the upload with the kind preselected and the allowed types stated;
the "record the customer's confirmation" form with the account's contacts — and into the forms
that parse them (`DealFieldsForm`). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from lodestar.core.playbook.model import FieldDef, Playbook
from lodestar.core.rules import CompiledPlaybook, GateResult
from lodestar.core.rules.remedies import (
    Action,
    AddContact,
    RecordEvent,
    Remedy,
    SetField,
    Upload,
    remedies_for,
)
from lodestar.core.rules.scope import CONTENT_TYPES
from lodestar.crm.models import Contact, DecisionRole, Opportunity
from lodestar.i18n import localized
from lodestar.web.forms import new_delivery_id
from lodestar.web.readable import local_date
from lodestar.web.templatetags.lodestar_web import money

__all__ = [
    "BUILTIN_INPUTS",
    "CHAT_SCREENSHOT_KIND",
    "Control",
    "CriterionControls",
    "DealFieldsForm",
    "FieldInput",
    "criterion_controls",
    "deal_field_inputs",
    "remedy_action",
    "types_text",
]

# The kind a screenshot of the customer's chat is kept under (evidence of a confirmation).
CHAT_SCREENSHOT_KIND = "chat_screenshot"
# The deal's own fields a rep edits, in the order the form shows them.
BUILTIN_INPUTS = ("name", "amount", "currency", "expected_close_date")
# Custom fields are posted under a prefix, so a playbook key never meets a built-in name.
CUSTOM_PREFIX = "cf_"
# Files the upload understands (`crm.attachments.SUPPORTED_TYPES`), as the file picker asks.
DEFAULT_ACCEPT = "application/pdf,image/jpeg,image/png,.docx,.txt"


def _builtin_label(key: str) -> str:
    return str(
        {
            "name": _("Deal name"),
            "amount": _("Amount"),
            "currency": _("Currency"),
            "expected_close_date": _("Expected close date"),
        }[key]
    )


@dataclass(frozen=True)
class FieldInput:
    """One input for a deal field, as the page renders it."""

    key: str  # custom field key, or a built-in: name, amount, currency, expected_close_date
    type: str  # text, number, money, date, boolean, choice, multi_choice, contact_role
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    value: Any = ""  # as the input shows it: text, or a list of keys for multi_choice
    display: str = ""  # as a person reads it ("" when not set)
    minimum: str = ""
    maximum: str = ""
    help: str = ""
    errors: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.key if self.key in BUILTIN_INPUTS else f"{CUSTOM_PREFIX}{self.key}"

    @property
    def custom(self) -> bool:
        return self.key not in BUILTIN_INPUTS


def _shown(value: Any, definition: FieldDef | None, roles: Mapping[str, str]) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if definition is not None and definition.type in ("choice", "multi_choice", "contact_role"):
        names = {c.key: localized(c.name) for c in definition.choices} or dict(roles)
        items = value if isinstance(value, list) else [value]
        return "、".join(names.get(str(item), str(item)) for item in items)
    if definition is not None and definition.type == "date":
        return local_date(str(value))  # in the locale's format, as every page shows a date
    if definition is not None and definition.type == "money":
        return money(value)
    return str(value)


def _input_value(value: Any, kind: str) -> Any:
    if value is None:
        return [] if kind == "multi_choice" else ""
    if kind == "boolean":
        return "yes" if value is True else "no" if value is False else ""
    if kind == "multi_choice":
        return [str(v) for v in value] if isinstance(value, list) else []
    return str(value)


def _role_names(playbook: Playbook) -> dict[str, str]:
    return {role.key: localized(role.name) for role in playbook.contact_roles}


def _custom_input(
    definition: FieldDef, stored: Mapping[str, Any], roles: Mapping[str, str]
) -> FieldInput:
    if definition.type in ("choice", "multi_choice") or definition.choices:
        choices = tuple((c.key, localized(c.name)) for c in definition.choices)
    elif definition.type == "contact_role":
        choices = tuple(roles.items())
    else:
        choices = ()
    value = stored.get(definition.key)
    return FieldInput(
        key=definition.key,
        type=definition.type,
        label=localized(definition.name),
        choices=choices,
        value=_input_value(value, definition.type),
        display=_shown(value, definition, roles),
        help=localized(definition.help) if definition.help else "",
    )


def _builtin_input(deal: Opportunity, key: str) -> FieldInput:
    value = getattr(deal, key)
    kind = {"amount": "money", "expected_close_date": "date"}.get(key, "text")
    shown = value.isoformat() if isinstance(value, dt.date) else ("" if value is None else value)
    display = str(shown)
    if isinstance(value, dt.date):
        display = local_date(value)
    elif key == "amount" and value is not None:
        display = money(value, deal.currency)
    return FieldInput(
        key=key,
        type=kind,
        label=_builtin_label(key),
        value=str(shown),
        display=display,
        minimum="0" if key == "amount" else "",
    )


def deal_field_inputs(deal: Opportunity, playbook: Playbook | None) -> list[FieldInput]:
    """Every field of the deal a rep edits: its own, then the playbook's custom fields."""
    inputs = [_builtin_input(deal, key) for key in BUILTIN_INPUTS]
    if playbook is not None:
        roles = _role_names(playbook)
        inputs += [_custom_input(d, deal.custom_fields, roles) for d in playbook.fields]
    return inputs


def with_posted(
    inputs: Iterable[FieldInput], data: Mapping[str, Any], errors: Mapping[str, Sequence[str]]
) -> list[FieldInput]:
    """The inputs showing what was posted (and their errors) instead of the stored values."""
    shown = []
    for item in inputs:
        if item.name in data:
            getter = getattr(data, "getlist", None)
            posted: Any = (
                getter(item.name) if item.type == "multi_choice" and getter else data[item.name]
            )
            item = replace(item, value=posted)
        shown.append(replace(item, errors=tuple(errors.get(item.name, ()))))
    return shown


# --- the controls of the gate panel -------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One control next to an unmet criterion. `kind` says which of the parts is set."""

    kind: str  # field, upload, event, contact, needs
    criterion: str
    index: int  # the action's position in the criterion's remedy
    uid: str  # unique on the page: element ids
    field: FieldInput | None = None
    upload: Upload | None = None
    event: RecordEvent | None = None
    contact: AddContact | None = None
    needs: str = ""  # why nothing on the page satisfies it at once
    needs_fields: tuple[FieldInput, ...] = ()
    title: str = ""  # what the control does, e.g. "Upload: Signed quote"
    requirement: str = ""  # what it must be: "PDF or JPG", "at least 300 characters" …
    accept: str = DEFAULT_ACCEPT
    phrase: str = ""  # the words the customer's message must contain
    contacts: tuple[tuple[int, str], ...] = ()
    roles: tuple[tuple[int, str], ...] = ()
    now_local: str = ""  # an event's "when", preset to the moment the page is shown
    delivery_id: str = ""  # an event's id: the form sent twice is logged once


@dataclass(frozen=True)
class CriterionControls:
    """The controls of one unmet criterion: each needed, or (`any_of`) any one enough."""

    controls: tuple[Control, ...]
    any_of: bool = False


def _accept(types: Sequence[str]) -> str:
    if not types:
        return DEFAULT_ACCEPT
    accepted: list[str] = []
    for name in types:
        lowered = name.lower()
        mime = CONTENT_TYPES.get(lowered, lowered if "/" in lowered else "")
        for each in (mime, f".{lowered}" if "/" not in lowered else ""):
            if each and each not in accepted:
                accepted.append(each)
    return ",".join(accepted)


def types_text(types: Sequence[str]) -> str:
    return gettext(" or ").join(t.upper() for t in types) if types else ""


def _upload_requirement(action: Upload) -> str:
    parts = []
    if action.types:
        parts.append(gettext("File type: %(types)s") % {"types": types_text(action.types)})
    if action.min_chars:
        parts.append(gettext("at least %(n)d characters of text") % {"n": action.min_chars})
    if action.at_least > 1:
        parts.append(gettext("%(n)d files") % {"n": action.at_least})
    return "; ".join(parts)


def _set_field_input(action: SetField, deal: Opportunity, playbook: Playbook) -> FieldInput:
    if action.custom:
        definition = playbook.field_def(action.field)
        assert definition is not None  # the remedy came from the playbook's own fields
        item = _custom_input(definition, deal.custom_fields, _role_names(playbook))
    else:
        item = _builtin_input(deal, action.field.removeprefix("deal."))
    if action.choices:
        item = replace(item, choices=tuple((k, localized(v)) for k, v in action.choices))
    if action.value is not None and item.value in ("", []):
        item = replace(item, value=_input_value(action.value, item.type))

    def shown(limit: int | float | dt.date | None, default: str) -> str:
        if limit is None:
            return default
        return limit.isoformat() if isinstance(limit, dt.date) else str(limit)

    return replace(
        item,
        minimum=shown(action.minimum, item.minimum),
        maximum=shown(action.maximum, item.maximum),
    )


_NEEDS_TEXT = {
    "cel": _(
        "This rule is computed from the deal's fields; set the fields below so that it holds."
    ),
    "not": _("This rule is met when the deal does not have what it names; change that first."),
    "account": _("This rule reads the account's details; ask your manager or ops to update them."),
    "deal": _("This rule reads the deal's stage or status, which moves with the stage actions."),
    "attended": _(
        "Log a meeting on this page (under “Log what happened”) with those contacts attending."
    ),
    "count": _(
        "This rule counts activity on the deal; keep logging calls, meetings and files until "
        "the count is reached."
    ),
    "unknown": _("Ask ops what this rule needs; the page has no control for it."),
}


def _control(
    criterion: str,
    index: int,
    action: Action,
    *,
    deal: Opportunity,
    playbook: Playbook,
    contacts: Sequence[Contact],
    roles: Sequence[DecisionRole],
) -> Control:
    uid = f"{criterion}-{index}"
    if isinstance(action, SetField):
        item = _set_field_input(action, deal, playbook)
        return Control("field", criterion, index, uid, field=item, title=item.label)
    if isinstance(action, Upload):
        return Control(
            "upload",
            criterion,
            index,
            uid,
            upload=action,
            title=localized(action.kind_name),
            requirement=_upload_requirement(action),
            accept=_accept(action.types),
        )
    if isinstance(action, RecordEvent):
        people = tuple((c.pk, c.name) for c in contacts)
        return Control(
            "event",
            criterion,
            index,
            uid,
            event=action,
            title=localized(action.type_name),
            phrase=action.text_contains or "",
            contacts=people,
            now_local=now_local_input(timezone.now()),
            delivery_id=new_delivery_id(),
        )
    if isinstance(action, AddContact):
        wanted = {key for key, _name in action.roles}
        offered = tuple(
            (role.pk, role.name_zh if _is_chinese() else role.name_en or role.name_zh)
            for role in roles
            if not wanted or role.key in wanted
        )
        return Control(
            "contact",
            criterion,
            index,
            uid,
            contact=action,
            contacts=tuple((c.pk, c.name) for c in contacts),
            roles=offered,
        )
    fields = tuple(_set_field_input(f, deal, playbook) for f in action.fields)
    return Control(
        "needs",
        criterion,
        index,
        uid,
        needs=str(_NEEDS_TEXT[action.reason]),
        needs_fields=fields,
    )


def _is_chinese() -> bool:
    return (get_language() or "").startswith("zh")


def criterion_controls(
    *,
    deal: Opportunity,
    playbook: CompiledPlaybook | None,
    gate: GateResult | None,
    contacts: Sequence[Contact],
) -> dict[str, CriterionControls]:
    """The controls of each unmet criterion of the deal's gate, by criterion id."""
    if playbook is None or gate is None or gate.passed:
        return {}
    remedies = remedies_for(playbook.playbook, deal.stage_key, gate)
    roles = list(DecisionRole.objects.filter(organization_id=deal.organization_id))
    return {
        cid: CriterionControls(
            tuple(
                _control(
                    cid,
                    index,
                    action,
                    deal=deal,
                    playbook=playbook.playbook,
                    contacts=contacts,
                    roles=roles,
                )
                for index, action in enumerate(remedy.actions)
            ),
            any_of=remedy.any_of,
        )
        for cid, remedy in remedies.items()
    }


def remedy_action(
    playbook: CompiledPlaybook, deal: Opportunity, gate: GateResult, criterion: str, index: int
) -> Action | None:
    """The action `index` of the remedy of unmet `criterion` (None once it is met)."""
    remedy: Remedy | None = remedies_for(playbook.playbook, deal.stage_key, gate).get(criterion)
    if remedy is None or not 0 <= index < len(remedy.actions):
        return None
    return remedy.actions[index]


# --- the form that parses deal fields ----------------------------------------------------------


_YES_NO = (("", "—"), ("yes", _("Yes")), ("no", _("No")))


def _form_field(item: FieldInput) -> forms.Field:
    label = item.label
    if item.key == "name":
        return forms.CharField(label=label, max_length=200)
    if item.key == "amount":
        return forms.DecimalField(label=label, min_value=0, max_digits=14, decimal_places=2)
    if item.key == "currency":
        return forms.RegexField(
            label=label,
            regex=r"^[A-Za-z]{3}$",
            error_messages={"invalid": _("Use a three-letter ISO 4217 code such as CNY.")},
        )
    if item.type in ("number", "money"):
        return forms.DecimalField(label=label, required=False, max_digits=20, decimal_places=6)
    if item.type == "date":
        return forms.DateField(label=label, required=False)
    if item.type == "boolean":
        return forms.ChoiceField(label=label, required=False, choices=_YES_NO)
    if item.type == "multi_choice":
        return forms.MultipleChoiceField(label=label, required=False, choices=item.choices)
    if item.type in ("choice", "contact_role"):
        return forms.ChoiceField(label=label, required=False, choices=(("", "—"), *item.choices))
    return forms.CharField(label=label, required=False, max_length=2000)


def _stored(item: FieldInput, value: Any) -> Any:
    """A parsed value as the deal stores it (the JSON an API client would send)."""
    if value in (None, "", []):
        return None
    if item.type == "boolean":
        return value == "yes"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value


class DealFieldsForm(forms.Form):
    """The deal's fields as posted: all of them (the edit form) or a few (a criterion's
    control). `changes()` is what `opportunity_update` takes."""

    def __init__(self, data: Any, *, inputs: Sequence[FieldInput]) -> None:
        super().__init__(data)
        self.inputs = {item.name: item for item in inputs}
        for name, item in self.inputs.items():
            self.fields[name] = _form_field(item)

    def changes(self, deal: Opportunity) -> dict[str, Any]:
        """What differs from `deal`'s stored values, as `opportunity_update` takes it (so the
        audit names only what was changed)."""
        changes: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for name, item in self.inputs.items():
            value = self.cleaned_data.get(name)
            if item.custom:
                stored = _stored(item, value)
                if stored != deal.custom_fields.get(item.key):
                    custom[item.key] = stored
                continue
            if item.key == "currency":
                value = str(value).upper()
            if value != getattr(deal, item.key):
                changes[item.key] = value
        if custom:
            changes["custom_fields"] = custom
        return changes

    def errors_by_input(self) -> dict[str, list[str]]:
        return {name: [str(m) for m in messages] for name, messages in self.errors.items()}


def service_errors(details: Iterable[Any]) -> dict[str, list[str]]:
    """A service's field errors (`custom_fields.x`, `amount`) by the input that shows them."""
    found: dict[str, list[str]] = {}
    for detail in details:
        name = str(detail.field or "")
        if name.startswith("custom_fields."):
            name = CUSTOM_PREFIX + name.removeprefix("custom_fields.")
        found.setdefault(name, []).append(str(detail.message))
    return found


def now_local_input(now: dt.datetime) -> str:
    """`now` as a datetime-local input's value in the active time zone."""
    return timezone.localtime(now).strftime("%Y-%m-%dT%H:%M")
