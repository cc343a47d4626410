"""Customer records, masked contacts and the interaction timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from servicelens.core.auth import Subject
from servicelens.core.clock import utcnow
from servicelens.core.errors import ProblemError, not_found
from servicelens.core.pagination import Page, check_page
from servicelens.core.schemas import Ref
from servicelens.customers.models import Customer, CustomerContact
from servicelens.customers.schemas import (
    ContactOut,
    CustomerCreate,
    CustomerDetail,
    CustomerPatch,
    CustomerSummary,
    TimelineEntry,
)
from servicelens.org.models import Region, Role, User
from servicelens.tickets.models import Ticket, TicketComment, TicketEvent
from servicelens.tickets.service import scope_clause as ticket_scope


def mask_phone(phone: str | None) -> str | None:
    """138****5678: enough to recognise a number, not enough to dial it."""
    if not phone:
        return None
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 2
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def mask_email(email: str | None) -> str | None:
    if not email:
        return None
    local, _, domain = email.partition("@")
    if not domain:
        return mask_phone(email)
    return (local[:1] or "*") + "***@" + domain


def mask_text(value: str | None) -> str | None:
    if not value:
        return None
    return value[:2] + "***" if len(value) > 2 else "***"


def _scope(subject: Subject) -> Any:
    if subject.role == Role.sales:
        return Customer.sales_owner_id == subject.user_id
    return literal(True)


def _summary(c: Customer, region_name: str | None) -> CustomerSummary:
    return CustomerSummary(
        id=c.id,
        name=c.name,
        tier=c.tier,
        city=c.city,
        region=Ref(id=c.region_id, name=region_name or "") if c.region_id else None,
        is_member=c.is_member,
        phone_masked=mask_phone(c.phone),
        email_masked=mask_email(c.email),
        external_id=c.external_id,
        created_at=c.created_at,
    )


def list_customers(
    session: Session,
    subject: Subject,
    q: str | None,
    tier: str | None,
    region_id: int | None,
    page: int,
    page_size: int,
) -> Page[CustomerSummary]:
    check_page(page, page_size)
    stmt = select(Customer, Region.name).outerjoin(Region, Region.id == Customer.region_id).where(_scope(subject))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Customer.name.like(like), Customer.external_id == q.strip(), Customer.phone == q.strip()))
    if tier:
        stmt = stmt.where(Customer.tier == tier)
    if region_id is not None:
        stmt = stmt.where(Customer.region_id == region_id)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Customer.id).subquery())) or 0
    rows = session.execute(stmt.order_by(Customer.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return Page[CustomerSummary](items=[_summary(c, rn) for c, rn in rows], total=total, page=page, page_size=page_size)


def _load(session: Session, subject: Subject, customer_id: int) -> Customer:
    c = session.scalar(select(Customer).where(Customer.id == customer_id, _scope(subject)))
    if c is None:
        raise not_found("customer", customer_id)
    return c


def get_customer(session: Session, subject: Subject, customer_id: int) -> CustomerDetail:
    c = _load(session, subject, customer_id)
    region_name = session.scalar(select(Region.name).where(Region.id == c.region_id)) if c.region_id else None
    contacts = session.scalars(
        select(CustomerContact).where(CustomerContact.customer_id == c.id).order_by(CustomerContact.id)
    ).all()
    open_statuses = ("new", "assigned", "in_progress", "pending_customer", "on_hold")
    counts = session.execute(
        select(func.count(), func.count().filter(Ticket.status.in_(open_statuses))).where(
            Ticket.customer_id == c.id, Ticket.is_deleted.is_(false()), ticket_scope(subject)
        )
    ).one()
    return CustomerDetail(
        **_summary(c, region_name).model_dump(),
        address=c.address,
        lat=c.lat,
        lng=c.lng,
        sales_owner_id=c.sales_owner_id,
        contacts=[
            ContactOut(
                id=ct.id,
                name=ct.name,
                phone_masked=mask_phone(ct.phone),
                email_masked=mask_email(ct.email),
                wechat_masked=mask_text(ct.wechat),
                is_primary=ct.is_primary,
            )
            for ct in contacts
        ],
        ticket_count=counts[0],
        open_ticket_count=counts[1],
    )


def _check_refs(session: Session, region_id: int | None, sales_owner_id: int | None) -> None:
    errors = []
    if region_id is not None and session.get(Region, region_id) is None:
        errors.append({"field": "region_id", "reason": f"region {region_id} does not exist"})
    if sales_owner_id is not None and session.get(User, sales_owner_id) is None:
        errors.append({"field": "sales_owner_id", "reason": f"user {sales_owner_id} does not exist"})
    if errors:
        raise ProblemError(422, "validation_error", "Invalid request", "Unknown references", errors)


def create_customer(session: Session, subject: Subject, body: CustomerCreate) -> Customer:
    _check_refs(session, body.region_id, body.sales_owner_id)
    if body.external_id and session.scalar(
        select(Customer.id).where(Customer.source == body.source, Customer.external_id == body.external_id)
    ):
        raise ProblemError(
            409,
            "customer.external_id_taken",
            "Conflict",
            f"external_id '{body.external_id}' exists for {body.source}",
        )
    now = utcnow()
    data = body.model_dump(exclude={"contacts"})
    data["tier"] = body.tier.value
    customer = Customer(**data, created_at=now, updated_at=now)
    session.add(customer)
    session.flush()
    for ct in body.contacts:
        session.add(CustomerContact(customer_id=customer.id, **ct.model_dump()))
    session.flush()
    return customer


def update_customer(session: Session, subject: Subject, customer_id: int, body: CustomerPatch) -> Customer:
    c = _load(session, subject, customer_id)
    changes = body.model_dump(exclude_unset=True)
    _check_refs(session, changes.get("region_id"), changes.get("sales_owner_id"))
    old_tier = c.tier
    for field, value in changes.items():
        if field in ("name", "tier", "is_member") and value is None:
            raise ProblemError(422, "validation_error", "Invalid request", f"{field} cannot be null")
        setattr(c, field, value.value if hasattr(value, "value") else value)
    c.updated_at = utcnow()
    if c.tier != old_tier:
        # The tier chooses SLA policies: the customer's open tickets get their targets re-evaluated.
        from servicelens.sla.service import resync_customer_tickets

        session.flush()
        resync_customer_tickets(session, c.id)
    return c


def timeline(session: Session, subject: Subject, customer_id: int, page: int, page_size: int) -> Page[TimelineEntry]:
    """Every ticket, comment and event of the customer, newest first, paged in the database."""
    check_page(page, page_size)
    _load(session, subject, customer_id)
    mine = select(Ticket.id).where(
        Ticket.customer_id == customer_id, Ticket.is_deleted.is_(false()), ticket_scope(subject)
    )
    tickets = select(
        literal("ticket").label("kind"),
        Ticket.id.label("id"),
        Ticket.created_at.label("at"),
        Ticket.id.label("tid"),
    ).where(Ticket.id.in_(mine))
    comments = select(literal("comment"), TicketComment.id, TicketComment.created_at, TicketComment.ticket_id).where(
        TicketComment.ticket_id.in_(mine)
    )
    events = select(literal("event"), TicketEvent.id, TicketEvent.at, TicketEvent.ticket_id).where(
        TicketEvent.ticket_id.in_(mine),
        TicketEvent.kind.not_in(("created", "imported", "commented", "replied")),
    )
    merged = union_all(tickets, comments, events).subquery()
    total = session.scalar(select(func.count()).select_from(merged)) or 0
    page_rows = session.execute(
        select(merged.c.kind, merged.c.id, merged.c.at, merged.c.tid)
        .order_by(merged.c.at.desc(), merged.c.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    ids: dict[str, list[int]] = {"ticket": [], "comment": [], "event": []}
    for r in page_rows:
        ids[r.kind].append(r.id)
    tinfo = {
        t.id: t
        for t in session.execute(
            select(Ticket.id, Ticket.subject, Ticket.type, Ticket.status).where(
                Ticket.id.in_({r.tid for r in page_rows})
            )
        )
    }
    cmap = (
        {c.id: c for c in session.scalars(select(TicketComment).where(TicketComment.id.in_(ids["comment"])))}
        if ids["comment"]
        else {}
    )
    emap = (
        {e.id: e for e in session.scalars(select(TicketEvent).where(TicketEvent.id.in_(ids["event"])))}
        if ids["event"]
        else {}
    )
    items = []
    for r in page_rows:
        t = tinfo[r.tid]
        base = {
            "kind": r.kind,
            "id": r.id,
            "at": r.at,
            "ticket_id": r.tid,
            "ticket_subject": t.subject,
            "ticket_type": t.type,
            "ticket_status": t.status,
        }
        if r.kind == "comment":
            c = cmap[r.id]
            base |= {"body": c.body, "public": c.public, "author_kind": c.author_kind}
        elif r.kind == "event":
            e = emap[r.id]
            base |= {
                "event_kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "data": e.data,
            }
        items.append(TimelineEntry(**base))
    return Page[TimelineEntry](items=items, total=total, page=page, page_size=page_size)
