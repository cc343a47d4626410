"""RFC 9457 problem details with stable codes; never a 500 for bad input."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """A business-rule failure the caller can fix; rendered as problem details."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.headers = headers
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.errors = errors or []
        self.extra = extra or {}


def not_found(entity: str, ident: object) -> ProblemError:
    return ProblemError(404, f"{entity}.not_found", "Not found", f"{entity} {ident} does not exist")


def conflict(code: str, detail: str, **extra: Any) -> ProblemError:
    return ProblemError(409, code, "Conflict", detail, extra=extra)


def bad_request(code: str, detail: str, errors: list[dict[str, Any]] | None = None) -> ProblemError:
    return ProblemError(400, code, "Bad request", detail, errors)


def forbidden(detail: str = "Your role does not allow this action") -> ProblemError:
    return ProblemError(403, "auth.forbidden", "Forbidden", detail)


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://servicelens.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        out.append({"field": ".".join(loc) or None, "reason": err.get("msg", "invalid"), "type": err.get("type")})
    return out


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors, exc.extra, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] or "body" for e in errors[:5])
        return problem_response(422, "validation_error", "Invalid request", f"Invalid: {fields}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "auth.unauthenticated",
            403: "auth.forbidden",
            404: "not_found",
            405: "method_not_allowed",
        }
        return problem_response(
            exc.status_code,
            code.get(exc.status_code, f"http_{exc.status_code}"),
            str(exc.detail) if exc.status_code != 404 else "Not found",
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # Values the database cannot take (NUL characters, numbers out of range on PostgreSQL):
        # the caller's input.
        return problem_response(
            422,
            "invalid_value",
            "Invalid request",
            "A value cannot be stored or compared (a number out of range, or control characters such as NUL?)",
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses integers beyond 64 bits (an id or page number of 20 digits).
        return problem_response(422, "invalid_value", "Invalid request", "A number is out of range")

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return problem_response(
            409,
            "integrity_conflict",
            "Conflict",
            "The change conflicts with stored data (duplicate or reference)",
        )
