"""Ticket API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from servicelens.core.schemas import CustomerRef, Ref, StrictInput, UserRef
from servicelens.tickets.models import Channel, FlagColor, Priority, StatusCategory, TicketStatus, TicketType

MAX_TEXT = 65_536


class TicketCreate(StrictInput):
    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=MAX_TEXT)
    type: TicketType
    channel: Channel = Channel.web
    priority: Priority = Priority.normal
    category: str | None = Field(default=None, max_length=100)
    customer_id: int | None = None
    product_id: int | None = None
    component_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    region_id: int | None = None
    external_id: str | None = Field(default=None, max_length=100)
    source: str = Field(default="api", max_length=40)


class TicketPatch(StrictInput):
    version: int = Field(description="The version you read; a stale one gets 409")
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    type: TicketType | None = None
    channel: Channel | None = None
    priority: Priority | None = None
    category: str | None = Field(default=None, max_length=100)
    customer_id: int | None = None
    product_id: int | None = None
    component_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    region_id: int | None = None
    flag_color: FlagColor | None = None
    fcr_marked: bool | None = None
    is_spam: bool | None = None


class TransitionIn(StrictInput):
    to_status: TicketStatus
    version: int
    resolution_code: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=MAX_TEXT)


class CommentIn(StrictInput):
    body: str = Field(min_length=1, max_length=MAX_TEXT)
    public: bool = True
    author_kind: Literal["agent", "customer"] = Field(
        default="agent", description="'customer' records what the customer said (phone, email relay)"
    )


class MergeIn(StrictInput):
    into_ticket_id: int


class FollowupIn(StrictInput):
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    description: str = Field(default="", max_length=MAX_TEXT)


class SlaBadge(BaseModel):
    """The most urgent SLA target of a ticket, for badges and live countdowns."""

    metric: str
    state: str
    due_at: datetime | None
    warned: bool
    breached_at: datetime | None


class TicketSummary(BaseModel):
    id: int
    subject: str
    type: TicketType
    channel: Channel
    priority: Priority
    status: TicketStatus
    status_category: StatusCategory
    flag_color: FlagColor
    customer: CustomerRef | None
    team: Ref | None
    assignee: UserRef | None
    region: Ref | None
    product: Ref | None
    created_at: datetime
    updated_at: datetime
    version: int
    external_id: str | None = None
    sla: SlaBadge | None = None


class TimelineItem(BaseModel):
    kind: Literal["event", "comment"]
    id: int
    at: datetime
    actor: UserRef | None
    event_kind: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] | None = None
    body: str | None = None
    public: bool | None = None
    author_kind: str | None = None


class TicketDetail(TicketSummary):
    description: str
    category: str | None
    component: Ref | None
    resolution_code: str | None
    fcr_marked: bool
    first_response_at: datetime | None
    first_resolved_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    merged_into_id: int | None
    followup_of_id: int | None
    allowed_transitions: list[str]
    timeline: list[TimelineItem]
