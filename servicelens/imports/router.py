"""Bulk import/export endpoints (thin: parse the request, call the service, shape the response)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.datastructures import UploadFile

from servicelens.config import get_settings
from servicelens.core.auth import Permission, Subject, require
from servicelens.core.db import Database
from servicelens.core.deps import get_db
from servicelens.core.errors import ProblemError
from servicelens.imports import service
from servicelens.imports.schemas import FileFormat, ImportKind, ImportResult
from servicelens.tickets.filters import ticket_filters
from servicelens.tickets.service import TicketFilters

router = APIRouter(tags=["imports"])
Importer = Annotated[Subject, Depends(require(Permission.data_import))]
Exporter = Annotated[Subject, Depends(require(Permission.data_export))]
Db = Annotated[Database, Depends(get_db)]

# Multipart framing (boundaries, part headers) around the file itself.
MULTIPART_SLACK = 64 * 1024

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV (UTF-8, GBK/GB18030 detected), XLSX (first sheet) or NDJSON",
                        }
                    },
                }
            }
        },
    }
}


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "import.too_large",
        "File too large",
        f"Imports are limited to {limit:,} bytes; split the file (every part upserts) or use `servicelens import`.",
    )


@router.post(
    "/imports/{kind}",
    response_model=ImportResult,
    openapi_extra=UPLOAD_BODY,
    summary="Import customers, products or tickets from a file (per-row results)",
)
async def import_file(
    kind: ImportKind,
    request: Request,
    subject: Importer,
    db: Db,
    source: Annotated[
        str,
        Query(min_length=1, max_length=40, description="Source system; external ids are unique per source"),
    ] = "import",
    dry_run: Annotated[bool, Query(description="Validate and count without storing anything")] = False,
    format: Annotated[FileFormat | None, Query(description="Override the detected format")] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Upload a file as multipart field ``file``. Rows are numbered from 1 for the first line after
    the header (NDJSON: the line number). Good rows are stored, bad rows come back in ``errors``."""
    service.check_import_allowed(subject)  # before reading a possibly large body
    limit = get_settings().max_import_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise _too_large(limit)
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ProblemError(
                422,
                "validation_error",
                "Invalid request",
                "Send the file as multipart/form-data field 'file'",
                [{"field": "file", "reason": "missing"}],
            )
        size = upload.size if upload.size is not None else upload.file.seek(0, 2)
        if size > limit:
            raise _too_large(limit)
        status, body = await run_in_threadpool(
            service.import_upload,
            db,
            subject,
            kind,
            upload.file,
            filename=upload.filename,
            content_type=upload.content_type,
            fmt=format,
            source=source,
            dry_run=dry_run,
            idempotency_key=idempotency_key,
        )
    finally:
        await form.close()
    return JSONResponse(body, status_code=status)


def _download(out: service.Export) -> StreamingResponse:
    return StreamingResponse(
        out.chunks,
        media_type=out.media_type,
        headers={"Content-Disposition": f'attachment; filename="{out.filename}"'},
    )


@router.get("/imports/{kind}/template", summary="An empty import file with the header row")
def import_template(kind: ImportKind, subject: Importer, format: FileFormat = FileFormat.csv) -> StreamingResponse:
    return _download(service.template(kind, format))


@router.get("/exports/{kind}", summary="Export rows you may see, in the import columns")
def export(
    kind: ImportKind,
    subject: Exporter,
    db: Db,
    filters: Annotated[TicketFilters, Depends(ticket_filters)],
    format: FileFormat = FileFormat.csv,
    source: Annotated[
        str | None, Query(max_length=40, description="Only rows imported from this source system")
    ] = None,
    bom: Annotated[bool, Query(description="CSV only: start with a UTF-8 BOM so Excel/WPS detect UTF-8")] = True,
) -> StreamingResponse:
    return _download(service.export(db, subject, kind, format, filters, source=source, bom=bom))
