"""One source of "now" so tests can freeze time."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Current time, timezone-aware UTC, at 1-second precision (metrics.md §0)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(microsecond=0)


def precise_now() -> datetime:
    """Current time with microseconds (the SLA scanner compares against exact due instants)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests); ``None`` releases it."""
    global _frozen
    _frozen = at.astimezone(UTC) if at is not None else None


def as_utc(value: datetime) -> datetime:
    """Interpret naive datetimes as UTC and convert aware ones to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
