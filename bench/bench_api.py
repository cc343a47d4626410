"""API load benchmark: GET /api/v1/tickets/{id} and a filtered list page under wrk, on loopback.

Builds (or reuses) a SQLite database with N demo tickets (default 1,000,000), starts
`servicelens serve` with 2 workers, mints an API token and drives the server with Debian's wrk
for a bounded time. Baseline in the same run: GET /healthz (the framework's own ceiling).

    .venv/bin/python bench/bench_api.py [--tickets 1000000] [--duration 15] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SL = str(ROOT / ".venv" / "bin" / "servicelens")

LUA_RANDOM_ID = """
math.randomseed(42)
local max_id = %d
request = function()
  return wrk.format("GET", "/api/v1/tickets/" .. math.random(1, max_id))
end
"""

LUA_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("JSON{\\"requests\\":%d,\\"duration_us\\":%d,\\"errors\\":%d,\\"non2xx\\":%d,"
    .. "\\"p50_ms\\":%.3f,\\"p99_ms\\":%.3f}\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50)/1000, latency:percentile(99)/1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_wrk(url: str, token: str, duration: int, script: str, threads: int = 2, conns: int = 16) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + LUA_REPORT)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{conns}",
            f"-d{duration}s",
            "--latency",
            "-s",
            f.name,
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    os.unlink(f.name)
    data: dict[str, float] = json.loads(re.search(r"JSON(\{.*\})", out).group(1))  # type: ignore[union-attr]
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--db", type=Path, default=None, help="reuse this SQLite file (created if missing)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    db_path = args.db or Path(tempfile.gettempdir()) / f"sl_bench_api_{args.tickets}.db"
    env = {**os.environ, "SERVICELENS_DATABASE_URL": f"sqlite:///{db_path}"}
    t0 = time.perf_counter()
    subprocess.run([SL, "init"], env=env, check=True, capture_output=True)
    # The generator, then SLA targets for the open tickets only (the SLA-urgency sort needs them;
    # replaying the whole year's history is the demo's job, not this benchmark's).
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from rich.console import Console; from servicelens.core.db import Database; "
            "from servicelens.demo.generator import generate; "
            "from servicelens.sla.defaults import ensure_defaults; from servicelens.sla.service import rebuild; "
            f"db = Database(); generate(db, tickets={args.tickets}, seed=42, days=365, console=Console(stderr=True)); "
            "s = db.sessionmaker(); ensure_defaults(s); s.commit(); s.close(); rebuild(db, open_only=True)",
        ],
        env=env,
        check=True,
    )
    print(f"database ready with {args.tickets:,} tickets in {time.perf_counter() - t0:.0f} s: {db_path}")

    port = free_port()
    server = subprocess.Popen(
        [SL, "serve", "--port", str(port), "--workers", str(args.workers)], env=env, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(
            base + "/api/v1/auth/login",
            data=json.dumps({"username": "admin", "password": "admin12345"}).encode(),
            headers={"content-type": "application/json"},
        )
        resp = urllib.request.urlopen(req)
        cookie = resp.headers["set-cookie"].split(";")[0]
        csrf = json.loads(resp.read())["csrf_token"]
        req = urllib.request.Request(
            base + "/api/v1/auth/tokens",
            data=json.dumps({"name": "bench", "scopes": ["read"]}).encode(),
            headers={"content-type": "application/json", "cookie": cookie, "X-CSRF-Token": csrf},
        )
        token = json.loads(urllib.request.urlopen(req).read())["token"]

        results = {
            "GET /healthz (baseline)": run_wrk(base + "/healthz", token, args.duration, ""),
            "GET /api/v1/tickets/{id}": run_wrk(base, token, args.duration, LUA_RANDOM_ID % args.tickets),
            "GET /api/v1/tickets?status=in_progress&priority=high&page_size=20": run_wrk(
                base + "/api/v1/tickets?status=in_progress&priority=high&page_size=20", token, args.duration, ""
            ),
            # The unfiltered first page (counted up to the cap) and the SLA-urgency queue.
            "GET /api/v1/tickets?page_size=20": run_wrk(
                base + "/api/v1/tickets?page_size=20", token, args.duration, ""
            ),
            "GET /api/v1/tickets?sort=sla_due&page_size=20": run_wrk(
                base + "/api/v1/tickets?sort=sla_due&page_size=20", token, args.duration, ""
            ),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    baseline = results["GET /healthz (baseline)"]["rps"]
    print(f"\n{args.tickets:,} tickets, {args.workers} workers, wrk 2 threads × 16 connections, {args.duration} s each")
    print(f"{'endpoint':<70} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs baseline':>11}")
    for name, r in results.items():
        print(
            f"{name:<70} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{int(r['errors'] + r['non2xx']):>7} {r['rps'] / baseline:>10.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
