"""Bulk import and export of customers, products and tickets (design §5: upsert by external id,
per-row results, problem details). Routers and the CLI call only this module."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from servicelens.config import get_settings
from servicelens.core.auth import Permission, Subject, system_subject
from servicelens.core.clock import utcnow
from servicelens.core.db import Database
from servicelens.core.errors import ProblemError, forbidden
from servicelens.core.idempotency import run_idempotent
from servicelens.customers.models import Customer
from servicelens.imports import customers, exports, products, tickets
from servicelens.imports.engine import BATCH_SIZE, Context, Importer, run
from servicelens.imports.exports import RowSelect
from servicelens.imports.reader import detect_format, open_rows
from servicelens.imports.schemas import FileFormat, ImportKind, ImportResult
from servicelens.imports.values import TimeParser
from servicelens.org.models import User
from servicelens.products.models import Product
from servicelens.tickets.models import Ticket
from servicelens.tickets.service import TicketFilters

IMPORT_SCOPES = frozenset({"import", "admin"})
COLUMNS: dict[ImportKind, Sequence[str]] = {
    ImportKind.customers: customers.COLUMNS,
    ImportKind.products: products.COLUMNS,
    ImportKind.tickets: tickets.COLUMNS,
}
REQUIRED: dict[ImportKind, Sequence[str]] = {
    ImportKind.customers: customers.REQUIRED_COLUMNS,
    ImportKind.products: products.REQUIRED_COLUMNS,
    ImportKind.tickets: tickets.REQUIRED_COLUMNS,
}


def _importer(kind: ImportKind, ctx: Context) -> Importer:
    if kind is ImportKind.customers:
        return customers.CustomerImporter(ctx)
    if kind is ImportKind.products:
        return products.ProductImporter(ctx)
    return tickets.TicketImporter(ctx)


def check_import_allowed(subject: Subject) -> None:
    """Role permission plus, for API tokens, an explicit bulk scope: a token minted for a
    read/write integration should not be able to rewrite thousands of rows."""
    if not subject.can(Permission.data_import):
        raise forbidden(f"Role '{subject.role.value}' lacks permission '{Permission.data_import.value}'")
    if subject.via == "token" and not (subject.scopes & IMPORT_SCOPES):
        raise ProblemError(403, "auth.scope_missing", "Forbidden", "Token lacks the 'import' scope")


def _check_source(source: str) -> str:
    source = source.strip()
    if not 1 <= len(source) <= 40:
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            "source must be 1–40 characters",
            [{"field": "source"}],
        )
    return source


def import_file(
    db: Database,
    subject: Subject,
    kind: ImportKind,
    f: IO[bytes],
    *,
    filename: str | None = None,
    content_type: str | None = None,
    fmt: FileFormat | None = None,
    source: str = "import",
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import one file. Good rows are stored batch by batch (each batch commits atomically), bad
    rows are reported with row number, field and reason. File-level problems raise ProblemError
    before anything is stored (except a damaged XLSX sheet part, found only while streaming)."""
    check_import_allowed(subject)
    source = _check_source(source)
    f.seek(0)
    fmt = detect_format(f.read(8), filename, content_type, fmt)
    rows = open_rows(f, fmt, COLUMNS[kind], REQUIRED[kind])
    ctx = Context(
        db=db,
        subject=subject,
        source=source,
        dry_run=dry_run,
        now=utcnow(),
        tz=ZoneInfo(get_settings().timezone),
    )
    importer = _importer(kind, ctx)
    report = run(ctx, importer, rows.rows, batch_size, progress)
    return ImportResult(
        kind=kind,
        format=rows.format,
        encoding=rows.encoding,
        source=source,
        dry_run=dry_run,
        total=report.total,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        failed=report.failed,
        errors=report.errors,
        errors_truncated=report.truncated,
    )


def file_digest(f: IO[bytes]) -> str:
    f.seek(0)
    h = hashlib.sha256()
    while chunk := f.read(1 << 20):
        h.update(chunk)
    f.seek(0)
    return h.hexdigest()


def import_upload(
    db: Database,
    subject: Subject,
    kind: ImportKind,
    f: IO[bytes],
    *,
    filename: str | None,
    content_type: str | None,
    fmt: FileFormat | None,
    source: str,
    dry_run: bool,
    idempotency_key: str | None,
) -> tuple[int, dict[str, Any]]:
    """The API import: the same Idempotency-Key with the same file and options replays the first
    result instead of importing again (the record is written after the last batch commits)."""
    check_import_allowed(subject)
    payload = {
        "kind": kind.value,
        "source": source,
        "dry_run": dry_run,
        "format": fmt.value if fmt else None,
        "sha256": file_digest(f),
    }

    def create() -> dict[str, Any]:
        result = import_file(
            db,
            subject,
            kind,
            f,
            filename=filename,
            content_type=content_type,
            fmt=fmt,
            source=source,
            dry_run=dry_run,
        )
        return result.model_dump(mode="json")

    with db.session() as session:
        return run_idempotent(
            session, subject, idempotency_key, f"POST /imports/{kind.value}", payload, create, status_code=200
        )


# ---------------------------------------------------------------------- export


@dataclass
class Export:
    media_type: str
    filename: str
    chunks: Iterator[bytes]


def _export_query(subject: Subject, kind: ImportKind, filters: TicketFilters | None, source: str | None) -> RowSelect:
    if kind is ImportKind.tickets:
        stmt = tickets.export_query(subject, filters or TicketFilters())
        return stmt.where(Ticket.source == source) if source else stmt
    if kind is ImportKind.customers:
        stmt = customers.export_query(subject)
        return stmt.where(Customer.source == source) if source else stmt
    stmt = products.export_query()
    return stmt.where(Product.source == source) if source else stmt


def export(
    db: Database,
    subject: Subject,
    kind: ImportKind,
    fmt: FileFormat,
    filters: TicketFilters | None = None,
    *,
    source: str | None = None,
    bom: bool = True,
) -> Export:
    """Rows the caller may see, in the import columns (``source``: only rows from that source system,
    i.e. exactly what re-importing with the same source updates). XLSX is built before returning (so its
    errors are still problem responses); CSV and NDJSON are produced while the client reads."""
    if not subject.can(Permission.data_export):
        raise forbidden(f"Role '{subject.role.value}' lacks permission '{Permission.data_export.value}'")
    columns = COLUMNS[kind]
    stmt = _export_query(subject, kind, filters, source)
    times = TimeParser(ZoneInfo(get_settings().timezone), utcnow())
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    filename = f"{kind.value}-{stamp}.{fmt.value}"
    rows = exports.stream_rows(db, stmt)
    if kind is ImportKind.customers and not subject.can(Permission.data_import):
        # Whoever may only export (analysts) gets contact details masked as in the customer pages;
        # the full values leave the system only for roles that also import, i.e. sync with a CRM.
        rows = customers.masked(rows)
    if fmt is FileFormat.xlsx:
        f = exports.write_xlsx(columns, rows, times)
        return Export(exports.MEDIA_TYPES["xlsx"], filename, exports.file_chunks(f))
    if fmt is FileFormat.ndjson:
        return Export(exports.MEDIA_TYPES["ndjson"], filename, exports.ndjson_chunks(columns, rows, times))
    return Export(exports.MEDIA_TYPES["csv"], filename, exports.csv_chunks(columns, rows, times, bom))


def template(kind: ImportKind, fmt: FileFormat) -> Export:
    """An empty file with just the header row, to fill in."""
    times = TimeParser(ZoneInfo(get_settings().timezone), utcnow())
    columns = COLUMNS[kind]
    filename = f"{kind.value}-template.{fmt.value}"
    if fmt is FileFormat.xlsx:
        return Export(
            exports.MEDIA_TYPES["xlsx"],
            filename,
            exports.file_chunks(exports.write_xlsx(columns, iter(()), times)),
        )
    if fmt is FileFormat.ndjson:
        line = "{" + ", ".join(f'"{c}": ""' for c in columns) + "}\n"
        return Export(exports.MEDIA_TYPES["ndjson"], filename, iter([line.encode()]))
    return Export(exports.MEDIA_TYPES["csv"], filename, exports.csv_chunks(columns, iter(()), times, True))


# ---------------------------------------------------------------------- CLI

FORMAT_SUFFIXES = {
    ".csv": FileFormat.csv,
    ".xlsx": FileFormat.xlsx,
    ".ndjson": FileFormat.ndjson,
    ".jsonl": FileFormat.ndjson,
}
SHOWN_ERRORS = 20


def _fail(console: Console, message: str, fix: str | None = None) -> int:
    console.print(f"[red]error:[/red] {message}")
    if fix:
        console.print(f"[yellow]fix:[/yellow] {fix}")
    return 2


def _cli_subject(db: Database, username: str) -> Subject | str:
    try:
        with db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
    except (OperationalError, ProgrammingError):
        return "the database has no schema yet"
    if user is None or not user.is_active:
        return f"no active user '{username}'"
    return system_subject(user)


def _kind(value: str) -> ImportKind | None:
    try:
        return ImportKind(value.strip().lower())
    except ValueError:
        return None


def run_import_cli(db: Database, kind: str, path: Path, as_user: str, source: str, console: Console) -> int:
    """``servicelens import KIND FILE``: exit 0 when every row was stored, 1 when some rows failed,
    2 when the file or the command itself is wrong (nothing stored)."""
    k = _kind(kind)
    if k is None:
        return _fail(console, f"unknown kind '{kind}'", f"use one of: {', '.join(x.value for x in ImportKind)}")
    if not path.is_file():
        return _fail(
            console,
            f"file not found: {path}",
            "check the path (relative paths start in the current directory)",
        )
    subject = _cli_subject(db, as_user)
    if isinstance(subject, str):
        return _fail(console, subject, "run `servicelens init`, or pass --as with an existing admin or supervisor")
    try:
        with path.open("rb") as f, console.status(f"importing {k.value} from {path.name}…") as status:

            def progress(rows: int) -> None:
                status.update(f"importing {k.value} from {path.name}: {rows:,} rows read")

            result = import_file(db, subject, k, f, filename=path.name, source=source, progress=progress)
    except ProblemError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        for e in exc.errors[:SHOWN_ERRORS]:
            console.print(f"  {e.get('field')}: {e.get('reason')}")
        if exc.code == "auth.forbidden":
            console.print("[yellow]fix:[/yellow] pass --as with an admin or supervisor")
        return 2
    _print_result(console, result, path)
    return 0 if result.failed == 0 else 1


def _print_result(console: Console, result: ImportResult, path: Path) -> None:
    enc = f", encoding {result.encoding}" if result.encoding else ""
    what = f"{result.format.value}{enc}, source '{result.source}'"
    console.print(f"[bold]{result.kind.value}[/bold] from {path.name} ({what})")
    summary = Table(show_header=True, header_style="bold")
    for name in ("rows", "created", "updated", "unchanged", "failed"):
        summary.add_column(name, justify="right")
    summary.add_row(
        str(result.total),
        f"[green]{result.created}[/green]",
        f"[cyan]{result.updated}[/cyan]",
        str(result.unchanged),
        f"[red]{result.failed}[/red]" if result.failed else "0",
    )
    console.print(summary)
    if not result.errors:
        return
    errors = Table(title=f"first {min(SHOWN_ERRORS, len(result.errors))} errors (row 1 = first line after the header)")
    errors.add_column("row", justify="right")
    errors.add_column("field")
    errors.add_column("reason")
    for e in result.errors[:SHOWN_ERRORS]:
        errors.add_row(str(e.row), e.field or "—", e.reason)
    console.print(errors)
    more = result.failed - len({e.row for e in result.errors[:SHOWN_ERRORS]})
    if more > 0:
        console.print(f"… and more: {result.failed} rows failed in total")


def run_export_cli(db: Database, kind: str, path: Path, as_user: str, console: Console) -> int:
    k = _kind(kind)
    if k is None:
        return _fail(console, f"unknown kind '{kind}'", f"use one of: {', '.join(x.value for x in ImportKind)}")
    fmt = FORMAT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        return _fail(console, f"cannot tell the format of '{path.name}'", "name the file .csv, .xlsx or .ndjson")
    if not path.parent.is_dir():
        return _fail(console, f"directory does not exist: {path.parent}", "create it first")
    subject = _cli_subject(db, as_user)
    if isinstance(subject, str):
        return _fail(
            console,
            subject,
            "run `servicelens init`, or pass --as with an existing admin, supervisor or analyst",
        )
    try:
        out = export(db, subject, k, fmt)
        size = 0
        with path.open("wb") as f:
            for chunk in out.chunks:
                size += len(chunk)
                f.write(chunk)
    except ProblemError as exc:
        return _fail(
            console,
            exc.detail,
            "pass --as with an admin, supervisor or analyst" if exc.status == 403 else None,
        )
    console.print(f"[green]✓[/green] exported {k.value} to {path} ({size:,} bytes)")
    return 0
