"""Customers, their people, what we sell, and the deals in the pipeline."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lodestar.crm.search_keys import contact_search_key, search_key
from lodestar.org.models import Organization, Team

_Keyed = TypeVar("_Keyed", bound="SearchKeyed")


class SearchKeyedQuerySet(models.QuerySet[_Keyed]):
    """Bulk writes keep the search key too (the demo loads its accounts and deals in bulk)."""

    def bulk_create(self, objs: Iterable[_Keyed], *args: Any, **kwargs: Any) -> list[_Keyed]:
        rows = list(objs)
        for row in rows:
            row.search_key = row.computed_search_key()
        return super().bulk_create(rows, *args, **kwargs)

    def bulk_update(
        self, objs: Iterable[_Keyed], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        rows, names = list(objs), list(fields)
        if not {"name", "phone"}.isdisjoint(names) and "search_key" not in names:
            for row in rows:
                row.search_key = row.computed_search_key()
            names.append("search_key")
        return super().bulk_update(rows, names, batch_size=batch_size)


class SearchKeyed(models.Model):
    """A row found by global search: its name as text, pinyin initials and full pinyin
    (`lodestar.crm.search_keys`). The key is the row's own invariant, so the row keeps it on
    every save and bulk write; a queryset `update(name=…)` does not, and is not used on names
    or phone numbers."""

    search_key = models.TextField(_("search key"), blank=True, default="", editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_key = self.computed_search_key()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_key" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_key"]
        super().save(*args, **kwargs)

    def computed_search_key(self) -> str:
        return search_key(str(getattr(self, "name", "")))


class DecisionRole(models.Model):
    """An organization's fixed list of decision-chain roles (CTO, 采购总监, 生产厂长 …)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="decision_roles",
        verbose_name=_("organization"),
    )
    key = models.SlugField(_("key"), max_length=64)
    name_zh = models.CharField(_("name (Chinese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("decision-chain role")
        verbose_name_plural = _("decision-chain roles")
        ordering = ["position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="decisionrole_unique_key")
        ]

    def __str__(self) -> str:
        return self.name_zh


class AccountTier(models.TextChoices):
    KEY = "key", _("Key account")
    STANDARD = "standard", _("Standard")
    SMALL = "small", _("Small")


class Account(SearchKeyed):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    tier = models.CharField(
        _("tier"), max_length=16, choices=AccountTier.choices, default=AccountTier.STANDARD
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    # Share of past orders that were repeat purchases, 0–1; an input of the seed forecast formula.
    repurchase_rate = models.DecimalField(
        _("repurchase rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
        verbose_name=_("owner"),
    )
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects: ClassVar[models.Manager[Account]] = models.Manager.from_queryset(SearchKeyedQuerySet)()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "owner"]),
            models.Index(fields=["organization", "name"]),
            models.Index(fields=["organization", "tier"]),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(SearchKeyed):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    decision_role = models.ForeignKey(
        DecisionRole,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("decision-chain role"),
    )
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Chat identities let captured WeCom / DingTalk / Feishu messages find the contact.
    chat_ids = models.JSONField(_("chat identities"), default=dict, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects: ClassVar[models.Manager[Contact]] = models.Manager.from_queryset(SearchKeyedQuerySet)()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "account"])]

    def __str__(self) -> str:
        return self.name

    def computed_search_key(self) -> str:
        return contact_search_key(self.name, self.phone)


class Product(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=200)
    model_number = models.CharField(_("model number"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    list_price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    aliases = models.JSONField(_("aliases"), default=list, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "category"])]

    def __str__(self) -> str:
        return self.name


class KnowledgeKind(models.TextChoices):
    PRODUCT = "product", _("Product knowledge")
    HANDBOOK = "handbook", _("Handbook")
    CASE = "case", _("Case study")


class KnowledgeEntry(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    key = models.SlugField(_("key"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=KnowledgeKind.choices, default=KnowledgeKind.PRODUCT
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="knowledge",
        verbose_name=_("product"),
    )
    body = models.TextField(_("body"), blank=True)

    class Meta:
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="knowledge_unique_key")
        ]

    def __str__(self) -> str:
        return self.title


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Opportunity(SearchKeyed):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("account")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("owner"),
    )
    # The owner's team when the deal was assigned; manager scoping and team metrics use it.
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("team"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    stage_key = models.CharField(_("stage"), max_length=64)
    stage_entered_at = models.DateTimeField(_("entered stage at"))
    status = models.CharField(
        _("status"), max_length=8, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects: ClassVar[models.Manager[Opportunity]] = models.Manager.from_queryset(
        SearchKeyedQuerySet
    )()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "owner", "status"]),
            models.Index(fields=["organization", "team", "status"]),
            models.Index(fields=["organization", "status", "stage_key"]),
            models.Index(fields=["organization", "account"]),
        ]

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    FORWARD = "forward", _("Forward")
    BACKWARD = "backward", _("Backward (regression)")


class StageTransition(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("opportunity"),
    )
    from_stage = models.CharField(_("from stage"), max_length=64)
    to_stage = models.CharField(_("to stage"), max_length=64)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("actor"),
    )
    # The gate checklist as it stood when the move was made: evidence for audits and replays.
    gate_snapshot = models.JSONField(_("gate snapshot"), default=list, blank=True)

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["organization", "opportunity", "occurred_at"]),
            models.Index(fields=["organization", "direction", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"org-{instance.organization_id}/attachments/{instance.sha256[:2]}/{instance.sha256}"


class AttachmentKind(models.TextChoices):
    MEETING_MINUTES = "meeting_minutes", _("Meeting minutes")
    QUOTE = "quote", _("Quote")
    SIGNED_QUOTE = "signed_quote", _("Signed quote")
    TECHNICAL_AGREEMENT = "technical_agreement", _("Technical agreement")
    INSPECTION_REPORT = "inspection_report", _("Inspection report")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")


class TextStatus(models.TextChoices):
    PENDING = "pending", _("Text being extracted")
    DONE = "done", _("Text extracted")
    REFUSED = "refused", _("Text not extracted")


class TextProblem(models.TextChoices):
    """Why an attachment's text is partial or missing (shown next to it, in both languages)."""

    NONE = "", _("No problem")
    TRUNCATED = (
        "truncated",
        _(
            "Only the beginning of the text was kept: the file is longer than the character or "
            "page limit."
        ),
    )
    TOO_LARGE = (
        "too_large",
        _("The text was not read: the file unpacks to more than the size limit."),
    )
    TOO_SLOW = "too_slow", _("The text was not read: reading it took longer than the time limit.")
    DAMAGED = "damaged", _("The text was not read: the document is damaged.")


class Attachment(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("opportunity"),
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("account"),
    )
    kind = models.CharField(_("kind"), max_length=32, default=AttachmentKind.OTHER)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    # Sniffed from the bytes, never taken from the file name or the client's header.
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    extracted_text = models.TextField(_("extracted text"), blank=True)
    text_length = models.PositiveIntegerField(_("extracted text length"), default=0)
    # Text is extracted by the worker after the upload commits; until then `text_length` is 0
    # and readers (gates, the scorecard) say the text is still pending rather than too short.
    text_status = models.CharField(
        _("text status"), max_length=16, choices=TextStatus.choices, default=TextStatus.DONE
    )
    text_problem = models.CharField(
        _("text problem"), max_length=16, choices=TextProblem.choices, blank=True, default=""
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["organization", "opportunity", "kind"])]

    def __str__(self) -> str:
        return self.original_name


class DailyReport(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="daily_reports",
        verbose_name=_("author"),
    )
    date = models.DateField(_("date"))
    body = models.TextField(_("body"))
    plans = models.TextField(_("plans"), blank=True)
    blockers = models.TextField(_("blockers"), blank=True)
    activity = models.JSONField(_("logged activity"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "author", "date"], name="dailyreport_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.author} {self.date}"
