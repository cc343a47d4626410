"""Shared Pydantic bases and small reference shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictInput(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Ref(BaseModel):
    id: int
    name: str


class UserRef(BaseModel):
    id: int
    display_name: str


class CustomerRef(BaseModel):
    id: int
    name: str
    tier: str
