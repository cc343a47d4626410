"""Admin view of the job queue: list, counts, retry of dead jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from servicelens.core import jobs
from servicelens.core.auth import Permission, Subject, require
from servicelens.core.deps import DbSession
from servicelens.core.models import Job
from servicelens.core.pagination import Page, check_page, paginate_count

router = APIRouter(prefix="/admin/jobs", tags=["admin"])
Admin = Annotated[Subject, Depends(require(Permission.org_admin))]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    payload: dict[str, Any]
    status: jobs.JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    dedupe_key: str | None
    created_at: datetime
    finished_at: datetime | None


class JobStats(BaseModel):
    total: int
    by_status: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    oldest_due_at: datetime | None


class RetryResult(BaseModel):
    retried: int


@router.get("", response_model=Page[JobOut])
def list_jobs(
    session: DbSession,
    _: Admin,
    status: jobs.JobStatus | None = None,
    kind: Annotated[str | None, Query(max_length=60)] = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[JobOut]:
    """Jobs, newest first; ``status=dead`` is the dead-letter view."""
    check_page(page, page_size)
    stmt = select(Job)
    if status is not None:
        stmt = stmt.where(Job.status == status.value)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    total, exact = paginate_count(session, stmt)
    rows = session.scalars(stmt.order_by(Job.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return Page[JobOut](
        items=[JobOut.model_validate(j) for j in rows], total=total, page=page, page_size=page_size, total_exact=exact
    )


@router.get("/stats", response_model=JobStats)
def job_stats(session: DbSession, _: Admin) -> JobStats:
    """Counts by status and by kind × status; ``oldest_due_at`` shows the queue lag."""
    return JobStats.model_validate(jobs.job_stats(session))


@router.post("/retry-dead", response_model=RetryResult)
def retry_dead(session: DbSession, _: Admin, kind: Annotated[str | None, Query(max_length=60)] = None) -> RetryResult:
    """Re-queue every dead job (optionally of one kind), attempts reset."""
    return RetryResult(retried=jobs.retry_dead(session, kind))


@router.post("/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: Annotated[int, Path(ge=1)], session: DbSession, _: Admin) -> JobOut:
    """Re-queue a dead job (or one waiting for its next retry) to run now; 409 otherwise."""
    return JobOut.model_validate(jobs.retry_job(session, job_id))
