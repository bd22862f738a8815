"""Where the public data sets are: `shared/data/public` beside the checkout (`../shared`), or
wherever `LODESTAR_PUBLIC_DATA` points (a checkout placed elsewhere, e.g. a CI work folder)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PUBLIC"]


def _public() -> Path:
    named = os.environ.get("LODESTAR_PUBLIC_DATA")
    if named:
        return Path(named)
    checkout = Path(__file__).resolve().parents[1]
    for folder in checkout.parents:
        candidate = folder / "shared" / "data" / "public"
        if candidate.is_dir():
            return candidate
    return checkout.parent / "shared" / "data" / "public"


PUBLIC = _public()
