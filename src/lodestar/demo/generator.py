"""Builds a demo organization with a year of sales history, deterministically for a seed.

Two passes over the deals keep memory bounded at any scale:

1. *Plan*: every deal's path through its process (stage moves with dwell times, regressions,
   outcome, silence) is simulated from its own random stream. Plans are small; the deals are
   written with the ORM so their ids come back.
2. *Activity*: deal by deal, in chunks, the events, stage transitions, tasks, attachments,
   alerts, exemptions and audit entries that the plan implies are generated as plain tuples and
   appended with the fast path (`bulk.BulkSink`), then dropped.

Every deal draws from `random.Random(seed, deal index)` of its own, so a deal's history does not
depend on chunk sizes or on the other deals, and the same seed gives the same data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import random
import time
import zoneinfo
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from lodestar.demo import processes, vocab
from lodestar.demo.bulk import (
    BulkSink,
    bulk_load_session,
    deferred_indexes,
    row_estimate,
    scattered_indexes,
    tune_transaction,
)

__all__ = [
    "DEFAULT_DEALS",
    "DEFAULT_EVENTS_PER_DEAL",
    "DEFAULT_MONTHS",
    "DEFAULT_REPS",
    "DEFAULT_SEED",
    "DEFAULT_SLUG",
    "DEMO_PASSWORD",
    "DemoError",
    "DemoLogin",
    "DemoSummary",
    "ProgressCallback",
    "generate",
    "load_demo_organization",
    "refresh_statistics",
]

DEFAULT_SLUG = "demo"
DEFAULT_REPS = 12
DEFAULT_DEALS = 600
DEFAULT_MONTHS = 12
DEFAULT_SEED = 42
DEFAULT_EVENTS_PER_DEAL = 100
DEMO_PASSWORD = "lodestar-demo"  # noqa: S105 - the published demo password
TIME_ZONE = "Asia/Shanghai"

# (phase, done, total): phases are "setup", "deals", "activity" and "reports".
ProgressCallback = Callable[[str, int, int], None]

_DAY = 86_400
_HOUR = 3_600
_CHUNK_DEALS = 250
_ORM_BATCH = 1_000
_MINUTES_THRESHOLD = 300
_DEFER_INDEXES_FROM = 200_000


class DemoError(Exception):
    """The demo organization cannot be built as asked (bad arguments, name clash)."""


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    display_name: str
    team: str


@dataclass(frozen=True)
class DemoSummary:
    """What a load produced. Two loads with the same arguments compare equal."""

    seed: int
    reps: int
    deals: int
    months: int
    # Rows per table written for the organization.
    counts: dict[str, int]
    # Events per type.
    event_types: dict[str, int]
    # SHA-256 over every deal's plan and the per-type tallies: equal digests, equal data.
    digest: str
    organization_id: int = field(compare=False)
    slug: str = field(compare=False)
    logins: tuple[DemoLogin, ...] = field(compare=False)
    already_loaded: bool = field(default=False, compare=False)
    seconds: float = field(default=0.0, compare=False)
    # Wall time of the activity pass (events and everything written alongside them).
    activity_seconds: float = field(default=0.0, compare=False)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    @property
    def events_per_second(self) -> float:
        events = self.counts.get("events", 0)
        return events / self.activity_seconds if self.activity_seconds else 0.0

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        """A short human-readable report (for the CLI)."""
        if self.already_loaded:
            out = [f"Demo organization “{self.slug}” is already loaded; nothing written."]
        else:
            out = [
                f"Demo organization “{self.slug}”: {self.reps} reps, {self.deals} deals, "
                f"{self.months} months, seed {self.seed}.",
                ", ".join(f"{name} {n:,}" for name, n in self.counts.items()),
                f"{self.total_rows:,} rows in {self.seconds:.1f} s "
                f"({self.rows_per_second:,.0f} rows/s); events {self.events_per_second:,.0f}/s.",
            ]
        out.extend(
            f"  {login.role:<8} {login.username} / {login.password}  ({login.display_name})"
            for login in self.logins
        )
        return out


# --------------------------------------------------------------------------- public API


def generate(
    *,
    reps: int = DEFAULT_REPS,
    deals: int = DEFAULT_DEALS,
    months: int = DEFAULT_MONTHS,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
    slug: str = DEFAULT_SLUG,
    name: str | None = None,
    events_per_deal: int = DEFAULT_EVENTS_PER_DEAL,
    username_prefix: str | None = None,
    password: str = DEMO_PASSWORD,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Create a new demo organization `slug` with its history ending at `now`.

    Raises `DemoError` if the slug or one of the user names is taken. Writes in one
    transaction: on failure nothing is left behind.
    """
    from lodestar.org.models import Organization

    if now is None:
        now = timezone.now()
    if timezone.is_naive(now):
        raise DemoError("`now` must be an aware datetime.")
    if reps < 1 or deals < 1 or months < 1 or events_per_deal < 1:
        raise DemoError("reps, deals, months and events_per_deal must be at least 1.")
    if Organization.objects.filter(slug=slug).exists():
        raise DemoError(f"An organization with slug “{slug}” already exists.")
    prefix = _prefix_for(slug) if username_prefix is None else username_prefix
    builder = _Builder(
        reps=reps,
        deals=deals,
        months=months,
        seed=seed,
        now=now,
        slug=slug,
        name=name or ("北极星演示集团" if slug == DEFAULT_SLUG else f"北极星演示集团({slug})"),
        events_per_deal=events_per_deal,
        prefix=prefix,
        password=password,
        progress=progress or _no_progress,
    )
    return builder.run()


def refresh_statistics() -> None:
    """Fresh planner statistics after a bulk load (outside a transaction only: PostgreSQL's
    autovacuum would get there later), or the planner reads a deal's events through the
    organization-wide time index instead of the deal's own, and a thousand deals' alerts by
    scanning every alert of the organization. PostgreSQL also gets its visibility map
    (VACUUM): until then an index-only scan still visits every row it finds (the insights
    sweep's anti-join of recent communications read 150 k rows of the log that way)."""
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


def load_demo_organization(
    *,
    reps: int = DEFAULT_REPS,
    deals: int = DEFAULT_DEALS,
    months: int = DEFAULT_MONTHS,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
    slug: str = DEFAULT_SLUG,
    events_per_deal: int = DEFAULT_EVENTS_PER_DEAL,
    password: str = DEMO_PASSWORD,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Load the demo organization unless it is there already (idempotent).

    A second call finds the organization by slug, writes nothing and returns a summary with
    `already_loaded=True`, the current row counts and the same demo logins.
    """
    from lodestar.org.models import Organization

    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        summary = generate(
            reps=reps,
            deals=deals,
            months=months,
            seed=seed,
            now=now,
            slug=slug,
            events_per_deal=events_per_deal,
            password=password,
            progress=progress,
        )
        # Health scores, alerts and scorecards come from the engine, as they would in use.
        from lodestar.insights.refresh import insights_recompute

        insights_recompute(
            organization_id=summary.organization_id,
            now=now,
            progress=(lambda phase, done, total: progress(f"insights {phase}", done, total))
            if progress is not None
            else None,
        )
        refresh_statistics()  # the recompute wrote tens of thousands of alerts and scores
        return dataclasses.replace(summary, counts=_count_rows(summary.organization_id))
    return DemoSummary(
        seed=seed,
        reps=reps,
        deals=deals,
        months=months,
        counts=_count_rows(org.pk),
        event_types={},
        digest="",
        organization_id=org.pk,
        slug=slug,
        logins=_logins(_prefix_for(slug), password, org.pk),
        already_loaded=True,
    )


# --------------------------------------------------------------------------- helpers


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def _prefix_for(slug: str) -> str:
    return "" if slug == DEFAULT_SLUG else f"{slug}-"


_LOGIN_ROLES = ("rep", "manager", "ops", "admin")


def _logins(prefix: str, password: str, org_id: int) -> tuple[DemoLogin, ...]:
    from lodestar.org.models import User

    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[prefix + r for r in _LOGIN_ROLES], membership__organization_id=org_id
        ).select_related("membership__team")
    }
    out = []
    for role in _LOGIN_ROLES:
        user = users.get(prefix + role)
        if user is None:
            continue
        team = user.membership.team
        out.append(
            DemoLogin(role, user.username, password, user.display_name, team.name if team else "")
        )
    return tuple(out)


def _count_rows(org_id: int) -> dict[str, int]:
    from lodestar.automation.models import Task
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
    from lodestar.events.models import Event
    from lodestar.insights.models import Alert, Exemption
    from lodestar.org.models import AuditEntry, Membership, Team
    from lodestar.playbooks.models import PlaybookVersion

    tables: dict[str, Any] = {
        "users": Membership,
        "teams": Team,
        "playbook_versions": PlaybookVersion,
        "decision_roles": DecisionRole,
        "products": Product,
        "knowledge_entries": KnowledgeEntry,
        "accounts": Account,
        "contacts": Contact,
        "opportunities": Opportunity,
        "events": Event,
        "stage_transitions": StageTransition,
        "tasks": Task,
        "attachments": Attachment,
        "alerts": Alert,
        "exemptions": Exemption,
        "audit_entries": AuditEntry,
        "daily_reports": DailyReport,
    }
    return {
        name: model.objects.filter(organization_id=org_id).count() for name, model in tables.items()
    }


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _lognormal_amount(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    value = math.exp(rng.gauss(math.log(median), sigma))
    return int(min(hi, max(lo, round(value, -2))))


# Minimal valid one-page PDF with a few lines of ASCII text (quotes, agreements, contracts).
def _pdf(lines: list[str]) -> bytes:
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 11 Tf 72 760 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


@dataclass(frozen=True)
class _File:
    """One stored file of the pool attachments point at (content-addressed, so shared)."""

    name: str
    sha256: str
    size: int
    content_type: str
    text: str


@dataclass
class _Rep:
    index: int
    user_id: int
    team_index: int
    skill: float
    accounts: list[int] = field(default_factory=list)


@dataclass
class _Team:
    index: int
    kind: str  # "industrial" or "saas" (processes.KINDS)
    name: str
    manager_id: int
    team_id: int = 0


@dataclass
class _AccountInfo:
    account_id: int
    short_name: str
    key: bool
    contacts: list[tuple[int, str, str, bool]]  # (id, name, title key, decision maker)


@dataclass
class _Plan:
    """One deal's simulated life; small enough to keep 50,000 of them."""

    index: int
    rep: int
    account: int
    process: str
    product: int
    created: int
    # (from stage, to stage, at) in order.
    moves: list[tuple[str, str, int]]
    status: str
    closed: int | None
    last_activity: int
    silence: str  # "", "72h" or "47d"
    amount: int
    expected_close: dt.date
    custom_fields: dict[str, Any]
    name: str
    lost_reason: str = ""
    opportunity_id: int = 0

    @property
    def stage(self) -> str:
        return self.moves[-1][1] if self.moves else "lead"

    @property
    def stage_entered(self) -> int:
        return self.moves[-1][2] if self.moves else self.created

    def line(self) -> str:
        moves = ";".join(f"{a}>{b}@{t}" for a, b, t in self.moves)
        return (
            f"{self.index}|{self.rep}|{self.account}|{self.process}|{self.product}|"
            f"{self.created}|{self.status}|{self.closed}|{self.last_activity}|{self.silence}|"
            f"{self.amount}|{self.expected_close}|{self.name}|{moves}"
        )


# Filler activity: (event type, direction, relative weight).
_FILLER = (
    ("chat.message", "out", 30),
    ("chat.message", "in", 24),
    ("call", "", 12),
    ("email.sent", "", 12),
    ("email.received", "", 8),
    ("document.updated", "", 6),
    ("meeting.held", "", 3),
)
_FILLER_TABLE = [(t, d) for t, d, w in _FILLER for _ in range(w)]

# Events in which the customer took part (Event.with_customer); a rep's own messages, quotes
# and documents do not break a silence. Chat messages say it in their payload.
_WITH_CUSTOMER = frozenset(
    {
        "call",
        "email.received",
        "meeting.held",
        "demo.held",
        "demo.booked",
        "customer.confirmed",
        "integration.requested",
        "poc.feedback",
        "tech_params.synced",
        "erp.order",
    }
)
_SOURCES = {
    "email.sent": "email",
    "email.received": "email",
    "call": "phone",
    "demo.booked": "calendar",
    "erp.order": "erp",
    "approval.sealed": "dingtalk",
    "legal.review.started": "oa",
    "legal.review.finished": "oa",
    "task.completed": "lodestar",
    "stage.changed": "lodestar",
    "trial.activated": "saas-admin",
}
# Seconds between something happening and the system recording it (upper bound).
_RECORD_DELAY = {
    "chat.message": 30,
    "customer.confirmed": 30,
    "call": 3_600,
    "meeting.held": 7_200,
    "demo.held": 3_600,
    "email.sent": 5,
    "email.received": 5,
    "erp.order": 600,
    "approval.sealed": 120,
}


class _Builder:
    def __init__(
        self,
        *,
        reps: int,
        deals: int,
        months: int,
        seed: int,
        now: dt.datetime,
        slug: str,
        name: str,
        events_per_deal: int,
        prefix: str,
        password: str,
        progress: ProgressCallback,
    ) -> None:
        self.n_reps = reps
        self.n_deals = deals
        self.months = months
        self.seed = seed
        self.now = now
        self.now_ts = int(now.timestamp())
        self.start_ts = self.now_ts - int(months * 30.44 * _DAY)
        self.slug = slug
        self.name = name
        self.events_per_deal = events_per_deal
        self.prefix = prefix
        self.password = password
        self.progress = progress
        self.tz = zoneinfo.ZoneInfo(TIME_ZONE)
        self.rng = random.Random(f"lodestar-demo:{seed}")
        self.counts: Counter[str] = Counter()
        self.event_types: Counter[str] = Counter()
        self.digest = hashlib.sha256()

    # ------------------------------------------------------------------ orchestration

    def run(self) -> DemoSummary:
        started = time.perf_counter()
        with bulk_load_session(connection), transaction.atomic():
            tune_transaction(connection)
            self.sink = BulkSink(connection)
            self.progress("setup", 0, 1)
            self._organization()
            self._people()
            self._playbooks()
            self._catalogue()
            self._customers()
            self.progress("setup", 1, 1)
            self._plan_deals()
            activity_started = time.perf_counter()
            self._activity()
            activity_seconds = time.perf_counter() - activity_started
            self._daily_reports()
            # The rows went around ingestion, so the activity summary is counted from them.
            from lodestar.insights.activity import deal_activity_rebuild

            deal_activity_rebuild(organization_id=self.org.pk)
        refresh_statistics()
        for name, count in sorted(self.event_types.items()):
            self.digest.update(f"event:{name}={count}\n".encode())
        for name, count in sorted(self.counts.items()):
            self.digest.update(f"rows:{name}={count}\n".encode())
        return DemoSummary(
            seed=self.seed,
            reps=self.n_reps,
            deals=self.n_deals,
            months=self.months,
            counts=dict(self.counts),
            event_types=dict(sorted(self.event_types.items())),
            digest=self.digest.hexdigest(),
            organization_id=self.org.pk,
            slug=self.slug,
            logins=_logins(self.prefix, self.password, self.org.pk),
            seconds=time.perf_counter() - started,
            activity_seconds=activity_seconds,
        )

    def _dt(self, ts: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, tz=dt.UTC)

    def _local_date(self, ts: int) -> dt.date:
        return dt.datetime.fromtimestamp(ts, tz=self.tz).date()

    # ------------------------------------------------------------------ reference data

    def _organization(self) -> None:
        from lodestar.crm.models import DecisionRole
        from lodestar.org.calendar import organization_calendar
        from lodestar.org.models import Organization

        self.org = Organization.objects.create(name=self.name, slug=self.slug, time_zone=TIME_ZONE)
        self.org_id = self.org.pk
        # China's public holidays and make-up working days come with every organization.
        self.calendar = organization_calendar(organization=self.org)
        roles = DecisionRole.objects.bulk_create(
            DecisionRole(
                organization=self.org,
                key=title.key,
                name_zh=title.name_zh,
                name_en=title.name_en,
                position=position,
            )
            for position, title in enumerate(vocab.TITLES)
        )
        self.decision_roles = {role.key: role.pk for role in roles}
        self.titles = {title.key: title for title in vocab.TITLES}
        self.counts["decision_roles"] = len(roles)

    def _person_name(self, taken: set[str]) -> str:
        rng = self.rng
        while True:
            given = rng.choice(vocab.GIVEN_CHARS)
            if rng.random() < 0.7:
                given += rng.choice(vocab.GIVEN_CHARS)
            name = rng.choice(vocab.SURNAMES) + given
            if name not in taken:
                taken.add(name)
                return name

    def _phone(self) -> str:
        rng = self.rng
        return f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10**8):08d}"

    def _people(self) -> None:
        from lodestar.org.models import Membership, Role, Team, User

        n_teams = max(2, math.ceil(self.n_reps / 8))
        kinds = [("industrial" if i % 2 == 0 else "saas") for i in range(n_teams)]
        rep_teams = [i % n_teams for i in range(self.n_reps)]
        names: set[str] = set()
        hashed = make_password(self.password)
        users: list[Any] = []
        roles: list[tuple[str, int | None]] = []

        # Nobody here is a superuser: the demo's admin uses the admin site through their role,
        # scoped to the demo organization; operators are made by `lodestar operator create`.
        def add(username: str, display: str, role: str, team: int | None) -> int:
            users.append(
                User(
                    username=self.prefix + username,
                    display_name=display,
                    email=f"{self.prefix}{username}@lodestar-demo.test",
                    phone=self._phone(),
                    password=hashed,
                )
            )
            roles.append((role, team))
            return len(users) - 1

        teams: list[_Team] = []
        counters = Counter[str]()
        for index, kind in enumerate(kinds):
            counters[kind] += 1
            city, label = ("绍兴", "工业设备") if kind == "industrial" else ("杭州", "SaaS")
            username = "manager" if index == 0 else f"manager-{index + 1:02d}"
            manager = add(username, self._person_name(names), Role.MANAGER, index)
            teams.append(
                _Team(index, kind, f"{city}{label}{_cn_number(counters[kind])}组", manager)
            )
        reps: list[_Rep] = []
        for index, team in enumerate(rep_teams):
            username = "rep" if index == 0 else f"rep-{index + 1:03d}"
            user = add(username, self._person_name(names), Role.REP, team)
            skill = round(0.15 + 0.8 * self.rng.betavariate(2.5, 2.0), 3)
            reps.append(_Rep(index, user, team, skill))
        ops = add("ops", self._person_name(names), Role.OPS, None)
        admin = add("admin", self._person_name(names), Role.ADMIN, None)
        taken = list(
            User.objects.filter(username__in=[u.username for u in users]).values_list(
                "username", flat=True
            )[:5]
        )
        if taken:
            raise DemoError(
                f"User names already taken: {', '.join(taken)}; choose another slug or prefix."
            )
        created = User.objects.bulk_create(users, batch_size=_ORM_BATCH)
        user_ids = [u.pk for u in created]
        team_rows = Team.objects.bulk_create(
            Team(organization=self.org, name=t.name, manager_id=user_ids[t.manager_id])
            for t in teams
        )
        for team, row in zip(teams, team_rows, strict=True):
            team.team_id = row.pk
            team.manager_id = user_ids[team.manager_id]
        Membership.objects.bulk_create(
            (
                Membership(
                    organization=self.org,
                    user_id=user_ids[i],
                    role=role,
                    team_id=teams[team].team_id if team is not None else None,
                )
                for i, (role, team) in enumerate(roles)
            ),
            batch_size=_ORM_BATCH,
        )
        for rep in reps:
            rep.user_id = user_ids[rep.user_id]
        self.teams = teams
        self.reps = reps
        self.user_names = {u.pk: u.display_name for u in created}
        self.ops_id = user_ids[ops]
        self.admin_id = user_ids[admin]
        self.counts["users"] = len(users)
        self.counts["teams"] = len(teams)
        for rep in reps:
            self.digest.update(f"rep:{rep.index}:{rep.team_index}:{rep.skill}\n".encode())

    def _playbooks(self) -> None:
        """Publish the teams' processes: the industrial template for the organization, the
        SaaS template for each SaaS team — through the playbook service, so it is audited."""
        from lodestar.industry_templates import TEMPLATES, template_source
        from lodestar.org.models import User
        from lodestar.playbooks.services import playbook_publish_source

        ops = User.objects.get(pk=self.ops_id)
        published_at = dt.datetime.fromtimestamp(self.start_ts, tz=dt.UTC)
        industrial = processes.KINDS["industrial"]
        playbook_publish_source(
            user=ops,
            source=template_source(industrial),
            source_name=TEMPLATES[industrial].name,
            note="demo",
            now=published_at,
        )
        for team in self.teams:
            if team.kind != "industrial":
                template = processes.KINDS[team.kind]
                playbook_publish_source(
                    user=ops,
                    source=template_source(template),
                    source_name=TEMPLATES[template].name,
                    note="demo",
                    team_id=team.team_id,
                    now=published_at,
                )
        published = 1 + sum(t.kind != "industrial" for t in self.teams)
        self.counts["playbook_versions"] = published
        self.counts["audit_entries"] += published  # one release entry each

    def _catalogue(self) -> None:
        from lodestar.crm.models import KnowledgeEntry, KnowledgeKind, Product

        products: dict[str, list[tuple[int, vocab.ProductSpec]]] = {}
        for kind, specs in (
            ("industrial", vocab.INDUSTRIAL_PRODUCTS),
            ("saas", vocab.SAAS_PRODUCTS),
        ):
            rows = Product.objects.bulk_create(
                Product(
                    organization=self.org,
                    name=spec.name,
                    model_number=spec.model_number,
                    category=spec.category,
                    list_price=spec.list_price,
                    aliases=list(spec.aliases),
                )
                for spec in specs
            )
            products[kind] = [(row.pk, spec) for row, spec in zip(rows, specs, strict=True)]
        self.products = products
        entries = []
        self.product_knowledge: dict[int, str] = {}
        for kind_products in products.values():
            for product_id, spec in kind_products:
                key = f"product-{spec.model_number.lower()}"
                self.product_knowledge[product_id] = key
                entries.append(
                    KnowledgeEntry(
                        organization=self.org,
                        key=key,
                        title=f"{spec.name}({spec.model_number})产品手册",
                        kind=KnowledgeKind.PRODUCT,
                        product_id=product_id,
                        body=(
                            f"{spec.name},型号 {spec.model_number},类别 {spec.category},"
                            f"参考价 {spec.list_price} 元。常用叫法:{'、'.join(spec.aliases)}。"
                        ),
                    )
                )
        for key, title, body in vocab.HANDBOOKS:
            entries.append(
                KnowledgeEntry(
                    organization=self.org,
                    key=key,
                    title=title,
                    kind=KnowledgeKind.HANDBOOK,
                    body=body,
                )
            )
        for key, title, body in vocab.CASES:
            entries.append(
                KnowledgeEntry(
                    organization=self.org, key=key, title=title, kind=KnowledgeKind.CASE, body=body
                )
            )
        KnowledgeEntry.objects.bulk_create(entries)
        self.counts["products"] = sum(len(p) for p in products.values())
        self.counts["knowledge_entries"] = len(entries)

    def _customers(self) -> None:
        from lodestar.crm.models import Account, AccountTier, Contact

        rng = self.rng
        n_accounts = max(self.n_reps * 3, self.n_deals // 3)
        taken: set[str] = set()
        accounts = []
        meta: list[tuple[str, bool, str]] = []
        for index in range(n_accounts):
            rep = self.reps[index % self.n_reps]
            kind = self.teams[rep.team_index].kind
            suffixes = vocab.INDUSTRIAL_SUFFIXES if kind == "industrial" else vocab.SAAS_SUFFIXES
            while True:
                brand = rng.choice(vocab.BRAND_HEADS) + rng.choice(vocab.BRAND_TAILS)
                suffix, industry = rng.choice(suffixes)
                city = rng.choice(vocab.CITIES[:12] if rng.random() < 0.7 else vocab.CITIES)
                name = f"{city}{brand}{suffix}有限公司"
                if name not in taken:
                    taken.add(name)
                    break
            r = rng.random()
            if r < 0.15:
                tier, rate = AccountTier.KEY, rng.uniform(0.4, 0.9)
            elif r < 0.7:
                tier, rate = AccountTier.STANDARD, rng.uniform(0.1, 0.6)
            else:
                tier, rate = AccountTier.SMALL, rng.uniform(0.0, 0.3)
            accounts.append(
                Account(
                    organization=self.org,
                    name=name,
                    industry=industry,
                    tier=tier,
                    region=city,
                    repurchase_rate=Decimal(f"{rate:.4f}"),
                    owner_id=rep.user_id,
                    external_ref=f"CRM-{index + 1:06d}" if rng.random() < 0.4 else "",
                )
            )
            meta.append((brand + suffix, tier == AccountTier.KEY, kind))
            rep.accounts.append(index)
            self.digest.update(f"account:{index}:{name}:{tier}:{rate:.4f}\n".encode())
        created = Account.objects.bulk_create(accounts, batch_size=_ORM_BATCH)
        contacts = []
        owners: list[int] = []
        for index, (account, (_short, key, kind)) in enumerate(zip(created, meta, strict=True)):
            titles = vocab.INDUSTRIAL_TITLES if kind == "industrial" else vocab.SAAS_TITLES
            n = rng.randint(4, 6) if key else rng.randint(2, 4)
            names: set[str] = set()
            chosen = [titles[0], titles[1], *rng.sample(titles[2:], k=min(n, len(titles)) - 2)]
            for title_key in chosen[:n]:
                title = self.titles[title_key]
                person = self._person_name(names)
                decision = title.decision_maker and rng.random() < 0.85
                contacts.append(
                    Contact(
                        organization=self.org,
                        account=account,
                        name=person,
                        title=title.name_zh,
                        decision_role_id=self.decision_roles[title_key],
                        is_decision_maker=decision,
                        phone=self._phone(),
                        email=(
                            f"c{len(contacts) + 1:06d}@customer{index + 1}.example.cn"
                            if rng.random() < 0.6
                            else ""
                        ),
                        chat_ids={"wecom": f"wm{rng.getrandbits(40):010x}"},
                    )
                )
                owners.append(index)
        created_contacts = Contact.objects.bulk_create(contacts, batch_size=_ORM_BATCH)
        self.accounts = [
            _AccountInfo(a.pk, short, key, [])
            for a, (short, key, _) in zip(created, meta, strict=True)
        ]
        for contact, owner in zip(created_contacts, owners, strict=True):
            title_key = next(k for k, t in self.titles.items() if t.name_zh == contact.title)
            self.accounts[owner].contacts.append(
                (contact.pk, contact.name, title_key, contact.is_decision_maker)
            )
        self.counts["accounts"] = len(created)
        self.counts["contacts"] = len(created_contacts)

    # ------------------------------------------------------------------ pass 1: plans

    def _deal_rng(self, index: int, stream: int) -> random.Random:
        return random.Random((self.seed * 1_000_003 + index) * 4 + stream)

    def _plan_deals(self) -> None:
        from lodestar.crm.models import Opportunity

        weights = [0.5 + rep.skill for rep in self.reps]
        cumulative: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            cumulative.append(total)
        plans = []
        for index in range(self.n_deals):
            rng = self._deal_rng(index, 0)
            rep = self.reps[min(bisect_right(cumulative, rng.random() * total), self.n_reps - 1)]
            account = rng.choice(rep.accounts)
            plans.append(self._plan(index, rng, rep, account))
        self.plans = plans
        durations = [max(p.last_activity - p.created, _DAY) for p in plans]
        self.mean_duration = sum(durations) / len(durations)
        for plan in plans:
            self.digest.update(plan.line().encode() + b"\n")
        tz = dt.UTC
        done = 0
        for start in range(0, len(plans), _ORM_BATCH):
            batch = plans[start : start + _ORM_BATCH]
            rows = Opportunity.objects.bulk_create(
                Opportunity(
                    organization_id=self.org_id,
                    name=p.name,
                    account_id=self.accounts[p.account].account_id,
                    owner_id=self.reps[p.rep].user_id,
                    team_id=self.teams[self.reps[p.rep].team_index].team_id,
                    stage_key=p.stage,
                    stage_entered_at=dt.datetime.fromtimestamp(p.stage_entered, tz=tz),
                    status=p.status,
                    amount=Decimal(p.amount).quantize(Decimal("0.01")),
                    currency="CNY",
                    expected_close_date=p.expected_close,
                    custom_fields=p.custom_fields,
                    external_ref=f"OPP-{p.index + 1:06d}" if p.index % 3 == 0 else "",
                    created_at=dt.datetime.fromtimestamp(p.created, tz=tz),
                    closed_at=dt.datetime.fromtimestamp(p.closed, tz=tz) if p.closed else None,
                )
                for p in batch
            )
            for plan, row in zip(batch, rows, strict=True):
                plan.opportunity_id = row.pk
            done += len(batch)
            self.progress("deals", done, len(plans))
        self.counts["opportunities"] = len(plans)

    def _plan(self, index: int, rng: random.Random, rep: _Rep, account_index: int) -> _Plan:
        team = self.teams[rep.team_index]
        process = processes.process(team.kind)
        stages = process.stages
        account = self.accounts[account_index]
        skill = rep.skill
        now = self.now_ts
        created = self.start_ts + int(rng.random() * (now - _DAY - self.start_ts))
        t = created
        s = 0
        moves: list[tuple[str, str, int]] = []
        bumpy = rng.random() < 0.12
        regressions_left = 2 + (rng.random() < 0.4) if bumpy else 0
        p_loss = 0.06 + 0.12 * (1 - skill)
        # Real deals overrun the playbook's target dwell times, weaker reps' more.
        pace = 2.0 - 0.9 * skill
        status, closed = "open", None
        while True:
            stage = stages[s]
            dwell = stage.target_dwell_hours * _HOUR * rng.lognormvariate(0, 0.55) * pace
            t_next = t + int(dwell)
            if t_next >= now:
                break
            r = rng.random()
            if s >= 2 and ((regressions_left and r < 0.55) or (not bumpy and r < 0.05)):
                back = 2 if (s >= 3 and rng.random() < 0.3) else 1
                moves.append((stage.key, stages[s - back].key, t_next))
                s -= back
                regressions_left = max(0, regressions_left - 1)
            elif r > 1 - p_loss * (1.6 if s == 0 else 1.0):
                moves.append((stage.key, processes.LOST, t_next))
                status, closed = "lost", t_next
                break
            elif s + 1 == len(stages):
                moves.append((stage.key, processes.WON, t_next))
                status, closed = "won", t_next
                break
            else:
                moves.append((stage.key, stages[s + 1].key, t_next))
                s += 1
            t = t_next
        # Stalled deals: the customer stopped answering at some point and the deal was never
        # closed (the seed's "in progress" deals silent for 47+ days).
        silence = ""
        cycle = sum(st.target_dwell_hours for st in stages) * _HOUR * pace
        stall_at = created + int(rng.uniform(0.1, 1.2) * cycle)
        if rng.random() < 0.2 and stall_at < (closed or now) - _DAY:
            moves = [m for m in moves if m[2] < stall_at]
            status, closed, last_activity = "open", None, stall_at
            quiet = now - stall_at
            silence = "47d" if quiet >= 47 * _DAY else ("72h" if quiet >= 3 * _DAY else "")
        elif status == "open":
            if rng.random() < 0.15:
                silence, last_activity = "72h", now - int(rng.uniform(3.5, 12) * _DAY)
            else:
                last_activity = now - int(rng.uniform(0.05, 2) * _DAY)
            if last_activity <= created + _HOUR:
                silence, last_activity = "", min(now, created + _HOUR)
            moves = [m for m in moves if m[2] < last_activity]
        else:
            last_activity = closed if closed is not None else now
        products = self.products[team.kind]
        product = rng.randrange(len(products))
        spec = products[product][1]
        # Custom fields as the team's playbook declares them, filled as far as the deal got.
        order = {key: position for position, key in enumerate(process.keys)}
        reached = max(
            (order.get(to, len(stages)) for _f, to, _t in moves if to != processes.LOST), default=0
        )
        if team.kind == "industrial":
            amount = _lognormal_amount(rng, 120_000, 0.8, 8_000, 3_000_000)
            project = rng.choice(("改造项目", "采购项目", "产线升级", "备件年度采购", "新线配套"))
            signer = rng.choice([c for c in account.contacts if c[3]] or account.contacts)
            discount = rng.choice((0, 3, 5, 8, 10, 12, 15))
            custom: dict[str, Any] = {"discount_pct": discount}
            if reached > order["site_survey"] or rng.random() < 0.3:
                custom["equipment_list_confirmed"] = reached > order["site_survey"]
            if reached > order["technical_solution"]:
                custom["tech_signer_title"] = signer[2]
            if reached >= order["quote"]:
                custom["signing_period"] = rng.choice(
                    ("within_2w", "within_1m", "within_3m", "over_3m")
                )
                custom["decision_chain_role"] = signer[2]
            if reached > order["negotiation"]:
                delivery = self._local_date(moves[-1][2] + int(rng.uniform(14, 60) * _DAY))
                custom["delivery_date"] = delivery.isoformat()
                custom["discount_approved"] = discount > 10
            if status == "open" and reached == order["contract"]:
                custom["legal_review_overdue_days"] = rng.choice((0, 0, 1, 2, 4))
        else:
            seats = rng.choice((10, 20, 30, 50, 80, 100, 150, 200))
            amount = _lognormal_amount(rng, 50_000, 0.7, 6_000, 800_000)
            project = f"{seats}席位"
            band = (
                "under_50k"
                if amount < 50_000
                else "50k_200k"
                if amount < 200_000
                else "200k_500k"
                if amount < 500_000
                else "over_500k"
            )
            custom = {"budget_range": band}
            if reached >= order["needs_confirmed"]:
                custom["integration_required"] = rng.random() < 0.35
                custom["purchase_timeline"] = rng.choice(
                    ("this_month", "this_quarter", "this_half", "later")
                )
            if reached >= order["demo"]:
                custom["budget_confirmed"] = reached > order["demo"] or rng.random() < 0.4
            if reached > order["poc"]:
                custom["poc_result"] = rng.choice(("passed", "passed", "conditional"))
            elif status == "lost" and reached == order["poc"]:
                custom["poc_result"] = "failed"
            if reached >= order["proposal"]:
                discount = rng.choice((0, 5, 10, 15, 20, 25, 30))
                custom["discount_pct"] = discount
                custom["discount_approved"] = discount > 20 and reached > order["proposal"]
        if account.key:
            amount = int(amount * 1.8)
        lost_reason = rng.choice(vocab.LOST_REASONS) if status == "lost" else ""
        if closed is not None:
            expected = self._local_date(closed)
        else:
            expected = self._local_date(created + int(rng.uniform(45, 150) * _DAY))
        return _Plan(
            index=index,
            rep=rep.index,
            account=account_index,
            process=team.kind,
            product=product,
            created=created,
            moves=moves,
            status=status,
            closed=closed,
            last_activity=last_activity,
            silence=silence,
            amount=amount,
            expected_close=expected,
            custom_fields=custom,
            lost_reason=lost_reason,
            name=f"{account.short_name}-{spec.category}{project}",
        )

    # ------------------------------------------------------------------ pass 2: activity

    def _file_pool(self) -> None:
        """Write the few distinct files attachments share (content-addressed by SHA-256)."""
        rng = random.Random(f"lodestar-demo-files:{self.seed}")

        def store(content: bytes, content_type: str, text: str) -> _File:
            sha = hashlib.sha256(content).hexdigest()
            name = f"org-{self.org_id}/attachments/{sha[:2]}/{sha}"
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(content))
            return _File(name, sha, len(content), content_type, text)

        who = ("王总", "李工", "张经理", "陈厂长", "刘总监", "赵科长")
        long_minutes, short_minutes = [], []
        for i in range(16):
            date = f"2025年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
            topic = rng.choice(vocab.MEETING_TOPICS)
            person = rng.choice(who)
            parts = [rng.choice(vocab.MINUTES_OPENINGS).format(date=date, who=person, topic=topic)]
            parts.extend(rng.sample(vocab.MINUTES_BODY, k=4 + i % 4))
            parts.append(rng.choice(vocab.MINUTES_CLOSINGS))
            text = "\n".join(parts)
            target = long_minutes if len(text) >= _MINUTES_THRESHOLD else short_minutes
            target.append(store(text.encode(), "text/plain", text))
        for i in range(8):
            person, topic = who[i % len(who)], vocab.MEETING_TOPICS[i % len(vocab.MEETING_TOPICS)]
            text = vocab.SHORT_MINUTES[i % len(vocab.SHORT_MINUTES)].format(who=person, topic=topic)
            if i % 2:
                text += "\n" + vocab.MINUTES_BODY[i % len(vocab.MINUTES_BODY)]
            short_minutes.append(store(text.encode(), "text/plain", text))
        self.long_minutes, self.short_minutes = long_minutes, short_minutes
        pdfs: dict[str, list[_File]] = {}
        labels = {
            "needs_list": "Requirements list",
            "site_survey_report": "Site survey report",
            "tech_agreement": "Technical agreement",
            "proposal": "Proposal",
            "quote": "Quotation",
            "signed_quote": "Signed quotation",
            "contract": "Sales contract",
            "inspection_report": "Equipment inspection report",
        }
        models = ["LX-1200", "SV-750", "VF-22", "NAV-PRO"]
        for kind, label in labels.items():
            pdfs[kind] = []
            for i in range(4):
                lines = [
                    f"{label} No. LS-{rng.randint(2024, 2026)}-{rng.randint(1, 9999):04d}",
                    f"Items: {rng.randint(1, 40)} x {rng.choice(models)}",
                    f"Total: CNY {rng.randint(10, 900) * 1000:,}.00",
                    f"Valid for {rng.choice([15, 30, 60])} days. Signed and sealed."
                    if i % 2
                    else "",
                ]
                lines = [line for line in lines if line]
                pdfs[kind].append(store(_pdf(lines), "application/pdf", "\n".join(lines)))
        self.pdfs = pdfs

    def _activity(self) -> None:
        from lodestar.automation.models import Task
        from lodestar.crm.models import Attachment, StageTransition
        from lodestar.events.models import Event
        from lodestar.insights.models import Alert, Exemption
        from lodestar.org.models import AuditEntry

        self._file_pool()
        self.buffers: dict[str, list[tuple[Any, ...]]] = {
            "events": [],
            "stage_transitions": [],
            "tasks": [],
            "attachments": [],
            "alerts": [],
            "exemptions": [],
            "audit_entries": [],
        }
        self.tables = {
            "events": (
                Event,
                (
                    "organization",
                    "type",
                    "source",
                    "external_id",
                    "occurred_at",
                    "recorded_at",
                    "actor",
                    "opportunity",
                    "account",
                    "contact",
                    "with_customer",
                    "payload",
                ),
            ),
            "stage_transitions": (
                StageTransition,
                (
                    "organization",
                    "opportunity",
                    "from_stage",
                    "to_stage",
                    "direction",
                    "occurred_at",
                    "actor",
                    "gate_snapshot",
                ),
            ),
            "tasks": (
                Task,
                (
                    "organization",
                    "opportunity",
                    "assignee",
                    "title",
                    "description",
                    "department",
                    "trigger_key",
                    "created_at",
                    "due_at",
                    "status",
                    "completed_at",
                    "completed_by",
                    "escalated_at",
                ),
            ),
            "attachments": (
                Attachment,
                (
                    "organization",
                    "opportunity",
                    "account",
                    "kind",
                    "file",
                    "original_name",
                    "content_type",
                    "size",
                    "sha256",
                    "extracted_text",
                    "text_length",
                    "text_status",
                    "text_problem",
                    "uploaded_by",
                    "uploaded_at",
                ),
            ),
            "alerts": (
                Alert,
                (
                    "organization",
                    "kind",
                    "opportunity",
                    "subject_user",
                    "recipient",
                    "dedupe_key",
                    "message_zh",
                    "message_en",
                    "status",
                    "raised_at",
                    "acknowledged_at",
                    "resolved_at",
                ),
            ),
            "exemptions": (
                Exemption,
                (
                    "organization",
                    "opportunity",
                    "declared_by",
                    "reason_code",
                    "reason",
                    "starts_at",
                    "ends_at",
                    "recheck_at",
                    "created_at",
                ),
            ),
            "audit_entries": (
                AuditEntry,
                ("organization", "actor", "action", "object_type", "object_id", "at", "data"),
            ),
        }
        for name in self.buffers:
            self.counts[name] += 0
        # Large loads into a table that holds fewer rows than they add build the indexes once
        # at the end instead of updating them row by row.
        planned = self.n_deals * self.events_per_deal
        big = planned >= _DEFER_INDEXES_FROM and planned >= row_estimate(connection, Event)
        deferred = [
            (model, index)
            for model, _ in self.tables.values()
            for index in (scattered_indexes(model) if big else [])
        ]
        with deferred_indexes(connection, deferred):
            total = len(self.plans)
            for start in range(0, total, _CHUNK_DEALS):
                for plan in self.plans[start : start + _CHUNK_DEALS]:
                    self._deal_activity(plan)
                self._flush()
                self.progress("activity", min(start + _CHUNK_DEALS, total), total)
            if big:
                self.progress("indexes", 0, 1)
        if big:
            self.progress("indexes", 1, 1)

    def _flush(self) -> None:
        for name, rows in self.buffers.items():
            if rows:
                model, fields = self.tables[name]
                self.sink.insert(model, fields, rows)
                self.counts[name] += len(rows)
                rows.clear()

    def _deal_activity(self, plan: _Plan) -> None:
        """One deal's story, in order: stage milestones, conversation, tasks, moves, risk."""
        rng = self._deal_rng(plan.index, 1)
        rnd = rng.random
        ts = self.sink.ts
        dumps = json.dumps
        now = self.now_ts
        org = self.org_id
        opp = plan.opportunity_id
        rep = self.reps[plan.rep]
        actor = rep.user_id
        team = self.teams[rep.team_index]
        process = processes.process(plan.process)
        stage_by_key = {s.key: s for s in process.stages}
        order = {key: position for position, key in enumerate(process.keys)}
        account = self.accounts[plan.account]
        account_id = account.account_id
        contacts = account.contacts
        deciders = [c for c in contacts if c[3]] or contacts
        product_id, spec = self.products[plan.process][plan.product]
        knowledge_key = self.product_knowledge[product_id]
        skill = rep.skill
        code = f"d{plan.index:07d}"
        events = self.buffers["events"]
        tasks = self.buffers["tasks"]
        attachments = self.buffers["attachments"]
        tally = self.event_types
        seq = 0
        platform = "wecom" if plan.process == "industrial" or plan.index % 3 else "feishu"
        fired: set[str] = set()
        number = f"{plan.index + 1:06d}"

        # Stage segments: (stage key, entered, left — or last activity for the current one).
        segments: list[tuple[str, int, int, str]] = []
        entered, current = plan.created, "lead"
        for _from, to_stage, at in plan.moves:
            segments.append((current, entered, at, to_stage))
            entered, current = at, to_stage
        if plan.status == "open":
            segments.append((current, entered, max(entered, plan.last_activity), ""))
        starts = [segment[1] for segment in segments]

        def stage_at(at: int) -> str:
            return segments[max(0, bisect_right(starts, at) - 1)][0]

        def who(contact: tuple[int, str, str, bool]) -> str:
            return contact[1][0] + self.titles[contact[2]].honorific

        def emit(
            kind: str,
            at: int,
            payload: str,
            *,
            contact: int | None = None,
            customer: bool | None = None,
            by: int | None = actor,
            source: str | None = None,
        ) -> str:
            nonlocal seq
            seq += 1
            external_id = f"{code}-{seq}"
            events.append(
                (
                    org,
                    kind,
                    source or _SOURCES.get(kind, "web"),
                    external_id,
                    ts(at),
                    ts(min(now, at + 1 + int(rnd() * _RECORD_DELAY.get(kind, 60)))),
                    by,
                    opp,
                    account_id,
                    contact,
                    kind in _WITH_CUSTOMER if customer is None else customer,
                    payload,
                )
            )
            tally[kind] += 1
            return external_id

        def attach(kind: str, file: _File, at: int, original: str) -> None:
            attachments.append(
                (
                    org,
                    opp,
                    account_id,
                    kind,
                    file.name,
                    original,
                    file.content_type,
                    file.size,
                    file.sha256,
                    file.text,
                    len(file.text),
                    "done",  # TextStatus.DONE: the demo's files are read as they are made
                    "",  # TextProblem.NONE
                    actor,
                    ts(at),
                )
            )

        def pdf(kind: str, at: int, original: str) -> None:
            pool = self.pdfs[kind]
            attach(kind, pool[plan.index % len(pool)], at, original)

        def trigger(event_type: str, at: int, stage: str, closed_at: int | None = None) -> None:
            # Like the playbook engine: a trigger makes its task once per deal.
            for rule in process.triggers_on(event_type):
                if rule.key in fired or (rule.stages and stage not in rule.stages):
                    continue
                fired.add(rule.key)
                due = at + int(rule.due_hours * _HOUR)
                completed: int | None
                if closed_at is not None:
                    completed = closed_at
                else:
                    r = rnd()
                    p_on_time = 0.45 + 0.45 * skill
                    if r < p_on_time:
                        completed = at + int((due - at) * rng.uniform(0.1, 0.95))
                    elif r < p_on_time + 0.18:
                        completed = due + int(rng.uniform(1, 72) * _HOUR)
                    else:
                        completed = None
                if completed is not None and (
                    completed > now or (plan.closed is not None and completed > plan.closed)
                ):
                    completed = None
                status = "done" if completed is not None else "open"
                if completed is None and plan.closed is not None:
                    status = "cancelled"
                escalated = None
                if status != "cancelled" and (completed or now) > due + 4 * _HOUR:
                    # Overdue by four hours: the manager was told.
                    escalated = ts(due + 4 * _HOUR)
                tasks.append(
                    (
                        org,
                        opp,
                        actor,
                        rule.title,
                        f"{plan.name}:{rule.title}",
                        rule.department,
                        rule.key,
                        ts(at),
                        ts(due),
                        status,
                        ts(completed) if completed is not None else None,
                        actor if completed is not None else None,
                        escalated,
                    )
                )
                if completed is not None:
                    emit(
                        "task.completed",
                        completed,
                        dumps(
                            {
                                "trigger_key": rule.key,
                                "title": rule.title,
                                "on_time": completed <= due,
                            },
                            ensure_ascii=False,
                        ),
                    )

        def meeting(kind: str, at: int) -> None:
            if kind == "demo.held":
                k = min(len(contacts), 2 + int(rnd() * 3))
                attendees = deciders[:k] if rnd() < 0.4 + 0.5 * skill else rng.sample(contacts, k=k)
            else:
                attendees = rng.sample(contacts, k=min(len(contacts), 1 + int(rnd() * 2)))
            topic = "产品演示" if kind == "demo.held" else rng.choice(vocab.MEETING_TOPICS)
            payload = {
                "attendee_contact_ids": [c[0] for c in attendees],
                "topic": topic,
                "duration_minutes": rng.choice((30, 45, 60, 90, 120)),
            }
            meeting_id = emit(kind, at, dumps(payload, ensure_ascii=False), contact=attendees[0][0])
            # The communication scorecard: knowledge linked, next follow-up booked, minutes.
            if rnd() < 0.3 + 0.6 * skill:
                emit("knowledge.linked", at + 600, dumps({"knowledge_keys": [knowledge_key]}))
            if rnd() < 0.35 + 0.6 * skill:
                follow = at + int(rng.uniform(1, 7) * _DAY)
                emit(
                    "followup.scheduled",
                    at + 900,
                    dumps(
                        {
                            "starts_at": dt.datetime.fromtimestamp(follow, tz=self.tz).isoformat(),
                            "title": f"跟进{account.short_name}",
                        },
                        ensure_ascii=False,
                    ),
                )
            upload = None
            if rnd() < 0.45 + 0.45 * skill:
                late = rnd() < 0.4 * (1 - skill)
                upload = at + int((rng.uniform(26, 96) if late else rng.uniform(0.5, 20)) * _HOUR)
                if upload > now or (plan.closed is not None and upload > plan.closed + _DAY):
                    upload = None
            if upload is not None:
                pool = self.long_minutes if rnd() < 0.35 + 0.55 * skill else self.short_minutes
                file = pool[int(rnd() * len(pool))]
                attach(
                    "meeting_minutes",
                    file,
                    upload,
                    f"{topic}纪要_{self._local_date(at):%Y%m%d}.txt",
                )
                emit(
                    "minutes.uploaded",
                    upload,
                    dumps(
                        {
                            "meeting_external_id": meeting_id,
                            "attachment_sha256": file.sha256,
                            "text_length": len(file.text),
                        }
                    ),
                )
            trigger(kind, at, stage_at(at), closed_at=upload if kind == "meeting.held" else None)

        # Per-deal phrase pools: a deal's chat reads as one conversation, cheaply.
        documents = vocab.DOCUMENTS[spec.category]
        product_word = spec.aliases[0]
        rep_chat = []
        for template in vocab.REP_CHAT:
            c = rng.choice(contacts)
            text = template.format(who=who(c), doc=rng.choice(documents), product=product_word)
            rep_chat.append(
                (
                    c[0],
                    dumps(
                        {"text": text, "platform": platform, "from_customer": False},
                        ensure_ascii=False,
                    ),
                )
            )
        customer_chat = []
        for text in vocab.CUSTOMER_CHAT:
            c = rng.choice(contacts)
            customer_chat.append(
                (
                    c[0],
                    dumps(
                        {"text": text, "platform": platform, "from_customer": True, "sender": c[1]},
                        ensure_ascii=False,
                    ),
                )
            )
        calls = [
            dumps({"minutes": rng.randint(1, 30), "summary": s}, ensure_ascii=False)
            for s in vocab.CALL_SUMMARIES
        ]
        mails_out = [
            dumps({"subject": s.format(product=product_word)}, ensure_ascii=False)
            for s in vocab.EMAIL_SUBJECTS_OUT
        ]
        mails_in = [
            dumps({"subject": s.format(product=product_word)}, ensure_ascii=False)
            for s in vocab.EMAIL_SUBJECTS_IN
        ]
        docs = [
            dumps({"text": f"{d}已更新", "products": [product_word]}, ensure_ascii=False)
            for d in documents
        ]

        def happen(kind: str, at: int, direction: str = "") -> None:
            if kind == "chat.message":
                pool = rep_chat if direction == "out" else customer_chat
                contact, payload = pool[int(rnd() * len(pool))]
                emit(
                    kind, at, payload, contact=contact, customer=direction != "out", source=platform
                )
            elif kind == "call":
                emit(
                    kind,
                    at,
                    calls[int(rnd() * len(calls))],
                    contact=contacts[int(rnd() * len(contacts))][0],
                )
            elif kind == "email.sent":
                emit(kind, at, mails_out[int(rnd() * len(mails_out))], contact=contacts[0][0])
            elif kind == "email.received":
                emit(
                    kind, at, mails_in[int(rnd() * len(mails_in))], contact=contacts[0][0], by=None
                )
            elif kind == "document.updated":
                emit(kind, at, docs[int(rnd() * len(docs))])
                trigger(kind, at, stage_at(at))
            elif kind in ("meeting.held", "demo.held"):
                meeting(kind, at)
            elif kind == "demo.booked":
                scheduled = at + int(rng.uniform(1, 4) * _DAY)
                iso = dt.datetime.fromtimestamp(scheduled, tz=self.tz).isoformat()
                emit(
                    kind,
                    at,
                    dumps({"scheduled_for": iso, "via": "email_link"}),
                    contact=contacts[0][0],
                    by=None,
                )
                trigger(kind, at, stage_at(at))
            elif kind == "needs.list":
                emit("document.updated", at, dumps({"text": "需求清单已上传"}, ensure_ascii=False))
                pdf("needs_list", at, f"需求清单_{account.short_name}.pdf")
            elif kind == "survey.report":
                emit(
                    "document.updated",
                    at,
                    dumps({"text": "现场勘察报告已上传"}, ensure_ascii=False),
                )
                pdf("site_survey_report", at, f"现场勘察报告_{account.short_name}.pdf")
            elif kind == "integration.requested":
                if plan.custom_fields.get("integration_required"):
                    c = rng.choice(contacts)
                    text = "希望和我们现有的ERP、企业微信打通"
                    emit(kind, at, dumps({"text": text}, ensure_ascii=False), contact=c[0], by=None)
                    trigger(kind, at, stage_at(at))
            elif kind == "customer.confirmed":
                c = rng.choice(deciders)
                text = rng.choice(vocab.CONFIRMATIONS)
                emit(
                    kind,
                    at,
                    dumps({"text": text, "platform": platform}, ensure_ascii=False),
                    contact=c[0],
                    by=None,
                    source=platform,
                )
            elif kind == "chat.confirmed":
                # The customer writes “已确认” in chat over the signed technical agreement.
                c = rng.choice(deciders)
                text = rng.choice(vocab.CONFIRMATIONS)
                payload = {
                    "text": text,
                    "platform": platform,
                    "from_customer": True,
                    "sender": c[1],
                }
                emit(
                    "chat.message",
                    at,
                    dumps(payload, ensure_ascii=False),
                    contact=c[0],
                    customer=True,
                    by=None,
                    source=platform,
                )
                pdf("tech_agreement", at, "技术协议(客户签字版).pdf")
            elif kind == "trial.activated":
                emit(kind, at, dumps({"trial_account": f"trial-{number}", "seats": 5}))
                trigger(kind, at, stage_at(at))
            elif kind == "poc.feedback":
                c = rng.choice(contacts)
                emit(
                    kind,
                    at,
                    dumps({"text": rng.choice(vocab.POC_FEEDBACK)}, ensure_ascii=False),
                    contact=c[0],
                    by=None,
                )
            elif kind == "proposal.sent":
                emit(
                    kind,
                    at,
                    dumps({"title": f"{account.short_name}定制化方案"}, ensure_ascii=False),
                    contact=contacts[0][0],
                )
                pdf("proposal", at, f"定制化方案_{account.short_name}.pdf")
            elif kind == "quote.sent":
                valid = self._local_date(at + 30 * _DAY).isoformat()
                emit(
                    kind,
                    at,
                    dumps(
                        {"quote_no": f"Q{number}", "amount": str(plan.amount), "valid_until": valid}
                    ),
                    contact=contacts[0][0],
                )
                pdf("quote", at, f"报价单_Q{number}.pdf")
                trigger(kind, at, stage_at(at))
                if plan.process == "industrial" and rnd() < 0.4 + 0.5 * skill:
                    signed = min(now, at + int(rng.uniform(0.5, 3) * _DAY))
                    pdf("signed_quote", signed, f"签字报价单_Q{number}.pdf")
            elif kind == "tech_params.synced":
                emit(
                    kind,
                    at,
                    dumps({"text": rng.choice(vocab.TECH_SYNC)}, ensure_ascii=False),
                    contact=contacts[0][0],
                )
            elif kind == "competitor.update":
                emit(
                    kind,
                    at,
                    dumps({"text": rng.choice(vocab.COMPETITOR_NOTES)}, ensure_ascii=False),
                )
            elif kind == "legal.review.started":
                emit(kind, at, dumps({"contract_no": f"HT-{number}"}), by=None)
                trigger(kind, at, stage_at(at))
            elif kind == "legal.review.finished":
                emit(kind, at, dumps({"contract_no": f"HT-{number}"}), by=None)
                pdf("contract", at, f"销售合同_HT-{number}.pdf")
            elif kind == "approval.sealed":
                emit(
                    kind,
                    at,
                    dumps({"approval_no": f"SP-{number}", "seal": "合同章"}, ensure_ascii=False),
                    by=None,
                )
            elif kind == "erp.order":
                emit(
                    kind,
                    at,
                    dumps({"order_no": f"SO{number}", "amount": str(plan.amount)}),
                    by=None,
                )
                trigger(kind, at, stage_at(at))

        # Stage milestones: complete for stages left forwards, partial for the current one.
        for stage_key, begin, end, left_to in segments:
            milestones = stage_by_key[stage_key].milestones
            if left_to == "":
                milestones = milestones[: int(rnd() * (len(milestones) + 1))]
            elif left_to in order and order[left_to] < order[stage_key]:
                milestones = tuple(m for m in milestones if rnd() < 0.6)
            k = len(milestones)
            for j, kind in enumerate(milestones):
                at = begin + int((end - begin) * (j + 0.5 + 0.4 * (rnd() - 0.5)) / (k + 0.5))
                if at <= plan.last_activity:
                    happen(kind, at)
        if plan.status == "won" and plan.closed is not None:
            # The contract stage's exit evidence arrives just before the move to won.
            happen("approval.sealed", plan.closed - int(rng.uniform(2, 48) * _HOUR))
            happen("erp.order", plan.closed - int(rng.uniform(0.1, 2) * _HOUR))
        elif plan.status == "lost" and plan.closed is not None:
            emit(
                "email.received",
                plan.closed - int(rng.uniform(1, 24) * _HOUR),
                dumps(
                    {"subject": "关于项目结果的通知", "lost_reason": plan.lost_reason},
                    ensure_ascii=False,
                ),
                contact=contacts[0][0],
                by=None,
            )

        # Everyday conversation, proportional to how long the deal has been alive.
        alive = max(plan.last_activity - plan.created, _DAY)
        budget = round(self.events_per_deal * alive / self.mean_duration * rng.uniform(0.6, 1.4))
        budget -= seq + len(plan.moves)
        span = plan.last_activity - plan.created
        table = _FILLER_TABLE
        n_table = len(table)
        created = plan.created
        for _ in range(max(budget, 3)):
            kind, direction = table[int(rnd() * n_table)]
            happen(kind, created + int(rnd() * span), direction)
        if plan.status == "open":
            # The last customer interaction; after it, only a silent deal's unanswered messages.
            happen("chat.message", plan.last_activity, "in")
            if plan.silence == "72h":
                for _ in range(1 + int(rnd() * 3)):
                    at = plan.last_activity + int(rnd() * (now - plan.last_activity))
                    happen("chat.message", at, "out")

        self._moves_and_risks(
            plan, rng, emit, actor, team.manager_id, contacts, order, stage_by_key
        )

    def _moves_and_risks(
        self,
        plan: _Plan,
        rng: random.Random,
        emit: Callable[..., str],
        actor: int,
        manager: int,
        contacts: list[tuple[int, str, str, bool]],
        order: dict[str, int],
        stage_by_key: dict[str, processes.Stage],
    ) -> None:
        """Transition rows with their events and audit entries; exemptions. (Alerts are not
        written here: the insights engine raises them from this history after the load.)"""
        ts = self.sink.ts
        dumps = json.dumps
        now = self.now_ts
        org = self.org_id
        opp = plan.opportunity_id
        transitions = self.buffers["stage_transitions"]
        audits = self.buffers["audit_entries"]
        for from_stage, to_stage, at in plan.moves:
            terminal = to_stage in (processes.WON, processes.LOST)
            direction = "forward" if terminal or order[to_stage] > order[from_stage] else "backward"
            snapshot = (
                [{"id": key, "met": True} for key in stage_by_key[from_stage].exit_criteria]
                if direction == "forward" and to_stage != processes.LOST
                else []
            )
            data = dumps({"from": from_stage, "to": to_stage, "direction": direction})
            transitions.append(
                (org, opp, from_stage, to_stage, direction, ts(at), actor, dumps(snapshot))
            )
            emit("stage.changed", at, data)
            audits.append((org, actor, "stage.changed", "opportunity", str(opp), ts(at), data))

        if not plan.silence:
            return
        if rng.random() < (0.35 if plan.silence == "47d" else 0.25):
            starts = min(now - _HOUR, plan.last_activity + int(rng.uniform(3, 10) * _DAY))
            ends = starts + 14 * _DAY
            contact = rng.choice(contacts)
            honorific = self.titles[contact[2]].honorific
            reason = rng.choice(vocab.EXEMPTION_REASONS).format(who=contact[1][0] + honorific)
            code = (
                "customer_on_leave"
                if ("休" in reason or "出差" in reason)
                else "customer_unreachable"
            )
            self.buffers["exemptions"].append(
                (
                    org,
                    opp,
                    actor,
                    code,
                    f"客户临时失联:{reason}",
                    ts(starts),
                    ts(ends),
                    ts(ends),
                    ts(starts),
                )
            )
            audits.append(
                (
                    org,
                    actor,
                    "exemption.declared",
                    "opportunity",
                    str(opp),
                    ts(starts),
                    dumps({"reason_code": code, "reason": reason}, ensure_ascii=False),
                )
            )

    # ------------------------------------------------------------------ daily reports

    def _daily_reports(self) -> None:
        from lodestar.crm.models import DailyReport

        fields = ("organization", "author", "date", "body", "submitted_at")
        first = self._local_date(self.start_ts)
        today = self._local_date(self.now_ts)
        days = []
        day = first
        while day < today:
            if self.calendar.is_working_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        midnights = [
            int(dt.datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp()) for d in days
        ]
        ts = self.sink.ts
        rows: list[tuple[Any, ...]] = []
        for rep in self.reps:
            rng = self._deal_rng(rep.index, 3)
            accounts = [self.accounts[i].short_name for i in rep.accounts] or ["客户"]
            p_on_time = 0.7 + 0.28 * rep.skill
            for day, midnight in zip(days, midnights, strict=True):
                r = rng.random()
                if r < p_on_time:
                    submitted = midnight + int((17 + rng.uniform(0, 3.5)) * _HOUR)
                elif r < p_on_time + (1 - p_on_time) * 0.6:
                    submitted = midnight + _DAY + int((8.5 + rng.uniform(0, 4)) * _HOUR)
                else:
                    continue
                if submitted > self.now_ts:
                    continue
                body = (
                    "\n".join(
                        line.format(
                            visits=rng.randint(0, 5),
                            moved=rng.randint(0, 3),
                            calls=rng.randint(2, 20),
                            quotes=rng.randint(0, 3),
                            account=rng.choice(accounts),
                        )
                        for line in vocab.DAILY_REPORT_LINES
                        if rng.random() < 0.8
                    )
                    or "今日以内部会议和资料整理为主。"
                )
                rows.append((self.org_id, rep.user_id, day.isoformat(), body, ts(submitted)))
            if len(rows) > 20_000:
                self.sink.insert(DailyReport, fields, rows)
                self.counts["daily_reports"] += len(rows)
                rows.clear()
            self.progress("reports", rep.index + 1, len(self.reps))
        self.sink.insert(DailyReport, fields, rows)
        self.counts["daily_reports"] += len(rows)
