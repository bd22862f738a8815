"""The pipeline board's read model: columns of open deals by stage, filtered, summed and flagged.

`board_page` answers in a fixed number of queries whatever the number of deals: the filter
choices (two), the count and sum of every column (one, grouped), the cards of every column (one,
ranked by a window function per stage), and the cards' risk flags (open alerts and overdue
tasks, one each). The page shows at most `CARDS_PER_STAGE` cards a column; the count and the
sum always cover every deal the filters keep.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.core.rules import CompiledPlaybook
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.crm.selectors import (
    OpportunityFilters,
    access_opportunity,
    opportunity_list,
    opportunity_scope,
)
from lodestar.insights.models import Alert, AlertStatus
from lodestar.org.models import Membership, Role, Team, User
from lodestar.org.selectors import Actor, actor_of, membership_of
from lodestar.playbooks.selectors import (
    compiled_for_version,
    playbook_for_deal,
    published_versions,
)
from lodestar.web.pages import StageView, stage_views

__all__ = [
    "CARDS_PER_STAGE",
    "BoardCard",
    "BoardColumn",
    "BoardFilterForm",
    "BoardFilters",
    "BoardPage",
    "ColumnSum",
    "MovedCard",
    "board_card",
    "board_deals",
    "board_filter_form",
    "board_page",
    "column_sums",
]

CARDS_PER_STAGE = 40
Q_MAX_LENGTH = 100


@dataclass(frozen=True)
class BoardFilters:
    q: str = ""
    owner_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class ColumnSum:
    """A column's open deals under the filters: how many, and their amounts in the playbook's
    currency; deals in other currencies are counted, not added up."""

    stage_key: str
    count: int = 0
    amount: Decimal = Decimal(0)
    currency: str = "CNY"
    other_currencies: int = 0


@dataclass
class BoardCard:
    deal: Opportunity
    open_alerts: int = 0
    overdue_tasks: int = 0
    past_target: dt.timedelta | None = None  # how long beyond the stage's target dwell

    @property
    def flagged(self) -> bool:
        return bool(self.open_alerts or self.overdue_tasks or self.past_target)


@dataclass
class BoardColumn:
    stage: StageView
    cards: list[BoardCard]
    sums: ColumnSum

    @property
    def more(self) -> int:
        """Deals of the column not shown as cards."""
        return max(self.sums.count - len(self.cards), 0)


@dataclass
class BoardPage:
    columns: list[BoardColumn]
    stages: list[StageView]
    can_write: bool
    has_playbook: bool
    current_stage: str = ""  # the stage a phone shows first
    filtered: bool = False
    tab_query: str = ""  # the filters as a query string, for the phone's stage tabs
    currency: str = "CNY"
    cards: int = 0


class BoardFilterForm(forms.Form):
    """The board's filters, kept in the address (GET), so a filtered board can be shared."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=Q_MAX_LENGTH,
        strip=True,
        help_text=_("Part of a deal's or account's name."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("All owners")
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams")
    )

    def __init__(
        self, *args: Any, owners: QuerySet[User], teams: QuerySet[Team], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["owner"]).queryset = owners
        cast("forms.ModelChoiceField[Team]", self.fields["team"]).queryset = teams
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Deal or account"), "autocomplete": "off"}
        )

    def filters(self) -> BoardFilters:
        """The valid filters; an invalid form filters nothing (its errors are shown)."""
        if not self.is_bound or not self.is_valid():
            return BoardFilters()
        owner, team = self.cleaned_data.get("owner"), self.cleaned_data.get("team")
        return BoardFilters(
            q=self.cleaned_data.get("q") or "",
            owner_id=owner.pk if owner else None,
            team_id=team.pk if team else None,
        )


def board_filter_form(*, user: User, data: Any) -> BoardFilterForm:
    """The filter form, offering the owners and teams of the open deals the user may read
    (two queries, when the form is rendered or checked)."""
    open_deals = opportunity_scope(actor=actor_of(user=user)).filter(status=OpportunityStatus.OPEN)
    owners = User.objects.filter(pk__in=open_deals.values("owner_id")).order_by(
        "display_name", "username"
    )
    teams = Team.objects.filter(pk__in=open_deals.values("team_id")).order_by("name")
    relevant = {key: data[key] for key in ("q", "owner", "team") if data.get(key)}
    return BoardFilterForm(relevant or None, owners=owners, teams=teams)


def _deals(user: User, filters: BoardFilters) -> QuerySet[Opportunity]:
    return opportunity_list(
        user=user,
        filters=OpportunityFilters(
            status=OpportunityStatus.OPEN,
            owner_id=filters.owner_id,
            team_id=filters.team_id,
            q=filters.q,
        ),
    )


def board_deals(*, user: User, filters: BoardFilters) -> QuerySet[Opportunity]:
    """Every open deal the board holds under `filters` (not only the cards it shows)."""
    return _deals(user, filters)


def _currency(playbook: CompiledPlaybook | None) -> str:
    return playbook.playbook.currency if playbook is not None else "CNY"


def _sums(deals: QuerySet[Opportunity], playbook: CompiledPlaybook | None) -> dict[str, ColumnSum]:
    """Count and sum of `deals` by stage (one query)."""
    currency = _currency(playbook)
    grouped: defaultdict[str, list[tuple[str, int, Decimal | None]]] = defaultdict(list)
    for stage_key, deal_currency, n, amount in (
        deals.order_by()
        .values("stage_key", "currency")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .values_list("stage_key", "currency", "n", "amount")
    ):
        grouped[stage_key].append((deal_currency, n, amount))
    return {
        stage_key: ColumnSum(
            stage_key=stage_key,
            count=sum(n for _c, n, _a in rows),
            amount=sum((Decimal(a or 0) for c, _n, a in rows if c == currency), start=Decimal(0)),
            currency=currency,
            other_currencies=sum(n for c, _n, _a in rows if c != currency),
        )
        for stage_key, rows in grouped.items()
    }


def column_sums(
    *, user: User, filters: BoardFilters, playbook: CompiledPlaybook | None
) -> dict[str, ColumnSum]:
    """Count and sum of the open deals of every stage under the filters (one query, and the
    user's scope)."""
    return _sums(_deals(user, filters), playbook)


def _targets(playbook: CompiledPlaybook | None) -> dict[str, dt.timedelta]:
    return {
        stage.key: stage.target_dwell
        for stage in stage_views(playbook)
        if stage.target_dwell is not None
    }


def _flag(cards: list[BoardCard], playbook: CompiledPlaybook | None, now: dt.datetime) -> None:
    """Set the cards' risk flags: open alerts on the deal, overdue open tasks (one query
    each) and the time beyond the stage's target dwell."""
    by_id = {card.deal.pk: card for card in cards}
    if not by_id:
        return
    alerts = (
        Alert.objects.filter(
            opportunity_id__in=list(by_id),
            status__in=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        )
        .order_by()
        .values("opportunity_id")
        # One condition raises an alert for the rep and another for the manager: count kinds.
        .annotate(n=Count("kind", distinct=True))
        .values_list("opportunity_id", "n")
    )
    for deal_id, n in alerts:
        by_id[deal_id].open_alerts = n
    overdue = (
        Task.objects.filter(opportunity_id__in=list(by_id), status=TaskStatus.OPEN, due_at__lt=now)
        .order_by()
        .values("opportunity_id")
        .annotate(n=Count("id"))
        .values_list("opportunity_id", "n")
    )
    for deal_id, n in overdue:
        by_id[deal_id].overdue_tasks = n
    targets = _targets(playbook)
    for card in cards:
        target = targets.get(card.deal.stage_key)
        if target is not None and now - card.deal.stage_entered_at > target:
            card.past_target = now - card.deal.stage_entered_at - target


def _tab_query(filters: BoardFilters) -> str:
    pairs = [
        ("q", filters.q),
        ("owner", filters.owner_id or ""),
        ("team", filters.team_id or ""),
    ]
    return urlencode([(key, value) for key, value in pairs if value])


def _playbook(organization_id: int, team_id: int | None) -> CompiledPlaybook | None:
    """The playbook a team follows (its own, else the organization's), in one query."""
    version = published_versions(organization_id=organization_id).of_team(team_id)
    return compiled_for_version(version) if version is not None else None


def _works_deals(membership: Membership) -> bool:
    # The permission rule reads the role alone: no need to look up the teams a manager leads.
    return Actor(
        user_id=membership.user_id,
        organization_id=membership.organization_id,
        role=Role(membership.role),
        team_id=membership.team_id,
        managed_team_ids=frozenset(),
    ).works_deals


def board_page(
    *, user: User, filters: BoardFilters, now: dt.datetime, stage: str = ""
) -> BoardPage:
    """Open deals in the user's scope under `filters`, by stage of the playbook the (filtered
    or the user's own) team follows; `stage` is the column a phone shows first (else the
    first one holding deals)."""
    membership = membership_of(user=user)
    if membership is None:
        return BoardPage([], [], False, False)
    team = filters.team_id if filters.team_id is not None else membership.team_id
    playbook = _playbook(membership.organization_id, team)
    stages = stage_views(playbook)
    deals = _deals(user, filters)
    sums = _sums(deals, playbook)
    open_keys = [s.key for s in stages if s.terminal is None]
    ranked = (
        deals.filter(stage_key__in=open_keys)
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("stage_key")],
                order_by=[F("amount").desc(nulls_last=True), F("id").asc()],
            )
        )
        .filter(place__lte=CARDS_PER_STAGE)
        .order_by("stage_key", "place")
    )
    cards_of: defaultdict[str, list[BoardCard]] = defaultdict(list)
    all_cards = []
    for deal in ranked:
        card = BoardCard(deal=deal)
        cards_of[deal.stage_key].append(card)
        all_cards.append(card)
    _flag(all_cards, playbook, now)
    currency = _currency(playbook)
    columns = [
        BoardColumn(
            stage=s,
            cards=cards_of.get(s.key, []),
            sums=sums.get(s.key, ColumnSum(stage_key=s.key, currency=currency)),
        )
        for s in stages
    ]
    keys = open_keys
    if stage not in keys:
        stage = next((c.stage.key for c in columns if c.sums.count), keys[0] if keys else "")
    return BoardPage(
        columns=columns,
        stages=stages,
        can_write=_works_deals(membership),
        has_playbook=playbook is not None,
        current_stage=stage,
        filtered=filters != BoardFilters(),
        tab_query=_tab_query(filters),
        currency=currency,
        cards=len(all_cards),
    )


@dataclass
class MovedCard:
    """One card after a move, with the stages it can move to and the columns' new sums."""

    card: BoardCard
    stages: list[StageView]
    sums: list[ColumnSum]


def board_card(
    *, user: User, opportunity_id: int, filters: BoardFilters, now: dt.datetime
) -> MovedCard:
    """One card of the board (after a move) with its flags, and every open column's count and
    sum under the board's filters."""
    deal = access_opportunity(user=user, opportunity_id=opportunity_id)
    version = playbook_for_deal(deal)
    playbook = compiled_for_version(version) if version is not None else None
    card = BoardCard(deal=deal)
    _flag([card], playbook, now)
    membership = membership_of(user=user)
    own_team = membership.team_id if membership is not None else None
    team = filters.team_id if filters.team_id is not None else own_team
    board_playbook = _playbook(deal.organization_id, team) if team != deal.team_id else playbook
    stages = stage_views(board_playbook)
    sums = column_sums(user=user, filters=filters, playbook=board_playbook)
    currency = _currency(board_playbook)
    return MovedCard(
        card=card,
        stages=stage_views(playbook),
        sums=[
            sums.get(s.key, ColumnSum(stage_key=s.key, currency=currency))
            for s in stages
            if s.terminal is None
        ],
    )
