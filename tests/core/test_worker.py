"""Workers as separate processes (`servicelens worker` and forked ones): no duplicate and no lost job
with three of them, a killed worker's job completes elsewhere, periodic tasks are leader-locked,
and the embedded worker of `serve` on SQLite."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicelens.core import jobs
from servicelens.core.db import Database
from servicelens.core.models import Job
from servicelens.worker import ENV_EMBEDDED_WORKER, embedded_worker_enabled
from tests.core import jobs_fixtures as fx

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def runs(db: Database) -> Iterator[None]:
    fx.runs_metadata.create_all(db.engine)
    yield
    fx.runs_metadata.drop_all(db.engine)


class CliWorker:
    """`python -m servicelens.cli worker …` against the test database, output in a log file."""

    def __init__(self, database_url: str, log: Path, *args: str) -> None:
        env = {
            **os.environ,
            "SERVICELENS_DATABASE_URL": database_url,
            "SERVICELENS_JOB_MODULES": "tests.core.jobs_fixtures",
            "PYTHONPATH": str(REPO),
            "COLUMNS": "200",
        }
        self.log = log
        self._out: IO[Any] = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "servicelens.cli", "worker", "--poll", "0.05", "--no-periodic", *args],
            cwd=REPO,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def started(self) -> bool:
        assert self.proc.poll() is None, f"worker exited early:\n{self.output()}"
        return " started on " in self.output()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()


def _forked_main(parent_db: Database, url: str, ready: Any, concurrency: int, lease_s: float) -> None:
    parent_db.engine.dispose(close=False)  # never touch the parent's pooled connections
    worker = jobs.Worker(Database(url), concurrency=concurrency, poll_s=0.05, lease_s=lease_s, periodic=False)
    ready.set()
    worker.run_forever()  # until SIGTERM, like `servicelens worker`


class ForkedWorker:
    """A worker process forked from the test process: the same code path as `servicelens worker`
    (Worker.run_forever) without paying the interpreter start-up and imports again."""

    def __init__(self, db: Database, url: str, *, concurrency: int = 4, lease_s: float = 60.0) -> None:
        ctx = multiprocessing.get_context("fork")
        self._ready = ctx.Event()
        self.proc = ctx.Process(target=_forked_main, args=(db, url, self._ready, concurrency, lease_s), daemon=True)
        self.proc.start()
        assert self.proc.pid is not None
        self.pid = self.proc.pid

    def started(self) -> bool:
        assert self.proc.exitcode is None, f"worker exited early ({self.proc.exitcode})"
        return bool(self._ready.is_set())

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int:
        self.proc.join(timeout)
        assert self.proc.exitcode is not None, "worker did not exit"
        return self.proc.exitcode

    def output(self) -> str:
        return ""

    def close(self) -> None:
        if self.proc.exitcode is None:
            self.proc.kill()
            self.proc.join(10)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def count_jobs(db: Database, *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Job).where(*where)) or 0)


def test_three_worker_processes_run_every_job_exactly_once(
    db: Database, database_url: str, runs: None, tmp_path: Path
) -> None:
    """Two forked workers and one `servicelens worker` process drain the queue together."""
    total = 600 if not db.is_sqlite else 300  # SQLite has one writer: fewer jobs, same proof
    workers: list[CliWorker | ForkedWorker] = []
    try:
        workers.append(CliWorker(database_url, tmp_path / "cli.log", "--concurrency", "4"))
        workers += [ForkedWorker(db, database_url, concurrency=4) for _ in range(2)]
        for w in workers:
            wait_for(w.started, 60, "the worker processes to start")
        with db.session() as s:
            for n in range(total):
                jobs.enqueue(s, "test.record", {"n": n, "sleep": 0.005})
        wait_for(lambda: count_jobs(db, Job.status == "done") == total, 60, "all jobs to finish")
        for w in workers:
            w.signal(signal.SIGTERM)
        for w in workers:
            assert w.wait(15) == 0, w.output()  # SIGTERM is a graceful stop
        assert "stopped" in workers[0].output()
    finally:
        for w in workers:
            w.close()

    with db.session() as s:
        rows = s.execute(select(fx.job_runs.c.job_id, fx.job_runs.c.n, fx.job_runs.c.worker)).all()
    assert len(rows) == total  # no duplicate execution …
    assert sorted(n for _, n, _ in rows) == list(range(total))  # … and no lost job
    assert len({job_id for job_id, _, _ in rows}) == total
    assert {worker for _, _, worker in rows} == {str(w.pid) for w in workers}  # all three took part
    assert count_jobs(db, Job.status == "done", Job.attempts == 1) == total


def test_job_of_a_killed_worker_completes_on_another(db: Database, database_url: str, tmp_path: Path) -> None:
    with db.session() as s:
        job = jobs.enqueue(s, "test.block", {"dir": str(tmp_path)})
        assert job is not None
        s.flush()
        job_id = job.id
    first = ForkedWorker(db, database_url, concurrency=1, lease_s=1.0)
    rescuer = jobs.Worker(db, lease_s=1, periodic=False)
    try:
        wait_for((tmp_path / "started-1").exists, 30, "the first worker to start the job")
        assert (tmp_path / "started-1").read_text() == str(first.pid)
        # While its worker lives, heartbeats keep renewing the 1 s lease: nobody else takes the job.
        time.sleep(1.5)
        assert rescuer.run_once() == 0
        with db.session() as s:
            row = s.get(Job, job_id)
            assert row is not None and row.status == "running"
            assert row.locked_by is not None
            assert row.locked_by.startswith(f"{socket.gethostname()}:{first.pid}:")
        first.signal(signal.SIGKILL)  # dies in the middle of the job
        assert first.wait(10) == -signal.SIGKILL
    finally:
        first.close()

    wait_for(lambda: rescuer.run_once() == 1, 15, "the lease to expire and the job to be re-claimed")
    with db.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        assert (row.status, row.attempts, row.locked_by) == ("done", 2, None)
    assert (tmp_path / "completed").read_text() == "2\n"  # completed once, by the second attempt
    assert (tmp_path / "started-2").exists()


def test_periodic_task_runs_on_one_leader_at_a_time(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "_PERIODIC", {})
    other_db = Database(database_url)  # its own connections: another process as far as locks go
    calls: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def tick(d: Database) -> None:
        started = time.monotonic()
        time.sleep(0.01)
        with lock:
            calls.append(("a" if d is db else "b", started, time.monotonic()))

    def tick_fails(d: Database) -> None:
        raise RuntimeError("a failing task does not stop the others")

    jobs.register_periodic("test.tick", tick, every_s=0.02)
    jobs.register_periodic("test.fails", tick_fails, every_s=0.02)
    a = jobs.Worker(db, poll_s=0.05)
    b = jobs.Worker(other_db, poll_s=0.05)
    try:
        a.run_periodic_once()  # a takes the leader lock and keeps it
        b.run_periodic_once()
        time.sleep(0.03)
        b.run_periodic_once()
        a.run_periodic_once()
        assert [who for who, _, _ in calls] == ["a", "a"]

        a.start()
        b.start()
        wait_for(lambda: len(calls) >= 10, 10, "the periodic task to run")
        assert {who for who, _, _ in calls} == {"a"}
        a.stop()  # releases the lock: b takes over
        wait_for(lambda: any(who == "b" for who, _, _ in calls), 10, "the other worker to take over")
        b.stop()
    finally:
        a.stop()
        b.stop()
        other_db.dispose()
    ordered = sorted(calls, key=lambda c: c[1])
    assert all(nxt[1] >= prev[2] for prev, nxt in pairwise(ordered))  # never overlapping


def test_embedded_worker_runs_jobs_inside_the_app_on_sqlite(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from servicelens.app import create_app

    monkeypatch.setattr(jobs, "_PERIODIC", {})
    monkeypatch.setenv(ENV_EMBEDDED_WORKER, "false")
    assert not embedded_worker_enabled(db)
    monkeypatch.delenv(ENV_EMBEDDED_WORKER)
    if not db.is_sqlite:
        assert not embedded_worker_enabled(db)  # PostgreSQL runs `servicelens worker` processes
        return
    assert embedded_worker_enabled(db)
    with TestClient(create_app(db=db, embedded_worker=True)):
        with db.session() as s:
            jobs.enqueue(s, "test.flaky", {"fail_times": 0})
        wait_for(lambda: count_jobs(db, Job.status == "done") == 1, 10, "the embedded worker")
