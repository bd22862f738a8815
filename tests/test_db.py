"""The shared insert helper: primary keys at once, or a quiet skip of what a racer wrote."""

from __future__ import annotations

import datetime as dt

import pytest
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


def test_among_matches_what_in_matches_for_ids_and_for_strings(cast: Cast) -> None:
    rows = _events(cast, "a", "b", "c", "d")
    bulk_insert_new(rows)
    wanted = [rows[0].pk, rows[2].pk, 10**9]

    by_id = Event.objects.filter(pk__among=wanted).order_by("pk")
    by_text = Event.objects.filter(external_id__among=["b", "d", "zz"]).order_by("pk")

    assert list(by_id) == list(Event.objects.filter(pk__in=wanted).order_by("pk"))
    assert [e.external_id for e in by_id] == ["a", "c"]
    assert [e.external_id for e in by_text] == ["b", "d"]


def test_among_an_empty_list_matches_nothing_and_related_ids_work(cast: Cast) -> None:
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner)
    (row,) = _events(cast, "a")
    row.opportunity = deal
    row.save()

    assert list(Event.objects.filter(pk__among=[])) == []
    assert list(Event.objects.filter(opportunity_id__among=[deal.pk])) == [row]
    assert list(Event.objects.filter(opportunity__among=[deal.pk])) == [row]


@pytest.mark.parametrize("value", [None, 1.5, True, NOW])
def test_among_refuses_values_other_than_ints_and_strings(cast: Cast, value: object) -> None:
    with pytest.raises(TypeError, match="__among takes ints or strings"):
        Event.objects.filter(pk__among=[1, value])
