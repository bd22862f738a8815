"""Run the web server and the worker as one process group that Ctrl-C stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from rich.console import Console

console = Console()

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# The local demo is plain HTTP on loopback; HTTPS-only protections would lock the browser out.
LOCAL_HTTP_ENV = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}
SHUTDOWN_GRACE_SECONDS = 10.0


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
    banner: Callable[[str], None] | None = None,
) -> int:
    """Start gunicorn (and the worker); return the exit code once both have stopped."""
    environment = serving_environment(host)
    subprocess.run(
        [sys.executable, "-m", "lodestar.cli", "manage", "collectstatic", "--noinput", "-v0"],
        env=environment,
        check=True,
    )
    bind = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
    commands = [
        [
            sys.executable, "-m", "gunicorn", "lodestar.wsgi:application",
            "--bind", bind, "--workers", str(web_workers), "--access-logfile", "-",
            "--graceful-timeout", "5", "--config", "python:lodestar.web.gunicorn_conf",
        ]
    ]  # fmt: skip
    if with_worker:
        commands.append([sys.executable, "-m", "lodestar.cli", "worker"])
    children = [
        subprocess.Popen(command, env=environment)  # noqa: S603 — fixed argument lists
        for command in commands
    ]
    url = f"http://{bind}/"
    if banner is not None:
        banner(url)
    else:
        console.print(f"Lodestar is serving on [bold]{url}[/bold] — Ctrl-C stops it.")

    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM if child is children[0] else signal.SIGINT)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    console.print("Lodestar stopped.")
    crashed = [child.returncode for child in children if child.returncode not in (0, -2, -15)]
    return 0 if stopping or not crashed else 1
