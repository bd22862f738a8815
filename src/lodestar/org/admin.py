"""Admin for tenants, people, roles, API tokens and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.org.models import ApiToken, AuditEntry, Holiday, Membership, Organization, Team, User
from lodestar.org.services import api_token_create, api_token_revoke


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "workday_starts", "workday_ends", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["time_zone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [HolidayInline]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]
    date_hierarchy = "date"


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "manager"]
    list_filter = ["organization"]
    list_select_related = ["organization", "manager"]
    search_fields = ["name", "manager__username", "manager__display_name"]
    raw_id_fields = ["manager"]


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False
    extra = 0
    max_num = 1
    raw_id_fields = ["team"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "email",
        "membership__organization",
        "membership__role",
        "is_active",
        "is_staff",
    ]
    list_filter = ["membership__organization", "membership__role", "is_active", "is_staff"]
    list_select_related = ["membership__organization"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Lodestar"), {"fields": ["display_name", "phone"]}),
    )
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "team"]
    list_filter = ["organization", "role"]
    list_select_related = ["user", "organization", "team"]
    search_fields = ["user__username", "user__display_name", "team__name"]
    raw_id_fields = ["user", "team"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Creating a token goes through the service; its secret is shown once, as a message."""

    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "hint", "user__username"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["user", "name"]
        return ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "hint", "created_at", "last_used_at", "revoked_at"]

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: ModelForm, change: bool
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
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
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
