"""Admin for customers, their people, products, knowledge and deals.

A deal's stage is read-only here: stages move through the stage service, which checks the gate
and records the transition. Stage transitions themselves are history and cannot be edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lodestar.crm.models import (
    Account,
    Attachment,
    Contact,
    DailyReport,
    DecisionRole,
    KnowledgeEntry,
    Opportunity,
    Product,
    StageTransition,
)
from lodestar.org.admin_site import OrganizationScoped, OrganizationScopedAdmin


@admin.register(DecisionRole)
class DecisionRoleAdmin(OrganizationScopedAdmin):
    list_display = ["name_zh", "name_en", "key", "position", "organization"]
    list_filter = ["organization"]
    search_fields = ["key", "name_zh", "name_en"]


# Django's admin classes cannot be subscripted at run time: the type argument stays implicit.
class ContactInline(OrganizationScoped, admin.TabularInline):  # type: ignore[type-arg]
    model = Contact
    extra = 0
    fields = ["name", "title", "decision_role", "is_decision_maker", "phone", "email"]
    show_change_link = True


@admin.register(Account)
class AccountAdmin(OrganizationScopedAdmin):
    list_display = ["name", "tier", "industry", "region", "owner", "organization", "updated_at"]
    list_filter = ["tier", "organization", "industry"]
    list_select_related = ["owner", "organization"]
    search_fields = ["name", "external_ref", "owner__username", "owner__display_name"]
    raw_id_fields = ["owner"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(OrganizationScopedAdmin):
    list_display = ["name", "title", "account", "decision_role", "is_decision_maker", "phone"]
    list_filter = ["is_decision_maker", "organization", "decision_role"]
    list_select_related = ["account", "decision_role"]
    search_fields = ["name", "title", "phone", "email", "account__name"]
    raw_id_fields = ["account", "decision_role"]


@admin.register(Product)
class ProductAdmin(OrganizationScopedAdmin):
    list_display = ["name", "model_number", "category", "list_price", "organization"]
    list_filter = ["category", "organization"]
    search_fields = ["name", "model_number"]


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(OrganizationScopedAdmin):
    list_display = ["title", "key", "kind", "product", "organization"]
    list_filter = ["kind", "organization"]
    list_select_related = ["product", "organization"]
    search_fields = ["title", "key", "body"]
    raw_id_fields = ["product"]


_TRANSITION_FIELDS = ("occurred_at", "from_stage", "to_stage", "direction", "actor")


# Django's admin classes cannot be subscripted at run time: the type argument stays implicit.
class StageTransitionInline(OrganizationScoped, admin.TabularInline):  # type: ignore[type-arg]
    model = StageTransition
    extra = 0
    fields = _TRANSITION_FIELDS
    readonly_fields = _TRANSITION_FIELDS
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Opportunity)
class OpportunityAdmin(OrganizationScopedAdmin):
    list_display = [
        "name",
        "account",
        "owner",
        "team",
        "stage_key",
        "status",
        "amount",
        "currency",
        "expected_close_date",
    ]
    list_filter = ["status", "stage_key", "organization", "team"]
    list_select_related = ["account", "owner", "team"]
    search_fields = ["name", "external_ref", "account__name", "owner__username"]
    raw_id_fields = ["account", "owner", "team"]
    readonly_fields = ["stage_key", "stage_entered_at", "created_at", "updated_at", "closed_at"]
    date_hierarchy = "created_at"
    inlines = [StageTransitionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new deal needs its stage and team set by the service (API, pages or CLI).
        return False


@admin.register(StageTransition)
class StageTransitionAdmin(OrganizationScopedAdmin):
    list_display = ["opportunity", "from_stage", "to_stage", "direction", "occurred_at", "actor"]
    list_filter = ["direction", "organization"]
    list_select_related = ["opportunity", "actor"]
    search_fields = ["opportunity__name", "from_stage", "to_stage"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(OrganizationScopedAdmin):
    list_display = ["original_name", "kind", "content_type", "size", "opportunity", "uploaded_at"]
    list_filter = ["kind", "content_type", "organization"]
    list_select_related = ["opportunity"]
    search_fields = ["original_name", "sha256", "opportunity__name"]
    raw_id_fields = ["opportunity", "account", "uploaded_by"]
    readonly_fields = ["content_type", "size", "sha256", "text_length", "uploaded_at"]
    date_hierarchy = "uploaded_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Uploads sniff the content type and extract text; that happens in the upload service.
        return False


@admin.register(DailyReport)
class DailyReportAdmin(OrganizationScopedAdmin):
    list_display = ["author", "date", "submitted_at", "organization"]
    list_filter = ["organization", "date"]
    list_select_related = ["author", "organization"]
    search_fields = ["author__username", "author__display_name", "body"]
    raw_id_fields = ["author"]
    date_hierarchy = "date"
