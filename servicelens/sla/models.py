"""SLA tables: business calendars, policies, per-ticket targets, escalation rules and their steps."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    case,
    literal_column,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from servicelens.core.db import Base


class Calendar(Base):
    """A business calendar (metrics.md §B.1 ``schedule``)."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    tz: Mapped[str] = mapped_column(String(64))
    observe_statutory: Mapped[bool] = mapped_column(Boolean, default=False)
    statutory_region: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CalendarVersion(Base):
    """Weekly hours in effect from a local date: edits add versions, so past results never change."""

    __tablename__ = "calendar_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    effective_from: Mapped[date] = mapped_column(Date)
    weekly_hours: Mapped[dict[str, Any]] = mapped_column()
    makeup_template_weekday: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("calendar_id", "effective_from", name="uq_calendar_versions_from"),)


class CalendarOverride(Base):
    """A tenant exception for one local date (closed, or open with hours)."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # closed | open
    hours: Mapped[list[Any] | None] = mapped_column(default=None)
    name: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_calendar_overrides_day"),)


class CalendarHoliday(Base):
    """Imported statutory data (CSV / iCalendar): a holiday or a make-up workday."""

    __tablename__ = "calendar_holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_calendar_holidays_day"),)


class TargetMetric(StrEnum):
    first_reply = "first_reply"
    next_reply = "next_reply"
    resolution = "resolution"


class TargetState(StrEnum):
    active = "active"
    paused = "paused"
    achieved = "achieved"
    breached = "breached"
    cancelled = "cancelled"


class SlaPolicy(Base):
    """Chosen by ordered conditions; the first active match wins. ``no_sla`` is a valid outcome."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    no_sla: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"type": [...], "priority": [...], "tier": [...], "channel": [...], "product_id": [...],
    #  "region_id": [...], "customer_id": [...]} — all present keys must match
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("calendars.id"), default=None)
    # [{"metric": "first_reply", "minutes": 30, "clock": "business", "priorities": ["urgent"]}, ...]
    targets: Mapped[list[Any]] = mapped_column(default=list)
    pause_statuses: Mapped[list[Any]] = mapped_column(default=lambda: ["pending"])
    warn_ratio: Mapped[float] = mapped_column(Float, default=0.8)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TicketSla(Base):
    """One row per ticket × target (× instance for next_reply); the scanner reads ``next_check_at``."""

    __tablename__ = "ticket_sla"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"), default=None)
    metric: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    clock: Mapped[str] = mapped_column(String(10))
    target_minutes: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(12))
    warned: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    warn_at: Mapped[datetime | None] = mapped_column(default=None)
    fulfilled_at: Mapped[datetime | None] = mapped_column(default=None)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)
    used_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    breach_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    statutory_coverage: Mapped[bool] = mapped_column(Boolean, default=True)
    next_check_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle", name="uq_ticket_sla_target"),
        Index("ix_ticket_sla_next_check", "next_check_at"),
        Index("ix_ticket_sla_state_due", "state", "due_at"),
    )


class EscalationTrigger(StrEnum):
    no_first_response = "no_first_response"  # age since creation without a first agent reply
    unresolved = "unresolved"  # age since creation while not solved
    sla_warning = "sla_warning"  # after an SLA target's warning
    sla_breach = "sla_breach"  # after an SLA target's breach


class EscalationRule(Base):
    """Condition → actions in a ladder of levels (each level fires once per ticket)."""

    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trigger: Mapped[str] = mapped_column(String(24))
    metric: Mapped[str | None] = mapped_column(String(20), default=None)  # for sla_* triggers
    # [{"after_minutes": 120, "actions": [{"type": "flag", "color": "red"}, {"type": "notify", ...}]}, ...]
    levels: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


def running_target(target: Any = TicketSla) -> ColumnElement[bool]:
    """A target whose deadline still counts: running, or breached and not yet met. Its ``due_at``
    is what "SLA due" sorts by. Written so that a query's condition matches the partial index
    ix_ticket_sla_running_due exactly (SQLite compares the expressions): states as literals, not
    parameters, and the either-or inside one CASE, which SQLite cannot split into two lookups on
    ix_ticket_sla_state_due (without statistics it preferred those, then sorted every running
    target)."""
    either = or_(
        target.state == literal_column(f"'{TargetState.active.value}'"),
        and_(target.state == literal_column(f"'{TargetState.breached.value}'"), target.fulfilled_at.is_(None)),
    )
    one: ColumnElement[int] = literal_column("1")
    return and_(target.due_at.is_not(None), case((either, one), else_=literal_column("0")) == one)


# The running targets in deadline order: the SLA-sorted ticket list reads them front to back and
# stops at its page, however many closed tickets' targets the table holds.
Index(
    "ix_ticket_sla_running_due",
    TicketSla.due_at,
    TicketSla.ticket_id,
    sqlite_where=running_target(),
    postgresql_where=running_target(),
)


class EscalationStep(Base):
    """A scheduled ladder level for one ticket; fired once (unique), cancelled when moot."""

    __tablename__ = "escalation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("escalation_rules.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | fired | cancelled
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    next_check_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("ticket_id", "rule_id", "level", name="uq_escalation_steps_level"),
        Index("ix_escalation_steps_next_check", "next_check_at"),
    )
