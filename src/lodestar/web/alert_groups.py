"""The dashboard's alerts, grouped by the rep they are about and their kind.

A manager with a busy team has hundreds of live alerts; one card each made a column thousands
of pixels long. The dashboard shows one line per group instead ("张三 · 停滞商机 ×7"), a page
of groups at a time; a group opens to its cards, a page of cards at a time, and is acknowledged
as a whole or card by card (`insights.alerts.alerts_acknowledge`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lodestar.i18n import speaks_chinese
from lodestar.insights import models as im
from lodestar.insights.health import HEALTH_KIND
from lodestar.insights.selectors import alert_group_cards, alert_group_list, alert_groups
from lodestar.insights.wording import alert_message
from lodestar.org.models import User

__all__ = [
    "CARDS_PER_PAGE",
    "GROUPS_PER_PAGE",
    "AlertCard",
    "AlertGroupView",
    "AlertGroupsPage",
    "alert_group_view",
    "alert_groups_page",
    "group_key",
    "kind_label",
]

GROUPS_PER_PAGE = 8
CARDS_PER_PAGE = 10

# What each kind of alert is about, as the group's line names it.
KIND_LABELS: dict[str, Promise] = {
    HEALTH_KIND: _("Low funnel health"),
    "risk.silence": _("Silent customer"),
    "risk.stale": _("Stalled deal"),
    "risk.dwell_overrun": _("Past stage target"),
    "risk.backward_moves": _("Moved back a stage"),
    "task_overdue": _("Task overdue"),
    "task_escalated": _("Overdue task escalated"),
}


def kind_label(kind: str) -> str:
    """An alert kind in words (one the pages do not know yet: as stored)."""
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


def group_key(rep_id: int | None, kind: str) -> str:
    """The group's id in the page: letters, digits and dashes only."""
    return f"alerts-{rep_id or 0}-{kind.replace('.', '-').replace('_', '-')}"


@dataclass
class AlertCard:
    alert: im.Alert
    message: str
    about_rep: bool = False  # a rep's health: their stuck deals load next to it


@dataclass
class AlertGroupView:
    rep_id: int | None
    rep_name: str
    kind: str
    label: str
    total: int
    open: int
    cards: list[AlertCard] = field(default_factory=list)
    page: int = 1  # the page of cards shown
    more: int = 0  # cards after this page

    @property
    def key(self) -> str:
        return group_key(self.rep_id, self.kind)

    @property
    def next_page(self) -> int:
        return self.page + 1


@dataclass
class AlertGroupsPage:
    groups: list[AlertGroupView]
    page: int
    pages: int
    total_groups: int
    total_alerts: int
    open_alerts: int

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def _card(alert: im.Alert, now: dt.datetime) -> AlertCard:
    text = alert_message(alert, now)  # worded as it stands now
    return AlertCard(
        alert=alert,
        message=text.zh if speaks_chinese() or not text.en else text.en,
        about_rep=alert.kind == HEALTH_KIND and alert.subject_user_id is not None,
    )


def alert_groups_page(
    *, user: User, rep_ids: Iterable[int] | None, page: int, now: dt.datetime
) -> AlertGroupsPage:
    """One page of the user's alert groups (`GROUPS_PER_PAGE`), each with its first page of
    cards (collapsed in the page until opened). A page past the last shows the last."""
    groups = alert_groups(user=user, rep_ids=rep_ids)
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = groups[(page - 1) * GROUPS_PER_PAGE : page * GROUPS_PER_PAGE]
    cards = alert_group_cards(
        user=user, groups=[(g.rep_id, g.kind) for g in shown], first=CARDS_PER_PAGE
    )
    return AlertGroupsPage(
        groups=[
            _view(g.rep_id, g.rep_name, g.kind, 1, now, g.total, g.open, cards[(g.rep_id, g.kind)])
            for g in shown
        ],
        page=page,
        pages=pages,
        total_groups=len(groups),
        total_alerts=sum(g.total for g in groups),
        open_alerts=sum(g.open for g in groups),
    )


def alert_group_view(
    *, user: User, rep_id: int | None, kind: str, page: int, now: dt.datetime
) -> AlertGroupView:
    """One group with one page of its cards (`CARDS_PER_PAGE`), unacknowledged first."""
    rep = User.objects.filter(pk=rep_id).first() if rep_id is not None else None
    alerts = alert_group_list(user=user, rep_id=rep_id, kind=kind)
    total, open_count = alerts.count(), alerts.filter(status=im.AlertStatus.OPEN).count()
    page = max(page, 1)
    cards = list(alerts[(page - 1) * CARDS_PER_PAGE : page * CARDS_PER_PAGE])
    return _view(rep_id, str(rep) if rep else "", kind, page, now, total, open_count, cards)


def _view(
    rep_id: int | None,
    rep_name: str,
    kind: str,
    page: int,
    now: dt.datetime,
    total: int,
    open_count: int,
    cards: list[im.Alert],
) -> AlertGroupView:
    return AlertGroupView(
        rep_id=rep_id,
        rep_name=rep_name,
        kind=kind,
        label=kind_label(kind),
        total=total,
        open=open_count,
        cards=[_card(alert, now) for alert in cards],
        page=page,
        more=max(0, total - page * CARDS_PER_PAGE),
    )
