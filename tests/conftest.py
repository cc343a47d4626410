"""Test fixtures: a migrated database (SQLite by default, PostgreSQL with SERVICELENS_TEST_DB=pg),
the real app, logged-in clients and a small seeded organisation."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from servicelens.core import clock
from servicelens.core.auth import CSRF_HEADER, subject_cache
from servicelens.core.db import Base, Database, foreign_keys_off
from servicelens.core.migrate import upgrade
from servicelens.worker import load_job_modules

# Register every job handler and periodic task in the real registries now: a test that swaps a
# registry out for a moment must not be the one that first imports (and so registers) a module.
load_job_modules("")

PASSWORDS = {
    "admin": "admin12345",
    "supervisor1": "super12345",
    "agent1": "agent12345",
    "agent2": "agent12345",
    "engineer1": "engineer12345",
    "analyst1": "analyst12345",
    "sales1": "sales12345",
}


def backend() -> str:
    return os.environ.get("SERVICELENS_TEST_DB", "sqlite")


def _pg_server_url() -> str:
    url = os.environ.get("SERVICELENS_TEST_PG_URL")
    if not url:
        pytest.exit("SERVICELENS_TEST_DB=pg needs SERVICELENS_TEST_PG_URL", returncode=2)
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test session (or xdist worker)."""
    if backend() == "pg":
        server = make_url(_pg_server_url())
        name = f"sl_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        yield url
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        tmp = tempfile.mkdtemp(prefix="sl_test_")
        yield f"sqlite:///{tmp}/test.db"


@pytest.fixture(scope="session")
def migrated_db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def _wipe(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if not database.is_sqlite:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        return
    with database.engine.connect() as conn, foreign_keys_off(conn):
        for t in tables:
            conn.exec_driver_sql(f'DELETE FROM "{t}"')
        if conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'").first():
            conn.exec_driver_sql("DELETE FROM sqlite_sequence")
        conn.commit()


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    """The migrated database, emptied after each test."""
    subject_cache.clear()
    yield migrated_db
    clock.freeze(None)
    subject_cache.clear()
    _wipe(migrated_db)


@pytest.fixture
def app(db: Database) -> Any:
    from servicelens.app import create_app

    return create_app(db=db)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str, password: str | None = None) -> TestClient:
    """Log in with the session cookie and send the CSRF header on every later request."""
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password or PASSWORDS[username]})
    assert r.status_code == 200, r.text
    client.headers[CSRF_HEADER] = r.json()["csrf_token"]
    return client


@dataclass
class Org:
    """Ids of the seeded organisation."""

    region_east: int
    region_north: int
    team_east: int
    team_north: int
    users: dict[str, int]
    customer_vip: int
    customer_regular: int
    product: int
    component: int


@pytest.fixture
def org(db: Database) -> Org:
    """A small organisation: two regions/teams, one user per role, two customers, one product."""
    from servicelens.core.clock import utcnow
    from servicelens.core.security import hash_password
    from servicelens.customers.models import Customer, CustomerContact
    from servicelens.org.models import Region, Team, User
    from servicelens.products.models import Component, Product

    now = utcnow()
    with db.session() as s:
        east = Region(code="east", name="华东", name_en="East China")
        north = Region(code="north", name="华北", name_en="North China")
        s.add_all([east, north])
        s.flush()
        t_east = Team(name="华东售后", name_en="East after-sales", region_id=east.id)
        t_north = Team(name="华北售后", name_en="North after-sales", region_id=north.id)
        s.add_all([t_east, t_north])
        s.flush()
        roles = {
            "admin": ("admin", None, None),
            "supervisor1": ("supervisor", t_east.id, east.id),
            "agent1": ("agent", t_east.id, east.id),
            "agent2": ("agent", t_north.id, north.id),
            "engineer1": ("engineer", t_east.id, east.id),
            "analyst1": ("analyst", None, None),
            "sales1": ("sales", None, east.id),
        }
        pw_cache: dict[str, str] = {}
        users: dict[str, int] = {}
        for username, (role, team_id, region_id) in roles.items():
            pw = PASSWORDS[username]
            pw_cache.setdefault(pw, hash_password(pw))
            u = User(
                username=username,
                display_name=username.capitalize(),
                role=role,
                team_id=team_id,
                region_id=region_id,
                password_hash=pw_cache[pw],
                created_at=now,
                skills=[],
            )
            s.add(u)
            s.flush()
            users[username] = u.id
        t_east.supervisor_id = users["supervisor1"]
        vip = Customer(
            name="上海宏达电器有限公司",
            tier="vip",
            region_id=east.id,
            city="上海",
            phone="13812345678",
            email="li.ming@hongda.example",
            sales_owner_id=users["sales1"],
            created_at=now,
            updated_at=now,
        )
        reg = Customer(name="王芳", tier="regular", region_id=north.id, city="北京", created_at=now, updated_at=now)
        s.add_all([vip, reg])
        s.flush()
        s.add(CustomerContact(customer_id=vip.id, name="李明", phone="13812345678", email="li.ming@hongda.example"))
        p = Product(code="WH-60", name="电热水器 60L", category="热水器", created_at=now)
        s.add(p)
        s.flush()
        c = Component(product_id=p.id, code="heater", name="加热管")
        s.add(c)
        s.flush()
        return Org(east.id, north.id, t_east.id, t_north.id, users, vip.id, reg.id, p.id, c.id)


@pytest.fixture
def admin_client(client: TestClient, org: Org) -> TestClient:
    return login(client, "admin")


@pytest.fixture
def agent_client(app: Any, org: Org) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield login(c, "agent1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on loopback with the demo data set (small), for browser tests."""
    import uvicorn
    from rich.console import Console

    from servicelens.app import create_app
    from servicelens.demo.generator import generate

    path: Path = tmp_path_factory.mktemp("live") / "live.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    generate(database, tickets=600, seed=7, days=60, console=Console(quiet=True))
    port = _free_port()
    # The embedded job worker runs the SLA scanner, so breaches happen while a browser watches.
    server = uvicorn.Server(
        uvicorn.Config(create_app(db=database, embedded_worker=True), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    database.dispose()
