"""Channel adapters against real loopback receivers: SMTP (aiosmtpd), webhooks, robots, SMS."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import time
from collections.abc import Callable
from email.policy import default as default_policy
from typing import Any

import pytest
from pydantic import ValidationError

from servicelens.alerts import channels
from servicelens.alerts.channels import (
    DeliveryResult,
    DingTalkRobotAdapter,
    OutboundMessage,
    ProviderChannelAdapter,
    ProviderConfig,
    SmtpAdapter,
    WebhookAdapter,
    WebhookConfig,
    WeComRobotAdapter,
    mask_config,
    unmask_config,
    validate_url,
    verify_webhook,
)
from servicelens.config import get_settings
from tests.alerts.conftest import Mailbox, Received, Receiver

SECRET = "whsec_0123456789abcdef"
MSG = OutboundMessage(
    delivery_id="d-42",
    kind="sla_breached",
    title="工单 #7 已超时 SLA breached",
    body="客户：上海宏达电器有限公司\nCustomer waited 2 h.",
    to="li.ming@hongda.example",
    ticket_id=7,
    data={"level": 1},
)


def test_smtp_sends_utf8_chinese_email(smtp_server: Mailbox) -> None:
    config = {"host": smtp_server.host, "port": smtp_server.port, "from": "servicelens <noreply@sl.example>"}
    result = SmtpAdapter().send(MSG, config)
    assert result.ok, result.error
    assert len(smtp_server.messages) == 1
    env = smtp_server.messages[0]
    assert env.mail_from == "noreply@sl.example"
    assert env.rcpt_tos == ["li.ming@hongda.example"]
    parsed = email.message_from_bytes(env.content, policy=default_policy)  # type: ignore[arg-type]
    assert parsed["Subject"] == f"{channels.EMAIL_SUBJECT_PREFIX} 工单 #7 已超时 SLA breached"
    assert parsed["To"] == "li.ming@hongda.example"
    assert parsed["X-Servicelens-Delivery"] == "d-42"
    part = parsed.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    text = part.get_content()
    assert "客户：上海宏达电器有限公司" in text and "Customer waited 2 h." in text
    assert "工单 Ticket #7" in text and "请勿直接回复" in text and "please do not reply" in text


def test_smtp_rejected_recipient_is_permanent_and_unreachable_server_retries(smtp_server: Mailbox) -> None:
    smtp_server.reject_rcpt["nobody@sl.example"] = "550 5.1.1 no such user"
    config = {"host": smtp_server.host, "port": smtp_server.port, "from": "noreply@sl.example"}
    msg = OutboundMessage(delivery_id="d-1", kind="k", title="t", body="b", to="nobody@sl.example")
    rejected = SmtpAdapter().send(msg, config)
    assert not rejected.ok and rejected.permanent and rejected.status_code == 550
    from tests.alerts.conftest import free_port

    down = SmtpAdapter().send(msg, {**config, "port": free_port(), "timeout_s": 2})
    assert down.retryable and "SMTP" in (down.error or "")
    no_address = SmtpAdapter().send(OutboundMessage("d", "k", "t", "b"), config)
    assert no_address.permanent


def _webhook(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "secret": SECRET, **extra}


def test_webhook_is_signed_with_hmac_and_timestamp(receiver: Callable[..., Receiver]) -> None:
    r = receiver()
    result = WebhookAdapter().send(MSG, _webhook(r.url + "/hook"))
    assert result.ok and result.status_code == 200
    (req,) = r.requests
    ts = req.headers["x-servicelens-timestamp"]
    assert ts.isdigit() and abs(int(ts) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-servicelens-signature"] == f"sha256={expected}"
    assert verify_webhook(SECRET, ts, req.body, req.headers["x-servicelens-signature"])
    assert not verify_webhook("wrong-secret", ts, req.body, req.headers["x-servicelens-signature"])
    assert not verify_webhook(SECRET, str(int(ts) - 3600), req.body, req.headers["x-servicelens-signature"])
    assert req.headers["x-servicelens-delivery"] == "d-42"
    assert req.headers["content-type"].startswith("application/json")
    doc = req.json()
    assert doc["id"] == "d-42" and doc["event"] == "sla_breached" and doc["ticket_id"] == 7
    assert doc["title"] == MSG.title and doc["data"] == {"level": 1}


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False), (410, False), (302, False)],
)
def test_webhook_status_classification(receiver: Callable[..., Receiver], status: int, retryable: bool) -> None:
    r = receiver(lambda i, req: (status, {"error": "nope"}, 0.0))
    result = WebhookAdapter().send(MSG, _webhook(r.url))
    assert not result.ok
    assert result.retryable is retryable and result.permanent is (not retryable)
    assert result.status_code == status and f"HTTP {status}" in (result.error or "")


def test_webhook_timeout_and_connection_refused_are_retryable(receiver: Callable[..., Receiver]) -> None:
    hanging = receiver(lambda i, req: (200, {}, 5.0))
    started = time.monotonic()
    result = WebhookAdapter().send(MSG, _webhook(hanging.url, timeout_s=0.3))
    assert time.monotonic() - started < 3
    assert result.retryable and "Timed out" in (result.error or "")
    from tests.alerts.conftest import free_port

    refused = WebhookAdapter().send(MSG, _webhook(f"http://127.0.0.1:{free_port()}/x"))
    assert refused.retryable and "Connection failed" in (refused.error or "")


def test_wecom_robot_markdown_and_errcode(receiver: Callable[..., Receiver]) -> None:
    replies = [{"errcode": 0, "errmsg": "ok"}, {"errcode": 93000, "errmsg": "invalid webhook url"}]
    r = receiver(lambda i, req: (200, replies[min(i, 1)], 0.0))
    url = r.url + "/cgi-bin/webhook/send?key=abc-123"
    assert WeComRobotAdapter().send(MSG, {"url": url}).ok
    req = r.requests[0]
    assert req.path == "/cgi-bin/webhook/send" and req.query == {"key": ["abc-123"]}
    doc = req.json()
    assert doc["msgtype"] == "markdown"
    content = doc["markdown"]["content"]
    assert content.startswith("**工单 #7 已超时 SLA breached**") and "上海宏达电器有限公司" in content
    failed = WeComRobotAdapter().send(MSG, {"url": url})
    assert failed.permanent and "93000" in (failed.error or "")


def test_wecom_rate_limit_is_retryable(receiver: Callable[..., Receiver]) -> None:
    r = receiver(lambda i, req: (200, {"errcode": 45009, "errmsg": "api freq out of limit"}, 0.0))
    assert WeComRobotAdapter().send(MSG, {"url": r.url + "/send?key=k"}).retryable


def test_dingtalk_signed_url_and_markdown(receiver: Callable[..., Receiver]) -> None:
    secret = "SECd0c4f1e2a3b4c5d6e7f8"

    def check(i: int, req: Received) -> tuple[int, Any, float]:
        ts = req.query["timestamp"][0]
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        ok = req.query["sign"][0] == expected and abs(int(ts) - time.time() * 1000) < 60_000
        return 200, ({"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 310000, "errmsg": "sign not match"}), 0.0

    r = receiver(check)
    config = {"url": r.url + "/robot/send?access_token=tok", "secret": secret, "at_mobiles": ["13800000000"]}
    result = DingTalkRobotAdapter().send(MSG, config)
    assert result.ok, result.error
    req = r.requests[0]
    assert req.query["access_token"] == ["tok"]
    doc = req.json()
    assert doc["msgtype"] == "markdown"
    assert doc["markdown"]["title"] == MSG.title
    assert doc["markdown"]["text"].startswith("### 工单 #7") and "@13800000000" in doc["markdown"]["text"]
    assert doc["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    wrong = DingTalkRobotAdapter().send(MSG, {**config, "secret": "SECwrong"})
    assert wrong.permanent and "310000" in (wrong.error or "")


def test_sms_and_wechat_through_http_provider(receiver: Callable[..., Receiver]) -> None:
    r = receiver()
    config = {"url": r.url + "/sms/send", "api_key": "key-123456", "template": "SMS_001"}
    msg = OutboundMessage("d-9", "sla_warning", "即将超时", "工单 #9 还剩 10 分钟", to="13812345678", ticket_id=9)
    assert ProviderChannelAdapter("sms").send(msg, config).ok
    assert ProviderChannelAdapter("wechat").send(msg, {**config, "api_key_header": "Authorization"}).ok
    sms, wx = r.requests
    assert sms.headers["x-api-key"] == "key-123456" and wx.headers["authorization"] == "key-123456"
    doc = sms.json()
    assert doc["to"] == "13812345678" and doc["template"] == "SMS_001" and doc["channel"] == "sms"
    assert doc["params"]["ticket_id"] == 9 and doc["params"]["title"] == "即将超时"
    assert doc["text"] == "【servicelens】即将超时：工单 #9 还剩 10 分钟"
    assert wx.json()["channel"] == "wechat"


def test_other_providers_plug_in_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str | None]] = []

    class Fake:
        def send(self, channel: str, message: OutboundMessage, config: ProviderConfig) -> DeliveryResult:
            seen.append((channel, message.to))
            return DeliveryResult.sent()

    monkeypatch.setitem(channels.PROVIDERS, "fake", Fake())
    result = ProviderChannelAdapter("sms").send(
        OutboundMessage("d", "k", "t", "b", to="138"), {"provider": "fake", "url": "https://sms.example/send"}
    )
    assert result.ok and seen == [("sms", "138")]
    with pytest.raises(ValidationError, match="Unknown provider"):
        ProviderConfig.model_validate({"provider": "nope", "url": "https://sms.example"})


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "https:///path",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "",
    ],
)
def test_url_validator_rejects_bad_urls(url: str) -> None:
    with pytest.raises(channels.UrlError):
        validate_url(url)


def test_url_validator_rejects_the_server_itself_but_allows_other_loopback_ports() -> None:
    port = get_settings().port
    for url in (
        f"http://127.0.0.1:{port}/api/v1/tickets",
        f"http://localhost:{port}/",
        f"http://[::1]:{port}/",
        f"http://0.0.0.0:{port}/",
        f"http://127.1.2.3:{port}/",
    ):
        with pytest.raises(channels.UrlError, match="this servicelens server itself"):
            validate_url(url)
    assert validate_url(f"http://127.0.0.1:{port + 1}/hook")
    assert validate_url("https://hooks.example.com/servicelens")
    assert validate_url(f"https://hooks.example.com:{port}/x")


def test_secrets_are_masked_and_kept_on_update() -> None:
    stored = WebhookConfig.model_validate({"url": "https://h.example/x", "secret": SECRET}).model_dump(by_alias=True)
    shown = mask_config("webhook", stored)
    assert shown["secret"] == "****cdef" and SECRET not in str(shown)
    assert unmask_config("webhook", shown, stored)["secret"] == SECRET
    assert unmask_config("webhook", {"secret": "new-secret-value"}, stored)["secret"] == "new-secret-value"
    robot = {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}
    masked = mask_config("wecom", robot)
    assert "693a91f6" not in masked["url"] and masked["url"].endswith("key=****5aaa")
    assert unmask_config("wecom", masked, robot) == robot
