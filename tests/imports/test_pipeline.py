"""The pipelined ticket import (SQLite: batch k written by a writer thread while batch k+1 is
prepared) must store exactly what the one-thread import stores, report the same rows, and keep
the batch rules: a batch is stored only once the batch after it was read without a file error."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from servicelens.core.db import Database
from servicelens.imports import service
from servicelens.imports.engine import sqlite_values
from servicelens.imports.schemas import ImportKind, ImportResult
from servicelens.imports.tickets import TicketImporter
from servicelens.tickets.models import Ticket, TicketEvent
from tests.conftest import Org, backend
from tests.imports.helpers import TICKET_COLUMNS, TICKETS, admin_subject, csv_bytes, import_ok, wipe_tickets

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="the writer thread is used on SQLite only")


def _rows(n: int, edit: str = "") -> list[dict[str, Any]]:
    """n tickets; every 4th one is bad (unknown product), the 7th names a deactivated-free user."""
    out = []
    for i in range(n):
        row = TICKETS[i % 3] | {"external_id": f"P-{i:03d}", "subject": f"{edit}工单 {i}"}
        if i % 4 == 3:
            row["product_code"] = "NO-SUCH"
        out.append(row)
    return out


def _import(db: Database, rows: list[dict[str, Any]], batch_size: int) -> ImportResult:
    data = io.BytesIO(csv_bytes(TICKET_COLUMNS, rows))
    return service.import_file(db, admin_subject(db), ImportKind.tickets, data, batch_size=batch_size)


def _stored(db: Database) -> list[tuple[Any, ...]]:
    with db.session() as s:
        tickets = s.execute(
            select(Ticket.external_id, Ticket.subject, Ticket.status, Ticket.version, Ticket.created_at).order_by(
                Ticket.external_id
            )
        ).all()
        events = s.execute(
            select(Ticket.external_id, TicketEvent.kind, TicketEvent.data)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .order_by(Ticket.external_id, TicketEvent.id)
        ).all()
    return [tuple(r) for r in tickets] + [tuple(r) for r in events]


def test_pipelined_import_stores_and_reports_what_the_sequential_one_does(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    runs: dict[bool, tuple[Any, ...]] = {}
    for pipelined in (True, False):
        monkeypatch.setattr(TicketImporter, "pipelined", pipelined)
        wipe_tickets(db)
        created = _import(db, _rows(11), batch_size=3)
        updated = _import(db, _rows(11, edit="改:"), batch_size=3)  # the UPDATE … FROM (VALUES …) path
        runs[pipelined] = (created.model_dump(), updated.model_dump(), _stored(db))
    assert runs[True] == runs[False]
    created, updated, _ = runs[True]
    assert (created["created"], created["failed"]) == (9, 2)
    assert [e["row"] for e in created["errors"]] == [4, 8]  # in row order across batches
    # Closed tickets are final: the 3 closed among the 9 good rows refuse the edit.
    assert (updated["updated"], updated["failed"]) == (6, 5)


def test_file_error_stops_before_the_batch_it_follows(admin_client: TestClient, db: Database, org: Org) -> None:
    """Rows 1-2 (batch 1) are stored; batch 2 waited for batch 3, whose read failed."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from servicelens.core.errors import ProblemError
    from servicelens.imports.engine import Context, run
    from servicelens.imports.reader import open_rows
    from servicelens.imports.schemas import FileFormat

    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    good = [r for r in _rows(6) if r["product_code"] != "NO-SUCH"]
    source = open_rows(io.BytesIO(csv_bytes(TICKET_COLUMNS, good[:4])), FileFormat.csv, TICKET_COLUMNS, ["external_id"])

    def damaged() -> Any:
        yield from source.rows
        raise ProblemError(422, "import.bad_file", "Bad file", "damaged after row 4")

    ctx = Context(db, admin_subject(db), "import", False, datetime.now(UTC), ZoneInfo("Asia/Shanghai"))
    with pytest.raises(ProblemError, match="damaged"):
        run(ctx, TicketImporter(ctx), damaged(), batch_size=2)
    with db.session() as s:
        assert set(s.scalars(select(Ticket.external_id))) == {good[0]["external_id"], good[1]["external_id"]}


def test_write_error_in_the_writer_thread_reaches_the_caller(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    original = TicketImporter.write
    seen: list[int] = []

    def fail_third(self: TicketImporter, conn: Any, prepared: Any) -> Any:
        seen.append(len(prepared))
        if len(seen) == 3:
            raise RuntimeError("disk full")
        return original(self, conn, prepared)

    monkeypatch.setattr(TicketImporter, "write", fail_third)
    good = [r for r in _rows(12) if r["product_code"] != "NO-SUCH"]
    with pytest.raises(RuntimeError, match="disk full"):
        _import(db, good, batch_size=2)
    with db.session() as s:
        assert len(s.scalars(select(Ticket.id)).all()) == 4  # batches 1 and 2; nothing after the failure
    assert len(seen) == 3


def test_multi_row_values_respect_the_bound_value_limit(db: Database) -> None:
    import sqlite3

    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        limit = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)  # 3 rows of 3 values per statement
        try:
            conn.exec_driver_sql("CREATE TEMP TABLE t (a, b, c)")
            columns = [range(10), [f"行{i}" for i in range(10)], [None] * 10]
            sqlite_values(conn, "INSERT INTO t VALUES ", "(?, ?, ?)", columns)
            stored = conn.exec_driver_sql("SELECT a, b, c FROM t ORDER BY rowid").all()
            assert [tuple(r) for r in stored] == [(i, f"行{i}", None) for i in range(10)]
        finally:
            raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)


def test_batch_referring_to_a_vanished_row_is_refused_and_foreign_keys_stay_on(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ticket batches are written with SQLite's per-row foreign-key checks off and check their
    references per batch instead: a customer deleted after the lookup fails the batch (409, nothing
    of it stored), and the connections go back to the pool with the checks on."""
    from servicelens.core.errors import ProblemError

    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    load = TicketImporter._load_customers

    def stale(self: TicketImporter, keys: set[str]) -> None:
        load(self, keys)
        self.customers = {k: (987654, None) if v else v for k, v in self.customers.items()}

    monkeypatch.setattr(TicketImporter, "_load_customers", stale)
    good = [r for r in _rows(8) if r["product_code"] != "NO-SUCH"]
    with pytest.raises(ProblemError) as caught:
        _import(db, good, batch_size=3)
    assert caught.value.status == 409
    with db.session() as s:
        assert s.scalars(select(Ticket.id)).all() == []
    for _ in range(3):  # every pooled connection
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_gil_slices_follow_what_the_writer_does(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Short slices while new tickets are written in SQLite, longer ones while updates are merged in
    Python, the process's own interval again afterwards."""
    import sys

    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    calls: list[float] = []
    real = sys.setswitchinterval

    def spy(interval: float) -> None:
        calls.append(interval)
        real(interval)

    monkeypatch.setattr(sys, "setswitchinterval", spy)
    before = sys.getswitchinterval()
    good = [r for r in _rows(8) if r["product_code"] != "NO-SUCH"]
    assert _import(db, good, batch_size=2).created == 6
    assert calls == [0.0001, 0.0001, 0.0001, before]
    calls.clear()
    assert _import(db, [r | {"subject": "改"} for r in good], batch_size=2).failed == 2  # 2 closed: final
    # The first batch tries new tickets; once a written batch found stored ones, the rest merge rows
    # (the batch prepared while the first is written may still go either way).
    assert (calls[0], calls[-2], calls[-1], len(calls)) == (0.0001, 0.0005, before, 4)
    assert sys.getswitchinterval() == before


def test_heap_is_frozen_while_an_import_runs(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector's full passes skip the app's objects during an import, and the heap is
    collectable again afterwards (also when the import fails)."""
    import gc

    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    frozen: list[int] = []
    prepare = TicketImporter.prepare

    def spy(self: TicketImporter, batch: Any, failed: Any) -> Any:
        frozen.append(gc.get_freeze_count())
        return prepare(self, batch, failed)

    monkeypatch.setattr(TicketImporter, "prepare", spy)
    assert gc.get_freeze_count() == 0
    good = [r for r in _rows(8) if r["product_code"] != "NO-SUCH"]
    assert _import(db, good, batch_size=3).created == 6
    assert len(frozen) == 2 and min(frozen) > 0
    assert gc.get_freeze_count() == 0

    def broken(self: TicketImporter, batch: Any, failed: Any) -> Any:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(TicketImporter, "prepare", broken)
    with pytest.raises(RuntimeError):
        _import(db, good, batch_size=3)
    assert gc.get_freeze_count() == 0
    gc.freeze()  # as a pre-forking server does: its frozen heap stays frozen after an import
    try:
        with pytest.raises(RuntimeError):
            _import(db, good, batch_size=3)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_checkpoints_are_sparse_during_an_import_and_the_wal_is_copied_back_after(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import's connection checkpoints every 10,000 pages instead of 1,000, goes back to the pool
    with SQLite's default, and leaves nothing in the WAL for the next writer to copy back."""
    from servicelens.core.db import WAL_AUTOCHECKPOINT

    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    seen: list[int] = []
    write = TicketImporter.write

    def spy(self: TicketImporter, conn: Any, prepared: Any) -> Any:
        seen.append(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
        return write(self, conn, prepared)

    monkeypatch.setattr(TicketImporter, "write", spy)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        good = [r for r in _rows(8) if r["product_code"] != "NO-SUCH"]
        assert _import(db, good, batch_size=3).created == 6
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert seen == [10 * WAL_AUTOCHECKPOINT] * 2
    last_insert = max(i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO tickets"))
    assert "PRAGMA wal_checkpoint(PASSIVE)" in statements[last_insert:]
    for _ in range(3):  # every pooled connection
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT
