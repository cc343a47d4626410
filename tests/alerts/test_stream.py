"""Server-sent events against a live uvicorn server on loopback (bounded by short timeouts)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from servicelens.alerts import router as alerts_router
from servicelens.alerts import service
from servicelens.core.db import Database
from tests.alerts.conftest import free_port
from tests.conftest import PASSWORDS, Org


@pytest.fixture
def live(db: Database, org: Org, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from servicelens.app import create_app

    monkeypatch.setattr(alerts_router, "STREAM_POLL_S", 0.05)
    monkeypatch.setattr(alerts_router, "STREAM_HEARTBEAT_S", 0.2)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(db=db), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@contextmanager
def _login(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=httpx.Timeout(5.0)) as client:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORDS[username]})
        assert r.status_code == 200, r.text
        yield client


def _events(
    lines: Iterator[str], want: int, deadline: float, ping: bool = False
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse SSE lines until ``want`` notification events (and a heartbeat if ``ping``) arrived,
    or the deadline passed."""
    events: list[dict[str, Any]] = []
    comments: list[str] = []
    current: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            comments.append(line[1:].strip())
        elif line == "":
            if current.get("event") == "notification":
                events.append({"id": int(current["id"]), **json.loads(current["data"])})
            current = {}
        else:
            key, _, value = line.partition(":")
            current[key] = value.lstrip()
        if (len(events) >= want and (not ping or "ping" in comments)) or time.monotonic() > deadline:
            break
    return events, comments


def _notify(db: Database, user_id: int, title: str) -> int:
    with db.session() as s:
        return service.notify(s, user_ids=[user_id], kind="escalation", title=title, body="正文")[0].id


def test_stream_delivers_new_notifications_live(live: str, db: Database, org: Org) -> None:
    me = org.users["agent1"]
    _notify(db, me, "连接前的旧消息")  # not replayed without Last-Event-ID
    with _login(live, "agent1") as client, client.stream("GET", "/api/v1/notifications/stream") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        assert next(lines).startswith("retry:")

        def later() -> None:
            time.sleep(0.2)
            _notify(db, org.users["agent2"], "别人的消息")
            _notify(db, me, "新的升级通知 New escalation")

        threading.Thread(target=later, daemon=True).start()
        events, comments = _events(lines, 1, time.monotonic() + 5, ping=True)
    assert [e["title"] for e in events] == ["新的升级通知 New escalation"]
    assert events[0]["kind"] == "escalation" and events[0]["read_at"] is None
    assert "connected" in comments and "ping" in comments


def test_stream_resumes_after_last_event_id(live: str, db: Database, org: Org) -> None:
    me = org.users["agent1"]
    first = _notify(db, me, "一")
    _notify(db, me, "二")
    _notify(db, me, "三")
    with (
        _login(live, "agent1") as client,
        client.stream("GET", "/api/v1/notifications/stream", headers={"Last-Event-ID": str(first)}) as r,
    ):
        events, _ = _events(r.iter_lines(), 2, time.monotonic() + 5)
    assert [e["title"] for e in events] == ["二", "三"]
    assert events[0]["id"] > first
