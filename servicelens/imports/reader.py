"""Reading import files: format and encoding detection, then a stream of data rows.

Rows are yielded one at a time (the importer batches them), so a 1M-row file is never held in
memory as parsed rows. Every row comes back aligned to the kind's column list: ``None`` for a
column the file does not have (keep the stored value), a stripped string otherwise.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import IO, Any

import orjson

from servicelens.core.errors import ProblemError
from servicelens.imports.schemas import FileFormat
from servicelens.imports.values import unescape_formula

# (row number, cells aligned to the kind's columns) or (row number, reason the row is unreadable)
# Cells are a tuple, not a list: a tuple of strings leaves the garbage collector's tracking at its
# first collection, so a batch of rows held between read and write does not make every
# collection walk it (lists made the import's full collections several times costlier).
RawRow = tuple[int, tuple[str | None, ...] | str]

CHUNK = 1 << 20
SUFFIXES = {
    ".csv": FileFormat.csv,
    ".tsv": FileFormat.csv,
    ".txt": FileFormat.csv,
    ".xlsx": FileFormat.xlsx,
    ".xlsm": FileFormat.xlsx,
    ".ndjson": FileFormat.ndjson,
    ".jsonl": FileFormat.ndjson,
    ".json": FileFormat.ndjson,
}
CONTENT_TYPES = {
    "text/csv": FileFormat.csv,
    "application/csv": FileFormat.csv,
    "text/tab-separated-values": FileFormat.csv,
    # Browsers on Windows send the Excel type for .csv files (the registered handler).
    "application/vnd.ms-excel": FileFormat.csv,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileFormat.xlsx,
    "application/x-ndjson": FileFormat.ndjson,
    "application/ndjson": FileFormat.ndjson,
    "application/jsonl": FileFormat.ndjson,
    "application/x-jsonlines": FileFormat.ndjson,
    "application/json": FileFormat.ndjson,
}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
SAVE_AS_UTF8 = "Save the file as 'CSV UTF-8' (Excel: File → Save As → CSV UTF-8; WPS: 另存为 → CSV UTF-8) and retry."

# csv.field_size_limit defaults to 128 KiB; a 64 KiB description in a 4-byte encoding can exceed it.
csv.field_size_limit(min(sys.maxsize, 16 * 1024 * 1024))


def bad_file(detail: str) -> ProblemError:
    return ProblemError(400, "import.bad_file", "Unreadable file", detail)


def detect_format(
    head: bytes, filename: str | None, content_type: str | None, explicit: FileFormat | None
) -> FileFormat:
    """Explicit parameter, then magic bytes, then the file suffix, then the content type, then a sniff."""
    if explicit is not None:
        return explicit
    if head.startswith(ZIP_MAGIC):
        return FileFormat.xlsx
    if head.startswith(OLE_MAGIC):
        raise ProblemError(
            415,
            "import.unsupported_format",
            "Unsupported file format",
            "Legacy Excel .xls files are not supported; save the sheet as .xlsx or CSV UTF-8.",
        )
    if filename:
        fmt = SUFFIXES.get(PurePath(filename).suffix.lower())
        if fmt is not None:
            return fmt
    if content_type:
        fmt = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
        if fmt is not None:
            return fmt
    return FileFormat.ndjson if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else FileFormat.csv


def _decodes(f: IO[bytes], encoding: str) -> bool:
    f.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while chunk := f.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _has_nul(f: IO[bytes]) -> bool:
    f.seek(0)
    while chunk := f.read(CHUNK):
        if b"\x00" in chunk:
            return True
    return False


def detect_encoding(f: IO[bytes]) -> str:
    """Which codec decodes the whole file strictly. Checked over the whole file before any row is
    stored, so a bad byte on line 900,000 cannot leave a half-imported file behind.

    Order: BOMs, UTF-8, then GBK and GB18030 (what Chinese Excel/WPS write as "CSV"), then
    charset-normalizer for the other encodings seen in practice (Big5, UTF-16 without BOM)."""
    f.seek(0)
    head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates: Sequence[str] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        if _has_nul(f):
            raise _bad_encoding("The file contains NUL bytes, so it is binary or UTF-16 without a byte-order mark.")
        candidates = ("utf-8", "gbk", "gb18030")
    for encoding in candidates:
        if _decodes(f, encoding):
            return encoding
    guessed = _guess(f)
    if guessed is not None:
        return guessed
    raise _bad_encoding("The file is not valid UTF-8, GBK or GB18030 text.")


def _guess(f: IO[bytes]) -> str | None:
    from charset_normalizer import from_bytes

    f.seek(0)
    best = from_bytes(f.read(CHUNK)).best()
    # Only CJK and Unicode codecs: single-byte guesses (cp1252, latin-1…) "decode" any garbage.
    if best is None or best.encoding not in (
        "big5",
        "big5hkscs",
        "cp950",
        "utf_16",
        "utf_16_le",
        "utf_16_be",
    ):
        return None
    return best.encoding if _decodes(f, best.encoding) else None


def _bad_encoding(why: str) -> ProblemError:
    return ProblemError(400, "import.bad_encoding", "Unreadable text encoding", f"{why} {SAVE_AS_UTF8}")


def _normalise_header(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_") if name is not None else ""


@dataclass
class Header:
    """Where each of the kind's columns sits in the file (-1: absent)."""

    positions: list[int]
    width: int
    present: frozenset[str]
    identity: bool  # the file has exactly the kind's columns in the kind's order


def match_header(names: Sequence[object], columns: Sequence[str], required: Sequence[str]) -> Header:
    normalised = [_normalise_header(n) for n in names]
    while normalised and not normalised[-1]:
        normalised.pop()  # trailing empty header cells (Excel leaves them after a deleted column)
    if not any(normalised):
        raise bad_file("The file has no header row; the first line must name the columns.")
    counts: dict[str, int] = {}
    for n in normalised:
        if n:
            counts[n] = counts.get(n, 0) + 1
    duplicates = sorted(n for n, k in counts.items() if k > 1)
    unknown = sorted({n for n in normalised if n and n not in columns})
    missing = [c for c in required if c not in normalised]
    errors = (
        [{"field": n, "reason": "unknown column"} for n in unknown]
        + [{"field": n, "reason": "column appears twice"} for n in duplicates]
        + [{"field": n, "reason": "required column is missing"} for n in missing]
    )
    if errors:
        parts = []
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        if duplicates:
            parts.append(f"duplicate columns: {', '.join(duplicates)}")
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        raise ProblemError(
            422,
            "import.bad_columns",
            "Wrong columns",
            f"{'; '.join(parts)}. Allowed columns: {', '.join(columns)}",
            errors,
        )
    index = {n: i for i, n in enumerate(normalised) if n}
    positions = [index.get(c, -1) for c in columns]
    return Header(
        positions=positions,
        width=len(normalised),
        present=frozenset(index),
        identity=normalised == list(columns),
    )


def _aligner(header: Header) -> Callable[[tuple[str, ...]], tuple[str | None, ...] | str]:
    """Cells (already stripped) → the kind's column order; too many non-empty cells is a row error."""
    positions = header.positions
    width = header.width

    def align(cells: tuple[str, ...]) -> tuple[str | None, ...] | str:
        n = len(cells)
        if n > width and any(cells[width:]):
            return f"the row has {n} cells but the header has {width} columns (a missing quote?)"
        if header.identity:
            return cells + ("",) * (width - n) if n < width else cells[:width]
        return tuple([(cells[p] if p < n else "") if p >= 0 else None for p in positions])

    return align


@dataclass
class RowSource:
    format: FileFormat
    encoding: str | None
    header: Header
    rows: Iterator[RawRow]


class _QuoteTap:
    """Line iterator for csv.reader that notes whether a line contains an apostrophe, so only
    those rows pay for undoing the formula-injection escaping of our CSV exports."""

    def __init__(self, lines: IO[str]) -> None:
        self.lines = lines
        self.hit = False

    def __iter__(self) -> _QuoteTap:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        if "'" in line:
            self.hit = True
        return line


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def open_csv(f: IO[bytes], columns: Sequence[str], required: Sequence[str]) -> RowSource:
    encoding = detect_encoding(f)
    f.seek(0)
    text = io.TextIOWrapper(f, encoding=encoding, newline="")
    first = text.readline()
    if not first.strip():
        raise bad_file("The file is empty; the first line must name the columns.")
    delimiter = _sniff_delimiter(first)
    header = match_header(next(csv.reader([first], delimiter=delimiter)), columns, required)
    tap = _QuoteTap(text)
    reader = csv.reader(tap, delimiter=delimiter)
    align = _aligner(header)

    def rows() -> Iterator[RawRow]:
        row = 0
        try:
            for record in reader:
                row += 1
                cells = tuple(map(str.strip, record))
                if not any(cells):
                    continue  # blank line: not a row, but it keeps the numbering of the lines after it
                if tap.hit:
                    tap.hit = False
                    cells = tuple(map(unescape_formula, cells))
                yield row, align(cells)
        except csv.Error as exc:
            raise bad_file(f"CSV syntax error after data row {row}: {exc}") from exc
        finally:
            text.detach()  # the caller owns (and closes) the binary file

    return RowSource(FileFormat.csv, encoding, header, rows())


def _ndjson_cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return repr(value)
    raise TypeError("must be a string, number, boolean or null")


def open_ndjson(f: IO[bytes], columns: Sequence[str], required: Sequence[str]) -> RowSource:
    encoding = detect_encoding(f)
    f.seek(0)
    text = io.TextIOWrapper(f, encoding=encoding, newline=None)
    allowed = frozenset(columns)
    # The first object plays the header's part: wrong keys there mean a wrong file, not a bad row.
    first: tuple[int, str] | None = None
    for number, line in enumerate(text, start=1):
        if line.strip():
            first = (number, line)
            break
    if first is None:
        raise bad_file("The file is empty; send one JSON object per line.")
    if first[1].lstrip().startswith("["):
        raise bad_file("A JSON array is not NDJSON; send one JSON object per line.")
    try:
        obj = orjson.loads(first[1])
    except orjson.JSONDecodeError:
        obj = None
    keys = list(obj) if isinstance(obj, dict) else list(required)
    header = match_header(keys, columns, ())

    def parse(number: int, line: str) -> RawRow:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return number, f"not valid JSON: {exc}"
        if not isinstance(obj, dict):
            return number, "each line must be a JSON object"
        unknown = [k for k in obj if k not in allowed]
        if unknown:
            return number, f"unknown keys: {', '.join(sorted(unknown))}"
        cells: list[str | None] = []
        for c in columns:
            if c not in obj:
                cells.append(None)
                continue
            try:
                cells.append(_ndjson_cell(obj[c]))
            except TypeError as exc:
                return number, f"{c}: {exc}"
        return number, tuple(cells)

    def rows() -> Iterator[RawRow]:
        try:
            yield parse(*first)
            for number, line in enumerate(text, start=first[0] + 1):
                if line.strip():
                    yield parse(number, line)
        finally:
            text.detach()

    return RowSource(FileFormat.ndjson, encoding, header, rows())


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # phone numbers and codes typed into number cells
    return str(value)


def open_xlsx(f: IO[bytes], columns: Sequence[str], required: Sequence[str]) -> RowSource:
    from openpyxl import load_workbook

    f.seek(0)
    try:
        wb = load_workbook(f, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        first = next(it, None)
    except Exception as exc:  # zipfile, KeyError, XML parser errors…: openpyxl has no single error type
        raise bad_file(
            f"Not a readable .xlsx workbook ({exc.__class__.__name__}); save it again from Excel/WPS."
        ) from exc
    if first is None:
        wb.close()
        raise bad_file("The first sheet is empty; its first row must name the columns.")
    header = match_header(list(first), columns, required)
    align = _aligner(header)

    def rows() -> Iterator[RawRow]:
        row = 0
        try:
            for values in it:
                row += 1
                cells = tuple(map(_xlsx_cell, values))
                if any(cells):
                    yield row, align(cells)
        except Exception as exc:  # a damaged sheet part surfaces only while streaming
            raise bad_file(
                f"The sheet is damaged after data row {row} ({exc.__class__.__name__}); "
                "rows before it may have been stored. Save it again from Excel/WPS and re-import "
                "(it upserts)."
            ) from exc
        finally:
            wb.close()

    return RowSource(FileFormat.xlsx, None, header, rows())


def open_rows(f: IO[bytes], fmt: FileFormat, columns: Sequence[str], required: Sequence[str]) -> RowSource:
    if fmt is FileFormat.xlsx:
        return open_xlsx(f, columns, required)
    if fmt is FileFormat.ndjson:
        return open_ndjson(f, columns, required)
    return open_csv(f, columns, required)
