"""Tickets, their append-only event history and comments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicelens.core.db import Base


class TicketType(StrEnum):
    inquiry = "inquiry"
    repair = "repair"
    complaint = "complaint"
    return_ = "return"
    suggestion = "suggestion"


class Channel(StrEnum):
    phone = "phone"
    web = "web"
    email = "email"
    wechat = "wechat"
    sms = "sms"
    app = "app"
    api = "api"
    social = "social"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TicketStatus(StrEnum):
    new = "new"
    assigned = "assigned"
    in_progress = "in_progress"
    pending_customer = "pending_customer"
    on_hold = "on_hold"
    resolved = "resolved"
    closed = "closed"


class StatusCategory(StrEnum):
    """The six categories of metrics.md §0 the metric and SLA engines work on."""

    new = "new"
    open = "open"
    pending = "pending"
    on_hold = "on_hold"
    solved = "solved"
    closed = "closed"


class FlagColor(StrEnum):
    none = "none"
    amber = "amber"
    red = "red"


class EventKind(StrEnum):
    created = "created"
    imported = "imported"
    updated = "updated"
    status_changed = "status_changed"
    assigned = "assigned"
    commented = "commented"
    replied = "replied"
    reopened = "reopened"
    merged = "merged"
    merged_into = "merged_into"
    followup_created = "followup_created"
    flagged = "flagged"
    sla_warning = "sla_warning"
    sla_breached = "sla_breached"
    escalated = "escalated"
    priority_changed = "priority_changed"


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), default=None)
    source: Mapped[str] = mapped_column(String(40), default="manual")
    subject: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(100), default=None)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), default=None)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), default=None)
    component_id: Mapped[int | None] = mapped_column(ForeignKey("components.id"), default=None)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), default=None)
    flag_color: Mapped[str] = mapped_column(String(10), default=FlagColor.none.value)
    resolution_code: Mapped[str | None] = mapped_column(String(64), default=None)
    fcr_marked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_spam: Mapped[bool] = mapped_column(Boolean, default=False)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    followup_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    first_resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_tickets_source_external_id"),
        # Lists by status, newest first; the trailing columns make it cover the count of a status
        # list (priority filter, merged/deleted checks) without reading a ticket row (2 ms → 0.25 ms
        # on a million tickets).
        Index("ix_tickets_status_list", "status", "created_at", "priority", "is_deleted", "merged_into_id"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_team_status", "team_id", "status"),
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        Index("ix_tickets_region_created", "region_id", "created_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_updated", "updated_at"),
    )


class TicketEvent(Base):
    """Append-only history: metrics derive from these rows, so they are never updated."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str | None] = mapped_column(String(20), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set on events that must happen once (SLA warning/breach, escalation level); unique.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), default=None)

    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
        Index("ix_ticket_events_at", "at"),
        Index("uq_ticket_events_dedupe_key", "dedupe_key", unique=True),
    )


class TicketComment(Base):
    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    author_kind: Mapped[str] = mapped_column(String(16))  # agent | customer | system
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_ticket_comments_ticket", "ticket_id", "id"),)
