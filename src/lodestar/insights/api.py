"""Health, risks, stuck reasons, exemptions, alerts, yardsticks and deal attachments over REST.

Each view parses, makes one selector or service call, and shapes the answer; permissions and
rules live in `lodestar.insights.selectors`, `services`, `metrics` and `lodestar.events.uploads`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Strict

from lodestar.core.scoring import HealthScore, Message, RiskFinding, StuckReason
from lodestar.crm.attachments_api import AttachmentOut
from lodestar.crm.selectors import access_opportunity
from lodestar.errors import NotFound
from lodestar.events.uploads import deal_file_upload
from lodestar.fields import Id, SupportedDate, Text
from lodestar.insights import alerts, metrics, selectors, services
from lodestar.insights.models import Alert, ExemptionReason
from lodestar.insights.wording import alert_message, alert_text
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.org.selectors import organization_zone
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictIn, StrictQuery, UserRef

router = Router()


class TextOut(Schema):
    zh: str
    en: str


def _text(message: Message) -> dict[str, str]:
    return {"zh": message.zh, "en": message.en}


# --- health --------------------------------------------------------------------------------------


class HealthPartOut(Schema):
    key: str
    score: float | None
    weight: float | None
    figures: dict[str, Any]


class TrendPointOut(Schema):
    week_start: dt.date
    date: dt.date | None
    score: float | None


class RepHealthOut(Schema):
    rep_id: int
    rep_name: str
    team: str | None
    computed_at: dt.datetime
    score: float | None
    threshold: float
    needs_attention: bool
    weakest: str | None
    message: TextOut
    parts: list[HealthPartOut]
    trend: list[TrendPointOut]


def _parts(health: HealthScore) -> list[dict[str, Any]]:
    dwell, tasks, inter = health.dwell, health.tasks, health.interactions
    return [
        {
            "key": "dwell_deviation",
            "score": dwell.score,
            "weight": health.weights.get("dwell_deviation"),
            "figures": {
                "deals_scored": len(dwell.deals),
                "mean_deviation": dwell.mean_deviation,
                "deals": [
                    {
                        "id": row.deal_id,
                        "stage": row.stage,
                        "dwell_hours": round(row.dwell.total_seconds() / 3600, 3),
                        "target_hours": round(row.target.total_seconds() / 3600, 3),
                        "score": row.score,
                    }
                    for row in dwell.deals
                ],
                "exempted": list(dwell.exempted),
            },
        },
        {
            "key": "task_on_time",
            "score": tasks.score,
            "weight": health.weights.get("task_on_time"),
            "figures": {
                "due": int(tasks.rate.denominator),
                "on_time": list(tasks.rate.hits),
                "late": list(tasks.late),
                "missed": list(tasks.missed),
                "exempted": list(tasks.exempted),
            },
        },
        {
            "key": "interaction_frequency",
            "score": inter.score,
            "weight": health.weights.get("interaction_frequency"),
            "figures": {
                "interactions": inter.interactions,
                "deal_weeks": round(inter.deal_weeks, 6),
                "target_per_deal_week": inter.target_per_deal_week,
                "exempted": list(inter.exempted),
            },
        },
    ]


@router.get(
    "/reps/{rep_id}/health", response={200: RepHealthOut, **ERROR_RESPONSES}, tags=["insights"]
)
def get_rep_health(request: AuthenticatedHttpRequest, rep_id: Id) -> dict[str, Any]:
    """A rep's funnel health now, its three parts with the rows behind them, and the 12-week
    trend (the last daily snapshot of each week). The rep, their manager, ops and admins."""
    report = selectors.rep_health_report(user=request.user, rep_id=rep_id)
    health = report.health
    return {
        "rep_id": report.rep.pk,
        "rep_name": str(report.rep),
        "team": report.team_name,
        "computed_at": report.computed_at,
        "score": health.score,
        "threshold": health.threshold,
        "needs_attention": health.needs_attention,
        "weakest": health.weakest,
        "message": _text(health.message),
        "parts": _parts(health),
        "trend": [vars(point) for point in report.trend],
    }


class CommunicationScoreOut(Schema):
    id: int
    event_id: int
    opportunity_id: int
    occurred_at: dt.datetime
    score: float
    final: bool
    criteria: list[dict[str, Any]]


class CommunicationScorePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CommunicationScoreOut]


@router.get(
    "/reps/{rep_id}/communication-scores",
    response={200: CommunicationScorePage, **ERROR_RESPONSES},
    tags=["insights"],
)
def list_communication_scores(
    request: AuthenticatedHttpRequest, rep_id: Id, filters: Query[PageQuery]
) -> dict[str, Any]:
    """The scorecard of each of the rep's customer communications, newest first."""
    found = selectors.communication_score_list(user=request.user, rep_id=rep_id)
    return page_of(found, filters)


# --- deal risks ----------------------------------------------------------------------------------


class FindingOut(Schema):
    key: str
    kind: str
    severity: str
    message: TextOut
    figures: dict[str, float]
    exempted: bool


class StuckCauseOut(Schema):
    kind: str
    message: TextOut
    department: str | None
    ref: str | None


class StuckOut(Schema):
    message: TextOut
    dwell_hours: float
    target_hours: float
    exempted: bool
    causes: list[StuckCauseOut]


class ExemptionOut(Schema):
    id: int
    opportunity_id: int
    opportunity_name: str = Field(alias="opportunity.name")
    declared_by_id: int
    reason_code: str
    reason: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    recheck_at: dt.datetime
    created_at: dt.datetime


class AlertOut(Schema):
    id: int
    kind: str
    status: str
    opportunity_id: int | None
    subject_user_id: int | None
    dedupe_key: str
    message: str = Field(description="What it says, in the request's language.")
    message_key: str = Field(
        description="What kind of message it is (sentence: worded by the engine, in "
        "message_zh and message_en). docs/api.md lists the keys."
    )
    params: dict[str, Any] = Field(description="The message's parameters (docs/api.md).")
    message_zh: str
    message_en: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None

    # A sentence that says how long something has lasted reads as it stands now.
    @staticmethod
    def resolve_message(obj: Alert) -> str:
        return alert_text(obj, timezone.now())

    @staticmethod
    def resolve_message_zh(obj: Alert) -> str:
        return alert_message(obj, timezone.now()).zh

    @staticmethod
    def resolve_message_en(obj: Alert) -> str:
        return alert_message(obj, timezone.now()).en


class DealRisksOut(Schema):
    opportunity_id: int
    computed_at: dt.datetime
    findings: list[FindingOut]
    stuck: StuckOut | None
    exemption: ExemptionOut | None
    alerts: list[AlertOut]


def _finding(finding: RiskFinding) -> dict[str, Any]:
    return {
        "key": finding.key,
        "kind": finding.kind,
        "severity": finding.severity,
        "message": _text(finding.message),
        "figures": finding.figures,
        "exempted": finding.exempted,
    }


def _stuck(reason: StuckReason | None) -> dict[str, Any] | None:
    if reason is None:
        return None
    return {
        "message": _text(reason.message),
        "dwell_hours": round(reason.dwell.total_seconds() / 3600, 3),
        "target_hours": round(reason.target.total_seconds() / 3600, 3),
        "exempted": reason.exempted,
        "causes": [
            {
                "kind": cause.kind,
                "message": _text(cause.message),
                "department": cause.department.zh if cause.department else None,
                "ref": None if cause.ref is None else str(cause.ref),
            }
            for cause in reason.causes
        ],
    }


@router.get(
    "/opportunities/{opportunity_id}/risks",
    response={200: DealRisksOut, **ERROR_RESPONSES},
    tags=["insights"],
)
def get_deal_risks(request: AuthenticatedHttpRequest, opportunity_id: Id) -> dict[str, Any]:
    """The deal's risk findings now (exempted ones flagged, not alerted), why it is stuck when
    it is past its stage's target dwell, its current exemption and your live alerts on it."""
    report = selectors.deal_risk_report(user=request.user, opportunity_id=opportunity_id)
    return {
        "opportunity_id": report.opportunity.pk,
        "computed_at": report.computed_at,
        "findings": [_finding(f) for f in report.findings],
        "stuck": _stuck(report.stuck),
        "exemption": report.exemption,
        "alerts": list(report.alerts),
    }


# --- exemptions ----------------------------------------------------------------------------------


class ExemptionIn(StrictIn):
    reason_code: Literal["customer_unreachable", "customer_on_leave", "other"] = (
        ExemptionReason.CUSTOMER_UNREACHABLE.value  # type: ignore[assignment]
    )
    reason: Text = Field(min_length=1, max_length=2000)
    days: int = Field(14, ge=1, le=services.EXEMPTION_MAX_DAYS)


@router.post(
    "/opportunities/{opportunity_id}/exemptions",
    response={201: ExemptionOut, **WRITE_ERRORS},
    tags=["insights"],
)
def declare_exemption(
    request: AuthenticatedHttpRequest, opportunity_id: Id, payload: ExemptionIn
) -> Status[Any]:
    """Declare "客户临时失联" (or another reason) on your own deal for `days` days: no health
    penalty, no silence or stale alerts meanwhile, a re-check task 14 days later. Audited."""
    user = request.user
    deal = access_opportunity(user=user, opportunity_id=opportunity_id, for_write=True)
    exemption = services.exemption_declare(user=user, opportunity=deal, **payload.model_dump())
    return Status(201, exemption)


class ExemptionQuery(PageQuery):
    active: bool | None = Field(None, description="Only exemptions in force now.")
    opportunity: Id | None = Field(None, description="Deal id.")


class ExemptionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ExemptionOut]


@router.get("/exemptions", response={200: ExemptionPage, **ERROR_RESPONSES}, tags=["insights"])
def list_exemptions(
    request: AuthenticatedHttpRequest, filters: Query[ExemptionQuery]
) -> dict[str, Any]:
    """Exemptions of the deals you can see (a manager: every one of their teams)."""
    from django.utils import timezone

    found = selectors.exemption_list(
        user=request.user,
        active_at=timezone.now() if filters.active else None,
        opportunity_id=filters.opportunity,
    )
    return page_of(found, filters)


@router.get(
    "/exemptions/{exemption_id}",
    response={200: ExemptionOut, **ERROR_RESPONSES},
    tags=["insights"],
)
def get_exemption(request: AuthenticatedHttpRequest, exemption_id: Id) -> Any:
    """One exemption of a deal you can see (a rep: their own deals; a manager: their teams'
    deals; ops and admins: the organization's); any other id is not found (404)."""
    found = selectors.exemption_list(user=request.user).filter(pk=exemption_id).first()
    if found is None:
        raise NotFound()
    return found


# --- coaching ------------------------------------------------------------------------------------


class CoachingOut(Schema):
    task_id: int = Field(description="The coaching session is a task for the rep.")
    rep: UserRef
    planned_by: UserRef | None = Field(description="The manager (or admin) who planned it.")
    note: str = Field(description="What the session is about.")
    planned_at: dt.datetime = Field(description="In the organization's time zone.")
    due_at: dt.datetime
    status: str = Field(description="open, done or cancelled")
    completed_at: dt.datetime | None


class CoachingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CoachingOut]


class CoachingIn(StrictIn):
    note: Text = Field("", max_length=2000, description="What the session is about.")
    # A JSON integer: `true` or `"5"` is refused, not read as an id.
    alert: Annotated[Id, Strict()] | None = Field(
        None, description="One of your alerts that prompted it; it is acknowledged with it."
    )


def _coaching(note: selectors.CoachingNote, zone: Any) -> CoachingOut:
    task = note.task
    return CoachingOut(
        task_id=task.pk,
        rep=UserRef.model_validate(task.assignee),
        planned_by=UserRef.model_validate(note.planned_by) if note.planned_by else None,
        note=task.description,
        planned_at=timezone.localtime(task.created_at, zone),
        due_at=timezone.localtime(task.due_at, zone),
        status=task.status,
        completed_at=timezone.localtime(task.completed_at, zone) if task.completed_at else None,
    )


@router.get(
    "/reps/{rep_id}/coaching",
    response={200: CoachingPage, **ERROR_RESPONSES},
    tags=["insights"],
)
def list_coaching(
    request: AuthenticatedHttpRequest, rep_id: Id, filters: Query[PageQuery]
) -> dict[str, Any]:
    """The coaching sessions planned for a rep, newest first. Read by whoever reads the rep's
    health: the rep, the manager of their team, ops and admins; any other rep is not found."""
    notes = selectors.coaching_note_list(user=request.user, rep_id=rep_id)
    zone = organization_zone(user=request.user)
    shown = notes[filters.offset : filters.offset + filters.limit]
    return {
        "count": len(notes),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_coaching(note, zone) for note in shown],
    }


@router.post(
    "/reps/{rep_id}/coaching",
    response={201: CoachingOut, **WRITE_ERRORS},
    tags=["insights"],
)
def plan_coaching(
    request: AuthenticatedHttpRequest, rep_id: Id, payload: CoachingIn
) -> Status[CoachingOut]:
    """Plan a coaching session with a rep: a task for them, due in two days, as "Plan coaching"
    on the dashboard makes it. Only the manager of the rep's team or an admin (403 for the
    others); a rep outside the organization is not found (404). Audited."""
    task = services.coaching_task_create(
        user=request.user, rep_id=rep_id, note=payload.note, alert_id=payload.alert
    )
    note = selectors.CoachingNote(task=task, planned_by=request.user)
    return Status(201, _coaching(note, organization_zone(user=request.user)))


# --- alerts --------------------------------------------------------------------------------------


class AlertQuery(PageQuery):
    status: Literal["live", "open", "acknowledged", "resolved"] | None = Field(
        None, description="live = open or acknowledged."
    )
    rep: Id | None = Field(
        None, description="Only alerts about this rep (their subject, else their deal's owner)."
    )
    kind: str | None = Field(None, max_length=64, description="Only alerts of this kind.")


class AlertPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlertOut]


@router.get("/alerts", response={200: AlertPage, **ERROR_RESPONSES}, tags=["insights"])
def list_alerts(request: AuthenticatedHttpRequest, filters: Query[AlertQuery]) -> dict[str, Any]:
    """Your alerts, newest first; `rep` and `kind` narrow them to one group of
    `GET /alerts/groups`."""
    found = selectors.alert_list(user=request.user, status=filters.status)
    if filters.rep is not None:
        found = selectors.alerts_about(found, rep_id=filters.rep)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    return page_of(found, filters)


class AlertGroupOut(Schema):
    rep_id: int | None = Field(description="The rep the alerts are about; null: about nobody.")
    rep_name: str
    kind: str
    total: int = Field(description="Live alerts (open or acknowledged) in the group.")
    open: int = Field(description="Those not acknowledged yet.")
    latest_raised_at: dt.datetime


@router.get(
    "/alerts/groups", response={200: list[AlertGroupOut], **ERROR_RESPONSES}, tags=["insights"]
)
def list_alert_groups(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    """Your live alerts grouped by the rep they are about and their kind, with counts, as the
    dashboard lists them: groups with unacknowledged alerts first, health first, then the
    largest. `GET /alerts?status=live&rep=…&kind=…` lists one group's alerts."""
    return [
        {
            "rep_id": g.rep_id,
            "rep_name": g.rep_name,
            "kind": g.kind,
            "total": g.total,
            "open": g.open,
            "latest_raised_at": g.latest,
        }
        for g in selectors.alert_groups(user=request.user)
    ]


class AcknowledgeIn(StrictIn):
    ids: list[Id] = Field(
        min_length=1,
        max_length=alerts.ACKNOWLEDGE_MAX,
        description=f"Ids of your alerts, at most {alerts.ACKNOWLEDGE_MAX}.",
    )


class AcknowledgedOut(Schema):
    count: int
    items: list[AlertOut]


@router.post(
    "/alerts/acknowledge", response={200: AcknowledgedOut, **WRITE_ERRORS}, tags=["insights"]
)
def acknowledge_alerts(request: AuthenticatedHttpRequest, payload: AcknowledgeIn) -> Any:
    """Mark several of your alerts as seen at once (a dashboard group, or the ones picked),
    each audited as if acknowledged alone. All or nothing: an id that is not one of your
    alerts (another person's, another organization's) answers 404 naming it, and none is
    acknowledged. Those already acknowledged stay as they were."""
    done = alerts.alerts_acknowledge(user=request.user, alert_ids=payload.ids)
    return {"count": len(done), "items": done}


@router.post(
    "/alerts/{alert_id}/acknowledge", response={200: AlertOut, **WRITE_ERRORS}, tags=["insights"]
)
def acknowledge_alert(request: AuthenticatedHttpRequest, alert_id: Id) -> Any:
    """Mark one of your alerts as seen; it still resolves by itself when its condition clears."""
    return alerts.alert_acknowledge(user=request.user, alert_id=alert_id)


# --- metrics -------------------------------------------------------------------------------------


class MetricQuery(StrictQuery):
    team: Id | None = Field(None, description="Team id.")
    rep: Id | None = Field(None, description="Person id.")
    from_: SupportedDate | None = Field(None, alias="from", description="First local date.")
    to: SupportedDate | None = Field(
        None,
        description=(
            f"Last local date (included); less than {metrics.MAX_PERIOD_DAYS} days after `from`."
        ),
    )


class MetricOut(Schema):
    name: str
    figure: float | None
    unit: str
    date_from: dt.date
    date_to: dt.date
    numerator: float | None
    denominator: float | None
    by_rep: dict[int, float | None]
    by_team: dict[int, float | None]
    rows: list[dict[str, Any]]
    note: str


if TYPE_CHECKING:
    MetricName = str
else:  # the names of `metrics.METRICS`, so that the OpenAPI document lists them
    MetricName = Literal[tuple(metrics.METRICS)]


@router.get("/metrics/{name}", response={200: MetricOut, **ERROR_RESPONSES}, tags=["insights"])
def get_metric(
    request: AuthenticatedHttpRequest, name: MetricName, filters: Query[MetricQuery]
) -> Any:
    """One yardstick with the rows behind it, over the people you can see: action_penetration,
    record_completeness, stage_accuracy, daily_report_on_time, cross_department_response,
    task_on_time, stage_conversion, stage_dwell, cycle_time, win_rate."""
    return metrics.metric_report(
        user=request.user,
        name=name,
        filters=metrics.MetricFilters(
            team_id=filters.team, rep_id=filters.rep, date_from=filters.from_, date_to=filters.to
        ),
    )


# --- attachments ---------------------------------------------------------------------------------


@router.post(
    "/opportunities/{opportunity_id}/attachments",
    response={201: AttachmentOut, **WRITE_ERRORS},
    tags=["opportunities"],
)
def upload_attachment(
    request: AuthenticatedHttpRequest,
    opportunity_id: Id,
    kind: Form[str],
    file: File[UploadedFile],
) -> Status[Any]:
    """Upload a file to a deal (multipart: `kind`, `file`). The type is judged from the bytes:
    PDF, DOCX, JPG, PNG or plain text. A decompression bomb or a damaged file is refused (422,
    the reason in `details`); otherwise the file is stored and its text is read by the worker
    (`text_status` pending, then done or refused) for minutes and gates. Minutes (the
    playbook's `scorecard.minutes_kind`) are logged as a `minutes.uploaded` event, as on the
    deal page, which closes the task to upload them."""
    user = request.user
    deal = access_opportunity(user=user, opportunity_id=opportunity_id, for_write=True)
    return Status(201, deal_file_upload(user=user, opportunity=deal, kind=kind, uploaded_file=file))
