"""Product catalogue endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from servicelens.core.auth import Permission, Subject, require
from servicelens.core.deps import DbSession
from servicelens.core.pagination import Page
from servicelens.products import service
from servicelens.products.schemas import ComponentIn, ComponentOut, ProductCreate, ProductOut

router = APIRouter(prefix="/products", tags=["products"])
Reader = Annotated[Subject, Depends(require(Permission.tickets_read))]
Admin = Annotated[Subject, Depends(require(Permission.catalog_write))]
ProductId = Annotated[int, Path(ge=1)]


@router.get("", response_model=Page[ProductOut])
def list_products(
    session: DbSession,
    subject: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[ProductOut]:
    return service.list_products(session, q, page, page_size)


@router.post("", response_model=ProductOut, status_code=201)
def create_product(body: ProductCreate, session: DbSession, subject: Admin) -> ProductOut:
    return service.get_product(session, service.create_product(session, body).id)


@router.get("/{product_id}", response_model=ProductOut)
def get_product(product_id: ProductId, session: DbSession, subject: Reader) -> ProductOut:
    return service.get_product(session, product_id)


@router.post("/{product_id}/components", response_model=ComponentOut, status_code=201)
def add_component(product_id: ProductId, body: ComponentIn, session: DbSession, subject: Admin) -> ComponentOut:
    c = service.add_component(session, product_id, body)
    return ComponentOut(id=c.id, code=c.code, name=c.name)
