"""Input parsing of the record pages: quick add, accounts and contacts.

Forms only parse and shape input (types, lengths, dates); the services judge it. A service's
problem names an input field (`deal.amount`, `account.name`, `deal.custom_fields.signer`);
`attach_problems` puts it under the form field it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lodestar.core.playbook.model import (
    AllCriterion,
    AnyCriterion,
    Criterion,
    FieldCriterion,
    FieldDef,
    NotCriterion,
    Playbook,
)
from lodestar.crm.models import AccountTier, DecisionRole
from lodestar.crm.quick_add import NewAccount, NewContact, QuickAdd
from lodestar.errors import FieldError
from lodestar.i18n import localized, speaks_chinese

__all__ = [
    "AccountForm",
    "ContactForm",
    "QuickAddForm",
    "SearchForm",
    "attach_problems",
    "custom_field_defs",
]

CUSTOM_PREFIX = "cf_"
NEW_CONTACT = "new"


class DateInput(forms.DateInput):
    input_type = "date"


class _RecordForm(forms.Form):
    """Labels stand above their fields on a phone: no colon after them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _money_field(label: Any, *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


def _role_choices(roles: Iterable[DecisionRole]) -> list[tuple[str, str]]:
    chinese = speaks_chinese()
    return [
        ("", "—"),
        *((str(r.pk), r.name_zh if chinese or not r.name_en else r.name_en) for r in roles),
    ]


def _criterion_fields(criteria: Iterable[Criterion]) -> set[str]:
    names: set[str] = set()
    for criterion in criteria:
        if isinstance(criterion, FieldCriterion):
            names.add(criterion.field)
        elif isinstance(criterion, AllCriterion):
            names |= _criterion_fields(criterion.all)
        elif isinstance(criterion, AnyCriterion):
            names |= _criterion_fields(criterion.any)
        elif isinstance(criterion, NotCriterion):
            names |= _criterion_fields([criterion.not_])
    return names


def custom_field_defs(playbook: Playbook | None, stage_key: str | None) -> list[FieldDef]:
    """The playbook's custom fields a deal needs before it leaves `stage_key`: those required
    to exit it, and those its exit criteria compare."""
    if playbook is None or stage_key is None:
        return []
    try:
        compared = _criterion_fields(playbook.stage(stage_key).exit)
    except KeyError:
        compared = set()
    return [f for f in playbook.fields if stage_key in f.required_to_exit or f.key in compared]


def _custom_form_field(definition: FieldDef, playbook: Playbook) -> forms.Field:
    label = localized(definition.name)
    help_text = localized(definition.help) if definition.help else ""
    common: dict[str, Any] = {"label": label, "required": False, "help_text": help_text}
    kind = definition.type
    if kind in ("number", "money"):
        return forms.DecimalField(
            **common, max_digits=20, widget=forms.NumberInput(attrs={"inputmode": "decimal"})
        )
    if kind == "date":
        return forms.DateField(**common, widget=DateInput())
    if kind == "boolean":
        return forms.BooleanField(**common)
    choices = [(c.key, localized(c.name)) for c in definition.choices]
    if kind == "contact_role" and not choices:
        choices = [(c.key, localized(c.name)) for c in playbook.contact_roles]
    if kind == "choice" or kind == "contact_role":
        return forms.ChoiceField(**common, choices=[("", "—"), *choices])
    if kind == "multi_choice":
        return forms.MultipleChoiceField(
            **common, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    return forms.CharField(**common, max_length=500)


class QuickAddForm(_RecordForm):
    """A deal, its account (chosen or new) and a contact (chosen, new or none)."""

    account_id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    account_name = forms.CharField(label=_("Account"), max_length=200, required=False)
    account_industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    account_region = forms.CharField(label=_("Region"), max_length=100, required=False)
    allow_duplicate = forms.BooleanField(
        label=_("This is a different customer: create it anyway"), required=False
    )
    contact_choice = forms.ChoiceField(
        label=_("Contact"), required=False, choices=(), widget=forms.RadioSelect
    )
    contact_name = forms.CharField(label=_("Name"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("Title"), max_length=100, required=False)
    contact_phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    contact_role = forms.ChoiceField(label=_("Decision-chain role"), required=False, choices=())
    name = forms.CharField(label=_("Deal name"), max_length=200)
    amount = _money_field(_("Amount (¥)"))
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=DateInput()
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=())

    def __init__(
        self,
        *args: Any,
        playbook: Playbook | None,
        stages: Sequence[tuple[str, str]],
        roles: Iterable[DecisionRole],
        contacts: Iterable[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.playbook = playbook
        fields = self.fields
        stage_field = fields["stage"]
        assert isinstance(stage_field, forms.ChoiceField)
        stage_field.choices = list(stages)
        if stages:
            stage_field.initial = stages[0][0]
        role_field = fields["contact_role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = _role_choices(roles)
        choice_field = fields["contact_choice"]
        assert isinstance(choice_field, forms.ChoiceField)
        choice_field.choices = [
            ("", _("No contact for now")),
            (NEW_CONTACT, _("A new contact")),
            *((str(pk), name) for pk, name in contacts),
        ]
        choice_field.initial = NEW_CONTACT
        self.custom_keys: list[str] = []
        first = stages[0][0] if stages else None
        for definition in custom_field_defs(playbook, first):
            if playbook is None:  # for mypy: custom_field_defs gave none then
                break
            fields[CUSTOM_PREFIX + definition.key] = _custom_form_field(definition, playbook)
            self.custom_keys.append(definition.key)

    @property
    def custom_fields_bound(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + key] for key in self.custom_keys]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("account_id") and not (data.get("account_name") or "").strip():
            self.add_error(
                "account_name", _("Choose an existing account or type the name of a new one.")
            )
        details_only = not data.get("contact_name") and any(
            data.get(f) for f in ("contact_title", "contact_phone", "contact_role")
        )
        if data.get("contact_choice") == NEW_CONTACT and details_only:
            self.add_error("contact_name", _("Give the contact's name, or choose no contact."))
        return data

    def _custom_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in self.custom_keys:
            value = self.cleaned_data.get(CUSTOM_PREFIX + key)
            if value is None or value == "" or value == [] or value is False:
                continue
            if isinstance(value, Decimal):
                value = str(value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            values[key] = value
        return values

    def entry(self) -> QuickAdd:
        data = self.cleaned_data
        account_id = data.get("account_id")
        contact = None
        if data.get("contact_choice") == NEW_CONTACT and data.get("contact_name"):
            role = data.get("contact_role")
            contact = NewContact(
                name=data["contact_name"],
                title=data.get("contact_title") or "",
                phone=data.get("contact_phone") or "",
                decision_role_id=int(role) if role else None,
            )
        return QuickAdd(
            deal_name=data["name"],
            account_id=account_id,
            new_account=None
            if account_id
            else NewAccount(
                name=data.get("account_name") or "",
                industry=data.get("account_industry") or "",
                region=data.get("account_region") or "",
            ),
            contact=contact,
            amount=data.get("amount") or Decimal("0"),
            expected_close_date=data.get("expected_close_date"),
            stage_key=data.get("stage") or None,
            custom_fields=self._custom_values(),
            allow_duplicate=bool(data.get("allow_duplicate")),
        )


# Service field names → the quick-add form's fields.
QUICK_ADD_FIELDS = {
    "account.name": "account_name",
    "account.id": "account_name",
    "account.industry": "account_industry",
    "account.region": "account_region",
    "contact.name": "contact_name",
    "contact.title": "contact_title",
    "contact.phone": "contact_phone",
    "contact.decision_role_id": "contact_role",
    "deal.name": "name",
    "deal.amount": "amount",
    "deal.expected_close_date": "expected_close_date",
    "deal.stage_key": "stage",
}


def attach_problems(form: forms.Form, details: Iterable[FieldError], names: dict[str, str]) -> None:
    """Show each service problem under its form field (else at the top of the form)."""
    for detail in details:
        name = names.get(detail.field)
        if name is None and ".custom_fields." in f".{detail.field}":
            name = CUSTOM_PREFIX + detail.field.rsplit("custom_fields.", 1)[1]
        if name is None:
            name = detail.field if detail.field in form.fields else None
        if name is not None and name in form.fields:
            form.add_error(name, str(detail.message))
        else:
            form.add_error(None, str(detail.message))


class AccountForm(_RecordForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=AccountTier.choices)
    external_ref = forms.CharField(label=_("External reference"), max_length=100, required=False)
    allow_duplicate = forms.BooleanField(
        label=_("This is a different customer: save it anyway"), required=False
    )

    def values(self) -> dict[str, Any]:
        keys = ("name", "industry", "region", "tier", "external_ref")
        return {key: self.cleaned_data[key] for key in keys}


class ContactForm(_RecordForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Title"), max_length=100, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    decision_role = forms.ChoiceField(label=_("Decision-chain role"), required=False, choices=())
    is_decision_maker = forms.BooleanField(label=_("Decision maker"), required=False)

    def __init__(self, *args: Any, roles: Iterable[DecisionRole], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["decision_role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = _role_choices(roles)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        role = data.get("decision_role")
        return {
            "name": data["name"],
            "title": data.get("title") or "",
            "phone": data.get("phone") or "",
            "email": data.get("email") or "",
            "decision_role_id": int(role) if role else None,
            "is_decision_maker": bool(data.get("is_decision_maker")),
        }


# Service field names → the contact form's fields.
CONTACT_FIELDS = {"decision_role_id": "decision_role"}


class SearchForm(_RecordForm):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
