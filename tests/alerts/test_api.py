"""Notification API through the real app: inbox, preferences, admin channels, delivery log, auth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from servicelens.alerts import service
from servicelens.config import get_settings
from servicelens.core.db import Database
from servicelens.core.jobs import drain
from tests.alerts.conftest import Mailbox, Receiver
from tests.alerts.test_delivery import SECRET, set_contact
from tests.conftest import Org

CH = "/api/v1/admin/channels"


def make_channel(client: TestClient, kind: str, config: dict[str, Any], name: str = "ch") -> dict[str, Any]:
    r = client.post(CH, json={"name": name, "kind": kind, "config": config})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def notify(db: Database, user_id: int, n: int = 1, **kw: Any) -> list[int]:
    with db.session() as s:
        return [
            service.notify(s, user_ids=[user_id], kind="test", title=f"消息 {i}", body="正文", **kw)[0].id
            for i in range(n)
        ]


def test_inbox_list_read_unread_count(agent_client: TestClient, db: Database, org: Org) -> None:
    me, other = org.users["agent1"], org.users["agent2"]
    ids = notify(db, me, 3)
    (foreign,) = notify(db, other)
    r = agent_client.get("/api/v1/notifications")
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 3 and [n["id"] for n in page["items"]] == ids[::-1]  # newest first
    assert page["items"][0]["title"] == "消息 2" and page["items"][0]["read_at"] is None
    assert agent_client.get("/api/v1/notifications/unread-count").json() == {"count": 3}
    r = agent_client.post(f"/api/v1/notifications/{ids[0]}/read")
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert agent_client.get("/api/v1/notifications", params={"unread": "true"}).json()["total"] == 2
    assert agent_client.get("/api/v1/notifications", params={"unread": "false"}).json()["total"] == 1
    r = agent_client.post(f"/api/v1/notifications/{foreign}/read")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert agent_client.post("/api/v1/notifications/read-all").json() == {"updated": 2}
    assert agent_client.get("/api/v1/notifications/unread-count").json() == {"count": 0}
    assert (
        agent_client.get("/api/v1/notifications", params={"page_size": 1, "page": 2}).json()["items"][0]["id"] == ids[1]
    )
    assert agent_client.get("/api/v1/notifications", params={"page_size": 1000}).status_code == 422


def test_preferences_api(agent_client: TestClient, db: Database, org: Org) -> None:
    r = agent_client.get("/api/v1/notifications/preferences")
    assert r.status_code == 200
    assert r.json() | {"quiet_now": False} == {
        "channels": ["in_app"],
        "quiet_start": None,
        "quiet_end": None,
        "timezone": get_settings().timezone,
        "quiet_now": False,
        "available": ["in_app"],
    }
    bad = agent_client.put("/api/v1/notifications/preferences", json={"channels": ["email"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "channels"
    bad = agent_client.put("/api/v1/notifications/preferences", json={"channels": ["fax"]})
    assert bad.status_code == 422
    bad = agent_client.put("/api/v1/notifications/preferences", json={"quiet_start": "25:00", "quiet_end": "08:00"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quiet_start"
    bad = agent_client.put("/api/v1/notifications/preferences", json={"quiet_start": "22:00"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quiet_end"
    set_contact(db, org.users["agent1"], email="agent1@sl.example", phone="13900003333")
    r = agent_client.put(
        "/api/v1/notifications/preferences",
        json={"channels": ["email", "wechat"], "quiet_start": "22:00", "quiet_end": "07:30"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["channels"] == ["in_app", "email", "wechat"]
    assert r.json()["available"] == ["in_app", "email", "sms", "wechat"]
    assert agent_client.get("/api/v1/notifications/preferences").json()["quiet_end"] == "07:30"


def test_admin_endpoints_need_admin(agent_client: TestClient, org: Org) -> None:
    for method, path in [
        ("GET", CH),
        ("POST", CH),
        ("PATCH", f"{CH}/1"),
        ("DELETE", f"{CH}/1"),
        ("POST", f"{CH}/1/test"),
        ("GET", "/api/v1/admin/deliveries"),
        ("POST", "/api/v1/admin/deliveries/1/retry"),
    ]:
        r = agent_client.request(method, path, json={} if method in ("POST", "PATCH") else None)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["code"] == "auth.forbidden"


def test_unauthenticated_is_401(client: TestClient, org: Org) -> None:
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.get("/api/v1/notifications/stream").status_code == 401


BAD_CONFIGS: list[tuple[str, dict[str, Any], str, str]] = [
    ("webhook", {"url": "ftp://files.example.com/hook", "secret": SECRET}, "config.url", "http"),
    ("webhook", {"url": "file:///etc/passwd", "secret": SECRET}, "config.url", "http"),
    ("webhook", {"url": "http://127.0.0.1:{port}/api/v1/tickets", "secret": SECRET}, "config.url", "itself"),
    ("webhook", {"url": "http://localhost:{port}/", "secret": SECRET}, "config.url", "itself"),
    ("webhook", {"url": "https://hooks.example.com/x"}, "config.secret", "required"),
    ("webhook", {"url": "https://hooks.example.com/x", "secret": "short"}, "config.secret", "at least"),
    ("webhook", {"url": "https://hooks.example.com/x", "secret": SECRET, "extra": 1}, "config.extra", ""),
    ("wecom", {"url": "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, "config.url", "http"),
    ("dingtalk", {"url": "https:///robot/send"}, "config.url", "host"),
    ("smtp", {"host": "smtp.example.com"}, "config.from", "required"),
    ("smtp", {"host": "smtp.example.com", "from": "not-an-address"}, "config.from", "email"),
    ("smtp", {"host": "smtp.example.com", "from": "a@b.c", "ssl": True, "starttls": True}, "config", "both"),
    ("sms", {"url": "https://sms.example.com", "provider": "nope"}, "config.provider", "Unknown provider"),
]


def test_bad_channel_configs_are_rejected_at_save(admin_client: TestClient) -> None:
    port = get_settings().port
    for kind, raw, field, needle in BAD_CONFIGS:
        config = {k: v.format(port=port) if isinstance(v, str) else v for k, v in raw.items()}
        r = admin_client.post(CH, json={"name": "bad", "kind": kind, "config": config})
        assert r.status_code == 422, (kind, config, r.text)
        body = r.json()
        assert body["code"] == "validation_error"
        assert body["errors"][0]["field"] == field, (kind, config, body)
        assert needle in body["errors"][0]["reason"], (kind, config, body)
    r = admin_client.post(CH, json={"name": "x", "kind": "pager", "config": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert admin_client.get(CH).json()["total"] == 0


def test_channel_crud_masks_secrets(admin_client: TestClient, receiver: Callable[..., Receiver]) -> None:
    r = receiver()
    ch = make_channel(admin_client, "webhook", {"url": r.url + "/hook", "secret": SECRET}, name="CRM 回调")
    assert ch["config"]["secret"] == "****cdef" and ch["config"]["timeout_s"] == 10
    assert SECRET not in admin_client.get(CH).text
    assert (
        admin_client.post(CH, json={"name": "CRM 回调", "kind": "webhook", "config": ch["config"]}).status_code == 409
    )
    # Send the masked config back with another change: the stored secret is kept.
    p = admin_client.patch(f"{CH}/{ch['id']}", json={"config": {**ch["config"], "timeout_s": 5}, "is_active": False})
    assert p.status_code == 200 and p.json()["config"]["timeout_s"] == 5 and p.json()["is_active"] is False
    t = admin_client.post(f"{CH}/{ch['id']}/test")
    assert t.status_code == 200 and t.json()["ok"] is True, t.text  # inactive channels can be tested
    assert verify_stored_secret(r)
    bad = admin_client.patch(f"{CH}/{ch['id']}", json={"config": {"url": "gopher://x"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "config.url"
    assert admin_client.patch(f"{CH}/{ch['id']}", json={"kind": "smtp"}).status_code == 422
    robot = make_channel(admin_client, "wecom", {"url": r.url + "/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}, "群")
    assert "693a91f6" not in robot["config"]["url"]
    assert admin_client.get(f"{CH}/{robot['id']}").json()["config"]["url"].endswith("key=****5aaa")
    assert admin_client.delete(f"{CH}/{ch['id']}").status_code == 204
    assert admin_client.get(f"{CH}/{ch['id']}").status_code == 404
    assert admin_client.get(CH).json()["total"] == 1


def verify_stored_secret(r: Receiver) -> bool:
    from servicelens.alerts.channels import verify_webhook

    q = r.requests[-1]
    return verify_webhook(SECRET, q.headers["x-servicelens-timestamp"], q.body, q.headers["x-servicelens-signature"])


def test_channel_test_endpoint_reports_failures(
    admin_client: TestClient, receiver: Callable[..., Receiver], smtp_server: Mailbox
) -> None:
    hanging = receiver(lambda i, req: (200, {}, 5.0))
    ch = make_channel(admin_client, "webhook", {"url": hanging.url, "secret": SECRET, "timeout_s": 0.3})
    t = admin_client.post(f"{CH}/{ch['id']}/test").json()
    assert t["ok"] is False and t["status"] == "dead" and "Timed out" in t["error"]
    body = hanging.requests[0].json()
    assert body["event"] == "test" and "测试消息" in body["title"] and "Test message" in body["title"]
    mail = make_channel(
        admin_client, "smtp", {"host": smtp_server.host, "port": smtp_server.port, "from": "noreply@sl.example"}, "邮件"
    )
    assert admin_client.post(f"{CH}/{mail['id']}/test").status_code == 422  # admin has no email: say "to"
    t = admin_client.post(f"{CH}/{mail['id']}/test", json={"to": "ops@sl.example"}).json()
    assert t["ok"] is True and t["target"] == "ops@sl.example"
    assert smtp_server.messages[0].rcpt_tos == ["ops@sl.example"]
    log = admin_client.get("/api/v1/admin/deliveries").json()
    assert [(d["channel_name"], d["status"]) for d in log["items"]] == [("邮件", "sent"), ("ch", "dead")]


def test_delivery_log_filters_and_dead_letter_retry(
    admin_client: TestClient, db: Database, org: Org, receiver: Callable[..., Receiver]
) -> None:
    r = receiver(lambda i, req: (400 if i == 0 else 200, {}, 0.0))
    make_channel(admin_client, "sms", {"url": r.url + "/sms", "api_key": "key-12345678"}, "短信")
    user = org.users["supervisor1"]
    set_contact(db, user, phone="13900004444")
    with db.session() as s:
        from servicelens.alerts.schemas import PreferencesIn

        service.set_preferences(s, user, PreferencesIn(channels=["sms"]))
    (nid,) = notify(db, user)
    drain(db)
    log = admin_client.get("/api/v1/admin/deliveries", params={"notification_id": nid}).json()
    (d,) = log["items"]
    assert (d["status"], d["attempts"], d["channel_kind"], d["target"]) == ("dead", 1, "sms", "13900004444")
    assert "HTTP 400" in d["last_error"] and d["title"] == "消息 0"
    assert admin_client.get("/api/v1/admin/deliveries", params={"status": "sent"}).json()["total"] == 0
    assert admin_client.get("/api/v1/admin/deliveries", params={"status": "bogus"}).status_code == 422
    retried = admin_client.post(f"/api/v1/admin/deliveries/{d['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    drain(db)
    d = admin_client.get(f"/api/v1/admin/deliveries/{d['id']}").json()
    assert (d["status"], d["attempts"]) == ("sent", 2)
    again = admin_client.post(f"/api/v1/admin/deliveries/{d['id']}/retry")
    assert again.status_code == 409 and again.json()["code"] == "alerts.delivery_not_dead"
