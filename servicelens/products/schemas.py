"""Product catalogue API shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from servicelens.core.schemas import StrictInput


class ComponentIn(StrictInput):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class ProductCreate(StrictInput):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    external_id: str | None = Field(default=None, max_length=100)
    source: str = Field(default="api", max_length=40)
    components: list[ComponentIn] = Field(default_factory=list, max_length=500)


class ComponentOut(BaseModel):
    id: int
    code: str
    name: str


class ProductOut(BaseModel):
    id: int
    code: str
    name: str
    category: str | None
    external_id: str | None
    components: list[ComponentOut]
