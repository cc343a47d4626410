"""Import/export API shapes: the kinds, the file formats and the per-row import result."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

MAX_LISTED_ERRORS = 1_000


class ImportKind(StrEnum):
    customers = "customers"
    products = "products"
    tickets = "tickets"


class FileFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    ndjson = "ndjson"


class RowError(BaseModel):
    """One problem of one data row. ``row`` is 1-based and does not count the header line, so row 1 is
    line 2 of a CSV file or spreadsheet; for NDJSON it is the line number."""

    row: int
    field: str | None = Field(description="Column name, or null when the whole row is unreadable")
    reason: str


class ImportResult(BaseModel):
    kind: ImportKind
    format: FileFormat
    encoding: str | None = Field(description="Detected text encoding (utf-8, utf-8-sig, gbk, gb18030…); null for XLSX")
    source: str
    dry_run: bool
    total: int = Field(description="Data rows read (header not counted)")
    created: int
    updated: int
    unchanged: int = Field(description="Rows whose stored record already had these values")
    failed: int
    errors: list[RowError] = Field(description=f"At most {MAX_LISTED_ERRORS} row errors, in file order")
    errors_truncated: bool
