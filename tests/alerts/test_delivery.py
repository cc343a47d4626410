"""notify/broadcast → deliveries → job queue → adapters, against loopback receivers.

Retries run through the real job queue: the clock is moved past each backoff and ``drain`` runs
the jobs that are due.
"""

from __future__ import annotations

import email
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from sqlalchemy import func, select

from servicelens.alerts import service
from servicelens.alerts.channels import verify_webhook
from servicelens.alerts.models import Delivery, Notification, NotificationChannel, NotificationPreference
from servicelens.alerts.schemas import PreferencesIn
from servicelens.core import clock
from servicelens.core.db import Database
from servicelens.core.jobs import drain
from servicelens.core.models import Job
from servicelens.org.models import User
from tests.alerts.conftest import Mailbox, Receiver
from tests.conftest import Org

SECRET = "whsec_0123456789abcdef"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai


def add_channel(db: Database, kind: str, config: dict[str, Any], name: str | None = None, active: bool = True) -> int:
    with db.session() as s:
        ch = NotificationChannel(
            name=name or f"{kind}-{config.get('url', config.get('host'))}",
            kind=kind,
            config=service.validate_config(kind, config),
            is_active=active,
            created_at=clock.utcnow(),
        )
        s.add(ch)
        s.flush()
        return ch.id


def set_contact(db: Database, user_id: int, email: str | None = None, phone: str | None = None) -> None:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        user.email, user.phone = email, phone


def deliveries(db: Database) -> list[Delivery]:
    with db.session() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)).all())


def run_retries(db: Database, rounds: int, step: timedelta = timedelta(hours=2)) -> None:
    """Drain, then move the clock past any backoff and drain again, ``rounds`` times."""
    now = clock.utcnow()
    for i in range(rounds):
        clock.freeze(now + step * i)
        drain(db)


def test_notify_writes_inbox_and_emails_per_preference(db: Database, org: Org, smtp_server: Mailbox) -> None:
    clock.freeze(T0)
    add_channel(db, "smtp", {"host": smtp_server.host, "port": smtp_server.port, "from": "noreply@sl.example"})
    agent, supervisor = org.users["agent1"], org.users["supervisor1"]
    set_contact(db, supervisor, email="zhang.wei@sl.example")
    with db.session() as s:
        service.set_preferences(s, supervisor, PreferencesIn(channels=["in_app", "email"]))
        notes = service.notify(
            s,
            user_ids=[agent, supervisor, supervisor, 999_999],
            kind="sla_breached",
            title="投诉工单超时 Complaint overdue",
            body="工单 #12 已超过 2 小时未处理。",
            data={"level": 1},
        )
        assert [n.user_id for n in notes] == [agent, supervisor]  # deduplicated, unknown user skipped
        assert all(n.id for n in notes)
    (d,) = deliveries(db)
    assert (d.channel_kind, d.target, d.status) == ("smtp", "zhang.wei@sl.example", "pending")
    assert smtp_server.messages == []  # nothing leaves before the commit + the worker
    assert drain(db) >= 1
    (d,) = deliveries(db)
    assert d.status == "sent" and d.attempts == 1 and d.sent_at == T0
    (env,) = smtp_server.messages
    assert env.rcpt_tos == ["zhang.wei@sl.example"]
    parsed = email.message_from_bytes(env.content, policy=default_policy)  # type: ignore[arg-type]
    assert "投诉工单超时 Complaint overdue" in parsed["Subject"]
    assert "工单 #12 已超过 2 小时未处理。" in parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert drain(db) == 0  # nothing left, nothing sent twice
    assert len(smtp_server.messages) == 1


def test_quiet_hours_delay_external_deliveries_not_inbox(
    db: Database, org: Org, receiver: Callable[..., Receiver]
) -> None:
    r = receiver()
    add_channel(db, "sms", {"url": r.url + "/sms", "api_key": "k-123456"})
    user = org.users["supervisor1"]
    set_contact(db, user, phone="13900001111")
    clock.freeze(datetime(2026, 3, 2, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai
    with db.session() as s:
        prefs = service.set_preferences(
            s, user, PreferencesIn(channels=["sms"], quiet_start="22:00", quiet_end="08:00")
        )
        assert prefs.quiet_now and prefs.channels == ["in_app", "sms"]
        service.notify(s, user_ids=[user], kind="escalation", title="升级", body="请处理")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 1  # inbox is immediate
    (d,) = deliveries(db)
    assert d.payload["scheduled_for"] == "2026-03-03T00:00:00+00:00"  # 08:00 Shanghai
    drain(db)
    assert r.requests == [] and deliveries(db)[0].status == "pending"
    clock.freeze(datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
    drain(db)
    assert r.requests == []
    clock.freeze(datetime(2026, 3, 3, 0, 0, 1, tzinfo=UTC))
    drain(db)
    assert len(r.requests) == 1 and deliveries(db)[0].status == "sent"
    assert r.requests[0].json()["to"] == "13900001111"


@pytest.mark.parametrize(
    ("start", "end", "local", "until_local"),
    [
        ("22:00", "08:00", "23:30", "next 08:00"),
        ("22:00", "08:00", "07:59", "08:00"),
        ("22:00", "08:00", "08:00", None),
        ("22:00", "08:00", "12:00", None),
        ("12:00", "14:00", "12:00", "14:00"),
        ("12:00", "14:00", "14:30", None),
        (None, None, "03:00", None),
    ],
)
def test_quiet_until(start: str | None, end: str | None, local: str, until_local: str | None) -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    h, m = map(int, local.split(":"))
    now = datetime(2026, 3, 2, h, m, tzinfo=tz)
    got = service.quiet_until(start, end, now.astimezone(UTC))
    if until_local is None:
        assert got is None
        return
    next_day = until_local.startswith("next ")
    hh, mm = map(int, until_local.removeprefix("next ").split(":"))
    expected = datetime(2026, 3, 3 if next_day else 2, hh, mm, tzinfo=tz)
    assert got == expected.astimezone(UTC)


def test_webhook_500_then_200_is_retried_and_sent(db: Database, org: Org, receiver: Callable[..., Receiver]) -> None:
    r = receiver(lambda i, req: (500 if i == 0 else 200, {}, 0.0))
    ch = add_channel(db, "webhook", {"url": r.url + "/hook", "secret": SECRET})
    clock.freeze(T0)
    with db.session() as s:
        (d,) = service.broadcast(
            s, channel_ids=[ch], title="升级通知", body="工单 #3", event="escalation", ticket_id=None
        )
    drain(db)
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("failed", 1) and "HTTP 500" in (row.last_error or "")
    run_retries(db, 3)
    (row,) = deliveries(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(r.requests) == 2
    assert {q.headers["x-servicelens-delivery"] for q in r.requests} == {str(d.id)}
    for q in r.requests:
        assert verify_webhook(
            SECRET, q.headers["x-servicelens-timestamp"], q.body, q.headers["x-servicelens-signature"]
        )
    assert r.requests[0].json()["event"] == "escalation"


def test_always_500_goes_dead_after_max_attempts(db: Database, org: Org, receiver: Callable[..., Receiver]) -> None:
    up = {"ok": False}
    r = receiver(lambda i, req: (200 if up["ok"] else 500, {"error": "down"}, 0.0))
    ch = add_channel(db, "webhook", {"url": r.url, "secret": SECRET})
    clock.freeze(T0)
    with db.session() as s:
        service.broadcast(s, channel_ids=[ch], title="t", body="b")
    run_retries(db, service.MAX_ATTEMPTS + 3, step=timedelta(days=1))
    (row,) = deliveries(db)
    assert row.status == "dead" and row.attempts == service.MAX_ATTEMPTS
    assert "gave up after" in (row.last_error or "")
    assert len(r.requests) == service.MAX_ATTEMPTS
    with db.session() as s:
        (job,) = s.scalars(select(Job)).all()
        assert job.status == "dead" and job.dedupe_key == service.job_key(row.id)
    # Dead-letter retry: the same job is re-queued with fresh attempts; the receiver is back up.
    up["ok"] = True
    with db.session() as s:
        assert service.retry_delivery(s, row.id).status == "pending"
    drain(db)
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("sent", service.MAX_ATTEMPTS + 1)
    with db.session() as s:
        (job,) = s.scalars(select(Job)).all()
        assert job.status == "done"


def test_permanent_4xx_is_dead_at_once(db: Database, org: Org, receiver: Callable[..., Receiver]) -> None:
    r = receiver(lambda i, req: (404, {"error": "no such hook"}, 0.0))
    ch = add_channel(db, "webhook", {"url": r.url, "secret": SECRET})
    with db.session() as s:
        service.broadcast(s, channel_ids=[ch], title="t", body="b")
    run_retries(db, 3, step=timedelta(days=1))
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("dead", 1) and "HTTP 404" in (row.last_error or "")
    assert len(r.requests) == 1


def test_hanging_receiver_times_out_and_is_retried(db: Database, org: Org, receiver: Callable[..., Receiver]) -> None:
    r = receiver(lambda i, req: (200, {}, 5.0 if i == 0 else 0.0))
    ch = add_channel(db, "webhook", {"url": r.url, "secret": SECRET, "timeout_s": 0.3})
    clock.freeze(T0)
    with db.session() as s:
        service.broadcast(s, channel_ids=[ch], title="t", body="b")
    drain(db)
    (row,) = deliveries(db)
    assert row.status == "failed" and "Timed out" in (row.last_error or "")
    run_retries(db, 3)
    (row,) = deliveries(db)
    assert (row.status, row.attempts) == ("sent", 2)


def test_robots_by_channel_kind(db: Database, org: Org, receiver: Callable[..., Receiver]) -> None:
    r = receiver(lambda i, req: (200, {"errcode": 0, "errmsg": "ok"}, 0.0))
    add_channel(db, "wecom", {"url": r.url + "/wecom?key=k1"}, name="华东售后群")
    add_channel(db, "wecom", {"url": r.url + "/wecom?key=k2"}, name="停用的群", active=False)
    add_channel(db, "dingtalk", {"url": r.url + "/ding?access_token=t", "secret": "SECabcdef"}, name="钉钉群")
    with db.session() as s:
        made = service.broadcast(s, channel_kind="wecom", title="投诉升级", body="请主管处理")
        assert len(made) == 1 and made[0].target.endswith("key=****")
        assert len(service.broadcast(s, channel_kind="dingtalk", title="投诉升级", body="请主管处理")) == 1
        with pytest.raises(ValueError):
            service.broadcast(s, channel_kind="smtp", title="x", body="y")
    drain(db)
    assert [q.path for q in r.requests] == ["/wecom", "/ding"]
    assert r.requests[0].json()["markdown"]["content"].startswith("**投诉升级**")
    assert "sign" in r.requests[1].query
    assert {d.status for d in deliveries(db)} == {"sent"}


def test_delivery_is_idempotent_and_respects_disabled_channels(
    db: Database, org: Org, receiver: Callable[..., Receiver]
) -> None:
    r = receiver()
    ch = add_channel(db, "webhook", {"url": r.url, "secret": SECRET})
    with db.session() as s:
        (d,) = service.broadcast(s, channel_ids=[ch], title="t", body="b")
    drain(db)
    service.deliver(db, d.id, attempt=1)  # a duplicate run of the job (at-least-once queue)
    assert len(r.requests) == 1
    with db.session() as s:
        (d2,) = service.broadcast(s, channel_ids=[ch], title="t2", body="b2")
        s.get(NotificationChannel, ch).is_active = False  # type: ignore[union-attr]
    drain(db)
    row = deliveries(db)[-1]
    assert row.id == d2.id and row.status == "dead" and "disabled" in (row.last_error or "")
    assert len(r.requests) == 1


def test_missing_channel_or_address_is_logged_dead(db: Database, org: Org) -> None:
    user = org.users["agent1"]
    set_contact(db, user, email="a@sl.example", phone="13900002222")
    with db.session() as s:
        service.set_preferences(s, user, PreferencesIn(channels=["email", "sms"]))
        service.notify(s, user_ids=[user], kind="k", title="t", body="b")
    rows = deliveries(db)
    assert [(d.channel_kind, d.status) for d in rows] == [("smtp", "dead"), ("sms", "dead")]
    assert all("No active" in (d.last_error or "") for d in rows)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_preferences_validation(db: Database, org: Org) -> None:
    from servicelens.core.errors import ProblemError

    user = org.users["agent1"]
    with db.session() as s:
        assert service.get_preferences(s, user).channels == ["in_app"]
        with pytest.raises(ProblemError) as e:
            service.set_preferences(s, user, PreferencesIn(channels=["email"]))
        assert e.value.status == 422 and e.value.errors[0]["field"] == "channels"
        with pytest.raises(ProblemError):
            service.set_preferences(s, user, PreferencesIn(quiet_start="22:00"))
        with pytest.raises(ProblemError):
            service.set_preferences(s, user, PreferencesIn(quiet_start="22:00", quiet_end="22:00"))
        out = service.set_preferences(s, user, PreferencesIn(channels=[], quiet_start="12:00", quiet_end="13:30"))
        assert out.channels == ["in_app"] and (out.quiet_start, out.quiet_end) == ("12:00", "13:30")
        assert s.get(NotificationPreference, user) is not None


def test_retry_schedule_is_exponential_and_honours_retry_after() -> None:
    delays = [service.retry_delay_s(n) for n in range(1, 7)]
    assert 24 <= delays[0] <= 36 and 2880 <= delays[-1] <= 4320
    assert all(a < b for a, b in itertools.pairwise(delays[:5]))
    assert service.retry_delay_s(1, retry_after_s=300) == 300


def test_reconcile_marks_deliveries_of_dead_jobs_dead(db: Database, org: Org) -> None:
    ch = add_channel(db, "webhook", {"url": "http://127.0.0.1:9/unused", "secret": SECRET})
    with db.session() as s:
        d1, d2 = (service.broadcast(s, channel_ids=[ch], title=t, body="b")[0] for t in ("a", "b"))
    with db.session() as s:
        # The worker running the last attempt of d1's job timed out: the queue gave up on it.
        job = s.scalar(select(Job).where(Job.dedupe_key == service.job_key(d1.id)))
        assert job is not None
        job.status, job.last_error = "dead", "TimeoutError: the handler ran longer than 60.0 s\n..."
        s.get(Delivery, d1.id).status = "failed"  # type: ignore[union-attr]
    assert service.reconcile(db) == 1
    rows = {d.id: d for d in deliveries(db)}
    assert rows[d1.id].status == "dead" and "TimeoutError" in (rows[d1.id].last_error or "")
    assert rows[d2.id].status == "pending"
    assert service.reconcile(db) == 0


def test_deleting_a_channel_keeps_the_log_and_kills_unsent_deliveries(
    db: Database, org: Org, receiver: Callable[..., Receiver]
) -> None:
    r = receiver()
    ch = add_channel(db, "webhook", {"url": r.url, "secret": SECRET})
    with db.session() as s:
        service.broadcast(s, channel_ids=[ch], title="sent", body="b")
    drain(db)
    with db.session() as s:
        service.broadcast(s, channel_ids=[ch], title="queued", body="b")
        service.delete_channel(s, ch)
    drain(db)
    rows = deliveries(db)
    assert [(d.status, d.channel_id, d.channel_kind) for d in rows] == [
        ("sent", None, "webhook"),
        ("dead", None, "webhook"),
    ]
    assert "deleted" in (rows[1].last_error or "") and len(r.requests) == 1
