"""Idempotency-Key on creates: a retry with the same key and body replays the first response."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicelens.core.auth import Subject
from servicelens.core.clock import utcnow
from servicelens.core.errors import ProblemError
from servicelens.core.models import IdempotencyRecord

KEEP_FOR = timedelta(days=1)


def _hash(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def run_idempotent(
    session: Session,
    subject: Subject,
    key: str | None,
    scope: str,
    payload: Any,
    create: Callable[[], dict[str, Any]],
    status_code: int = 201,
) -> tuple[int, dict[str, Any]]:
    """Run ``create`` once per (caller, scope, key); the record commits with the created row."""
    if not key:
        return status_code, create()
    if len(key) > 200:
        raise ProblemError(422, "idempotency.key_too_long", "Invalid request", "Idempotency-Key exceeds 200 chars")
    full_scope = f"{subject.user_id}:{scope}"
    digest = _hash(payload)
    existing = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == full_scope, IdempotencyRecord.key == key)
    )
    if existing is not None and existing.created_at > utcnow() - KEEP_FOR:
        if existing.request_hash != digest:
            raise ProblemError(
                422,
                "idempotency.key_reused",
                "Idempotency key reused",
                "This Idempotency-Key was already used with a different request body",
            )
        return existing.status_code, existing.response
    if existing is not None:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
    body = create()
    session.add(
        IdempotencyRecord(
            scope=full_scope,
            key=key,
            request_hash=digest,
            status_code=status_code,
            response=body,
            created_at=utcnow(),
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent retry won the race: let the caller retry and replay
        raise ProblemError(
            409, "idempotency.in_progress", "Conflict", "A request with this key is in progress"
        ) from exc
    return status_code, body
