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
from lodestar.demo.cast import (
    DAY,
    HOUR,
    AccountInfo,
    Plan,
    Rep,
    SalesTeam,
    StoredFile,
    deal_rng,
    local_date,
)
from lodestar.demo.story import DealStory, World

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

_CHUNK_DEALS = 250
_ORM_BATCH = 1_000
_MINUTES_THRESHOLD = 300
_DEFER_INDEXES_FROM = 200_000
# How many times a usual rep's deals the demo's `rep` login carries.
_SHOWN_REP_LOAD = 2.5
# Share of deals opened in the last weeks of the history (the rest: any time in it).
_RECENT_SHARE = 0.3
_RECENT = 45 * DAY
# Share of deals whose customer stopped answering at some point (if the deal was alive then).
_STALLED = 0.25
# The `rep` login's newest leads (the last deals planned, in loads of at least
# _FRESH_LEADS_FROM deals): opened yesterday afternoon with a first visit and the updated
# selection sheet, so the tasks their triggers made fall due on the day the demo is shown.
_FRESH_LEADS = 3
_FRESH_LEADS_FROM = 30
_FRESH_OPENED = (4 * HOUR, 9 * HOUR)  # this long before the history ends
_FIRST_VISIT = ("meeting.held", "document.updated")


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
    today: dt.date | None = None,
    slug: str = DEFAULT_SLUG,
    name: str | None = None,
    events_per_deal: int = DEFAULT_EVENTS_PER_DEAL,
    username_prefix: str | None = None,
    password: str = DEMO_PASSWORD,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Create a new demo organization `slug` whose history runs up to the start of `today`.

    `today` is a date in the organization's zone (default: the date of `now` there, `now`
    itself defaulting to the current time): the same seed and day give the same data, with
    tasks falling due today and this week. Raises `DemoError` if the slug or one of the user
    names is taken. Writes in one transaction: on failure nothing is left behind.
    """
    from lodestar.org.models import Organization

    if now is None:
        now = timezone.now()
    if timezone.is_naive(now):
        raise DemoError("`now` must be an aware datetime.")
    if today is None:
        today = now.astimezone(zoneinfo.ZoneInfo(TIME_ZONE)).date()
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
        today=today,
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
    today: dt.date | None = None,
    slug: str = DEFAULT_SLUG,
    events_per_deal: int = DEFAULT_EVENTS_PER_DEAL,
    password: str = DEMO_PASSWORD,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Load the demo organization unless it is there already (idempotent).

    The history is generated up to `today` (see `generate`); then, at `now`, the insights
    engine scores it, writes the daily health snapshots of the last weeks and the task sweep
    raises what is overdue, so the worker finds nothing new to raise right after the load.
    A second call finds the organization by slug, writes nothing and returns a summary with
    `already_loaded=True`, the current row counts and the same demo logins.
    """
    from lodestar.org.models import Organization

    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        now = now or timezone.now()
        summary = generate(
            reps=reps,
            deals=deals,
            months=months,
            seed=seed,
            now=now,
            today=today,
            slug=slug,
            events_per_deal=events_per_deal,
            password=password,
            progress=progress,
        )
        _as_the_worker_would(summary.organization_id, now, progress or _no_progress)
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


def _as_the_worker_would(
    organization_id: int, now: dt.datetime, progress: ProgressCallback
) -> None:
    """What the worker would have done by `now` had it run alongside the history: health
    scores, alerts and scorecards from the insights engine, a health snapshot for each day of
    the trend's weeks, and the SLA sweep's alerts on overdue tasks."""
    from lodestar.insights.health import health_history_record
    from lodestar.insights.policy import Policies
    from lodestar.insights.refresh import insights_recompute
    from lodestar.insights.selectors import TREND_WEEKS
    from lodestar.insights.task_alerts import sweep_tasks
    from lodestar.org.models import Membership, Organization, Role

    organization = Organization.objects.get(pk=organization_id)
    policies = Policies(organization)
    reps = set(
        Membership.objects.filter(organization=organization, role=Role.REP).values_list(
            "user_id", flat=True
        )
    )
    today = now.astimezone(organization.tz).date()
    first = today - dt.timedelta(days=today.weekday(), weeks=TREND_WEEKS - 1)
    days = (today - first).days
    with transaction.atomic():
        for index in range(days):
            # Each past day as its last hourly sweep (at 23:07) saw it.
            day = first + dt.timedelta(days=index)
            evening = dt.datetime.combine(day, dt.time(23, 7), tzinfo=organization.tz)
            health_history_record(policies=policies, rep_ids=reps, now=evening)
            progress("health history", index + 1, days)
    insights_recompute(
        organization_id=organization_id,
        now=now,
        progress=lambda phase, done, total: progress(f"insights {phase}", done, total),
    )
    sweep_tasks(now=now)
    _weekly_reports(organization, now, progress)


def _weekly_reports(organization: Any, now: dt.datetime, progress: ProgressCallback) -> None:
    """Last week's report of each team as the worker made it at last week's moment, and this
    week's once its moment has come, so the reports page has a week to compare with."""
    from lodestar.core.reports import IsoWeek
    from lodestar.insights.weekly_reports import schedule_of, weekly_report_make
    from lodestar.org.models import Team

    schedule = schedule_of(organization=organization)
    this_week = IsoWeek.of(now.astimezone(organization.tz).date())
    moments = [(this_week.shifted(-1), schedule.due(this_week.shifted(-1)))]
    if schedule.due(this_week) <= now:
        moments.append((this_week, schedule.due(this_week)))
    teams = list(Team.objects.filter(organization=organization).order_by("pk"))
    for index, (week, moment) in enumerate(moments):
        for team in teams:
            weekly_report_make(organization=organization, team=team, week=week, now=moment)
        progress("weekly reports", index + 1, len(moments))


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


@dataclass(frozen=True)
class _Path:
    """Where a deal went: its moves, how it ended (or not yet), its last activity and, for an
    open deal, which silence it is in."""

    moves: list[tuple[str, str, int]]
    status: str
    closed: int | None
    last_activity: int
    silence: str = ""  # "", "silent" or "stale" (`Plan.silence`)

    def reached(self, order: dict[str, int]) -> int:
        """The furthest open stage the deal got to (its position in the process)."""
        return max(
            (order.get(to, len(order)) for _f, to, _t in self.moves if to != processes.LOST),
            default=0,
        )


def _industrial_terms(
    rng: random.Random,
    account: AccountInfo,
    path: _Path,
    process: processes.Process,
    tz: zoneinfo.ZoneInfo,
) -> tuple[int, str, dict[str, Any]]:
    """Amount, project word and custom fields as the industrial playbook declares them, filled
    as far as the deal got."""
    order = {key: position for position, key in enumerate(process.keys)}
    reached = path.reached(order)
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
        custom["signing_period"] = rng.choice(("within_2w", "within_1m", "within_3m", "over_3m"))
        custom["decision_chain_role"] = signer[2]
    if reached > order["negotiation"]:
        delivery = local_date(path.moves[-1][2] + int(rng.uniform(14, 60) * DAY), tz)
        custom["delivery_date"] = delivery.isoformat()
        custom["discount_approved"] = discount > 10
    if path.status == "open" and reached == order["contract"]:
        custom["legal_review_overdue_days"] = rng.choice((0, 0, 1, 2, 4))
    return amount, project, custom


def _budget_band(amount: int) -> str:
    if amount < 50_000:
        return "under_50k"
    if amount < 200_000:
        return "50k_200k"
    return "200k_500k" if amount < 500_000 else "over_500k"


def _saas_terms(
    rng: random.Random, path: _Path, process: processes.Process
) -> tuple[int, str, dict[str, Any]]:
    """Amount, project word and custom fields as the SaaS playbook declares them, filled as far
    as the deal got."""
    order = {key: position for position, key in enumerate(process.keys)}
    reached = path.reached(order)
    seats = rng.choice((10, 20, 30, 50, 80, 100, 150, 200))
    amount = _lognormal_amount(rng, 50_000, 0.7, 6_000, 800_000)
    custom: dict[str, Any] = {"budget_range": _budget_band(amount)}
    if reached >= order["needs_confirmed"]:
        custom["integration_required"] = rng.random() < 0.35
        custom["purchase_timeline"] = rng.choice(
            ("this_month", "this_quarter", "this_half", "later")
        )
    if reached >= order["demo"]:
        custom["budget_confirmed"] = reached > order["demo"] or rng.random() < 0.4
    if reached > order["poc"]:
        custom["poc_result"] = rng.choice(("passed", "passed", "conditional"))
    elif path.status == "lost" and reached == order["poc"]:
        custom["poc_result"] = "failed"
    if reached >= order["proposal"]:
        discount = rng.choice((0, 5, 10, 15, 20, 25, 30))
        custom["discount_pct"] = discount
        custom["discount_approved"] = discount > 20 and reached > order["proposal"]
    return amount, f"{seats}席位", custom


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


class _Builder:
    def __init__(
        self,
        *,
        reps: int,
        deals: int,
        months: int,
        seed: int,
        today: dt.date,
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
        self.tz = zoneinfo.ZoneInfo(TIME_ZONE)
        # The history ends where `today` begins: whatever time of day the demo is loaded, no
        # event lies ahead of the clock, and the same day gives the same data.
        self.now_ts = int(dt.datetime.combine(today, dt.time(), tzinfo=self.tz).timestamp())
        self.start_ts = self.now_ts - int(months * 30.44 * DAY)
        self.slug = slug
        self.name = name
        self.events_per_deal = events_per_deal
        self.prefix = prefix
        self.password = password
        self.progress = progress
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
        return local_date(ts, self.tz)

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

        teams: list[SalesTeam] = []
        counters = Counter[str]()
        for index, kind in enumerate(kinds):
            counters[kind] += 1
            city, label = ("绍兴", "工业设备") if kind == "industrial" else ("杭州", "SaaS")
            username = "manager" if index == 0 else f"manager-{index + 1:02d}"
            manager = add(username, self._person_name(names), Role.MANAGER, index)
            teams.append(
                SalesTeam(index, kind, f"{city}{label}{_cn_number(counters[kind])}组", manager)
            )
        reps: list[Rep] = []
        for index, team in enumerate(rep_teams):
            username = "rep" if index == 0 else f"rep-{index + 1:03d}"
            user = add(username, self._person_name(names), Role.REP, team)
            skill = round(0.15 + 0.8 * self.rng.betavariate(2.5, 2.0), 3)
            reps.append(Rep(index, user, team, skill))
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
        for sales_team, row in zip(teams, team_rows, strict=True):
            sales_team.team_id = row.pk
            sales_team.manager_id = user_ids[sales_team.manager_id]
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
        organization_version = playbook_publish_source(
            user=ops,
            source=template_source(industrial),
            source_name=TEMPLATES[industrial].name,
            note="demo",
            now=published_at,
        ).version.number
        # The number of the version each team follows (audit lines of stage moves name it).
        self.playbook_versions = []
        for team in self.teams:
            number = organization_version
            if team.kind != "industrial":
                template = processes.KINDS[team.kind]
                number = playbook_publish_source(
                    user=ops,
                    source=template_source(template),
                    source_name=TEMPLATES[template].name,
                    note="demo",
                    team_id=team.team_id,
                    now=published_at,
                ).version.number
            self.playbook_versions.append(number)
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
        contacts: list[Contact] = []
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
            AccountInfo(a.pk, short, key, [])
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

    def _plan_deals(self) -> None:
        from lodestar.crm.models import Opportunity

        weights = [0.5 + rep.skill for rep in self.reps]
        # The rep whose login the demo hands out (`rep`) is the busiest: their day shows most.
        weights[0] *= _SHOWN_REP_LOAD
        cumulative: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            cumulative.append(total)
        plans = []
        fresh_from = self.n_deals - _FRESH_LEADS if self.n_deals >= _FRESH_LEADS_FROM else None
        for index in range(self.n_deals):
            rng = deal_rng(self.seed, index, 0)
            rep = self.reps[min(bisect_right(cumulative, rng.random() * total), self.n_reps - 1)]
            fresh = fresh_from is not None and index >= fresh_from
            if fresh:
                rep = self.reps[0]
            account = rng.choice(rep.accounts)
            plans.append(self._plan(index, rng, rep, account, fresh=fresh))
        self.plans = plans
        durations = [max(p.last_activity - p.created, DAY) for p in plans]
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

    def _plan(
        self, index: int, rng: random.Random, rep: Rep, account_index: int, *, fresh: bool
    ) -> Plan:
        team = self.teams[rep.team_index]
        process = processes.process(team.kind)
        account = self.accounts[account_index]
        created = self._created(rng, fresh=fresh)
        # Deals mostly keep the playbook's target dwell times; weaker reps' overrun them.
        pace = 1.3 - 0.6 * rep.skill
        path = self._path(rng, process, created, pace, rep.skill)
        path = self._quiet_ending(rng, process, created, path)
        products = self.products[team.kind]
        product = rng.randrange(len(products))
        spec = products[product][1]
        if team.kind == "industrial":
            amount, project, custom = _industrial_terms(rng, account, path, process, self.tz)
        else:
            amount, project, custom = _saas_terms(rng, path, process)
        if account.key:
            amount = int(amount * 1.8)
        lost_reason = rng.choice(vocab.LOST_REASONS) if path.status == "lost" else ""
        if path.closed is not None:
            expected = self._local_date(path.closed)
        else:
            expected = self._local_date(created + int(rng.uniform(45, 150) * DAY))
        return Plan(
            index=index,
            rep=rep.index,
            account=account_index,
            process=team.kind,
            product=product,
            created=created,
            moves=path.moves,
            status=path.status,
            closed=path.closed,
            last_activity=path.last_activity,
            silence=path.silence,
            amount=amount,
            expected_close=expected,
            custom_fields=custom,
            lost_reason=lost_reason,
            name=f"{account.short_name}-{spec.category}{project}",
            opening=_FIRST_VISIT if fresh else (),
        )

    def _created(self, rng: random.Random, *, fresh: bool) -> int:
        """When a deal was opened: any time in the history, a good share of them lately (the
        open pipeline of deals at work on the day the history ends); a fresh lead yesterday
        afternoon."""
        if fresh:
            return self.now_ts - int(rng.uniform(*_FRESH_OPENED))
        first = self.start_ts
        if rng.random() < _RECENT_SHARE:
            first = max(first, self.now_ts - _RECENT)
        return first + int(rng.random() * (self.now_ts - DAY - first))

    def _path(
        self,
        rng: random.Random,
        process: processes.Process,
        created: int,
        pace: float,
        skill: float,
    ) -> _Path:
        """The deal's moves through its stages until it closes or the history ends."""
        stages = process.stages
        now = self.now_ts
        t = created
        s = 0
        moves: list[tuple[str, str, int]] = []
        bumpy = rng.random() < 0.12
        regressions_left = 2 + (rng.random() < 0.4) if bumpy else 0
        p_loss = 0.06 + 0.12 * (1 - skill)
        while True:
            stage = stages[s]
            dwell = stage.target_dwell_hours * HOUR * rng.lognormvariate(0, 0.55) * pace
            t_next = t + int(dwell)
            if t_next >= now:
                return _Path(moves, "open", None, now)
            r = rng.random()
            if s >= 2 and ((regressions_left and r < 0.55) or (not bumpy and r < 0.05)):
                back = 2 if (s >= 3 and rng.random() < 0.3) else 1
                moves.append((stage.key, stages[s - back].key, t_next))
                s -= back
                regressions_left = max(0, regressions_left - 1)
            elif r > 1 - p_loss * (1.6 if s == 0 else 1.0):
                moves.append((stage.key, processes.LOST, t_next))
                return _Path(moves, "lost", t_next, t_next)
            elif s + 1 == len(stages):
                moves.append((stage.key, processes.WON, t_next))
                return _Path(moves, "won", t_next, t_next)
            else:
                moves.append((stage.key, stages[s + 1].key, t_next))
                s += 1
            t = t_next

    def _quiet_ending(
        self, rng: random.Random, process: processes.Process, created: int, path: _Path
    ) -> _Path:
        """When the customer last spoke, against the playbook's silence and stale thresholds.

        Some deals stalled: the customer stopped answering and the deal was never closed, most
        of them lately (silent for days or weeks), a few beyond the stale threshold (the seed's
        "in progress" deals silent for 47+ days). Some other open deals have been silent for a
        few days; the rest heard from the customer within the last two days.
        """
        now = self.now_ts
        risks = process.playbook.risks
        silent = int(risks.silence.after.total_seconds())
        stale = int(risks.stale.after.total_seconds())
        if rng.random() < _STALLED:
            if rng.random() < 0.65:
                quiet = int(rng.uniform(silent + 12 * HOUR, stale - DAY))
            else:
                quiet = int(rng.uniform(stale + DAY, stale + 40 * DAY))
            stall_at = now - quiet
            if created + DAY < stall_at < (path.closed or now) - DAY:
                moves = [m for m in path.moves if m[2] < stall_at]
                silence = "stale" if quiet >= stale else "silent"
                return _Path(moves, "open", None, stall_at, silence)
        if path.status != "open":
            return path
        silence = ""
        if rng.random() < 0.15:
            silence, last_activity = "silent", now - silent - int(rng.uniform(0.5, 9) * DAY)
        else:
            # Recent enough to stay under the threshold whenever the demo is loaded that day.
            last_activity = now - int(rng.uniform(0.02, 0.6) * (silent - DAY))
        if last_activity <= created + HOUR:
            silence, last_activity = "", min(now, created + HOUR)
        moves = [m for m in path.moves if m[2] < last_activity]
        return _Path(moves, "open", None, last_activity, silence)

    # ------------------------------------------------------------------ pass 2: activity

    def _file_pool(self) -> None:
        """Write the few distinct files attachments share (content-addressed by SHA-256)."""
        rng = random.Random(f"lodestar-demo-files:{self.seed}")

        def store(content: bytes, content_type: str, text: str) -> StoredFile:
            sha = hashlib.sha256(content).hexdigest()
            name = f"org-{self.org_id}/attachments/{sha[:2]}/{sha}"
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(content))
            return StoredFile(name, sha, len(content), content_type, text)

        who = ("王总", "李工", "张经理", "陈厂长", "刘总监", "赵科长")
        long_minutes: list[StoredFile] = []
        short_minutes: list[StoredFile] = []
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
        pdfs: dict[str, list[StoredFile]] = {}
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
        world = World(
            ts=self.sink.ts,
            now=self.now_ts,
            org_id=self.org_id,
            tz=self.tz,
            seed=self.seed,
            reps=self.reps,
            teams=self.teams,
            accounts=self.accounts,
            products=self.products,
            product_knowledge=self.product_knowledge,
            titles=self.titles,
            pdfs=self.pdfs,
            long_minutes=self.long_minutes,
            short_minutes=self.short_minutes,
            buffers=self.buffers,
            tally=self.event_types,
            calendar=self.calendar,
            playbook_versions=self.playbook_versions,
            events_per_deal=self.events_per_deal,
            mean_duration=self.mean_duration,
        )
        with deferred_indexes(connection, deferred):
            total = len(self.plans)
            for start in range(0, total, _CHUNK_DEALS):
                for plan in self.plans[start : start + _CHUNK_DEALS]:
                    DealStory(world, plan).tell()
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

    # ------------------------------------------------------------------ daily reports

    def _daily_reports(self) -> None:
        from lodestar.crm.models import DailyReport

        fields = (
            "organization",
            "author",
            "date",
            "body",
            "plans",
            "blockers",
            "activity",
            "submitted_at",
        )
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
            rng = deal_rng(self.seed, rep.index, 3)
            accounts = [self.accounts[i].short_name for i in rep.accounts] or ["客户"]
            p_on_time = 0.7 + 0.28 * rep.skill
            for day, midnight in zip(days, midnights, strict=True):
                r = rng.random()
                if r < p_on_time:
                    submitted = midnight + int((17 + rng.uniform(0, 3.5)) * HOUR)
                elif r < p_on_time + (1 - p_on_time) * 0.6:
                    submitted = midnight + DAY + int((8.5 + rng.uniform(0, 4)) * HOUR)
                else:
                    continue
                if submitted > self.now_ts:
                    continue
                body, plans, blockers, activity = _report_texts(rng, accounts, day)
                rows.append(
                    (
                        self.org_id,
                        rep.user_id,
                        day.isoformat(),
                        body,
                        plans,
                        blockers,
                        activity,
                        ts(submitted),
                    )
                )
            if len(rows) > 20_000:
                self.sink.insert(DailyReport, fields, rows)
                self.counts["daily_reports"] += len(rows)
                rows.clear()
            self.progress("reports", rep.index + 1, len(self.reps))
        self.sink.insert(DailyReport, fields, rows)
        self.counts["daily_reports"] += len(rows)


def _report_texts(
    rng: random.Random, accounts: list[str], day: dt.date
) -> tuple[str, str, str, str]:
    """A demo daily report: what was done (visits and moves, calls and quotes), the plan and the
    help needed from the vocabulary's lines, and the counts it states as the activity snapshot."""
    said: dict[int, tuple[str, dict[str, Any]]] = {}
    for index, line in enumerate(vocab.DAILY_REPORT_LINES):
        if rng.random() < 0.8:
            values = {
                "visits": rng.randint(0, 5),
                "moved": rng.randint(0, 3),
                "calls": rng.randint(2, 20),
                "quotes": rng.randint(0, 3),
                "account": rng.choice(accounts),
            }
            said[index] = (line.format(**values), values)
    body = "\n".join(said[i][0] for i in (0, 1) if i in said) or "今日以内部会议和资料整理为主。"
    # Imported here: the module reads the models, and this one is imported before Django is set up.
    from lodestar.insights.daily_reports import ACTIVITY_KINDS

    counts = dict.fromkeys(ACTIVITY_KINDS, 0)
    if 0 in said:
        counts["meetings"], counts["stage_moves"] = said[0][1]["visits"], said[0][1]["moved"]
    if 1 in said:
        counts["calls"], counts["contacts"] = said[1][1]["calls"], said[1][1]["quotes"]
    # "明日计划:…" and "需要支持:…" go to their own fields without the label.
    plans = said[2][0].split(":", 1)[-1] if 2 in said else ""
    blockers = said[3][0].split(":", 1)[-1] if 3 in said else ""
    return body, plans, blockers, json.dumps({"date": day.isoformat(), "counts": counts})
