"""Job handlers of the notifications domain (imported by every worker, see servicelens.worker)."""

from __future__ import annotations

from servicelens.alerts.service import DELIVER_JOB, JOB_TIMEOUT_S, MAX_ATTEMPTS, deliver, reconcile
from servicelens.core.db import Database
from servicelens.core.jobs import JobContext, job_handler, register_periodic

RECONCILE_EVERY_S = 60.0


@job_handler(DELIVER_JOB, max_attempts=MAX_ATTEMPTS, timeout_s=JOB_TIMEOUT_S)
def deliver_job(db: Database, ctx: JobContext) -> None:
    """Send one notification delivery (payload ``{"delivery_id": n}``)."""
    deliver(db, int(ctx.payload["delivery_id"]), ctx.attempt, ctx.max_attempts)


def _reconcile(db: Database) -> None:
    reconcile(db)


register_periodic("alerts.reconcile", _reconcile, every_s=RECONCILE_EVERY_S)
