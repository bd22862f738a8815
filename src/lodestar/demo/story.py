"""The second pass of the demo generator: one deal's story, told from its plan.

In order: stage milestones, the everyday conversation, the tasks the playbook's triggers make,
the stage moves with their audit lines, and an exemption for some silent deals. Everything is
appended as plain row tuples to the world's buffers (written with `bulk.BulkSink`). A story
draws only from its deal's own random stream, so it does not depend on any other deal.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lodestar.core.engine import BusinessCalendar, Clock, due_at
from lodestar.core.rules import TransitionKind
from lodestar.demo import processes, vocab
from lodestar.demo.cast import (
    DAY,
    HOUR,
    AccountInfo,
    ContactInfo,
    Plan,
    Rep,
    SalesTeam,
    StoredFile,
    deal_rng,
    local_date,
)

__all__ = ["DealStory", "World"]

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

# An open task whose deadline passed longer ago than this has been done by now (late).
_CATCH_UP = 4 * DAY
# `by` of an event done by the deal's own rep.
_REP = -1


@dataclass
class World:
    """What every deal's story reads (the organization's people, customers, products and files)
    and where it writes (row buffers by table, the tally of event types)."""

    ts: Callable[[int], str]
    now: int
    org_id: int
    tz: zoneinfo.ZoneInfo
    seed: int
    reps: list[Rep]
    teams: list[SalesTeam]
    accounts: list[AccountInfo]
    products: dict[str, list[tuple[int, vocab.ProductSpec]]]
    product_knowledge: dict[int, str]
    titles: dict[str, vocab.Title]
    pdfs: dict[str, list[StoredFile]]
    long_minutes: list[StoredFile]
    short_minutes: list[StoredFile]
    calendar: BusinessCalendar
    # The number of the playbook version each team follows (by team index).
    playbook_versions: list[int]
    buffers: dict[str, list[tuple[Any, ...]]]
    tally: Counter[str]
    events_per_deal: int
    mean_duration: float


def _transition_kind(to_stage: str, direction: str) -> TransitionKind:
    if to_stage == processes.WON:
        return TransitionKind.WON
    if to_stage == processes.LOST:
        return TransitionKind.LOST
    return TransitionKind.ADVANCE if direction == "forward" else TransitionKind.REGRESSION


@dataclass(frozen=True)
class _PendingTask:
    """A task a trigger made, written once the deal's story is complete."""

    rule: processes.Trigger
    created: int
    due: int
    # When the rep would finish it by hand (None: never).
    completed: int | None


@dataclass(frozen=True)
class _Segment:
    """A stretch of the deal in one stage: entered, left (or last activity for the current one),
    and where it went ("" while it is still there)."""

    stage: str
    begin: int
    end: int
    left_to: str


class DealStory:
    """One deal's events, tasks, attachments, moves and exemption, appended to the buffers."""

    def __init__(self, world: World, plan: Plan) -> None:
        self.world = world
        self.plan = plan
        self.rng = deal_rng(world.seed, plan.index, 1)
        self.rnd = self.rng.random
        rep = world.reps[plan.rep]
        self.actor = rep.user_id
        self.skill = rep.skill
        self.manager_id = world.teams[rep.team_index].manager_id
        self.process = processes.process(plan.process)
        self.stage_by_key = {s.key: s for s in self.process.stages}
        self.order = {key: position for position, key in enumerate(self.process.keys)}
        self.account = world.accounts[plan.account]
        self.contacts = self.account.contacts
        self.deciders = [c for c in self.contacts if c[3]] or self.contacts
        product_id, self.spec = world.products[plan.process][plan.product]
        self.knowledge_key = world.product_knowledge[product_id]
        self.code = f"d{plan.index:07d}"
        self.number = f"{plan.index + 1:06d}"
        self.platform = "wecom" if plan.process == "industrial" or plan.index % 3 else "feishu"
        self.seq = 0
        self.fired: set[str] = set()
        self.pending: list[_PendingTask] = []
        # Events that close trigger tasks: (type, when, who).
        self.closers: list[tuple[str, int, int | None]] = []
        self.closing_types = frozenset(t for rule in self.process.triggers for t in rule.closes_on)
        self.escalate_after = int(self.process.playbook.sla.escalate_after.total_seconds())
        self.events = world.buffers["events"]
        self.segments = self._segments()
        self.starts = [segment.begin for segment in self.segments]
        self.handlers: dict[str, Callable[[int, str], None]] = {
            "chat.message": self._chat,
            "call": self._call,
            "email.sent": self._email_sent,
            "email.received": self._email_received,
            "document.updated": self._document,
            "meeting.held": self._meeting_held,
            "demo.held": self._demo_held,
            "demo.booked": self._demo_booked,
            "needs.list": self._needs_list,
            "survey.report": self._survey_report,
            "integration.requested": self._integration_requested,
            "customer.confirmed": self._customer_confirmed,
            "chat.confirmed": self._chat_confirmed,
            "trial.activated": self._trial_activated,
            "poc.feedback": self._poc_feedback,
            "proposal.sent": self._proposal_sent,
            "quote.sent": self._quote_sent,
            "tech_params.synced": self._tech_params_synced,
            "competitor.update": self._competitor_update,
            "legal.review.started": self._legal_review_started,
            "legal.review.finished": self._legal_review_finished,
            "approval.sealed": self._approval_sealed,
            "erp.order": self._erp_order,
        }

    # ------------------------------------------------------------------ the story, in order

    def tell(self) -> None:
        self._phrase_pools()
        self._opening()
        self._milestones()
        self._outcome()
        self._conversation()
        self._settle_tasks()
        self._moves()
        self._exemption()

    def _segments(self) -> list[_Segment]:
        plan = self.plan
        segments = []
        entered, current = plan.created, "lead"
        for _from, to_stage, at in plan.moves:
            segments.append(_Segment(current, entered, at, to_stage))
            entered, current = at, to_stage
        if plan.status == "open":
            segments.append(_Segment(current, entered, max(entered, plan.last_activity), ""))
        return segments

    def _phrase_pools(self) -> None:
        """Per-deal phrase pools: a deal's chat reads as one conversation, cheaply."""
        rng, dumps, contacts = self.rng, json.dumps, self.contacts
        documents = vocab.DOCUMENTS[self.spec.category]
        product_word = self.spec.aliases[0]
        self.rep_chat = []
        for template in vocab.REP_CHAT:
            c = rng.choice(contacts)
            text = template.format(
                who=self._who(c), doc=rng.choice(documents), product=product_word
            )
            payload = {"text": text, "platform": self.platform, "from_customer": False}
            self.rep_chat.append((c[0], dumps(payload, ensure_ascii=False)))
        self.customer_chat = []
        for text in vocab.CUSTOMER_CHAT:
            c = rng.choice(contacts)
            payload = {"text": text, "platform": self.platform, "from_customer": True}
            payload["sender"] = c[1]
            self.customer_chat.append((c[0], dumps(payload, ensure_ascii=False)))
        self.calls = [
            dumps({"minutes": rng.randint(1, 30), "summary": s}, ensure_ascii=False)
            for s in vocab.CALL_SUMMARIES
        ]
        self.mails_out = [
            dumps({"subject": s.format(product=product_word)}, ensure_ascii=False)
            for s in vocab.EMAIL_SUBJECTS_OUT
        ]
        self.mails_in = [
            dumps({"subject": s.format(product=product_word)}, ensure_ascii=False)
            for s in vocab.EMAIL_SUBJECTS_IN
        ]
        self.docs = [
            dumps({"text": f"{d}已更新", "products": [product_word]}, ensure_ascii=False)
            for d in documents
        ]

    def _opening(self) -> None:
        """What the rep logged as the deal was opened (a fresh lead's first visit): its first
        trigger events, so the tasks they make are due a trigger's deadline after it."""
        for step, kind in enumerate(self.plan.opening):
            self._happen(kind, self.plan.created + step * HOUR)

    def _milestones(self) -> None:
        """Stage milestones: complete for stages left forwards, partial for the current one."""
        rnd, order = self.rnd, self.order
        for segment in self.segments:
            milestones = self.stage_by_key[segment.stage].milestones
            if segment.left_to == "":
                self._current_milestones(segment, milestones)
                continue
            if segment.left_to in order and order[segment.left_to] < order[segment.stage]:
                milestones = tuple(m for m in milestones if rnd() < 0.6)
            k = len(milestones)
            span = segment.end - segment.begin
            for j, kind in enumerate(milestones):
                at = segment.begin + int(span * (j + 0.5 + 0.4 * (rnd() - 0.5)) / (k + 0.5))
                if at <= self.plan.last_activity:
                    self._happen(kind, at)

    def _current_milestones(self, segment: _Segment, milestones: tuple[str, ...]) -> None:
        """The stage the deal is in: its first steps done, the latest of them shortly before the
        deal's last activity (so the tasks it made fall due around the present)."""
        done = milestones[: 1 + int(self.rnd() * len(milestones))]
        if not done:
            return
        latest = max(segment.begin, segment.end - int(self.rng.uniform(0.05, 0.6) * DAY))
        span = latest - segment.begin
        for j, kind in enumerate(done):
            self._happen(kind, segment.begin + span * (j + 1) // len(done))

    def _outcome(self) -> None:
        """A won deal's closing evidence, or the customer's word that it is lost."""
        plan, rng = self.plan, self.rng
        if plan.closed is None:
            return
        if plan.status == "won":
            # The contract stage's exit evidence arrives just before the move to won.
            self._happen("approval.sealed", plan.closed - int(rng.uniform(2, 48) * HOUR))
            self._happen("erp.order", plan.closed - int(rng.uniform(0.1, 2) * HOUR))
        elif plan.status == "lost":
            payload = {"subject": "关于项目结果的通知", "lost_reason": plan.lost_reason}
            self._emit(
                "email.received",
                plan.closed - int(rng.uniform(1, 24) * HOUR),
                json.dumps(payload, ensure_ascii=False),
                contact=self.contacts[0][0],
                by=None,
            )

    def _conversation(self) -> None:
        """Everyday conversation, proportional to how long the deal has been alive."""
        plan, rnd, world = self.plan, self.rnd, self.world
        alive = max(plan.last_activity - plan.created, DAY)
        budget = round(
            world.events_per_deal * alive / world.mean_duration * self.rng.uniform(0.6, 1.4)
        )
        budget -= self.seq + len(plan.moves)
        span = plan.last_activity - plan.created
        table = _FILLER_TABLE
        n_table = len(table)
        created = plan.created
        for _ in range(max(budget, 3)):
            kind, direction = table[int(rnd() * n_table)]
            self._happen(kind, created + int(rnd() * span), direction)
        if plan.status == "open":
            # The last customer interaction; after it, only a silent deal's unanswered messages.
            self._happen("chat.message", plan.last_activity, "in")
            if plan.silence == "silent":
                quiet = world.now - plan.last_activity
                for _ in range(1 + int(rnd() * 3)):
                    self._happen("chat.message", plan.last_activity + int(rnd() * quiet), "out")

    # ------------------------------------------------------------------ rows

    def _who(self, contact: ContactInfo) -> str:
        return contact[1][0] + self.world.titles[contact[2]].honorific

    def _stage_at(self, at: int) -> str:
        return self.segments[max(0, bisect_right(self.starts, at) - 1)].stage

    def _emit(
        self,
        kind: str,
        at: int,
        payload: str,
        *,
        contact: int | None = None,
        customer: bool | None = None,
        by: int | None = _REP,
        source: str | None = None,
    ) -> str:
        """Log one event; `by` is the acting user (the deal's rep unless told), None for none."""
        world = self.world
        ts = world.ts
        self.seq += 1
        external_id = f"{self.code}-{self.seq}"
        recorded = min(world.now, at + 1 + int(self.rnd() * _RECORD_DELAY.get(kind, 60)))
        self.events.append(
            (
                world.org_id,
                kind,
                source or _SOURCES.get(kind, "web"),
                external_id,
                ts(at),
                ts(recorded),
                self.actor if by == _REP else by,
                self.plan.opportunity_id,
                self.account.account_id,
                contact,
                kind in _WITH_CUSTOMER if customer is None else customer,
                payload,
            )
        )
        world.tally[kind] += 1
        if kind in self.closing_types:
            self.closers.append((kind, at, self.actor if by == _REP else by))
        return external_id

    def _attach(self, kind: str, file: StoredFile, at: int, original: str) -> None:
        self.world.buffers["attachments"].append(
            (
                self.world.org_id,
                self.plan.opportunity_id,
                self.account.account_id,
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
                self.actor,
                self.world.ts(at),
            )
        )

    def _pdf(self, kind: str, at: int, original: str) -> None:
        pool = self.world.pdfs[kind]
        self._attach(kind, pool[self.plan.index % len(pool)], at, original)

    def _trigger(self, event_type: str, at: int) -> None:
        # Like the playbook engine: a trigger makes its task once per deal, in its stages, due
        # by the trigger's clock (business hours under the organization's calendar, or wall).
        stage = self._stage_at(at)
        for rule in self.process.triggers_on(event_type):
            if rule.key in self.fired or (rule.stages and stage not in rule.stages):
                continue
            self.fired.add(rule.key)
            start = dt.datetime.fromtimestamp(at, tz=dt.UTC)
            due = due_at(start, rule.due, self.world.calendar, clock=Clock(rule.clock))
            due_ts = int(due.timestamp())
            self.pending.append(_PendingTask(rule, at, due_ts, self._completion(at, due_ts)))

    def _completion(self, at: int, due: int) -> int | None:
        """When the rep finishes a task made at `at`: mostly on time (rather towards the
        deadline than right away), sometimes late, or never."""
        r = self.rnd()
        p_on_time = 0.45 + 0.45 * self.skill
        if r < p_on_time:
            return at + int((due - at) * self.rng.uniform(0.4, 0.97))
        if r < p_on_time + 0.18:
            return due + int(self.rng.uniform(1, 72) * HOUR)
        return None

    def _settle_tasks(self) -> None:
        """Write the tasks once every event of the deal is known: an event the trigger's task
        `closes_on` closes it (as `tasks_close_by_events` does), else the rep's own completion."""
        for task in self.pending:
            closer = self._closer(task)
            if closer is not None and (task.completed is None or closer[0] <= task.completed):
                self._task_row(task, closer[0], closer[1], by_hand=False)
            else:
                self._task_row(task, task.completed, self.actor, by_hand=True)

    def _closer(self, task: _PendingTask) -> tuple[int, int | None] | None:
        """The earliest event after the task was made that closes it: (when, who)."""
        found = [
            (at, by)
            for kind, at, by in self.closers
            if kind in task.rule.closes_on and at >= task.created
        ]
        return min(found, default=None, key=lambda closer: closer[0])

    def _task_row(
        self, task: _PendingTask, completed: int | None, by: int | None, *, by_hand: bool
    ) -> None:
        plan, world, rule = self.plan, self.world, task.rule
        ts, now, due = world.ts, world.now, task.due
        if completed is not None and (
            completed > now or (plan.closed is not None and completed > plan.closed)
        ):
            completed = None
        if completed is None and plan.closed is None and due < now - _CATCH_UP:
            # Nobody leaves a task open for weeks: the rep caught up, before the deal went quiet.
            completed = max(task.created, min(due + self._lateness(), plan.last_activity))
            by, by_hand = self.actor, True
        status = "done" if completed is not None else "open"
        if completed is None and plan.closed is not None:
            status = "cancelled"
        escalated = None
        escalate_at = due + self.escalate_after
        if completed is not None and completed > escalate_at:
            # As the SLA sweep did while the task was overdue; open tasks are left to the sweep.
            escalated = ts(escalate_at)
        world.buffers["tasks"].append(
            (
                world.org_id,
                plan.opportunity_id,
                self.actor,
                rule.title,
                rule.description,
                rule.department,
                rule.key,
                ts(task.created),
                ts(due),
                status,
                ts(completed) if completed is not None else None,
                by if completed is not None else None,
                escalated,
            )
        )
        if completed is not None and by_hand:
            payload = {"trigger_key": rule.key, "title": rule.title, "on_time": completed <= due}
            self._emit("task.completed", completed, json.dumps(payload, ensure_ascii=False))

    def _lateness(self) -> int:
        return int(self.rng.uniform(1, 72) * HOUR)

    # ------------------------------------------------------------------ what happens

    def _happen(self, kind: str, at: int, direction: str = "") -> None:
        self.handlers[kind](at, direction)

    def _chat(self, at: int, direction: str) -> None:
        pool = self.rep_chat if direction == "out" else self.customer_chat
        contact, payload = pool[int(self.rnd() * len(pool))]
        self._emit(
            "chat.message",
            at,
            payload,
            contact=contact,
            customer=direction != "out",
            source=self.platform,
        )

    def _call(self, at: int, direction: str) -> None:
        rnd = self.rnd
        payload = self.calls[int(rnd() * len(self.calls))]
        self._emit("call", at, payload, contact=self.contacts[int(rnd() * len(self.contacts))][0])

    def _email_sent(self, at: int, direction: str) -> None:
        payload = self.mails_out[int(self.rnd() * len(self.mails_out))]
        self._emit("email.sent", at, payload, contact=self.contacts[0][0])

    def _email_received(self, at: int, direction: str) -> None:
        payload = self.mails_in[int(self.rnd() * len(self.mails_in))]
        self._emit("email.received", at, payload, contact=self.contacts[0][0], by=None)

    def _document(self, at: int, direction: str) -> None:
        self._emit("document.updated", at, self.docs[int(self.rnd() * len(self.docs))])
        self._trigger("document.updated", at)

    def _meeting_held(self, at: int, direction: str) -> None:
        self._meeting("meeting.held", at)

    def _demo_held(self, at: int, direction: str) -> None:
        self._meeting("demo.held", at)

    def _meeting(self, kind: str, at: int) -> None:
        meeting_id, topic = self._meeting_event(kind, at)
        self._scorecard_steps(at)
        upload = self._minutes_upload_time(at)
        if upload is not None:
            self._minutes(upload, at, topic, meeting_id)
        self._trigger(kind, at)

    def _meeting_event(self, kind: str, at: int) -> tuple[str, str]:
        rng, rnd, contacts = self.rng, self.rnd, self.contacts
        if kind == "demo.held":
            k = min(len(contacts), 2 + int(rnd() * 3))
            well_chosen = rnd() < 0.4 + 0.5 * self.skill
            attendees = self.deciders[:k] if well_chosen else rng.sample(contacts, k=k)
        else:
            attendees = rng.sample(contacts, k=min(len(contacts), 1 + int(rnd() * 2)))
        topic = "产品演示" if kind == "demo.held" else rng.choice(vocab.MEETING_TOPICS)
        payload = {
            "attendee_contact_ids": [c[0] for c in attendees],
            "topic": topic,
            "duration_minutes": rng.choice((30, 45, 60, 90, 120)),
        }
        meeting_id = self._emit(
            kind, at, json.dumps(payload, ensure_ascii=False), contact=attendees[0][0]
        )
        return meeting_id, topic

    def _scorecard_steps(self, at: int) -> None:
        """The communication scorecard's other two parts: knowledge linked, follow-up booked."""
        rnd, skill = self.rnd, self.skill
        if rnd() < 0.3 + 0.6 * skill:
            payload = json.dumps({"knowledge_keys": [self.knowledge_key]})
            self._emit("knowledge.linked", at + 600, payload)
        if rnd() < 0.35 + 0.6 * skill:
            follow = at + int(self.rng.uniform(1, 7) * DAY)
            starts_at = dt.datetime.fromtimestamp(follow, tz=self.world.tz).isoformat()
            payload = json.dumps(
                {"starts_at": starts_at, "title": f"跟进{self.account.short_name}"},
                ensure_ascii=False,
            )
            self._emit("followup.scheduled", at + 900, payload)

    def _minutes_upload_time(self, at: int) -> int | None:
        """When the meeting's minutes are uploaded, if they are (better reps more, and sooner)."""
        rnd, skill, plan = self.rnd, self.skill, self.plan
        if rnd() >= 0.45 + 0.45 * skill:
            return None
        late = rnd() < 0.4 * (1 - skill)
        upload = at + int((self.rng.uniform(26, 96) if late else self.rng.uniform(0.5, 20)) * HOUR)
        if upload > self.world.now or (plan.closed is not None and upload > plan.closed + DAY):
            return None
        return upload

    def _minutes(self, upload: int, at: int, topic: str, meeting_id: str) -> None:
        rnd, world = self.rnd, self.world
        pool = world.long_minutes if rnd() < 0.35 + 0.55 * self.skill else world.short_minutes
        file = pool[int(rnd() * len(pool))]
        name = f"{topic}纪要_{local_date(at, world.tz):%Y%m%d}.txt"
        self._attach("meeting_minutes", file, upload, name)
        payload = {
            "meeting_external_id": meeting_id,
            "attachment_sha256": file.sha256,
            "text_length": len(file.text),
        }
        self._emit("minutes.uploaded", upload, json.dumps(payload))

    def _demo_booked(self, at: int, direction: str) -> None:
        scheduled = at + int(self.rng.uniform(1, 4) * DAY)
        iso = dt.datetime.fromtimestamp(scheduled, tz=self.world.tz).isoformat()
        payload = json.dumps({"scheduled_for": iso, "via": "email_link"})
        self._emit("demo.booked", at, payload, contact=self.contacts[0][0], by=None)
        self._trigger("demo.booked", at)

    def _needs_list(self, at: int, direction: str) -> None:
        self._emit(
            "document.updated", at, json.dumps({"text": "需求清单已上传"}, ensure_ascii=False)
        )
        self._pdf("needs_list", at, f"需求清单_{self.account.short_name}.pdf")

    def _survey_report(self, at: int, direction: str) -> None:
        payload = json.dumps({"text": "现场勘察报告已上传"}, ensure_ascii=False)
        self._emit("document.updated", at, payload)
        self._pdf("site_survey_report", at, f"现场勘察报告_{self.account.short_name}.pdf")

    def _integration_requested(self, at: int, direction: str) -> None:
        if not self.plan.custom_fields.get("integration_required"):
            return
        c = self.rng.choice(self.contacts)
        payload = json.dumps({"text": "希望和我们现有的ERP、企业微信打通"}, ensure_ascii=False)
        self._emit("integration.requested", at, payload, contact=c[0], by=None)
        self._trigger("integration.requested", at)

    def _customer_confirmed(self, at: int, direction: str) -> None:
        c = self.rng.choice(self.deciders)
        text = self.rng.choice(vocab.CONFIRMATIONS)
        self._emit(
            "customer.confirmed",
            at,
            json.dumps({"text": text, "platform": self.platform}, ensure_ascii=False),
            contact=c[0],
            by=None,
            source=self.platform,
        )

    def _chat_confirmed(self, at: int, direction: str) -> None:
        # The customer writes “已确认” in chat over the signed technical agreement.
        c = self.rng.choice(self.deciders)
        text = self.rng.choice(vocab.CONFIRMATIONS)
        payload = {"text": text, "platform": self.platform, "from_customer": True, "sender": c[1]}
        self._emit(
            "chat.message",
            at,
            json.dumps(payload, ensure_ascii=False),
            contact=c[0],
            customer=True,
            by=None,
            source=self.platform,
        )
        self._pdf("tech_agreement", at, "技术协议(客户签字版).pdf")

    def _trial_activated(self, at: int, direction: str) -> None:
        payload = json.dumps({"trial_account": f"trial-{self.number}", "seats": 5})
        self._emit("trial.activated", at, payload)
        self._trigger("trial.activated", at)

    def _poc_feedback(self, at: int, direction: str) -> None:
        c = self.rng.choice(self.contacts)
        payload = json.dumps({"text": self.rng.choice(vocab.POC_FEEDBACK)}, ensure_ascii=False)
        self._emit("poc.feedback", at, payload, contact=c[0], by=None)

    def _proposal_sent(self, at: int, direction: str) -> None:
        short = self.account.short_name
        payload = json.dumps({"title": f"{short}定制化方案"}, ensure_ascii=False)
        self._emit("proposal.sent", at, payload, contact=self.contacts[0][0])
        self._pdf("proposal", at, f"定制化方案_{short}.pdf")

    def _quote_sent(self, at: int, direction: str) -> None:
        number = self.number
        valid = local_date(at + 30 * DAY, self.world.tz).isoformat()
        payload = {"quote_no": f"Q{number}", "amount": str(self.plan.amount), "valid_until": valid}
        self._emit("quote.sent", at, json.dumps(payload), contact=self.contacts[0][0])
        self._pdf("quote", at, f"报价单_Q{number}.pdf")
        self._trigger("quote.sent", at)
        if self.plan.process == "industrial" and self.rnd() < 0.4 + 0.5 * self.skill:
            signed = min(self.world.now, at + int(self.rng.uniform(0.5, 3) * DAY))
            self._pdf("signed_quote", signed, f"签字报价单_Q{number}.pdf")

    def _tech_params_synced(self, at: int, direction: str) -> None:
        payload = json.dumps({"text": self.rng.choice(vocab.TECH_SYNC)}, ensure_ascii=False)
        self._emit("tech_params.synced", at, payload, contact=self.contacts[0][0])

    def _competitor_update(self, at: int, direction: str) -> None:
        payload = json.dumps({"text": self.rng.choice(vocab.COMPETITOR_NOTES)}, ensure_ascii=False)
        self._emit("competitor.update", at, payload)

    def _legal_review_started(self, at: int, direction: str) -> None:
        self._emit(
            "legal.review.started", at, json.dumps({"contract_no": f"HT-{self.number}"}), by=None
        )
        self._trigger("legal.review.started", at)

    def _legal_review_finished(self, at: int, direction: str) -> None:
        number = self.number
        self._emit(
            "legal.review.finished", at, json.dumps({"contract_no": f"HT-{number}"}), by=None
        )
        self._pdf("contract", at, f"销售合同_HT-{number}.pdf")

    def _approval_sealed(self, at: int, direction: str) -> None:
        payload = {"approval_no": f"SP-{self.number}", "seal": "合同章"}
        self._emit("approval.sealed", at, json.dumps(payload, ensure_ascii=False), by=None)

    def _erp_order(self, at: int, direction: str) -> None:
        payload = {"order_no": f"SO{self.number}", "amount": str(self.plan.amount)}
        self._emit("erp.order", at, json.dumps(payload), by=None)
        self._trigger("erp.order", at)

    # ------------------------------------------------------------------ moves and exemption

    def _moves(self) -> None:
        """Transition rows with their events and audit entries. (Alerts are not written here:
        the insights engine raises them from this history after the load.)"""
        world, plan, order = self.world, self.plan, self.order
        ts, dumps = world.ts, json.dumps
        org, opp, actor = world.org_id, plan.opportunity_id, self.actor
        version = world.playbook_versions[world.reps[plan.rep].team_index]
        transitions = world.buffers["stage_transitions"]
        audits = world.buffers["audit_entries"]
        for from_stage, to_stage, at in plan.moves:
            terminal = to_stage in (processes.WON, processes.LOST)
            direction = "forward" if terminal or order[to_stage] > order[from_stage] else "backward"
            snapshot = (
                [{"id": key, "met": True} for key in self.stage_by_key[from_stage].exit_criteria]
                if direction == "forward" and to_stage != processes.LOST
                else []
            )
            kind = _transition_kind(to_stage, direction)
            transitions.append(
                (org, opp, from_stage, to_stage, direction, ts(at), actor, dumps(snapshot))
            )
            # The event and the audit line carry what `opportunity_advance` writes.
            moved = {"from": from_stage, "to": to_stage}
            self._emit("stage.changed", at, dumps({**moved, "direction": direction, "kind": kind}))
            audit = {**moved, "kind": kind, "playbook_version": version}
            audits.append(
                (
                    org,
                    actor,
                    "opportunity.stage_change",
                    "opportunity",
                    str(opp),
                    ts(at),
                    dumps(audit),
                )
            )

    def _exemption(self) -> None:
        """Some silent deals' reps declared that the customer cannot be reached."""
        world, plan, rng = self.world, self.plan, self.rng
        if not plan.silence or rng.random() >= (0.35 if plan.silence == "stale" else 0.25):
            return
        ts = world.ts
        starts = min(world.now - HOUR, plan.last_activity + int(rng.uniform(3, 10) * DAY))
        ends = starts + 14 * DAY
        recheck = starts + int(self.process.playbook.risks.exemption_recheck.total_seconds())
        who = self._who(rng.choice(self.contacts))
        reason = rng.choice(vocab.EXEMPTION_REASONS).format(who=who)
        code = (
            "customer_on_leave" if ("休" in reason or "出差" in reason) else "customer_unreachable"
        )
        world.buffers["exemptions"].append(
            (
                world.org_id,
                plan.opportunity_id,
                self.actor,
                code,
                f"客户临时失联:{reason}",
                ts(starts),
                ts(ends),
                ts(recheck),
                ts(starts),
            )
        )
        world.buffers["audit_entries"].append(
            (
                world.org_id,
                self.actor,
                "exemption.declare",
                "opportunity",
                str(plan.opportunity_id),
                ts(starts),
                json.dumps(
                    {
                        "reason_code": code,
                        "reason": reason,
                        "starts_at": dt.datetime.fromtimestamp(starts, tz=dt.UTC).isoformat(),
                        "ends_at": dt.datetime.fromtimestamp(ends, tz=dt.UTC).isoformat(),
                    },
                    ensure_ascii=False,
                ),
            )
        )
