"""Writing one chunk of checked rows: accounts, contacts, products, deals, stage history and
activities, in bulk.

Each writer gets the rows of one chunk (the caller wraps it in a transaction) and, per row,
decides from the organization's `ImportedRecord`s whether it is new (imported), changed
(updated: the values it replaces are kept on the record for undo) or the same as last time
(unchanged: nothing is written, no event appended). Lookups are read once per run
(`Lookups`) and per chunk (the chunk's keys, in one query); objects are written with
`bulk_create` / `bulk_update` and the history with multi-row inserts, never a query per row.

In a dry run the same decisions are made and counted, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.db import connection, models

from lodestar.core.limits import datetime_is_supported
from lodestar.core.rules.results import Bilingual
from lodestar.crm.models import (
    Account,
    AccountTier,
    Contact,
    Direction,
    Opportunity,
    OpportunityStatus,
    Product,
    StageTransition,
)
from lodestar.crm.search_keys import search_key
from lodestar.db import insert_statements
from lodestar.events.services import PastEvent, events_append_past
from lodestar.i18n import in_site_language
from lodestar.imports.lookups import Lookups
from lodestar.imports.models import ImportBatch, ImportedRecord, ImportKind, ImportProblem

__all__ = ["IMPORT_SOURCE", "Run", "Writer", "batch_prefix", "digest_of", "writer_for"]

# The event log's `source` of every event an import appends; the external id starts with the
# batch's prefix, so undo finds exactly the batch's events (`events_remove_imported`).
IMPORT_SOURCE = "import"
_KEY_MAX = 255


def batch_prefix(batch_id: int) -> str:
    return f"b{batch_id}:"


def _short_hash(text: str, size: int = 8) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def stored_key(key: str) -> str:
    """The key as stored: itself, or a hash of it when longer than the column."""
    return key if len(key) <= _KEY_MAX else "h:" + hashlib.sha256(key.encode()).hexdigest()


def db_time(value: dt.datetime | None) -> Any:
    """A moment as the database stores it, without Django's per-value conversion (a hot path:
    every stage move and event of a file). SQLite keeps naive UTC text; PostgreSQL takes the
    aware value."""
    if value is None or connection.vendor != "sqlite":
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool = False,
) -> list[int]:
    """Plain rows into the model's table, with as few statements as the database allows; with
    `returning`, the new ids in the order of `rows` (as Django's own `bulk_create` relies on).
    Building a model instance per row would cost more than writing it."""
    ids: list[int] = []
    if not rows:
        return ids
    tail = "RETURNING id" if returning else ""
    with connection.cursor() as cursor:
        for sql, params in insert_statements(model, columns, rows, tail=tail):
            cursor.execute(sql, params)
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    if returning and len(ids) != len(rows):
        raise RuntimeError(f"{model.__name__}: {len(ids)} ids returned for {len(rows)} rows")
    return ids


def _json(value: Any) -> Any:
    return None if value is None else connection.ops.adapt_json_value(value, None)


_RECORD_COLUMNS = (
    "organization_id",
    "kind",
    "key",
    "object_id",
    "digest",
    "created_by_batch_id",
    "changed_by_batch_id",
    "previous",
    "history",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _stored_value(value: Any) -> Any:
    """A field value as the record keeps it for undo (JSON): Decimals as text, times ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def digest_of(row: Any) -> str:
    """What a row says, hashed: equal digests mean an identical row (so: unchanged)."""
    history = [
        (getattr(item, "stage", ""), _jsonable(getattr(item, "at", None)))
        for item in (getattr(row, "history", None) or ())
    ]
    text = json.dumps(
        [
            _jsonable({k: v for k, v in row.values.items() if not k.startswith("_")}),
            _jsonable(row.custom),
            history,
        ],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def _problem(
    batch: ImportBatch,
    row: int | None,
    code: str,
    message: Bilingual,
    *,
    severity: str = "error",
    column: str = "",
    field: str = "",
    hint: Bilingual | None = None,
) -> ImportProblem:
    return ImportProblem(
        organization_id=batch.organization_id,
        batch=batch,
        row=row,
        column=column[:255],
        field=field[:100],
        severity=severity,
        code=code[:64],
        message_zh=message.zh,
        message_en=message.en,
        hint_zh=hint.zh if hint else "",
        hint_en=hint.en if hint else "",
    )


@dataclass
class Run:
    """One run of a batch: who runs it, when, the lookups, and what it has counted so far."""

    batch: ImportBatch
    user_id: int
    now: dt.datetime
    dry_run: bool
    lookups: Lookups
    # target field key → the column it came from (to locate problems)
    columns: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    seen_keys: set[str] = field(default_factory=set)
    default_owner_id: int | None = None
    # The mapping's options (date order, the file's currency, the default owner …).
    options: dict[str, Any] = field(default_factory=dict)
    # Deals touched, for the caller (insights recompute) and tests.
    deal_ids: set[int] = field(default_factory=set)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def add_problem(
        self,
        row: int | None,
        code: str,
        message: Bilingual,
        *,
        severity: str = "error",
        field: str = "",
        hint: Bilingual | None = None,
    ) -> None:
        self.count("errors" if severity == "error" else "warnings")
        self.problems.append(
            _problem(
                self.batch,
                row,
                code,
                message,
                severity=severity,
                column=self.columns.get(field, ""),
                field=field,
                hint=hint,
            )
        )


@dataclass
class _Planned:
    row: Any
    key: str
    digest: str
    record: ImportedRecord | None
    outcome: str  # "imported" | "updated" | "unchanged"
    object_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Writer:
    """The shared part: deciding new / changed / unchanged by the rows' keys."""

    kind: ClassVar[str]
    model: ClassVar[type[models.Model]]

    def __init__(self, run: Run) -> None:
        self.run = run
        self.lookups = run.lookups
        self.organization_id = run.lookups.organization_id

    # --- the chunk ------------------------------------------------------------------------

    def write(self, rows: Sequence[Any]) -> None:
        planned = self.plan(rows)
        for item in planned:
            if item.outcome == "unchanged":
                self.run.count("unchanged")
        work = [item for item in planned if item.outcome != "unchanged"]
        work = self.prepare(work)
        if not self.run.dry_run and work:
            self.apply(work)
        for item in work:
            self.run.count(item.outcome)

    def plan(self, rows: Sequence[Any]) -> list[_Planned]:
        """Rows without errors, each with its record (if imported before) and outcome."""
        usable = []
        for row in rows:
            if self._has_errors(row):
                self.run.count("skipped")
                continue
            key = stored_key(str(row.key))
            if key in self.run.seen_keys:
                self.run.add_problem(
                    row.number,
                    "duplicate_key",
                    Bilingual(
                        "与文件中前面一行的键相同,本行未导入。",
                        "Same key as an earlier row of the file; this row was not imported.",
                    ),
                    hint=Bilingual(
                        "选择能区分每一行的键列,或删除重复的行。",
                        "Choose a key column that tells the rows apart, or remove the repeat.",
                    ),
                )
                self.run.count("skipped")
                continue
            self.run.seen_keys.add(key)
            usable.append((row, key))
        records = {
            record.key: record
            for record in ImportedRecord.objects.filter(
                organization_id=self.organization_id,
                kind=self.kind,
                key__among=[key for _row, key in usable] or [""],
            )
        }
        alive = self._alive({record.object_id for record in records.values()})
        planned = []
        for row, key in usable:
            digest = digest_of(row)
            record = records.get(key)
            if record is not None and record.object_id not in alive:
                # Its object was deleted by hand since: the row is imported afresh.
                if not self.run.dry_run:
                    record.delete()
                record = None
            if record is None:
                outcome = "imported"
            elif record.digest == digest:
                outcome = "unchanged"
            else:
                outcome = "updated"
            planned.append(
                _Planned(
                    row=row,
                    key=key,
                    digest=digest,
                    record=record,
                    outcome=outcome,
                    object_id=record.object_id if record else None,
                )
            )
        return planned

    def _has_errors(self, row: Any) -> bool:
        return any(problem.severity == "error" for problem in row.problems)

    def _alive(self, ids: set[int]) -> set[int]:
        if not ids:
            return set()
        return set(
            self.model._default_manager.filter(
                organization_id=self.organization_id, pk__among=sorted(ids)
            ).values_list("pk", flat=True)
        )

    # --- per kind ---------------------------------------------------------------------------

    def prepare(self, work: list[_Planned]) -> list[_Planned]:
        """Resolve references and check values; rows found wanting are reported and dropped."""
        return work

    def apply(self, work: list[_Planned]) -> None:
        raise NotImplementedError

    # --- shared helpers -------------------------------------------------------------------

    def reject(self, item: _Planned, code: str, message: Bilingual, *, field: str = "") -> None:
        self.run.add_problem(item.row.number, code, message, field=field)
        self.run.count("skipped")

    def warn(self, item: _Planned, code: str, message: Bilingual, *, field: str = "") -> None:
        self.run.add_problem(item.row.number, code, message, severity="warning", field=field)

    def text_fields(
        self, item: _Planned, names: Iterable[str], model: type[models.Model]
    ) -> dict[str, Any] | None:
        """The row's texts for `names` (those it maps), or None after reporting one too long."""
        out: dict[str, Any] = {}
        values = item.row.values
        for name in names:
            if name not in values:
                continue
            value = values[name]
            text = "" if value is None else str(value).strip()
            limit = getattr(model._meta.get_field(name), "max_length", None)
            if limit is not None and len(text) > limit:
                self.reject(
                    item,
                    "too_long",
                    Bilingual(
                        f"超过 {limit} 个字符({len(text)} 个)。",
                        f"Longer than {limit} characters ({len(text)}).",
                    ),
                    field=name,
                )
                return None
            out[name] = text
        return out

    def create_records(self, items: Iterable[_Planned]) -> None:
        batch_id = self.run.batch.pk
        insert_rows(
            ImportedRecord,
            _RECORD_COLUMNS,
            [
                (
                    self.organization_id,
                    self.kind,
                    item.key,
                    item.object_id or 0,
                    item.digest,
                    batch_id,
                    batch_id,
                    None,
                    _json(item.data.get("history_keys", [])),
                )
                for item in items
            ],
        )

    def update_records(self, items: Iterable[_Planned], previous: Mapping[str, Any]) -> None:
        """Point each item's record at this batch, keeping what it replaced for undo."""
        records = []
        for item in items:
            record = item.record
            if record is None:  # linked to an object by its name: a new record of this batch
                continue
            record.previous = {
                **previous.get(item.key, {}),
                "digest": record.digest,
                "changed_by": record.changed_by_batch_id,
                "history": record.history,
                "previous": record.previous,
            }
            record.digest = item.digest
            record.changed_by_batch = self.run.batch
            record.history = item.data.get("history_keys", record.history)
            records.append(record)
        ImportedRecord.objects.bulk_update(
            records, ["previous", "digest", "changed_by_batch", "history"], batch_size=500
        )
        linked = [item for item in items if item.record is None]
        if linked:
            ImportedRecord.objects.bulk_create(
                [
                    ImportedRecord(
                        organization_id=self.organization_id,
                        kind=self.kind,
                        key=item.key,
                        object_id=item.object_id or 0,
                        digest=item.digest,
                        changed_by_batch=self.run.batch,
                        previous={**previous.get(item.key, {}), "linked": True},
                        history=item.data.get("history_keys", []),
                    )
                    for item in linked
                ],
                batch_size=500,
            )


def _custom(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in values.items() if value not in (None, "")}


class _FieldsWriter(Writer):
    """Accounts, contacts and products: plain fields plus (accounts, contacts) custom fields."""

    texts: ClassVar[tuple[str, ...]]
    has_custom: ClassVar[bool] = True

    def fields_of(self, item: _Planned) -> dict[str, Any] | None:
        fields = self.text_fields(item, self.texts, self.model)
        return fields

    def natural_match(self, items: list[_Planned]) -> None:
        """New rows whose object exists already (same name): link them instead of duplicating."""

    def prepare(self, work: list[_Planned]) -> list[_Planned]:
        kept = []
        for item in work:
            fields = self.fields_of(item)
            if fields is None:
                continue
            item.data["fields"] = fields
            if self.has_custom and item.row.custom:
                item.data["custom"] = _custom(item.row.custom)
            kept.append(item)
        self.natural_match([item for item in kept if item.outcome == "imported"])
        return kept

    def build(self, item: _Planned) -> models.Model:
        return self.model(
            organization_id=self.organization_id,
            **item.data["fields"],
            **({"custom_fields": item.data.get("custom", {})} if self.has_custom else {}),
        )

    def after_create(self, objects: list[Any]) -> None:
        """Let the lookups know of new objects (later rows may refer to them)."""

    def apply(self, work: list[_Planned]) -> None:
        new = [item for item in work if item.object_id is None]
        objects = [self.build(item) for item in new]
        self.model._default_manager.bulk_create(objects, batch_size=500)
        for item, obj in zip(new, objects, strict=True):
            item.object_id = obj.pk
        self.after_create(objects)
        self.create_records(new)
        fresh = {id(item) for item in new}
        changed = [item for item in work if id(item) not in fresh]
        if changed:
            self._update(changed)

    def _update(self, items: list[_Planned]) -> None:
        by_id = self.model._default_manager.in_bulk([item.object_id for item in items])
        previous: dict[str, dict[str, Any]] = {}
        names: set[str] = set()
        objects = []
        for item in items:
            obj = by_id[item.object_id]
            before: dict[str, Any] = {}
            for name, value in item.data["fields"].items():
                old = getattr(obj, name)
                if old != value:
                    before[name] = _stored_value(old)
                    setattr(obj, name, value)
                    names.add(name)
            if self.has_custom and item.data.get("custom"):
                stored = getattr(obj, "custom_fields", {})
                merged = {**stored, **item.data["custom"]}
                if merged != stored:
                    before["custom_fields"] = stored
                    setattr(obj, "custom_fields", merged)  # noqa: B010 - accounts and contacts
                    names.add("custom_fields")
            previous[item.key] = {"values": before}
            objects.append(obj)
        if names:
            self.model._default_manager.bulk_update(objects, sorted(names), batch_size=500)
        self.update_records(items, previous)


class AccountWriter(_FieldsWriter):
    kind = ImportKind.ACCOUNTS
    model = Account
    texts = ("name", "industry", "region", "external_ref")

    def fields_of(self, item: _Planned) -> dict[str, Any] | None:
        fields = self.text_fields(item, self.texts, Account)
        if fields is None:
            return None
        if not fields.get("name") and item.outcome == "imported":
            self.reject(item, "required", _REQUIRED_NAME, field="name")
            return None
        values = item.row.values
        if values.get("tier") not in (None, ""):
            tier = str(values["tier"])
            if tier not in AccountTier.values:
                self.reject(
                    item,
                    "invalid_choice",
                    Bilingual(
                        f"客户级别“{tier}”无效,可用:key、standard、small。",
                        f"Unknown account tier “{tier}”; use key, standard or small.",
                    ),
                    field="tier",
                )
                return None
            fields["tier"] = tier
        if "owner" in item.row.references or "owner" in values:
            owner = _reference(item.row, "owner")
            fields["owner_id"] = self.lookups.member_id(owner) or self.run.default_owner_id
        if values.get("repurchase_rate") is not None:
            fields["repurchase_rate"] = Decimal(str(values["repurchase_rate"])).quantize(
                Decimal("0.0001")
            )
        if "external_ref" not in fields and len(str(item.row.key)) <= 100 and self._keyed():
            fields["external_ref"] = str(item.row.key)
        return fields

    def _keyed(self) -> bool:
        return bool(self.run.batch.mapping.get("key_column"))

    def natural_match(self, items: list[_Planned]) -> None:
        for item in items:
            found = self.lookups.accounts_by_name.get(_loose(item.data["fields"].get("name", "")))
            if found is not None:
                item.object_id, item.outcome = found, "updated"

    def after_create(self, objects: list[Any]) -> None:
        for account in objects:
            self.lookups.add_account(account.pk, account.name)


class ProductWriter(_FieldsWriter):
    kind = ImportKind.PRODUCTS
    model = Product
    texts = ("name", "model_number", "category")
    has_custom = False

    def fields_of(self, item: _Planned) -> dict[str, Any] | None:
        fields = self.text_fields(item, self.texts, Product)
        if fields is None:
            return None
        if not fields.get("name") and item.outcome == "imported":
            self.reject(item, "required", _REQUIRED_NAME, field="name")
            return None
        values = item.row.values
        if values.get("list_price") not in (None, ""):
            price = Decimal(str(values["list_price"]))
            if price < 0:
                self.reject(item, "negative", _NEGATIVE, field="list_price")
                return None
            fields["list_price"] = price.quantize(Decimal("0.01"))
        if values.get("aliases") not in (None, ""):
            aliases = values["aliases"]
            if isinstance(aliases, str):
                aliases = [a.strip() for a in aliases.replace(";", ",").split(",")]
            fields["aliases"] = [str(a).strip() for a in aliases if str(a).strip()]
        return fields

    def natural_match(self, items: list[_Planned]) -> None:
        for item in items:
            found = self.lookups.products_by_name.get(_loose(item.data["fields"].get("name", "")))
            if found is not None:
                item.object_id, item.outcome = found, "updated"

    def after_create(self, objects: list[Any]) -> None:
        for product in objects:
            self.lookups.add_product(product.pk, product.name, product.aliases)


class ContactWriter(_FieldsWriter):
    kind = ImportKind.CONTACTS
    model = Contact
    texts = ("name", "title", "phone", "email")

    def fields_of(self, item: _Planned) -> dict[str, Any] | None:
        fields = self.text_fields(item, self.texts, Contact)
        if fields is None:
            return None
        if not fields.get("name") and item.outcome == "imported":
            self.reject(item, "required", _REQUIRED_NAME, field="name")
            return None
        values = item.row.values
        if values.get("is_decision_maker") not in (None, ""):
            fields["is_decision_maker"] = bool(values["is_decision_maker"])
        role = _reference(item.row, "decision_role")
        if isinstance(role, int):
            fields["decision_role_id"] = role
        reference = _reference(item.row, "account")
        if reference not in (None, "") or item.outcome == "imported":
            account_id = self.lookups.account_id(reference)
            if account_id is None and isinstance(reference, str) and reference.strip():
                item.data["new_account"] = reference.strip()
            elif account_id is None:
                self.reject(item, "no_account", _NO_ACCOUNT, field="account")
                return None
            else:
                fields["account_id"] = account_id
        return fields

    def prepare(self, work: list[_Planned]) -> list[_Planned]:
        # Keys of accounts named by key in this chunk are read once.
        self.lookups.remember_keys(
            ImportKind.ACCOUNTS,
            [str(r) for r in (_reference(i.row, "account") for i in work) if isinstance(r, str)],
        )
        return super().prepare(work)

    def natural_match(self, items: list[_Planned]) -> None:
        wanted = {
            (item.data["fields"].get("account_id"), _loose(item.data["fields"]["name"]))
            for item in items
            if item.data["fields"].get("account_id")
        }
        if not wanted:
            return
        existing = {
            (account_id, _loose(name)): pk
            for pk, account_id, name in Contact.objects.filter(
                organization_id=self.organization_id,
                account_id__among=sorted({a for a, _n in wanted}),
            ).values_list("pk", "account_id", "name")
        }
        for item in items:
            found = existing.get(
                (item.data["fields"].get("account_id"), _loose(item.data["fields"]["name"]))
            )
            if found is not None:
                item.object_id, item.outcome = found, "updated"

    def apply(self, work: list[_Planned]) -> None:
        _create_named_accounts(self, work)
        super().apply(work)


def _create_named_accounts(writer: Writer, work: list[_Planned]) -> None:
    """Accounts the rows name but the organization lacks (a lead's company, a deal's account):
    created once per name, recorded as imported by this batch so undo removes them."""
    lookups = writer.lookups
    names: dict[str, tuple[str, int | None]] = {}
    for item in work:
        name = item.data.get("new_account")
        if name is None:
            continue
        found = lookups.accounts_by_name.get(_loose(name))
        if found is None:
            names.setdefault(_loose(name), (name[:200], item.data.get("owner_id")))
    if names:
        now, batch_id = db_time(writer.run.now), writer.run.batch.pk
        ids = insert_rows(
            Account,
            _ACCOUNT_COLUMNS,
            [
                (
                    writer.organization_id,
                    name,
                    "",
                    AccountTier.STANDARD,
                    "",
                    "0",
                    owner,
                    "",
                    _json({}),
                    now,
                    now,
                    search_key(name),
                )
                for name, owner in names.values()
            ],
            returning=True,
        )
        insert_rows(
            ImportedRecord,
            _RECORD_COLUMNS,
            [
                (
                    writer.organization_id,
                    ImportKind.ACCOUNTS,
                    stored_key(f"name:{loose}"),
                    pk,
                    "",
                    batch_id,
                    batch_id,
                    None,
                    _json([]),
                )
                for loose, pk in zip(names, ids, strict=True)
            ],
        )
        for (name, _owner), pk in zip(names.values(), ids, strict=True):
            lookups.add_account(pk, name)
        writer.run.count("accounts_created", len(ids))
    for item in work:
        name = item.data.pop("new_account", None)
        if name is not None:
            item.data["fields"]["account_id"] = lookups.accounts_by_name[_loose(name)]


# --- deals ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Move:
    from_stage: str
    to_stage: str
    at: dt.datetime
    key: str


class DealWriter(Writer):
    kind = ImportKind.DEALS
    model = Opportunity

    def prepare(self, work: list[_Planned]) -> list[_Planned]:
        self.lookups.remember_keys(
            ImportKind.ACCOUNTS,
            [str(r) for r in (_reference(i.row, "account") for i in work) if isinstance(r, str)],
        )
        kept = []
        for item in work:
            if self._prepare_one(item):
                kept.append(item)
        return kept

    def _prepare_one(self, item: _Planned) -> bool:  # noqa: C901 - one check per column, in order
        values, lookups = item.row.values, self.lookups
        fields = self.text_fields(item, ("name",), Opportunity)
        if fields is None:
            return False
        data = item.data
        # owner: a member by name, username or e-mail; else the batch's default owner
        owner_ref = _reference(item.row, "owner")
        owner_id = lookups.member_id(owner_ref) if owner_ref not in (None, "") else None
        if owner_id is None:
            # The check has warned about a name that is no member; the default owner takes it.
            owner_id = self.run.default_owner_id
        if owner_id is None:
            self.reject(item, "no_owner", _NO_OWNER, field="owner")
            return False
        data["owner_id"], data["team_id"] = owner_id, lookups.teams.get(owner_id)
        # account: by imported key or name; a name not yet known is created
        reference = _reference(item.row, "account")
        account_id = lookups.account_id(reference)
        if account_id is None:
            # A name not yet known is created; an empty one (warned by the check) files the
            # deal under the placeholder account, so no row is dropped for it.
            text = reference.strip() if isinstance(reference, str) else ""
            data["new_account"] = text or in_site_language(NO_ACCOUNT_GIVEN)
        data["fields"] = {**fields, "account_id": account_id}
        # product
        checked = item.row.references.get("product")
        if checked is not None:
            # A name the catalogue lacks was warned about by the check: no product then.
            data["fields"]["product_id"] = checked.id if isinstance(checked.id, int) else None
        elif values.get("product") not in (None, ""):
            data["fields"]["product_id"] = lookups.product_id(values["product"])
        # amounts and dates
        for name in ("amount",):
            if values.get(name) not in (None, ""):
                amount = Decimal(str(values[name]))
                if amount < 0:
                    self.reject(item, "negative", _NEGATIVE, field=name)
                    return False
                data["fields"][name] = amount.quantize(Decimal("0.01"))
        currency_text = values.get("currency") or self.run.options.get("currency")
        if currency_text not in (None, ""):
            currency = str(currency_text).strip().upper()
            if len(currency) != 3 or not currency.isalpha():
                self.reject(item, "currency", _CURRENCY, field="currency")
                return False
            data["fields"]["currency"] = currency
        if isinstance(values.get("expected_close_date"), dt.date):
            close = values["expected_close_date"]
            data["fields"]["expected_close_date"] = (
                close.date() if isinstance(close, dt.datetime) else close
            )
        if item.row.custom:
            data["custom"] = _custom(item.row.custom)
        return self._stages(item)

    def _stages(self, item: _Planned) -> bool:  # noqa: C901 - the steps of one history
        """The deal's stage, status, times and the moves its history holds."""
        values, lookups, data = item.row.values, self.lookups, item.data
        history = sorted(
            (
                (str(getattr(h, "stage", "")), lookups.aware(getattr(h, "at", None)), index)
                for index, h in enumerate(getattr(item.row, "history", None) or ())
            ),
            key=lambda entry: (entry[1] or self.run.now, entry[2]),
        )
        stage = str(values.get("stage") or "") or (history[-1][0] if history else "")
        stage = stage or lookups.first_stage
        for key in {stage, *(h[0] for h in history)}:
            if lookups.has_playbook and key not in lookups.stages:
                names = ", ".join(lookups.stages)
                self.reject(
                    item,
                    "unknown_stage",
                    Bilingual(
                        f"销售流程中没有阶段“{key}”;可用阶段:{names}。",
                        f"The playbook has no stage “{key}”; its stages: {names}.",
                    ),
                    field="stage",
                )
                return False
        for _stage, at, _index in history:
            if at is None or not datetime_is_supported(at) or at > self.run.now:
                self.reject(item, "history_time", _HISTORY_TIME, field="stage")
                return False
        created = lookups.aware(values.get("created_at"))
        closed = lookups.aware(values.get("closed_at"), end_of_day=False)
        first_time = history[0][1] if history else None
        created_at = created or first_time or closed or self.run.now
        if created_at > self.run.now:
            self.reject(item, "history_time", _HISTORY_TIME, field="created_at")
            return False
        # The opening stage: the first history entry when it is the deal's start, else the
        # playbook's first working stage (or the deal's stage when it has no history at all).
        moves: list[_Move] = []
        if history and history[0][1] is not None and history[0][1] <= created_at:
            current, rest = history[0][0], history[1:]
        elif history:
            current, rest = lookups.first_stage, history
        else:
            current, rest = stage, []
        opening, entered = current, created_at
        deal_key = _short_hash(item.key)
        for to_stage, at, _index in rest:
            assert at is not None
            if to_stage != current:
                moves.append(_Move(current, to_stage, at, _move_key(to_stage, at)))
                current, entered = to_stage, at
        terminal = lookups.stages[stage].terminal if stage in lookups.stages else None
        if stage != current:
            at = closed if (terminal and closed) else (moves[-1].at if moves else created_at)
            moves.append(_Move(current, stage, at, _move_key(stage, at)))
            current, entered = stage, at
        status = terminal or str(values.get("status") or "") or OpportunityStatus.OPEN
        if status not in OpportunityStatus.values:
            status = OpportunityStatus.OPEN
        closed_at = None
        if status != OpportunityStatus.OPEN:
            closed_at = closed or (moves[-1].at if moves else entered)
        data["deal_key"] = deal_key
        data["opening"] = opening
        data["moves"] = moves
        data["history_keys"] = [move.key for move in moves]
        data["fields"].update(
            stage_key=stage,
            stage_entered_at=entered,
            status=status,
            closed_at=closed_at,
            created_at=created_at,
        )
        if not data["fields"].get("name"):
            data["fields"]["name"] = self._name_for(item)
        return True

    def _name_for(self, item: _Planned) -> str:
        account_name = item.data.get("new_account") or self.lookups.account_names.get(
            item.data["fields"]["account_id"] or 0, ""
        )
        product = _reference(item.row, "product")
        product_name = (
            self.lookups.product_names.get(product, "") if isinstance(product, int) else product
        )
        parts = [str(account_name).strip(), str(product_name or "").strip()]
        return (" · ".join(part for part in parts if part) or str(item.row.key))[:200]

    def apply(self, work: list[_Planned]) -> None:
        for item in work:
            if item.data.get("new_account"):
                item.data["fields"]["account_id"] = None
        _create_named_accounts(self, work)
        new = [item for item in work if item.object_id is None]
        ops, now, keyed = connection.ops, db_time(self.run.now), self._keyed()
        rows = []
        for item in new:
            fields = item.data["fields"]
            amount = fields.get("amount", Decimal(0))
            rows.append(
                (
                    self.organization_id,
                    fields["name"],
                    fields["account_id"],
                    item.data["owner_id"],
                    item.data["team_id"],
                    fields.get("product_id"),
                    fields["stage_key"],
                    db_time(fields["stage_entered_at"]),
                    fields["status"],
                    ops.adapt_decimalfield_value(amount, 14, 2),
                    fields.get("currency", "CNY"),
                    ops.adapt_datefield_value(fields.get("expected_close_date")),
                    _json(item.data.get("custom", {})),
                    str(item.row.key)[:100] if keyed else "",
                    db_time(fields["created_at"]),
                    now,
                    db_time(fields["closed_at"]),
                    search_key(fields["name"]),
                )
            )
        for item, pk in zip(
            new, insert_rows(Opportunity, _DEAL_COLUMNS, rows, returning=True), strict=True
        ):
            item.object_id = pk
            self.run.deal_ids.add(pk)
        self.create_records(new)
        fresh = {id(item) for item in new}
        changed = [item for item in work if id(item) not in fresh]
        if changed:
            self._updates(changed)
        self._log_moves(new, keep_ids=False)
        if changed:
            self._remember_transitions(changed, self._log_moves(changed, keep_ids=True))

    def _keyed(self) -> bool:
        return bool(self.run.batch.mapping.get("key_column"))

    def _updates(self, items: list[_Planned]) -> None:
        by_id = Opportunity.objects.in_bulk([item.object_id for item in items])
        previous: dict[str, dict[str, Any]] = {}
        names: set[str] = set()
        objects = []
        for item in items:
            deal = by_id[item.object_id]
            self.run.deal_ids.add(deal.pk)
            known = set(item.record.history if item.record else [])
            # Moves logged by an earlier import stay; only those the file adds are appended,
            # starting where the deal stands now.
            current, moves = deal.stage_key, []
            for move in item.data["moves"]:
                if move.key not in known and move.to_stage != current:
                    moves.append(_Move(current, move.to_stage, move.at, move.key))
                    current = move.to_stage
            item.data["moves"] = moves
            item.data["history_keys"] = sorted(known | {move.key for move in moves})
            wanted = dict(item.data["fields"])
            wanted.pop("created_at", None)
            wanted["owner_id"], wanted["team_id"] = item.data["owner_id"], item.data["team_id"]
            before: dict[str, Any] = {}
            for name, value in wanted.items():
                old = getattr(deal, name)
                if old != value:
                    before[name] = _stored_value(old)
                    setattr(deal, name, value)
                    names.add(name)
            if item.data.get("custom"):
                merged = {**deal.custom_fields, **item.data["custom"]}
                if merged != deal.custom_fields:
                    before["custom_fields"] = deal.custom_fields
                    deal.custom_fields = merged
                    names.add("custom_fields")
            previous[item.key] = {"values": before}
            objects.append(deal)
        if names:
            Opportunity.objects.bulk_update(objects, sorted(names), batch_size=500)
        self.update_records(items, previous)

    def _log_moves(self, items: list[_Planned], *, keep_ids: bool) -> dict[str, list[int]]:
        """Each move as a stage transition and a `stage.changed` event at its own time.

        New deals' transitions go in as plain rows (they leave with their deal on undo); those
        added to deals imported before are created as objects, so their ids are kept for undo.
        """
        rows, objects, owners, events = [], [], [], []
        prefix = batch_prefix(self.run.batch.pk)
        stages = self.lookups.stages
        for item in items:
            for move in item.data["moves"]:
                direction = move_direction(stages, move.from_stage, move.to_stage)
                if keep_ids:
                    objects.append(
                        StageTransition(
                            organization_id=self.organization_id,
                            opportunity_id=item.object_id or 0,
                            from_stage=move.from_stage,
                            to_stage=move.to_stage,
                            direction=direction,
                            occurred_at=move.at,
                            actor_id=item.data["owner_id"],
                        )
                    )
                    owners.append(item.key)
                else:
                    rows.append(
                        (
                            self.organization_id,
                            item.object_id,
                            move.from_stage,
                            move.to_stage,
                            direction,
                            db_time(move.at),
                            item.data["owner_id"],
                            "[]",
                        )
                    )
                events.append(
                    PastEvent(
                        type="stage.changed",
                        source=IMPORT_SOURCE,
                        external_id=f"{prefix}{item.data['deal_key']}:{move.key}",
                        occurred_at=move.at,
                        opportunity_id=item.object_id,
                        actor_id=item.data["owner_id"],
                        payload={
                            "from": move.from_stage,
                            "to": move.to_stage,
                            "direction": direction,
                            "kind": move_kind(stages, move.from_stage, move.to_stage, direction),
                        },
                    )
                )
        with connection.cursor() as cursor:
            for sql, params in insert_statements(StageTransition, _TRANSITION_COLUMNS, rows):
                cursor.execute(sql, params)
        StageTransition.objects.bulk_create(objects, batch_size=500)
        added: dict[str, list[int]] = defaultdict(list)
        for key, transition in zip(owners, objects, strict=True):
            added[key].append(transition.pk)
        _append(self, events)
        return added

    def _remember_transitions(self, items: list[_Planned], added: Mapping[str, list[int]]) -> None:
        records = []
        for item in items:
            record = item.record
            ids = added.get(item.key)
            if record is None or not ids:
                continue
            record.previous = {**(record.previous or {}), "transitions": ids}
            records.append(record)
        ImportedRecord.objects.bulk_update(records, ["previous"], batch_size=500)


def move_direction(stages: Mapping[str, Any], from_stage: str, to_stage: str) -> str:
    """Forward into a later or a terminal stage; backward into an earlier one or out of a
    terminal one (a reopening)."""
    to_info, from_info = stages.get(to_stage), stages.get(from_stage)
    if to_info is None or from_info is None or to_info.terminal:
        return Direction.FORWARD
    if from_info.terminal:
        return Direction.BACKWARD
    return Direction.FORWARD if to_info.order > from_info.order else Direction.BACKWARD


def move_kind(stages: Mapping[str, Any], from_stage: str, to_stage: str, direction: str) -> str:
    """The kind of move as the stage service names it (`TransitionKind`)."""
    info, source = stages.get(to_stage), stages.get(from_stage)
    if info is not None and info.terminal:
        return str(info.terminal)
    if source is not None and source.terminal:
        return "reopen"
    return "advance" if direction == Direction.FORWARD else "regression"


_ACCOUNT_COLUMNS = (
    "organization_id",
    "name",
    "industry",
    "tier",
    "region",
    "repurchase_rate",
    "owner_id",
    "external_ref",
    "custom_fields",
    "created_at",
    "updated_at",
    "search_key",
)
_DEAL_COLUMNS = (
    "organization_id",
    "name",
    "account_id",
    "owner_id",
    "team_id",
    "product_id",
    "stage_key",
    "stage_entered_at",
    "status",
    "amount",
    "currency",
    "expected_close_date",
    "custom_fields",
    "external_ref",
    "created_at",
    "updated_at",
    "closed_at",
    "search_key",
)
_TRANSITION_COLUMNS = (
    "organization_id",
    "opportunity_id",
    "from_stage",
    "to_stage",
    "direction",
    "occurred_at",
    "actor_id",
    "gate_snapshot",
)


def _move_key(stage: str, at: dt.datetime) -> str:
    return _short_hash(f"{stage}|{at.astimezone(dt.UTC).isoformat()}", 6)


# --- history and activities: rows that become events -----------------------------------------


class StageHistoryWriter(Writer):
    """Rows of a separate history file (Salesforce's OpportunityHistory): each a move of a deal
    named by its imported key, logged at its time. A row whose stage equals the one before it
    (an amount or date change in the same stage) moves nothing and is counted as skipped."""

    kind = ImportKind.STAGE_HISTORY
    model = StageTransition

    def prepare(self, work: list[_Planned]) -> list[_Planned]:
        deals = self.lookups.remember_keys(
            ImportKind.DEALS, [str(_reference(i.row, "deal") or "") for i in work]
        )
        kept = []
        for item in work:
            if item.outcome == "updated":
                self.warn(item, "history_kept", _HISTORY_KEPT)
                self.run.count("unchanged")
                continue
            deal_id = _deal_id(_reference(item.row, "deal"), deals)
            if deal_id is None:
                self.reject(item, "unknown_deal", _UNKNOWN_DEAL, field="deal")
                continue
            at = self.lookups.aware(item.row.values.get("changed_at"))
            stage = str(item.row.values.get("stage") or "")
            if at is None or not datetime_is_supported(at) or at > self.run.now:
                self.reject(item, "history_time", _HISTORY_TIME, field="changed_at")
                continue
            if self.lookups.has_playbook and stage not in self.lookups.stages:
                self.reject(
                    item, "unknown_stage", _unknown_stage(stage, self.lookups), field="stage"
                )
                continue
            item.data.update(
                deal_id=deal_id,
                at=at,
                stage=stage,
                from_stage=str(item.row.values.get("from_stage") or ""),
            )
            kept.append(item)
        return kept

    def apply(self, work: list[_Planned]) -> None:
        deal_ids = sorted({item.data["deal_id"] for item in work})
        deals = {
            pk: (owner_id, stage_key)
            for pk, owner_id, stage_key in Opportunity.objects.filter(
                organization_id=self.organization_id, pk__among=deal_ids
            ).values_list("pk", "owner_id", "stage_key")
        }
        # Where each deal stood before each new move: its last logged move before that time.
        last: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
        for opportunity_id, at, to_stage in StageTransition.objects.filter(
            organization_id=self.organization_id, opportunity_id__among=deal_ids
        ).values_list("opportunity_id", "occurred_at", "to_stage"):
            last[opportunity_id].append((at, to_stage))
        transitions, events, moved = [], [], []
        prefix = batch_prefix(self.run.batch.pk)
        for item in sorted(work, key=lambda i: (i.data["deal_id"], i.data["at"])):
            deal_id, at, stage = item.data["deal_id"], item.data["at"], item.data["stage"]
            owner_id = deals[deal_id][0]
            earlier = [entry for entry in last[deal_id] if entry[0] <= at]
            from_stage = item.data["from_stage"] or (
                max(earlier)[1] if earlier else self.lookups.first_stage
            )
            if from_stage == stage:
                self.warn(item, "no_move", _NO_MOVE, field="stage")
                item.outcome = "skipped"
                continue
            last[deal_id].append((at, stage))
            direction = move_direction(self.lookups.stages, from_stage, stage)
            transitions.append(
                StageTransition(
                    organization_id=self.organization_id,
                    opportunity_id=deal_id,
                    from_stage=from_stage,
                    to_stage=stage,
                    direction=direction,
                    occurred_at=at,
                    actor_id=owner_id,
                )
            )
            events.append(
                PastEvent(
                    type="stage.changed",
                    source=IMPORT_SOURCE,
                    external_id=f"{prefix}h:{_short_hash(item.key)}",
                    occurred_at=at,
                    opportunity_id=deal_id,
                    actor_id=owner_id,
                    payload={
                        "from": from_stage,
                        "to": stage,
                        "direction": direction,
                        "kind": move_kind(self.lookups.stages, from_stage, stage, direction),
                    },
                )
            )
            moved.append(item)
            self.run.deal_ids.add(deal_id)
        StageTransition.objects.bulk_create(transitions, batch_size=500)
        for item, transition in zip(moved, transitions, strict=True):
            item.object_id = transition.pk
        _append(self, events)
        self.create_records(moved)


class ActivityWriter(Writer):
    """Activity rows (calls, meetings, e-mails …): each an event of its type at its time, on a
    deal (by imported key) or an account (by key or name), with the contact when named."""

    kind = ImportKind.ACTIVITIES
    model = Opportunity  # records point at events; `_alive` is answered by `_alive` below

    def _alive(self, ids: set[int]) -> set[int]:
        from lodestar.events.models import Event

        if not ids:
            return set()
        return set(
            Event.objects.filter(
                organization_id=self.organization_id, pk__among=sorted(ids)
            ).values_list("pk", flat=True)
        )

    def prepare(self, work: list[_Planned]) -> list[_Planned]:
        lookups = self.lookups
        deals = lookups.remember_keys(
            ImportKind.DEALS, [str(_reference(i.row, "deal") or "") for i in work]
        )
        lookups.remember_keys(
            ImportKind.ACCOUNTS,
            [str(r) for r in (_reference(i.row, "account") for i in work) if isinstance(r, str)],
        )
        catalogue = lookups.catalogue
        kept = []
        for item in work:
            values = item.row.values
            if item.outcome == "updated":
                self.warn(item, "history_kept", _HISTORY_KEPT)
                self.run.count("unchanged")
                continue
            kind = str(values.get("type") or "").strip()
            if catalogue is not None and kind not in catalogue:
                known = ", ".join(sorted(catalogue.types))
                self.reject(
                    item,
                    "unknown_type",
                    Bilingual(
                        f"未知的活动类型“{kind}”;可用类型:{known}。",
                        f"Unknown activity type “{kind}”; known types: {known}.",
                    ),
                    field="type",
                )
                continue
            at = lookups.aware(values.get("occurred_at"))
            if at is None or not datetime_is_supported(at) or at > self.run.now:
                self.reject(item, "history_time", _HISTORY_TIME, field="occurred_at")
                continue
            deal_ref = _reference(item.row, "deal")
            deal_id = _deal_id(deal_ref, deals)
            if deal_ref not in (None, "") and deal_id is None:
                self.reject(item, "unknown_deal", _UNKNOWN_DEAL, field="deal")
                continue
            account_id = lookups.account_id(_reference(item.row, "account"))
            if deal_id is None and account_id is None:
                self.reject(item, "no_account", _NO_ACCOUNT, field="account")
                continue
            owner = _reference(item.row, "owner")
            contact = _reference(item.row, "contact")
            item.data.update(
                type=kind,
                at=at,
                deal_id=deal_id,
                account_id=account_id if deal_id is None else None,
                contact_id=contact if isinstance(contact, int) else None,
                actor_id=lookups.member_id(owner) if owner not in (None, "") else None,
                payload=_activity_payload(kind, values),
            )
            kept.append(item)
        return kept

    def apply(self, work: list[_Planned]) -> None:
        from lodestar.events.models import Event

        prefix = batch_prefix(self.run.batch.pk)
        events = []
        for item in work:
            data = item.data
            data["external_id"] = f"{prefix}a:{_short_hash(item.key)}"
            events.append(
                PastEvent(
                    type=data["type"],
                    source=IMPORT_SOURCE,
                    external_id=data["external_id"],
                    occurred_at=data["at"],
                    opportunity_id=data["deal_id"],
                    account_id=data["account_id"],
                    contact_id=data["contact_id"],
                    actor_id=data["actor_id"],
                    payload=data["payload"],
                )
            )
            if data["deal_id"]:
                self.run.deal_ids.add(data["deal_id"])
        _append(self, events)
        ids = dict(
            Event.objects.filter(
                organization_id=self.organization_id,
                source=IMPORT_SOURCE,
                external_id__among=[item.data["external_id"] for item in work] or [""],
            ).values_list("external_id", "pk")
        )
        for item in work:
            item.object_id = ids[item.data["external_id"]]
        self.create_records(work)


def _activity_payload(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The activity's words where its event type keeps them (a call's summary, a meeting's
    topic, an e-mail's subject, a message's text) and its length in minutes."""
    summary = str(values.get("summary") or "").strip()
    payload: dict[str, Any] = {}
    if summary:
        word = {"meeting.held": "topic", "email.sent": "subject", "email.received": "subject"}
        payload[word.get(kind, "summary")] = summary
        payload["text"] = summary
    minutes = values.get("minutes")
    if minutes not in (None, ""):
        payload["minutes"] = _jsonable(minutes)
    return payload


def _append(writer: Writer, events: list[PastEvent]) -> None:
    report = events_append_past(
        organization_id=writer.organization_id,
        items=events,
        now=writer.run.now,
        catalogue=writer.lookups.catalogue,
    )
    if report.rejected:
        index, details = report.rejected[0]
        raise ValueError(
            f"event {events[index].external_id} refused by the log: "
            + "; ".join(f"{d.field}: {d.message}" for d in details)
        )
    writer.run.count("events", report.written)


# --- helpers ---------------------------------------------------------------------------------


def _loose(name: str) -> str:
    from lodestar.core.imports.values import loose_name

    return loose_name(name)


def _reference(row: Any, name: str) -> Any:
    """What a row names for `name` (account, product, owner, deal): the checked reference when
    the row carries one, else the mapped value."""
    references = getattr(row, "references", None) or {}
    reference = references.get(name)
    if reference is not None and hasattr(reference, "value"):
        found = getattr(reference, "id", None)
        return found if found is not None else reference.value
    if reference not in (None, ""):
        return reference
    return row.values.get(name)


def _deal_id(reference: Any, deals: Mapping[str, int]) -> int | None:
    if isinstance(reference, int):
        return reference
    if reference in (None, ""):
        return None
    return deals.get(str(reference))


def _unknown_stage(stage: str, lookups: Lookups) -> Bilingual:
    names = ", ".join(lookups.stages)
    return Bilingual(
        f"销售流程中没有阶段“{stage}”;可用阶段:{names}。",
        f"The playbook has no stage “{stage}”; its stages: {names}.",
    )


# The account of deals whose file leaves it empty (stored once, in the site's language).
NO_ACCOUNT_GIVEN = Bilingual("未填写客户", "No account given")
_REQUIRED_NAME = Bilingual("名称为空。", "The name is empty.")
_NEGATIVE = Bilingual("不能为负数。", "Must not be negative.")
_CURRENCY = Bilingual(
    "币种应为三个字母的 ISO 4217 代码,如 CNY。", "Use a three-letter ISO 4217 code such as CNY."
)
_NO_ACCOUNT = Bilingual(
    "没有客户:填写客户名称或其键。", "No account: give the account's name or key."
)
_NO_OWNER = Bilingual(
    "没有负责人:填写成员姓名,或选择默认负责人。",
    "No owner: give a member's name, or choose a default owner.",
)
_UNKNOWN_DEAL = Bilingual(
    "找不到这个键的商机;先导入商机文件。",
    "No imported deal has this key; import the deals file first.",
)
_HISTORY_TIME = Bilingual(
    "时间缺失、超出范围或晚于现在;历史只能记录过去。",
    "The time is missing, out of range or later than now; history records the past only.",
)
_NO_MOVE = Bilingual(
    "与此前的阶段相同(只改了金额或日期),未记录阶段变更。",
    "Same stage as before (only the amount or a date changed); no stage move was logged.",
)
_HISTORY_KEPT = Bilingual(
    "此行以前已导入,日志保留当时的记录;修改过的值未应用。",
    "This row was imported before and the log keeps it as it was; its changed values were "
    "not applied.",
)


WRITERS: dict[str, type[Writer]] = {
    ImportKind.ACCOUNTS: AccountWriter,
    ImportKind.CONTACTS: ContactWriter,
    ImportKind.PRODUCTS: ProductWriter,
    ImportKind.DEALS: DealWriter,
    ImportKind.STAGE_HISTORY: StageHistoryWriter,
    ImportKind.ACTIVITIES: ActivityWriter,
}


def writer_for(run: Run) -> Writer:
    return WRITERS[run.batch.kind](run)
