"""Notifications: in-app inbox, per-user preferences and quiet hours, channels, deliveries.

``notify`` and ``broadcast`` are what other domains call (the escalation engine, SLA warnings,
survey reminders). They only write rows — the in-app notification, one ``Delivery`` per external
channel and its job in the same transaction — so nothing is lost if the process dies right after
the commit. The ``alerts.deliver`` job sends one delivery through its channel adapter, records the
attempt, and lets the job queue retry transient failures with exponential backoff; permanent
failures and exhausted retries end in the ``dead`` state (the dead-letter list of the admin UI).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy import String, and_, cast, func, literal, select, update
from sqlalchemy.orm import Session

from servicelens.alerts.channels import (
    BROADCAST_KINDS,
    TEST_BODY,
    TEST_TITLE,
    DeliveryResult,
    OutboundMessage,
    get_adapter,
    mask_config,
    mask_url,
    unmask_config,
)
from servicelens.alerts.models import Delivery, Notification, NotificationChannel, NotificationPreference
from servicelens.alerts.schemas import (
    ChannelCreate,
    ChannelOut,
    ChannelPatch,
    ChannelTestResult,
    DeliveryOut,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
)
from servicelens.config import get_settings
from servicelens.core.auth import Subject
from servicelens.core.clock import utcnow
from servicelens.core.db import Database
from servicelens.core.errors import ProblemError, conflict, not_found
from servicelens.core.jobs import RetryLater, enqueue, retry_job
from servicelens.core.models import Job
from servicelens.core.pagination import Page, check_page
from servicelens.org.models import User

log = logging.getLogger(__name__)

DELIVER_JOB = "alerts.deliver"
MAX_ATTEMPTS = 6
JOB_TIMEOUT_S = 60.0
RETRY_DELAYS_S = (30.0, 120.0, 600.0, 1800.0, 3600.0)
# Preference channel -> channel kind used to reach the person, and the user field holding the address.
PERSONAL_CHANNELS: dict[str, tuple[str, str]] = {
    "email": ("smtp", "email"),
    "sms": ("sms", "phone"),
    "wechat": ("wechat", "phone"),
}
DEFAULT_CHANNELS = ["in_app"]


def _invalid(field: str, reason: str, detail: str | None = None) -> ProblemError:
    return ProblemError(
        422,
        "validation_error",
        "Invalid request",
        detail or f"{field}: {reason}",
        [{"field": field, "reason": reason}],
    )


# --------------------------------------------------------------------------- channels


def validate_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validate a channel config for its kind; 422 naming each offending ``config.*`` field."""
    model = get_adapter(kind).config_model
    try:
        parsed: BaseModel = model.model_validate(config)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(["config", *(str(p) for p in e["loc"])]),
                "reason": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        raise ProblemError(422, "validation_error", "Invalid channel configuration", detail, errors) from None
    return parsed.model_dump(by_alias=True, mode="json")


def channel_out(channel: NotificationChannel) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        config=mask_config(channel.kind, channel.config),
        is_active=channel.is_active,
        created_at=channel.created_at,
    )


def list_channels(session: Session, page: int = 1, page_size: int = 50) -> Page[ChannelOut]:
    check_page(page, page_size)
    total = session.scalar(select(func.count()).select_from(NotificationChannel)) or 0
    rows = session.scalars(
        select(NotificationChannel).order_by(NotificationChannel.id).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page[ChannelOut](items=[channel_out(c) for c in rows], total=total, page=page, page_size=page_size)


def get_channel(session: Session, channel_id: int) -> NotificationChannel:
    channel = session.get(NotificationChannel, channel_id)
    if channel is None:
        raise not_found("channel", channel_id)
    return channel


def _check_name(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(NotificationChannel.id).where(NotificationChannel.name == name)
    if exclude_id is not None:
        stmt = stmt.where(NotificationChannel.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise conflict("alerts.channel_name_taken", f"A channel named '{name}' already exists", field="name")


def create_channel(session: Session, body: ChannelCreate) -> NotificationChannel:
    _check_name(session, body.name)
    channel = NotificationChannel(
        name=body.name,
        kind=body.kind,
        config=validate_config(body.kind, body.config),
        is_active=body.is_active,
        created_at=utcnow(),
    )
    session.add(channel)
    session.flush()
    return channel


def update_channel(session: Session, channel_id: int, body: ChannelPatch) -> NotificationChannel:
    channel = get_channel(session, channel_id)
    if body.name is not None and body.name != channel.name:
        _check_name(session, body.name, channel.id)
        channel.name = body.name
    if body.config is not None:
        merged = unmask_config(channel.kind, body.config, channel.config)
        channel.config = validate_config(channel.kind, merged)
    if body.is_active is not None:
        channel.is_active = body.is_active
    session.flush()
    return channel


def delete_channel(session: Session, channel_id: int) -> None:
    """Delete a channel; its delivery log stays (kind and target), unsent deliveries become dead."""
    channel = get_channel(session, channel_id)
    session.execute(
        update(Delivery)
        .where(Delivery.channel_id == channel.id, Delivery.status.in_(("pending", "failed")))
        .values(status="dead", last_error="Channel was deleted / 渠道已被删除")
    )
    session.execute(update(Delivery).where(Delivery.channel_id == channel.id).values(channel_id=None))
    session.delete(channel)
    session.flush()


def _channel_target(channel: NotificationChannel) -> str:
    url = channel.config.get("url")
    return mask_url(str(url))[:500] if url else channel.name


def test_channel(session: Session, subject: Subject, channel_id: int, to: str | None = None) -> ChannelTestResult:
    """Send a test message through a channel now (active or not) and log it as a delivery."""
    channel = get_channel(session, channel_id)
    target: str | None
    if channel.kind in BROADCAST_KINDS:
        target, recipient = _channel_target(channel), None
    else:
        if not to:
            user = session.get(User, subject.user_id)
            field = "email" if channel.kind == "smtp" else "phone"
            to = getattr(user, field, None) if user is not None else None
            if not to:
                raise _invalid(
                    "to",
                    "required",
                    f"Give a recipient ('to'): your account has no {field} "
                    f"/ 请填写收件人：您的账号没有{'邮箱' if field == 'email' else '手机号'}",
                )
        target = recipient = to
    now = utcnow()
    delivery = Delivery(
        channel_id=channel.id,
        channel_kind=channel.kind,
        target=target[:500],
        status="pending",
        attempts=0,
        payload={"kind": "test", "title": TEST_TITLE, "body": TEST_BODY, "ticket_id": None, "data": {}},
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    message = OutboundMessage(
        delivery_id=f"test-{delivery.id}",
        kind="test",
        title=TEST_TITLE,
        body=TEST_BODY,
        to=recipient,
        created_at=now,
    )
    result = _safe_send(channel.kind, message, dict(channel.config))
    delivery.attempts = 1
    delivery.status = "sent" if result.ok else "dead"
    delivery.sent_at = utcnow() if result.ok else None
    delivery.last_error = None if result.ok else result.error
    session.flush()
    return ChannelTestResult(
        ok=result.ok,
        status="sent" if result.ok else "dead",
        delivery_id=delivery.id,
        target=delivery.target,
        error=result.error,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
    )


# --------------------------------------------------------------------------- preferences and quiet hours


def _tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(quiet_start: str | None, quiet_end: str | None, now: datetime) -> datetime | None:
    """End of the quiet period containing ``now`` (UTC), or None when ``now`` is not quiet.

    Times are wall-clock in the organisation's timezone; ``22:00``–``08:00`` spans midnight.
    """
    if not quiet_start or not quiet_end or quiet_start == quiet_end:
        return None
    tz = _tz()
    local = now.astimezone(tz)
    start, end, t = _hhmm(quiet_start), _hhmm(quiet_end), local.time()
    quiet = start <= t < end if start < end else (t >= start or t < end)
    if not quiet:
        return None
    until = datetime.combine(local.date(), end, tzinfo=tz)
    if until <= local:
        until = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return until.astimezone(UTC)


def _available(user: User | None) -> list[str]:
    out = ["in_app"]
    if user is not None:
        out += [name for name, (_, attr) in PERSONAL_CHANNELS.items() if getattr(user, attr)]
    return out


def get_preferences(session: Session, user_id: int) -> PreferencesOut:
    pref = session.get(NotificationPreference, user_id)
    user = session.get(User, user_id)
    channels = list(pref.channels) if pref else list(DEFAULT_CHANNELS)
    start = pref.quiet_start if pref else None
    end = pref.quiet_end if pref else None
    return PreferencesOut(
        channels=channels,
        quiet_start=start,
        quiet_end=end,
        timezone=get_settings().timezone,
        quiet_now=quiet_until(start, end, utcnow()) is not None,
        available=_available(user),
    )


def set_preferences(session: Session, user_id: int, body: PreferencesIn) -> PreferencesOut:
    if (body.quiet_start is None) != (body.quiet_end is None):
        missing = "quiet_end" if body.quiet_end is None else "quiet_start"
        raise _invalid(
            missing, "required", "Give both quiet_start and quiet_end, or neither / 请同时填写开始和结束时间"
        )
    if body.quiet_start is not None and body.quiet_start == body.quiet_end:
        raise _invalid("quiet_end", "must differ from quiet_start", "Quiet hours need a start and a different end")
    user = session.get(User, user_id)
    available = _available(user)
    for name in body.channels:
        if name not in available:
            what = "email address / 邮箱" if name == "email" else "phone number / 手机号"
            raise _invalid(
                "channels",
                f"{name} needs a {what}",
                f"Your account has no {what}; ask an administrator to add it before choosing {name}",
            )
    pref = session.get(NotificationPreference, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id)
        session.add(pref)
    pref.channels = list(body.channels)
    pref.quiet_start = body.quiet_start
    pref.quiet_end = body.quiet_end
    session.flush()
    return get_preferences(session, user_id)


# --------------------------------------------------------------------------- notify and broadcast


def _payload(kind: str, title: str, body: str, ticket_id: int | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "title": title, "body": body, "ticket_id": ticket_id, "data": data}


def notify(
    session: Session,
    *,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    body: str,
    ticket_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> list[Notification]:
    """Notify users: an in-app notification each, plus email/SMS/WeChat deliveries per preference.

    Everything is written in the caller's transaction (outbox): the deliveries go out after the
    commit, through the job queue. During a user's quiet hours the external deliveries are
    scheduled for the end of the quiet period; the in-app notification is immediate.
    Inactive and unknown users are skipped. Returns the notifications (ids assigned).
    """
    ids = list(dict.fromkeys(int(u) for u in user_ids))
    if not ids:
        return []
    data = dict(data or {})
    title = title[:300]
    now = utcnow()
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids), User.is_active.is_(True))).all()}
    prefs = {
        p.user_id: p
        for p in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(list(users)))
        ).all()
    }
    notifications = [
        Notification(user_id=uid, kind=kind, title=title, body=body, ticket_id=ticket_id, data=data, created_at=now)
        for uid in ids
        if uid in users
    ]
    session.add_all(notifications)
    session.flush()

    wanted = {
        n.id: [c for c in (prefs[n.user_id].channels if n.user_id in prefs else []) if c in PERSONAL_CHANNELS]
        for n in notifications
    }
    if not any(wanted.values()):
        return notifications
    channels = _first_active_channels(session, {PERSONAL_CHANNELS[c][0] for cs in wanted.values() for c in cs})
    scheduled: list[tuple[Delivery, datetime | None]] = []
    for n in notifications:
        pref = prefs.get(n.user_id)
        run_at = quiet_until(pref.quiet_start, pref.quiet_end, now) if pref else None
        for name in wanted[n.id]:
            channel_kind, attr = PERSONAL_CHANNELS[name]
            channel = channels.get(channel_kind)
            address = getattr(users[n.user_id], attr) or ""
            payload = _payload(kind, title, body, ticket_id, data)
            if run_at is not None:
                payload["scheduled_for"] = run_at.isoformat()
            delivery = Delivery(
                notification_id=n.id,
                channel_id=channel.id if channel else None,
                channel_kind=channel_kind,
                target=address[:500],
                status="pending",
                attempts=0,
                payload=payload,
                created_at=now,
            )
            if channel is None:
                delivery.status = "dead"
                delivery.last_error = f"No active {channel_kind} channel is configured / 未配置可用的{name}渠道"
            elif not address:
                delivery.status = "dead"
                delivery.last_error = f"User has no {attr} / 用户没有{'邮箱' if attr == 'email' else '手机号'}"
            session.add(delivery)
            scheduled.append((delivery, run_at))
    session.flush()
    for delivery, run_at in scheduled:
        if delivery.status == "pending":
            _enqueue_delivery(session, delivery, run_at)
    return notifications


def _first_active_channels(session: Session, kinds: set[str]) -> dict[str, NotificationChannel]:
    out: dict[str, NotificationChannel] = {}
    rows = session.scalars(
        select(NotificationChannel)
        .where(NotificationChannel.kind.in_(kinds), NotificationChannel.is_active.is_(True))
        .order_by(NotificationChannel.id)
    ).all()
    for channel in rows:
        out.setdefault(channel.kind, channel)
    return out


def broadcast(
    session: Session,
    *,
    channel_ids: Iterable[int] | None = None,
    channel_kind: str | None = None,
    title: str,
    body: str,
    event: str | None = None,
    ticket_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> list[Delivery]:
    """Post a message to group channels (webhooks, WeCom and DingTalk robots).

    Pick the channels by id (``channel_ids``) or all active channels of one kind
    (``channel_kind`` = "webhook" | "wecom" | "dingtalk"). Inactive, unknown and person-addressed
    channels are skipped (logged). One delivery + job per channel, in the caller's transaction.
    ``event`` names the message for receivers (default: ``data["event"]`` or "broadcast");
    ``ticket_id`` defaults to ``data["ticket_id"]``.
    """
    if channel_ids is None and channel_kind is None:
        raise ValueError("broadcast needs channel_ids or channel_kind")
    if channel_kind is not None and channel_kind not in BROADCAST_KINDS:
        raise ValueError(f"channel_kind must be one of {sorted(BROADCAST_KINDS)}")
    stmt = select(NotificationChannel).where(NotificationChannel.is_active.is_(True))
    ids: list[int] = []
    if channel_ids is not None:
        ids = list(dict.fromkeys(int(i) for i in channel_ids))
        stmt = stmt.where(NotificationChannel.id.in_(ids))
    if channel_kind is not None:
        stmt = stmt.where(NotificationChannel.kind == channel_kind)
    now = utcnow()
    data = dict(data or {})
    event = event or str(data.get("event") or "broadcast")
    if ticket_id is None and isinstance(data.get("ticket_id"), int):
        ticket_id = data["ticket_id"]
    deliveries: list[Delivery] = []
    for channel in session.scalars(stmt.order_by(NotificationChannel.id)).all():
        if channel.kind not in BROADCAST_KINDS:
            log.warning("broadcast skips channel %s: kind %s is addressed to a person", channel.id, channel.kind)
            continue
        deliveries.append(
            Delivery(
                channel_id=channel.id,
                channel_kind=channel.kind,
                target=_channel_target(channel),
                status="pending",
                attempts=0,
                payload=_payload(event, title[:300], body, ticket_id, data),
                created_at=now,
            )
        )
    if channel_ids is not None and len(deliveries) < len(ids):
        log.warning("broadcast: some of channels %s are missing, inactive or not group channels", ids)
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        _enqueue_delivery(session, delivery)
    return deliveries


# --------------------------------------------------------------------------- the delivery job


def job_key(delivery_id: int) -> str:
    """The dedupe key of a delivery's job: one job per delivery, found again for retries."""
    return f"{DELIVER_JOB}:{delivery_id}"


def _enqueue_delivery(session: Session, delivery: Delivery, run_at: datetime | None = None) -> None:
    enqueue(
        session,
        DELIVER_JOB,
        {"delivery_id": delivery.id},
        run_at=run_at,
        dedupe_key=job_key(delivery.id),
        max_attempts=MAX_ATTEMPTS,
    )


def retry_delay_s(attempt: int, retry_after_s: float | None = None) -> float:
    """Wait before the retry that follows failed attempt ``attempt``: 30 s, 2 min, 10 min, 30 min,
    1 h (±20 % jitter), or the receiver's Retry-After when that is longer."""
    base = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S)) - 1] * random.uniform(0.8, 1.2)
    return max(base, retry_after_s or 0.0)


def _message(
    delivery_id: int,
    channel_kind: str,
    target: str,
    payload: dict[str, Any],
    notification_id: int | None,
    created_at: datetime | None,
) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=str(delivery_id),
        kind=str(payload.get("kind") or "notification"),
        title=str(payload.get("title") or ""),
        body=str(payload.get("body") or ""),
        to=target if channel_kind not in BROADCAST_KINDS else None,
        ticket_id=payload.get("ticket_id"),
        notification_id=notification_id,
        data=dict(payload.get("data") or {}),
        created_at=created_at,
    )


def _safe_send(kind: str, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult:
    try:
        return get_adapter(kind).send(message, config)
    except KeyError:
        return DeliveryResult.failed(f"No adapter for channel kind '{kind}' / 不支持的渠道类型")
    except Exception as exc:  # an adapter bug must not lose the delivery: retry, then dead-letter
        log.exception("channel adapter %s crashed", kind)
        return DeliveryResult.retry(f"Adapter error: {exc.__class__.__name__}: {exc}")


def deliver(db: Database, delivery_id: int, attempt: int, max_attempts: int = MAX_ATTEMPTS) -> str | None:
    """Send one delivery and record the attempt (the body of the ``alerts.deliver`` job).

    Returns the delivery's new status (None if it is gone). Idempotent: a ``sent`` delivery is
    never sent again. No transaction is held open during the network call (one read, one guarded
    UPDATE). A transient failure raises :class:`RetryLater` with this module's backoff so the queue
    runs the job again; on the last attempt, or for a permanent failure, the delivery is ``dead``
    (the queue marks its job dead too when the attempts ran out).
    """
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                Delivery.status,
                Delivery.channel_kind,
                Delivery.target,
                Delivery.payload,
                Delivery.notification_id,
                Delivery.created_at,
                NotificationChannel.id,
                NotificationChannel.kind,
                NotificationChannel.config,
                NotificationChannel.is_active,
            )
            .outerjoin(NotificationChannel, NotificationChannel.id == Delivery.channel_id)
            .where(Delivery.id == delivery_id)
        ).first()
    if row is None or row.status == "sent":
        return row.status if row is not None else None
    not_sent = and_(Delivery.id == delivery_id, Delivery.status != "sent")
    if row[6] is None or not row.is_active:
        error = "Channel was deleted / 渠道已被删除" if row[6] is None else "Channel is disabled / 渠道已停用"
        with db.engine.begin() as conn:
            conn.execute(update(Delivery).where(not_sent).values(status="dead", last_error=error))
        return "dead"
    message = _message(delivery_id, row.channel_kind, row.target, row.payload, row.notification_id, row.created_at)
    result = _safe_send(row.kind, message, dict(row.config))
    values: dict[str, Any] = {"attempts": Delivery.attempts + 1}
    if result.ok:
        values.update(status="sent", sent_at=utcnow(), last_error=None)
    else:
        give_up = result.permanent or attempt >= max_attempts
        note = (
            f" (gave up after {attempt} attempts / 已重试 {attempt} 次，放弃)" if result.retryable and give_up else ""
        )
        values.update(status="dead" if give_up else "failed", last_error=f"{result.error}{note}")
    with db.engine.begin() as conn:
        conn.execute(update(Delivery).where(not_sent).values(values))
    if result.retryable:
        raise RetryLater(result.error or "delivery failed", delay_s=retry_delay_s(attempt, result.retry_after_s))
    return str(values["status"])


def reconcile(db: Database, limit: int = 500) -> int:
    """Deliveries still pending/failed whose job is dead (timed out on its last attempt, or its
    handler crashed) become dead too, so the delivery log never shows a delivery that will not run."""
    key = literal(f"{DELIVER_JOB}:") + cast(Delivery.id, String)
    with db.session() as s:
        rows = s.execute(
            select(Delivery, Job.last_error)
            .join(Job, Job.dedupe_key == key)
            .where(Delivery.status.in_(("pending", "failed")), Job.status == "dead")
            .limit(limit)
        ).all()
        for delivery, job_error in rows:
            first = (job_error or "").splitlines()[0] if job_error else "job is dead"
            delivery.status = "dead"
            delivery.last_error = f"The delivery job gave up / 投递任务已放弃: {first}"[:2000]
    return len(rows)


# --------------------------------------------------------------------------- inbox


def notification_out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        ticket_id=n.ticket_id,
        data=n.data,
        created_at=n.created_at,
        read_at=n.read_at,
    )


def list_notifications(
    session: Session, user_id: int, unread: bool | None, page: int, page_size: int
) -> Page[NotificationOut]:
    check_page(page, page_size)
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Notification.id).subquery()))
    rows = session.scalars(stmt.order_by(Notification.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return Page[NotificationOut](
        items=[notification_out(n) for n in rows], total=total or 0, page=page, page_size=page_size
    )


def mark_read(session: Session, user_id: int, notification_id: int) -> NotificationOut:
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user_id:
        raise not_found("notification", notification_id)
    if n.read_at is None:
        n.read_at = utcnow()
        session.flush()
    return notification_out(n)


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0
    )


def latest_id(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user_id)) or 0)


def notifications_after(session: Session, user_id: int, after_id: int, limit: int = 100) -> list[NotificationOut]:
    rows = session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.id > after_id)
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    return [notification_out(n) for n in rows]


# --------------------------------------------------------------------------- delivery log


def _delivery_out(d: Delivery, channel_name: str | None) -> DeliveryOut:
    scheduled = d.payload.get("scheduled_for")
    return DeliveryOut(
        id=d.id,
        notification_id=d.notification_id,
        channel_id=d.channel_id,
        channel_name=channel_name,
        channel_kind=d.channel_kind,
        target=d.target,
        status=d.status,
        attempts=d.attempts,
        last_error=d.last_error,
        title=d.payload.get("title"),
        scheduled_for=datetime.fromisoformat(scheduled) if isinstance(scheduled, str) else None,
        created_at=d.created_at,
        sent_at=d.sent_at,
    )


def list_deliveries(
    session: Session,
    *,
    status: str | None = None,
    notification_id: int | None = None,
    channel_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[DeliveryOut]:
    check_page(page, page_size)
    stmt = select(Delivery, NotificationChannel.name).outerjoin(
        NotificationChannel, NotificationChannel.id == Delivery.channel_id
    )
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    if notification_id is not None:
        stmt = stmt.where(Delivery.notification_id == notification_id)
    if channel_id is not None:
        stmt = stmt.where(Delivery.channel_id == channel_id)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Delivery.id).subquery()))
    rows = session.execute(stmt.order_by(Delivery.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return Page[DeliveryOut](
        items=[_delivery_out(d, name) for d, name in rows], total=total or 0, page=page, page_size=page_size
    )


def get_delivery(session: Session, delivery_id: int) -> DeliveryOut:
    row = session.execute(
        select(Delivery, NotificationChannel.name)
        .outerjoin(NotificationChannel, NotificationChannel.id == Delivery.channel_id)
        .where(Delivery.id == delivery_id)
    ).first()
    if row is None:
        raise not_found("delivery", delivery_id)
    return _delivery_out(row[0], row[1])


def retry_delivery(session: Session, delivery_id: int) -> DeliveryOut:
    """Put a dead delivery back in the queue (the dead-letter "retry" button): a fresh series of attempts."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise not_found("delivery", delivery_id)
    if delivery.status != "dead":
        raise conflict(
            "alerts.delivery_not_dead",
            f"Only dead deliveries can be retried; delivery {delivery_id} is {delivery.status}",
            status=delivery.status,
        )
    if delivery.channel_id is None:
        raise conflict("alerts.delivery_channel_deleted", f"The channel of delivery {delivery_id} was deleted")
    job = session.scalar(select(Job).where(Job.dedupe_key == job_key(delivery.id)))
    delivery.status = "pending"
    delivery.last_error = None
    session.flush()
    if job is not None and job.status == "dead":
        retry_job(session, job.id)
    else:
        if job is not None:  # done (permanent failure) or purged later: a fresh job under the same key
            session.delete(job)
            session.flush()
        _enqueue_delivery(session, delivery)
    return get_delivery(session, delivery_id)
