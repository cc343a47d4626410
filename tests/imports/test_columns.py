"""The column-at-a-time ticket import must store and report exactly what the row-by-row path does.

Random files mix clean rows with every kind of cell the column path hands back to the row path
(bad values, other spellings, timeline errors, duplicates, missing columns), so each run goes
through both paths and their hand-over; the same file is then imported through the row path
alone and the stored tickets, events and reports compared."""

from __future__ import annotations

import io
import random
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from servicelens.core.db import Database
from servicelens.imports import service
from servicelens.imports.schemas import ImportKind
from servicelens.imports.tickets import TicketImporter
from servicelens.org.models import User
from servicelens.tickets.models import Ticket, TicketEvent
from tests.conftest import Org
from tests.imports.helpers import TICKET_COLUMNS, TICKETS, admin_subject, csv_bytes, import_ok, wipe_tickets

# The helpers' first ticket, with a Chinese channel label and first_resolved_at left to default.
CLEAN: dict[str, Any] = TICKETS[0] | {"channel": "电话", "first_resolved_at": ""}
# Variations that keep a row clean (the column path takes them) ...
CLEAN_CHANGES: list[dict[str, Any]] = [
    {},
    {"status": "new", "assignee": "", "resolved_at": "", "first_response_at": ""},
    {"status": "in_progress", "resolved_at": "", "region": "north"},
    {"status": "closed", "closed_at": "2025-03-05 10:00:00", "assignee": "agent2"},  # deactivated, but closed
    {"priority": "", "channel": "", "description": "", "category": ""},
    {"customer_external_id": "", "team": "", "product_code": "", "component_code": ""},
    {"first_resolved_at": "2025-03-03 12:00:00", "created_at": "2025-03-02 23:59:59"},
    {"type": "投诉", "priority": "紧急", "status": "已解决"},
]
# ... and cells that need the row path: an error to report, or a form only the row path parses.
ROW_CHANGES: list[dict[str, Any]] = [
    {"created_at": "2025-03-03T00:40:00Z"},  # ISO with a zone: parsed, not by the hour shortcut
    {"created_at": "2025/3/3 8:40"},  # a spreadsheet date
    {"created_at": "2025-02-30 08:00:00"},  # no such day
    {"created_at": "2999-01-01 08:00:00"},  # in the future
    {"resolved_at": "2025-03-03 15:40:00\n2025-03-03 15:41:00"},  # a newline inside the cell
    {"type": "REPAIR"},  # another spelling of an enum
    {"type": "unknown"},
    {"product_code": "NO-SUCH"},
    {"component_code": "no-such"},
    {"product_code": "", "component_code": "compressor"},
    {"customer_external_id": "CRM-404"},
    {"assignee": "analyst1"},  # not assignable
    {"assignee": "nobody"},
    {"team": "火星售后"},
    {"region": "mars"},
    {"subject": ""},
    {"subject": "长" * 501},
    {"status": "resolved", "resolved_at": ""},
    {"first_response_at": "2025-03-03 07:00:00"},  # before created
    {"status": "assigned", "assignee": "", "resolved_at": ""},
    {"status": "in_progress", "resolved_at": "", "assignee": "agent2"},  # deactivated, open
]


def _file(rng: random.Random, n: int, columns: list[str]) -> bytes:
    rows = []
    for i in range(n):
        row = CLEAN | {"external_id": f"R-{i:04d}", "subject": f"工单 {i}"}
        roll = rng.random()
        row |= rng.choice(ROW_CHANGES) if roll < 0.08 else rng.choice(CLEAN_CHANGES) if roll < 0.6 else {}
        if rng.random() < 0.05 and i:
            row["external_id"] = f"R-{rng.randrange(i):04d}"  # a duplicate in the file
        rows.append(row)
    return csv_bytes(columns, rows)


def _stored(db: Database) -> list[tuple[Any, ...]]:
    columns = [getattr(Ticket, c) for c in ("external_id", *TICKET_COLUMNS[1:8], "customer_id", "product_id")]
    columns += [getattr(Ticket, c) for c in ("component_id", "team_id", "assignee_id", "region_id", "version")]
    columns += [getattr(Ticket, c) for c in ("created_at", "first_response_at", "first_resolved_at", "resolved_at")]
    with db.session() as s:
        tickets = s.execute(select(*columns, Ticket.closed_at).order_by(Ticket.external_id)).all()
        events = s.execute(
            select(Ticket.external_id, TicketEvent.kind, TicketEvent.to_status, TicketEvent.data)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .order_by(Ticket.external_id, TicketEvent.id)
        ).all()
    return [tuple(r) for r in tickets] + [tuple(r) for r in events]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_column_path_stores_and_reports_what_the_row_path_does(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    with db.session() as s:
        agent2 = s.get(User, org.users["agent2"])
        assert agent2 is not None
        agent2.is_active = False
    rng = random.Random(seed)
    columns = list(TICKET_COLUMNS)
    if seed == 3:  # a file without some columns: absent means default (new) or keep (stored)
        columns = [c for c in columns if c not in ("priority", "region", "first_resolved_at", "category")]
    first, second = _file(rng, 80, columns), _file(rng, 80, columns)  # the second re-imports and edits
    used: list[int] = []
    create = TicketImporter._create

    def spy(self: TicketImporter, conn: Any, batch: Any) -> Any:
        outcome = create(self, conn, batch)
        used.append(outcome.created)
        return outcome

    monkeypatch.setattr(TicketImporter, "_create", spy)
    runs = {}
    for columnar in (True, False):
        monkeypatch.setattr(TicketImporter, "columnar", columnar)
        wipe_tickets(db)
        reports = []
        for content in (first, second):
            result = service.import_file(db, admin_subject(db), ImportKind.tickets, io.BytesIO(content), batch_size=4)
            report = result.model_dump()
            for error in report["errors"]:  # ids differ between runs on PostgreSQL (a sequence)
                error["reason"] = re.sub(r"ticket \d+", "ticket #", error["reason"])
            reports.append(report)
        runs[columnar] = (reports, _stored(db))
    assert runs[True] == runs[False]
    reports, stored = runs[True]
    assert used, "no batch went through the column path"
    assert reports[0]["created"] > sum(used) > 0 and reports[0]["failed"] > 0  # both paths, one file
    assert reports[1]["updated"] > 0 and stored


def test_clean_file_goes_through_the_column_path(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    calls: list[str] = []
    rows_path = TicketImporter._prepare_rows

    def spy(self: TicketImporter, batch: Any, failed: Any) -> Any:
        calls.append("rows")
        return rows_path(self, batch, failed)

    monkeypatch.setattr(TicketImporter, "_prepare_rows", spy)
    content = csv_bytes(TICKET_COLUMNS, [CLEAN | {"external_id": f"C-{i}"} for i in range(10)])
    result = service.import_file(db, admin_subject(db), ImportKind.tickets, io.BytesIO(content), batch_size=4)
    assert (result.created, result.failed, calls) == (10, 0, [])
    with db.session() as s:
        stored = s.execute(select(Ticket.first_resolved_at, Ticket.resolved_at, Ticket.region_id)).all()
    # first_resolved_at defaults to resolved_at; the region comes from the customer.
    assert {(a, b) for a, b, _ in stored} == {(stored[0][1], stored[0][1])}
    assert {r for _, _, r in stored} == {org.region_east}


def test_new_tickets_batch_with_one_stored_ticket_in_a_later_statement(
    admin_client: TestClient, db: Database, org: Org
) -> None:
    """On SQLite a clean batch is inserted without looking its keys up first, in statements of
    (here) 1,000 rows. A stored key in the second statement must undo the first one too (savepoint), and
    the batch then goes through the lookup: every other ticket created once, with one event."""
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    stored = CLEAN | {"external_id": "S-2000", "subject": "已有工单"}
    content = csv_bytes(TICKET_COLUMNS, [stored])
    assert service.import_file(db, admin_subject(db), ImportKind.tickets, io.BytesIO(content)).created == 1
    rows = [CLEAN | {"external_id": f"S-{i}", "subject": f"工单 {i}"} for i in range(3100)]
    content = csv_bytes(TICKET_COLUMNS, rows)
    with _statements_of(1_000, db):
        result = service.import_file(db, admin_subject(db), ImportKind.tickets, io.BytesIO(content))
    assert (result.created, result.updated, result.failed) == (3099, 1, 0)
    with db.session() as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        imported = s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "imported"))
        subject = s.scalar(select(Ticket.subject).where(Ticket.external_id == "S-2000"))
    assert (tickets, imported, subject) == (3100, 3100, "工单 2000")


@contextmanager
def _statements_of(rows: int, db: Database) -> Iterator[None]:
    """SQLite connections whose bound-value limit fits ``rows`` ticket rows per multi-row INSERT."""
    if not db.is_sqlite:
        yield
        return

    def limit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, rows * 22)

    db.engine.dispose()
    event.listen(db.engine, "connect", limit)
    try:
        yield
    finally:
        event.remove(db.engine, "connect", limit)
        db.engine.dispose()
