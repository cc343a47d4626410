"""Job handlers used by the job-queue tests. Worker processes import this module through
SERVICELENS_JOB_MODULES=tests.core.jobs_fixtures; the test process imports it directly."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from servicelens.core.db import Database
from servicelens.core.jobs import JobContext, RetryLater, job_handler

# Every execution of a "test.record" job adds one row: duplicates or gaps are visible by counting.
runs_metadata = MetaData()
job_runs = Table(
    "test_job_runs",
    runs_metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(40), nullable=False),
)

SWITCH = {"fail": True}  # flipped by tests in this process


@job_handler("test.record")
def record(db: Database, ctx: JobContext) -> None:
    time.sleep(float(ctx.payload.get("sleep", 0)))
    with db.session() as s:
        s.execute(
            insert(job_runs).values(job_id=ctx.id, n=ctx.payload["n"], attempt=ctx.attempt, worker=str(os.getpid()))
        )


@job_handler("test.block", timeout_s=120)
def block(db: Database, ctx: JobContext) -> None:
    """Marks its start; the first attempt then hangs (the test kills its process)."""
    folder = Path(ctx.payload["dir"])
    (folder / f"started-{ctx.attempt}").write_text(str(os.getpid()))
    if ctx.attempt == 1:
        time.sleep(30)
    with (folder / "completed").open("a") as f:
        f.write(f"{ctx.attempt}\n")


@job_handler("test.flaky")
def flaky(db: Database, ctx: JobContext) -> None:
    if ctx.attempt <= int(ctx.payload["fail_times"]):
        raise RuntimeError(f"boom on attempt {ctx.attempt}")


@job_handler("test.always_fail", max_attempts=3)
def always_fail(db: Database, ctx: JobContext) -> None:
    raise ValueError("the remote system said no")


@job_handler("test.switch")
def switch(db: Database, ctx: JobContext) -> None:
    if SWITCH["fail"]:
        raise ConnectionError("mail server unreachable")


@job_handler("test.later")
def later(db: Database, ctx: JobContext) -> None:
    if ctx.attempt == 1:
        raise RetryLater("rate limited", delay_s=30)


@job_handler("test.slow", timeout_s=0.3)
def slow(db: Database, ctx: JobContext) -> None:
    time.sleep(float(ctx.payload.get("sleep", 1.0)))
