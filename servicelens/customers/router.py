"""Customer endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse

from servicelens.core.auth import Permission, Subject, require
from servicelens.core.deps import DbSession
from servicelens.core.idempotency import run_idempotent
from servicelens.core.pagination import Page
from servicelens.customers import service
from servicelens.customers.models import CustomerTier
from servicelens.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerPatch,
    CustomerSummary,
    TimelineEntry,
)

router = APIRouter(prefix="/customers", tags=["customers"])
Reader = Annotated[Subject, Depends(require(Permission.customers_read))]
Writer = Annotated[Subject, Depends(require(Permission.customers_write))]
CustomerId = Annotated[int, Path(ge=1)]


@router.get("", response_model=Page[CustomerSummary])
def list_customers(
    session: DbSession,
    subject: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tier: CustomerTier | None = None,
    region_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[CustomerSummary]:
    return service.list_customers(session, subject, q, tier.value if tier else None, region_id, page, page_size)


@router.post("", response_model=CustomerDetail, status_code=201)
def create_customer(
    body: CustomerCreate,
    session: DbSession,
    subject: Writer,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    def create() -> dict[str, object]:
        customer = service.create_customer(session, subject, body)
        return service.get_customer(session, subject, customer.id).model_dump(mode="json")

    status_code, payload = run_idempotent(
        session, subject, idempotency_key, "POST /customers", body.model_dump(mode="json"), create
    )
    return JSONResponse(payload, status_code=status_code)


@router.get("/{customer_id}", response_model=CustomerDetail)
def get_customer(customer_id: CustomerId, session: DbSession, subject: Reader) -> CustomerDetail:
    return service.get_customer(session, subject, customer_id)


@router.patch("/{customer_id}", response_model=CustomerDetail)
def update_customer(
    customer_id: CustomerId, body: CustomerPatch, session: DbSession, subject: Writer
) -> CustomerDetail:
    service.update_customer(session, subject, customer_id, body)
    return service.get_customer(session, subject, customer_id)


@router.get("/{customer_id}/timeline", response_model=Page[TimelineEntry])
def customer_timeline(
    customer_id: CustomerId, session: DbSession, subject: Reader, page: int = 1, page_size: int = 50
) -> Page[TimelineEntry]:
    """Interaction record: every ticket, comment and event of this customer, newest first."""
    return service.timeline(session, subject, customer_id, page, page_size)
