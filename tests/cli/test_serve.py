"""`lodestar run` serves the app and the worker, restarts either when it dies, and Ctrl-C or
SIGTERM stops both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lodestar.cli.serve import Backoff


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


def login_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
        return response.read().decode()


def wait_for_login_page(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            assert 'name="password"' in login_page(port)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def is_gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


class Served:
    """`lodestar run` in a process of its own, with fast restart pauses; its output read on
    the side so a long run never blocks on a full pipe."""

    def __init__(self, environment: dict[str, str], **extra: str) -> None:
        self.port = free_port()
        self.output_file = Path(environment["LODESTAR_VAR_DIR"]) / "run.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lodestar.cli", "run", "--port", str(self.port),
             "--web-workers", "1", "--restart-delay", "0.2", "--restart-max-delay", "0.8"],
            env={**environment, **extra},
            stdout=self.output_file.open("w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_login_page(self.port)

    @property
    def output(self) -> str:
        return self.output_file.read_text()

    def child(self, name: str) -> int:
        """The pid of the child `name`: "gunicorn" (the web server) or "worker"."""
        for pid in children_of(self.process.pid):
            try:
                arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0")
            except FileNotFoundError:
                continue
            is_worker = arguments.endswith("lodestar.cli\0worker")
            if is_worker == (name == "worker"):
                return pid
        raise LookupError(name)

    def wait_for_output(self, text: str, seconds: float = 30) -> bool:
        """Whether `text` shows in the output within `seconds`: the supervisor writes its line
        after the child it started is already listed, and on a loaded machine later still."""
        deadline = time.monotonic() + seconds
        while text not in self.output:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def wait_for_new_child(self, name: str, old_pid: int, seconds: float = 30) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                pid = self.child(name)
                if pid != old_pid and not is_gone(pid):
                    return pid
            except LookupError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no new {name} within {seconds} s:\n{self.output}")

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture
def served(served_var: dict[str, str]) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(**extra: str) -> Served:
        started.append(Served(served_var, **extra))
        return started[-1]

    yield start
    for each in started:
        if each.process.poll() is None:
            each.process.kill()
            each.process.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_it_serves_the_login_page_and_stops_web_and_worker_on_a_signal(
    served: Callable[..., Served], signum: int
) -> None:
    run = served()
    children = children_of(run.process.pid)
    assert len(children) == 2, "gunicorn and the worker run as children"
    assert run.stop(signum) == 0, run.output
    assert f"http://127.0.0.1:{run.port}/" in run.output
    assert "Lodestar stopped." in run.output
    assert all(is_gone(pid) for pid in children)


def test_a_killed_worker_comes_back_while_the_web_server_keeps_answering(
    served: Callable[..., Served],
) -> None:
    run = served()
    web, worker = run.child("gunicorn"), run.child("worker")
    os.kill(worker, signal.SIGKILL)
    answered = 0
    deadline = time.monotonic() + 30
    while True:
        assert 'name="password"' in login_page(run.port), "refused while the worker was down"
        answered += 1
        try:
            new_worker = run.child("worker")
            if new_worker != worker and not is_gone(new_worker):
                break
        except LookupError:  # between the death and the restart
            pass
        assert time.monotonic() < deadline, run.output
    assert answered >= 1
    assert run.child("gunicorn") == web, "the web server was left alone"
    assert run.wait_for_output(f"worker (pid {worker}) was killed by signal SIGKILL"), run.output
    assert run.wait_for_output(f"worker restarted (pid {new_worker})"), run.output
    assert run.stop() == 0


def test_a_killed_web_server_comes_back(served: Callable[..., Served]) -> None:
    run = served()
    web, worker = run.child("gunicorn"), run.child("worker")
    killed_at = time.monotonic()
    os.kill(web, signal.SIGKILL)
    new_web = run.wait_for_new_child("gunicorn", web)
    # Its old request handlers notice they lost their master and leave; the new one binds then.
    listening = f"Listening at: http://127.0.0.1:{run.port} ({new_web})"
    while listening not in run.output:
        assert time.monotonic() - killed_at < 30, run.output
        time.sleep(0.1)
    wait_for_login_page(run.port, seconds=30)
    print(f"new web server answering {time.monotonic() - killed_at:.1f} s after kill -9")
    assert run.wait_for_output(f"web server (pid {web}) was killed by signal SIGKILL"), run.output
    assert run.wait_for_output(f"web server restarted (pid {new_web})"), run.output
    assert run.child("worker") == worker, "the worker was left alone"
    assert run.stop(signal.SIGTERM) == 0


def test_a_worker_that_cannot_start_is_retried_with_growing_pauses_without_spinning(
    served: Callable[..., Served],
) -> None:
    # The worker refuses 0 threads and exits at once, every time.
    run = served(WORKER_THREADS="0")
    before = cpu_seconds(run.process.pid)
    time.sleep(4)
    used = cpu_seconds(run.process.pid) - before
    pauses = re.findall(
        r"worker \(pid \d+\) exited with code 2 after [\d.]+ s; restarting in ([\d.]+) s",
        run.output,
    )
    assert [float(pause) for pause in pauses[:4]] == [0.2, 0.4, 0.8, 0.8]
    assert 'name="password"' in login_page(run.port)
    print(f"supervisor CPU over 4 s of a crash loop: {used:.3f} s")
    assert used < 0.4
    assert run.stop() == 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process itself (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_restart_pauses_double_up_to_the_longest() -> None:
    backoff = Backoff(first=1, longest=30)
    pauses = [backoff.pause(deaths_in_a_row=deaths) for deaths in range(1, 8)]
    assert pauses == [1, 2, 4, 8, 16, 30, 30]


def test_a_child_that_stayed_up_long_enough_starts_again_from_the_first_pause() -> None:
    from lodestar.cli.serve import Child

    child = Child(name="worker", command=["true"], stop_signal=signal.SIGINT)
    backoff = Backoff(first=1, longest=30)
    for _ in range(3):
        child.start(dict(os.environ))
        assert child.process is not None
        child.process.wait()
        child.died(backoff=backoff, now=child.started_at + 5)
    assert child.deaths_in_a_row == 3
    child.start(dict(os.environ))
    assert child.process is not None
    child.process.wait()
    message = child.died(backoff=backoff, now=child.started_at + 61)
    assert child.deaths_in_a_row == 1
    assert message.endswith("exited with code 0 after 61.0 s; restarting in 1 s")


def test_it_refuses_a_first_pause_longer_than_the_longest() -> None:
    with pytest.raises(ValueError, match="--restart-delay 5"):
        Backoff(first=5, longest=1)
