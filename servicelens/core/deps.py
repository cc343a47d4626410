"""FastAPI dependencies shared by routers: the DB session per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

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
    return await run_in_threadpool(run)
