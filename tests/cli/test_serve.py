"""`lodestar run` serves the app and the worker, and Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    result = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line) for line in result.stdout.split()]


@pytest.fixture
def served_var(tmp_path: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "LODESTAR_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "lodestar.settings",
    }
    environment.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "lodestar.cli", "migrate"],
        env=environment,
        check=True,
        capture_output=True,
    )
    return environment


def test_it_serves_the_login_page_and_stops_web_and_worker_on_ctrl_c(
    served_var: dict[str, str],
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lodestar.cli", "run", "--port", str(port), "--web-workers", "1"],
        env=served_var,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert 'name="password"' in body
        servers = children_of(process.pid)
        assert len(servers) == 2, "gunicorn and the worker run as children"

        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    for pid in servers:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
