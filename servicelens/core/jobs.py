"""Job queue (transactional outbox) and periodic tasks.

Producers call :func:`enqueue` with the session of the change that causes the job, so the job exists
exactly when that change commits. Workers claim due jobs in a short transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one guarded ``UPDATE … WHERE id IN (…)`` on SQLite),
run the handler outside any transaction, then settle the job in a second short transaction.

Delivery is **at least once**: a job whose worker dies (or loses its lease) runs again, so every
handler must be idempotent — check whether its effect already exists, use unique keys or upserts.

Life of a job: ``queued`` → ``running`` (claimed; ``attempts`` counts claims) → ``done``; on an error
it goes back to ``queued`` with ``run_at`` pushed out by an exponential, jittered backoff, and to
``dead`` once ``attempts`` reaches ``max_attempts``. Dead jobs wait for an admin retry. A running
job holds a lease (``locked_until``) that its worker extends while the handler runs; once the
lease expires another worker may claim it again.

Periodic tasks (the SLA scanner, the purge of old jobs) run in every worker, but only the
process holding the task's leader lock runs it: a PostgreSQL session advisory lock, an ``flock``
on a file beside a SQLite database.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import FrameType
from typing import Any, cast

from prometheus_client import Counter
from sqlalchemy import Connection, CursorResult, and_, delete, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from servicelens.core.clock import as_utc, precise_now, utcnow
from servicelens.core.db import Database
from servicelens.core.errors import conflict, not_found
from servicelens.core.models import Job

if sys.platform != "win32":
    import fcntl

log = logging.getLogger("servicelens.jobs")

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT_S = 60.0
BACKOFF_BASE_S = 1.0
"""Retry n (1-based) waits about ``BACKOFF_BASE_S * 2**n`` seconds (×0.5–1 jitter); tests set it to 0."""
BACKOFF_CAP_S = 3600.0
PURGE_DONE_AFTER = timedelta(days=7)
LEADER_LOCK_NS = 0x534C4A42  # first key of the two-int PostgreSQL advisory locks ("SLJB")

JOBS_FINISHED = Counter("servicelens_jobs_total", "Jobs settled by workers", ["kind", "outcome"])


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    dead = "dead"


@dataclass(frozen=True)
class JobContext:
    """What a handler learns about the job it runs."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int  # 1-based; attempt == max_attempts is the last one
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


JobHandler = Callable[[Database, JobContext], None]
PeriodicFn = Callable[[Database], None]


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    handler: JobHandler
    max_attempts: int
    timeout_s: float


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    fn: PeriodicFn
    every_s: float


_HANDLERS: dict[str, HandlerSpec] = {}
_PERIODIC: dict[str, PeriodicTask] = {}


class RetryLater(Exception):
    """Raised by a handler to be retried later (backoff, or ``delay_s``) without an error being
    recorded. It still uses up an attempt, so a job cannot ask for retries forever."""

    def __init__(self, reason: str = "", *, delay_s: float | None = None) -> None:
        super().__init__(reason or "retry requested")
        self.reason = reason or "retry requested"
        self.delay_s = delay_s


# --------------------------------------------------------------------------- registration


def register(
    kind: str,
    handler: JobHandler,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Register the handler of ``kind`` (registering a kind again replaces its handler)."""
    if not kind or len(kind) > 60:
        raise ValueError("job kind must be 1–60 characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be ≥ 1")
    if timeout_s <= 0:
        raise ValueError("timeout_s must be > 0")
    _HANDLERS[kind] = HandlerSpec(kind, handler, max_attempts, timeout_s)


def job_handler(
    kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Callable[[JobHandler], JobHandler]:
    """Decorator form of :func:`register`."""

    def decorate(fn: JobHandler) -> JobHandler:
        register(kind, fn, max_attempts=max_attempts, timeout_s=timeout_s)
        return fn

    return decorate


def register_periodic(name: str, fn: PeriodicFn, every_s: float) -> None:
    """Run ``fn(db)`` about every ``every_s`` seconds in one worker process at a time."""
    if not name:
        raise ValueError("periodic task needs a name")
    if every_s < 0:
        raise ValueError("every_s must be ≥ 0")
    _PERIODIC[name] = PeriodicTask(name, fn, every_s)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def periodic_tasks() -> list[PeriodicTask]:
    return sorted(_PERIODIC.values(), key=lambda t: t.name)


# --------------------------------------------------------------------------- producing


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> Job | None:
    """Add a job to the caller's transaction: it exists if and only if that transaction commits.

    With ``dedupe_key`` (unique among all stored jobs, done ones included until they are purged)
    a second enqueue of the same key does nothing and returns ``None``; such a job is inserted at
    once. Without a key the job is inserted at the session's next flush (``job.id`` is set then).
    """
    if not isinstance(payload, dict):
        raise TypeError("job payload must be a dict")
    if not kind or len(kind) > 60:
        raise ValueError("job kind must be 1–60 characters")
    if dedupe_key is not None and not 1 <= len(dedupe_key) <= 200:
        raise ValueError("dedupe_key must be 1–200 characters")
    spec = _HANDLERS.get(kind)
    now = utcnow()
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "status": JobStatus.queued.value,
        "attempts": 0,
        "max_attempts": max_attempts or (spec.max_attempts if spec else DEFAULT_MAX_ATTEMPTS),
        "run_at": as_utc(run_at) if run_at is not None else now,
        "dedupe_key": dedupe_key,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dedupe_key is not None and dialect in ("postgresql", "sqlite"):
        # INSERT … ON CONFLICT DO NOTHING: atomic, and a duplicate does not spoil the caller's transaction.
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Job)
        return session.scalars(stmt).first()
    if dedupe_key is not None and session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key)):
        return None
    job = Job(**values)
    session.add(job)  # inserted at the caller's next flush/commit, batched with its other rows
    return job


# --------------------------------------------------------------------------- admin operations


def retry_job(session: Session, job_id: int) -> Job:
    """Put a dead job (or one waiting for its next retry) back in the queue, attempts reset."""
    retryable = or_(
        Job.status == JobStatus.dead.value,
        and_(Job.status == JobStatus.queued.value, Job.attempts > 0),
    )
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Job)
            .where(Job.id == job_id, retryable)
            .values(_requeue_values())
            .execution_options(synchronize_session=False)
        ),
    )
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise not_found("job", job_id)
    if result.rowcount == 0:
        raise conflict(
            "job.not_retryable",
            f"job {job_id} is {job.status}; only dead jobs (or jobs waiting for a retry) can be retried",
            status=job.status,
        )
    log.info("job %s (%s) re-queued by an admin", job.id, job.kind)
    return job


def retry_dead(session: Session, kind: str | None = None) -> int:
    """Re-queue every dead job (of ``kind``); returns how many."""
    stmt = update(Job).where(Job.status == JobStatus.dead.value)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    result = cast(
        CursorResult[Any],
        session.execute(stmt.values(_requeue_values()).execution_options(synchronize_session=False)),
    )
    return int(result.rowcount)


def _requeue_values() -> dict[str, Any]:
    return {
        "status": JobStatus.queued.value,
        "attempts": 0,
        "run_at": utcnow(),
        "locked_by": None,
        "locked_until": None,
        "finished_at": None,
    }


def job_stats(session: Session) -> dict[str, Any]:
    """Counts by status and by kind × status, and the run_at of the oldest due queued job."""
    by_status = {s.value: 0 for s in JobStatus}
    by_kind: dict[str, dict[str, int]] = {}
    rows = session.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status))
    for kind, status, count in rows:
        by_status[status] = by_status.get(status, 0) + int(count)
        by_kind.setdefault(kind, {s.value: 0 for s in JobStatus})[status] = int(count)
    oldest = session.scalar(
        select(func.min(Job.run_at)).where(Job.status == JobStatus.queued.value, Job.run_at <= utcnow())
    )
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_kind": dict(sorted(by_kind.items())),
        "oldest_due_at": oldest,
    }


def purge_done(db: Database, older_than: timedelta = PURGE_DONE_AFTER, batch: int = 5000) -> int:
    """Delete jobs finished more than ``older_than`` ago (their dedupe keys become free again)."""
    cutoff = utcnow() - older_than
    total = 0
    while True:
        with db.session() as s:
            ids = select(Job.id).where(Job.status == JobStatus.done.value, Job.finished_at < cutoff)
            result = cast(
                CursorResult[Any],
                s.execute(delete(Job).where(Job.id.in_(ids.limit(batch))).execution_options(synchronize_session=False)),
            )
        total += int(result.rowcount)
        if result.rowcount < batch:
            return total


def _purge_task(db: Database) -> None:
    n = purge_done(db)
    if n:
        log.info("purged %d finished jobs", n)


register_periodic("jobs.purge_done", _purge_task, every_s=3600.0)


def backoff_s(attempt: int, base_s: float | None = None) -> float:
    """Seconds to wait before the retry that follows failed attempt ``attempt`` (1-based)."""
    base = BACKOFF_BASE_S if base_s is None else base_s
    return min(BACKOFF_CAP_S, base * 2.0 ** min(attempt, 40)) * random.uniform(0.5, 1.0)


# --------------------------------------------------------------------------- leader lock


def _lock_key(name: str) -> int:
    key = zlib.crc32(name.encode())
    return key - (1 << 32) if key >= (1 << 31) else key


class _LeaderLock:
    """Who runs periodic tasks. PostgreSQL: one session advisory lock per task, taken with
    ``pg_try_advisory_lock`` on a dedicated connection and held until the worker stops (the
    server frees it when the process dies). SQLite: an ``flock`` on ``<db file>.leader`` covering
    all tasks (several ``serve`` processes on one file). In-memory SQLite: always the leader."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Connection | None = None
        self._held: set[str] = set()
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def acquire(self, name: str) -> bool:
        with self._mutex:
            dialect = self._db.engine.dialect.name
            if dialect == "postgresql":
                return self._acquire_pg(name)
            if dialect == "sqlite":
                return self._acquire_file()
            return True

    def _acquire_pg(self, name: str) -> bool:
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    conn = self._db.engine.connect()
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    self._conn, self._held = conn, set()
                elif name in self._held:
                    # The session is alive, so its advisory locks are still ours.
                    self._conn.execute(text("SELECT 1"))
                    return True
                got = self._conn.scalar(
                    text("SELECT pg_try_advisory_lock(CAST(:ns AS integer), CAST(:key AS integer))"),
                    {"ns": LEADER_LOCK_NS, "key": _lock_key(name)},
                )
            except DBAPIError:
                self._drop_pg()
                if attempt == 2:
                    raise
                continue
            if got:
                self._held.add(name)
                log.info("leader for periodic task %s", name)
            return bool(got)
        return False

    def _drop_pg(self) -> None:
        conn, self._conn = self._conn, None
        self._held = set()
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken
                pass

    def _acquire_file(self) -> bool:
        if self._fd is not None:
            return True
        path = self._db.engine.url.database
        if not path or path == ":memory:" or path.startswith("file:") or sys.platform == "win32":
            return True
        fd = os.open(f"{path}.leader", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        log.info("leader for periodic tasks (%s.leader)", path)
        return True

    def release(self) -> None:
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                    self._conn.close()
                    self._conn, self._held = None, set()
                except Exception:
                    self._drop_pg()
            if self._fd is not None:
                os.close(self._fd)  # closing the descriptor releases the flock
                self._fd = None


# --------------------------------------------------------------------------- worker


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int


@dataclass
class _Running:
    job: _Claimed
    spec: HandlerSpec
    deadline: float
    abandoned: bool = False  # timed out: the thread's late outcome is ignored
    settling: bool = False
    thread: threading.Thread | None = field(default=None, repr=False)


class Worker:
    """Claims and runs jobs; hosts periodic tasks.

    ``run_once``/``run_periodic_once`` run synchronously (tests, :func:`drain`); ``start`` runs
    a claim loop and a periodic loop in background threads (the embedded worker of ``serve``);
    ``run_forever`` does that until SIGTERM/SIGINT (``servicelens worker``). Each claimed job
    runs in its own thread so its timeout and lease heartbeat can be enforced; ``concurrency``
    bounds how many run at once. Do not mix ``run_once`` with ``start`` on one instance.
    """

    def __init__(
        self,
        db: Database,
        *,
        name: str | None = None,
        concurrency: int = 1,
        poll_s: float = 0.2,
        lease_s: float = 60.0,
        periodic: bool = True,
        backoff_base_s: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be ≥ 1")
        if poll_s <= 0 or lease_s <= 0:
            raise ValueError("poll_s and lease_s must be > 0")
        self.db = db
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")[:100]
        self.concurrency = concurrency
        self.poll_s = poll_s
        self.lease_s = lease_s
        self.periodic = periodic
        self.backoff_base_s = backoff_base_s
        self._heartbeat_s = max(0.1, lease_s / 3)
        self._next_heartbeat = 0.0
        self._next_expired_check = 0.0
        self._lock = threading.Lock()
        self._active: dict[int, _Running] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_periodic: dict[str, float] = {}
        self._leader = _LeaderLock(db)

    # ---- public API

    def run_once(self) -> int:
        """Claim up to ``concurrency`` due jobs, run them, wait for them; returns how many."""
        claimed = self._claim(self.concurrency)
        for job in claimed:
            self._start_job(job)
        ids = {job.id for job in claimed}
        while True:
            with self._lock:
                if not ids & self._active.keys():
                    break
            self._maintain()
            self._wake.wait(0.02)
            self._wake.clear()
        return len(claimed)

    def run_periodic_once(self) -> None:
        """Run the periodic tasks that are due (and whose leader lock this worker holds)."""
        self._run_due_periodic()

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        self._threads = [threading.Thread(target=self._loop, name="servicelens-jobs", daemon=True)]
        if self.periodic:
            self._threads.append(threading.Thread(target=self._periodic_loop, name="servicelens-periodic", daemon=True))
        for t in self._threads:
            t.start()
        log.info("worker %s started (concurrency %d)", self.name, self.concurrency)

    def stop(self, timeout: float = 10) -> None:
        """Stop claiming, wait up to ``timeout`` s for running jobs, release the leader locks.
        Jobs still running afterwards are re-run elsewhere once their lease expires."""
        self._stopping.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        while time.monotonic() < deadline:
            with self._lock:
                if not self._active:
                    break
            self._maintain()
            time.sleep(0.02)
        with self._lock:
            left = sorted(self._active)
        if left:
            log.warning("worker %s stopped with jobs %s still running; they run again later", self.name, left)
        self._leader.release()
        self._threads = []

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT (a second signal aborts the graceful stop)."""
        stop = threading.Event()
        previous: dict[signal.Signals, Any] = {}

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            if stop.is_set():
                raise KeyboardInterrupt
            log.info("worker %s: %s received, stopping", self.name, signal.Signals(signum).name)
            stop.set()

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, on_signal)
        try:
            self.start()
            while not stop.is_set() and not self._stopping.is_set():
                stop.wait(0.5)
        finally:
            try:
                self.stop()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    # ---- claiming

    def _claim(self, n: int, *, expired_too: bool = True) -> list[_Claimed]:
        """Claim up to ``n`` jobs: those with an expired lease (when ``expired_too``), then due ones."""
        if n <= 0:
            return []
        now = precise_now()  # leases and retry times are sub-second; business timestamps are not
        expired = and_(Job.status == JobStatus.running.value, Job.locked_until < now)
        due = and_(Job.status == JobStatus.queued.value, Job.run_at <= now)
        conditions = [(expired, False), (due, True)] if expired_too else [(due, True)]
        claim = {
            "status": JobStatus.running.value,
            "locked_by": self.name,
            "locked_until": now + timedelta(seconds=self.lease_s),
            "attempts": Job.attempts + 1,
        }
        cols = (Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
        rows: list[Any] = []
        if self.db.is_sqlite:
            # A read-only peek first: an idle poll must not take SQLite's single write lock.
            peek = or_(*(cond for cond, _ in conditions))
            with self.db.engine.connect() as conn:
                if conn.execute(select(Job.id).where(peek).limit(1)).first() is None:
                    return []
        with self.db.engine.begin() as conn:
            for cond, ordered in conditions:
                left = n - len(rows)
                if left <= 0:
                    break
                pick = select(Job.id).where(cond).limit(left)
                if ordered:
                    pick = pick.order_by(Job.run_at, Job.id)
                if self.db.is_sqlite:
                    # One statement under SQLite's single write lock: concurrent claimers never share a job.
                    stmt = update(Job).where(Job.id.in_(pick), cond)
                else:
                    # Rows locked by this transaction; rows other workers hold are skipped, not waited for.
                    picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
                    stmt = update(Job).where(Job.id == picked.c.id)
                rows += conn.execute(stmt.values(claim).returning(*cols)).all()
        return [_Claimed(r[0], r[1], dict(r[2] or {}), r[3], r[4]) for r in rows]

    # ---- running

    def _start_job(self, job: _Claimed) -> None:
        spec = _HANDLERS.get(job.kind)
        if spec is None:
            error = (
                f"no handler is registered for job kind '{job.kind}' in worker {self.name} "
                "(is its module imported? see SERVICELENS_JOB_MODULES)"
            )
            self._settle(job, JobStatus.dead, error)
            return
        if job.attempt > job.max_attempts:
            self._settle(
                job,
                JobStatus.dead,
                f"the worker running attempt {job.attempt - 1} of {job.max_attempts} stopped "
                "(lease expired) and no attempts are left",
            )
            return
        running = _Running(job, spec, time.monotonic() + spec.timeout_s)
        running.thread = threading.Thread(target=self._execute, args=(running,), name=f"job-{job.id}", daemon=True)
        with self._lock:
            self._active[job.id] = running
        running.thread.start()

    def _execute(self, running: _Running) -> None:
        job = running.job
        ctx = JobContext(job.id, job.kind, job.payload, job.attempt, job.max_attempts)
        error: str | None = None
        retry: RetryLater | None = None
        started = time.monotonic()
        try:
            running.spec.handler(self.db, ctx)
        except RetryLater as exc:
            retry = exc
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"[-4000:]
        with self._lock:
            if running.abandoned:
                log.warning("job %s (%s) finished after its timeout; outcome ignored", job.id, job.kind)
                return
            running.settling = True
        try:
            if error is None and retry is None:
                log.debug("job %s (%s) done in %.3fs", job.id, job.kind, time.monotonic() - started)
                self._settle(job, JobStatus.done, None)
            elif retry is not None:
                log.info("job %s (%s) asked to retry: %s", job.id, job.kind, retry.reason)
                self._fail(job, f"RetryLater: {retry.reason}", retry.delay_s, record=False)
            else:
                first_line = (error or "").splitlines()[0]
                log.warning("job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempt, first_line)
                self._fail(job, error or "error", None, record=True)
        finally:
            with self._lock:
                self._active.pop(job.id, None)
            self._wake.set()

    def _fail(self, job: _Claimed, error: str, delay_s: float | None, *, record: bool) -> None:
        if job.attempt >= job.max_attempts:
            self._settle(job, JobStatus.dead, f"gave up after {job.attempt} attempts: {error}")
            return
        delay = delay_s if delay_s is not None else backoff_s(job.attempt, self.backoff_base_s)
        self._settle(job, JobStatus.queued, error if record else None, precise_now() + timedelta(seconds=delay))

    def _settle(self, job: _Claimed, status: JobStatus, error: str | None, run_at: datetime | None = None) -> None:
        """Write the outcome, guarded so a worker that lost its lease cannot overwrite a newer claim."""
        now = utcnow()
        values: dict[str, Any] = {"status": status.value, "locked_by": None, "locked_until": None}
        if status in (JobStatus.done, JobStatus.dead):
            values["finished_at"] = now
        if run_at is not None:
            values["run_at"] = run_at
        if error is not None:
            values["last_error"] = error
        stmt = (
            update(Job)
            .where(
                Job.id == job.id,
                Job.status == JobStatus.running.value,
                Job.locked_by == self.name,
                Job.attempts == job.attempt,
            )
            .values(values)
        )
        for attempt in range(4):
            try:
                with self.db.engine.begin() as conn:
                    rowcount = conn.execute(stmt).rowcount
                break
            except DBAPIError as exc:
                if attempt == 3:
                    log.error("job %s: could not record its outcome (%s); it runs again later", job.id, exc)
                    return
                time.sleep(0.2 * (attempt + 1))
        outcome = "retry" if status is JobStatus.queued else status.value
        if rowcount == 0:
            outcome = "lost"
            log.warning("job %s (%s): lease lost before it finished; outcome discarded", job.id, job.kind)
        elif status is JobStatus.dead:
            log.error("job %s (%s) is dead: %s", job.id, job.kind, (error or "").splitlines()[0])
        JOBS_FINISHED.labels(job.kind, outcome).inc()

    def _maintain(self) -> None:
        """Time out overdue jobs and extend the leases of running ones."""
        now = time.monotonic()
        timed_out: list[_Running] = []
        with self._lock:
            for running in list(self._active.values()):
                if not running.settling and now > running.deadline:
                    running.abandoned = True
                    del self._active[running.job.id]
                    timed_out.append(running)
            ids = [r.job.id for r in self._active.values()]
        for running in timed_out:
            log.warning("job %s (%s) timed out after %ss", running.job.id, running.job.kind, running.spec.timeout_s)
            self._fail(
                running.job,
                f"TimeoutError: the handler ran longer than {running.spec.timeout_s} s "
                "(its thread was abandoned; the job runs again)",
                None,
                record=True,
            )
            self._wake.set()
        if ids and now >= self._next_heartbeat:
            self._next_heartbeat = now + self._heartbeat_s
            try:
                with self.db.engine.begin() as conn:
                    conn.execute(
                        update(Job)
                        .where(
                            Job.id.in_(ids),
                            Job.locked_by == self.name,
                            Job.status == JobStatus.running.value,
                        )
                        .values(locked_until=precise_now() + timedelta(seconds=self.lease_s))
                    )
            except DBAPIError as exc:
                log.warning("worker %s: lease heartbeat failed: %s", self.name, exc)

    # ---- loops

    def _loop(self) -> None:
        errors = 0
        while not self._stopping.is_set():
            self._wake.clear()
            wait = self.poll_s
            try:
                self._maintain()
                with self._lock:
                    free = self.concurrency - len(self._active)
                # Expired leases are rare: look for them about once a second, not on every claim.
                expired_too = time.monotonic() >= self._next_expired_check
                if expired_too:
                    self._next_expired_check = time.monotonic() + min(1.0, self.lease_s / 4)
                claimed = self._claim(free, expired_too=expired_too)
                for job in claimed:
                    self._start_job(job)
                errors = 0
                if claimed and len(claimed) == free:
                    continue  # the queue may hold more; claim again as soon as a slot frees
            except Exception:
                errors += 1
                wait = min(30.0, self.poll_s * 2**errors)
                log.exception("worker %s: claim loop error (retrying in %.1fs)", self.name, wait)
            self._wake.wait(wait)

    def _periodic_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                wait = self._run_due_periodic()
            except Exception:
                log.exception("worker %s: periodic loop error", self.name)
                wait = 1.0
            self._stopping.wait(min(max(wait, 0.02), 1.0))

    def _run_due_periodic(self) -> float:
        now = time.monotonic()
        next_due = now + 1.0
        for task in periodic_tasks():
            if self._stopping.is_set() and self._threads:
                break
            due = self._next_periodic.get(task.name, 0.0)
            if due > now:
                next_due = min(next_due, due)
                continue
            self._next_periodic[task.name] = now + task.every_s
            next_due = min(next_due, now + task.every_s)
            try:
                if not self._leader.acquire(task.name):
                    continue
            except Exception as exc:
                log.warning("periodic task %s: leader lock unavailable: %s", task.name, exc)
                continue
            try:
                task.fn(self.db)
            except Exception:
                log.exception("periodic task %s failed", task.name)
        return max(0.0, next_due - time.monotonic())


def drain(db: Database, *, max_rounds: int = 1000) -> int:
    """Run due jobs one by one until none is due (tests); returns how many ran."""
    worker = Worker(db, name=f"drain:{os.getpid()}:{secrets.token_hex(3)}", periodic=False)
    total = 0
    for _ in range(max_rounds):
        ran = worker.run_once()
        if ran == 0:
            break
        total += ran
    return total
