"""Request and response shapes of the notification API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from servicelens.core.schemas import StrictInput

ChannelKind = Literal["smtp", "webhook", "wecom", "dingtalk", "sms", "wechat"]
PreferenceChannel = Literal["in_app", "email", "sms", "wechat"]
DeliveryStatus = Literal["pending", "sent", "failed", "dead"]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    ticket_id: int | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    count: int


class ReadAllResult(BaseModel):
    updated: int


class PreferencesIn(StrictInput):
    channels: list[PreferenceChannel] = Field(
        default_factory=lambda: list[PreferenceChannel](["in_app"]),
        max_length=4,
        description="in_app is always on (the inbox is the record of every notification).",
    )
    quiet_start: str | None = Field(default=None, pattern=HHMM, description="HH:MM, organisation time")
    quiet_end: str | None = Field(default=None, pattern=HHMM, description="HH:MM; may be overnight")

    @field_validator("channels")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(["in_app", *v]))


class PreferencesOut(BaseModel):
    channels: list[str]
    quiet_start: str | None
    quiet_end: str | None
    timezone: str
    quiet_now: bool
    available: list[str] = Field(description="Channels usable for this user right now")


class ChannelCreate(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    config: dict[str, Any]
    is_active: bool = True


class ChannelPatch(StrictInput):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    config: dict[str, Any] | None = Field(
        default=None, description="Merged over the stored config; masked secrets sent back are kept."
    )
    is_active: bool | None = None


class ChannelOut(BaseModel):
    id: int
    name: str
    kind: str
    config: dict[str, Any] = Field(description="Secrets are masked")
    is_active: bool
    created_at: datetime


class ChannelTestIn(StrictInput):
    to: str | None = Field(
        default=None,
        max_length=320,
        description="Recipient for email/SMS/WeChat channels; defaults to your own address or phone",
    )


class ChannelTestResult(BaseModel):
    ok: bool
    status: DeliveryStatus
    delivery_id: int
    target: str
    error: str | None
    status_code: int | None
    duration_ms: float


class DeliveryOut(BaseModel):
    id: int
    notification_id: int | None
    channel_id: int | None
    channel_name: str | None
    channel_kind: str
    target: str
    status: str
    attempts: int
    last_error: str | None
    title: str | None
    scheduled_for: datetime | None
    created_at: datetime
    sent_at: datetime | None
