"""Product catalogue: products and their components."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from servicelens.core.clock import utcnow
from servicelens.core.errors import conflict, not_found
from servicelens.core.pagination import Page, check_page
from servicelens.products.models import Component, Product
from servicelens.products.schemas import ComponentIn, ComponentOut, ProductCreate, ProductOut


def _out(p: Product, comps: list[Component]) -> ProductOut:
    return ProductOut(
        id=p.id,
        code=p.code,
        name=p.name,
        category=p.category,
        external_id=p.external_id,
        components=[ComponentOut(id=c.id, code=c.code, name=c.name) for c in comps],
    )


def list_products(session: Session, q: str | None, page: int, page_size: int) -> Page[ProductOut]:
    check_page(page, page_size)
    stmt = select(Product)
    if q:
        stmt = stmt.where(or_(Product.name.like(f"%{q}%"), Product.code == q))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    products = session.scalars(stmt.order_by(Product.id).limit(page_size).offset((page - 1) * page_size)).all()
    comps: dict[int, list[Component]] = defaultdict(list)
    for c in session.scalars(
        select(Component).where(Component.product_id.in_([p.id for p in products])).order_by(Component.id)
    ):
        comps[c.product_id].append(c)
    return Page[ProductOut](items=[_out(p, comps[p.id]) for p in products], total=total, page=page, page_size=page_size)


def get_product(session: Session, product_id: int) -> ProductOut:
    p = session.get(Product, product_id)
    if p is None:
        raise not_found("product", product_id)
    comps = session.scalars(select(Component).where(Component.product_id == p.id).order_by(Component.id)).all()
    return _out(p, list(comps))


def create_product(session: Session, body: ProductCreate) -> Product:
    if session.scalar(select(Product.id).where(Product.code == body.code)):
        raise conflict("product.code_taken", f"Product code '{body.code}' exists")
    codes = [c.code for c in body.components]
    if len(codes) != len(set(codes)):
        raise conflict("product.duplicate_component", "Component codes must be unique within a product")
    p = Product(**body.model_dump(exclude={"components"}), created_at=utcnow())
    session.add(p)
    session.flush()
    for c in body.components:
        session.add(Component(product_id=p.id, code=c.code, name=c.name))
    session.flush()
    return p


def add_component(session: Session, product_id: int, body: ComponentIn) -> Component:
    if session.get(Product, product_id) is None:
        raise not_found("product", product_id)
    if session.scalar(select(Component.id).where(Component.product_id == product_id, Component.code == body.code)):
        raise conflict("product.duplicate_component", f"Component '{body.code}' exists on this product")
    c = Component(product_id=product_id, code=body.code, name=body.name)
    session.add(c)
    session.flush()
    return c
