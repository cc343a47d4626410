"""Export serialisation: CSV and NDJSON stream chunk by chunk; XLSX is built in a temporary file.

Rows come from a server-side cursor (``yield_per``) so no export holds a whole table in memory.
The header is the import column list, so an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, Any

import orjson
from sqlalchemy import Select

from servicelens.core.db import Database
from servicelens.core.errors import ProblemError
from servicelens.imports.values import TimeParser, escape_formula

YIELD_PER = 2_000
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit (1,048,576) minus the header row
# Any SELECT (SQLAlchemy 2.1 types a Select by its column tuple).
RowSelect = Select[*tuple[Any, ...]]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def stream_rows(db: Database, stmt: RowSelect) -> Iterator[Sequence[Any]]:
    """Rows of ``stmt`` in chunks from a server-side cursor (PostgreSQL) or a lazy cursor (SQLite)."""
    with db.engine.connect() as conn:
        result = conn.execution_options(yield_per=YIELD_PER).execute(stmt)
        for partition in result.partitions():
            yield from partition


def _csv_cell(value: Any, times: TimeParser) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return times.iso(value)
    return str(value)


def csv_chunks(columns: Sequence[str], rows: Iterator[Sequence[Any]], times: TimeParser, bom: bool) -> Iterator[bytes]:
    """UTF-8 CSV; with a BOM by default so Excel/WPS on Chinese Windows do not read it as GBK."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    head = buf.getvalue().encode()
    yield (b"\xef\xbb\xbf" + head) if bom else head
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v, times) for v in row])
        if n % YIELD_PER == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


def ndjson_chunks(columns: Sequence[str], rows: Iterator[Sequence[Any]], times: TimeParser) -> Iterator[bytes]:
    out: list[bytes] = []
    for row in rows:
        obj = {c: (times.iso(v) if isinstance(v, datetime) else v) for c, v in zip(columns, row, strict=True)}
        out.append(orjson.dumps(obj))
        if len(out) == YIELD_PER:
            yield b"\n".join(out) + b"\n"
            out = []
    if out:
        yield b"\n".join(out) + b"\n"


def write_xlsx(columns: Sequence[str], rows: Iterator[Sequence[Any]], times: TimeParser) -> IO[bytes]:
    """A write-only workbook in a temporary file (rewound). Timestamps become local date cells, as
    people read them in Excel; naive times re-import as local time, so the round trip holds."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(list(columns))
    for n, row in enumerate(rows, start=1):
        if n > XLSX_MAX_ROWS:
            raise ProblemError(
                422,
                "export.too_many_rows",
                "Too many rows for XLSX",
                f"An XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows; export as csv or ndjson, or narrow the filters.",
            )
        cells: list[Any] = []
        for v in row:
            if isinstance(v, str):
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v))
                cell.data_type = "s"  # text stays text: "=…" must not become a formula
                cells.append(cell)
            elif isinstance(v, datetime):
                cells.append(times.local(v))
            else:
                cells.append(v)
        ws.append(cells)
    out = tempfile.TemporaryFile()  # noqa: SIM115 — returned open; file_chunks closes it
    wb.save(out)
    out.seek(0)
    return out


def file_chunks(f: IO[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    try:
        while chunk := f.read(size):
            yield chunk
    finally:
        f.close()
