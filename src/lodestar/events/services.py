"""The one door through which every fact enters the log.

`events_append` is the append path: every source calls it — ingestion, stage moves, and those
to come (chat capture, imports, webhooks). Each item is judged on its own — accepted, duplicate
(same `(source, external_id)` already logged) or rejected with the reason — so one bad item
never rejects or half-writes the good ones. Accepted events are appended and handed to the
processing steps (`LODESTAR_EVENT_STEPS`) in the same transaction.

`events_ingest` is the door of the pages and the API: it checks that the user's role may record
activity and that a batch is not too large, then appends — refusing the internal types (a
stage change), which only Lodestar's own actions write, so the log never shows a move that
did not happen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from lodestar.changes import changed
from lodestar.core.events import EventCatalogue
from lodestar.core.limits import datetime_is_supported, int_is_64_bit
from lodestar.crm.models import Account, Contact, Opportunity
from lodestar.crm.selectors import account_scope, opportunity_scope
from lodestar.db import insert_statements
from lodestar.errors import FieldError, PermissionDenied, ValidationFailed
from lodestar.events.models import Event, EventQuerySet
from lodestar.events.processing import process_recorded_events
from lodestar.events.records import RecordedEvent
from lodestar.fields import Id, SupportedDatetime, Text, json_problems, text_problem
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of
from lodestar.playbooks.selectors import organization_catalogue

__all__ = [
    "MAX_BATCH",
    "EventIn",
    "IngestItem",
    "IngestReport",
    "PastEvent",
    "PastReport",
    "events_append",
    "events_append_past",
    "events_ingest",
    "events_remove_imported",
    "pydantic_details",
]

MAX_BATCH = 1000


class EventIn(BaseModel):
    """One event as delivered by any entry point.

    Everything an event can hold is checked here, before anything is written: texts the
    databases can store, ids that fit their columns, a moment in the supported range (one
    outside it could be stored by PostgreSQL but never read back, breaking every page of the
    deal), and a payload of finite numbers within the size and depth limits of `json_problems`.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Text = Field(min_length=1, max_length=64)
    source: Text = Field(default="api", min_length=1, max_length=64)
    external_id: Text = Field(min_length=1, max_length=200)
    occurred_at: SupportedDatetime
    opportunity_id: Id | None = None
    team_id: Id | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    with_customer: bool | None = None
    # Kept as sent: the model's whitespace stripping would otherwise reach the keys.
    payload: dict[Annotated[str, StringConstraints(strip_whitespace=False)], Any] = Field(
        default_factory=dict
    )


Status = Literal["accepted", "duplicate", "rejected"]


@dataclass
class IngestItem:
    index: int
    status: Status
    event_id: int | None = None
    source: str = ""
    external_id: str = ""
    details: list[FieldError] = field(default_factory=list)


@dataclass
class IngestReport:
    items: list[IngestItem]

    def count(self, status: Status) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def events(self) -> list[int]:
        return [item.event_id for item in self.items if item.event_id is not None]


@dataclass
class _Candidate:
    index: int
    data: EventIn
    with_customer: bool
    opportunity_id: int | None = None
    team_id: int | None = None
    account_id: int | None = None


def pydantic_details(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(str(part) for part in error["loc"]) or "item",
            message=_PYDANTIC_MESSAGES.get(error["type"], error["msg"]),
        )
        for error in exc.errors()
    ]


# pydantic's words for the common slips, in the request's language and saying what to send.
_PYDANTIC_MESSAGES: dict[str, Any] = {
    "missing": _("This field is required."),
    "extra_forbidden": _("Unknown field; remove it (extra data belongs in 'payload')."),
    "dict_type": _("Send a JSON object here ({…})."),
}


def events_ingest(
    *,
    user: User,
    items: Sequence[Mapping[str, Any]],
    now: dt.datetime | None = None,
    catalogue: EventCatalogue | None = None,
) -> IngestReport:
    """Append a batch of events delivered by `user` through a page or the API.

    The user's role scope applies: a rep may log events only on their own deals and accounts.
    """
    actor = actor_of(user=user)
    if actor is None:
        raise PermissionDenied(_("Only members of an organization can record events."))
    if not actor.works_deals:
        raise PermissionDenied(_("Your role may read activity but not record it."))
    if len(items) > MAX_BATCH:
        raise ValidationFailed.on(
            "events",
            _("A batch holds at most %(max)d events; split it into smaller batches.")
            % {"max": MAX_BATCH},
        )
    return events_append(
        actor=actor,
        user=user,
        items=items,
        now=now or timezone.now(),
        catalogue=catalogue,
        from_outside=True,
    )


def events_append(
    *,
    actor: Actor,
    user: User,
    items: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    catalogue: EventCatalogue | None = None,
    from_outside: bool = False,
) -> IngestReport:
    """Check, de-duplicate, append and process `items`, recorded by `user` at `now`.

    Each item is checked against the organization's event catalogue (or `catalogue`) — items
    `from_outside` (a page or the API) may not have an internal type — and the
    deals, accounts and contacts it names against `actor`'s scope. The accepted ones are
    appended and the processing steps run on them in one transaction, which joins the
    caller's when there is one (a stage move rolls back with its event).
    """
    report = IngestReport(items=[IngestItem(index=i, status="accepted") for i in range(len(items))])
    if catalogue is None:
        catalogue = organization_catalogue(organization_id=actor.organization_id)
    candidates = _validate(items, report, catalogue, from_outside=from_outside)
    _resolve_references(actor, candidates, report)
    candidates = [c for c in candidates if report.items[c.index].status == "accepted"]
    _mark_repeats_in_batch(candidates, report)
    candidates = [c for c in candidates if report.items[c.index].status == "accepted"]
    with transaction.atomic():
        recorded = _append(actor, user, candidates, report, now)
        process_recorded_events(events=recorded, now=now)
    return report


def _validate(
    items: Sequence[Mapping[str, Any]],
    report: IngestReport,
    catalogue: EventCatalogue,
    *,
    from_outside: bool,
) -> list[_Candidate]:
    candidates = []
    for index, raw in enumerate(items):
        entry = report.items[index]
        if not isinstance(raw, Mapping):
            entry.status = "rejected"
            entry.details = [FieldError("item", str(_("Each event must be a JSON object.")))]
            continue
        try:
            data = EventIn.model_validate(raw)
        except ValidationError as exc:
            entry.status = "rejected"
            entry.details = pydantic_details(exc)
            # Echoed so the sender can match the verdict to its record, when they are texts of
            # a sensible length (they are only answered, never stored).
            entry.source, entry.external_id = (
                _echo(raw.get("source")),
                _echo(raw.get("external_id")),
            )
            continue
        entry.source, entry.external_id = data.source, data.external_id
        if data.type not in catalogue:
            known = ", ".join(sorted(catalogue.types))
            entry.status = "rejected"
            entry.details = [
                FieldError("type", f"unknown event type '{data.type}'; known types: {known}")
            ]
            continue
        spec = catalogue.get(data.type)
        if spec.internal and from_outside:
            entry.status = "rejected"
            entry.details = [FieldError("type", str(_internal_type_refusal(data.type)))]
            continue
        problems = json_problems(data.payload, path="payload") or [
            (p.path, p.message) for p in spec.check_payload(data.payload)
        ]
        if problems:
            entry.status = "rejected"
            entry.details = [FieldError(path, message) for path, message in problems]
            continue
        if data.opportunity_id is None and data.account_id is None:
            entry.status = "rejected"
            entry.details = [
                FieldError(
                    "opportunity_id",
                    str(_("Name the deal (opportunity_id) or the account (account_id).")),
                )
            ]
            continue
        with_customer = spec.with_customer if data.with_customer is None else data.with_customer
        candidates.append(_Candidate(index, data, with_customer))
    return candidates


def _internal_type_refusal(kind: str) -> Any:
    """Why an internal type cannot be posted, and what to do instead."""
    return _(
        "'%(type)s' events are written by Lodestar itself and cannot be recorded from outside; "
        "to move a deal, use POST /api/v1/opportunities/{id}/advance (or the deal page)."
    ) % {"type": kind}


def _echo(value: object) -> str:
    return value if isinstance(value, str) and len(value) <= _ECHO_MAX else ""


_ECHO_MAX = 200


def _resolve_references(actor: Actor, candidates: list[_Candidate], report: IngestReport) -> None:
    """Check every referenced deal, account and contact is one the user may write to."""
    opportunity_ids = {c.data.opportunity_id for c in candidates if c.data.opportunity_id}
    account_ids = {c.data.account_id for c in candidates if c.data.account_id}
    contact_ids = {c.data.contact_id for c in candidates if c.data.contact_id}
    deals = {
        pk: (account_id, team_id)
        for pk, account_id, team_id in opportunity_scope(actor=actor)
        .filter(pk__among=sorted(opportunity_ids))
        .order_by()
        .values_list("pk", "account_id", "team_id")
    }
    accounts = set(
        account_scope(actor=actor).filter(pk__in=account_ids).values_list("pk", flat=True)
    )
    contacts = dict(
        Contact.objects.filter(
            organization_id=actor.organization_id, pk__in=contact_ids
        ).values_list("pk", "account_id")
    )
    for candidate in candidates:
        data, problems = candidate.data, []
        deal = deals.get(data.opportunity_id) if data.opportunity_id else None
        deal_account = deal[0] if deal is not None else None
        if data.opportunity_id and deal is None:
            problems.append(
                FieldError("opportunity_id", str(_NO_SUCH["deal"] % {"id": data.opportunity_id}))
            )
        if data.account_id and data.account_id not in accounts:
            problems.append(
                FieldError("account_id", str(_NO_SUCH["account"] % {"id": data.account_id}))
            )
        account_id = data.account_id or deal_account
        if deal_account and data.account_id and deal_account != data.account_id:
            problems.append(
                FieldError("account_id", str(_("The deal belongs to another account.")))
            )
        if data.contact_id:
            contact_account = contacts.get(data.contact_id)
            if contact_account is None:
                problems.append(
                    FieldError("contact_id", str(_NO_SUCH["contact"] % {"id": data.contact_id}))
                )
            elif account_id and contact_account != account_id:
                problems.append(
                    FieldError("contact_id", str(_("The contact works for another account.")))
                )
        if problems:
            entry = report.items[candidate.index]
            entry.status, entry.details = "rejected", problems
        candidate.opportunity_id, candidate.account_id = data.opportunity_id, account_id
        candidate.team_id = deal[1] if deal is not None else None


_NO_SUCH = {
    "deal": _("No deal with id %(id)s that you can record activity on."),
    "account": _("No account with id %(id)s that you can record activity on."),
    "contact": _("No contact with id %(id)s in your organization."),
}


def _mark_repeats_in_batch(candidates: list[_Candidate], report: IngestReport) -> None:
    """An item whose `(source, external_id)` an earlier item of the same batch has is a
    duplicate of it. (Duplicates of logged events are found by the append itself.)"""
    seen_in_batch: dict[tuple[str, str], int] = {}
    for candidate in candidates:
        key = (candidate.data.source, candidate.data.external_id)
        if key in seen_in_batch:
            entry = report.items[candidate.index]
            entry.status = "duplicate"
            entry.details = [
                FieldError(
                    "external_id",
                    str(_("Same as item %(index)d of this batch.") % {"index": seen_in_batch[key]}),
                )
            ]
        else:
            seen_in_batch[key] = candidate.index


def _logged_ids(organization_id: int, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of logged events by `(source, external_id)`."""
    found: dict[tuple[str, str], int] = {}
    for source in sorted({source for source, _external_id in keys}):
        rows = Event.objects.filter(
            organization_id=organization_id,
            source=source,
            external_id__among=[external_id for s, external_id in keys if s == source],
        ).values_list("external_id", "pk")
        found.update({(source, external_id): pk for external_id, pk in rows})
    return found


_COLUMNS = (
    "organization_id",
    "type",
    "source",
    "external_id",
    "occurred_at",
    "recorded_at",
    "actor_id",
    "opportunity_id",
    "account_id",
    "contact_id",
    "with_customer",
    "payload",
)


def _append(
    actor: Actor,
    user: User,
    candidates: list[_Candidate],
    report: IngestReport,
    now: dt.datetime,
) -> list[RecordedEvent]:
    """Append the candidates with as few INSERTs as the database allows; return what was
    written.

    The log's unique `(organization, source, external_id)` is the duplicate check: the insert
    skips the rows already logged — earlier deliveries, or a concurrent one that got there
    first (`ON CONFLICT DO NOTHING`) — and the items it skipped are reported as duplicates of
    the logged events, whose ids are then looked up (no query at all when nothing repeats).
    Building model instances for a thousand rows would cost more than writing them.
    """
    ops = connection.ops
    recorded_at = ops.adapt_datetimefield_value(now)
    rows = [
        (
            actor.organization_id,
            c.data.type,
            c.data.source,
            c.data.external_id,
            ops.adapt_datetimefield_value(c.data.occurred_at),
            recorded_at,
            user.pk,
            c.opportunity_id,
            c.account_id,
            c.data.contact_id,
            c.with_customer,
            ops.adapt_json_value(c.data.payload, None),
        )
        for c in candidates
    ]
    written: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        for sql, params in insert_statements(
            Event,
            _COLUMNS,
            rows,
            tail="ON CONFLICT (organization_id, source, external_id) DO NOTHING "
            "RETURNING id, source, external_id",
        ):
            cursor.execute(sql, params)
            written.update({(source, external_id): pk for pk, source, external_id in cursor})
    repeated = [
        (c.data.source, c.data.external_id)
        for c in candidates
        if (c.data.source, c.data.external_id) not in written
    ]
    logged = _logged_ids(actor.organization_id, repeated) if repeated else {}
    recorded = []
    for c in candidates:
        entry = report.items[c.index]
        key = (c.data.source, c.data.external_id)
        pk = written.get(key)
        if pk is None:
            entry.status, entry.event_id = "duplicate", logged.get(key)
            continue
        entry.event_id = pk
        recorded.append(
            RecordedEvent(
                pk=pk,
                organization_id=actor.organization_id,
                type=c.data.type,
                occurred_at=c.data.occurred_at,
                opportunity_id=c.opportunity_id,
                team_id=c.team_id,
                with_customer=c.with_customer,
                actor=user,
            )
        )
    if all(event.opportunity_id is not None for event in recorded):
        # Events of accounts and contacts only are shown through no deal: left to the watcher.
        changed(tables=[Event], deals=[event.opportunity_id for event in recorded])
    return recorded


# --- the past: events that happened before they reached Lodestar (imports) ---------------------


@dataclass(frozen=True, slots=True)
class PastEvent:
    """One event of an imported history: a stage move or an activity, at its original time."""

    type: str
    source: str
    external_id: str
    occurred_at: dt.datetime
    opportunity_id: int | None = None
    account_id: int | None = None
    contact_id: int | None = None
    actor_id: int | None = None
    with_customer: bool | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class PastReport:
    written: int = 0
    duplicates: int = 0
    # (index of the item, what is wrong with it)
    rejected: list[tuple[int, list[FieldError]]] = field(default_factory=list)


def events_append_past(
    *,
    organization_id: int,
    items: Sequence[PastEvent],
    now: dt.datetime,
    catalogue: EventCatalogue | None = None,
) -> PastReport:
    """Append events that happened before they were recorded (an import's history), at their
    original times, and hand them to no processing step.

    Each item is checked like any event — a type of the organization's catalogue (internal types
    such as `stage.changed` included: the caller is Lodestar's own importer), storable texts and
    payload, a moment in the supported range and not after `now`, deals, accounts and contacts
    of the organization (an event of a deal takes the deal's account) — and one bad item never
    stops the others. The processing steps (activity summary, triggers, risk alerts and their
    notifications) are deliberately not run: they judge what happens *now*, and a task or an
    alert for a call made two years ago would be noise. The caller recomputes the
    organization's insights once when its import is done (`insights_recompute`), which reads
    the past as it was. Duplicates of logged `(source, external_id)` pairs are skipped.
    Joins the caller's transaction.
    """
    report = PastReport()
    if not items:
        return report
    if catalogue is None:
        catalogue = organization_catalogue(organization_id=organization_id)
    deals = dict(
        Opportunity.objects.filter(
            organization_id=organization_id,
            pk__among=sorted({i.opportunity_id for i in items if i.opportunity_id}) or [0],
        ).values_list("pk", "account_id")
    )
    accounts = set(
        Account.objects.filter(
            organization_id=organization_id,
            pk__among=sorted({i.account_id for i in items if i.account_id}) or [0],
        ).values_list("pk", flat=True)
    )
    contacts = dict(
        Contact.objects.filter(
            organization_id=organization_id,
            pk__among=sorted({i.contact_id for i in items if i.contact_id}) or [0],
        ).values_list("pk", "account_id")
    )
    ops = connection.ops
    recorded_at = ops.adapt_datetimefield_value(now)
    moment = _stored_moment if connection.vendor == "sqlite" else _as_is
    rows = []
    for index, item in enumerate(items):
        problems = _past_problems(item, catalogue, now)
        account_id = item.account_id or deals.get(item.opportunity_id or 0)
        problems += _past_reference_problems(item, account_id, deals, accounts, contacts)
        if problems:
            report.rejected.append((index, problems))
            continue
        spec = catalogue.get(item.type)
        with_customer = spec.with_customer if item.with_customer is None else item.with_customer
        rows.append(
            (
                organization_id,
                item.type,
                item.source,
                item.external_id,
                moment(item.occurred_at),
                recorded_at,
                item.actor_id,
                item.opportunity_id,
                account_id,
                item.contact_id,
                with_customer,
                ops.adapt_json_value(dict(item.payload), None),
            )
        )
    with connection.cursor() as cursor:
        for sql, params in insert_statements(
            Event,
            _COLUMNS,
            rows,
            tail="ON CONFLICT (organization_id, source, external_id) DO NOTHING",
        ):
            cursor.execute(sql, params)
            report.written += max(cursor.rowcount, 0)
    report.duplicates = len(rows) - report.written
    return report


def _past_reference_problems(
    item: PastEvent,
    account_id: int | None,
    deals: Mapping[int, int],
    accounts: set[int],
    contacts: Mapping[int, int],
) -> list[FieldError]:
    problems = []
    if item.opportunity_id is not None and item.opportunity_id not in deals:
        problems.append(
            FieldError("opportunity_id", str(_NO_SUCH["deal"] % {"id": item.opportunity_id}))
        )
    if item.account_id is not None and item.account_id not in accounts:
        problems.append(
            FieldError("account_id", str(_NO_SUCH["account"] % {"id": item.account_id}))
        )
    if item.contact_id is not None and item.contact_id not in contacts:
        problems.append(
            FieldError("contact_id", str(_NO_SUCH["contact"] % {"id": item.contact_id}))
        )
    if item.opportunity_id is None and account_id is None:
        problems.append(
            FieldError(
                "opportunity_id",
                str(_("Name the deal (opportunity_id) or the account (account_id).")),
            )
        )
    return problems


def _past_problems(
    item: PastEvent, catalogue: EventCatalogue, now: dt.datetime
) -> list[FieldError]:
    problems = []
    if item.type not in catalogue:
        known = ", ".join(sorted(catalogue.types))
        problems.append(
            FieldError(
                "type",
                str(
                    _("Unknown event type “%(type)s”; known types: %(known)s.")
                    % {"type": item.type, "known": known}
                ),
            )
        )
        return problems
    for name, text, limit in (
        ("source", item.source, 64),
        ("external_id", item.external_id, 200),
    ):
        problem = text_problem(text)
        if not text or len(text) > limit or problem is not None:
            problems.append(
                FieldError(name, problem or _("Give 1 to %(max)d characters.") % {"max": limit})
            )
    when = item.occurred_at
    if when.tzinfo is None or not datetime_is_supported(when):
        problems.append(
            FieldError("occurred_at", str(_("The moment is not a supported date and time.")))
        )
    elif when > now:
        problems.append(
            FieldError(
                "occurred_at", str(_("A past event cannot lie in the future; check the date."))
            )
        )
    payload = dict(item.payload)
    found = ([] if _flat_and_storable(payload) else json_problems(payload, path="payload")) or [
        (p.path, p.message) for p in catalogue.get(item.type).check_payload(payload)
    ]
    problems += [FieldError(path, message) for path, message in found]
    return problems


def _stored_moment(value: dt.datetime) -> str:
    # What Django's SQLite adapter makes of an aware moment (naive UTC text), without its
    # per-value settings lookups: a file's history is hundreds of thousands of moments.
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _as_is(value: dt.datetime) -> dt.datetime:
    return value


_FLAT_TEXT_MAX = 4096


def _flat_and_storable(payload: Mapping[str, Any]) -> bool:
    """A small payload of plain values that `json_problems` would pass (the usual import
    payload: a stage move, a call's summary); anything else gets the full walk."""
    if len(payload) > 16:
        return False
    return all(
        isinstance(key, str) and text_problem(key) is None and _plain(value)
        for key, value in payload.items()
    )


def _plain(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= _FLAT_TEXT_MAX and text_problem(value) is None
    if type(value) is int:
        return int_is_64_bit(value)
    return value is None or isinstance(value, bool)


def events_remove_imported(*, organization_id: int, source: str, prefix: str) -> int:
    """Remove the events one import batch appended: those of `source` whose external id starts
    with `prefix` (the batch's own, e.g. `b12:`). Returns how many.

    The one sanctioned exception to the append-only log (`AppendOnlyError`): undoing an import
    takes back what the import put in, as if the file had never been read. The range on the
    external id is answered by the log's unique `(organization, source, external_id)` index.
    """
    if not prefix:
        raise ValueError("An import's events are removed by a non-empty prefix.")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    imported = Event.objects.filter(
        organization_id=organization_id,
        source=source,
        external_id__gte=prefix,
        external_id__lt=upper,
    )
    # The queryset's own delete refuses (the log is append-only); this is the one bypass.
    deleted, _per_model = super(EventQuerySet, imported).delete()
    return int(_per_model.get(Event._meta.label, 0)) if deleted else 0
