"""Ticket endpoints (thin: parse, call the service, shape the response)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from servicelens.core.auth import Permission, Subject, require
from servicelens.core.deps import DbSession
from servicelens.core.idempotency import run_idempotent
from servicelens.core.pagination import Page
from servicelens.core.schemas import json_response
from servicelens.tickets import service
from servicelens.tickets.models import Channel, FlagColor, Priority, TicketStatus, TicketType
from servicelens.tickets.schemas import (
    CommentIn,
    FollowupIn,
    MergeIn,
    TicketCreate,
    TicketDetail,
    TicketPatch,
    TicketSummary,
    TransitionIn,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])
Reader = Annotated[Subject, Depends(require(Permission.tickets_read))]
Writer = Annotated[Subject, Depends(require(Permission.tickets_write))]
TicketId = Annotated[int, Path(ge=1)]


@router.get("", response_model=Page[TicketSummary])
def list_tickets(
    session: DbSession,
    subject: Reader,
    status: Annotated[list[TicketStatus], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    type: Annotated[list[TicketType], Query()] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
    team_id: Annotated[list[int], Query()] = [],  # noqa: B006
    assignee_id: Annotated[list[int], Query()] = [],  # noqa: B006
    region_id: Annotated[list[int], Query()] = [],  # noqa: B006
    customer_id: int | None = None,
    product_id: int | None = None,
    flag_color: FlagColor | None = None,
    open_only: bool = False,
    unassigned: bool = False,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: str = "-created_at",
    page: int = 1,
    page_size: int = 20,
) -> Response:
    filters = service.TicketFilters(
        status=[s.value for s in status],
        type=[t.value for t in type],
        priority=[p.value for p in priority],
        channel=[c.value for c in channel],
        team_id=team_id,
        assignee_id=assignee_id,
        region_id=region_id,
        customer_id=customer_id,
        product_id=product_id,
        flag_color=flag_color.value if flag_color else None,
        open_only=open_only,
        unassigned=unassigned,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        q=q,
    )
    return json_response(service.list_tickets(session, subject, filters, sort, page, page_size))


@router.post("", response_model=TicketDetail, status_code=201)
def create_ticket(
    body: TicketCreate,
    session: DbSession,
    subject: Writer,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    def create() -> dict[str, object]:
        ticket = service.create_ticket(session, subject, body)
        return service.get_ticket(session, subject, ticket.id).model_dump(mode="json")

    status_code, payload = run_idempotent(
        session, subject, idempotency_key, "POST /tickets", body.model_dump(mode="json"), create
    )
    return JSONResponse(payload, status_code=status_code, headers={"Location": f"/api/v1/tickets/{payload['id']}"})


@router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(ticket_id: TicketId, session: DbSession, subject: Reader) -> Response:
    return json_response(service.get_ticket(session, subject, ticket_id))


@router.patch("/{ticket_id}", response_model=TicketDetail)
def update_ticket(ticket_id: TicketId, body: TicketPatch, session: DbSession, subject: Writer) -> TicketDetail:
    service.update_ticket(session, subject, ticket_id, body)
    return service.get_ticket(session, subject, ticket_id)


@router.post("/{ticket_id}/transition", response_model=TicketDetail)
def transition(ticket_id: TicketId, body: TransitionIn, session: DbSession, subject: Writer) -> TicketDetail:
    service.transition(session, subject, ticket_id, body)
    return service.get_ticket(session, subject, ticket_id)


@router.post("/{ticket_id}/comments", response_model=TicketDetail, status_code=201)
def add_comment(
    ticket_id: TicketId, body: CommentIn, session: DbSession, subject: Writer, response: Response
) -> TicketDetail:
    service.add_comment(session, subject, ticket_id, body)
    return service.get_ticket(session, subject, ticket_id)


@router.post("/{ticket_id}/merge", response_model=TicketDetail)
def merge(ticket_id: TicketId, body: MergeIn, session: DbSession, subject: Writer) -> TicketDetail:
    """Merge this (duplicate) ticket into ``into_ticket_id``; returns the surviving ticket."""
    target = service.merge(session, subject, ticket_id, body.into_ticket_id)
    return service.get_ticket(session, subject, target.id)


@router.post("/{ticket_id}/followups", response_model=TicketDetail, status_code=201)
def create_followup(ticket_id: TicketId, body: FollowupIn, session: DbSession, subject: Writer) -> TicketDetail:
    child = service.create_followup(session, subject, ticket_id, body)
    return service.get_ticket(session, subject, child.id)
