"""Alerts raised by risk and health rules, and the exemptions reps declare."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lodestar.crm.models import Opportunity
from lodestar.org.models import Organization


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=64)
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts_about",
        verbose_name=_("about"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    # One open alert per condition: the same key is never raised twice while still open.
    dedupe_key = models.CharField(max_length=200)
    message_zh = models.TextField(_("message (Chinese)"))
    message_en = models.TextField(_("message (English)"))
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "recipient", "status"]),
            models.Index(fields=["organization", "dedupe_key", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message_zh}"


class ExemptionReason(models.TextChoices):
    CUSTOMER_UNREACHABLE = "customer_unreachable", _("Customer temporarily unreachable")
    CUSTOMER_ON_LEAVE = "customer_on_leave", _("Customer on leave / holiday")
    OTHER = "other", _("Other")


class Exemption(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="exemptions"
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason_code = models.CharField(
        _("reason"),
        max_length=32,
        choices=ExemptionReason.choices,
        default=ExemptionReason.CUSTOMER_UNREACHABLE,
    )
    reason = models.TextField(_("explanation"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    recheck_at = models.DateTimeField(_("re-check at"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["organization", "opportunity", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.get_reason_code_display()}"
