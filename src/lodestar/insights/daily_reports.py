"""The rep's daily report (日报): the day's logged work filled in, sent once a day, reminded.

- `day_activity` — what one person did on a local date, read from the event log (calls,
  meetings and visits, other customer contacts, stage moves), the attachments they uploaded
  and the tasks they completed: counts and the lines behind them. `day_activity_counts` gives
  the counts of many people at once (a few grouped queries), for the manager's day view.
- `prefill_body` — that activity as the editable text the form starts with, in the reader's
  language.
- `daily_report_submit` — the one write of a report: the first send creates it (its
  `submitted_at` is what the on-time yardstick judges), a later send the same day updates it
  (`updated_at`) until it is due; after that it is closed. A report first sent after it was due
  is accepted and is late. The activity snapshot is taken by the server at each send, never
  taken from the client.
- `daily_report_settings_update` — an admin sets the organization's due time and how long
  before it reps are reminded (audited).
- `daily_report_reminders` — the worker's sweep: reps who have not sent the report of a working
  day get one notification `reminder_minutes` before it is due, through the outbox, once (the
  notification's cause key makes a re-run a no-op).

The day is the organization's local date; the due time is `Organization.daily_report_due`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lodestar import messages
from lodestar.automation.models import Task, TaskStatus
from lodestar.core.events.catalogue import EventCatalogue, UnknownEventType
from lodestar.core.scoring import Message
from lodestar.crm.models import Attachment, DailyReport
from lodestar.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from lodestar.events.models import Event
from lodestar.i18n import localized
from lodestar.insights.policy import insights_policy
from lodestar.insights.task_titles import task_titles
from lodestar.integrations.services import NotificationSpec, notify_many
from lodestar.messages import Msg
from lodestar.org.calendar import organization_calendar
from lodestar.org.models import (
    DAILY_REPORT_DUE_RANGE,
    DAILY_REPORT_REMINDER_MAX,
    Organization,
    Role,
    User,
)
from lodestar.org.selectors import membership_of
from lodestar.org.services import audit_record
from lodestar.playbooks.selectors import organization_catalogue

__all__ = [
    "ACTIVITY_KINDS",
    "BODY_MAX",
    "LATE_DAYS",
    "NOTE_MAX",
    "ActivityItem",
    "DailyReportClosed",
    "DayActivity",
    "SubmitResult",
    "activity_counts_by_day",
    "daily_report_reminders",
    "daily_report_settings_set",
    "daily_report_settings_update",
    "daily_report_submit",
    "day_activity",
    "day_activity_counts",
    "day_bounds",
    "due_minutes_of",
    "due_parts",
    "is_late",
    "item_words",
    "prefill_body",
]

# The kinds of work a daily report counts, in the order the form lists them.
CALLS, MEETINGS, CONTACTS, UPLOADS, TASKS_DONE, STAGE_MOVES = (
    "calls",
    "meetings",
    "contacts",
    "uploads",
    "tasks_done",
    "stage_moves",
)
ACTIVITY_KINDS = (CALLS, MEETINGS, CONTACTS, UPLOADS, TASKS_DONE, STAGE_MOVES)
# Face-to-face work: meetings, demos and the FMCG template's store visit check-ins (门店拜访签到).
MEETING_TYPES = frozenset({"meeting.held", "demo.held", "store.visited"})
STAGE_MOVE_TYPE = "stage.changed"
# A report is for today or one of the days before, at most this many back (sent late).
LATE_DAYS = 31
BODY_MAX = 4000
NOTE_MAX = 2000
# Lines kept per kind in a report's snapshot (the counts are always complete).
ITEMS_PER_KIND = 30


class DailyReportClosed(Conflict):
    """The report's due time has passed: it stays as it was sent."""

    code = "daily_report_closed"


@dataclass(frozen=True)
class ActivityItem:
    kind: str
    at: dt.datetime
    deal_id: int | None
    deal: str
    text: Message

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "deal_id": self.deal_id,
            "deal": self.deal,
            "text": {"zh": self.text.zh, "en": self.text.en},
        }


@dataclass(frozen=True)
class DayActivity:
    """One person's logged work on one local date, as of `as_of`."""

    date: dt.date
    as_of: dt.datetime
    counts: dict[str, int]
    items: list[ActivityItem] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        """What `DailyReport.activity` stores: the counts and the lines, both languages."""
        return {
            "date": self.date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "counts": dict(self.counts),
            "items": [item.as_json() for item in self.items],
        }


def day_bounds(organization: Organization, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local date `day` of the organization, as [start, end) instants."""
    tz = organization.tz
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start, end


def _kind_of_event(event_type: str, with_customer: bool) -> str | None:
    if event_type == "call":
        return CALLS
    if event_type in MEETING_TYPES:
        return MEETINGS
    if event_type == STAGE_MOVE_TYPE:
        return STAGE_MOVES
    return CONTACTS if with_customer else None


def _zero() -> dict[str, int]:
    return dict.fromkeys(ACTIVITY_KINDS, 0)


def _counted_events(
    organization: Organization, start: dt.datetime, end: dt.datetime
) -> QuerySet[Event]:
    """The day's events a report counts: those with the customer, and calls, meetings, visits
    and stage moves whatever their flag (a playbook may declare a visit without it)."""
    return Event.objects.filter(
        organization_id=organization.pk, occurred_at__gte=start, occurred_at__lt=end
    ).filter(Q(with_customer=True) | Q(type__in=[STAGE_MOVE_TYPE, "call", *MEETING_TYPES]))


def _done_tasks(organization: Organization, start: dt.datetime, end: dt.datetime) -> QuerySet[Task]:
    return Task.objects.filter(
        organization_id=organization.pk,
        status=TaskStatus.DONE,
        completed_at__gte=start,
        completed_at__lt=end,
    )


def day_activity_counts(
    *, organization: Organization, user_ids: Iterable[int], day: dt.date
) -> dict[int, dict[str, int]]:
    """The activity counts of each of `user_ids` on the local date `day` (three queries)."""
    people = sorted(set(user_ids))
    counts: dict[int, dict[str, int]] = {person: _zero() for person in people}
    if not people:
        return counts
    start, end = day_bounds(organization, day)
    for actor_id, event_type, with_customer, n in (
        _counted_events(organization, start, end)
        .filter(actor_id__in=people)
        .values("actor_id", "type", "with_customer")
        .annotate(n=Count("id"))
        .values_list("actor_id", "type", "with_customer", "n")
    ):
        kind = _kind_of_event(event_type, with_customer)
        if kind is not None and actor_id in counts:
            counts[actor_id][kind] += n
    for uploader_id, n in (
        Attachment.objects.filter(
            organization_id=organization.pk,
            uploaded_by_id__in=people,
            uploaded_at__gte=start,
            uploaded_at__lt=end,
        )
        .values("uploaded_by_id")
        .annotate(n=Count("id"))
        .values_list("uploaded_by_id", "n")
    ):
        counts[uploader_id][UPLOADS] += n
    # A task is credited to whoever completed it; one closed without a person (an event from
    # an outside system) to its assignee.
    for completed_by, assignee, n in (
        _done_tasks(organization, start, end)
        .filter(
            Q(completed_by_id__in=people) | Q(completed_by__isnull=True, assignee_id__in=people)
        )
        .values("completed_by_id", "assignee_id")
        .annotate(n=Count("id"))
        .values_list("completed_by_id", "assignee_id", "n")
    ):
        person = completed_by if completed_by is not None else assignee
        if person in counts:
            counts[person][TASKS_DONE] += n
    return counts


def activity_counts_by_day(
    *, organization: Organization, user_id: int, date_from: dt.date, date_to: dt.date
) -> dict[dt.date, dict[str, int]]:
    """One person's activity counts of each local date from `date_from` to `date_to` (three
    queries, whatever the number of days); days without any are left out."""
    start, end = day_bounds(organization, date_from)[0], day_bounds(organization, date_to)[1]
    tz = organization.tz
    found: defaultdict[dt.date, dict[str, int]] = defaultdict(_zero)
    for at, event_type, with_customer in (
        _counted_events(organization, start, end)
        .filter(actor_id=user_id)
        .values_list("occurred_at", "type", "with_customer")
    ):
        kind = _kind_of_event(event_type, with_customer)
        if kind is not None:
            found[at.astimezone(tz).date()][kind] += 1
    for at in Attachment.objects.filter(
        organization_id=organization.pk,
        uploaded_by_id=user_id,
        uploaded_at__gte=start,
        uploaded_at__lt=end,
    ).values_list("uploaded_at", flat=True):
        found[at.astimezone(tz).date()][UPLOADS] += 1
    for done in (
        _done_tasks(organization, start, end)
        .filter(Q(completed_by_id=user_id) | Q(completed_by__isnull=True, assignee_id=user_id))
        .values_list("completed_at", flat=True)
    ):
        if done is not None:
            found[done.astimezone(tz).date()][TASKS_DONE] += 1
    return dict(found)


def _type_name(catalogue: EventCatalogue, key: str) -> Message:
    try:
        spec = catalogue.get(key)
    except UnknownEventType:  # a type no playbook declares any more: its key stands for it
        return Message(key, key)
    return Message(spec.name_zh, spec.name_en or spec.name_zh)


def _joined(*parts: Message) -> Message:
    shown = [part for part in parts if part.zh or part.en]
    return Message(
        ":".join(part.zh for part in shown if part.zh),
        ": ".join(part.en for part in shown if part.en),
    )


def _data(value: Any, limit: int = 120) -> Message:
    """A value someone typed (a call's summary, a meeting's topic): the same in both languages."""
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Message(text, text)


def _event_items(
    organization: Organization, user: User, start: dt.datetime, end: dt.datetime
) -> list[ActivityItem]:
    catalogue = organization_catalogue(organization_id=organization.pk)
    policy = insights_policy(organization=organization)
    items = []
    events = (
        _counted_events(organization, start, end)
        .filter(actor_id=user.pk)
        .select_related("opportunity", "account")
        .order_by("occurred_at", "id")
    )
    for event in events:
        kind = _kind_of_event(event.type, event.with_customer)
        if kind is None:
            continue
        payload = event.payload if isinstance(event.payload, dict) else {}
        if kind == CALLS:
            text = _data(payload.get("summary"))
        elif kind == STAGE_MOVES:
            before = policy.stage_names.get(str(payload.get("from", "")))
            after = policy.stage_names.get(str(payload.get("to", "")))
            old = before or Message(str(payload.get("from", "")), str(payload.get("from", "")))
            new = after or Message(str(payload.get("to", "")), str(payload.get("to", "")))
            text = Message(f"{old.zh} → {new.zh}", f"{old.en} → {new.en}")
        else:
            said = payload.get("topic") or payload.get("subject") or payload.get("text")
            name = _type_name(catalogue, event.type)
            text = _joined(name, _data(said)) if event.type != "meeting.held" else _data(said)
        deal = event.opportunity.name if event.opportunity is not None else ""
        if not deal and event.account is not None:
            deal = event.account.name
        items.append(ActivityItem(kind, event.occurred_at, event.opportunity_id, deal, text))
    return items


def day_activity(
    *, organization: Organization, user: User, day: dt.date, now: dt.datetime
) -> DayActivity:
    """What `user` logged on the local date `day`: counts and the lines behind them."""
    start, end = day_bounds(organization, day)
    counts = day_activity_counts(organization=organization, user_ids=[user.pk], day=day)[user.pk]
    items = _event_items(organization, user, start, end)
    for attachment in (
        Attachment.objects.filter(
            organization_id=organization.pk,
            uploaded_by_id=user.pk,
            uploaded_at__gte=start,
            uploaded_at__lt=end,
        )
        .select_related("opportunity", "account")
        .order_by("uploaded_at", "id")
    ):
        deal = attachment.opportunity.name if attachment.opportunity is not None else ""
        if not deal and attachment.account is not None:
            deal = attachment.account.name
        items.append(
            ActivityItem(
                UPLOADS,
                attachment.uploaded_at,
                attachment.opportunity_id,
                deal,
                _data(attachment.original_name),
            )
        )
    tasks = list(
        _done_tasks(organization, start, end)
        .filter(Q(completed_by_id=user.pk) | Q(completed_by__isnull=True, assignee_id=user.pk))
        .select_related("opportunity")
        .order_by("completed_at", "id")
    )
    titles = task_titles(tasks)
    for task in tasks:
        deal = task.opportunity.name if task.opportunity is not None else ""
        at = task.completed_at or start
        items.append(ActivityItem(TASKS_DONE, at, task.opportunity_id, deal, titles[task.pk]))
    items.sort(key=lambda item: item.at)
    kept: list[ActivityItem] = []
    per_kind: dict[str, int] = defaultdict(int)
    for item in items:
        per_kind[item.kind] += 1
        if per_kind[item.kind] <= ITEMS_PER_KIND:
            kept.append(item)
    return DayActivity(date=day, as_of=now, counts=counts, items=kept)


# The lines of the prefilled text, one per kind with its count.
_LINES = {
    CALLS: _("Calls (%(n)d): %(items)s"),
    MEETINGS: _("Meetings and visits (%(n)d): %(items)s"),
    CONTACTS: _("Other customer contacts (%(n)d): %(items)s"),
    UPLOADS: _("Files uploaded (%(n)d): %(items)s"),
    TASKS_DONE: _("Tasks done (%(n)d): %(items)s"),
    STAGE_MOVES: _("Stage moves (%(n)d): %(items)s"),
}


def item_words(item: Mapping[str, Any]) -> str:
    """One snapshot line in the reader's language: the deal and what happened on it."""
    raw = item.get("text") or {}
    text = localized(Message(str(raw.get("zh", "")), str(raw.get("en", ""))))
    deal = str(item.get("deal") or "")
    if deal and text:
        return gettext("%(deal)s (%(text)s)") % {"deal": deal, "text": text}
    return deal or text


def prefill_body(activity: DayActivity) -> str:
    """The day's activity as the text the form starts with, in the active language."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for item in activity.items:
        by_kind[item.kind].append(item_words(item.as_json()))
    lines = []
    for kind in ACTIVITY_KINDS:
        n = activity.counts.get(kind, 0)
        if not n:
            continue
        shown = by_kind.get(kind, [])
        listed = gettext(", ").join(shown)
        if n > len(shown):
            listed = gettext("%(items)s and %(more)d more") % {
                "items": listed,
                "more": n - len(shown),
            }
        lines.append(str(_LINES[kind]) % {"n": n, "items": listed})
    return "\n".join(lines)


def is_late(report: DailyReport, organization: Organization) -> bool:
    """Whether the report was first sent after its due time (edits do not count)."""
    return report.submitted_at > organization.daily_report_due(report.date)


@dataclass(frozen=True)
class SubmitResult:
    report: DailyReport
    created: bool
    late: bool


def _check_day(organization: Organization, day: dt.date, now: dt.datetime) -> None:
    today = now.astimezone(organization.tz).date()
    if day > today:
        raise ValidationFailed.on(
            "date",
            _("A daily report is for today or a day before; %(date)s is still ahead.")
            % {"date": day.isoformat()},
        )
    if day < today - dt.timedelta(days=LATE_DAYS):
        raise ValidationFailed.on(
            "date",
            _("Daily reports more than %(days)d days old can no longer be sent; pick a later date.")
            % {"days": LATE_DAYS},
        )


def _check_texts(body: str, plans: str, blockers: str) -> tuple[str, str, str]:
    body, plans, blockers = body.strip(), plans.strip(), blockers.strip()
    problems = []
    if not body:
        problems.append(
            FieldError(
                "body",
                _("Say what you did that day: the work already logged is listed for you."),
            )
        )
    for name, value, limit in (
        ("body", body, BODY_MAX),
        ("plans", plans, NOTE_MAX),
        ("blockers", blockers, NOTE_MAX),
    ):
        if len(value) > limit:
            problems.append(
                FieldError(
                    name,
                    _("At most %(max)d characters; this has %(n)d: shorten it.")
                    % {"max": limit, "n": len(value)},
                )
            )
    if problems:
        raise ValidationFailed(details=problems)
    return body, plans, blockers


def _closed(organization: Organization, day: dt.date) -> DailyReportClosed:
    due = organization.daily_report_due(day).astimezone(organization.tz)
    return DailyReportClosed(
        _(
            "The daily report of %(date)s was due at %(due)s; once it is due it can no longer "
            "be changed."
        )
        % {"date": day.isoformat(), "due": f"{due:%Y-%m-%d %H:%M}"}
    )


def daily_report_submit(
    *,
    user: User,
    day: dt.date,
    body: str,
    plans: str = "",
    blockers: str = "",
    now: dt.datetime,
) -> SubmitResult:
    """Send `user`'s own report of the local date `day`: create it, or update it while it is
    not yet due (`DailyReportClosed` after). The activity snapshot is taken now. The same
    texts arriving again after the due time (a delivery repeated across it) change nothing
    and answer the report as it is."""
    membership = membership_of(user=user)
    if membership is None:
        raise PermissionDenied
    organization = membership.organization
    _check_day(organization, day, now)
    body, plans, blockers = _check_texts(body, plans, blockers)
    snapshot = day_activity(organization=organization, user=user, day=day, now=now).snapshot()
    due = organization.daily_report_due(day)
    texts = {"body": body, "plans": plans, "blockers": blockers, "activity": snapshot}
    with transaction.atomic():
        report = (
            DailyReport.objects.select_for_update()
            .filter(organization_id=organization.pk, author_id=user.pk, date=day)
            .first()
        )
        created = False
        if report is None:
            try:
                with transaction.atomic():
                    report = DailyReport.objects.create(
                        organization_id=organization.pk,
                        author=user,
                        date=day,
                        submitted_at=now,
                        **texts,
                    )
                    created = True
            except IntegrityError:
                # Sent twice at once: the other send made it; this one updates it below.
                report = DailyReport.objects.select_for_update().get(
                    organization_id=organization.pk, author_id=user.pk, date=day
                )
        repeated = (report.body, report.plans, report.blockers) == (body, plans, blockers)
        if not created and now > due and not repeated:
            raise _closed(organization, day)
        if not created and now <= due:
            for name, value in texts.items():
                setattr(report, name, value)
            report.updated_at = now
            report.save(update_fields=[*texts, "updated_at"])
    return SubmitResult(report=report, created=created, late=report.submitted_at > due)


# --- the organization's settings -----------------------------------------------------------------


def due_parts(minutes: int) -> tuple[dt.time, bool]:
    """A due time in minutes after the day starts as a clock time and whether it is on the next
    day: 1200 → (20:00, False), 1440 → (00:00, True)."""
    next_day = minutes >= 24 * 60
    left = minutes - 24 * 60 if next_day else minutes
    return dt.time(left // 60, left % 60), next_day


def due_minutes_of(clock: dt.time, next_day: bool) -> int:
    """The inverse of `due_parts` (seconds are dropped)."""
    return (24 * 60 if next_day else 0) + clock.hour * 60 + clock.minute


def daily_report_settings_update(
    *, user: User, due_minutes: int, reminder_minutes: int
) -> Organization:
    """An admin sets when reports are due (minutes after the day starts) and how long before
    that reps are reminded (0: no reminder), for their organization."""
    membership = membership_of(user=user)
    if membership is None or membership.role != Role.ADMIN:
        raise PermissionDenied(_("Only an administrator sets when daily reports are due."))
    organization = daily_report_settings_set(
        organization_id=membership.organization_id,
        due_minutes=due_minutes,
        reminder_minutes=reminder_minutes,
        actor=user,
    )
    # The member's kept organization (pages, selectors) shows the new values from now on.
    membership.organization = organization
    return organization


def daily_report_settings_set(
    *, organization_id: int, due_minutes: int, reminder_minutes: int, actor: User | None
) -> Organization:
    """Set an organization's due time and reminder, checked; audited with the old and new
    values (`actor` None: the installation's operator, from the command line). The caller has
    checked who may."""
    low, high = DAILY_REPORT_DUE_RANGE
    problems = []
    if not low <= due_minutes <= high:
        problems.append(
            FieldError(
                "due",
                _("Choose a due time from 12:00 on the day to 12:00 the next day."),
            )
        )
    if not 0 <= reminder_minutes <= DAILY_REPORT_REMINDER_MAX:
        problems.append(
            FieldError(
                "reminder_minutes",
                _("Remind from 0 (no reminder) to %(max)d minutes before the due time.")
                % {"max": DAILY_REPORT_REMINDER_MAX},
            )
        )
    if problems:
        raise ValidationFailed(details=problems)
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization_id)
        before = {
            "due_minutes": organization.daily_report_due_minutes,
            "reminder_minutes": organization.daily_report_reminder_minutes,
        }
        after = {"due_minutes": due_minutes, "reminder_minutes": reminder_minutes}
        if before != after:
            organization.daily_report_due_minutes = due_minutes
            organization.daily_report_reminder_minutes = reminder_minutes
            organization.save(
                update_fields=["daily_report_due_minutes", "daily_report_reminder_minutes"]
            )
            audit_record(
                organization_id=organization.pk,
                actor=actor,
                action="organization.daily_reports",
                object_type="organization",
                object_id=organization.pk,
                data={"from": before, "to": after},
            )
    return organization


# --- reminders -----------------------------------------------------------------------------------


def _days_due_soon(organization: Organization, now: dt.datetime) -> list[dt.date]:
    """The local dates whose report falls due within the reminder lead from `now`."""
    lead = dt.timedelta(minutes=organization.daily_report_reminder_minutes)
    today = now.astimezone(organization.tz).date()
    # A report is due at most 36 h after its day starts: today's or one of the two before.
    candidates = [today - dt.timedelta(days=back) for back in (2, 1, 0)]
    return [
        day
        for day in candidates
        if organization.daily_report_due(day) - lead <= now < organization.daily_report_due(day)
    ]


def daily_report_reminders(*, now: dt.datetime) -> int:
    """Remind every active rep who has not sent the report of a working day falling due soon;
    once per rep and day (a re-run writes nothing). Returns the notifications written."""
    written = 0
    for organization in Organization.objects.filter(daily_report_reminder_minutes__gt=0):
        days = _days_due_soon(organization, now)
        if not days:
            continue
        calendar = organization_calendar(organization=organization)
        for day in days:
            if calendar.is_working_day(day):
                written += _remind(organization, day, now)
    return written


def _remind(organization: Organization, day: dt.date, now: dt.datetime) -> int:
    reps = list(
        User.objects.filter(
            membership__organization_id=organization.pk,
            membership__role=Role.REP,
            is_active=True,
        ).exclude(daily_reports__organization_id=organization.pk, daily_reports__date=day)
    )
    if not reps:
        return 0
    due = organization.daily_report_due(day)
    link = f"{reverse('web:daily-report')}?date={day.isoformat()}"
    message = Msg(
        "daily_report.due_soon",
        {"day": day.isoformat(), "due": messages.moment(due, organization.tz)},
    )
    specs = [
        NotificationSpec(
            recipient=rep,
            title="",
            cause_key=f"daily-report:{day.isoformat()}:{rep.pk}:due-soon",
            link=link,
            message=message,
        )
        for rep in reps
    ]
    with transaction.atomic():
        return len(notify_many(organization=organization, specs=specs, now=now))
