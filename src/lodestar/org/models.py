"""Tenants, people and their roles.

Every other table carries an `organization` foreign key; selectors scope every read by it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# A daily report is due between noon of its day and noon of the next (minutes after its start).
DAILY_REPORT_DUE_RANGE = (12 * 60, 36 * 60)
DAILY_REPORT_REMINDER_MAX = 12 * 60


def _default_working_days() -> list[int]:
    return [1, 2, 3, 4, 5]


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("Unknown time zone “%(value)s”; use an IANA name such as Asia/Shanghai."),
            params={"value": value},
        ) from exc


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    # ISO weekday numbers (1 = Monday); SLA clocks in business hours count only these days.
    working_days = models.JSONField(_("working days"), default=_default_working_days)
    workday_starts = models.TimeField(_("workday starts"), default=dt.time(9, 0))
    workday_ends = models.TimeField(_("workday ends"), default=dt.time(18, 0))
    # When a day's daily report (日报) is due, in minutes after that day's local midnight:
    # 1440 is midnight at the end of the day, 1200 is 20:00 the same day, 1980 is 09:00 the next
    # (`DAILY_REPORT_DUE_RANGE`). The on-time yardstick and the reminders both read it.
    daily_report_due_minutes = models.PositiveSmallIntegerField(
        _("daily report due (minutes after the day starts)"),
        default=24 * 60,
        validators=[
            MinValueValidator(DAILY_REPORT_DUE_RANGE[0]),
            MaxValueValidator(DAILY_REPORT_DUE_RANGE[1]),
        ],
    )
    # Reps who have not sent theirs are reminded this long before it is due; 0 sends none.
    daily_report_reminder_minutes = models.PositiveSmallIntegerField(
        _("daily report reminder (minutes before it is due)"),
        default=60,
        validators=[MaxValueValidator(DAILY_REPORT_REMINDER_MAX)],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def daily_report_due(self, day: dt.date) -> dt.datetime:
        """When the daily report of the local date `day` is due (wall-clock local time)."""
        start = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
        return start + dt.timedelta(minutes=self.daily_report_due_minutes)


class Holiday(models.Model):
    """A day the organization sets apart from the public calendar (`lodestar.org.calendar`):
    an own day off, or a day it works although the public calendar has it off (or does not yet
    know the make-up day)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="holidays",
        verbose_name=_("organization"),
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    is_working_day = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_(
            "Ticked: the organization works on this date, e.g. a make-up working day the public "
            "calendar does not know yet. Unticked: a day off of its own."
        ),
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(fields=["organization", "date"], name="holiday_unique_per_day")
        ]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Team(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="teams", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=100)
    manager = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Sales manager")
    OPS = "ops", _("Sales ops")
    ADMIN = "admin", _("Administrator")


class Membership(models.Model):
    """A user's place in exactly one organization: role and (for reps and managers) team."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("team"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"

    def clean(self) -> None:
        if self.team is not None and self.team.organization_id != self.organization_id:
            raise ValidationError({"team": _("The team belongs to another organization.")})


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 digest is stored."""

    PREFIX = "lsk_"

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("digest"))
    hint = models.CharField(_("hint"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def digest_of(cls, raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def new_secret(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


class AuditEntry(models.Model):
    """Who did what, when: stage changes, playbook releases, exemptions, token use."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="audit_entries",
        verbose_name=_("organization"),
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("actor")
    )
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    at = models.DateTimeField(_("at"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id"]),
            models.Index(fields=["organization", "at"]),
        ]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"
