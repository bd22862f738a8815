"""Role-aware navigation shared by every page."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lodestar.integrations.selectors import inbox_unread_count
from lodestar.org.models import Role
from lodestar.org.selectors import membership_of


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: frozenset[str]
    # The roles for whom it is a tab of the bottom bar on a phone; the others reach it by
    # "More" there.
    tab_roles: frozenset[str] = frozenset()


ALL_ROLES = frozenset(Role.values)
DEAL_WORKERS = frozenset({Role.REP, Role.MANAGER, Role.ADMIN})
LEADS = frozenset({Role.MANAGER, Role.ADMIN})
NAV = (
    NavItem(_("Today"), "web:today", DEAL_WORKERS, frozenset({Role.REP})),
    NavItem(
        _("Dashboard"), "web:dashboard", frozenset({Role.MANAGER, Role.OPS, Role.ADMIN}), LEADS
    ),
    NavItem(_("Pipeline"), "web:board", ALL_ROLES, DEAL_WORKERS),
    NavItem(_("Daily report"), "web:daily-report", frozenset({Role.REP}), frozenset({Role.REP})),
    NavItem(
        _("Daily reports"), "web:daily-reports", frozenset({Role.MANAGER, Role.OPS, Role.ADMIN})
    ),
    NavItem(
        _("Weekly reports"), "web:weekly-reports", frozenset({Role.MANAGER, Role.OPS, Role.ADMIN})
    ),
    NavItem(
        _("Playbooks"), "web:playbooks", frozenset({Role.OPS, Role.ADMIN}), frozenset({Role.OPS})
    ),
    NavItem(_("Knowledge"), "web:knowledge-index", ALL_ROLES, frozenset({Role.OPS})),
    NavItem(_("Import"), "web:imports", frozenset({Role.OPS, Role.ADMIN})),
    NavItem(_("Accounts"), "web:accounts", ALL_ROLES),
    NavItem(_("Inbox"), "web:inbox", ALL_ROLES, ALL_ROLES),
    NavItem(_("API"), "api:openapi-view", frozenset({Role.OPS, Role.ADMIN})),
    NavItem(_("Webhooks"), "web:webhooks", frozenset({Role.OPS, Role.ADMIN})),
    NavItem(_("Team"), "web:team", frozenset({Role.ADMIN})),
    NavItem(_("Audit log"), "web:audit", frozenset({Role.OPS, Role.ADMIN})),
    NavItem(_("Admin"), "admin:index", frozenset({Role.ADMIN})),
)
# The rep's home comes first for reps, the dashboard first for everyone else.
FIRST_FOR: dict[str | None, str] = {
    Role.REP: "web:today",
    Role.MANAGER: "web:dashboard",
    Role.OPS: "web:playbooks",
}


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    membership = membership_of(user=user)
    role = membership.role if membership is not None else None
    # One COUNT on the inbox index per page: the unread badge next to "Inbox".
    unread = inbox_unread_count(user=user) if membership is not None else 0
    items = []
    for item in NAV:
        if role in item.roles or (user.is_superuser and item.url_name == "admin:index"):
            url = reverse(item.url_name)
            items.append(
                {
                    "label": item.label,
                    "url": url,
                    "active": request.path.startswith(url) and url != "/",
                    "first": FIRST_FOR.get(role) == item.url_name,
                    "badge": unread if item.url_name == "web:inbox" else None,
                    "tab": role in item.tab_roles,
                }
            )
    items.sort(key=lambda entry: not entry["first"])
    return {
        "nav_items": items,
        "current_role": role,
        "nav_more": any(not entry["tab"] for entry in items),
    }
