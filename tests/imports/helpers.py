"""Shared steps of the import tests: a CSV in, a mapping set, a run in this process."""

from __future__ import annotations

from typing import Any

from lodestar.imports.models import ImportBatch
from lodestar.imports.services import import_run_now, import_set_mapping, import_upload
from lodestar.org.models import User

DEALS_CSV = (
    "id,name,account,owner,stage,amount,created,demo_at,closed,预算\n"
    "D1,压缩机改造,华东机械,owner,won,120000,2025-01-05,2025-02-01,2025-03-10,50\n"
    "D2,产线升级,华东机械,teammate,demo,80000,2025-02-01,2025-02-20,,30\n"
    "D3,备件年单,南方电气,Nobody Known,first_contact,5000,2025-03-01,,,\n"
)


def deals_mapping(**options: Any) -> dict[str, Any]:
    return {
        "columns": [
            {"column": "id", "target": "external_ref"},
            {"column": "name", "target": "name"},
            {"column": "account", "target": "account"},
            {"column": "owner", "target": "owner"},
            {"column": "stage", "target": "stage"},
            {"column": "amount", "target": "amount"},
            {"column": "created", "target": "created_at"},
            {"column": "demo_at", "target": "stage_at:demo"},
            {"column": "closed", "target": "closed_at"},
            {
                "column": "预算",
                "target": "custom:budget_wan",
                "custom": {
                    "key": "budget_wan",
                    "label": {"zh": "预算(万)", "en": "Budget (10k)"},
                    "type": "number",
                    "choices": [],
                },
            },
        ],
        "key_column": "id",
        "value_maps": {},
        "options": {"default_owner": "ops", **options},
    }


def upload(user: User, kind: str, text: str | bytes, name: str = "file.csv") -> ImportBatch:
    data = text.encode() if isinstance(text, str) else text
    return import_upload(user=user, kind=kind, file=data, filename=name)


def imported(
    user: User,
    kind: str,
    text: str | bytes,
    mapping: dict[str, Any] | None = None,
    *,
    dry_run: bool = False,
    name: str = "file.csv",
) -> ImportBatch:
    batch = upload(user, kind, text, name)
    if mapping is not None:
        batch = import_set_mapping(user=user, batch=batch, mapping=mapping)
    return import_run_now(user=user, batch=batch, dry_run=dry_run)
