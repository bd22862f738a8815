"""Real local receivers for delivery tests: an HTTP webhook endpoint and a tiny SMTP server.

Both listen on 127.0.0.1 on a random port in a background thread, record what arrived, and
answer as the test tells them, so transports are tested over real sockets.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_query: str
    body: dict[str, Any]


Reply = tuple[int, dict[str, Any] | str, dict[str, str]]


def ok_reply(_: Received) -> Reply:
    return 200, {"errcode": 0, "errmsg": "ok", "code": 0}, {}


@dataclass
class WebhookReceiver:
    """Records every POST; ``reply`` decides the answer (status, JSON or text, headers)."""

    reply: Callable[[Received], Reply] = ok_reply
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def keys(self) -> list[str]:
        with self.lock:
            return [item.headers.get("Idempotency-Key", "") for item in self.received]

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                parsed = urllib.parse.urlsplit(self.path)
                item = Received(
                    path=parsed.path,
                    query=dict(urllib.parse.parse_qsl(parsed.query)),
                    raw_query=parsed.query,
                    headers=dict(self.headers.items()),
                    body=json.loads(raw.decode("utf-8")),
                )
                with receiver.lock:
                    receiver.received.append(item)
                status, payload, headers = receiver.reply(item)
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

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


def refused_url() -> str:
    """A URL on a port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@dataclass
class SmtpMessage:
    sender: str
    recipients: list[str]
    data: str


class _SmtpSession(socketserver.StreamRequestHandler):
    """One client connection: answers each command line until QUIT or the client hangs up."""

    server: _SmtpListener
    sender: str
    recipients: list[str]

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def readline(self) -> str:
        return self.rfile.readline().decode("utf-8", "replace")

    def handle(self) -> None:
        self.sender, self.recipients = "", []
        self.reply("220 localhost test SMTP")
        while line := self.readline().rstrip("\r\n"):
            verb = line[:4].upper()
            if verb == "QUIT":
                self.reply("221 bye")
                return
            command = self.COMMANDS.get(verb)
            if command is None:
                self.reply("502 not implemented")
            else:
                command(self, line)

    def ehlo(self, _: str) -> None:
        self.reply("250-localhost")
        self.reply("250 8BITMIME")

    def helo(self, _: str) -> None:
        self.reply("250 localhost")

    def mail(self, line: str) -> None:
        self.sender, self.recipients = line.split(":", 1)[1].strip(), []
        self.reply("250 OK")

    def rcpt(self, line: str) -> None:
        answer = self.server.smtp.rcpt_reply
        if answer.startswith("250"):
            self.recipients.append(line.split(":", 1)[1].strip())
        self.reply(answer)

    def data(self, _: str) -> None:
        self.reply("354 go ahead")
        lines: list[str] = []
        while (chunk := self.readline()) not in (".\r\n", ".\n", ""):
            lines.append(chunk[1:] if chunk.startswith("..") else chunk)
        self.server.smtp.messages.append(SmtpMessage(self.sender, self.recipients, "".join(lines)))
        self.reply("250 queued")

    def rset(self, _: str) -> None:
        self.sender, self.recipients = "", []
        self.reply("250 OK")

    COMMANDS: ClassVar[dict[str, Callable[[_SmtpSession, str], None]]] = {
        "EHLO": ehlo,
        "HELO": helo,
        "NOOP": helo,
        "MAIL": mail,
        "RCPT": rcpt,
        "DATA": data,
        "RSET": rset,
    }


class _SmtpListener(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, smtp: SmtpServer) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.smtp = smtp


@dataclass
class SmtpServer:
    """Just enough SMTP (RFC 5321) for Django's backend: EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT.

    ``rcpt_reply`` lets a test refuse recipients (``"550 no such user"``, ``"451 try later"``).
    """

    rcpt_reply: str = "250 OK"
    messages: list[SmtpMessage] = field(default_factory=list)
    server: socketserver.ThreadingTCPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> SmtpServer:
        self.server = _SmtpListener(self)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
