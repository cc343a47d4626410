"""SLA API shapes: calendars, policies, escalation rules, per-ticket targets, node checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from servicelens.core.schemas import StrictInput
from servicelens.sla.models import EscalationTrigger, TargetMetric
from servicelens.tickets.models import Channel, FlagColor, Priority, TicketType

ClockName = Literal["business", "calendar"]
PauseCategory = Literal["new", "open", "pending", "on_hold"]


CHINA_HOURS: dict[str, list[list[str]]] = {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)}


class CalendarVersionIn(StrictInput):
    effective_from: date
    weekly_hours: dict[str, list[list[str]]] = Field(
        description='weekday "0" (Monday) … "6" → [["09:00","12:00"],["13:00","18:00"]]'
    )
    makeup_template_weekday: int = Field(default=0, ge=0, le=6)


class CalendarOverrideIn(StrictInput):
    day: date
    kind: Literal["closed", "open"]
    hours: list[list[str]] | None = None
    name: str = Field(default="", max_length=100)


class CalendarCreate(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    tz: str = Field(default="Asia/Shanghai", max_length=64)
    observe_statutory: bool = True
    statutory_region: Literal["CN"] | None = "CN"
    weekly_hours: dict[str, list[list[str]]] = Field(default_factory=lambda: dict(CHINA_HOURS))
    effective_from: date = date(2000, 1, 1)
    makeup_template_weekday: int = Field(default=0, ge=0, le=6)
    overrides: list[CalendarOverrideIn] = Field(default_factory=list, max_length=2000)


class CalendarPatch(StrictInput):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    tz: str | None = Field(default=None, max_length=64)
    observe_statutory: bool | None = None
    statutory_region: Literal["CN"] | None = None


class HolidayOut(BaseModel):
    day: date
    kind: str
    name: str


class CalendarOut(BaseModel):
    id: int
    name: str
    tz: str
    observe_statutory: bool
    statutory_region: str | None
    versions: list[CalendarVersionIn]
    overrides: list[CalendarOverrideIn]
    holidays: list[HolidayOut]
    coverage_warnings: list[int] = Field(description="Years its deadlines can reach that lack holiday data")
    updated_at: datetime


class HolidayImportResult(BaseModel):
    imported: int
    errors: list[dict[str, Any]]
    years: list[int]


class CalendarComputeIn(StrictInput):
    start: datetime
    minutes: float | None = Field(default=None, ge=0, le=10_000_000)
    end: datetime | None = None


class CalendarComputeOut(BaseModel):
    due_at: datetime | None = None
    business_minutes: float | None = None
    days: list[dict[str, Any]]


class PolicyConditions(StrictInput):
    type: list[TicketType] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    tier: list[Literal["vip", "regular"]] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    product_id: list[int] = Field(default_factory=list)
    region_id: list[int] = Field(default_factory=list)
    customer_id: list[int] = Field(default_factory=list)


class TargetIn(StrictInput):
    metric: TargetMetric
    minutes: float = Field(gt=0, le=525_600)
    clock: ClockName = "business"
    priorities: list[Priority] = Field(default_factory=list, description="empty = every priority")


class PolicyIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=100, ge=0, le=1_000_000)
    is_active: bool = True
    no_sla: bool = False
    conditions: PolicyConditions = Field(default_factory=PolicyConditions)
    calendar_id: int | None = None
    targets: list[TargetIn] = Field(default_factory=list, max_length=50)
    pause_statuses: list[PauseCategory] = ["pending"]  # noqa: RUF012 — pydantic copies defaults
    warn_ratio: float = Field(default=0.8, gt=0, lt=1)


class PolicyOut(PolicyIn):
    id: int
    created_at: datetime
    updated_at: datetime


class ActionIn(StrictInput):
    type: Literal["flag", "priority", "reassign", "notify", "webhook"]
    color: FlagColor | None = None  # flag
    set: Priority | None = None  # priority: set to
    raise_levels: int | None = Field(default=None, ge=1, le=3)  # priority: raise by
    to: Literal["team_supervisor", "regional_manager"] | int | None = None  # reassign
    roles: list[Literal["assignee", "team_supervisor", "regional_manager", "admin"]] = Field(default_factory=list)
    user_ids: list[int] = Field(default_factory=list)
    channel_ids: list[int] = Field(default_factory=list)  # webhook / robot channels

    @field_validator("user_ids", "channel_ids")
    @classmethod
    def _short(cls, v: list[int]) -> list[int]:
        if len(v) > 50:
            raise ValueError("at most 50 ids")
        return v


class LevelIn(StrictInput):
    after_minutes: float = Field(ge=0, le=525_600)
    actions: list[ActionIn] = Field(min_length=1, max_length=20)


class RuleConditions(PolicyConditions):
    team_id: list[int] = Field(default_factory=list)
    flag_color: list[FlagColor] = Field(default_factory=list)


class RuleIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=100, ge=0, le=1_000_000)
    is_active: bool = True
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    trigger: EscalationTrigger
    metric: TargetMetric | None = None
    levels: list[LevelIn] = Field(min_length=1, max_length=10)


class RuleOut(RuleIn):
    id: int
    created_at: datetime
    updated_at: datetime


class TargetOut(BaseModel):
    id: int
    metric: str
    cycle: int
    clock: str
    target_minutes: float
    state: str
    warned: bool
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    fulfilled_at: datetime | None
    breached_at: datetime | None
    used_minutes: float
    breach_minutes: float
    statutory_coverage: bool


class TicketSlaOut(BaseModel):
    ticket_id: int
    policy: dict[str, Any] | None
    targets: list[TargetOut]
    escalations: list[dict[str, Any]]
    warnings: list[str]


class PreviewIn(StrictInput):
    ticket_id: int | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    tier: Literal["vip", "regular"] | None = None
    product_id: int | None = None
    region_id: int | None = None
    customer_id: int | None = None
    created_at: datetime | None = None


class PreviewOut(BaseModel):
    policy: dict[str, Any] | None
    no_sla: bool
    targets: list[dict[str, Any]]
    warnings: list[str]


class NodeCheckOut(BaseModel):
    check: str
    metric: str
    threshold_minutes: float
    clock: str
    target_share: float
    met: int
    missed: int
    immature: int
    share: float | None
    passed: bool | None
