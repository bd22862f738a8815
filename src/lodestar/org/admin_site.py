"""The Django admin, scoped: an organization's admins see and change their organization only.

Two kinds of people use /admin/:

- the **operator** of the installation — a Django superuser, created only by
  `lodestar operator create` — sees every organization;
- an organization's **admins** (membership role ADMIN) see, filter, search, create, change,
  delete and act on their own organization's rows, and nothing else.

Nobody else gets in: the role decides, `is_staff` is not consulted. Every ModelAdmin and inline
of our apps derives from `OrganizationScoped`, which applies one rule — `organization_q` — to
its rows, to the choices of every relation in its forms, filters and raw-id lookups, and to every
object it is asked about. The rule finds each model's way to its organization by itself (a
foreign key to Organization, or a chain of required keys to a model that has one), so a new
model is scoped the day it is registered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from lodestar.org.models import Organization, Role, User
from lodestar.org.selectors import membership_of

__all__ = [
    "AdminScope",
    "LodestarAdminSite",
    "OrganizationScoped",
    "OrganizationScopedAdmin",
    "admin_scope_of",
    "organization_id_of",
    "organization_path_of",
    "organization_q",
]


@dataclass(frozen=True)
class AdminScope:
    """What one admin user may reach: one organization, or every one (the operator)."""

    organization_id: int | None

    @property
    def is_operator(self) -> bool:
        return self.organization_id is None


def admin_scope_of(*, user: Any) -> AdminScope | None:
    """The admin scope of `user`, or None when they may not use the admin at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return AdminScope(organization_id=None)
    membership = membership_of(user=user)
    if membership is not None and membership.role == Role.ADMIN:
        return AdminScope(organization_id=membership.organization_id)
    return None


@functools.cache
def organization_path_of(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its organization's id, or None when it has no organization.

    Tried in order: the organization itself; a foreign key to Organization; a required foreign
    key to a model that has a path (ApiToken → user → …); a one-to-one from a model that has one
    (User ← membership).
    """
    return _path_to_organization(model, frozenset())


def _path_to_organization(model: type[models.Model], seen: frozenset[type]) -> str | None:
    if model is Organization:
        return model._meta.pk.name
    keys = [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.related_model is Organization
    ]
    if len(keys) == 1:
        return keys[0].name
    if keys:
        # Two keys to Organization and none called `organization`: ambiguous, so unscoped.
        named = [field for field in keys if field.name == "organization"]
        return named[0].name if named else None
    seen = seen | {model}
    for field in model._meta.concrete_fields:
        if (
            isinstance(field, models.ForeignKey)
            and not field.null
            and field.related_model not in seen
        ):
            further = _path_to_organization(field.related_model, seen)
            if further is not None:
                return f"{field.name}__{further}"
    for relation in model._meta.related_objects:
        if relation.one_to_one and relation.related_model not in seen:
            further = _path_to_organization(relation.related_model, seen)
            if further is not None:
                return f"{relation.name}__{further}"
    return None


def organization_q(model: type[models.Model], organization_id: int) -> Q:
    """The filter for `model`'s rows that belong to one organization (none if it has no path).

    An operator's account may carry a membership, but it is never part of an organization's
    admin: every user met on the way to the organization must not be a superuser, so an
    organization's admin can neither change the operator nor act through their tokens.
    """
    lookup = organization_path_of(model)
    if lookup is None:
        return Q(pk__in=[])
    condition = Q(**{lookup: organization_id})
    current: type[models.Model] = model
    prefix = ""
    for part in lookup.split("__"):
        if issubclass(current, User):
            condition &= Q(**{f"{prefix}is_superuser": False})
        related = current._meta.get_field(part).related_model
        if not isinstance(related, type):  # not a relation: the path ends here
            break
        current = related
        prefix += f"{part}__"
    return condition


def organization_id_of(obj: models.Model) -> int | None:
    """The id of the organization `obj` belongs to (None: none, or it is an operator's)."""
    lookup = organization_path_of(type(obj))
    if lookup is None:
        return None
    current: Any = obj
    *hops, last = lookup.split("__")
    for part in hops:
        if isinstance(current, User) and current.is_superuser:
            return None
        try:
            current = getattr(current, part)
        except models.ObjectDoesNotExist:
            return None
        if current is None:
            return None
    if isinstance(current, User) and current.is_superuser:
        return None
    field = current._meta.get_field(last)
    organization_id: int | None = getattr(current, field.attname)
    return organization_id


# Django's form fields cannot be subscripted at run time: the type argument stays implicit.
class _OwnOrganizationField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """An organization admin's forms always name their own organization, whatever is posted.

    The field stays in the form (hidden) rather than being excluded, so that unique constraints
    that include the organization are still checked by the form and reported, not raised.
    """

    widget = forms.HiddenInput

    def __init__(self, organization: Organization, **kwargs: Any) -> None:
        super().__init__(queryset=Organization.objects.filter(pk=organization.pk), **kwargs)
        self.organization = organization

    def clean(self, value: Any) -> Organization:
        return self.organization

    def has_changed(self, initial: Any, data: Any) -> bool:
        return False


class _ScopedRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """A raw-id input that names only rows in scope: a posted id of another organization's row
    is refused by the form and must not be echoed back with its name."""

    def __init__(self, rel: Any, admin_site: admin.AdminSite, *, queryset: QuerySet[Any]) -> None:
        super().__init__(rel, admin_site)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            in_scope = self.queryset.filter(**{key: value}).exists()
        except (ValueError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value) if in_scope else ("", "")


if TYPE_CHECKING:
    # To mypy the mixin is the admin class it always stands in front of, so that its `super()`
    # calls and the attributes it reads are checked against Django's.
    _AdminBase = admin.options.BaseModelAdmin[Any]
else:
    _AdminBase = object


class OrganizationScoped(_AdminBase):
    """Scopes a ModelAdmin or inline to the organization of the admin using it.

    Put it first among an inline's bases (`class XInline(OrganizationScoped,
    admin.TabularInline)`); a ModelAdmin derives from `OrganizationScopedAdmin`. The operator
    sees and may do what Django allows a superuser; an organization's admin may view, add,
    change and delete rows of their organization (each admin's own `has_*_permission`
    overrides still narrow that), and never sees the organization field or filter.
    """

    def admin_scope(self, request: HttpRequest) -> AdminScope | None:
        return admin_scope_of(user=request.user)

    def _reaches(self, scope: AdminScope | None, obj: Any) -> bool:
        """Whether an organization's admin reaches `obj` (any row of their organization)."""
        if scope is None:
            return False
        return obj is None or organization_id_of(obj) == scope.organization_id

    def has_module_permission(self, request: HttpRequest) -> bool:
        scope = self.admin_scope(request)
        if scope is not None and scope.is_operator:
            return super().has_module_permission(request)
        return scope is not None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.admin_scope(request)
        if scope is not None and scope.is_operator:
            return super().has_view_permission(request, obj)
        return self._reaches(scope, obj)

    def has_add_permission(self, request: HttpRequest, *parent: Any) -> bool:
        # Model admins are asked without an object, inlines with the parent object.
        scope = self.admin_scope(request)
        if scope is not None and scope.is_operator:
            return super().has_add_permission(request, *parent)
        return self._reaches(scope, parent[0] if parent else None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.admin_scope(request)
        if scope is not None and scope.is_operator:
            return super().has_change_permission(request, obj)
        return self._reaches(scope, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.admin_scope(request)
        if scope is not None and scope.is_operator:
            return super().has_delete_permission(request, obj)
        return self._reaches(scope, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if not queryset.ordered:
            # Autocomplete pages through this queryset: without an order its pages may repeat
            # or skip rows (models without Meta.ordering: teams, knowledge entries, channels).
            queryset = queryset.order_by("pk")
        return _within_scope(queryset, self.admin_scope(request))

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        scope = self.admin_scope(request)
        if (
            scope is not None
            and scope.organization_id is not None  # an organization's admin
            and isinstance(db_field, models.ForeignKey)
            and db_field.related_model is Organization
        ):
            organization = Organization.objects.get(pk=scope.organization_id)
            return _OwnOrganizationField(
                organization, required=not db_field.blank, label=db_field.verbose_name
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        scope = self.admin_scope(request)
        if scope is not None and not scope.is_operator and "queryset" not in kwargs:
            queryset = _within_scope(db_field.related_model._default_manager.all(), scope)
            kwargs["queryset"] = queryset
            if db_field.name in self.raw_id_fields and "widget" not in kwargs:
                kwargs["widget"] = _ScopedRawIdWidget(
                    db_field.remote_field, self.admin_site, queryset=queryset
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        scope = self.admin_scope(request)
        if scope is not None and not scope.is_operator and "queryset" not in kwargs:
            kwargs["queryset"] = _within_scope(db_field.related_model._default_manager.all(), scope)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def claim(self, request: HttpRequest, obj: models.Model, *, parent: Any) -> None:
        """Give a row about to be saved its organization, and refuse one outside the scope.

        An organization's admin always writes into their organization; the operator's inline
        rows take their parent's when the form does not name one.
        """
        scope = self.admin_scope(request)
        if scope is None:
            raise PermissionDenied
        organization_id = scope.organization_id
        if organization_id is None and parent is not None:
            organization_id = organization_id_of(parent)
        key = _organization_key(type(obj))
        if (
            key is not None
            and organization_id is not None
            and (not scope.is_operator or getattr(obj, key.attname) is None)
        ):
            setattr(obj, key.attname, organization_id)
        if not scope.is_operator and organization_id_of(obj) != scope.organization_id:
            raise PermissionDenied


def _organization_key(model: type[models.Model]) -> models.ForeignKey[Any, Any] | None:
    """The model's own foreign key to Organization, when its path to it is that key."""
    lookup = organization_path_of(model)
    if lookup is None or "__" in lookup or model is Organization:
        return None
    key = model._meta.get_field(lookup)
    return key if isinstance(key, models.ForeignKey) else None


def _within_scope(queryset: QuerySet[Any], scope: AdminScope | None) -> QuerySet[Any]:
    if scope is None:
        return queryset.none()
    if scope.is_operator:
        return queryset
    assert scope.organization_id is not None
    return queryset.filter(organization_q(queryset.model, scope.organization_id))


# Django's admin classes cannot be subscripted at run time: the type argument stays implicit.
class OrganizationScopedAdmin(OrganizationScoped, admin.ModelAdmin):  # type: ignore[type-arg]
    """The base of every ModelAdmin of our apps: `OrganizationScoped`, and the hooks only a
    ModelAdmin has (list columns and filters, saving a form and its inlines)."""

    def get_list_display(self, request: HttpRequest) -> Any:
        names = super().get_list_display(request)
        if self._is_organization_admin(request):
            return [name for name in names if not self._names_organization(name)]
        return names

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if not self._is_organization_admin(request):
            return filters
        scoped: list[Any] = []
        for entry in filters:
            if isinstance(entry, str):
                if self._names_organization(entry):
                    continue
                field = self._last_field(entry)
                if field is not None and field.is_relation:
                    # Offer only related rows the admin's own (scoped) rows point at.
                    entry = (entry, admin.RelatedOnlyFieldListFilter)
            scoped.append(entry)
        return scoped

    def save_form(self, request: HttpRequest, form: ModelForm[Any], change: bool) -> Any:
        obj = super().save_form(request, form, change)
        self.claim(request, obj, parent=None)
        return obj

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for gone in formset.deleted_objects:
            gone.delete()
        for instance in instances:
            self.claim(request, instance, parent=form.instance)
            instance.save()
        formset.save_m2m()

    def _is_organization_admin(self, request: HttpRequest) -> bool:
        scope = self.admin_scope(request)
        return scope is not None and not scope.is_operator

    def _last_field(self, name: str) -> Any:
        try:
            return get_fields_from_path(self.model, name)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return None  # a method or an admin attribute, not a field path

    def _names_organization(self, name: Any) -> bool:
        if not isinstance(name, str):
            return False
        field = self._last_field(name)
        return field is not None and field.is_relation and field.related_model is Organization


class ScopedAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in accepts the operator and organization admins, nobody else."""

    def confirm_login_allowed(self, user: Any) -> None:
        if admin_scope_of(user=user) is None:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


# Words of Django's own admin templates its Chinese catalogue does not hold yet (the headings of
# the index's tables); listed here so this project's catalogue translates them.
DJANGO_ADMIN_WORDS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)


class LodestarAdminSite(admin.AdminSite):
    login_form = ScopedAuthenticationForm
    site_header = _("Lodestar administration")
    site_title = _("Lodestar administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return admin_scope_of(user=request.user) is not None

    def get_urls(self) -> list[URLPattern | URLResolver]:
        urls = super().get_urls()
        for index, pattern in enumerate(urls):
            if getattr(pattern, "name", None) == "view_on_site":
                urls[index] = path(
                    "r/<path:content_type_id>/<path:object_id>/",
                    self.admin_view(self.view_on_site),
                    name="view_on_site",
                )
        return urls

    def view_on_site(
        self, request: HttpRequest, content_type_id: str, object_id: str
    ) -> HttpResponse:
        """Django's "view on site" redirect, for rows the asking admin may see only.

        Django's own answers differently for a missing row and a row without a page, which would
        tell an organization's admin which ids exist elsewhere.
        """
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ContentType.DoesNotExist, ValueError) as exc:
            raise Http404 from exc
        model_admin = self._registry.get(model) if model is not None else None
        try:
            visible = (
                model_admin is not None
                and model_admin.get_queryset(request).filter(pk=object_id).exists()
            )
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404
        return contenttype_views.shortcut(request, content_type_id, object_id)
