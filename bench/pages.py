"""Page latency under load: the rep's Today page and the manager dashboard, served by gunicorn.

Builds a demo organization with the demo generator (full: 200 reps, 50,000 deals; small: 20
reps, 2,000 deals) in a fresh database, publishes each team's industry playbook, runs the
insights recompute (health snapshots, alerts), then starts gunicorn on loopback and sends
20 concurrent clients at

- a trivial Django view (`HttpResponse("ok")` through the same middleware) — the baseline;
- `/today/` as the demo rep, and its "deals that need you" fragment the page loads next;
- `/dashboard/` as the demo manager, and its fragments (tiles, funnel, 12-week trend, stuck
  deals), which the page loads after it (the figures of tiles, funnel and trend are kept five
  minutes by time only);
- `/inbox/` as the demo rep.

Pages keep their rendered HTML per user until anyone writes (`lodestar.web.caching`); the
figures are the warm ones a user sees when coming back to a page, each worker warmed first.
The last column is one request right after a write (the data version changed): what the first
visitor after someone's change waits for, alone on the server.

    python bench/pages.py [--scale small|full] [--db sqlite|postgres] [--keep] [--data DIR]

`--data DIR` keeps the SQLite database in DIR and reuses it on the next run with the same
scale (building 50,000 deals takes minutes; measuring again after a change should not).

PostgreSQL: `DATABASE_URL` of the server (default postgres://postgres@127.0.0.1:5432/postgres);
a database `bench_pages_<pid>` is created and dropped (kept with `--keep`). Every request goes
to 127.0.0.1 only; the run is bounded (a fixed number of requests per client).
Target: p95 of each page <= 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import fresh_database

SCALES = {
    "small": {"reps": 20, "deals": 2_000, "events_per_deal": 30, "months": 6, "requests": 10},
    "full": {"reps": 200, "deals": 50_000, "events_per_deal": 30, "months": 12, "requests": 20},
}
CLIENTS = 20
WORKERS = 4
TARGET_MS = 100.0

SETTINGS = """
from lodestar.settings import *  # noqa: F403

ROOT_URLCONF = "bench_pages_urls"
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}
"""
URLS = """
from django.http import HttpResponse
from django.urls import include, path


def ping(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/ping/", ping), path("", include("lodestar.urls"))]
"""


def _setup(db: str, workdir: Path, keep: bool) -> tuple[str, Any]:
    """Point Django at a fresh database; returns its URL and a clean-up function."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_pages_settings"
    os.environ["LODESTAR_VAR_DIR"] = str(workdir)
    os.environ["HUEY_IMMEDIATE"] = "false"
    for key in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ[key] = "false"
    os.environ["SECURE_HSTS_SECONDS"] = "0"
    os.environ["DEBUG"] = "false"
    (workdir / "bench_pages_settings.py").write_text(SETTINGS)
    (workdir / "bench_pages_urls.py").write_text(URLS)
    sys.path.insert(0, str(workdir))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(workdir), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return fresh_database(db, workdir, name=f"bench_pages_{os.getpid()}", keep=keep)


def _progress(phase: str, done: int, total: int) -> None:
    if done == total:
        print(f"  {phase}: {done:,}", file=sys.stderr)


def _session_for(username: str) -> str:
    """A signed-in session for `username`, made the way `login()` makes one."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend

    from lodestar.org.models import User

    user = User.objects.get(username=username)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The first backend that keeps sessions (django-axes, first in the list, only refuses).
    session[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
    )
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_gunicorn(
    port: int, workdir: Path, config: str = "lodestar.web.gunicorn_conf"
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "lodestar.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--config",
        f"python:{config}",
        "--log-level",
        "warning",
    ]
    log = (workdir / "gunicorn.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - our own argv
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start; see " + str(workdir / "gunicorn.log"))


def _get(port: int, path: str, session: str | None) -> tuple[int, float]:
    headers = {"Accept-Language": "zh-hans", "Host": "127.0.0.1"}
    if session:
        headers["Cookie"] = f"sessionid={session}"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def _load(port: int, path: str, session: str | None, per_client: int) -> list[float]:
    """`CLIENTS` threads, each sending `per_client` requests one after another."""
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_client):
            status, ms = _get(port, path, session)
            with lock:
                if status != 200:
                    errors.append(f"{path}: HTTP {status}")
                timings.append(ms)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return timings


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--only", action="append", default=[], help="measure only paths containing this"
    )
    parser.add_argument(
        "--data", type=Path, help="SQLite only: keep the database in this directory, reuse it"
    )
    args = parser.parse_args()
    if args.data is not None:
        if args.db != "sqlite":
            parser.error("--data works with --db sqlite only")
        workdir = args.data.resolve() / args.scale
        workdir.mkdir(parents=True, exist_ok=True)
        _setup(args.db, workdir, keep=True)
        run(args, SCALES[args.scale], workdir)
        return
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        workdir = Path(tmp)
        _url, cleanup = _setup(args.db, workdir, args.keep)
        try:
            run(args, SCALES[args.scale], workdir)
        finally:
            cleanup()


def run(args: argparse.Namespace, scale: dict[str, int], workdir: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    logins = _build(args, scale, workdir)
    rep, manager = _session_for(logins["rep"]), _session_for(logins["manager"])
    connections.close_all()

    port = _free_port()
    server = _start_gunicorn(port, workdir)
    try:
        targets = [
            ("trivial Django view (baseline)", "/bench/ping/", rep),
            ("rep: /today/", "/today/", rep),
            ("  fragment: deals that need you", "/today/deals/", rep),
            ("manager: /dashboard/", "/dashboard/", manager),
            ("  fragment: tiles", "/dashboard/parts/tiles/", manager),
            ("  fragment: funnel", "/dashboard/parts/funnel/", manager),
            ("  fragment: 12-week trend", "/dashboard/parts/trend/", manager),
            ("  fragment: stuck deals", "/dashboard/parts/stuck/", manager),
            ("rep: /inbox/", "/inbox/", rep),
        ]
        if args.only:
            targets = [targets[0]] + [
                t for t in targets[1:] if any(part in t[1] for part in args.only)
            ]
        from lodestar.web.caching import data_changed

        results, after_write = {}, {}
        for label, path, session in targets:
            # Warm every worker (compiled playbooks, templates, kept pages): requests sent one
            # after another tend to land on the same idle worker, so send them concurrently.
            for _ in range(2):
                _load(port, path, session, 1)
            results[label] = _load(port, path, session, scale["requests"])
            data_changed()
            status, after_write[label] = _get(port, path, session)
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status} after a write")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(
        f"{CLIENTS} concurrent clients, {scale['requests']} requests each, gunicorn with "
        f"{WORKERS} workers on 127.0.0.1"
    )
    print(
        f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'× base p95':>12}"
        f"{'after a write ms':>18}"
    )
    base = _p(results["trivial Django view (baseline)"], 0.95)
    for label, timings in results.items():
        p95 = _p(timings, 0.95)
        print(
            f"{label:<34}{_p(timings, 0.5):>9.1f}{p95:>9.1f}"
            f"{statistics.fmean(timings):>9.1f}{p95 / base:>12.1f}{after_write[label]:>18.1f}"
        )
    pages = [results[k] for k in ("rep: /today/", "manager: /dashboard/") if k in results]
    worst = max((_p(timings, 0.95) for timings in pages), default=base)
    print(
        json.dumps(
            {
                "bench": "pages",
                "db": args.db,
                "figure": round(worst, 1),
                "unit": "ms p95 (slower of /today/ and /dashboard/, 20 clients)",
                "baseline": round(base, 1),
                "ratio": round(worst / base, 2),
                "target": f"<= {TARGET_MS:.0f} ms",
            }
        )
    )


def _build(args: argparse.Namespace, scale: dict[str, int], workdir: Path) -> dict[str, str]:
    """The demo data (or the data a previous `--data` run left); the logins by role."""
    from django.db import connections
    from django.utils import timezone

    from lodestar.demo import generate
    from lodestar.insights.refresh import insights_recompute

    saved = workdir / "logins.json"
    if args.data is not None and saved.exists():
        print(f"data: reused {workdir}", file=sys.stderr)
        return dict(json.loads(saved.read_text()))
    started = time.perf_counter()
    summary = generate(
        seed=11,
        now=timezone.now(),
        slug="bench",
        progress=_progress,
        reps=scale["reps"],
        deals=scale["deals"],
        events_per_deal=scale["events_per_deal"],
        months=scale["months"],
    )
    insights_recompute(organization_id=summary.organization_id)
    with connections["default"].cursor() as cursor:
        # Planner statistics after a bulk load, as a deployment has them (SQLite would
        # otherwise read a deal's events through the organization-wide time index).
        cursor.execute("ANALYZE")
    print(
        f"data: {scale['reps']} reps, {scale['deals']:,} deals, "
        f"{summary.counts.get('events', 0):,} events ({time.perf_counter() - started:.1f} s, "
        f"{args.db})",
        file=sys.stderr,
    )
    logins = {login.role: login.username for login in summary.logins}
    saved.write_text(json.dumps(logins))
    return logins


if __name__ == "__main__":
    main()
