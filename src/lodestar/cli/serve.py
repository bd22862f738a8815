"""Run the web server and the worker as one process group that Ctrl-C stops cleanly.

The group is supervised: a child that dies (a crash, the out-of-memory killer, `kill -9`) is
started again after a pause, while the other keeps running. The pause doubles with each death in
a row, up to a ceiling, so a child that cannot start (a bad setting, a taken port) costs one try
every half minute instead of a spinning CPU; once a child has stayed up a while, its next death
starts again from the shortest pause.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

console = Console(soft_wrap=True)

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# The local demo is plain HTTP on loopback; HTTPS-only protections would lock the browser out.
LOCAL_HTTP_ENV = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}
SHUTDOWN_GRACE_SECONDS = 10.0
# How often the supervisor looks at its children: a death is noticed within this time.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Backoff:
    """Pauses before restarting a child that died: `first` seconds, doubling with each death in
    a row up to `longest`. A child that stayed up `stable_after` seconds had recovered: its next
    death counts as the first again."""

    first: float = 1.0
    longest: float = 30.0
    stable_after: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.longest:
            raise ValueError(
                f"the first restart pause (--restart-delay {self.first:g}) must be above 0 and "
                f"at most the longest (--restart-max-delay {self.longest:g})"
            )

    def pause(self, *, deaths_in_a_row: int) -> float:
        return min(self.longest, self.first * 2.0 ** (deaths_in_a_row - 1))


@dataclass
class Child:
    """One supervised process: its command, and what the supervisor knows of its last run."""

    name: str
    command: list[str]
    stop_signal: signal.Signals
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    deaths_in_a_row: int = 0
    restart_at: float = 0.0

    def start(self, environment: dict[str, str]) -> None:
        # A process group of its own, so that what it leaves behind can be found (below); the
        # supervisor passes Ctrl-C on itself.
        self.process = subprocess.Popen(  # noqa: S603 — fixed argument lists
            self.command, env=environment, process_group=0
        )
        self.started_at = time.monotonic()

    def died(self, *, backoff: Backoff, now: float) -> str:
        """Note the death of the process (it has exited) and when to start it again; say so."""
        assert self.process is not None
        pid, code, up = self.process.pid, self.process.returncode, now - self.started_at
        # A gunicorn killed outright leaves its request handlers running: they hold the port
        # the new one must bind, and notice their master is gone only after up to 30 s.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        self.deaths_in_a_row = 1 if up >= backoff.stable_after else self.deaths_in_a_row + 1
        pause = backoff.pause(deaths_in_a_row=self.deaths_in_a_row)
        self.process, self.restart_at = None, now + pause
        how = (
            f"was killed by signal {signal.Signals(-code).name}"
            if code < 0
            else f"exited with code {code}"
        )
        return f"{self.name} (pid {pid}) {how} after {up:.1f} s; restarting in {pause:g} s"


def supervise(
    children: list[Child],
    *,
    environment: dict[str, str],
    backoff: Backoff,
    stop_requested: Callable[[], bool],
) -> None:
    """Keep every child running, restarting the dead ones, until a stop is requested."""
    while not stop_requested():
        now = time.monotonic()
        for child in children:
            if child.process is not None and child.process.poll() is not None:
                console.print(child.died(backoff=backoff, now=now), markup=False, highlight=False)
            elif child.process is None and now >= child.restart_at:
                child.start(environment)
                assert child.process is not None
                console.print(
                    f"{child.name} restarted (pid {child.process.pid})",
                    markup=False,
                    highlight=False,
                )
        time.sleep(POLL_SECONDS)


def stop_all(children: list[Child]) -> bool:
    """Ask every running child to stop; kill those still running after the grace period.
    True when all stopped by themselves."""
    running = [child.process for child in children if child.process is not None]
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(child.stop_signal)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    stopped = True
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            stopped = False
    return stopped


def serving_environment(host: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "lodestar.settings")
    if host in LOOPBACK_HOSTS:
        for key, value in LOCAL_HTTP_ENV.items():
            environment.setdefault(key, value)
    return environment


def serve(
    *,
    host: str,
    port: int,
    web_workers: int,
    with_worker: bool,
    backoff: Backoff,
    banner: Callable[[str], None] | None = None,
) -> int:
    """Start gunicorn (and the worker) and keep them running until Ctrl-C or SIGTERM; return 0
    once all have stopped, 1 when one had to be killed after the grace period."""
    environment = serving_environment(host)
    subprocess.run(
        [sys.executable, "-m", "lodestar.cli", "manage", "collectstatic", "--noinput", "-v0"],
        env=environment,
        check=True,
    )
    bind = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
    gunicorn = [
        sys.executable, "-m", "gunicorn", "lodestar.wsgi:application",
        "--bind", bind, "--workers", str(web_workers), "--access-logfile", "-",
        "--graceful-timeout", "5", "--config", "python:lodestar.web.gunicorn_conf",
    ]  # fmt: skip
    children = [
        Child(
            name="web server",
            command=gunicorn,
            stop_signal=signal.SIGTERM,  # gunicorn: finish the requests in hand, then stop
        )
    ]
    if with_worker:
        children.append(
            Child(
                name="worker",
                command=[sys.executable, "-m", "lodestar.cli", "worker"],
                stop_signal=signal.SIGINT,  # Huey: finish the tasks in hand, then stop
            )
        )
    for child in children:
        child.start(environment)
    url = f"http://{bind}/"
    if banner is not None:
        banner(url)
    else:
        console.print(f"Lodestar is serving on [bold]{url}[/bold] — Ctrl-C stops it.")

    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    # The children have process groups of their own, so a closed terminal's hang-up reaches
    # only the supervisor, which stops them.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    supervise(children, environment=environment, backoff=backoff, stop_requested=lambda: stopping)
    stopped = stop_all(children)
    console.print("Lodestar stopped.")
    return 0 if stopped else 1
