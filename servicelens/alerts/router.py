"""Notification endpoints: the user's inbox (+ live stream, preferences) and the admin channels/log."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from servicelens.alerts import service
from servicelens.alerts.schemas import (
    ChannelCreate,
    ChannelOut,
    ChannelPatch,
    ChannelTestIn,
    ChannelTestResult,
    DeliveryOut,
    DeliveryStatus,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    ReadAllResult,
    UnreadCount,
)
from servicelens.core.auth import AnySubject, Permission, Subject, require
from servicelens.core.db import Database
from servicelens.core.deps import DbSession, get_db
from servicelens.core.pagination import Page

# Live stream tuning (module attributes so tests can shorten them).
STREAM_POLL_S = 1.0
STREAM_HEARTBEAT_S = 15.0
STREAM_MAX_S = 600.0  # the browser's EventSource reconnects with Last-Event-ID
STREAM_RETRY_MS = 3000

notifications = APIRouter(prefix="/notifications", tags=["notifications"])
admin = APIRouter(prefix="/admin", tags=["notifications admin"])
Admin = Annotated[Subject, Depends(require(Permission.org_admin))]
Id = Annotated[int, Path(ge=1)]


@notifications.get("", response_model=Page[NotificationOut])
def list_notifications(
    session: DbSession,
    subject: AnySubject,
    unread: bool | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[NotificationOut]:
    """The caller's notifications, newest first; ``unread=true`` for the unread ones only."""
    return service.list_notifications(session, subject.user_id, unread, page, page_size)


@notifications.get("/unread-count", response_model=UnreadCount)
def unread_count(session: DbSession, subject: AnySubject) -> UnreadCount:
    return UnreadCount(count=service.unread_count(session, subject.user_id))


@notifications.post("/read-all", response_model=ReadAllResult)
def read_all(session: DbSession, subject: AnySubject) -> ReadAllResult:
    return ReadAllResult(updated=service.mark_all_read(session, subject.user_id))


@notifications.post("/{notification_id}/read", response_model=NotificationOut)
def read_one(notification_id: Id, session: DbSession, subject: AnySubject) -> NotificationOut:
    return service.mark_read(session, subject.user_id, notification_id)


@notifications.get("/preferences", response_model=PreferencesOut)
def get_preferences(session: DbSession, subject: AnySubject) -> PreferencesOut:
    return service.get_preferences(session, subject.user_id)


@notifications.put("/preferences", response_model=PreferencesOut)
def put_preferences(body: PreferencesIn, session: DbSession, subject: AnySubject) -> PreferencesOut:
    return service.set_preferences(session, subject.user_id, body)


def _sse(event: str | None, data: str, event_id: int | None = None) -> str:
    head = (f"id: {event_id}\n" if event_id is not None else "") + (f"event: {event}\n" if event else "")
    return head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


@notifications.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
)
async def stream(
    request: Request,
    subject: AnySubject,
    db: Annotated[Database, Depends(get_db)],
    last_event_id: Annotated[str | None, Header()] = None,
    since_id: Annotated[int | None, Query(ge=0, description="Like Last-Event-ID, for clients without headers")] = None,
) -> StreamingResponse:
    """Server-sent events: ``event: notification`` (JSON data, ``id`` = notification id) for each new
    in-app notification of the caller, heartbeat comments, reconnect with ``Last-Event-ID``.

    The stream polls the notifications table, so notifications created by any process appear.
    """
    user_id = subject.user_id
    start: int | None = since_id
    if last_event_id is not None and last_event_id.strip().isdigit():
        start = int(last_event_id.strip())

    def newest() -> int:
        with db.session() as s:
            return service.latest_id(s, user_id)

    def after(last: int) -> list[NotificationOut]:
        with db.session() as s:
            return service.notifications_after(s, user_id, last)

    async def events() -> AsyncIterator[str]:
        last = start if start is not None else await anyio.to_thread.run_sync(newest)
        yield f"retry: {STREAM_RETRY_MS}\n: connected\n\n"
        opened = beat = time.monotonic()
        while not await request.is_disconnected():
            for item in await anyio.to_thread.run_sync(after, last):
                last = item.id
                yield _sse("notification", json.dumps(item.model_dump(mode="json"), ensure_ascii=False), item.id)
            now = time.monotonic()
            if now - opened >= STREAM_MAX_S:
                break
            if now - beat >= STREAM_HEARTBEAT_S:
                beat = now
                yield ": ping\n\n"
            await anyio.sleep(STREAM_POLL_S)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# --------------------------------------------------------------------------- admin


@admin.get("/channels", response_model=Page[ChannelOut])
def list_channels(session: DbSession, _: Admin, page: int = 1, page_size: int = 50) -> Page[ChannelOut]:
    return service.list_channels(session, page, page_size)


@admin.post("/channels", response_model=ChannelOut, status_code=201)
def create_channel(body: ChannelCreate, session: DbSession, _: Admin) -> ChannelOut:
    """Add a channel. The config is validated for its kind (URLs: http(s) only, never this server);
    secrets are masked in every response."""
    return service.channel_out(service.create_channel(session, body))


@admin.get("/channels/{channel_id}", response_model=ChannelOut)
def get_channel(channel_id: Id, session: DbSession, _: Admin) -> ChannelOut:
    return service.channel_out(service.get_channel(session, channel_id))


@admin.patch("/channels/{channel_id}", response_model=ChannelOut)
def update_channel(channel_id: Id, body: ChannelPatch, session: DbSession, _: Admin) -> ChannelOut:
    return service.channel_out(service.update_channel(session, channel_id, body))


@admin.delete("/channels/{channel_id}", status_code=204, response_class=Response)
def delete_channel(channel_id: Id, session: DbSession, _: Admin) -> Response:
    service.delete_channel(session, channel_id)
    return Response(status_code=204)


@admin.post("/channels/{channel_id}/test", response_model=ChannelTestResult)
def test_channel(
    channel_id: Id, session: DbSession, subject: Admin, body: ChannelTestIn | None = None
) -> ChannelTestResult:
    """Send a bilingual test message through the channel now and return the delivery result."""
    return service.test_channel(session, subject, channel_id, body.to if body else None)


@admin.get("/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    session: DbSession,
    _: Admin,
    status: DeliveryStatus | None = None,
    notification_id: Annotated[int | None, Query(ge=1)] = None,
    channel_id: Annotated[int | None, Query(ge=1)] = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[DeliveryOut]:
    """The delivery log, newest first (``status=dead`` is the dead-letter list)."""
    return service.list_deliveries(
        session,
        status=status,
        notification_id=notification_id,
        channel_id=channel_id,
        page=page,
        page_size=page_size,
    )


@admin.get("/deliveries/{delivery_id}", response_model=DeliveryOut)
def get_delivery(delivery_id: Id, session: DbSession, _: Admin) -> DeliveryOut:
    return service.get_delivery(session, delivery_id)


@admin.post("/deliveries/{delivery_id}/retry", response_model=DeliveryOut)
def retry_delivery(delivery_id: Id, session: DbSession, _: Admin) -> DeliveryOut:
    """Queue a dead delivery again (a fresh series of attempts)."""
    return service.retry_delivery(session, delivery_id)
