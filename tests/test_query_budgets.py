"""Query-count budgets on a seeded database: an N+1 regression fails the build.

The database holds the demo company (≥ 40 agents/engineers, 20,000 tickets). Counts are
deterministic; wall time is never asserted here (see bench/ for speed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import event, select

from servicelens.core.db import Database
from servicelens.core.migrate import upgrade
from servicelens.customers.models import Customer
from servicelens.tickets.models import Ticket
from tests.conftest import backend, login

BUDGETS = {"ticket_list": 3, "ticket_list_filtered": 3, "ticket_detail": 3, "customer_timeline": 5}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from servicelens.demo.generator import generate

    if backend() == "pg":
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from tests.conftest import _pg_server_url  # a dedicated database for this module

        server = make_url(_pg_server_url())
        name = f"sl_budget_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        db = Database(server.set(database=name).render_as_string(hide_password=False))
    else:
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('budget')}/budget.db")
    upgrade(db.engine)
    generate(db, tickets=20_000, seed=3, days=120, console=Console(quiet=True))
    yield db
    db.dispose()
    if backend() == "pg":
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Counter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.n = 0

    def _count(self, *args: Any) -> None:
        self.n += 1

    def __enter__(self) -> Counter:
        self.n = 0
        event.listen(self.db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._count)


@pytest.fixture(scope="module")
def client(seeded: Database) -> Iterator[TestClient]:
    from servicelens.app import create_app

    with TestClient(create_app(db=seeded)) as c:
        login(c, "supervisor1", "super12345")
        yield c


def _measure(db: Database, client: TestClient, url: str) -> int:
    assert client.get(url).status_code == 200  # warm the credential cache
    with Counter(db) as c:
        r = client.get(url)
    assert r.status_code == 200, r.text
    return c.n


def test_seed_is_large(seeded: Database) -> None:
    from sqlalchemy import func

    from servicelens.org.models import User

    with seeded.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) >= 20_000
        assert s.scalar(select(func.count()).select_from(User).where(User.role.in_(("agent", "engineer")))) >= 40


def test_ticket_list_budget(seeded: Database, client: TestClient) -> None:
    assert _measure(seeded, client, "/api/v1/tickets?page_size=50") <= BUDGETS["ticket_list"]
    url = "/api/v1/tickets?status=in_progress&status=assigned&type=repair&sort=-updated_at&page=2&page_size=100"
    assert _measure(seeded, client, url) <= BUDGETS["ticket_list_filtered"]


def test_ticket_detail_budget(seeded: Database, client: TestClient) -> None:
    with seeded.session() as s:
        # the ticket with the longest history in the caller's view
        tid = s.scalar(select(Ticket.id).where(Ticket.reopen_count > 0, Ticket.team_id.is_not(None)).limit(1))
    listing = client.get("/api/v1/tickets?page_size=1").json()["items"]
    tid = listing[0]["id"] if tid is None else tid
    r = client.get(f"/api/v1/tickets/{tid}")
    if r.status_code == 404:
        tid = listing[0]["id"]
    assert _measure(seeded, client, f"/api/v1/tickets/{tid}") <= BUDGETS["ticket_detail"]


def test_customer_timeline_budget(seeded: Database, client: TestClient) -> None:
    with seeded.session() as s:
        cid = s.scalar(
            select(Ticket.customer_id).where(Ticket.customer_id.is_not(None)).group_by(Ticket.customer_id).limit(1)
        )
        assert s.get(Customer, cid) is not None
    assert _measure(seeded, client, f"/api/v1/customers/{cid}/timeline?page_size=50") <= BUDGETS["customer_timeline"]


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite's query plan")
def test_status_list_is_counted_from_the_index_alone(seeded: Database) -> None:
    """Counting a status list (with a priority filter) reads no ticket row: the covering index
    ix_tickets_status_list holds every column the count's WHERE needs."""
    from servicelens.core.auth import system_subject
    from servicelens.org.models import User
    from servicelens.tickets.service import TicketFilters, list_tickets

    with seeded.session() as s:
        admin = system_subject(s.scalar(select(User).where(User.role == "admin").limit(1)))
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(seeded.engine, "before_cursor_execute", record)
    try:
        with seeded.engine.connect() as conn:
            page = list_tickets(
                conn, admin, TicketFilters(status=["in_progress"], priority=["high"]), "-created_at", 1, 20
            )
    finally:
        event.remove(seeded.engine, "before_cursor_execute", record)
    assert page["total"] > 0
    count_sql, params = next((sql, p) for sql, p in statements if sql.lstrip().upper().startswith("SELECT COUNT("))
    with seeded.engine.connect() as conn:
        plan = " ".join(str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {count_sql}", params))
    assert "COVERING INDEX ix_tickets_status_list" in plan, plan
