"""Customer API shapes; contact details are masked for display."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from servicelens.core.schemas import Ref, StrictInput
from servicelens.customers.models import CustomerTier


class ContactIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    wechat: str | None = Field(default=None, max_length=100)
    is_primary: bool = False


class CustomerCreate(StrictInput):
    name: str = Field(min_length=1, max_length=200)
    tier: CustomerTier = CustomerTier.regular
    region_id: int | None = None
    city: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    is_member: bool = False
    sales_owner_id: int | None = None
    external_id: str | None = Field(default=None, max_length=100)
    source: str = Field(default="api", max_length=40)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class CustomerPatch(StrictInput):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: CustomerTier | None = None
    region_id: int | None = None
    city: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    is_member: bool | None = None
    sales_owner_id: int | None = None


class ContactOut(BaseModel):
    id: int
    name: str
    phone_masked: str | None
    email_masked: str | None
    wechat_masked: str | None
    is_primary: bool


class CustomerSummary(BaseModel):
    id: int
    name: str
    tier: str
    city: str | None
    region: Ref | None
    is_member: bool
    phone_masked: str | None
    email_masked: str | None
    external_id: str | None
    created_at: datetime


class CustomerDetail(CustomerSummary):
    address: str | None
    lat: float | None
    lng: float | None
    sales_owner_id: int | None
    contacts: list[ContactOut]
    ticket_count: int
    open_ticket_count: int


class TimelineEntry(BaseModel):
    kind: str  # ticket | comment | event
    id: int
    at: datetime
    ticket_id: int
    ticket_subject: str
    ticket_type: str
    ticket_status: str
    event_kind: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    body: str | None = None
    public: bool | None = None
    author_kind: str | None = None
    data: dict[str, Any] | None = None
