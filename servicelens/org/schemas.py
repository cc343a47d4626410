"""Organisation and auth API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from servicelens.core.schemas import StrictInput
from servicelens.org.models import Role


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    team_id: int | None
    region_id: int | None
    locale: str
    is_active: bool
    skills: list[str]


class UserCreate(StrictInput):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-@]+$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)
    role: Role
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    team_id: int | None = None
    region_id: int | None = None
    locale: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    skills: list[str] = Field(default_factory=list, max_length=50)


class UserPatch(StrictInput):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    password: str | None = Field(default=None, min_length=8, max_length=200)
    role: Role | None = None
    email: str | None = Field(default=None, max_length=200)
    team_id: int | None = None
    region_id: int | None = None
    locale: str | None = Field(default=None, pattern=r"^(zh-CN|en)$")
    is_active: bool | None = None
    skills: list[str] | None = Field(default=None, max_length=50)


class LoginIn(StrictInput):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class TokenCreate(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read"], min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown only once")


class TeamOut(BaseModel):
    id: int
    name: str
    name_en: str
    region_id: int | None
    supervisor_id: int | None


class TeamIn(StrictInput):
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    region_id: int | None = None
    supervisor_id: int | None = None


class RegionOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    manager_id: int | None


class RegionIn(StrictInput):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    manager_id: int | None = None
