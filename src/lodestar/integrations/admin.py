"""Admin: channel settings, and the outbox with its dead letters and a retry action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lodestar.errors import ApplicationError
from lodestar.integrations.models import (
    CalendarFeed,
    ChannelConfig,
    Notification,
    NotificationStatus,
)
from lodestar.integrations.services import notification_retry
from lodestar.org.admin_site import OrganizationScopedAdmin
from lodestar.org.requests import AuthenticatedHttpRequest


@admin.register(ChannelConfig)
class ChannelConfigAdmin(OrganizationScopedAdmin):
    list_display = ["kind", "organization", "team", "user", "name", "enabled", "updated_at"]
    list_filter = ["kind", "enabled", "organization"]
    search_fields = ["name", "webhook_url", "email_address"]
    raw_id_fields = ["team", "user"]


@admin.register(Notification)
class NotificationAdmin(OrganizationScopedAdmin):
    list_display = [
        "id",
        "shown_title",
        "channel",
        "status",
        "attempts",
        "recipient",
        "organization",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "channel", "organization"]
    search_fields = ["title", "cause_key", "last_error"]
    raw_id_fields = ["recipient", "config"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    # What it says is shown in the reader's language; the stored title and body (the site's
    # language when written) are what the search reads, and the parameters (texts in both
    # languages) are worded in it.
    exclude = ["title", "body", "params"]
    readonly_fields = [
        "shown_title",
        "shown_body",
        *(
            field.name
            for field in Notification._meta.get_fields()
            if hasattr(field, "attname") and field.name not in ("title", "body", "params")
        ),
    ]

    @admin.display(description=_("title"))
    def shown_title(self, notification: Notification) -> str:
        return notification.shown_title

    @admin.display(description=_("body"))
    def shown_body(self, notification: Notification) -> str:
        return notification.shown_body

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Outbox rows are written by `notify` only, in the transaction of their cause.
        return False

    @admin.action(description=_("Retry the selected failed or dead notifications"))
    def retry(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Notification]) -> None:
        retried = 0
        refusals: list[str] = []
        for notification in queryset.filter(
            status__in=[NotificationStatus.DEAD, NotificationStatus.FAILED]
        ):
            try:
                notification_retry(notification=notification, actor=request.user)
            except ApplicationError as exc:
                refusals.append(f"#{notification.pk}: {exc.message}")
            else:
                retried += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d notification queued again.",
                "%(count)d notifications queued again.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS,
        )
        for refusal in refusals:
            self.message_user(request, refusal, messages.WARNING)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(OrganizationScopedAdmin):
    """Who subscribes to a calendar; tokens are created and rotated by their owner only."""

    list_display = ["user", "created_at", "last_fetched_at"]
    search_fields = ["user__username", "user__display_name"]
    readonly_fields = ["user", "created_at", "last_fetched_at"]
    exclude = ["digest"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
