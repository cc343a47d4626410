"""FastAPI dependencies shared by routers: the DB session per request."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from servicelens.core.db import Database


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on error."""
    db: Database = request.app.state.db
    with db.session() as session:
        yield session


# scope="function": the transaction commits BEFORE the response is sent. FastAPI's default for a
# yield dependency ends it after sending, so a failed commit would follow a 2xx the client already
# has, and a client's next request (maybe to another worker) could miss the write it was told about.
DbSession = Annotated[Session, Depends(get_session, scope="function")]

T = TypeVar("T")


async def read(request: Request, work: Callable[[Connection], T], *, point: bool = False) -> T:
    """A read-only endpoint's database work on a plain connection (no ORM session, no commit).

    It runs in ONE worker-thread hop (the session dependency costs two more, plus the session's
    bookkeeping). ``point`` marks a bounded read (one row by key and its children): on SQLite that
    runs right on the event loop, as there is no network wait to block on and the hop itself
    (≈0.3 ms of CPU in thread hand-offs) would cost about as much as the read. Anything that may
    scan stays in the pool so one slow query cannot stall the other requests of the process."""
    db: Database = request.app.state.db

    def run() -> T:
        with db.engine.connect() as conn:
            return work(conn)

    if point and db.is_sqlite:
        return run()
    return await anyio.to_thread.run_sync(run, limiter=_read_limiter(db.is_sqlite))


_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary()
)


def _read_limiter(sqlite: bool) -> anyio.CapacityLimiter:
    """A few reads at once per event loop. On SQLite they are CPU-bound under one GIL: anyio's
    default of forty threads only stretches each read out (p99 of a ticket page under load: 272 ms
    unlimited, 108 ms with two, same throughput); the rest wait their turn in order. PostgreSQL
    reads also wait on the network, so more of them may overlap."""
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    limiter = per_loop.get(sqlite)
    if limiter is None:
        limiter = per_loop[sqlite] = anyio.CapacityLimiter(2 if sqlite else 8)
    return limiter
