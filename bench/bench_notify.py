"""Notification fan-out benchmark: N signed webhook deliveries through the real delivery path.

Builds a temporary SQLite database (migrations), starts a loopback HTTP receiver that verifies each
HMAC signature and counts deliveries by their ``X-Servicelens-Delivery`` id, queues N deliveries
with ``alerts.service.broadcast`` (Delivery row + job, in transactions of 500), then runs the job
queue's ``Worker`` with a few concurrent job threads until every delivery is settled. Reports the
time taken, deliveries/s, and lost / duplicated / badly signed deliveries as counted by the receiver.

Baseline in the same run: the same N signed POSTs sent directly with one ``httpx.Client``,
sequentially, without the queue or the database.

    .venv/bin/python bench/bench_notify.py [--n 10000] [--concurrency 8] [--timeout 600]

Loopback only; it stops by itself (``--timeout`` bounds each phase).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import multiprocessing
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import servicelens.alerts.jobs  # noqa: E402, F401 — registers the alerts.deliver handler
from servicelens.alerts import service  # noqa: E402
from servicelens.alerts.channels import OutboundMessage, http_transport, sign_webhook  # noqa: E402
from servicelens.alerts.models import Delivery, NotificationChannel  # noqa: E402
from servicelens.core.clock import utcnow  # noqa: E402
from servicelens.core.db import Database  # noqa: E402
from servicelens.core.jobs import Worker  # noqa: E402
from servicelens.core.migrate import upgrade  # noqa: E402

SECRET = "bench-secret-0123456789"
BATCH = 500


def _serve_receiver(port_out: Connection) -> None:
    """Receiver process: verifies signatures, counts delivery ids; GET /_stats, POST /_reset."""
    counts: Counter[str] = Counter()
    state = {"bad": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = -1  # status, headers and body in one write (flushed after each request)

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, raw: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            with lock:
                raw = json.dumps({"counts": counts, "bad_signatures": state["bad"]}).encode()
            self._reply(200, raw)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/_reset":
                with lock:
                    counts.clear()
                    state["bad"] = 0
                self._reply(200, b"{}")
                return
            ts = self.headers.get("X-Servicelens-Timestamp", "")
            good = hmac.compare_digest(self.headers.get("X-Servicelens-Signature", ""), sign_webhook(SECRET, ts, body))
            with lock:
                counts[self.headers.get("X-Servicelens-Delivery", "")] += 1
                if not good:
                    state["bad"] += 1
            self._reply(200 if good else 401, b'{"ok":true}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever(poll_interval=0.1)


class CountingReceiver:
    """A loopback HTTP/1.1 receiver in its own process (so it does not share our GIL)."""

    def __init__(self) -> None:
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(target=_serve_receiver, args=(child,), daemon=True)
        self.process.start()
        if not parent.poll(10):
            raise RuntimeError("receiver did not start")
        self.port = int(parent.recv())
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def reset(self) -> None:
        self.control.post("/_reset").raise_for_status()

    def tally(self, expected: set[str]) -> dict[str, int]:
        stats = self.control.get("/_stats").json()
        counts: dict[str, int] = stats["counts"]
        received = set(counts)
        return {
            "received_unique": len(received & expected),
            "requests": sum(counts.values()),
            "lost": len(expected - received),
            "duplicates": sum(c - 1 for c in counts.values() if c > 1),
            "unexpected": len(received - expected),
            "bad_signatures": int(stats["bad_signatures"]),
        }

    def stop(self) -> None:
        self.control.close()
        self.process.terminate()
        self.process.join(5)


def queue_deliveries(db: Database, n: int, channel_id: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, n, BATCH):
        with db.session() as s:
            for i in range(start, min(n, start + BATCH)):
                (d,) = service.broadcast(
                    s,
                    channel_ids=[channel_id],
                    title=f"工单 #{i} 升级 Escalation",
                    body="投诉工单超过 2 小时未处理 / complaint unhandled for 2 h",
                    event="ticket.escalated",
                    data={"ticket_id": i, "level": 1},
                )
                ids.append(d.id)
    return ids


def run_queue(db: Database, n: int, concurrency: int, timeout: float) -> float:
    worker = Worker(db, name="bench", concurrency=concurrency, poll_s=0.01, periodic=False)
    started = time.perf_counter()
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with db.session() as s:
                settled = s.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status.in_(("sent", "dead")))
                )
            if settled == n:
                break
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        worker.stop(timeout=30)


def run_baseline(url: str, ids: list[int], timeout: float) -> float:
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=10.0, transport=http_transport()) as client:
        for i, delivery_id in enumerate(ids):
            msg = OutboundMessage(
                delivery_id=str(delivery_id),
                kind="ticket.escalated",
                title=f"工单 #{i} 升级 Escalation",
                body="投诉工单超过 2 小时未处理 / complaint unhandled for 2 h",
                data={"ticket_id": i, "level": 1},
            )
            body = json.dumps(msg.as_json(), ensure_ascii=False, separators=(",", ":")).encode()
            ts = str(int(time.time()))
            client.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-Servicelens-Delivery": str(delivery_id),
                    "X-Servicelens-Timestamp": ts,
                    "X-Servicelens-Signature": sign_webhook(SECRET, ts, body),
                },
            ).raise_for_status()
            if time.monotonic() > deadline:
                break
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="deliveries (default 10000)")
    parser.add_argument("--concurrency", type=int, default=8, help="worker job threads (default 8)")
    parser.add_argument("--timeout", type=float, default=600.0, help="bound of each phase, seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="sl_bench_notify_"))
    db = Database(f"sqlite:///{tmp}/bench.db")
    receiver = CountingReceiver()
    try:
        upgrade(db.engine)
        with db.session() as s:
            channel = NotificationChannel(
                name="bench webhook",
                kind="webhook",
                config=service.validate_config("webhook", {"url": receiver.url, "secret": SECRET}),
                is_active=True,
                created_at=utcnow(),
            )
            s.add(channel)
            s.flush()
            channel_id = channel.id

        print(f"servicelens notification fan-out: {args.n:,} signed webhook deliveries to {receiver.url}")
        t0 = time.perf_counter()
        c0 = time.process_time()
        ids = queue_deliveries(db, args.n, channel_id)
        t_enqueue = time.perf_counter() - t0
        c_enqueue = time.process_time() - c0
        print(
            f"  enqueue (Delivery row + job, {BATCH}/transaction): {t_enqueue:.2f} s "
            f"(CPU {c_enqueue / args.n * 1000:.2f} ms/delivery)"
        )

        c0 = time.process_time()
        t_queue = run_queue(db, args.n, args.concurrency, args.timeout)
        c_queue = time.process_time() - c0
        expected = {str(i) for i in ids}
        queue_tally = receiver.tally(expected)
        with db.session() as s:
            statuses = dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        rate = args.n / t_queue if t_queue else 0.0
        print(f"  delivery through the job queue (Worker, concurrency {args.concurrency}): {t_queue:.2f} s")
        print(
            f"    {rate:,.0f} deliveries/s (CPU {c_queue / args.n * 1000:.2f} ms/delivery); "
            f"delivery statuses {statuses}"
        )
        print(
            f"    receiver: {queue_tally['received_unique']:,} received, lost {queue_tally['lost']}, "
            f"duplicates {queue_tally['duplicates']}, bad signatures {queue_tally['bad_signatures']}"
        )

        receiver.reset()
        c0 = time.process_time()
        t_base = run_baseline(receiver.url, ids, args.timeout)
        c_base = time.process_time() - c0
        base_tally = receiver.tally(expected)
        base_rate = args.n / t_base if t_base else 0.0
        print(f"  baseline: the same {args.n:,} POSTs with one httpx.Client, sequential, no queue: {t_base:.2f} s")
        print(
            f"    {base_rate:,.0f} requests/s (CPU {c_base / args.n * 1000:.2f} ms/request); "
            f"receiver: lost {base_tally['lost']}, duplicates {base_tally['duplicates']}"
        )
        ratio = rate / base_rate if base_rate else 0.0
        print(f"  ratio (queued deliveries/s ÷ direct POSTs/s): {ratio:.2f}")
        total_s = t_enqueue + t_queue
        print(f"  end to end incl. enqueue: {total_s:.2f} s ({args.n / total_s:,.0f} /s)")
        ok = (
            queue_tally["lost"] == 0
            and queue_tally["duplicates"] == 0
            and queue_tally["bad_signatures"] == 0
            and statuses.get("sent", 0) == args.n
        )
        print("  result:", "OK — none lost, none duplicated" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        receiver.stop()
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
