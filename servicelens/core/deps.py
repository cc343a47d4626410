"""FastAPI dependencies shared by routers: the DB session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
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


DbSession = Annotated[Session, Depends(get_session)]
