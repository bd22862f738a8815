"""The knowledge base's pages: the index (search, by kind and stage), one entry with its files,
and the forms ops and admins use to write entries and attach files.

Reading is for everyone in the organization; the forms answer 403 to anyone else. Each view
parses its form and makes one call to `lodestar.insights.knowledge`; a refusal of the service
is shown next to the field it names, and nothing is stored then.
"""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lodestar.crm.models import KnowledgeEntry, KnowledgeKind, Product
from lodestar.crm.selectors import access_knowledge_entry
from lodestar.errors import ApplicationError, PermissionDenied
from lodestar.insights import knowledge
from lodestar.insights.models import KnowledgeFile
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import actor_of
from lodestar.web.access import member_of, member_view
from lodestar.web.caching import note_write

__all__ = [
    "knowledge_delete",
    "knowledge_edit",
    "knowledge_entry",
    "knowledge_file",
    "knowledge_file_delete",
    "knowledge_file_upload",
    "knowledge_index",
    "knowledge_new",
]

# Types a browser shows without running anything of the file's: opened in a tab.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain"})
_BASE_POLICY = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
_SHOWN_POLICY = f"{_BASE_POLICY}; img-src 'self'; style-src 'unsafe-inline'"


# --- forms -------------------------------------------------------------------------------------


class KnowledgeFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    stage = forms.ChoiceField(label=_("Stage"), required=False)

    def __init__(self, *args: Any, stages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            ("", _("All kinds")),
            *KnowledgeKind.choices,
        ]
        cast(forms.ChoiceField, self.fields["stage"]).choices = [("", _("All stages")), *stages]
        self.fields["q"].widget.attrs.update({"type": "search", "autocomplete": "off"})

    def filters(self) -> knowledge.KnowledgeFilters:
        if not self.is_bound or not self.is_valid():
            return knowledge.KnowledgeFilters()
        data = self.cleaned_data
        return knowledge.KnowledgeFilters(
            q=data.get("q") or "", kind=data.get("kind") or None, stage=data.get("stage") or None
        )


class KnowledgeEntryForm(forms.Form):
    title = forms.CharField(label=_("Entry title"), max_length=knowledge.TITLE_MAX)
    kind = forms.ChoiceField(label=_("Kind"), choices=KnowledgeKind.choices)
    stage_keys = forms.MultipleChoiceField(
        label=_("Stages it helps with"), required=False, widget=forms.CheckboxSelectMultiple
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        required=False,
        empty_label=_("No product"),
    )
    key = forms.CharField(
        label=_("Key"),
        required=False,
        max_length=64,
        help_text=_(
            "What a playbook's scorecard names to push this handbook; made from the title "
            "when left empty."
        ),
    )
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=knowledge.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
    )

    def __init__(
        self, *args: Any, stages: list[tuple[str, str]], organization_id: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["stage_keys"]).choices = stages
        cast(
            "forms.ModelChoiceField[Product]", self.fields["product"]
        ).queryset = Product.objects.filter(organization_id=organization_id).order_by("name")

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        product = data.get("product")
        return {
            "title": data["title"],
            "kind": data["kind"],
            "stage_keys": list(data.get("stage_keys") or []),
            "product_id": product.pk if product else None,
            "key": data.get("key") or "",
            "body": data.get("body") or "",
        }

    def refused(self, exc: ApplicationError) -> None:
        """Show a refusal of the service next to the fields it names."""
        named = {"product_id": "product"}
        for detail in exc.details:
            name = named.get(detail.field, detail.field)
            self.add_error(name if name in self.fields else None, str(detail.message))
        if not exc.details:
            self.add_error(None, str(exc.message))


class KnowledgeFileForm(forms.Form):
    file = forms.FileField(label=_("File"))


# --- helpers -----------------------------------------------------------------------------------


def _stages(request: AuthenticatedHttpRequest) -> list[tuple[str, str]]:
    return knowledge.knowledge_stage_choices(organization_id=member_of(request).organization_id)


def _editor_or_403(request: AuthenticatedHttpRequest) -> None:
    actor = actor_of(user=request.user)
    if actor is None or not actor.edits_catalog:
        raise PermissionDenied(
            gettext("Only sales ops and administrators edit the knowledge base.")
        )


def _can_edit(request: AuthenticatedHttpRequest) -> bool:
    actor = actor_of(user=request.user)
    return bool(actor and actor.edits_catalog)


def _entry_form(
    request: AuthenticatedHttpRequest, data: Any = None, initial: dict[str, Any] | None = None
) -> KnowledgeEntryForm:
    return KnowledgeEntryForm(
        data,
        initial=initial,
        stages=_stages(request),
        organization_id=member_of(request).organization_id,
    )


# --- reading -----------------------------------------------------------------------------------


@require_GET
@member_view
def knowledge_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every entry of the organization, by kind, with search and kind and stage filters."""
    stages = _stages(request)
    relevant = {k: request.GET[k] for k in ("q", "kind", "stage") if request.GET.get(k)}
    form = KnowledgeFilterForm(relevant or None, stages=stages)
    filters = form.filters()
    entries = list(knowledge.knowledge_list(user=request.user, filters=filters))
    return render(
        request,
        "web/knowledge_index.html",
        {
            "form": form,
            "entries": entries,
            "stage_names": dict(stages),
            "filtered": filters != knowledge.KnowledgeFilters(),
            "can_edit": _can_edit(request),
        },
    )


@require_GET
@member_view
def knowledge_entry(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """A handbook, product-knowledge entry or case study with its files, e.g. the one pushed
    after a run of low scores."""
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id)
    stage_names = dict(_stages(request))
    stages = [stage_names.get(s.stage_key, s.stage_key) for s in entry.stages.all()]
    return render(
        request,
        "web/knowledge.html",
        {
            "entry": entry,
            "stages": stages,
            "files": list(KnowledgeFile.objects.filter(entry=entry)),
            "can_edit": _can_edit(request),
            "file_form": KnowledgeFileForm(),
            "inline_types": INLINE_TYPES,
        },
    )


def _ascii_fallback(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    safe_stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" ._") or "file"
    safe_extension = re.sub(r"[^A-Za-z0-9]+", "", extension)
    return f"{safe_stem}.{safe_extension}" if safe_extension else safe_stem


@require_GET
@member_view
def knowledge_file(request: AuthenticatedHttpRequest, entry_id: int, file_id: int) -> FileResponse:
    """A file of an entry: PDF, images and plain text open in a tab, anything else (or with
    `?download=1`) is saved under its original name. The file may run nothing: its own
    security policy, `nosniff`, and a sandbox for everything but the browser's PDF viewer."""
    stored = knowledge.access_knowledge_file(user=request.user, entry_id=entry_id, file_id=file_id)
    inline = request.GET.get("download") != "1" and stored.content_type in INLINE_TYPES
    content_type = stored.content_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = FileResponse(stored.file.open("rb"), content_type=content_type)
    name = stored.original_name or "file"
    kind = "inline" if inline else "attachment"
    response["Content-Disposition"] = (
        f"{kind}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    if inline and stored.content_type == "application/pdf":
        policy = f"{_SHOWN_POLICY}; object-src 'self'"
    elif inline:
        policy = f"sandbox; {_SHOWN_POLICY}"
    else:
        policy = f"sandbox; {_BASE_POLICY}"
    response["Content-Security-Policy"] = policy
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- writing (ops and admins) ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_view
def knowledge_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    _editor_or_403(request)
    form = _entry_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = knowledge.knowledge_entry_create(user=request.user, **form.values())
        except ApplicationError as exc:
            form.refused(exc)
        else:
            note_write(request)
            messages.success(request, gettext("Entry saved. Attach files to it below."))
            return redirect("web:knowledge", entry_id=entry.pk)
    status = 422 if form.is_bound else 200
    return render(request, "web/knowledge_form.html", {"form": form, "entry": None}, status=status)


def _initial(entry: KnowledgeEntry) -> dict[str, Any]:
    return {
        "title": entry.title,
        "kind": entry.kind,
        "stage_keys": [s.stage_key for s in entry.stages.all()],
        "product": entry.product_id,
        "key": entry.key,
        "body": entry.body,
    }


@require_http_methods(["GET", "POST"])
@member_view
def knowledge_edit(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    form = _entry_form(
        request, request.POST if request.method == "POST" else None, initial=_initial(entry)
    )
    if request.method == "POST" and form.is_valid():
        try:
            knowledge.knowledge_entry_update(user=request.user, entry=entry, data=form.values())
        except ApplicationError as exc:
            form.refused(exc)
        else:
            note_write(request)
            messages.success(request, gettext("Entry saved."))
            return redirect("web:knowledge", entry_id=entry.pk)
    status = 422 if form.is_bound else 200
    return render(request, "web/knowledge_form.html", {"form": form, "entry": entry}, status=status)


@require_POST
@member_view
def knowledge_delete(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    title = entry.title
    knowledge.knowledge_entry_delete(user=request.user, entry=entry)
    note_write(request)
    messages.success(request, gettext("“%(title)s” was deleted.") % {"title": title})
    return redirect("web:knowledge-index")


@require_POST
@member_view
def knowledge_file_upload(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    entry = access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    form = KnowledgeFileForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("file", []):
            messages.error(request, f"{gettext('File')}: {error}")
        return redirect("web:knowledge", entry_id=entry.pk)
    try:
        stored = knowledge.knowledge_file_add(
            user=request.user, entry=entry, uploaded_file=form.cleaned_data["file"]
        )
    except ApplicationError as exc:
        for detail in exc.details or []:
            messages.error(request, f"{gettext('File')}: {detail.message}")
        if not exc.details:
            messages.error(request, str(exc.message))
    else:
        note_write(request)
        messages.success(request, gettext("Attached %(name)s.") % {"name": stored.original_name})
    return redirect("web:knowledge", entry_id=entry.pk)


@require_POST
@member_view
def knowledge_file_delete(
    request: AuthenticatedHttpRequest, entry_id: int, file_id: int
) -> HttpResponse:
    access_knowledge_entry(user=request.user, entry_id=entry_id, for_write=True)
    stored = knowledge.access_knowledge_file(user=request.user, entry_id=entry_id, file_id=file_id)
    name = stored.original_name
    knowledge.knowledge_file_delete(user=request.user, stored=stored)
    note_write(request)
    messages.success(request, gettext("Removed %(name)s.") % {"name": name})
    return redirect("web:knowledge", entry_id=entry_id)
