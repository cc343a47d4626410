"""Background work of the SLA engine: the due scanner and the rebuild after policy/calendar edits."""

from __future__ import annotations

from servicelens.core.db import Database
from servicelens.core.jobs import JobContext, job_handler, register_periodic
from servicelens.sla import service

SCAN_EVERY_S = 0.5  # detection promise: ≤ 2 s after the due instant


@job_handler("sla.rebuild", max_attempts=5, timeout_s=600)
def rebuild_job(db: Database, ctx: JobContext) -> None:
    """Recompute open tickets' targets after a policy, rule or calendar change (idempotent)."""
    service.rebuild(db, open_only=True)


def scan(db: Database) -> None:
    service.scan_due(db)


register_periodic("sla.scan", scan, every_s=SCAN_EVERY_S)
