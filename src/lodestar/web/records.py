"""The record pages: quick add of a deal, accounts and their contacts, and global search.

Each view parses its form, calls one selector or service, and renders; a refusal renders the
form again with each problem under its field (status 422 or the service's own), and nothing
is stored. Reads go through the scopes of `lodestar.crm.selectors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from lodestar.core.playbook.model import Playbook
from lodestar.crm.models import Account, Contact, DecisionRole
from lodestar.crm.quick_add import deal_quick_add
from lodestar.crm.search import (
    DuplicateAccount,
    SearchResults,
    account_duplicates,
    account_search,
    record_search,
)
from lodestar.crm.search_keys import query_key
from lodestar.crm.selectors import (
    OpportunityFilters,
    access_account,
    access_contact,
    account_scope,
    opportunity_list,
)
from lodestar.crm.services import account_create, account_update, contact_create, contact_update
from lodestar.errors import ApplicationError, PermissionDenied, ValidationFailed
from lodestar.i18n import localized
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import Actor, actor_of
from lodestar.playbooks.selectors import published_playbook
from lodestar.web.access import member_view
from lodestar.web.caching import note_write
from lodestar.web.paging import page_of_rows
from lodestar.web.record_forms import (
    CONTACT_FIELDS,
    NEW_CONTACT,
    QUICK_ADD_FIELDS,
    AccountForm,
    ContactForm,
    QuickAddForm,
    SearchForm,
    attach_problems,
)

ACCOUNTS_PER_PAGE = 25
SUGGESTIONS = 8
DEALS_ON_ACCOUNT = 50


def _actor(request: AuthenticatedHttpRequest) -> Actor:
    actor = actor_of(user=request.user)
    if actor is None:  # member_view has already refused users without a membership
        raise PermissionDenied()
    return actor


def _require_deal_worker(request: AuthenticatedHttpRequest) -> Actor:
    actor = _actor(request)
    if not actor.works_deals:
        raise PermissionDenied(_("Your role may read accounts and deals but not create them."))
    return actor


def _roles(actor: Actor) -> QuerySet[DecisionRole]:
    return DecisionRole.objects.filter(organization_id=actor.organization_id)


# --- quick add ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestions:
    typed: str
    duplicates: list[DuplicateAccount]
    matches: list[Account]


def _playbook_of(actor: Actor) -> Playbook | None:
    compiled = published_playbook(organization_id=actor.organization_id, team_id=actor.team_id)
    return compiled.playbook if compiled is not None else None


def _working_stages(playbook: Playbook | None) -> list[tuple[str, str]]:
    if playbook is None:
        return []
    return [(s.key, localized(s.name)) for s in playbook.stages if s.terminal is None]


def _chosen_account(request: AuthenticatedHttpRequest, raw: str | None) -> Account | None:
    """The account the form works on (`?account=` or the posted `account_id`), if readable."""
    if not raw or not raw.isdigit():
        return None
    return account_scope(actor=actor_of(user=request.user)).filter(pk=int(raw)).first()


def _quick_add_form(actor: Actor, account: Account | None, data: Any = None) -> QuickAddForm:
    playbook = _playbook_of(actor)
    contacts = (
        [(c.pk, f"{c.name} · {c.title}" if c.title else c.name) for c in account.contacts.all()]
        if account is not None
        else []
    )
    initial = {"account_id": account.pk} if account is not None else {}
    return QuickAddForm(
        data,
        initial=initial,
        playbook=playbook,
        stages=_working_stages(playbook),
        roles=_roles(actor),
        contacts=contacts,
    )


def _quick_add_page(
    request: AuthenticatedHttpRequest,
    form: QuickAddForm,
    account: Account | None,
    *,
    duplicates: list[DuplicateAccount] | None = None,
    status: int = 200,
) -> HttpResponse:
    typed = (form.data.get("account_name") or "") if form.is_bound else ""
    context = {
        "form": form,
        "account": account,
        "duplicates": duplicates or [],
        "suggestions": Suggestions(typed=str(typed), duplicates=duplicates or [], matches=[]),
        "new_contact": NEW_CONTACT,
        "has_playbook": form.playbook is not None,
    }
    return render(request, "web/deal_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_view
def deal_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Quick add: a deal with its account and contact found or created, from the phone."""
    actor = _require_deal_worker(request)
    if request.method == "GET":
        account = _chosen_account(request, request.GET.get("account"))
        return _quick_add_page(request, _quick_add_form(actor, account), account)
    account = _chosen_account(request, request.POST.get("account_id"))
    form = _quick_add_form(actor, account, request.POST)
    duplicates: list[DuplicateAccount] = []
    if not form.is_valid():
        return _quick_add_page(request, form, account, status=422)
    try:
        added = deal_quick_add(user=request.user, entry=form.entry())
    except ApplicationError as exc:
        attach_problems(form, exc.details, QUICK_ADD_FIELDS)
        if not exc.details:
            form.add_error(None, str(exc.message))
        if account is None and any(d.field == "account.name" for d in exc.details):
            typed = request.POST.get("account_name", "")[:200]
            duplicates = account_duplicates(user=request.user, name=typed)
        return _quick_add_page(request, form, account, duplicates=duplicates, status=exc.status)
    note_write(request)
    messages.success(
        request,
        _("Deal “%(deal)s” created for %(account)s.")
        % {"deal": added.deal.name, "account": added.account.name},
    )
    return redirect("web:deal", added.deal.pk)


def _suggestions(request: AuthenticatedHttpRequest, typed: str) -> Suggestions:
    duplicates = account_duplicates(user=request.user, name=typed)
    seen = {d.account.pk for d in duplicates if d.account is not None}
    matches = (
        list(account_search(user=request.user, q=typed).exclude(pk__in=seen)[:SUGGESTIONS])
        if query_key(typed)
        else []
    )
    return Suggestions(typed=typed, duplicates=duplicates, matches=matches)


@require_GET
@member_view
def account_suggest(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The type-ahead under the account field: possible duplicates first, then other matches."""
    _require_deal_worker(request)
    typed = request.GET.get("account_name", "")[:200]
    return render(
        request,
        "web/partials/account_suggest.html",
        {"suggest": _suggestions(request, typed), "pick_url_name": "web:deal-new"},
    )


# --- accounts ----------------------------------------------------------------------------------


@require_GET
@member_view
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = SearchForm(request.GET)
    q = form.cleaned_data.get("q") or "" if form.is_valid() else ""
    page, pager_query = page_of_rows(
        request, account_search(user=request.user, q=q), ACCOUNTS_PER_PAGE
    )
    return render(
        request,
        "web/accounts.html",
        {
            "page": page,
            "pager_query": pager_query,
            "q": q,
            "form": form,
            "can_create": actor.works_deals,
        },
    )


def _may(check: Any) -> bool:
    try:
        check()
    except ApplicationError:  # PermissionDenied, NotFound
        return False
    return True


@require_GET
@member_view
def account_detail(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = access_account(user=request.user, account_id=account_id)
    actor = _actor(request)
    contacts = list(account.contacts.select_related("decision_role"))
    deals = opportunity_list(
        user=request.user, filters=OpportunityFilters(account_id=account.pk)
    ).order_by("status", "-created_at", "-id")
    context = {
        "account": account,
        "contacts": contacts,
        "deals": list(deals[:DEALS_ON_ACCOUNT]),
        "deal_count": deals.count(),
        "can_edit": _may(
            lambda: access_account(user=request.user, account_id=account.pk, for_write=True)
        ),
        "can_add": actor.works_deals,
    }
    return render(request, "web/account.html", context)


def _form_page(
    request: AuthenticatedHttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, context, status=status)


def _save_account(
    request: AuthenticatedHttpRequest, form: AccountForm, account: Account | None
) -> tuple[Account | None, list[DuplicateAccount]]:
    """Create or change the account; (None, duplicates) when the form is sent back."""
    values = form.values()
    if not form.cleaned_data.get("allow_duplicate") and (
        account is None or values["name"] != account.name
    ):
        duplicates = account_duplicates(
            user=request.user,
            name=values["name"],
            exclude_id=account.pk if account is not None else None,
        )
        if duplicates:
            form.add_error(
                "name",
                _(
                    "Possible duplicate: %(names)s. Use the existing account, or confirm that "
                    "this is a different customer."
                )
                % {"names": "、".join(d.name for d in duplicates)},
            )
            return None, duplicates
    try:
        if account is None:
            saved = account_create(user=request.user, **values)
        else:
            saved = account_update(user=request.user, account=account, data=values)
    except ValidationFailed as exc:
        attach_problems(form, exc.details, {})
        return None, []
    return saved, []


def _account_form(
    request: AuthenticatedHttpRequest,
    account: Account | None,
    initial: dict[str, Any],
    done: str,
) -> HttpResponse:
    """The account form for a new account (`account` None) or an edit; `done` words the
    success with the saved name."""
    form = AccountForm(request.POST if request.method == "POST" else None, initial=initial)
    context: dict[str, Any] = {"form": form, "account": account}
    if request.method == "GET":
        return _form_page(request, "web/account_form.html", context)
    if not form.is_valid():
        return _form_page(request, "web/account_form.html", context, status=422)
    saved, duplicates = _save_account(request, form, account)
    if saved is None:
        context["duplicates"] = duplicates
        return _form_page(request, "web/account_form.html", context, status=422)
    note_write(request)
    messages.success(request, done % {"name": saved.name})
    return redirect("web:account", saved.pk)


@require_http_methods(["GET", "POST"])
@member_view
def account_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_deal_worker(request)
    return _account_form(request, None, {}, _("Account “%(name)s” created."))


@require_http_methods(["GET", "POST"])
@member_view
def account_edit(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = access_account(user=request.user, account_id=account_id, for_write=True)
    initial = {
        "name": account.name,
        "industry": account.industry,
        "region": account.region,
        "tier": account.tier,
        "external_ref": account.external_ref,
    }
    return _account_form(request, account, initial, _("Account “%(name)s” saved."))


# --- contacts ----------------------------------------------------------------------------------


def _contact_page(
    request: AuthenticatedHttpRequest,
    form: ContactForm,
    account: Account,
    contact: Contact | None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "account": account, "contact": contact}
    return render(request, "web/contact_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_view
def contact_new(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    actor = _require_deal_worker(request)
    account = access_account(user=request.user, account_id=account_id)
    form = ContactForm(request.POST if request.method == "POST" else None, roles=_roles(actor))
    if request.method == "GET":
        return _contact_page(request, form, account, None)
    if not form.is_valid():
        return _contact_page(request, form, account, None, status=422)
    try:
        contact = contact_create(user=request.user, account_id=account.pk, **form.values())
    except ValidationFailed as exc:
        attach_problems(form, exc.details, CONTACT_FIELDS)
        return _contact_page(request, form, account, None, status=exc.status)
    note_write(request)
    messages.success(request, _("Contact “%(name)s” added.") % {"name": contact.name})
    return redirect("web:account", account.pk)


@require_http_methods(["GET", "POST"])
@member_view
def contact_edit(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = access_contact(user=request.user, contact_id=contact_id, for_write=True)
    actor = _actor(request)
    initial = {
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "email": contact.email,
        "decision_role": str(contact.decision_role_id or ""),
        "is_decision_maker": contact.is_decision_maker,
    }
    form = ContactForm(
        request.POST if request.method == "POST" else None, initial=initial, roles=_roles(actor)
    )
    if request.method == "GET":
        return _contact_page(request, form, contact.account, contact)
    if not form.is_valid():
        return _contact_page(request, form, contact.account, contact, status=422)
    try:
        contact_update(user=request.user, contact=contact, data=form.values())
    except ValidationFailed as exc:
        attach_problems(form, exc.details, CONTACT_FIELDS)
        return _contact_page(request, form, contact.account, contact, status=exc.status)
    note_write(request)
    messages.success(request, _("Contact “%(name)s” saved.") % {"name": contact.name})
    return redirect("web:account", contact.account_id)


# --- global search -----------------------------------------------------------------------------


@require_GET
@member_view
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Deals, accounts and contacts by Chinese text, pinyin initials or full pinyin."""
    form = SearchForm(request.GET)
    q = (form.cleaned_data.get("q") or "").strip() if form.is_valid() else ""
    results: SearchResults | None = record_search(user=request.user, q=q) if q else None
    status = 200 if form.is_valid() else 422
    return render(
        request,
        "web/search.html",
        {"form": form, "q": q, "search_q": q, "results": results},
        status=status,
    )


__all__ = [
    "account_detail",
    "account_edit",
    "account_list",
    "account_new",
    "account_suggest",
    "contact_edit",
    "contact_new",
    "deal_new",
    "search",
]
