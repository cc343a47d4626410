"""Job queue in one process: transactional enqueue, dedupe, retries with backoff, dead letters,
timeouts, expired leases, concurrent claimers, and the admin API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicelens.core import clock, jobs
from servicelens.core.db import Database
from servicelens.core.models import Job
from servicelens.org.models import Region
from tests.core import jobs_fixtures as fx

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def runs(db: Database) -> Iterator[None]:
    fx.runs_metadata.create_all(db.engine)
    yield
    fx.runs_metadata.drop_all(db.engine)


def _job(db: Database, job_id: int) -> Job:
    with db.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def _count(db: Database, *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Job).where(*where)) or 0)


def _enqueue(db: Database, kind: str, payload: dict[str, Any], **kw: Any) -> int:
    with db.session() as s:
        job = jobs.enqueue(s, kind, payload, **kw)
        assert job is not None
        s.flush()
        return job.id


def test_enqueue_is_part_of_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        s.add(Region(code="west", name="西部", name_en="West"))
        job = jobs.enqueue(s, "test.flaky", {"fail_times": 0})
        assert job is not None
        s.flush()
        assert job.id  # the row is written inside the caller's transaction
        raise RuntimeError("the change that caused the job failed")
    assert _count(db) == 0

    with db.session() as s:
        s.add(Region(code="west", name="西部", name_en="West"))
        jobs.enqueue(s, "test.flaky", {"fail_times": 0})
    assert _count(db, Job.status == "queued") == 1
    assert jobs.drain(db) == 1
    assert _count(db, Job.status == "done") == 1


def test_dedupe_key_makes_a_second_enqueue_a_no_op(db: Database) -> None:
    with db.session() as s:
        first = jobs.enqueue(s, "test.flaky", {"fail_times": 0}, dedupe_key="ticket:7:breach")
        again = jobs.enqueue(s, "test.flaky", {"fail_times": 0}, dedupe_key="ticket:7:breach")
        assert first is not None and again is None
    with db.session() as s:
        assert jobs.enqueue(s, "test.flaky", {"fail_times": 0}, dedupe_key="ticket:7:breach") is None
        s.add(Region(code="west", name="西部", name_en="West"))  # the caller's transaction is intact
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Region)) == 1
    assert _count(db) == 1
    assert jobs.drain(db) == 1
    with db.session() as s:  # done jobs keep their key (until purged)
        assert jobs.enqueue(s, "test.flaky", {"fail_times": 0}, dedupe_key="ticket:7:breach") is None


def test_retry_with_exponential_backoff_then_success(db: Database) -> None:
    clock.freeze(T0)
    job_id = _enqueue(db, "test.flaky", {"fail_times": 2})
    worker = jobs.Worker(db, periodic=False)

    assert worker.run_once() == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("queued", 1, None)
    assert job.last_error is not None and "RuntimeError: boom on attempt 1" in job.last_error
    assert T0 + timedelta(seconds=1) <= job.run_at <= T0 + timedelta(seconds=2)  # 2**1 s × jitter 0.5–1
    assert worker.run_once() == 0  # not due yet

    clock.freeze(T0 + timedelta(seconds=3))
    assert worker.run_once() == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("queued", 2)
    assert T0 + timedelta(seconds=5) <= job.run_at <= T0 + timedelta(seconds=7)  # 2**2 s × jitter

    clock.freeze(T0 + timedelta(seconds=10))
    assert worker.run_once() == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.finished_at) == ("done", 3, T0 + timedelta(seconds=10))


def test_dead_after_max_attempts_with_last_error(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "BACKOFF_BASE_S", 0.0)
    job_id = _enqueue(db, "test.always_fail", {})  # registered with max_attempts=3
    assert jobs.drain(db) == 3
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.max_attempts) == ("dead", 3, 3)
    assert job.last_error is not None
    assert job.last_error.startswith("gave up after 3 attempts: ValueError: the remote system said no")
    assert job.finished_at is not None
    assert jobs.drain(db) == 0  # dead jobs are never claimed


def test_max_attempts_can_be_set_per_job(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "BACKOFF_BASE_S", 0.0)
    job_id = _enqueue(db, "test.flaky", {"fail_times": 5}, max_attempts=2)
    assert jobs.drain(db) == 2
    assert (_job(db, job_id).status, _job(db, job_id).attempts) == ("dead", 2)


def test_unknown_kind_goes_dead_with_a_clear_error(db: Database) -> None:
    job_id = _enqueue(db, "test.nobody_handles_this", {"x": 1})
    assert jobs.drain(db) == 1
    job = _job(db, job_id)
    assert job.status == "dead"
    assert job.last_error is not None and "no handler is registered for job kind" in job.last_error


def test_retry_later_retries_without_recording_an_error(db: Database) -> None:
    clock.freeze(T0)
    job_id = _enqueue(db, "test.later", {})
    worker = jobs.Worker(db, periodic=False)
    assert worker.run_once() == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.last_error) == ("queued", 1, None)
    assert job.run_at == T0 + timedelta(seconds=30)
    clock.freeze(T0 + timedelta(seconds=31))
    assert worker.run_once() == 1
    assert _job(db, job_id).status == "done"


def test_handler_timeout_counts_as_a_failed_attempt(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "BACKOFF_BASE_S", 100.0)
    job_id = _enqueue(db, "test.slow", {"sleep": 1.0})  # timeout_s=0.3
    started = time.monotonic()
    assert jobs.Worker(db, periodic=False).run_once() == 1
    assert time.monotonic() - started < 0.9
    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("queued", 1)
    assert job.last_error is not None and "TimeoutError" in job.last_error


def test_expired_lease_makes_a_running_job_claimable_again(db: Database) -> None:
    past = clock.precise_now() - timedelta(seconds=5)
    future = clock.precise_now() + timedelta(seconds=60)
    with db.session() as s:
        ids = []
        for locked_until, max_attempts in ((past, 8), (past, 1), (future, 8)):
            job = jobs.enqueue(s, "test.flaky", {"fail_times": 0}, max_attempts=max_attempts)
            assert job is not None
            s.flush()
            job.status, job.attempts, job.locked_by, job.locked_until = "running", 1, "ghost", locked_until
            ids.append(job.id)
    assert jobs.drain(db) == 2
    lost, last_chance, alive = (_job(db, i) for i in ids)
    assert (lost.status, lost.attempts) == ("done", 2)  # its worker died; another one finished it
    assert last_chance.status == "dead"
    assert last_chance.last_error is not None and "lease expired" in last_chance.last_error
    assert (alive.status, alive.locked_by) == ("running", "ghost")  # a live lease is respected


def test_concurrent_worker_threads_run_each_job_once(db: Database, runs: None) -> None:
    workers = [jobs.Worker(db, concurrency=3, poll_s=0.02, periodic=False) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        with db.session() as s:
            for n in range(150):
                jobs.enqueue(s, "test.record", {"n": n})
        deadline = time.monotonic() + 15
        while _count(db, Job.status == "done") < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for w in workers:
            w.stop()
    with db.session() as s:
        rows = s.execute(select(fx.job_runs.c.job_id, fx.job_runs.c.n)).all()
    assert len(rows) == 150
    assert sorted(n for _, n in rows) == list(range(150))
    assert _count(db, Job.status == "done", Job.attempts == 1) == 150


def test_stop_waits_for_the_running_job(db: Database, runs: None) -> None:
    worker = jobs.Worker(db, poll_s=0.02, periodic=False)
    worker.start()
    job_id = _enqueue(db, "test.record", {"n": 1, "sleep": 0.4})
    deadline = time.monotonic() + 5
    while _job(db, job_id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    assert _job(db, job_id).status == "done"


def test_purge_removes_old_done_jobs_only(db: Database) -> None:
    clock.freeze(T0)
    _enqueue(db, "test.flaky", {"fail_times": 0})
    dead = _enqueue(db, "test.nobody", {})
    jobs.drain(db)
    clock.freeze(T0 + timedelta(days=8))
    fresh = _enqueue(db, "test.flaky", {"fail_times": 0})
    jobs.drain(db)
    assert jobs.purge_done(db) == 1
    with db.session() as s:
        assert set(s.scalars(select(Job.id))) == {dead, fresh}


# --------------------------------------------------------------------------- admin API


def test_admin_sees_dead_jobs_and_retry_brings_them_back(
    admin_client: TestClient, agent_client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One test for the whole admin API: the org fixture (password hashing) is the slow part.
    monkeypatch.setattr(jobs, "BACKOFF_BASE_S", 0.0)
    monkeypatch.setitem(fx.SWITCH, "fail", True)
    dead_id = _enqueue(db, "test.switch", {"to": "li.ming@hongda.example"}, max_attempts=2)
    _enqueue(db, "test.flaky", {"fail_times": 0})
    assert jobs.drain(db) == 3

    r = admin_client.get("/api/v1/admin/jobs", params={"status": "dead"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["page"], body["page_size"]) == (1, 1, 20)
    item = body["items"][0]
    assert (item["id"], item["kind"], item["status"], item["attempts"]) == (dead_id, "test.switch", "dead", 2)
    assert "ConnectionError: mail server unreachable" in item["last_error"]
    assert item["payload"] == {"to": "li.ming@hongda.example"}

    page = admin_client.get("/api/v1/admin/jobs", params={"page_size": 1, "page": 2}).json()
    assert (page["total"], len(page["items"])) == (2, 1)
    assert admin_client.get("/api/v1/admin/jobs", params={"kind": "test.flaky"}).json()["total"] == 1
    assert admin_client.get("/api/v1/admin/jobs", params={"status": "zombie"}).status_code == 422

    stats = admin_client.get("/api/v1/admin/jobs/stats").json()
    assert stats["total"] == 2
    assert stats["by_status"] == {"queued": 0, "running": 0, "done": 1, "dead": 1}
    assert stats["by_kind"]["test.switch"]["dead"] == 1

    r = admin_client.post(f"/api/v1/admin/jobs/{dead_id}/retry")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("queued", 0)
    again = admin_client.post(f"/api/v1/admin/jobs/{dead_id}/retry")
    assert again.status_code == 409
    assert again.json()["code"] == "job.not_retryable"

    fx.SWITCH["fail"] = False  # the mail server is back
    assert jobs.drain(db) == 1
    assert _job(db, dead_id).status == "done"
    assert admin_client.post(f"/api/v1/admin/jobs/{dead_id}/retry").status_code == 409
    missing = admin_client.post("/api/v1/admin/jobs/999999/retry")
    assert (missing.status_code, missing.json()["code"]) == (404, "job.not_found")

    # bulk retry of dead letters, optionally by kind
    for kind in ("test.nobody", "test.nobody", "test.other_nobody"):
        _enqueue(db, kind, {})
    jobs.drain(db)
    r = admin_client.post("/api/v1/admin/jobs/retry-dead", params={"kind": "test.other_nobody"})
    assert r.json() == {"retried": 1}
    assert admin_client.post("/api/v1/admin/jobs/retry-dead").json() == {"retried": 2}
    assert _count(db, Job.status == "queued", Job.attempts == 0) == 3

    # admins only
    assert agent_client.get("/api/v1/admin/jobs").status_code == 403
    assert agent_client.get("/api/v1/admin/jobs/stats").status_code == 403
    r = agent_client.post("/api/v1/admin/jobs/retry-dead")
    assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    r = agent_client.post(f"/api/v1/admin/jobs/{dead_id}/retry")
    assert r.status_code == 403


def test_registration_validates_its_arguments() -> None:
    with pytest.raises(ValueError):
        jobs.register("", fx.flaky)
    with pytest.raises(ValueError):
        jobs.register("test.bad", fx.flaky, max_attempts=0)
    with pytest.raises(ValueError):
        jobs.register_periodic("test.bad", lambda db: None, every_s=-1)
    assert "test.record" in jobs.registered_kinds()
