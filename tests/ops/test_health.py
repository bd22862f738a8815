"""`/api/v1/health` and `/healthz`: what a monitor and a load balancer are told."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from lodestar.ops.health import HEARTBEAT_KEY, worker_heartbeat_record
from lodestar.ops.tasks import worker_heartbeat
from tests.integrations.test_concurrency import REDIS_URL

SECRET_REASON = "could not connect to server at 10.9.8.7 as user lodestar, password s3cret"


@pytest.fixture(autouse=True)
def _no_heartbeat() -> Iterator[None]:
    caches["shared"].delete(HEARTBEAT_KEY)
    yield
    caches["shared"].delete(HEARTBEAT_KEY)


def beat(seconds_ago: float) -> None:
    worker_heartbeat_record(now=timezone.now() - dt.timedelta(seconds=seconds_ago))


def health() -> tuple[int, dict[str, Any]]:
    response = Client().get("/api/v1/health")
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, response.json()


def test_it_is_healthy_when_the_database_and_queue_answer_and_a_worker_beat_recently(
    db: None,
) -> None:
    beat(seconds_ago=20)
    status, body = health()
    assert status == 200
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["database"] == {"ok": True, "error": None}
    assert body["queue"]["ok"]
    assert isinstance(body["queue"]["pending"], int)
    assert body["worker"]["ok"]
    assert 19 <= body["worker"]["age_seconds"] < 60
    assert body["worker"]["max_age_seconds"] == 180


def test_it_names_the_database_when_it_does_not_answer_without_saying_why(db: None) -> None:
    beat(seconds_ago=1)
    with mock.patch.object(connection, "cursor", side_effect=OperationalError(SECRET_REASON)):
        response = Client().get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["database"] == {"ok": False, "error": "unreachable"}
    assert "10.9.8.7" not in response.content.decode()
    assert "s3cret" not in response.content.decode()


def test_it_calls_a_worker_whose_last_beat_is_too_old_stale(db: None) -> None:
    beat(seconds_ago=600)
    status, body = health()
    assert status == 503
    assert body["failing"] == ["worker"]
    assert body["worker"]["error"] == "stale"
    assert body["worker"]["age_seconds"] >= 600


def test_it_says_when_no_worker_has_ever_beat(db: None) -> None:
    status, body = health()
    assert status == 503
    assert body["worker"] == {
        "ok": False,
        "error": "never_seen",
        "last_seen_at": None,
        "age_seconds": None,
        "max_age_seconds": 180,
    }


def test_the_periodic_heartbeat_task_makes_the_worker_healthy(db: None) -> None:
    worker_heartbeat.call_local()
    status, body = health()
    assert status == 200
    assert body["worker"]["age_seconds"] < 5


def test_it_is_open_to_anyone_and_described_in_the_openapi_document(db: None) -> None:
    operation = Client().get("/api/v1/openapi.json").json()["paths"]["/api/v1/health"]["get"]
    assert "security" not in operation
    assert set(operation["responses"]) == {"200", "503"}
    schema = operation["responses"]["503"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/HealthOut")


def test_it_reports_a_queue_whose_redis_does_not_answer(db: None) -> None:
    from huey import RedisHuey

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    beat(seconds_ago=1)
    unreachable = RedisHuey("lodestar-health-test", url=f"redis://127.0.0.1:{closed_port}/15")
    with mock.patch("huey.contrib.djhuey.HUEY", unreachable):
        status, body = health()
    assert status == 503
    assert body["failing"] == ["queue"]
    assert body["queue"] == {"ok": False, "error": "unreachable", "pending": None}


@pytest.mark.redis
def test_it_counts_the_tasks_waiting_in_a_redis_queue(db: None) -> None:
    from huey import RedisHuey

    # A queue of this run's own: the SQLite and PostgreSQL suites may run at once on one Redis.
    queue = RedisHuey(f"lodestar-health-test-{uuid.uuid4().hex[:12]}", url=REDIS_URL)
    queue.storage.flush_queue()
    for index in range(3):
        queue.storage.enqueue(f"task {index}".encode())
    beat(seconds_ago=1)
    try:
        with mock.patch("huey.contrib.djhuey.HUEY", queue):
            status, body = health()
    finally:
        queue.storage.flush_queue()
    assert status == 200
    assert body["queue"] == {"ok": True, "error": None, "pending": 3}


def test_healthz_answers_ok_over_plain_http_even_when_https_is_enforced(
    db: None, settings: Any
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert Client().get("/login/").status_code == 301


def test_healthz_is_unavailable_when_the_database_does_not_answer(db: None) -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError(SECRET_REASON)):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable\n"
