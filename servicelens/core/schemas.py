"""Shared Pydantic bases and small reference shapes."""

from __future__ import annotations

from typing import Any

import orjson
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


# orjson writes an aware UTC datetime as "…Z", exactly as pydantic does for the declared models.
_ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def json_response(
    payload: BaseModel | dict[str, Any] | list[Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise a response once. Returning a model would make FastAPI validate it again against
    ``response_model`` (which stays on the route for the OpenAPI document). Hot read paths build
    plain dicts in the shape of their response model and skip model construction altogether;
    tests validate those payloads against the model."""
    body = (
        payload.__pydantic_serializer__.to_json(payload)
        if isinstance(payload, BaseModel)
        else orjson.dumps(payload, option=_ORJSON_OPTIONS)
    )
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """A dict payload as plain JSON values (for storing a response, e.g. an idempotency record)."""
    result: dict[str, Any] = orjson.loads(orjson.dumps(payload, option=_ORJSON_OPTIONS))
    return result
