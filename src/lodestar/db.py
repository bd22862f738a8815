"""Small database helpers the apps share."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, models, transaction

__all__ = ["bulk_insert_new"]


def bulk_insert_new(rows: Sequence[models.Model], *, batch_size: int = 500) -> bool:
    """Insert `rows` (all of one model) and say whether every one of them went in.

    The usual case — nobody wrote the same unique key meanwhile — is one INSERT per batch whose
    RETURNING sets each row's primary key, so the caller need not read the rows back. When a
    concurrent writer got some keys first, the insert is retried skipping those (`ON CONFLICT
    DO NOTHING`) and False is returned: the primary keys are then unknown, and the caller reads
    back what it needs.
    """
    if not rows:
        return True
    manager = type(rows[0])._default_manager
    try:
        with transaction.atomic():
            manager.bulk_create(rows, batch_size=batch_size)
        return True
    except IntegrityError:
        for row in rows:  # keys of batches that went in before the conflict were rolled back
            row.pk = None
            row._state.adding = True
        manager.bulk_create(rows, ignore_conflicts=True, batch_size=batch_size)
        return False
