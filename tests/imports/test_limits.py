"""Files over the limits are refused with the reason before anything is stored or written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lodestar.errors import ValidationFailed
from lodestar.imports.models import ImportBatch
from tests.conftest import Cast
from tests.imports.helpers import upload


def _nothing_written(settings: Any) -> bool:
    media = Path(settings.MEDIA_ROOT)
    return not ImportBatch.objects.exists() and not (media.exists() and any(media.rglob("*.*")))


def test_a_file_over_the_size_limit_is_refused_before_anything_is_written(
    cast: Cast, settings: Any
) -> None:
    settings.LODESTAR_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationFailed) as refused:
        upload(cast.ops, "accounts", "客户名称\n" + "华东机械\n" * 50)
    assert refused.value.details[0].field == "file"
    assert _nothing_written(settings)


def test_a_file_with_too_many_columns_is_refused(cast: Cast, settings: Any) -> None:
    settings.LODESTAR_IMPORT_MAX_COLUMNS = 3
    with pytest.raises(ValidationFailed):
        upload(cast.ops, "accounts", "a,b,c,d\n1,2,3,4\n")
    assert _nothing_written(settings)


def test_a_file_with_too_many_rows_is_refused(cast: Cast, settings: Any) -> None:
    settings.LODESTAR_IMPORT_MAX_ROWS = 2
    with pytest.raises(ValidationFailed):
        upload(cast.ops, "accounts", "客户名称\nA\nB\nC\n")
    assert _nothing_written(settings)


def test_an_empty_file_is_refused(cast: Cast, settings: Any) -> None:
    with pytest.raises(ValidationFailed):
        upload(cast.ops, "accounts", b"")
    assert _nothing_written(settings)


def test_a_limit_that_is_not_a_positive_number_is_refused_loudly(cast: Cast, settings: Any) -> None:
    settings.LODESTAR_IMPORT_MAX_ROWS = 0
    with pytest.raises(ValueError, match="LODESTAR_IMPORT_MAX_ROWS"):
        upload(cast.ops, "accounts", "客户名称\nA\n")
