"""Versions of an organization's sales process; the YAML text is what is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lodestar.org.models import Organization, Team


class PlaybookStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class PlaybookVersion(models.Model):
    """One version of a sales process. A team may follow its own published playbook (an
    industrial team and a SaaS team sell differently); teams without one follow the
    organization's."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="playbook_versions",
        verbose_name=_("team"),
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=PlaybookStatus.choices, default=PlaybookStatus.DRAFT
    )
    name = models.CharField(_("name"), max_length=200)
    source_name = models.CharField(_("file name"), max_length=255, default="playbook.yaml")
    source = models.TextField(_("YAML source"))
    checksum = models.CharField(max_length=64, verbose_name=_("checksum"))
    note = models.TextField(_("release note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Human-readable changes against the version published before this one.
    diff = models.JSONField(_("changes"), default=list, blank=True)

    class Meta:
        verbose_name = _("playbook version")
        verbose_name_plural = _("playbook versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="playbookversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status="published", team__isnull=True),
                name="playbookversion_one_published",
            ),
            models.UniqueConstraint(
                fields=["organization", "team"],
                condition=Q(status="published", team__isnull=False),
                name="playbookversion_one_published_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number} ({self.get_status_display()})"
