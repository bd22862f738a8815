"""Each transport over real sockets: exact bodies and signatures, and failure classification."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from lodestar.integrations.dingtalk.transport import DingTalkTransport
from lodestar.integrations.email.transport import EmailTransport
from lodestar.integrations.feishu.transport import FeishuTransport
from lodestar.integrations.transport import (
    Destination,
    Message,
    PermanentError,
    RetryableError,
    transport_for,
)
from lodestar.integrations.webhooks import post_json
from lodestar.integrations.wecom.transport import WeComTransport
from tests.integrations.servers import Received, Reply, SmtpServer, WebhookReceiver, refused_url

MESSAGE = Message(
    title="任务逾期:发送定制化方案",
    body="演示后 24 小时内需发送方案。",
    link="https://lodestar.example/tasks/7",
    idempotency_key="lodestar-1-7",
)
SECRET = "SEC0123456789abcdef"


def reply_with(status: int, payload: dict[str, object] | str, **headers: str):  # type: ignore[no-untyped-def]
    def reply(_: Received) -> Reply:
        return status, payload, headers

    return reply


class TestDingTalk:
    def test_it_signs_the_url_as_documented(self, receiver: WebhookReceiver) -> None:
        transport = DingTalkTransport()
        transport.clock = lambda: 1_700_000_000.123
        transport.send(
            MESSAGE, Destination(webhook_url=receiver.url + "?access_token=tok", secret=SECRET)
        )

        (got,) = receiver.received
        assert got.query["access_token"] == "tok"
        assert got.query["timestamp"] == "1700000000123"
        # Independently: HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret), base64.
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), f"1700000000123\n{SECRET}".encode(), hashlib.sha256).digest()
        ).decode()
        assert got.query["sign"] == expected
        # …and URL-encoded on the wire ("+", "/" and "=" never appear raw).
        raw_sign = got.raw_query.split("sign=", 1)[1]
        assert urllib.parse.unquote_plus(raw_sign) == expected
        assert not set("+/=") & set(raw_sign)

    def test_it_posts_markdown(self, receiver: WebhookReceiver) -> None:
        DingTalkTransport().send(MESSAGE, Destination(webhook_url=receiver.url))
        (got,) = receiver.received
        assert "sign" not in got.query  # no secret, no signature
        assert got.body["msgtype"] == "markdown"
        assert got.body["markdown"]["title"] == MESSAGE.title
        assert MESSAGE.body in got.body["markdown"]["text"]
        assert MESSAGE.link in got.body["markdown"]["text"]
        assert got.headers["Content-Type"] == "application/json; charset=utf-8"
        assert got.headers["Idempotency-Key"] == "lodestar-1-7"

    def test_it_retries_on_the_rate_limit_code(self, receiver: WebhookReceiver) -> None:
        receiver.reply = reply_with(200, {"errcode": 130101, "errmsg": "send too fast"})
        with pytest.raises(RetryableError, match="130101"):
            DingTalkTransport().send(MESSAGE, Destination(webhook_url=receiver.url))

    def test_it_gives_up_on_a_rejected_signature(self, receiver: WebhookReceiver) -> None:
        receiver.reply = reply_with(200, {"errcode": 310000, "errmsg": "sign not match"})
        with pytest.raises(PermanentError, match="310000"):
            DingTalkTransport().send(MESSAGE, Destination(webhook_url=receiver.url))


class TestFeishu:
    def test_it_signs_the_body_as_documented(self, receiver: WebhookReceiver) -> None:
        transport = FeishuTransport()
        transport.clock = lambda: 1_599_360_473.9
        transport.send(MESSAGE, Destination(webhook_url=receiver.url, secret=SECRET))

        (got,) = receiver.received
        assert got.query == {}
        assert got.body["timestamp"] == "1599360473"
        # Independently: HMAC-SHA256(key=timestamp + "\n" + secret, msg=b""), base64.
        key = f"1599360473\n{SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        assert got.body["sign"] == expected

    def test_it_posts_a_rich_text_post(self, receiver: WebhookReceiver) -> None:
        FeishuTransport().send(MESSAGE, Destination(webhook_url=receiver.url))
        (got,) = receiver.received
        assert "sign" not in got.body
        assert got.body["msg_type"] == "post"
        post = got.body["content"]["post"]["zh_cn"]
        assert post["title"] == MESSAGE.title
        assert post["content"][0] == [{"tag": "text", "text": MESSAGE.body}]
        assert post["content"][1][0]["href"] == MESSAGE.link

    @pytest.mark.parametrize("code", [9499, 11232])
    def test_it_retries_on_rate_limits(self, receiver: WebhookReceiver, code: int) -> None:
        receiver.reply = reply_with(200, {"code": code, "msg": "too many request"})
        with pytest.raises(RetryableError):
            FeishuTransport().send(MESSAGE, Destination(webhook_url=receiver.url))

    def test_it_gives_up_on_a_bad_signature(self, receiver: WebhookReceiver) -> None:
        receiver.reply = reply_with(200, {"code": 19021, "msg": "sign match fail"})
        with pytest.raises(PermanentError, match="19021"):
            FeishuTransport().send(MESSAGE, Destination(webhook_url=receiver.url))

    def test_it_accepts_the_older_reply_shape(self, receiver: WebhookReceiver) -> None:
        receiver.reply = reply_with(200, {"StatusCode": 0, "StatusMessage": "success"})
        FeishuTransport().send(MESSAGE, Destination(webhook_url=receiver.url))
        assert len(receiver.received) == 1
        # The older shape is read, not ignored: its failures are classified like the current ones.
        receiver.reply = reply_with(200, {"StatusCode": 9499, "StatusMessage": "too many request"})
        with pytest.raises(RetryableError, match="9499: too many request"):
            FeishuTransport().send(MESSAGE, Destination(webhook_url=receiver.url))
        receiver.reply = reply_with(200, {"StatusCode": 19021, "StatusMessage": "sign match fail"})
        with pytest.raises(PermanentError, match="19021: sign match fail"):
            FeishuTransport().send(MESSAGE, Destination(webhook_url=receiver.url))


class TestWeCom:
    def test_it_posts_markdown(self, receiver: WebhookReceiver) -> None:
        WeComTransport().send(MESSAGE, Destination(webhook_url=receiver.url + "?key=k"))
        (got,) = receiver.received
        assert got.query == {"key": "k"}
        assert got.body["msgtype"] == "markdown"
        assert got.body["markdown"]["content"].startswith(f"**{MESSAGE.title}**")

    def test_it_truncates_to_the_platform_limit(self, receiver: WebhookReceiver) -> None:
        long = Message(title="t", body="长" * 3000, link="", idempotency_key="k")
        WeComTransport().send(long, Destination(webhook_url=receiver.url))
        assert len(receiver.received[0].body["markdown"]["content"].encode()) <= 4096

    def test_it_classifies_platform_codes(self, receiver: WebhookReceiver) -> None:
        receiver.reply = reply_with(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
        with pytest.raises(RetryableError):
            WeComTransport().send(MESSAGE, Destination(webhook_url=receiver.url))
        receiver.reply = reply_with(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        with pytest.raises(PermanentError):
            WeComTransport().send(MESSAGE, Destination(webhook_url=receiver.url))


class TestHttpFailures:
    def test_a_receiver_that_is_down_is_retryable(self) -> None:
        with pytest.raises(RetryableError, match="cannot connect"):
            post_json(refused_url(), {})

    @pytest.mark.parametrize("status", [500, 502, 503, 429])
    def test_5xx_and_429_are_retryable(self, receiver: WebhookReceiver, status: int) -> None:
        receiver.reply = reply_with(status, {"error": "busy"}, **{"Retry-After": "120"})
        with pytest.raises(RetryableError) as caught:
            post_json(receiver.url, {})
        assert caught.value.retry_after == dt.timedelta(seconds=120)

    @pytest.mark.parametrize("status", [400, 403, 404])
    def test_4xx_is_permanent(self, receiver: WebhookReceiver, status: int) -> None:
        receiver.reply = reply_with(status, {"error": "no"})
        with pytest.raises(PermanentError, match=str(status)):
            post_json(receiver.url, {})

    def test_a_reply_that_is_not_json_is_permanent(self, receiver: WebhookReceiver) -> None:
        receiver.reply = reply_with(200, "<html>captive portal</html>")
        with pytest.raises(PermanentError, match="JSON"):
            post_json(receiver.url, {})

    @pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y", ""])
    def test_only_http_urls_are_fetched(self, url: str) -> None:
        with pytest.raises(PermanentError):
            post_json(url, {})

    def test_a_receiver_that_hangs_times_out_retryably(self) -> None:
        release = threading.Event()

        class Slow(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                release.wait(5)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            started = time.monotonic()
            with pytest.raises(RetryableError):
                post_json(f"http://127.0.0.1:{server.server_address[1]}/", {}, timeout=0.3)
            assert time.monotonic() - started < 3
        finally:
            release.set()
            server.shutdown()
            server.server_close()


class TestEmail:
    def test_it_sends_through_django_mail(self) -> None:
        # pytest-django installs the locmem backend: the message lands in mail.outbox.
        EmailTransport().send(MESSAGE, Destination(email_address="rep@example.com"))
        (sent,) = mail.outbox
        assert sent.to == ["rep@example.com"]
        assert sent.subject == MESSAGE.title
        assert MESSAGE.link in sent.body
        assert sent.extra_headers["Message-ID"] == "<lodestar-1-7@localhost>"

    def test_it_does_a_real_smtp_round_trip(self, settings, smtp_server: SmtpServer) -> None:  # type: ignore[no-untyped-def]
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
        EmailTransport().send(MESSAGE, Destination(email_address="rep@example.com"))
        (got,) = smtp_server.messages
        assert got.recipients == ["<rep@example.com>"]
        assert "Message-ID: <lodestar-1-7@localhost>" in got.data

    @pytest.mark.parametrize(
        ("reply", "error"), [("550 no such user", PermanentError), ("451 later", RetryableError)]
    )
    def test_it_classifies_smtp_refusals(  # type: ignore[no-untyped-def]
        self, settings, smtp_server: SmtpServer, reply: str, error: type[Exception]
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
        smtp_server.rcpt_reply = reply
        with pytest.raises(error):
            EmailTransport().send(MESSAGE, Destination(email_address="rep@example.com"))

    def test_an_smtp_server_that_is_down_is_retryable(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        port = int(refused_url().rsplit(":", 1)[1].split("/")[0])
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        with pytest.raises(RetryableError):
            EmailTransport().send(MESSAGE, Destination(email_address="rep@example.com"))

    def test_it_needs_an_address(self) -> None:
        with pytest.raises(PermanentError):
            EmailTransport().send(MESSAGE, Destination())


class TestRegistry:
    def test_it_finds_each_kind(self) -> None:
        assert isinstance(transport_for("dingtalk"), DingTalkTransport)
        assert isinstance(transport_for("feishu"), FeishuTransport)
        assert isinstance(transport_for("wecom"), WeComTransport)
        assert isinstance(transport_for("email"), EmailTransport)

    def test_a_switched_off_kind_fails_permanently(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.LODESTAR_TRANSPORTS = {"wecom": None}
        with pytest.raises(PermanentError, match="switched off"):
            transport_for("wecom")
