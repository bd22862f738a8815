"""Only sales ops and administrators import, each within their own organization."""

from __future__ import annotations

import pytest

from lodestar.errors import NotFound, PermissionDenied
from lodestar.imports.selectors import import_batch, import_batches
from lodestar.imports.services import import_run_now, import_undo
from tests.conftest import Cast
from tests.imports.helpers import upload

CSV = "客户名称\n华东机械\n"


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_reps_and_managers_may_not_upload(cast: Cast, who: str) -> None:
    with pytest.raises(PermissionDenied):
        upload(getattr(cast, who), "accounts", CSV)


@pytest.mark.parametrize("who", ["ops", "admin"])
def test_ops_and_admins_may_import(cast: Cast, who: str) -> None:
    user = getattr(cast, who)
    batch = import_run_now(user=user, batch=upload(user, "accounts", CSV), dry_run=False)
    assert batch.status == "done"


def test_a_rep_may_not_list_imports(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        import_batches(user=cast.owner)


def test_an_outsider_does_not_find_another_organizations_batch(cast: Cast) -> None:
    batch = upload(cast.ops, "accounts", CSV)
    with pytest.raises(NotFound):
        import_batch(user=cast.outsider, batch_id=batch.pk)


def test_an_outsider_may_not_run_another_organizations_batch(cast: Cast) -> None:
    batch = upload(cast.ops, "accounts", CSV)
    with pytest.raises(NotFound):
        import_run_now(user=cast.outsider, batch=batch, dry_run=False)


def test_an_outsider_may_not_undo_another_organizations_batch(cast: Cast) -> None:
    batch = import_run_now(user=cast.ops, batch=upload(cast.ops, "accounts", CSV), dry_run=False)
    with pytest.raises(NotFound):
        import_undo(user=cast.outsider, batch=batch)
