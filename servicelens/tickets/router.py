"""Ticket endpoints (thin: parse, call the service, shape the response)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from servicelens.core.auth import Permission, Subject, require
from servicelens.core.deps import DbSession, read
from servicelens.core.idempotency import run_idempotent
from servicelens.core.pagination import Page
from servicelens.core.schemas import json_response, jsonable
from servicelens.tickets import service
from servicelens.tickets.filters import ticket_filters
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
async def list_tickets(
    request: Request,
    subject: Reader,
    filters: Annotated[service.TicketFilters, Depends(ticket_filters)],
    sort: str = "-created_at",
    page: int = 1,
    page_size: int = 20,
) -> Response:
    return json_response(
        await read(request, lambda conn: service.list_tickets(conn, subject, filters, sort, page, page_size))
    )


@router.post("", response_model=TicketDetail, status_code=201)
def create_ticket(
    body: TicketCreate,
    session: DbSession,
    subject: Writer,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    def create() -> dict[str, Any]:
        ticket = service.create_ticket(session, subject, body)
        return jsonable(service.get_ticket(session, subject, ticket.id))

    status_code, payload = run_idempotent(
        session, subject, idempotency_key, "POST /tickets", body.model_dump(mode="json"), create
    )
    return json_response(payload, status_code, headers={"Location": f"/api/v1/tickets/{payload['id']}"})


@router.get("/{ticket_id}", response_model=TicketDetail)
async def get_ticket(ticket_id: TicketId, request: Request, subject: Reader) -> Response:
    return json_response(await read(request, lambda conn: service.ticket_detail(conn, subject, ticket_id), point=True))


@router.patch("/{ticket_id}", response_model=TicketDetail)
def update_ticket(ticket_id: TicketId, body: TicketPatch, session: DbSession, subject: Writer) -> Response:
    service.update_ticket(session, subject, ticket_id, body)
    return json_response(service.get_ticket(session, subject, ticket_id))


@router.post("/{ticket_id}/transition", response_model=TicketDetail)
def transition(ticket_id: TicketId, body: TransitionIn, session: DbSession, subject: Writer) -> Response:
    service.transition(session, subject, ticket_id, body)
    return json_response(service.get_ticket(session, subject, ticket_id))


@router.post("/{ticket_id}/comments", response_model=TicketDetail, status_code=201)
def add_comment(ticket_id: TicketId, body: CommentIn, session: DbSession, subject: Writer) -> Response:
    service.add_comment(session, subject, ticket_id, body)
    return json_response(service.get_ticket(session, subject, ticket_id), 201)


@router.post("/{ticket_id}/merge", response_model=TicketDetail)
def merge(ticket_id: TicketId, body: MergeIn, session: DbSession, subject: Writer) -> Response:
    """Merge this (duplicate) ticket into ``into_ticket_id``; returns the surviving ticket."""
    target = service.merge(session, subject, ticket_id, body.into_ticket_id)
    return json_response(service.get_ticket(session, subject, target.id))


@router.post("/{ticket_id}/followups", response_model=TicketDetail, status_code=201)
def create_followup(ticket_id: TicketId, body: FollowupIn, session: DbSession, subject: Writer) -> Response:
    child = service.create_followup(session, subject, ticket_id, body)
    return json_response(service.get_ticket(session, subject, child.id), 201)
