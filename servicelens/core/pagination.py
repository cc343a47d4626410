"""Page-number pagination and whitelisted sorting for list endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import Session

from servicelens.core.errors import ProblemError

T = TypeVar("T")

MAX_PAGE_SIZE = 200
# Counting stops here: a count is O(matching rows), and an unfiltered list of a million tickets
# would spend ~0.3 s counting for a page of 20. Past the cap the UI says "more than 10,000".
COUNT_CAP = 10_000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    total_exact: bool = Field(
        default=True,
        description=f"false when more rows match than `total` (counting stops at {COUNT_CAP:,}; narrow the filters)",
    )


def check_page(page: int, page_size: int) -> None:
    if page < 1:
        raise ProblemError(422, "validation_error", "Invalid request", "page must be ≥ 1", [{"field": "page"}])
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            f"page_size must be between 1 and {MAX_PAGE_SIZE}",
            [{"field": "page_size", "reason": f"1..{MAX_PAGE_SIZE}"}],
        )


def order_by(
    stmt: Select[*tuple[Any, ...]], sort: str, columns: Mapping[str, Any], tiebreak: Any
) -> Select[*tuple[Any, ...]]:
    """Apply ``sort`` ("field" or "-field") from an allowlist, with a stable tie-breaker."""
    field = sort.lstrip("-")
    column = columns.get(field)
    if column is None:
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            f"Cannot sort by '{field}'; use one of: {', '.join(sorted(columns))}",
            [{"field": "sort", "reason": "unknown sort field"}],
        )
    if sort.startswith("-"):
        return stmt.order_by(column.desc(), tiebreak.desc())
    return stmt.order_by(column.asc(), tiebreak.asc())


def paginate_count(
    session: Session | Connection, stmt: Select[*tuple[Any, ...]], cap: int | None = None
) -> tuple[int, bool]:
    """(total, exact): the rows of a filtered query (ordering stripped), counted up to ``cap``
    (default COUNT_CAP) so the cost stays bounded however many rows match."""
    cap = COUNT_CAP if cap is None else cap
    found = int(session.scalar(select(func.count()).select_from(stmt.order_by(None).limit(cap + 1).subquery())) or 0)
    return min(found, cap), found <= cap
