"""The demo generator: deterministic, idempotent, and its data hangs together."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from lodestar.automation.models import Task
from lodestar.crm.models import (
    Account,
    Attachment,
    Contact,
    DailyReport,
    DecisionRole,
    KnowledgeEntry,
    Opportunity,
    StageTransition,
)
from lodestar.demo import DemoError, DemoSummary, generate, load_demo_organization, processes
from lodestar.events.models import Event
from lodestar.insights.models import Alert, Exemption
from lodestar.org.models import Membership, Organization, Role, User

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 16, 18, 30, tzinfo=SHANGHAI)
SMALL = {"reps": 5, "deals": 200, "months": 3, "seed": 7, "now": NOW, "events_per_deal": 40}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def demo() -> tuple[Organization, DemoSummary]:
    summary = generate(slug="small", **SMALL)
    return Organization.objects.get(slug="small"), summary


def test_it_gives_identical_data_for_the_same_seed() -> None:
    first = generate(slug="first", **SMALL)
    second = generate(slug="second", **SMALL)
    assert first == second
    assert first.organization_id != second.organization_id

    def deals(slug: str) -> list[tuple[object, ...]]:
        return list(
            Opportunity.objects.filter(organization__slug=slug)
            .order_by("created_at", "name")
            .values_list("name", "stage_key", "status", "amount", "created_at", "closed_at")
        )

    def events(slug: str) -> list[tuple[object, ...]]:
        return list(
            Event.objects.filter(organization__slug=slug)
            .order_by("external_id", "source")
            .values_list("type", "source", "external_id", "occurred_at", "with_customer")
        )

    assert deals("first") == deals("second")
    assert events("first") == events("second")

    other = generate(slug="other", **{**SMALL, "seed": 8})
    assert other.digest != first.digest


def test_it_loads_the_demo_organization_once() -> None:
    loaded = load_demo_organization(**SMALL)
    again = load_demo_organization(**SMALL)

    assert not loaded.already_loaded
    assert again.already_loaded
    assert Organization.objects.filter(slug="demo").count() == 1
    assert again.counts == loaded.counts
    assert [login.role for login in again.logins] == ["rep", "manager", "ops", "admin"]
    assert again.logins == loaded.logins
    for login in loaded.logins:
        user = User.objects.get(username=login.username)
        assert user.check_password(login.password)
        assert user.membership.role == login.role
    assert any("already loaded" in line for line in again.lines())


def test_it_makes_no_superuser(demo: tuple[Organization, DemoSummary]) -> None:
    assert not User.objects.filter(is_superuser=True).exists()


def test_it_lets_the_demo_admin_into_the_admin_scoped_to_the_demo(
    demo: tuple[Organization, DemoSummary],
) -> None:
    from django.test import Client

    org, summary = demo
    login = next(login for login in summary.logins if login.role == Role.ADMIN)
    client = Client()
    signed_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": login.username, "password": login.password},
    )
    assert signed_in.status_code == 302, signed_in.content
    page = client.get("/admin/crm/opportunity/")
    assert page.status_code == 200
    shown = set(page.context["cl"].queryset.values_list("organization_id", flat=True))
    assert shown == {org.pk}


def test_it_has_the_engine_raise_real_alerts_with_reasons_for_the_demo() -> None:
    load_demo_organization(**SMALL)
    alerts = Alert.objects.filter(organization__slug="demo")
    kinds = set(alerts.values_list("kind", flat=True))
    assert {"risk.backward_moves", "risk.stale", "risk.silence"} <= kinds, kinds
    manager = User.objects.get(username="manager")
    assert alerts.filter(recipient=manager).exists()
    assert all(alert.message_zh and alert.message_en for alert in alerts)


def test_it_refuses_a_taken_slug_and_a_naive_now() -> None:
    generate(slug="taken", **SMALL)
    with pytest.raises(DemoError):
        generate(slug="taken", **SMALL)
    with pytest.raises(DemoError):
        generate(slug="naive", **{**SMALL, "now": NOW.replace(tzinfo=None)})


def test_it_fills_every_table(demo: tuple[Organization, DemoSummary]) -> None:
    org, summary = demo
    raised_by_the_engine = {"alerts"}
    assert all(
        count > 0 for name, count in summary.counts.items() if name not in raised_by_the_engine
    ), summary.counts
    assert summary.counts["events"] == Event.objects.filter(organization=org).count()
    assert summary.counts["opportunities"] == 200
    assert DecisionRole.objects.filter(organization=org).count() == 8
    assert KnowledgeEntry.objects.filter(organization=org, title="《高频异议应答手册》").exists()
    assert Account.objects.filter(organization=org, tier="key").exists()


def test_it_keeps_every_row_in_the_organization(demo: tuple[Organization, DemoSummary]) -> None:
    org, _ = demo
    roles = Counter(Membership.objects.filter(organization=org).values_list("role", flat=True))
    assert roles[Role.REP] == 5
    assert roles[Role.OPS] == 1
    assert roles[Role.ADMIN] == 1
    assert roles[Role.MANAGER] == len({m.team_id for m in Membership.objects.filter(role="rep")})
    team_names = set(org.teams.values_list("name", flat=True))
    assert any(name.startswith("绍兴") for name in team_names)
    assert any(name.startswith("杭州") for name in team_names)

    for deal in Opportunity.objects.filter(organization=org).select_related(
        "owner__membership", "account"
    ):
        assert deal.team_id == deal.owner.membership.team_id
        assert deal.owner.membership.organization_id == org.pk
        assert deal.account.organization_id == org.pk
    assert not Contact.objects.filter(organization=org).exclude(account__organization=org).exists()
    assert (
        not Event.objects.filter(organization=org).exclude(opportunity__organization=org).exists()
    )
    assert (
        not Event.objects.exclude(contact=None).exclude(contact__account__organization=org).exists()
    )
    assert (
        not Task.objects.filter(organization=org)
        .exclude(assignee__membership__organization=org)
        .exists()
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []


def test_its_stage_moves_agree_with_the_deals(demo: tuple[Organization, DemoSummary]) -> None:
    org, _ = demo
    moves = defaultdict(list)
    for move in StageTransition.objects.filter(organization=org).order_by("occurred_at", "id"):
        moves[move.opportunity_id].append(move)
    regressed_twice = 0
    for deal in Opportunity.objects.filter(organization=org):
        keys = processes.process("industrial" if "工业" in deal.team.name else "saas").keys
        stage = "lead"
        for move in moves[deal.pk]:
            assert move.from_stage == stage
            if move.to_stage in (processes.WON, processes.LOST):
                assert move.direction == "forward"
            else:
                backwards = keys.index(move.to_stage) < keys.index(move.from_stage)
                assert move.direction == ("backward" if backwards else "forward")
            stage = move.to_stage
        assert deal.stage_key == stage
        if moves[deal.pk]:
            assert deal.stage_entered_at == moves[deal.pk][-1].occurred_at
        expected = {"won": "won", "lost": "lost"}.get(stage, "open")
        assert deal.status == expected
        assert (deal.closed_at is not None) == (expected != "open")
        if sum(m.direction == "backward" for m in moves[deal.pk]) >= 2:
            regressed_twice += 1
    assert regressed_twice > 0
    assert (
        Event.objects.filter(organization=org, type="stage.changed").count()
        == StageTransition.objects.filter(organization=org).count()
    )


def test_it_has_won_lost_and_silent_deals(demo: tuple[Organization, DemoSummary]) -> None:
    org, _ = demo
    statuses = Counter(
        Opportunity.objects.filter(organization=org).values_list("status", flat=True)
    )
    assert statuses["won"]
    assert statuses["lost"]
    assert statuses["open"]

    last_touch: dict[int, dt.datetime] = {}
    for opportunity_id, occurred in Event.objects.filter(
        organization=org, with_customer=True
    ).values_list("opportunity_id", "occurred_at"):
        last_touch[opportunity_id] = max(occurred, last_touch.get(opportunity_id, occurred))
    quiet = [
        NOW - last_touch[pk]
        for pk in Opportunity.objects.filter(organization=org, status="open").values_list(
            "pk", flat=True
        )
    ]
    assert any(gap > dt.timedelta(hours=72) for gap in quiet)
    assert any(gap > dt.timedelta(days=47) for gap in quiet)
    assert any(gap < dt.timedelta(hours=72) for gap in quiet)
    assert Exemption.objects.filter(organization=org, reason__startswith="客户临时失联").exists()


def test_its_events_are_well_formed(demo: tuple[Organization, DemoSummary]) -> None:
    org, summary = demo
    events = Event.objects.filter(organization=org)
    types = set(events.values_list("type", flat=True))
    assert {
        "demo.booked",
        "demo.held",
        "meeting.held",
        "call",
        "email.sent",
        "email.received",
        "chat.message",
        "minutes.uploaded",
        "quote.sent",
        "document.updated",
        "customer.confirmed",
        "erp.order",
        "approval.sealed",
        "legal.review.started",
        "legal.review.finished",
        "task.completed",
        "proposal.sent",
        "trial.activated",
        "poc.feedback",
        "followup.scheduled",
        "knowledge.linked",
    } <= types
    assert summary.event_types == dict(
        sorted(Counter(events.values_list("type", flat=True)).items())
    )
    assert events.values("source", "external_id").distinct().count() == events.count()
    assert not events.filter(occurred_at__gt=NOW).exists()
    assert not events.filter(recorded_at__lt=models_f("occurred_at")).exists()
    for event in events.filter(type="chat.message")[:300]:
        assert event.with_customer == event.payload["from_customer"]
        assert event.payload["text"]
    meeting = events.filter(type="meeting.held").first()
    contact_ids = meeting.payload["attendee_contact_ids"]
    assert set(Contact.objects.filter(pk__in=contact_ids).values_list("account_id", flat=True)) == {
        meeting.account_id
    }
    assert events.filter(type="customer.confirmed", with_customer=True).exists()
    assert not events.filter(type="email.sent", with_customer=True).exists()


def models_f(name: str) -> object:
    from django.db.models import F

    return F(name)


def test_it_has_tasks_minutes_and_reports_good_and_bad(
    demo: tuple[Organization, DemoSummary],
) -> None:
    org, _ = demo
    tasks = Task.objects.filter(organization=org)
    done = tasks.filter(status="done")
    assert any(t.completed_at <= t.due_at for t in done)
    assert any(t.completed_at > t.due_at for t in done)
    assert tasks.filter(status="open", due_at__lt=NOW).exists()
    assert tasks.exclude(department="").exists()

    minutes = Attachment.objects.filter(organization=org, kind="meeting_minutes")
    assert minutes.filter(text_length__gte=300).exists()
    assert minutes.filter(text_length__lt=300).exists()
    sample = minutes.first()
    assert sample.file.read().decode() == sample.extracted_text
    assert len(sample.extracted_text) == sample.text_length
    quote = Attachment.objects.filter(organization=org, kind="quote").first()
    assert quote.file.read().startswith(b"%PDF-")
    assert quote.content_type == "application/pdf"

    reports = list(DailyReport.objects.filter(organization=org))
    late = [r for r in reports if r.submitted_at.astimezone(SHANGHAI).date() > r.date]
    assert late
    assert len(late) < len(reports)
    # Plans and blockers in their fields, the counts the text states as the activity snapshot.
    assert any(r.plans for r in reports)
    assert any(r.blockers for r in reports)
    assert all(set(r.activity["counts"]) >= {"calls", "meetings"} for r in reports)


def test_it_rebuilds_the_indexes_it_defers_for_big_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    from lodestar.demo import generator

    monkeypatch.setattr(generator, "_DEFER_INDEXES_FROM", 1)
    generate(slug="big", **{**SMALL, "deals": 20, "events_per_deal": 10})

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    names = {name for name, info in constraints.items() if info["index"]}
    assert {index.name for index in Event._meta.indexes} <= names
    assert Event.objects.filter(organization__slug="big").exists()


@pytest.mark.django_db(transaction=True)
def test_it_leaves_planner_statistics_that_count_the_alerts_the_engine_raised() -> None:
    from django.db import connection

    load_demo_organization(**SMALL)

    alerts = Alert.objects.count()
    all_visible = True  # SQLite has no visibility map: its index-only reads never visit rows
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'insights_alert'")
            counted = {int(stat.split()[0]) for (stat,) in cursor.fetchall()}
        else:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'insights_alert'")
            counted = {int(reltuples) for (reltuples,) in cursor.fetchall()}
            cursor.execute(
                "SELECT relallvisible > 0 AND relallvisible = relpages FROM pg_class "
                "WHERE relname = 'events_event'"
            )
            (all_visible,) = cursor.fetchone()
    assert alerts > 0
    assert counted == {alerts}
    assert all_visible
