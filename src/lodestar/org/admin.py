"""Admin for tenants, people, roles, API tokens and the audit trail.

Every admin here is scoped to the organization of the admin using it (`admin_site`); only the
operator sees every organization, and only the operator's command line makes operators.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    SetUnusablePasswordMixin,
    UserChangeForm,
)
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.org.admin_site import OrganizationScoped, OrganizationScopedAdmin
from lodestar.org.calendar import unpublished_years
from lodestar.org.models import (
    ApiToken,
    AuditEntry,
    Holiday,
    Membership,
    Organization,
    Role,
    Team,
    User,
)
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.services import api_token_create, api_token_revoke


# Django's admin classes cannot be subscripted at run time: the type argument stays implicit.
class HolidayInline(OrganizationScoped, admin.TabularInline):  # type: ignore[type-arg]
    model = Holiday
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    """An organization's admin changes their organization; only the operator adds or removes."""

    list_display = ["name", "slug", "time_zone", "workday_starts", "workday_ends", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["time_zone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [HolidayInline]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The holiday inline is where an admin would fill a gap in the public calendar.
        if request.method == "GET":
            for year in unpublished_years(today=timezone.localdate()):
                messages.warning(
                    request,
                    _(
                        "The public holiday calendar does not carry the %(year)s holiday "
                        "arrangement yet: business hours that year skip the statutory holidays "
                        "only, without bridging days off and make-up working days. Ask your "
                        "operator to upgrade the holidays package, or add those days below."
                    )
                    % {"year": year},
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        scope = self.admin_scope(request)
        return scope is not None and scope.is_operator and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.admin_scope(request)
        return (
            scope is not None and scope.is_operator and super().has_delete_permission(request, obj)
        )


@admin.register(Holiday)
class HolidayAdmin(OrganizationScopedAdmin):
    list_display = ["date", "name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]
    date_hierarchy = "date"


@admin.register(Team)
class TeamAdmin(OrganizationScopedAdmin):
    list_display = ["name", "organization", "manager"]
    list_filter = ["organization"]
    list_select_related = ["organization", "manager"]
    search_fields = ["name", "manager__username", "manager__display_name"]
    raw_id_fields = ["manager"]


# --- the organization keeps an active administrator ----------------------------------------------
# The team page's services refuse to demote or deactivate the last one; the admin keeps the same
# rule, as forms that say why and a delete that is not offered.


def _is_last_active_admin(user: User) -> bool:
    membership = Membership.objects.filter(user=user).first()
    if membership is None or membership.role != Role.ADMIN or not user.is_active:
        return False
    return (
        not Membership.objects.filter(
            organization_id=membership.organization_id, role=Role.ADMIN, user__is_active=True
        )
        .exclude(user=user)
        .exists()
    )


# Django's forms cannot be subscripted at run time: the type argument stays implicit.
class MembershipForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Membership
        fields = ["user", "organization", "role", "team"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        member = self.instance
        leaves_admins = member.pk is not None and cleaned.get("role", member.role) != Role.ADMIN
        if leaves_admins and _is_last_active_admin(member.user):
            self.add_error(
                "role",
                ValidationError(
                    _(
                        "%(name)s is the organization's last active administrator; make "
                        "someone else an administrator first."
                    )
                    % {"name": member.user},
                    code="last_admin",
                ),
            )
        return cleaned


# Django's forms cannot be subscripted at run time: the type argument stays implicit.
class UserForm(UserChangeForm):  # type: ignore[type-arg]
    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        user = self.instance
        switched_off = user.pk is not None and not cleaned.get("is_active", user.is_active)
        if switched_off and _is_last_active_admin(user):
            self.add_error(
                "is_active",
                ValidationError(
                    _(
                        "%(name)s is the organization's last active administrator and cannot "
                        "be deactivated."
                    )
                    % {"name": user},
                    code="last_admin",
                ),
            )
        return cleaned


class _KeepsAnAdmin(OrganizationScopedAdmin):
    """No delete of the person who is the organization's last active administrator."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = obj.user if isinstance(obj, Membership) else obj
        if isinstance(user, User) and _is_last_active_admin(user):
            return False
        return super().has_delete_permission(request, obj)


# Django's admin classes cannot be subscripted at run time: the type argument stays implicit.
class MembershipInline(OrganizationScoped, admin.StackedInline):  # type: ignore[type-arg]
    model = Membership
    form = MembershipForm
    can_delete = False
    extra = 0
    max_num = 1
    raw_id_fields = ["team"]


# Who may use the admin follows the membership role (and the operator's superuser flag, set
# only by `lodestar operator create`), so Django's staff flag, groups and model permissions
# decide nothing here and are not offered.
_NOT_OURS = {"is_staff", "is_superuser", "groups", "user_permissions"}


# Django's forms cannot be subscripted at run time: the type argument stays implicit.
class PasswordChangeForm(AdminPasswordChangeForm):  # type: ignore[type-arg]
    """Django's admin password form, its help text worded when shown: Django joins it to its
    warning when the module is imported, which fixes it in the language of that moment."""

    usable_password_help_text = format_lazy(  # type: ignore[assignment]  # a lazy text
        "{}{}",
        SetUnusablePasswordMixin.usable_password_help_text,
        format_lazy(
            '<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
            _("If disabled, the current password for this user will be lost."),
        ),
    )


@admin.register(User)
# Django's admin classes cannot be subscripted at run time: the type argument stays implicit.
class UserAdmin(_KeepsAnAdmin, DjangoUserAdmin):  # type: ignore[type-arg]
    form = UserForm
    change_password_form = PasswordChangeForm
    list_display = [
        "username",
        "display_name",
        "email",
        "membership__organization",
        "role",
        "is_active",
    ]
    list_filter = ["membership__organization", "membership__role", "is_active"]
    list_select_related = ["membership__organization", "membership"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = (
        *(
            (name, options | {"fields": [f for f in options["fields"] if f not in _NOT_OURS]})
            for name, options in DjangoUserAdmin.fieldsets or ()
        ),
        (_("Lodestar"), {"fields": ["display_name", "phone"]}),
    )
    inlines = [MembershipInline]

    # A column of its own: a `membership__role` column would be headed "Membership role" in
    # every language (Django names such columns after the lookup path).
    @admin.display(description=_("role"), ordering="membership__role")
    def role(self, user: User) -> str:
        membership = getattr(user, "membership", None)
        return membership.get_role_display() if membership is not None else "–"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        scope = self.admin_scope(request)
        if obj is not None and scope is not None and scope.is_operator:
            return (*fieldsets, (None, {"fields": ["is_superuser"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "is_superuser"]

    def get_inline_instances(
        self, request: HttpRequest, obj: Any = None
    ) -> list[InlineModelAdmin[Any, Any]]:
        # A new user gets a name and a password first (Django's two-step form); the membership
        # is set on the next page. An organization's admin's new user joins their organization.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def claim(self, request: HttpRequest, obj: Any, *, parent: Any) -> None:
        if obj.pk is None:
            return  # no organization yet: `save_model` places the new user in the admin's
        super().claim(request, obj, parent=parent)

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[User], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        scope = self.admin_scope(request)
        if not change and scope is not None and scope.organization_id is not None:
            Membership.objects.create(
                organization_id=scope.organization_id, user=obj, role=Role.REP
            )


@admin.register(Membership)
class MembershipAdmin(_KeepsAnAdmin):
    form = MembershipForm
    list_display = ["user", "organization", "role", "team"]
    list_filter = ["organization", "role"]
    list_select_related = ["user", "organization", "team"]
    search_fields = ["user__username", "user__display_name", "team__name"]
    raw_id_fields = ["user", "team"]


@admin.register(ApiToken)
class ApiTokenAdmin(OrganizationScopedAdmin):
    """Creating a token goes through the service; its secret is shown once, as a message."""

    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "hint", "user__username"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name")
        return ("user", "name", "hint", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "hint", "created_at", "last_used_at", "revoked_at"]

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: ModelForm[ApiToken], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, secret = api_token_create(user=obj.user, name=obj.name)
        # The admin goes on with `obj` (log entry, redirect); make it the stored token.
        obj.pk, obj.digest, obj.hint, obj.created_at = (
            token.pk,
            token.digest,
            token.hint,
            token.created_at,
        )
        obj._state.adding = False
        obj._state.db = token._state.db
        messages.warning(
            request,
            _("Token secret, shown only this once — copy it now: %(secret)s") % {"secret": secret},
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            api_token_revoke(token=token, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(OrganizationScopedAdmin):
    """The audit trail is evidence: viewable, never edited or removed here."""

    list_display = ["at", "action", "object_type", "object_id", "actor", "organization"]
    list_filter = ["action", "object_type", "organization"]
    list_select_related = ["actor", "organization"]
    search_fields = ["action", "object_type", "object_id", "actor__username"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
