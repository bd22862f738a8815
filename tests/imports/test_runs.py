"""Runs in chunks: progress, cancelling between chunks, a failure rolls back its chunk only,
and the worker task."""

from __future__ import annotations

from typing import Any

import pytest

from lodestar.crm.models import Account, Opportunity
from lodestar.events.models import Event
from lodestar.imports import running, writers
from lodestar.imports.services import import_cancel, import_run_now, import_start, import_undo
from tests.conftest import Cast
from tests.imports.helpers import DEALS_CSV, deals_mapping, upload

ACCOUNTS = "客户名称\n" + "".join(f"客户{i}\n" for i in range(7))


def test_progress_is_reported_after_each_chunk(cast: Cast, monkeypatch: Any) -> None:
    monkeypatch.setattr(running, "CHUNK", 3)
    seen: list[tuple[int, int]] = []
    batch = upload(cast.ops, "accounts", ACCOUNTS)
    done = import_run_now(
        user=cast.ops, batch=batch, dry_run=False, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(3, 7), (6, 7), (7, 7)]
    assert (done.progress_done, done.progress_total) == (7, 7)


def test_a_cancel_stops_the_run_between_chunks(cast: Cast, monkeypatch: Any) -> None:
    monkeypatch.setattr(running, "CHUNK", 3)
    batch = upload(cast.ops, "accounts", ACCOUNTS)

    def cancel_after_first(done: int, total: int) -> None:
        if done == 3:
            import_cancel(user=cast.ops, batch=batch)

    result = import_run_now(user=cast.ops, batch=batch, dry_run=False, progress=cancel_after_first)
    assert result.status == "cancelled"
    assert Account.objects.filter(organization=cast.org).count() == 3


def test_a_failing_chunk_is_rolled_back_whole_and_the_batch_says_why(
    cast: Cast, published: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(running, "CHUNK", 2)
    calls = {"n": 0}
    real = writers.events_append_past

    def fail_second(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(writers, "events_append_past", fail_second)
    batch = upload(cast.ops, "deals", DEALS_CSV)
    from lodestar.imports.services import import_set_mapping

    batch = import_set_mapping(user=cast.ops, batch=batch, mapping=deals_mapping())
    result = import_run_now(user=cast.ops, batch=batch, dry_run=False)
    assert result.status == "failed"
    assert "disk full" in result.error
    # The first chunk (two deals with their moves) stayed; the failed chunk left no deal
    # without its events.
    assert Opportunity.objects.filter(organization=cast.org).count() == 2
    assert result.progress_done == 2


def test_undo_removes_what_the_chunks_before_a_failure_wrote(
    cast: Cast, published: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(running, "CHUNK", 2)
    real = writers.events_append_past
    calls = {"n": 0}

    def fail_second(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(writers, "events_append_past", fail_second)
    from lodestar.imports.services import import_set_mapping

    batch = import_set_mapping(
        user=cast.ops, batch=upload(cast.ops, "deals", DEALS_CSV), mapping=deals_mapping()
    )
    failed = import_run_now(user=cast.ops, batch=batch, dry_run=False)
    import_undo(user=cast.ops, batch=failed)
    assert not Opportunity.objects.filter(organization=cast.org).exists()
    assert not Event.objects.filter(organization=cast.org).exists()


def test_a_second_start_is_refused_while_the_first_runs(cast: Cast) -> None:
    from lodestar.errors import Conflict
    from lodestar.imports.models import ImportBatch

    batch = upload(cast.ops, "accounts", ACCOUNTS)
    ImportBatch.objects.filter(pk=batch.pk).update(status="importing")
    batch.refresh_from_db()
    with pytest.raises(Conflict):
        import_run_now(user=cast.ops, batch=batch, dry_run=False)


def test_the_worker_task_runs_a_started_import(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    # Huey is immediate in tests: the task runs when the start commits.
    batch = upload(cast.ops, "accounts", ACCOUNTS)
    with django_capture_on_commit_callbacks(execute=True):
        import_start(user=cast.ops, batch=batch, dry_run=False)
    batch.refresh_from_db()
    assert batch.status == "done"
    assert Account.objects.filter(organization=cast.org).count() == 7


def test_a_started_dry_run_ends_checked(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    batch = upload(cast.ops, "accounts", ACCOUNTS)
    with django_capture_on_commit_callbacks(execute=True):
        import_start(user=cast.ops, batch=batch, dry_run=True)
    batch.refresh_from_db()
    assert batch.status == "checked"
    assert not Account.objects.filter(organization=cast.org).exists()
