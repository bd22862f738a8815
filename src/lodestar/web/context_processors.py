"""Role-aware navigation shared by every page."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lodestar.org.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: frozenset[str]


ALL_ROLES = frozenset(Role.values)
NAV = (
    NavItem(_("Home"), "web:home", ALL_ROLES),
    NavItem(_("API"), "api:openapi-view", ALL_ROLES),
    NavItem(_("Admin"), "admin:index", frozenset({Role.ADMIN})),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    membership = getattr(user, "membership", None)
    role = membership.role if membership is not None else None
    items = []
    for item in NAV:
        if role in item.roles or (user.is_superuser and item.url_name == "admin:index"):
            url = reverse(item.url_name)
            items.append({"label": item.label, "url": url, "active": request.path == url})
    return {"nav_items": items, "current_role": role}
