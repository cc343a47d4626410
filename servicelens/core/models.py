"""Cross-cutting tables: idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicelens.core.db import Base


class IdempotencyRecord(Base):
    """The first response to a create, replayed for a retry with the same key and body."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(120))  # subject + method + path
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)
