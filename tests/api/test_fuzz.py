"""Every operation of the OpenAPI document, fuzzed in-process by schemathesis with all its checks.

Schemathesis reads the document the API publishes and sends, per operation, the explicit
examples, the boundary values of every parameter (its coverage phase: huge and negative ids,
dates at the edges, empty and over-long text...) and hypothesis-generated requests, valid and
invalid — NUL characters, odd Unicode, wrong types. Every answer must be no server error, carry a
documented status, content type and headers, match its documented schema, and a request the
document refuses must be refused (and one it allows must not be answered 400).

The examples are derandomized, so a run is reproducible; each one runs in a savepoint rolled
back afterwards, so every request meets the same data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from lodestar.api.router import api
from tests.conftest import Cast

schema = schemathesis.openapi.from_dict(
    api.get_openapi_schema(),
    config=SchemathesisConfig.from_dict(
        {
            "checks": {
                # A request the document allows may still break a rule no schema can state —
                # an id that names no visible row, a stage the playbook lacks, a period longer
                # than five years — and is then refused with 422, never with 400 or a 5xx.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                }
            }
        }
    ),
)
schema.app = WSGIHandler()


@pytest.fixture
def fuzz_headers(cast: Cast, published: Any) -> Iterator[dict[str, str]]:
    """An admin's token (every operation is open to them) over an organization with a published
    playbook, an account with a contact, a product and a deal."""
    from lodestar.ops.health import worker_heartbeat_record
    from lodestar.org.services import api_token_create
    from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, ProductFactory

    account = AccountFactory(organization=cast.org, owner=cast.owner)
    ContactFactory(account=account)
    ProductFactory(organization=cast.org)
    OpportunityFactory(owner=cast.owner, account=account)
    _, secret = api_token_create(user=cast.admin, name="fuzz")
    # /health answers 503 (documented, but a server error to the checks) until a worker beats.
    worker_heartbeat_record(now=timezone.now())
    # The WSGI handler closes the connection around each request, as Django's test client keeps
    # it from doing: the test's transaction lives on that connection.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {secret}"}
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    # The data fixture is built once per operation and shared by its examples on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_answers_every_operation_as_documented(case: Any, fuzz_headers: dict[str, str]) -> None:
    with transaction.atomic():
        case.call_and_validate(headers=fuzz_headers)
        transaction.set_rollback(True)
