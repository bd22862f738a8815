from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    # Uploaded files are stored privately under MEDIA_ROOT; each test gets its own folder.
    settings.MEDIA_ROOT = tmp_path / "media"
