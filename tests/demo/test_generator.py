"""The demo-data generator: shape, legal histories, consistent timestamps, determinism, idempotency.

Runs on SQLite by default and on PostgreSQL with SERVICELENS_TEST_DB=pg (the ``db`` fixture); the
determinism test compares two private SQLite files.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Connection, func, select, text

from servicelens.core import clock
from servicelens.core.db import Base, Database
from servicelens.core.migrate import upgrade
from servicelens.demo import generator
from servicelens.demo.generator import KNOWN_LOGINS, ROLE_PASSWORDS, DemoResult, generate
from servicelens.org.models import Region, Team, User
from servicelens.org.service import authenticate
from servicelens.tickets.models import EventKind, TicketComment, TicketStatus
from servicelens.tickets.service import TRANSITIONS

# A fixed "now" so the tests do not depend on today's date (11.11 and a Sunday fall in the window).
NOW = datetime(2025, 11, 26, 9, 30, tzinfo=UTC)
ANCHOR = datetime(2025, 11, 26, tzinfo=UTC)
QUIET = Console(quiet=True)
OPEN = {"new", "assigned", "in_progress", "pending_customer", "on_hold"}


def _rows(conn: Connection, table: str, order: str = "id") -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]


def _fast_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 costs ~0.4 s a hash here; tests that do not log in skip it."""
    monkeypatch.setattr(generator, "hash_password", lambda pw: f"test-hash:{pw}")


def _check_histories(db: Database) -> None:
    """Every ticket's events are a legal walk of the status machine ending in its status, and the
    ticket's timestamps agree with its history."""
    anchor = ANCHOR
    with db.engine.connect() as conn:
        tickets = {t["id"]: t for t in _rows(conn, "tickets")}
        events: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for e in _rows(conn, "ticket_events"):
            events[e["ticket_id"]].append(e)
        comments = {c["id"]: c for c in _rows(conn, "ticket_comments")}

    def ts(value: Any) -> datetime | None:
        """Raw SELECTs skip UTCDateTime: SQLite gives text, PostgreSQL aware datetimes."""
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    kinds = {k.value for k in EventKind}
    for tid, t in tickets.items():
        evs = events[tid]
        assert evs, f"ticket {tid} has no history"
        assert evs[0]["kind"] == "created" and sum(e["kind"] == "created" for e in evs) == 1
        created = ts(t["created_at"])
        assert created is not None and created < anchor
        assert ts(evs[0]["at"]) == created
        state = evs[0]["to_status"]
        assert state in ("new", "assigned")
        reopens = 0
        first_reply: datetime | None = None
        last_at = created
        own_last = created
        resolved_at: datetime | None = None
        first_resolved: datetime | None = None
        for i, e in enumerate(evs):
            at = ts(e["at"])
            assert at is not None and last_at <= at < anchor, f"ticket {tid}: events out of order"
            last_at = at
            assert e["kind"] in kinds
            if e["kind"] != "followup_created":
                own_last = at
            if e["kind"] == "status_changed":
                assert e["from_status"] == state, f"ticket {tid}: {e['from_status']} != {state}"
                assert TicketStatus(e["to_status"]) in TRANSITIONS[TicketStatus(state)], (
                    f"ticket {tid}: illegal {state} → {e['to_status']}"
                )
                if e["to_status"] == "resolved":
                    resolved_at = at
                    first_resolved = first_resolved or at
                elif state == "resolved" and e["to_status"] != "closed":
                    resolved_at = None
                    nxt = evs[i + 1]
                    assert nxt["kind"] == "reopened" and nxt["at"] == e["at"]
                state = e["to_status"]
            elif e["kind"] == "reopened":
                reopens += 1
                assert _json(e["data"]) == {"reopen_count": reopens}
            elif e["kind"] == "merged_into":
                assert e["from_status"] == state and e["to_status"] == "closed"
                state = "closed"
            elif e["kind"] in ("replied", "commented"):
                data = _json(e["data"])
                c = comments[data["comment_id"]]
                assert c["ticket_id"] == tid and ts(c["created_at"]) == at
                assert bool(c["public"]) == data["public"] and c["author_kind"] == data["author"]
                if e["kind"] == "replied":
                    assert data["author"] == "agent" and data["public"] and e["actor_id"] is not None
                    first_reply = first_reply or at
                if data["author"] == "customer":
                    assert e["actor_id"] is None and c["author_id"] is None
                assert state != "closed", f"ticket {tid}: comment on a closed ticket"
        assert state == t["status"], f"ticket {tid}: history ends in {state}, ticket says {t['status']}"
        assert reopens == t["reopen_count"]
        assert ts(t["first_response_at"]) == first_reply
        assert ts(t["first_resolved_at"]) == first_resolved
        assert ts(t["resolved_at"]) == (resolved_at if state in ("resolved", "closed") else None)
        assert ts(t["updated_at"]) == own_last
        # created ≤ first response ≤ … ≤ closed
        chain = [created, ts(t["first_response_at"]), ts(t["first_resolved_at"]), ts(t["resolved_at"])]
        chain.append(ts(t["closed_at"]))
        present = [c for c in chain if c is not None]
        assert present == sorted(present), f"ticket {tid}: timestamps out of order {chain}"
        assert (t["closed_at"] is not None) == (state == "closed")
        assert t["version"] >= 1
        if t["merged_into_id"] is None and state == "closed":
            assert t["first_resolved_at"] is not None  # closed only after a resolution


def _json(value: Any) -> Any:
    """JSON columns come back as text from raw SQLite queries and as objects from PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def test_demo_company_histories_and_logins(db: Database) -> None:
    clock.freeze(NOW)
    result = generate(db, tickets=800, seed=7, days=120, console=QUIET)
    assert isinstance(result, DemoResult) and not result.reused
    assert result.tickets == 800 and result.regions >= 8
    assert result.agents + result.engineers >= 40
    summary = result.summary()
    for username, role, _, _ in KNOWN_LOGINS:
        assert username in summary and ROLE_PASSWORDS[role] in summary

    with db.session() as s:
        # Organisation: every region has a manager, every team a supervisor of its own region.
        regions = s.scalars(select(Region)).all()
        assert {r.code for r in regions} >= {"east", "north", "south", "central", "southwest", "northwest"}
        assert all(r.manager_id is not None for r in regions)
        teams = {t.name: t for t in s.scalars(select(Team))}
        assert len(teams) >= 16 and all(t.supervisor_id is not None for t in teams.values())
        users = {u.username: u for u in s.scalars(select(User))}
        assert teams["华东售后"].supervisor_id == users["supervisor1"].id
        assert users["agent1"].team_id == teams["华东售后"].id and users["agent1"].role == "agent"
        assert users["engineer1"].role == "engineer" and users["engineer1"].team_id == teams["华东售后"].id
        engineers = [u for u in users.values() if u.role == "engineer"]
        assert engineers and all(u.skills and u.base_lat and u.base_lng for u in engineers)
        for username, role, _, _ in KNOWN_LOGINS:
            assert authenticate(s, username, ROLE_PASSWORDS[role]).role == role
        assert authenticate(s, "agent7", "agent12345").role == "agent"  # role pattern passwords

    with db.engine.connect() as conn:
        customers = _rows(conn, "customers")
        assert len(customers) == result.customers >= 200
        vips = [c for c in customers if c["tier"] == "vip"]
        assert 0.05 <= len(vips) / len(customers) <= 0.2
        assert all(c["sales_owner_id"] for c in vips)
        assert all(c["source"] == "crm" and c["external_id"] and c["lat"] and c["phone"] for c in customers)
        assert conn.execute(select(func.count()).select_from(Base.metadata.tables["customer_contacts"])).scalar()
        comps = Counter(r["product_id"] for r in _rows(conn, "components"))
        assert len(comps) >= 8 and min(comps.values()) >= 4

        tickets = {t["id"]: t for t in _rows(conn, "tickets")}
        assert len(tickets) == 800
        assert {t["type"] for t in tickets.values()} == {"inquiry", "repair", "complaint", "return", "suggestion"}
        open_statuses = {t["status"] for t in tickets.values() if t["status"] in OPEN}
        assert len(open_statuses) >= 2, open_statuses  # recent tickets are still being worked
        assert any(t["flag_color"] == "red" for t in tickets.values())
        assert any(t["reopen_count"] for t in tickets.values())
        # Pareto: one compressor is behind roughly a fifth to a quarter of the repairs.
        repairs = Counter(t["component_id"] for t in tickets.values() if t["type"] == "repair")
        assert 0.15 <= repairs.most_common(1)[0][1] / sum(repairs.values()) <= 0.32
        # Tickets belong to their customer's region and a team of that region.
        cust_region = {c["id"]: c["region_id"] for c in customers}
        team_region = {t.id: t.region_id for t in teams.values()}
        assert all(
            t["region_id"] == cust_region[t["customer_id"]] == team_region[t["team_id"]] for t in tickets.values()
        )

        events = _rows(conn, "ticket_events")
        by_ticket: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for e in events:
            by_ticket[e["ticket_id"]].append(e)
        merged = [t for t in tickets.values() if t["merged_into_id"] is not None]
        assert merged
        for t in merged:
            target = tickets[t["merged_into_id"]]
            assert t["status"] == "closed" and target["customer_id"] == t["customer_id"]
            assert target["merged_into_id"] is None
            into = [e for e in by_ticket[t["id"]] if e["kind"] == "merged_into"]
            assert len(into) == 1 and _json(into[0]["data"])["into"] == target["id"]
            assert [
                e for e in by_ticket[target["id"]] if e["kind"] == "merged" and _json(e["data"])["source"] == t["id"]
            ]
        followups = [t for t in tickets.values() if t["followup_of_id"] is not None]
        assert followups
        for t in followups:
            parent = tickets[t["followup_of_id"]]
            assert parent["status"] == "closed" and parent["closed_at"] <= t["created_at"]
            assert t["source"] == "followup" and parent["customer_id"] == t["customer_id"]
            assert [
                e
                for e in by_ticket[parent["id"]]
                if e["kind"] == "followup_created" and _json(e["data"])["followup_id"] == t["id"]
            ]
        assert len(events) == result.events and 6 <= len(events) / 800 <= 14
        n_comments = conn.execute(select(func.count()).select_from(Base.metadata.tables["ticket_comments"])).scalar()
        assert n_comments == result.comments and 2 <= result.comments / 800 <= 5

    _check_histories(db)

    # Ids were written explicitly: the next ORM insert must still get a fresh id (PostgreSQL sequences).
    with db.session() as s:
        c = TicketComment(ticket_id=1, author_kind="system", public=False, body="x", created_at=NOW)
        s.add(c)
        s.flush()
        assert c.id > result.comments
        s.rollback()

    # A second run finds the demo data and changes nothing.
    before = {n: _count(db, n) for n in ("users", "customers", "tickets", "ticket_events", "ticket_comments")}
    again = generate(db, tickets=800, seed=7, days=120, console=QUIET)
    assert again.reused and again.tickets == 800
    assert "reused" in again.summary()
    assert {n: _count(db, n) for n in before} == before


def _count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Base.metadata.tables[table])).scalar() or 0)


def test_fills_a_database_that_has_only_the_init_admin(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from servicelens.org.schemas import UserCreate
    from servicelens.org.service import create_user

    clock.freeze(NOW)
    with db.session() as s:  # what `servicelens init` leaves behind
        admin = create_user(
            s, UserCreate(username="admin", display_name="管理员 Admin", password="my-own-pw-123", role="admin")
        )
        admin_id, admin_hash = admin.id, admin.password_hash
    _fast_hash(monkeypatch)
    result = generate(db, tickets=300, seed=3, days=30, console=QUIET)
    assert not result.reused and result.tickets == 300
    assert next(lg for lg in result.logins if lg.username == "admin").existed
    with db.session() as s:
        admins = s.scalars(select(User).where(User.role == "admin")).all()
        assert [(a.id, a.password_hash) for a in admins] == [(admin_id, admin_hash)]
        assert authenticate(s, "admin", "my-own-pw-123").id == admin_id
    assert _count(db, "users") > 50
    _check_histories(db)


SNAPSHOT_TABLES = (
    "regions",
    "teams",
    "customers",
    "customer_contacts",
    "products",
    "components",
    "tickets",
    "ticket_events",
    "ticket_comments",
)


def _snapshot(path: Path, seed: int) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    database = Database(f"sqlite:///{path}")
    try:
        upgrade(database.engine)
        result = generate(database, tickets=500, seed=seed, days=60, console=QUIET)
        counts = {k: v for k, v in vars(result).items() if k != "seconds"}
        with database.engine.connect() as conn:
            tables = {name: _rows(conn, name) for name in SNAPSHOT_TABLES}
            tables["users"] = [{k: v for k, v in u.items() if k != "password_hash"} for u in _rows(conn, "users")]
        return counts, tables
    finally:
        database.dispose()


def test_same_seed_same_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_hash(monkeypatch)
    clock.freeze(NOW)
    try:
        a = _snapshot(tmp_path / "a.db", seed=11)
        b = _snapshot(tmp_path / "b.db", seed=11)
        c = _snapshot(tmp_path / "c.db", seed=12)
    finally:
        clock.freeze(None)
    assert a[0] == b[0]
    for name in a[1]:
        assert a[1][name] == b[1][name], f"{name} differs between two runs with the same seed"
    assert a[1]["tickets"][0]["subject"] and a[1]["tickets"][:5] == b[1]["tickets"][:5]
    assert a[1]["tickets"] != c[1]["tickets"]  # and the seed matters
