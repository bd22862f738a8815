"""Alerts raised by risk and health rules, and the exemptions reps declare."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lodestar.core.scoring import Message, shown_score
from lodestar.crm.models import Opportunity
from lodestar.i18n import localized
from lodestar.org.models import Organization

# The message key of an alert worded by the insights engine in both languages (its messages).
SENTENCE = "sentence"


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    kind = models.CharField(_("kind"), max_length=64)
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("opportunity"),
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("recipient"),
    )
    # One open alert per condition: the same key is never raised twice while still open.
    dedupe_key = models.CharField(max_length=200, verbose_name=_("deduplication key"))
    # What it says: a message key and its parameters (`lodestar.messages`), worded in the
    # reader's language when shown. The key `sentence` is a sentence the engine worded in both
    # languages: the two messages below (timed ones worded again, see `since`).
    message_key = models.CharField(_("message"), max_length=64, default=SENTENCE)
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    message_zh = models.TextField(_("message (Chinese)"))
    message_en = models.TextField(_("message (English)"))
    # A sentence that says how long something has lasted ("已 80 小时无客户互动") is worded
    # again when shown (`insights.wording.alert_message`): the time counts from `since`, and
    # `wording` holds the rest of its parameters (JSON text, compared as text by the recompute).
    # The messages above keep the sentence as last written; the hourly recompute rewrites a
    # row only when what it says changes, not because another hour has passed.
    since = models.DateTimeField(_("counting from"), null=True, blank=True)
    wording = models.TextField(_("wording"), blank=True, default="")
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
        # In the reader's language (the admin lists alerts by it).
        return localized(Message(self.message_zh, self.message_en))


class ExemptionReason(models.TextChoices):
    CUSTOMER_UNREACHABLE = "customer_unreachable", _("Customer temporarily unreachable")
    CUSTOMER_ON_LEAVE = "customer_on_leave", _("Customer on leave / holiday")
    OTHER = "other", _("Other")


# The trigger key of an exemption's re-check task starts with this. Playbook trigger ids are slugs
# without a colon, so a re-check task is never mistaken for a task the playbook's triggers made.
RECHECK_TRIGGER_PREFIX = "exemption:"


class Exemption(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="exemptions",
        verbose_name=_("opportunity"),
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("declared by"),
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

    @property
    def recheck_trigger_key(self) -> str:
        """The trigger key of the task that re-checks this exemption."""
        return f"{RECHECK_TRIGGER_PREFIX}{self.pk}:recheck"


class HealthSnapshot(models.Model):
    """A rep's funnel health as computed on one day (the latest computation of that day wins).

    The three parts are kept with the numbers behind them so a trend can be explained later,
    even after the playbook's weights change (the weights used are stored too).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="health_snapshots",
        verbose_name=_("rep"),
    )
    date = models.DateField(_("date"))
    computed_at = models.DateTimeField(_("computed at"))
    score = models.FloatField(_("score"), null=True, blank=True)
    threshold = models.FloatField(_("threshold"))
    dwell_score = models.FloatField(_("stage dwell part"), null=True, blank=True)
    task_score = models.FloatField(_("task on-time part"), null=True, blank=True)
    interaction_score = models.FloatField(_("customer interaction part"), null=True, blank=True)
    # The numbers behind the parts: deals scored, mean deviation, tasks due / on time,
    # interactions, deal-weeks of exposure, the exempted deals.
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    weights = models.JSONField(_("weights used"), default=dict, blank=True)

    class Meta:
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")
        ordering = ["-date", "rep_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rep", "date"], name="healthsnapshot_one_per_rep_and_day"
            )
        ]
        indexes = [models.Index(fields=["organization", "date"])]

    def __str__(self) -> str:
        score = "–" if self.score is None else shown_score(self.score)
        return f"{self.rep} {self.date}: {score}"


class CommunicationScore(models.Model):
    """The scorecard of one customer communication event (动作健康度评分卡).

    ``final`` once the upload window has passed; a final score never changes, and only final
    scores count towards the "three in a row under 75" rule.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    event = models.OneToOneField(
        "events.Event",
        on_delete=models.CASCADE,
        related_name="communication_score",
        verbose_name=_("event"),
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="communication_scores",
        verbose_name=_("opportunity"),
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="communication_scores",
        verbose_name=_("rep"),
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    score = models.FloatField(_("score"))
    final = models.BooleanField(_("final"), default=False)
    # Each criterion: key, met, weight and the bilingual explanation.
    criteria = models.JSONField(_("criteria"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("communication score")
        verbose_name_plural = _("communication scores")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "rep", "occurred_at"]),
            # Scores counted by time, against the communications of the same time (the sweep's
            # search for communications without a score).
            models.Index(fields=["organization", "occurred_at"], name="score_time"),
            # The scores still open to change: few, and found without reading the rest.
            models.Index(fields=["organization"], condition=Q(final=False), name="score_not_final"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {shown_score(self.score)}"


class HandbookPush(models.Model):
    """The handbook pushed to a rep after a run of low communication scores (once per run)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="handbook_pushes",
        verbose_name=_("rep"),
    )
    # The communication whose score completed the run: one push per run.
    fired_by = models.OneToOneField(
        CommunicationScore,
        on_delete=models.CASCADE,
        related_name="handbook_push",
        verbose_name=_("triggered by"),
    )
    handbook = models.ForeignKey(
        "crm.KnowledgeEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handbook"),
    )
    handbook_key = models.CharField(_("handbook"), max_length=64)
    communication_ids = models.JSONField(_("communications"), default=list)
    scores = models.JSONField(_("scores"), default=list)
    pushed_at = models.DateTimeField(_("pushed at"))
    # Runs older than a week when first computed (history) are recorded but not announced.
    notified = models.BooleanField(_("notified"), default=False)

    class Meta:
        verbose_name = _("handbook push")
        verbose_name_plural = _("handbook pushes")
        ordering = ["-pushed_at", "-id"]
        indexes = [models.Index(fields=["organization", "rep", "pushed_at"])]

    def __str__(self) -> str:
        return f"{self.handbook_key} → {self.rep}"


class DealActivity(models.Model):
    """What the event log says about one deal's activity, kept up to date by ingestion.

    Derived data (`lodestar.insights.activity`): every processed batch raises the maxima and
    adds to the counts in its own transaction, so late and out-of-order events land right and
    the row always equals `deal_activity_rebuild`'s recount of the log (duplicates never reach
    processing). The recompute reads these rows instead of scanning millions of events.
    """

    opportunity = models.OneToOneField(
        Opportunity,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="activity",
        verbose_name=_("opportunity"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    last_event_at = models.DateTimeField(_("last event at"), null=True, blank=True)
    # Latest event marked `with_customer` (any type): the silence rule's default clock.
    last_customer_at = models.DateTimeField(
        _("last customer interaction at"), null=True, blank=True
    )
    events = models.IntegerField(_("events"), default=0)
    customer_events = models.IntegerField(_("customer interactions"), default=0)

    class Meta:
        verbose_name = _("deal activity")
        verbose_name_plural = _("deal activity")

    def __str__(self) -> str:
        return str(_("activity of deal %(id)s") % {"id": self.opportunity_id})


# --- the knowledge base: which stages an entry helps with, and its files -----------------------


class KnowledgeStage(models.Model):
    """A stage of the sales process a knowledge entry helps with; the index filters by it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    entry = models.ForeignKey(
        "crm.KnowledgeEntry",
        on_delete=models.CASCADE,
        related_name="stages",
        verbose_name=_("knowledge entry"),
    )
    stage_key = models.CharField(_("stage"), max_length=64)

    class Meta:
        verbose_name = _("knowledge entry stage")
        verbose_name_plural = _("knowledge entry stages")
        constraints = [
            models.UniqueConstraint(fields=["entry", "stage_key"], name="knowledge_stage_once")
        ]
        indexes = [models.Index(fields=["organization", "stage_key"])]

    def __str__(self) -> str:
        return f"{self.entry_id} @ {self.stage_key}"


def knowledge_file_path(instance: KnowledgeFile, filename: str) -> str:
    return f"org-{instance.organization_id}/knowledge/{instance.sha256[:2]}/{instance.sha256}"


class KnowledgeFile(models.Model):
    """A file of a knowledge entry (a handbook as PDF, a case study's slides as images …).
    Its type is sniffed from the bytes as a deal attachment's is; the stored name is the
    content hash, the client's name is kept as a label."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    entry = models.ForeignKey(
        "crm.KnowledgeEntry",
        on_delete=models.CASCADE,
        related_name="files",
        verbose_name=_("knowledge entry"),
    )
    file = models.FileField(_("file"), upload_to=knowledge_file_path, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("knowledge file")
        verbose_name_plural = _("knowledge files")
        ordering = ["original_name", "id"]

    def __str__(self) -> str:
        return self.original_name


# --- the weekly manager report -------------------------------------------------------------------


class WeeklyReportSchedule(models.Model):
    """When an organization's weekly reports are made and sent: a weekday and an hour of the
    organization's time zone. An organization without a row uses the defaults (Monday 08:00)."""

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
    )
    # ISO weekday: 1 = Monday … 7 = Sunday.
    weekday = models.PositiveSmallIntegerField(_("weekday"), default=1)
    hour = models.PositiveSmallIntegerField(_("hour"), default=8)
    enabled = models.BooleanField(_("sent automatically"), default=True)
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("weekly report schedule")
        verbose_name_plural = _("weekly report schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=1, weekday__lte=7, hour__lte=23),
                name="weeklyschedule_valid_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.weekday} {self.hour:02d}:00"


class ReportTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Generated on request")


class WeeklyReport(models.Model):
    """One team's weekly report: the figures as they stood when it was made (a snapshot that
    later data never changes), one per team and ISO week."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    team = models.ForeignKey(
        "org.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team")
    )
    week = models.CharField(_("week"), max_length=8)  # ISO week, "2026-W48"
    period_start = models.DateTimeField(_("period starts"))
    period_end = models.DateTimeField(_("period ends"))
    generated_at = models.DateTimeField(_("generated at"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("generated by"),
    )
    trigger = models.CharField(
        _("made by"), max_length=16, choices=ReportTrigger.choices, default=ReportTrigger.SCHEDULE
    )
    # Kept apart from the figures: next week's report compares against them.
    team_health = models.FloatField(_("team health"), null=True, blank=True)
    weighted_pipeline = models.DecimalField(
        _("weighted pipeline"), max_digits=18, decimal_places=2, default=0
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    figures = models.JSONField(_("figures"), default=dict, blank=True)

    class Meta:
        verbose_name = _("weekly report")
        verbose_name_plural = _("weekly reports")
        ordering = ["-week", "team_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "team", "week"], name="weeklyreport_one_per_team_and_week"
            )
        ]
        indexes = [models.Index(fields=["organization", "week"])]

    def __str__(self) -> str:
        return f"{self.team_id} {self.week}"
