"""Several workers at once, and a worker killed mid-delivery, against real databases and Redis.

- threads with their own database connections racing over the same rows (SQLite and PostgreSQL);
- two real `run_huey` consumer processes on RedisHuey, every id queued twice (PostgreSQL: the
  processes must see the test database, which SQLite's in-memory test database cannot offer);
- a consumer killed with SIGKILL while a receiver holds its request open, then a fresh consumer
  after the lease: every notification arrives, none is shown twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection, connections

from lodestar.integrations.delivery import deliver
from lodestar.integrations.models import Channel, ChannelConfig, Notification, NotificationStatus
from lodestar.integrations.services import notify
from tests.conftest import Cast
from tests.integrations.servers import Received, Reply, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("LODESTAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def slow_ok(_: Received) -> Reply:
    """A real robot takes time: long enough for both worker processes to take part."""
    time.sleep(0.05)
    return 200, {"errcode": 0, "errmsg": "ok"}, {}


def make_rows(cast: Cast, url: str, count: int) -> list[int]:
    """Committed pending rows whose on-commit enqueue is suppressed, so the workers under test
    (not the test process's immediate-mode Huey) are the ones that deliver them."""
    ChannelConfig.objects.create(organization=cast.org, kind=Channel.WECOM, webhook_url=url)
    ids = []
    for n in range(count):
        with mock.patch("lodestar.integrations.services.enqueue_delivery"):
            (row,) = notify(
                organization=cast.org,
                recipient=cast.owner,
                title=f"通知 {n}",
                cause_key=f"race:{n}",
                channels=[Channel.WECOM],
            )
        ids.append(row.pk)
    return ids


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def delivered_count(ids: list[int]) -> int:
    return Notification.objects.filter(pk__in=ids, status=NotificationStatus.DELIVERED).count()


@pytest.mark.django_db(transaction=True)
def test_racing_threads_never_send_one_notification_twice(
    cast: Cast, receiver: WebhookReceiver
) -> None:
    if connection.vendor == "sqlite":
        # pytest-django's SQLite test database is in-memory with a shared cache, where a busy
        # table fails at once ("table is locked") instead of waiting as the WAL file database
        # does; the embedded path is raced for real by the SqliteHuey process test below.
        pytest.skip("threads need a file database; see the SqliteHuey process test")
    ids = make_rows(cast, receiver.url, 40)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            for notification_id in ids:
                deliver(notification_id, worker=name)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(f"thread-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    keys = Counter(receiver.keys())
    assert len(keys) == 40
    assert set(keys.values()) == {1}
    assert delivered_count(ids) == 40


# --- real worker processes on Redis --------------------------------------------------------


def _database_url() -> str:
    conf = connection.settings_dict
    user = conf.get("USER") or "postgres"
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{conf['NAME']}"


class Workers:
    """Starts `run_huey` consumers and enqueuers as real processes on one queue.

    With ``database_url`` and ``redis_url`` they share the test's PostgreSQL database and a
    RedisHuey queue; without, a SQLite file database and a SqliteHuey queue in ``tmp_path``
    (the embedded default, exactly as `make run` starts it).
    """

    def __init__(
        self,
        tmp_path: Path,
        lease_seconds: int,
        *,
        database_url: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.queue = f"lodestar-test-{uuid.uuid4().hex[:12]}"
        self.tmp_path = tmp_path
        self.redis_url = redis_url
        self.sqlite_path = tmp_path / "var" / "lodestar.sqlite3"
        env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
        self.env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "tests.integrations.worker_settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url or f"sqlite:///{self.sqlite_path}",
            "HUEY_QUEUE": self.queue,
            "HUEY_IMMEDIATE": "false",
            "LODESTAR_VAR_DIR": str(tmp_path / "var"),
            "NOTIFICATION_LEASE_SECONDS": str(lease_seconds),
        }
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.processes: list[subprocess.Popen[bytes]] = []

    def start_consumer(self, threads: int) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"consumer-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            # Short polling delays: idle consumers otherwise back off to 10 s between polls.
            [
                sys.executable,
                "-m",
                "django",
                "run_huey",
                "--workers",
                str(threads),
                "--no-periodic",
                "--delay",
                "0.05",
                "--max-delay",
                "0.5",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        log_path = Path(log.name)
        wait_for(lambda: b"consumer started" in log_path.read_bytes(), 120, "the consumer to start")
        return process

    def run(self, code: str) -> str:
        """Run Python in a process configured like the workers; returns its stdout."""
        script = "import django; django.setup()\n" + code
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def enqueue_deliveries(self, ids: list[int], times: int = 1) -> None:
        self.run(
            "from lodestar.integrations.tasks import deliver_notification\n"
            f"for _ in range({times}):\n"
            f"    for i in {ids!r}:\n"
            "        deliver_notification(i)\n"
        )

    def enqueue_sweep(self) -> None:
        self.run(
            "from lodestar.integrations.tasks import sweep_notifications\nsweep_notifications()"
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.redis_url:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            for key in client.scan_iter(f"*{self.queue}*"):
                client.delete(key)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a database other processes can see (PostgreSQL)")
    pool = Workers(tmp_path, lease_seconds=3, database_url=_database_url(), redis_url=REDIS_URL)
    yield pool
    pool.stop()


SETUP_SCRIPT = """
import json
from unittest import mock
from django.core.management import call_command
call_command("migrate", verbosity=0)
from lodestar.integrations.services import notify
from lodestar.integrations.models import ChannelConfig
from tests.factories import OrganizationFactory, UserFactory
org = OrganizationFactory()
user = UserFactory(organization=org)
ChannelConfig.objects.create(organization=org, kind="wecom", webhook_url={url!r})
ids = []
with mock.patch("lodestar.integrations.services.enqueue_delivery"):
    for n in range({count}):
        ids += [row.pk for row in notify(
            organization=org, recipient=user, title="通知", cause_key=f"race:{{n}}",
            channels=["wecom"],
        )]
print(json.dumps({{"org": org.pk, "ids": ids}}))
"""


def test_two_sqlitehuey_worker_processes_never_deliver_one_notification_twice(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """The embedded default for real: a WAL SQLite file, a SqliteHuey queue, two consumers."""
    import json
    import sqlite3

    receiver.reply = slow_ok
    pool = Workers(tmp_path, lease_seconds=300)
    try:
        made = json.loads(pool.run(SETUP_SCRIPT.format(url=receiver.url, count=40)))
        ids: list[int] = made["ids"]
        pool.start_consumer(threads=4)
        pool.start_consumer(threads=4)
        pool.enqueue_deliveries(ids, times=2)

        def delivered() -> int:
            with sqlite3.connect(pool.sqlite_path, timeout=10) as db:
                (count,) = db.execute(
                    "SELECT count(*) FROM integrations_notification WHERE status = 'delivered'"
                ).fetchone()
            return int(count)

        wait_for(lambda: delivered() == 40, 120, "all 40 deliveries")
        time.sleep(0.5)
        keys = Counter(receiver.keys())
        assert set(keys) == {f"lodestar-{made['org']}-{i}" for i in ids}
        assert set(keys.values()) == {1}
        with sqlite3.connect(pool.sqlite_path, timeout=10) as db:
            claimers = {
                row[0] for row in db.execute("SELECT claimed_by FROM integrations_notification")
            }
        assert len({name.split(":")[1] for name in claimers}) == 2, "both processes took part"
    finally:
        pool.stop()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_on_redis_never_deliver_one_notification_twice(
    cast: Cast, receiver: WebhookReceiver, workers: Workers
) -> None:
    receiver.reply = slow_ok
    ids = make_rows(cast, receiver.url, 60)
    workers.start_consumer(threads=4)
    workers.start_consumer(threads=4)
    # Every id is queued twice, so both processes (8 threads) compete for every row.
    workers.enqueue_deliveries(ids, times=2)
    wait_for(lambda: delivered_count(ids) == 60, 120, "all 60 deliveries")
    time.sleep(0.5)  # let any late duplicate task run: it must be a no-op
    keys = Counter(receiver.keys())
    assert len(keys) == 60
    assert set(keys.values()) == {1}
    claimers = set(Notification.objects.filter(pk__in=ids).values_list("claimed_by", flat=True))
    pids = {name.split(":")[1] for name in claimers}
    assert len(pids) == 2, "both worker processes should have taken part"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_and_duplicates_nothing(
    cast: Cast, receiver: WebhookReceiver, workers: Workers
) -> None:
    first_request = threading.Event()
    release = threading.Event()

    def hang_on_the_first(item: Received) -> Reply:
        if not first_request.is_set():
            first_request.set()
            release.wait(30)  # hold the killed worker's request open
        return 200, {"errcode": 0, "errmsg": "ok"}, {}

    receiver.reply = hang_on_the_first
    ids = make_rows(cast, receiver.url, 5)
    doomed = workers.start_consumer(threads=1)
    workers.enqueue_deliveries(ids)
    assert first_request.wait(120), "the worker never reached the receiver"
    doomed.send_signal(signal.SIGKILL)  # mid-delivery: claimed, sent, never recorded
    doomed.wait(10)
    release.set()

    in_flight = Notification.objects.get(status=NotificationStatus.SENDING)
    assert in_flight.claimed_by.split(":")[1] == str(doomed.pid)

    time.sleep(3.5)  # the killed worker's lease (3 s in worker_settings) runs out
    workers.start_consumer(threads=2)
    workers.enqueue_sweep()
    wait_for(lambda: delivered_count(ids) == 5, 120, "all 5 deliveries after the restart")

    keys = Counter(receiver.keys())
    assert set(keys) == {f"lodestar-{cast.org.pk}-{i}" for i in ids}  # nothing lost
    # The in-flight one went out twice on the wire under one key (an idempotent receiver
    # shows it once); every other one exactly once.
    assert keys[f"lodestar-{cast.org.pk}-{in_flight.pk}"] == 2
    assert sum(keys.values()) == 6
    in_flight.refresh_from_db()
    assert (in_flight.status, in_flight.attempts) == (NotificationStatus.DELIVERED, 2)
