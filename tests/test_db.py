"""The shared insert helper: primary keys at once, or a quiet skip of what a racer wrote."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from lodestar.db import bulk_insert_new
from lodestar.events.models import Event
from tests.conftest import Cast

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _events(cast: Cast, *external_ids: str) -> list[Event]:
    return [
        Event(
            organization=cast.org,
            type="call",
            source="crm",
            external_id=external_id,
            occurred_at=NOW,
            recorded_at=NOW,
        )
        for external_id in external_ids
    ]


def test_it_inserts_new_rows_and_sets_their_primary_keys(cast: Cast) -> None:
    rows = _events(cast, "a", "b")

    assert bulk_insert_new(rows) is True

    assert [row.pk for row in rows] == list(
        Event.objects.filter(external_id__in=["a", "b"])
        .order_by("external_id")
        .values_list("pk", flat=True)
    )


def test_it_skips_rows_a_concurrent_writer_made_first_and_keeps_the_transaction_usable(
    cast: Cast,
) -> None:
    (raced,) = _events(cast, "b")
    raced.save()
    rows = _events(cast, "a", "b", "c")

    assert bulk_insert_new(rows) is False

    assert sorted(Event.objects.values_list("external_id", flat=True)) == ["a", "b", "c"]
    assert Event.objects.get(external_id="b").pk == raced.pk
    assert not connection.needs_rollback


def test_insert_statements_write_every_row_with_its_values_and_return_what_the_tail_asks(
    cast: Cast,
) -> None:
    from django.db import connection

    from lodestar.db import insert_statements

    ops = connection.ops
    rows = [
        (
            cast.org.pk,
            "chat.message",
            "wecom",
            f"m{i}",
            ops.adapt_datetimefield_value(NOW),
            ops.adapt_datetimefield_value(NOW),
            True,
            ops.adapt_json_value({"text": f"王总 {i}"}, None),
        )
        for i in range(3)
    ]
    columns = (
        "organization_id",
        "type",
        "source",
        "external_id",
        "occurred_at",
        "recorded_at",
        "with_customer",
        "payload",
    )
    returned = []
    with connection.cursor() as cursor:
        for sql, params in insert_statements(
            Event, columns, rows, tail="RETURNING external_id", rows_per_statement=2
        ):
            cursor.execute(sql, params)
            returned += [external_id for (external_id,) in cursor.fetchall()]

    assert sorted(returned) == ["m0", "m1", "m2"]
    stored = Event.objects.filter(source="wecom").order_by("external_id")
    assert [(e.external_id, e.occurred_at, e.with_customer, e.payload) for e in stored] == [
        (f"m{i}", NOW, True, {"text": f"王总 {i}"}) for i in range(3)
    ]
