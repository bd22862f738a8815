"""Pages while events stream in: 20 page clients, with and without 5 batches of 100 events a second.

Builds the demo organization as `bench/pages.py` does (full: 200 reps, 50,000 deals; small: 20
reps, 2,000 deals), starts gunicorn on loopback, and sends 20 page clients, each as its own
user, one request after another: reps at `/today/`, managers at `/dashboard/` (signed-in
sessions). Two phases of `--seconds` each, in the same run:

- the baseline: the page clients alone;
- the stream: the same page clients while an ingest client posts a batch of 100 events to
  `POST /api/v1/events` five times a second (with an API token of the organization's admin),
  on deals all over the organization, the event types mixed as in `bench/ingest.py`.

Every event the API accepted must be in the log afterwards (lost events = accepted − logged).

Beside the latencies, each web worker notes the CPU time it spent on every request (gunicorn's
`pre_request` / `post_request`), so each phase also says what a page cost the server: on a
shared machine the latencies move with everyone else's load, the CPU a request takes much less.

    python bench/load.py [--db sqlite|postgres] [--scale small|full] [--seconds 60] [--data DIR]

`--data DIR` keeps the SQLite database in DIR and reuses it, as `bench/pages.py --data` does
(the same folder serves both benches); each run logs its events under a source of its own.

Target: page p95 <= 150 ms with the stream on PostgreSQL, and <= 3x the page p95 without it on
both databases; no errors; no lost events.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report
from ingest import make_items
from pages import SCALES, _build, _free_port, _p, _session_for, _setup, _start_gunicorn

CLIENTS = 20
MANAGER_CLIENTS = 5  # the rest are reps
BATCH = 100
BATCHES_PER_SECOND = 5
TARGET_MS = 150.0
TARGET_RATIO = 3.0

# The server's configuration plus a line per request: when it ended, method, path, CPU ms.
GUNICORN_CONF = """
import os
import time

from lodestar.web import gunicorn_conf as _base

_LOG = os.environ["BENCH_LOAD_CPU_LOG"]


def pre_request(worker, _req):
    worker.bench_cpu = time.process_time()


def post_request(worker, req, environ, resp):
    _base.post_request(worker, req, environ, resp)
    spent = (time.process_time() - worker.bench_cpu) * 1000
    with open(f"{_LOG}.{os.getpid()}", "a") as log:
        log.write(f"{time.time():.4f} {req.method} {req.path} {spent:.3f}\\n")
"""


def _request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes, float, str]:
    """Status, body, milliseconds and the response (its ETag changes when a kept page is
    rendered again, as long as the client sends its CSRF cookie back)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        content = response.read()
    finally:
        conn.close()
    return response.status, content, (time.perf_counter() - started) * 1000, response


class Phase:
    """What one phase measured."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: list[float] = []
        self.by_path: dict[str, list[float]] = {}
        self.renders_by_path: dict[str, int] = {}
        self.batches: list[float] = []
        self.errors: list[str] = []
        self.accepted = 0
        # Renderings served (distinct ETags per client: each web process keeps its own).
        self.renders = 0
        self.seconds = 0.0
        self.window = (0.0, 0.0)  # wall-clock start and end


def _page_client(port: int, path: str, session: str, until: float, phase: Phase) -> None:
    headers = {"Cookie": f"sessionid={session}", "Accept-Language": "zh-hans"}
    seen: set[str] = set()
    while time.monotonic() < until:
        try:
            status, _body, ms, response = _request(port, "GET", path, headers)
        except OSError as exc:
            with phase.lock:
                phase.errors.append(f"{path}: {exc}")
            continue
        csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", ""))
        if csrf:  # as a browser does: the same CSRF secret, so the ETag names the rendering
            headers["Cookie"] = f"sessionid={session}; csrftoken={csrf.group(1)}"
        etag = response.getheader("ETag", "")
        with phase.lock:
            phase.pages.append(ms)
            phase.by_path.setdefault(path, []).append(ms)
            phase.renders += etag not in seen
            phase.renders_by_path[path] = phase.renders_by_path.get(path, 0) + (etag not in seen)
            seen.add(etag)
            if status != 200:
                phase.errors.append(f"{path}: HTTP {status}")


def _ingest_client(
    port: int, token: str, batches: list[list[dict[str, Any]]], until: float, phase: Phase
) -> None:
    """A batch every 1/BATCHES_PER_SECOND s (at once when the last one took longer)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    interval = 1 / BATCHES_PER_SECOND
    next_at = time.monotonic()
    for batch in batches:
        now = time.monotonic()
        if now >= until:
            break
        if next_at > now:
            time.sleep(next_at - now)
        next_at += interval
        body = json.dumps({"events": batch}, default=str).encode()
        try:
            status, content, ms, _etag = _request(port, "POST", "/api/v1/events", headers, body)
        except OSError as exc:
            with phase.lock:
                phase.errors.append(f"events: {exc}")
            continue
        with phase.lock:
            phase.batches.append(ms)
            if status != 200:
                phase.errors.append(f"events: HTTP {status} {content[:200]!r}")
                continue
            answer = json.loads(content)
            phase.accepted += int(answer["accepted"])
            if answer["accepted"] != len(batch):
                phase.errors.append(f"events: {answer['accepted']} of {len(batch)} accepted")


def _run_phase(
    port: int,
    clients: list[tuple[str, str]],
    seconds: float,
    stream: tuple[str, list[list[dict[str, Any]]]] | None,
) -> Phase:
    phase = Phase()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_page_client, args=(port, path, session, until, phase))
        for path, session in clients
    ]
    if stream is not None:
        token, batches = stream
        threads.append(
            threading.Thread(target=_ingest_client, args=(port, token, batches, until, phase))
        )
    started, wall = time.monotonic(), time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    phase.window = (wall, time.time())
    return phase


def _cpu(log: Path, phase: Phase) -> dict[str, list[float]]:
    """CPU ms of each request the workers served during `phase`, by path."""
    spent: dict[str, list[float]] = {}
    for part in log.parent.glob(log.name + ".*"):
        for line in part.read_text().splitlines():
            ended, _method, path, ms = line.split()
            if phase.window[0] <= float(ended) <= phase.window[1]:
                spent.setdefault(path, []).append(float(ms))
    return spent


def _line(label: str, timings: list[float], seconds: float) -> str:
    if not timings:
        return f"{label:<28}{'-':>10}"
    return (
        f"{label:<28}{len(timings) / seconds:>10.1f}{_p(timings, 0.5):>9.1f}"
        f"{_p(timings, 0.95):>9.1f}{_p(timings, 0.99):>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--data", type=Path, help="SQLite only: keep the database in this directory, reuse it"
    )
    args = parser.parse_args()
    if args.seconds <= 0:
        parser.error("--seconds must be more than 0")
    args.keep = False  # what `pages._setup` asks for
    if args.data is not None:
        if args.db != "sqlite":
            parser.error("--data works with --db sqlite only")
        workdir = args.data.resolve() / args.scale
        workdir.mkdir(parents=True, exist_ok=True)
        _setup(args.db, workdir, keep=True)
        run(args, workdir)
        return
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        _url, cleanup = _setup(args.db, workdir, keep=False)
        try:
            run(args, workdir)
        finally:
            cleanup()


def _users(logins: dict[str, str]) -> tuple[list[str], list[str], Any, list[int]]:
    """Reps and managers of the demo organization (usernames), its admin, and its deal ids."""
    from lodestar.crm.models import Opportunity
    from lodestar.org.models import Membership, Role, User

    admin = User.objects.get(username=logins["admin"])
    members = Membership.objects.filter(organization_id=admin.membership.organization_id)
    by_role = {
        role: list(members.filter(role=role).order_by("user_id").values_list("user__username"))
        for role in (Role.REP, Role.MANAGER)
    }
    deal_ids = list(
        Opportunity.objects.filter(organization_id=admin.membership.organization_id).values_list(
            "pk", flat=True
        )
    )
    reps = [name for (name,) in by_role[Role.REP]]
    managers = [name for (name,) in by_role[Role.MANAGER]]
    return reps, managers, admin, deal_ids


def run(args: argparse.Namespace, workdir: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from lodestar.events.models import Event
    from lodestar.org.services import api_token_create

    call_command("migrate", verbosity=0)
    scale = SCALES[args.scale]
    logins = _build(args, scale, workdir)
    reps, managers, admin, deal_ids = _users(logins)
    if not reps or not managers:
        raise SystemExit("the demo organization has no reps or no managers")
    rep_clients = CLIENTS - MANAGER_CLIENTS
    clients = [("/today/", _session_for(reps[i % len(reps)])) for i in range(rep_clients)]
    clients += [
        ("/dashboard/", _session_for(managers[i % len(managers)])) for i in range(MANAGER_CLIENTS)
    ]
    _token, secret = api_token_create(user=admin, name="bench load")
    count = int(args.seconds * BATCHES_PER_SECOND * BATCH) + BATCH
    items = make_items(deal_ids, count, dt.datetime.now(dt.UTC))
    source = f"bench-load-{time.time_ns()}"  # a reused database keeps earlier runs' events
    for item in items:
        item["source"] = source
        item["occurred_at"] = item["occurred_at"].isoformat()
    batches = [items[start : start + BATCH] for start in range(0, len(items), BATCH)]
    connections.close_all()

    port = _free_port()
    (workdir / "bench_load_gunicorn.py").write_text(GUNICORN_CONF)
    cpu_log = workdir / "cpu.log"
    for old in workdir.glob("cpu.log.*"):  # an earlier run's, in a kept `--data` folder
        old.unlink()
    os.environ["BENCH_LOAD_CPU_LOG"] = str(cpu_log)
    server = _start_gunicorn(port, workdir, config="bench_load_gunicorn")
    try:
        # Warm every worker (templates, compiled playbooks, kept users) before measuring.
        _run_phase(port, clients, min(5.0, args.seconds), None)
        loads = [os.getloadavg()]
        alone = _run_phase(port, clients, args.seconds, None)
        loads.append(os.getloadavg())
        streamed = _run_phase(port, clients, args.seconds, (secret, batches))
        loads.append(os.getloadavg())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    if alone.errors or streamed.errors:
        log = (workdir / "gunicorn.log").read_text(errors="replace").strip().splitlines()
        print("gunicorn log, last lines:", *log[-30:], sep="\n", file=sys.stderr)
    logged = Event.objects.filter(source=source).count()
    lost = streamed.accepted - logged
    print(
        f"{CLIENTS} page clients ({rep_clients} reps at /today/, {MANAGER_CLIENTS} managers at "
        f"/dashboard/), {args.seconds:.0f} s per phase, {args.scale} scale, {args.db}; "
        f"load average (1 min) before/after each phase: "
        + " / ".join(f"{load[0]:.2f}" for load in loads)
    )
    print(f"{'':<28}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'renders/s':>11}")
    for label, phase in (("pages, no stream", alone), ("pages, with the stream", streamed)):
        print(_line(label, phase.pages, phase.seconds) + f"{phase.renders / phase.seconds:>11.1f}")
        for path, timings in sorted(phase.by_path.items()):
            renders = phase.renders_by_path.get(path, 0) / phase.seconds
            print(_line(f"  {path}", timings, phase.seconds) + f"{renders:>11.1f}")
    print(_line(f"event batches ({BATCH} each)", streamed.batches, streamed.seconds))
    print("server CPU per request (ms, mean) and CPU the workers spent per second of the phase:")
    for label, phase in (("no stream", alone), ("with the stream", streamed)):
        spent = _cpu(cpu_log, phase)
        per_second = sum(map(sum, spent.values())) / 1000 / phase.seconds
        print(
            f"  {label + ':':<17}"
            + ", ".join(f"{path} {statistics.fmean(ms):.1f}" for path, ms in sorted(spent.items()))
            + f"; {per_second:.2f} CPU s/s (of {os.cpu_count()} cores)"
        )
    errors = alone.errors + streamed.errors
    print(
        f"events accepted {streamed.accepted:,}, in the log {logged:,}, lost {lost:,}; "
        f"errors {len(errors)}" + (f" (e.g. {errors[0]})" if errors else "")
    )
    figure, baseline = _p(streamed.pages, 0.95), _p(alone.pages, 0.95)
    report(
        bench="load",
        db=args.db,
        figure=figure,
        unit="ms",
        baseline=baseline,
        target=f"p95 ≤ {TARGET_MS:.0f} ms with the stream on PostgreSQL, ≤ {TARGET_RATIO:.0f}× "
        "the no-stream p95, 0 errors, 0 lost events",
    )


if __name__ == "__main__":
    main()
