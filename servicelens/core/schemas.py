"""Shared Pydantic bases and small reference shapes."""

from __future__ import annotations

from fastapi import Response
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


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise a response model once. Returning the model would make FastAPI validate it again
    against ``response_model`` (which stays on the route for the OpenAPI document)."""
    return Response(
        model.__pydantic_serializer__.to_json(model), status_code=status_code, media_type="application/json"
    )
