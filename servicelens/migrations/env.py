"""Alembic environment: runs on the connection handed in by ``servicelens.core.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import servicelens.models  # noqa: F401  (registers every table)
from servicelens.core.db import Base, make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


conn = context.config.attributes.get("connection")
if conn is not None:
    _run(conn)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or None)
    with engine.begin() as connection:
        _run(connection)
