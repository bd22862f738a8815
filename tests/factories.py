"""factory_boy factories for the domain; tests build exactly the data they talk about.

Every model has one (`tests/test_factories.py` checks it). Each builds a valid row whose related
rows all belong to one organization: a row hanging off a deal takes the deal's organization and
its owner as the person, so `TaskFactory(opportunity=deal)` needs nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.utils import timezone

from lodestar.automation import models as automation
from lodestar.crm import models as crm
from lodestar.events import models as events
from lodestar.imports import models as imports
from lodestar.insights import models as insights
from lodestar.integrations import models as integrations
from lodestar.org import models as org
from lodestar.playbooks import models as playbooks
from tests.core.samples import SEED_PLAYBOOK

MINUTES = "会议纪要:客户确认预算,下周安排技术交流。".encode()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Organization

    name = factory.Sequence(lambda n: f"组织{n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"销售{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a membership; pass `organization`, `role` and `team` to place them."""

    class Meta:
        model = org.User
        skip_postgeneration_save = True

    class Params:
        organization = factory.SubFactory(OrganizationFactory)
        role = org.Role.REP
        team = None

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")

    membership = factory.RelatedFactory(
        "tests.factories.MembershipFactory",
        factory_related_name="user",
        organization=factory.SelfAttribute("..organization"),
        role=factory.SelfAttribute("..role"),
        team=factory.SelfAttribute("..team"),
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory, membership=None)  # this row is the membership
    role = org.Role.REP


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.Account

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"客户公司{n}")
    industry = "制造业"
    repurchase_rate = Decimal("0.5")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.Contact

    account = factory.SubFactory(AccountFactory)
    organization = factory.SelfAttribute("account.organization")
    name = factory.Sequence(lambda n: f"联系人{n}")
    title = "采购经理"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.Product

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"产品{n}")
    model_number = factory.Sequence(lambda n: f"PLC-{n:04d}")


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A deal owned by `owner` (a rep); its organization and team follow the owner's membership."""

    class Meta:
        model = crm.Opportunity

    owner = factory.SubFactory(UserFactory)
    organization = factory.LazyAttribute(lambda o: o.owner.membership.organization)
    team = factory.LazyAttribute(lambda o: o.owner.membership.team)
    account = factory.SubFactory(
        AccountFactory, organization=factory.SelfAttribute("..organization")
    )
    name = factory.Sequence(lambda n: f"商机{n}")
    stage_key = "lead"
    stage_entered_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    amount = Decimal("100000.00")
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class DecisionRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.DecisionRole

    organization = factory.SubFactory(OrganizationFactory)
    key = factory.Sequence(lambda n: f"role-{n}")
    name_zh = factory.Sequence(lambda n: f"角色{n}")
    name_en = factory.Sequence(lambda n: f"Role {n}")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token whose raw secret is kept on the instance as `.secret` (tests only)."""

    class Meta:
        model = org.ApiToken

    user = factory.SubFactory(UserFactory)
    name = "tests"
    secret = factory.LazyFunction(org.ApiToken.new_secret)
    digest = factory.LazyAttribute(lambda t: org.ApiToken.digest_of(t.secret))
    hint = factory.LazyAttribute(lambda t: t.secret[:8])

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> org.ApiToken:
        secret = kwargs.pop("secret")
        token = super()._create(model_class, *args, **kwargs)
        token.secret = secret
        return token


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.Holiday

    organization = factory.SubFactory(OrganizationFactory)
    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(days=n))
    name = "公司年会"


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = org.AuditEntry

    actor = factory.SubFactory(UserFactory, role=org.Role.ADMIN)
    organization = factory.LazyAttribute(lambda a: a.actor.membership.organization)
    action = "api_token.create"
    object_type = "api_token"
    object_id = factory.Sequence(str)
    at = factory.LazyFunction(timezone.now)


class KnowledgeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.KnowledgeEntry

    organization = factory.SubFactory(OrganizationFactory)
    key = factory.Sequence(lambda n: f"entry-{n}")
    title = factory.Sequence(lambda n: f"知识条目{n}")
    body = "先问清客户的产线节拍,再谈配置。"


class StageTransitionFactory(factory.django.DjangoModelFactory):
    """A forward move of a deal, made by its owner."""

    class Meta:
        model = crm.StageTransition

    opportunity = factory.SubFactory(OpportunityFactory)
    organization = factory.SelfAttribute("opportunity.organization")
    actor = factory.SelfAttribute("opportunity.owner")
    from_stage = "lead"
    to_stage = "demo"
    direction = crm.Direction.FORWARD
    occurred_at = factory.LazyFunction(timezone.now)


class AttachmentFactory(factory.django.DjangoModelFactory):
    """Meeting minutes uploaded by the deal's owner, their text extracted. Writes the file to
    the storage: point MEDIA_ROOT at a temporary folder first."""

    class Meta:
        model = crm.Attachment

    class Params:
        content = MINUTES

    opportunity = factory.SubFactory(OpportunityFactory)
    organization = factory.SelfAttribute("opportunity.organization")
    account = factory.SelfAttribute("opportunity.account")
    uploaded_by = factory.SelfAttribute("opportunity.owner")
    kind = crm.AttachmentKind.MEETING_MINUTES
    file = factory.django.FileField(data=factory.SelfAttribute("..content"), filename="minutes.txt")
    original_name = "纪要.txt"
    content_type = "text/plain"
    size = factory.LazyAttribute(lambda a: len(a.content))
    sha256 = factory.LazyAttribute(lambda a: hashlib.sha256(a.content).hexdigest())
    extracted_text = factory.LazyAttribute(lambda a: a.content.decode())
    text_length = factory.LazyAttribute(lambda a: len(a.extracted_text))
    uploaded_at = factory.LazyFunction(timezone.now)


class DailyReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = crm.DailyReport

    author = factory.SubFactory(UserFactory)
    organization = factory.LazyAttribute(lambda r: r.author.membership.organization)
    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(days=n))
    body = "拜访两家客户,发出一份报价。"
    submitted_at = factory.LazyAttribute(
        lambda r: dt.datetime.combine(r.date, dt.time(18), tzinfo=dt.UTC)
    )


class PlaybookVersionFactory(factory.django.DjangoModelFactory):
    """A draft of the seed playbook, written by an ops user of the organization."""

    class Meta:
        model = playbooks.PlaybookVersion

    created_by = factory.SubFactory(UserFactory, role=org.Role.OPS)
    organization = factory.LazyAttribute(lambda v: v.created_by.membership.organization)
    number = factory.Sequence(lambda n: n + 1)
    name = "种子销售流程"
    source = SEED_PLAYBOOK
    checksum = factory.LazyAttribute(lambda v: hashlib.sha256(v.source.encode()).hexdigest())
    created_at = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    """A call with the customer on a deal, made by the deal's owner."""

    class Meta:
        model = events.Event

    opportunity = factory.SubFactory(OpportunityFactory)
    organization = factory.SelfAttribute("opportunity.organization")
    account = factory.SelfAttribute("opportunity.account")
    actor = factory.SelfAttribute("opportunity.owner")
    type = "call"
    source = "tests"
    external_id = factory.Sequence(lambda n: f"event-{n}")
    occurred_at = factory.LazyFunction(timezone.now)
    recorded_at = factory.SelfAttribute("occurred_at")
    with_customer = True


class TaskFactory(factory.django.DjangoModelFactory):
    """An open task on a deal, for the deal's owner, due a day after it was made.

    Without a deal (`opportunity=None`) pass the `assignee`: the task is in their organization.
    """

    class Meta:
        model = automation.Task

    opportunity = factory.SubFactory(OpportunityFactory)
    assignee = factory.LazyAttribute(lambda t: t.opportunity.owner)
    organization = factory.LazyAttribute(lambda t: t.assignee.membership.organization)
    title = factory.Sequence(lambda n: f"跟进任务{n}")
    created_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda t: t.created_at + dt.timedelta(days=1))


class AlertFactory(factory.django.DjangoModelFactory):
    """An open silence alert on a deal, addressed to the deal's owner."""

    class Meta:
        model = insights.Alert

    opportunity = factory.SubFactory(OpportunityFactory)
    recipient = factory.LazyAttribute(lambda a: a.opportunity.owner)
    organization = factory.LazyAttribute(lambda a: a.recipient.membership.organization)
    kind = "risk.silence"
    dedupe_key = factory.Sequence(lambda n: f"alert-{n}")
    message_zh = "已 80 小时无客户互动"
    message_en = "No customer interaction for 80 hours"
    raised_at = factory.LazyFunction(timezone.now)


class ExemptionFactory(factory.django.DjangoModelFactory):
    """A week's exemption the deal's owner declared for their deal."""

    class Meta:
        model = insights.Exemption

    opportunity = factory.SubFactory(OpportunityFactory)
    organization = factory.SelfAttribute("opportunity.organization")
    declared_by = factory.SelfAttribute("opportunity.owner")
    reason = "客户出差两周"
    starts_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda e: e.starts_at + dt.timedelta(days=7))
    recheck_at = factory.SelfAttribute("ends_at")
    created_at = factory.SelfAttribute("starts_at")


class HealthSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = insights.HealthSnapshot

    rep = factory.SubFactory(UserFactory)
    organization = factory.LazyAttribute(lambda h: h.rep.membership.organization)
    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(days=n))
    computed_at = factory.LazyAttribute(
        lambda h: dt.datetime.combine(h.date, dt.time(23), tzinfo=dt.UTC)
    )
    score = 80.0
    threshold = 70.0


class CommunicationScoreFactory(factory.django.DjangoModelFactory):
    """The final score of a communication (an event) on the event's deal, for its owner."""

    class Meta:
        model = insights.CommunicationScore

    event = factory.SubFactory(EventFactory)
    organization = factory.SelfAttribute("event.organization")
    opportunity = factory.SelfAttribute("event.opportunity")
    rep = factory.LazyAttribute(lambda s: s.opportunity.owner)
    occurred_at = factory.SelfAttribute("event.occurred_at")
    score = 60.0
    final = True
    computed_at = factory.LazyFunction(timezone.now)


class HandbookPushFactory(factory.django.DjangoModelFactory):
    """A handbook pushed to the rep whose low score completed the run."""

    class Meta:
        model = insights.HandbookPush

    fired_by = factory.SubFactory(CommunicationScoreFactory)
    organization = factory.SelfAttribute("fired_by.organization")
    rep = factory.SelfAttribute("fired_by.rep")
    handbook = factory.SubFactory(
        KnowledgeEntryFactory,
        organization=factory.SelfAttribute("..organization"),
        kind=crm.KnowledgeKind.HANDBOOK,
    )
    handbook_key = factory.SelfAttribute("handbook.key")
    communication_ids = factory.LazyAttribute(lambda p: [p.fired_by.event_id])
    scores = factory.LazyAttribute(lambda p: [p.fired_by.score])
    pushed_at = factory.LazyFunction(timezone.now)


class KnowledgeStageFactory(factory.django.DjangoModelFactory):
    """A knowledge entry offered at the seed playbook's second stage."""

    class Meta:
        model = insights.KnowledgeStage

    entry = factory.SubFactory(KnowledgeEntryFactory)
    organization = factory.SelfAttribute("entry.organization")
    stage_key = "first_contact"


class KnowledgeFileFactory(factory.django.DjangoModelFactory):
    """A handbook's text file. Writes the file to the storage: point MEDIA_ROOT at a temporary
    folder first."""

    class Meta:
        model = insights.KnowledgeFile

    class Params:
        content = "异议应答:价格高 → 先算产线停机一小时的损失。".encode()

    entry = factory.SubFactory(KnowledgeEntryFactory)
    organization = factory.SelfAttribute("entry.organization")
    file = factory.django.FileField(
        data=factory.SelfAttribute("..content"), filename="handbook.txt"
    )
    original_name = "应答手册.txt"
    content_type = "text/plain"
    size = factory.LazyAttribute(lambda f: len(f.content))
    sha256 = factory.LazyAttribute(lambda f: hashlib.sha256(f.content).hexdigest())
    uploaded_at = factory.LazyFunction(timezone.now)


class DealActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = insights.DealActivity

    opportunity = factory.SubFactory(OpportunityFactory)
    organization = factory.SelfAttribute("opportunity.organization")
    last_event_at = factory.LazyFunction(timezone.now)
    last_customer_at = factory.SelfAttribute("last_event_at")
    events = 1
    customer_events = 1


class ChannelConfigFactory(factory.django.DjangoModelFactory):
    """The organization's WeCom group robot."""

    class Meta:
        model = integrations.ChannelConfig

    organization = factory.SubFactory(OrganizationFactory)
    kind = integrations.Channel.WECOM
    webhook_url = factory.Sequence(
        lambda n: f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k{n}"
    )


class NotificationFactory(factory.django.DjangoModelFactory):
    """An in-app notification (delivered the moment it exists, as the outbox writes it)."""

    class Meta:
        model = integrations.Notification

    recipient = factory.SubFactory(UserFactory)
    organization = factory.LazyAttribute(lambda n: n.recipient.membership.organization)
    channel = integrations.Channel.IN_APP
    title = factory.Sequence(lambda n: f"通知{n}")
    cause_key = factory.Sequence(lambda n: f"cause-{n}")
    dedupe_key = factory.LazyAttribute(lambda n: f"{n.cause_key}|in_app|user:{n.recipient.pk}")
    status = integrations.NotificationStatus.DELIVERED
    created_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.SelfAttribute("created_at")
    delivered_at = factory.SelfAttribute("created_at")


class LanguagePreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = integrations.LanguagePreference

    user = factory.SubFactory(UserFactory)
    language = "en"


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = integrations.CalendarFeed

    user = factory.SubFactory(UserFactory)
    digest = factory.LazyFunction(
        lambda: integrations.CalendarFeed.digest_of(integrations.CalendarFeed.new_token())
    )
    created_at = factory.LazyFunction(timezone.now)


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """An enabled outbound webhook subscribed to every event type."""

    class Meta:
        model = integrations.WebhookSubscription

    organization = factory.SubFactory(OrganizationFactory)
    url = factory.Sequence(lambda n: f"https://crm{n}.example.com/lodestar")
    event_types = factory.LazyFunction(
        lambda: [
            "deal.stage_changed",
            "deal.gate_refused",
            "task.created",
            "task.overdue",
            "alert.raised",
            "alert.resolved",
        ]
    )
    secret = factory.Sequence(lambda n: f"whsec_test{n}")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A webhook delivery with its outbox row, waiting to be sent."""

    class Meta:
        model = integrations.WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    organization = factory.SelfAttribute("subscription.organization")
    notification = factory.LazyAttribute(
        lambda d: integrations.Notification.objects.create(
            organization=d.organization,
            channel=integrations.Channel.WEBHOOK,
            title="task.created",
            cause_key=f"webhook:task.created:{d.event_id}",
            dedupe_key=f"webhook:task.created:{d.event_id}|webhook|sub:{d.subscription.pk}",
            next_attempt_at=timezone.now(),
            created_at=timezone.now(),
        )
    )
    event_type = "task.created"
    event_id = factory.Sequence(lambda n: f"evt_{n:032x}")
    delivery_id = factory.Sequence(lambda n: f"dlv_{n:032x}")
    body = factory.LazyAttribute(lambda d: f'{{"id":"{d.event_id}","type":"task.created"}}')
    created_at = factory.LazyFunction(timezone.now)


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    """A delivered first attempt."""

    class Meta:
        model = integrations.WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    subscription = factory.SelfAttribute("delivery.subscription")
    organization = factory.SelfAttribute("delivery.organization")
    number = 1
    started_at = factory.LazyFunction(timezone.now)
    duration_ms = 12
    status_code = 200
    outcome = integrations.AttemptOutcome.DELIVERED


class WeeklyReportScheduleFactory(factory.django.DjangoModelFactory):
    """An organization's weekly reports on Friday at 17:00."""

    class Meta:
        model = insights.WeeklyReportSchedule

    organization = factory.SubFactory(OrganizationFactory)
    weekday = 5
    hour = 17
    updated_at = factory.LazyFunction(timezone.now)


class WeeklyReportFactory(factory.django.DjangoModelFactory):
    """A team's weekly report of an ISO week of 2030, its figures as little as a page shows."""

    class Meta:
        model = insights.WeeklyReport

    team = factory.SubFactory(TeamFactory)
    organization = factory.SelfAttribute("team.organization")
    week = factory.Sequence(lambda n: f"2030-W{n % 52 + 1:02d}")
    period_end = factory.LazyFunction(timezone.now)
    period_start = factory.LazyAttribute(lambda r: r.period_end - dt.timedelta(days=7))
    generated_at = factory.SelfAttribute("period_end")
    team_health = 64.0
    weighted_pipeline = Decimal("45000.00")
    figures = factory.LazyAttribute(
        lambda r: {
            "version": 1,
            "team": {"id": r.team.pk, "name": r.team.name, "manager": ""},
            "threshold": 70.0,
            "health": {"team": 64.0, "previous": None, "reps": [], "trend": [], "below": []},
            "stuck": [],
            "silent": [],
            "risks": {},
            "penetration": {"figure": None, "by_rep": []},
            "pipeline": {"currency": "CNY", "weighted": "45000.00", "amount": "150000.00"},
            "coaching": [],
        }
    )


class ImportBatchFactory(factory.django.DjangoModelFactory):
    """An accounts file uploaded by an ops user (its stored file is not written)."""

    class Meta:
        model = imports.ImportBatch

    created_by = factory.SubFactory(UserFactory, role=org.Role.OPS)
    organization = factory.LazyAttribute(lambda b: b.created_by.membership.organization)
    kind = imports.ImportKind.ACCOUNTS
    original_name = "客户.csv"
    size = 32
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    file = factory.LazyAttribute(lambda b: f"tests/imports/{b.sha256}")
    format = "csv"
    encoding = "utf-8"
    headers = factory.LazyFunction(lambda: ["客户名称"])
    created_at = factory.LazyFunction(timezone.now)


class ImportProblemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = imports.ImportProblem

    batch = factory.SubFactory(ImportBatchFactory)
    organization = factory.SelfAttribute("batch.organization")
    row = 2
    column = "客户名称"
    field = "name"
    severity = imports.Severity.ERROR
    code = "required_empty"
    message_zh = "客户名称为空。"
    message_en = "The account name is empty."


class ImportedRecordFactory(factory.django.DjangoModelFactory):
    """An account imported by a batch of its organization."""

    class Meta:
        model = imports.ImportedRecord

    created_by_batch = factory.SubFactory(ImportBatchFactory)
    changed_by_batch = factory.SelfAttribute("created_by_batch")
    organization = factory.SelfAttribute("created_by_batch.organization")
    kind = imports.ImportKind.ACCOUNTS
    key = factory.Sequence(lambda n: f"ACC-{n}")
    object_id = factory.LazyAttribute(lambda r: AccountFactory(organization=r.organization).pk)
    digest = factory.Sequence(lambda n: f"{n:040x}")


class SavedMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = imports.SavedMapping

    updated_by = factory.SubFactory(UserFactory, role=org.Role.OPS)
    organization = factory.LazyAttribute(lambda m: m.updated_by.membership.organization)
    kind = imports.ImportKind.ACCOUNTS
    signature = factory.Sequence(lambda n: f"{n:064x}")
    mapping = factory.LazyFunction(lambda: {"kind": "accounts", "columns": []})
    updated_at = factory.LazyFunction(timezone.now)
