"""The import loop shared by every kind: batches, one transaction per batch, the per-row report."""

from __future__ import annotations

import gc
import itertools
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import ColumnElement, Connection, Integer, String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import QueryableAttribute, Session

from servicelens.core.auth import Subject
from servicelens.core.db import Database, foreign_keys_off, sparse_checkpoints
from servicelens.core.errors import ProblemError
from servicelens.core.jobs import enqueue
from servicelens.imports.reader import RawRow
from servicelens.imports.schemas import MAX_LISTED_ERRORS, RowError
from servicelens.imports.values import Errors

T = TypeVar("T")

# Rows per transaction: large enough to amortise the commit (each commit writes every index page
# the batch touched to the WAL; 10,000 cut the writer's CPU by 15% against 5,000), small enough
# that one batch holds SQLite's write lock for well under a second, so the app's other writers
# barely wait, and memory stays flat.
BATCH_SIZE = 10_000
IN_CHUNK = 10_000  # keys per lookup query (one batch)
ATTEMPTS = 3


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def batched(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def in_keys(
    col: ColumnElement[Any] | QueryableAttribute[Any], keys: Sequence[str] | Sequence[int], is_sqlite: bool
) -> ColumnElement[bool]:
    """``col IN keys`` with all keys in ONE bound value: a JSON array read by json_each on SQLite,
    an array with = ANY on PostgreSQL. A plain IN list gets one parameter per key, and compiling
    that for 5,000 keys cost SQLAlchemy more than the indexed lookup itself."""
    if is_sqlite:
        values = func.json_each(orjson.dumps(list(keys)).decode()).table_valued("value")
        return col.in_(select(values.c.value))
    element = Integer if keys and isinstance(keys[0], int) else String
    return col == any_(bindparam(None, list(keys), type_=postgresql.ARRAY(element)))


@lru_cache(maxsize=64)
def _values_sql(head: str, row: str, tail: str, count: int) -> str:
    return f"{head}{','.join([row] * count)}{tail}"


def sqlite_values(conn: Connection, head: str, row: str, columns: Sequence[Sequence[Any]], tail: str = "") -> None:
    """Run ``{head}{row},{row},…{tail}`` (a multi-row VALUES) over the rows that ``columns`` hold
    (all of one length), as many rows per statement as SQLite's bound-value limit allows (250,000
    values in SQLite 3.40: most of a batch). Unlike executemany, which steps (and hands the GIL back
    and forth) once per row, each statement is one step for many rows: run from a writer thread
    beside a busy parser, that is the difference between the threads sharing two cores and
    queueing on the GIL (engine.run). The parameters are interleaved column by column with slice
    assignments, so no tuple per row is made (and left for the garbage collector to walk)."""
    if not columns or not columns[0]:
        return
    width, total = len(columns), len(columns[0])
    limit = conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    per = max(1, limit // width)
    for start in range(0, total, per):
        count = min(per, total - start)
        flat: list[Any] = [None] * (count * width)
        for i, column in enumerate(columns):
            flat[i::width] = column[start : start + count]
        conn.exec_driver_sql(_values_sql(head, row, tail, count), tuple(flat))


@dataclass
class Context:
    """What every importer needs: who, where from, when, and how to write timestamps."""

    db: Database
    subject: Subject
    source: str
    dry_run: bool
    now: datetime
    tz: ZoneInfo
    is_sqlite: bool = field(init=False)
    db_time: Callable[[datetime | None], Any] = field(init=False)

    def __post_init__(self) -> None:
        self.is_sqlite = self.db.is_sqlite
        self.db_time = _sqlite_time if self.is_sqlite else _pg_time

    def db_now(self) -> Any:
        return self.db_time(self.now.astimezone(UTC).replace(tzinfo=None, microsecond=0))


# The bulk writes use untyped columns to skip SQLAlchemy's per-value type processing (two Python
# calls per timestamp), so these must produce exactly what ``UTCDateTime`` would: SQLite keeps
# SQLAlchemy's text format (compared as text in queries), PostgreSQL takes an aware TIMESTAMPTZ.
def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat(" ")
    return text if value.microsecond else text + ".000000"


def _pg_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, Errors]] = field(default_factory=list)
    sla_dirty: bool = False  # open tickets were created or changed: their SLA targets need computing


class Report:
    def __init__(self) -> None:
        self.total = 0
        self.created = 0
        self.updated = 0
        self.unchanged = 0
        self.failed = 0
        self.errors: list[RowError] = []
        self.truncated = False

    def add(self, outcome: BatchOutcome) -> None:
        self.created += outcome.created
        self.updated += outcome.updated
        self.unchanged += outcome.unchanged
        self.failed += len(outcome.failed)
        for row, errs in sorted(outcome.failed, key=lambda f: f[0]):
            for fld, reason in errs:
                if len(self.errors) >= MAX_LISTED_ERRORS:
                    self.truncated = True
                    return
                self.errors.append(RowError(row=row, field=fld, reason=reason))


class Importer(Protocol):
    """One kind. ``prepare`` parses and checks a batch in Python (plus cached reference reads);
    ``write`` runs inside the batch transaction and may be re-run if the transaction is retried."""

    columns: Sequence[str]
    required_columns: Sequence[str]

    def prepare(self, batch: list[RawRow], failed: list[tuple[int, Errors]]) -> Any: ...

    def write(self, conn: Connection, prepared: Any) -> BatchOutcome: ...


def writes_in_sqlite(importer: Importer, prepared: Any) -> bool:
    """Whether writing ``prepared`` is mostly SQLite's work rather than Python's (an importer may
    say so per batch with ``writes_in_sqlite(prepared)``); it sets the GIL slices (_interpreter_tuned)."""
    says = getattr(importer, "writes_in_sqlite", None)
    return True if says is None else bool(says(prepared))


def checks_references(importer: Importer) -> bool:
    """Whether ``importer.write`` checks that the rows it writes refer to existing rows (one query
    per referenced table and batch), so SQLite's per-row foreign-key checks can be off."""
    return bool(getattr(importer, "checks_references", False))


def in_transaction(conn: Connection, work: Callable[[Connection], T], *, dry_run: bool) -> T:
    """Run ``work`` in its own transaction on ``conn`` and commit (roll back for a dry run).

    SQLite: BEGIN IMMEDIATE takes the write lock before the existing rows are read, so the
    read-compare-write of an upsert cannot interleave with another writer. PostgreSQL: the reads
    lock rows FOR UPDATE; two imports inserting the same new keys at once make one batch fail on
    the unique constraint, and the retry then sees the other's rows and updates them."""
    is_sqlite = conn.dialect.name == "sqlite"
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if is_sqlite:
                conn.exec_driver_sql("BEGIN" if dry_run else "BEGIN IMMEDIATE")
            result = work(conn)
            if dry_run:
                conn.rollback()
            else:
                conn.commit()
            return result
        except IntegrityError as exc:
            conn.rollback()
            if attempt == ATTEMPTS:
                raise ProblemError(
                    409,
                    "import.conflict",
                    "Conflict",
                    "Rows of this file were changed by another writer at the same time; earlier batches "
                    "were stored. Re-run the import: it updates what exists.",
                ) from exc
        except OperationalError as exc:
            conn.rollback()
            # PostgreSQL deadlock / serialization failure: the whole batch is safe to redo.
            if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001") and attempt < ATTEMPTS:
                continue
            if "locked" not in str(exc).lower():
                raise
            raise ProblemError(
                503,
                "import.busy",
                "Database busy",
                "The database stayed locked by another writer; earlier batches were stored. Retry the import.",
            ) from exc
        except BaseException:
            conn.rollback()
            raise
    raise AssertionError("unreachable")


def _queue_sla_rebuild(conn: Connection, ctx: Context) -> None:
    """Imported open tickets need SLA targets like tickets made in the app. The SLA engine's
    rebuild job (idempotent, open tickets only) is queued in the same transaction as the last
    batch: it exists if and only if the import finished."""
    with Session(bind=conn) as session:
        enqueue(session, "sla.rebuild", {"policy_id": None, "calendar_id": None, "reason": f"import:{ctx.source}"})
        session.flush()


def _write_batch(
    conn: Connection, ctx: Context, importer: Importer, prepared: Any, *, last: bool, sla_dirty: bool
) -> BatchOutcome:
    outcome = importer.write(conn, prepared)
    if last and not ctx.dry_run and (sla_dirty or outcome.sla_dirty):
        _queue_sla_rebuild(conn, ctx)
    return outcome


def run(
    ctx: Context,
    importer: Importer,
    rows: Iterable[RawRow],
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Read, prepare and write the file batch by batch.

    A batch is written only after the batch that follows it was read without a file error (the
    read-ahead also tells the last batch apart: it carries the SLA job). Importers whose writes are
    GIL-free on SQLite (``pipelined``) get their batch k written by a writer thread while this thread
    reads and prepares batch k+1: SQLite's work and Python's then run on two cores."""
    pipelined = getattr(importer, "pipelined", False) and ctx.is_sqlite and not ctx.dry_run
    report = Report()
    sla_dirty = False
    done_rows = 0
    batches = batched(rows, batch_size)
    # The batch being written: its outcome, the rows that failed in prepare, its size.
    pending: tuple[Future[BatchOutcome], list[tuple[int, Errors]], int] | None = None

    def settle() -> None:
        """Wait for the batch in flight and account for it (its write error is raised here)."""
        nonlocal pending, sla_dirty, done_rows
        if pending is None:
            return
        (future, failed, size), pending = pending, None
        outcome = future.result()
        sla_dirty = sla_dirty or outcome.sla_dirty
        outcome.failed.extend(failed)
        report.add(outcome)
        done_rows += size
        if progress is not None:
            progress(done_rows)

    with ExitStack() as stack:
        # One connection writes every batch (each in its own transaction): its prepared statements
        # are reused from batch to batch.
        conn = stack.enter_context(ctx.db.engine.connect())
        if ctx.is_sqlite and not ctx.dry_run:
            stack.enter_context(sparse_checkpoints(conn))
        if ctx.is_sqlite and checks_references(importer):
            # Set once per import: changing the pragma expires the connection's prepared statements.
            stack.enter_context(foreign_keys_off(conn))
        writer = stack.enter_context(ThreadPoolExecutor(1, "sl-import-writer")) if pipelined else None
        slices = stack.enter_context(_interpreter_tuned())
        try:
            batch = next(batches, None)
            while batch is not None:
                following = next(batches, None)
                report.total += len(batch)
                failed: list[tuple[int, Errors]] = []
                prepared = importer.prepare(batch, failed)
                settle()  # the previous batch is stored (or its error raised) before this one goes
                work = partial(
                    _write_batch,
                    ctx=ctx,
                    importer=importer,
                    prepared=prepared,
                    last=following is None,
                    sla_dirty=sla_dirty,
                )
                if writer is None:
                    pending = _done(in_transaction(conn, work, dry_run=ctx.dry_run)), failed, len(batch)
                    settle()
                else:
                    slices(writes_in_sqlite(importer, prepared))
                    pending = writer.submit(in_transaction, conn, work, dry_run=False), failed, len(batch)
                batch = following
            settle()
        finally:
            if pending is not None:
                pending[0].exception()  # a file error while a batch is in flight: that batch still completes
    return report


def _done(outcome: BatchOutcome) -> Future[BatchOutcome]:
    future: Future[BatchOutcome] = Future()
    future.set_result(outcome)
    return future


_tuning_lock = threading.Lock()
_tuning_users = 0
_saved_interval = 0.0
_we_froze = False  # a heap frozen by someone else (a pre-forking server) is left as it is


@contextmanager
def _interpreter_tuned() -> Iterator[Callable[[bool], None]]:
    """Process-wide interpreter settings while imports run in this process, restored when the last
    one ends.

    The heap as it was is frozen (``gc.freeze``): the cyclic collector's full passes, triggered
    over and over by the rows an import makes and drops, then walk only those rows instead of every
    object of the app (measured: 50 ms a pass, each stalling the writer thread as it waits for the
    GIL; freezing raised the ticket import by a sixth). Objects made meanwhile are collected as
    usual; the frozen ones only wait for the end.

    Yields ``slices(short)``, called per pipelined batch: the switch interval while a writer thread
    runs beside the busy parser. Each return from SQLite waits for the other thread to give up the
    GIL: at most one switch interval (5 ms by default, a whole batch's worth of work). For a write
    that runs in SQLite, 0.1 ms keeps those waits small (measured: at 0.5 ms the writer waited a
    third of its time; 0.02 ms cost more in switches than it saved). For a write that is mostly
    Python (updates merged row by row), both threads queue on the GIL and 0.5 ms switches less:
    unchanged re-imports were 20% slower at 0.1 ms."""
    global _tuning_users, _saved_interval, _we_froze
    with _tuning_lock:
        if _tuning_users == 0:
            _saved_interval = sys.getswitchinterval()
            _we_froze = gc.get_freeze_count() == 0
            if _we_froze:
                gc.freeze()
        _tuning_users += 1

    def slices(short: bool) -> None:
        sys.setswitchinterval(min(_saved_interval, 0.0001 if short else 0.0005))

    try:
        yield slices
    finally:
        with _tuning_lock:
            _tuning_users -= 1
            if _tuning_users == 0:
                sys.setswitchinterval(_saved_interval)
                if _we_froze:
                    gc.unfreeze()
