"""The append-only activity log: every fact the engine reasons about arrives here first."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lodestar.crm.models import Account, Contact, Opportunity
from lodestar.org.models import Organization


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a logged event."""


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Events are never updated; append a correcting event instead.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Events are never deleted.")


class Event(models.Model):
    # The log grows by millions of rows, so it carries only the indexes its reads need: the
    # composite ones below lead with the organization, the deal or the account, which makes
    # separate foreign-key indexes on those columns redundant. The actor is never searched by;
    # deleting a user (rare: people are deactivated) scans instead.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    type = models.CharField(_("type"), max_length=64)
    source = models.CharField(_("source"), max_length=64)
    external_id = models.CharField(_("external id"), max_length=200)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("actor"),
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        verbose_name=_("opportunity"),
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        verbose_name=_("account"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        verbose_name=_("contact"),
    )
    # True when the customer took part (call, meeting, chat from them); silence rules count these.
    with_customer = models.BooleanField(_("with customer"), default=False)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="event_unique_delivery"
            )
        ]
        indexes = [
            models.Index(fields=["opportunity", "occurred_at"], name="event_deal_time"),
            models.Index(fields=["account", "occurred_at"], name="event_account_time"),
            # `id` rides along on PostgreSQL (SQLite indexes carry the rowid anyway): the
            # scorecard's anti-join of recent communications against their scores is then
            # answered from the index alone instead of a scan of the whole log.
            models.Index(
                fields=["organization", "type", "occurred_at"],
                include=["id"],
                name="event_type_time",
            ),
            # Customer interactions of a deal in a time range, counted from the index alone
            # (the health score's interaction part counts every open deal's recent ones).
            models.Index(
                fields=["opportunity", "occurred_at"],
                condition=Q(with_customer=True),
                name="event_deal_customer_time",
            ),
            models.Index(fields=["organization", "occurred_at"], name="event_org_time"),
            models.Index(
                fields=["contact"], condition=Q(contact__isnull=False), name="event_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Events are never updated; append a correcting event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Events are never deleted.")
