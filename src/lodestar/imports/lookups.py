"""What an import run reads of the organization once, before its first row: names of accounts,
products and members, the stages of the published playbooks, the event types it accepts.

Rows are then resolved against these maps in memory — no query per row — and the maps grow
as the run creates accounts, so a later row finds the account an earlier row created.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from lodestar.core.events import EventCatalogue
from lodestar.core.imports.values import loose_name
from lodestar.crm.models import Account, Product
from lodestar.crm.services import DEFAULT_FIRST_STAGE
from lodestar.imports.models import ImportedRecord, ImportKind
from lodestar.org.models import Membership, Organization
from lodestar.playbooks.selectors import (
    compiled_for_version,
    organization_catalogue,
    published_versions,
)

__all__ = ["Lookups", "StageInfo", "loose_name"]


@dataclass(frozen=True, slots=True)
class StageInfo:
    key: str
    name_zh: str
    name_en: str
    order: int
    terminal: str | None  # "won", "lost" or None (a working stage)


@dataclass
class Lookups:
    organization_id: int
    tz: zoneinfo.ZoneInfo
    accounts_by_name: dict[str, int] = field(default_factory=dict)
    account_names: dict[int, str] = field(default_factory=dict)
    products_by_name: dict[str, int] = field(default_factory=dict)
    product_names: dict[int, str] = field(default_factory=dict)
    product_aliases: dict[int, list[str]] = field(default_factory=dict)
    # loose name, username or e-mail → user id
    members: dict[str, int] = field(default_factory=dict)
    member_names: dict[int, list[str]] = field(default_factory=dict)
    teams: dict[int, int | None] = field(default_factory=dict)
    stages: dict[str, StageInfo] = field(default_factory=dict)
    first_stage: str = DEFAULT_FIRST_STAGE
    has_playbook: bool = False
    catalogue: EventCatalogue | None = None
    # Imported keys by kind, read on demand per chunk and remembered (kind → key → object id).
    keys: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, organization_id: int) -> Lookups:
        organization = Organization.objects.get(pk=organization_id)
        lookups = cls(organization_id=organization_id, tz=organization.tz)
        for pk, name in Account.objects.filter(organization_id=organization_id).values_list(
            "pk", "name"
        ):
            lookups.add_account(pk, name)
        for pk, name, aliases in Product.objects.filter(
            organization_id=organization_id
        ).values_list("pk", "name", "aliases"):
            lookups.add_product(pk, name, aliases or [])
        for user_id, team_id, username, display, first, last, email in (
            Membership.objects.filter(organization_id=organization_id, user__is_active=True)
            .order_by("user_id")
            .values_list(
                "user_id",
                "team_id",
                "user__username",
                "user__display_name",
                "user__first_name",
                "user__last_name",
                "user__email",
            )
        ):
            lookups.teams[user_id] = team_id
            names = [display, username, email, f"{first} {last}", f"{last}{first}"]
            lookups.member_names[user_id] = [n for n in names if n.strip()]
            for name in names:
                if name.strip():
                    lookups.members.setdefault(loose_name(name), user_id)
        lookups._load_stages()
        lookups.catalogue = organization_catalogue(organization_id=organization_id)
        return lookups

    def _load_stages(self) -> None:
        versions = published_versions(organization_id=self.organization_id).all()
        # The organization's own playbook first (`all()` orders it so); teams' stages add to it.
        for version in versions:
            playbook = compiled_for_version(version).playbook
            if not self.has_playbook:
                working = [stage.key for stage in playbook.stages if stage.terminal is None]
                self.first_stage = working[0] if working else DEFAULT_FIRST_STAGE
                self.has_playbook = True
            for order, stage in enumerate(playbook.stages):
                if stage.key not in self.stages:
                    self.stages[stage.key] = StageInfo(
                        key=stage.key,
                        name_zh=stage.name.zh,
                        name_en=stage.name.en or stage.name.zh,
                        order=order,
                        terminal=stage.terminal,
                    )

    # --- growing as the run writes ----------------------------------------------------------

    def add_account(self, pk: int, name: str) -> None:
        self.accounts_by_name.setdefault(loose_name(name), pk)
        self.account_names[pk] = name

    def add_product(self, pk: int, name: str, aliases: Iterable[str]) -> None:
        self.product_names[pk] = name
        self.product_aliases[pk] = list(aliases)
        for text in (name, *aliases):
            if text.strip():
                self.products_by_name.setdefault(loose_name(text), pk)

    # --- resolving ------------------------------------------------------------------------

    def account_id(self, reference: object) -> int | None:
        """An account by its imported key, else by name."""
        if isinstance(reference, int):
            return reference if reference in self.account_names else None
        if not isinstance(reference, str) or not reference.strip():
            return None
        by_key = self.keys.get(ImportKind.ACCOUNTS, {}).get(reference)
        if by_key is not None:
            return by_key
        return self.accounts_by_name.get(loose_name(reference))

    def product_id(self, name: object) -> int | None:
        if isinstance(name, int):
            return name if name in self.product_names else None
        if not isinstance(name, str) or not name.strip():
            return None
        return self.products_by_name.get(loose_name(name))

    def member_id(self, name: object) -> int | None:
        if isinstance(name, int):
            return name if name in self.teams else None
        if not isinstance(name, str) or not name.strip():
            return None
        return self.members.get(loose_name(name))

    def remember_keys(self, kind: str, keys: Iterable[str]) -> dict[str, int]:
        """The objects of these imported keys (one query for those not yet known)."""
        known = self.keys.setdefault(kind, {})
        missing = sorted({key for key in keys if key and key not in known})
        if missing:
            known.update(
                ImportedRecord.objects.filter(
                    organization_id=self.organization_id, kind=kind, key__among=missing
                ).values_list("key", "object_id")
            )
        return known

    def aware(self, value: object, *, end_of_day: bool = False) -> dt.datetime | None:
        """A moment in the organization's time zone: a naive time is local, a date its start
        (or its last second with `end_of_day`)."""
        if isinstance(value, dt.datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)
        if isinstance(value, dt.date):
            moment = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
            return dt.datetime.combine(value, moment, tzinfo=self.tz)
        return None
