"""Loopback receivers for the notification tests: a scripted HTTP server and an in-process SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

import servicelens.alerts.jobs  # noqa: F401 — registers the alerts.deliver handler for drain()

_HASHES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _cached_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash each seed password once per session (argon2 is deliberately slow; the org fixture
    hashes six passwords per test)."""
    from servicelens.core import security

    real = security.hash_password

    def cached(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = real(password)
        return _HASHES[password]

    monkeypatch.setattr(security, "hash_password", cached)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


# A responder gets (index of the request, the request) and returns (status, body, delay seconds).
Responder = Callable[[int, Received], tuple[int, Any, float]]


def ok_responder(_: int, __: Received) -> tuple[int, Any, float]:
    return 200, {"ok": True}, 0.0


@dataclass
class Receiver:
    """A threaded HTTP server on a free loopback port that records every request."""

    responder: Responder = ok_responder
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                req = Received(
                    "POST", parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body
                )
                with outer.lock:
                    index = len(outer.requests)
                    outer.requests.append(req)
                status, reply, delay = outer.responder(index, req)
                if delay:
                    outer.release.wait(delay)  # a "hanging" receiver, released at teardown
                raw = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Factory: ``receiver(responder)`` starts a loopback HTTP receiver, stopped after the test."""
    started: list[Receiver] = []

    def make(responder: Responder = ok_responder) -> Receiver:
        r = Receiver(responder).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Envelope] = field(default_factory=list)
    reject_rcpt: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.box.reject_rcpt:
            return self.box.reject_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.box.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    port = free_port()
    box = Mailbox("127.0.0.1", port)
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
