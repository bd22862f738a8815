"""A receiving system for the outbound webhook tests: http.server in a thread on 127.0.0.1.

It keeps each request's raw body and headers, verifies the signature with the recipe of
docs/webhooks.md (`verify`), recognises a delivery it has seen (by X-Lodestar-Delivery), and
answers with the statuses the test queues (200 once the queue is empty).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> bool:
    """The receiver's check, as docs/webhooks.md gives it: a fresh timestamp, and one of the
    ``v1=`` signatures equal to HMAC-SHA256(secret, "<timestamp>.<body>")."""
    timestamp = headers.get("X-Lodestar-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    offered = [
        part.strip().removeprefix("v1=")
        for part in headers.get("X-Lodestar-Signature", "").split(",")
        if part.strip().startswith("v1=")
    ]
    return any(hmac.compare_digest(expected, value) for value in offered)


@dataclass
class Arrival:
    headers: dict[str, str]
    body: bytes
    duplicate: bool  # the delivery id was seen before


@dataclass
class Receiver:
    statuses: deque[int] = field(default_factory=deque)
    arrivals: list[Arrival] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/lodestar"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = dict(self.headers.items())
                delivery = headers.get("X-Lodestar-Delivery", "")
                with receiver.lock:
                    receiver.arrivals.append(Arrival(headers, body, delivery in receiver.seen))
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    if 200 <= status < 300:
                        receiver.seen.add(delivery)
                answer = b"ok" if status < 300 else b"receiver says no"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
