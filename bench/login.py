"""Page throughput while clients send wrong passwords: the sign-in lockout and rate limit.

Hashing a password is slow on purpose (PBKDF2, the production hasher): a few clients posting
wrong passwords as fast as the server answers would keep every web process hashing and starve
the pages. Builds a small demo organization in a fresh database, starts gunicorn on loopback
(the page benchmark's server and workers), and measures `/today/` as the demo rep, sent by
`PAGE_CLIENTS` clients for a fixed time:

- alone — the baseline;
- while `ATTACKERS` clients post wrong passwords for the rep to /login/ (half of them) and
  /admin/login/ (the other half), each `ATTACK_RATE` a second (the pace of the probe that found
  100 wrong passwords accepted for checking without a lock) — the figure;
- the same attack against a server with the lockout, the rate limit and the cap on concurrent
  password checks switched off, which is what the figure is protected from.

    python bench/login.py [--scale small|full] [--db sqlite|postgres] [--keep]

Every request goes to 127.0.0.1 only; each phase lasts a fixed time.
Target: page throughput under attack >= 0.8 x the baseline.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import _free_port, _session_for, _setup, _start_gunicorn

SCALES = {
    "small": {"reps": 5, "deals": 300, "events_per_deal": 10, "months": 3, "seconds": 10},
    "full": {"reps": 20, "deals": 2_000, "events_per_deal": 30, "months": 6, "seconds": 60},
}
PAGE_CLIENTS = 8
ATTACKERS = 4
ATTACK_RATE = 2.5  # wrong passwords per second per attacking client
TARGET_RATIO = 0.8
PAGE = "/today/"

# The same server with the protections off, for comparison.
OPEN_SETTINGS = """
from bench_pages_settings import *  # noqa: F403

AXES_ENABLED = False
LOGIN_RATE_PER_MINUTE = 1_000_000_000
LOGIN_CONCURRENT_CHECKS = 64
"""


def _request(
    port: int, method: str, path: str, *, cookie: str = "", body: str = ""
) -> tuple[int, dict[str, str], str]:
    headers = {"Host": "127.0.0.1", "Accept-Language": "zh-hans"}
    if cookie:
        headers["Cookie"] = cookie
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, dict(response.getheaders()), text
    finally:
        conn.close()


def _pages(port: int, session: str, stop: threading.Event) -> list[float]:
    """`PAGE_CLIENTS` clients asking for the page one request after another until `stop`."""
    timings: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            status, _headers, _body = _request(port, "GET", PAGE, cookie=f"sessionid={session}")
            with lock:
                timings.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=client) for _ in range(PAGE_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} page requests failed, e.g. HTTP {failures[0]}")
    return timings


def _attack(
    port: int, path: str, username: str, stop: threading.Event, seen: dict[int, int]
) -> None:
    """One client posting wrong passwords for `username` to `path` until `stop`."""
    _status, headers, body = _request(port, "GET", path)
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not cookie.startswith("csrftoken=") or token is None:
        raise SystemExit(f"{path}: no CSRF token to post with")
    attempt = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        next_at += 1 / ATTACK_RATE
        attempt += 1
        form = f"csrfmiddlewaretoken={token.group(1)}&username={username}&password=guess-{attempt}"
        started = time.perf_counter()
        status, _headers, _text = _request(port, "POST", path, cookie=cookie, body=form)
        seen.setdefault(status, []).append((time.perf_counter() - started) * 1000)
        stop.wait(max(next_at - time.perf_counter(), 0))


def _phase(
    port: int, session: str, username: str, seconds: int, attackers: int
) -> tuple[list[float], dict[int, list[float]]]:
    stop = threading.Event()
    seen: dict[int, list[float]] = {}
    threads = [
        threading.Thread(
            target=_attack,
            args=(port, "/login/" if n % 2 == 0 else "/admin/login/", username, stop, seen),
        )
        for n in range(attackers)
    ]
    for thread in threads:
        thread.start()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    started = time.perf_counter()
    timings = _pages(port, session, stop)
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    # Requests per second over the phase, carried in the list's last place for the table.
    timings.append(len(timings) / elapsed)
    return timings, seen


def _serve(workdir: Path, settings_module: str) -> tuple[int, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    port = _free_port()
    return port, _start_gunicorn(port, workdir)


def _stop(server: Any) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-login-") as tmp:
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
    from django.utils import timezone

    from lodestar.demo import generate

    call_command("migrate", verbosity=0)
    summary = generate(
        seed=11,
        now=timezone.now(),
        slug="bench",
        reps=scale["reps"],
        deals=scale["deals"],
        events_per_deal=scale["events_per_deal"],
        months=scale["months"],
    )
    rep = next(login.username for login in summary.logins if login.role == "rep")
    session = _session_for(rep)
    connections.close_all()
    (workdir / "bench_login_open_settings.py").write_text(OPEN_SETTINGS)
    from axes.models import AccessAttempt

    seconds = scale["seconds"]
    rows: list[tuple[str, list[float], dict[int, list[float]]]] = []
    port, server = _serve(workdir, "bench_pages_settings")
    try:
        for _ in range(2):  # warm every worker (templates, kept pages)
            _phase(port, session, rep, 1, 0)
        rows.append(("no attackers (baseline)", *_phase(port, session, rep, seconds, 0)))
        rows.append(
            (f"{ATTACKERS} wrong-password clients", *_phase(port, session, rep, seconds, ATTACKERS))
        )
    finally:
        _stop(server)
    AccessAttempt.objects.all().delete()
    connections.close_all()
    port, server = _serve(workdir, "bench_login_open_settings")
    try:
        for _ in range(2):
            _phase(port, session, rep, 1, 0)
        rows.append(
            (
                f"{ATTACKERS} clients, protections off",
                *_phase(port, session, rep, seconds, ATTACKERS),
            )
        )
    finally:
        _stop(server)

    print(
        f"{PAGE_CLIENTS} clients asking for {PAGE} for {seconds} s per phase, attackers posting "
        f"{ATTACK_RATE}/s each; gunicorn with 4 workers on 127.0.0.1 ({args.db})"
    )
    print(f"{'phase':<34}{'pages/s':>9}{'p50 ms':>9}{'p95 ms':>9}  wrong-password posts answered")
    rates = {}
    for label, timings, seen in rows:
        rate, page_timings = timings[-1], timings[:-1]
        rates[label] = rate
        answers = ", ".join(
            f"{len(times)} × HTTP {status} (p50 {_p(times, 0.5):.0f} ms)"
            for status, times in sorted(seen.items())
        )
        print(
            f"{label:<34}{rate:>9.1f}{_p(page_timings, 0.5):>9.1f}{_p(page_timings, 0.95):>9.1f}"
            f"  {answers or '-'}"
        )
    baseline = rates["no attackers (baseline)"]
    figure = rates[f"{ATTACKERS} wrong-password clients"]
    print(
        json.dumps(
            {
                "bench": "login",
                "db": args.db,
                "figure": round(figure, 1),
                "unit": f"pages/s ({PAGE}, {PAGE_CLIENTS} clients) with {ATTACKERS} clients "
                "sending wrong passwords",
                "baseline": round(baseline, 1),
                "ratio": round(figure / baseline, 2) if baseline else 0.0,
                "target": f">= {TARGET_RATIO} x baseline",
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
