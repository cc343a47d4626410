"""Channel adapters: SMTP email, signed webhooks, WeCom and DingTalk group robots, SMS/WeChat providers.

An adapter turns one :class:`OutboundMessage` into one network call and reports a
:class:`DeliveryResult`; it never raises for a delivery problem. The result says whether the
failure is worth retrying (timeouts, connection errors, 5xx, 408/429, robot rate limits) or
permanent (other 4xx, rejected recipients, bad configuration) so the job handler can either let
the queue retry with backoff or move the delivery to the dead-letter state at once.

Channel configuration is validated per kind by the ``config_model`` of each adapter (the same
models are used at save time by the admin API and at send time here). Secret fields are listed
in ``SECRET_FIELDS`` / ``SECRET_URL_FIELDS`` so the API can mask them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from servicelens import __version__
from servicelens.config import get_settings

USER_AGENT = f"servicelens/{__version__}"
EMAIL_SUBJECT_PREFIX = "[servicelens 通知 | Notification]"
EMAIL_FOOTER = (
    "此邮件由 servicelens 服务质量监控与管理平台自动发送，请勿直接回复。\n"
    "Sent automatically by servicelens (service-quality monitoring); please do not reply."
)
TEST_TITLE = "servicelens 测试消息 | Test message"
TEST_BODY = (
    "这是一条测试消息：如果您看到它，说明该通知渠道配置正确。\n"
    "This is a test message: if you can read it, the notification channel works."
)
MAX_ERROR_CHARS = 500


# --------------------------------------------------------------------------- messages and results


@dataclass(frozen=True)
class OutboundMessage:
    """What to send. ``delivery_id`` is stable across retries (receivers dedupe on it)."""

    delivery_id: str
    kind: str
    title: str
    body: str
    to: str | None = None  # email address / phone number / WeChat account for person-addressed kinds
    ticket_id: int | None = None
    notification_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON document a webhook receiver gets."""
        return {
            "id": self.delivery_id,
            "event": self.kind,
            "title": self.title,
            "body": self.body,
            "ticket_id": self.ticket_id,
            "notification_id": self.notification_id,
            "data": self.data,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one attempt. ``permanent`` failures are not retried."""

    ok: bool
    permanent: bool = False
    error: str | None = None
    status_code: int | None = None
    duration_ms: float = 0.0
    retry_after_s: float | None = None

    @property
    def retryable(self) -> bool:
        return not self.ok and not self.permanent

    @classmethod
    def sent(cls, status_code: int | None = None) -> DeliveryResult:
        return cls(ok=True, status_code=status_code)

    @classmethod
    def retry(cls, error: str, status_code: int | None = None, retry_after_s: float | None = None) -> DeliveryResult:
        return cls(ok=False, error=error[:MAX_ERROR_CHARS], status_code=status_code, retry_after_s=retry_after_s)

    @classmethod
    def failed(cls, error: str, status_code: int | None = None) -> DeliveryResult:
        """A permanent failure: retrying the same request cannot succeed."""
        return cls(ok=False, permanent=True, error=error[:MAX_ERROR_CHARS], status_code=status_code)


@runtime_checkable
class ChannelAdapter(Protocol):
    """Sends one message over one kind of channel. Must not raise for delivery problems."""

    kind: str
    config_model: type[BaseModel]

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult: ...


# --------------------------------------------------------------------------- URL validation


class UrlError(ValueError):
    """A URL that may not be used as a delivery target."""


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def _is_local_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def validate_url(url: str) -> str:
    """Check a delivery URL: http(s) only, a host, and not this servicelens server itself.

    Loopback receivers on *other* ports are allowed (local relays, tests); a URL that would make
    the server call its own API (same loopback port, or the configured host:port) is not.
    """
    url = url.strip()
    if not url:
        raise UrlError("URL is required / 必须填写网址")
    if len(url) > 2000:
        raise UrlError("URL is longer than 2000 characters / 网址超过 2000 个字符")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UrlError("URL must not contain spaces or control characters / 网址不能包含空格或控制字符")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"URL is malformed ({exc}) / 网址格式错误") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlError(
            f"URL must start with http:// or https://, not '{scheme or '(none)'}' / 网址必须以 http:// 或 https:// 开头"
        )
    host = (parts.hostname or "").strip()
    if not host:
        raise UrlError("URL has no host name / 网址缺少主机名")
    if port is None:
        port = 443 if scheme == "https" else 80
    settings = get_settings()
    own_host = settings.host.lower().strip("[]")
    same_as_bind = host.lower() == own_host or (_is_local_host(own_host) and _is_local_host(host))
    if port == settings.port and (same_as_bind or _is_local_host(host) or host.lower() == socket.gethostname().lower()):
        raise UrlError(
            f"URL points at this servicelens server itself ({host}:{port}); use the receiver's address "
            f"/ 网址指向了 servicelens 服务器自身，请填写接收方的地址"
        )
    return url


# --------------------------------------------------------------------------- configuration models


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    secret_fields: ClassVar[tuple[str, ...]] = ()
    secret_url_fields: ClassVar[tuple[str, ...]] = ()


class SmtpConfig(ChannelConfig):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=25, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=500)
    starttls: bool = False
    ssl: bool = False
    from_: str = Field(alias="from", min_length=3, max_length=320)
    helo: str = Field(default="localhost", min_length=1, max_length=255)
    timeout_s: float = Field(default=15.0, gt=0, le=30)

    secret_fields: ClassVar[tuple[str, ...]] = ("password",)

    @field_validator("from_")
    @classmethod
    def _from(cls, v: str) -> str:
        if "@" not in parseaddr(v)[1]:
            raise PydanticCustomError("email_invalid", "'from' must be an email address / 发件人必须是邮箱地址")
        return v

    @model_validator(mode="after")
    def _tls(self) -> SmtpConfig:
        if self.starttls and self.ssl:
            raise PydanticCustomError(
                "tls_conflict", "Choose either starttls or ssl, not both / starttls 与 ssl 只能选一个"
            )
        if self.username and not self.password:
            raise PydanticCustomError(
                "password_missing", "password is required with username / 填写用户名时必须填写密码"
            )
        return self


class UrlConfig(ChannelConfig):
    """Configs that post to a URL: validated with :func:`validate_url`."""

    url: str = Field(max_length=2000)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            return validate_url(v)
        except UrlError as exc:
            raise PydanticCustomError("url_invalid", str(exc)) from exc


class WebhookConfig(UrlConfig):
    secret: str = Field(min_length=8, max_length=500)
    timeout_s: float = Field(default=10.0, gt=0, le=30)

    secret_fields: ClassVar[tuple[str, ...]] = ("secret",)


class WeComConfig(UrlConfig):
    """WeCom (企业微信) group robot: the robot's webhook URL carries its key."""

    timeout_s: float = Field(default=10.0, gt=0, le=30)

    secret_url_fields: ClassVar[tuple[str, ...]] = ("url",)


class DingTalkConfig(UrlConfig):
    """DingTalk (钉钉) group robot: URL with access_token; ``secret`` enables the signed-URL mode."""

    secret: str | None = Field(default=None, max_length=500)
    at_mobiles: list[str] = Field(default_factory=list, max_length=50)
    at_all: bool = False
    timeout_s: float = Field(default=10.0, gt=0, le=30)

    secret_fields: ClassVar[tuple[str, ...]] = ("secret",)
    secret_url_fields: ClassVar[tuple[str, ...]] = ("url",)


class ProviderConfig(UrlConfig):
    """SMS or WeChat template messages through a provider (``provider`` picks the implementation)."""

    provider: str = Field(default="http", min_length=1, max_length=40)
    api_key: str | None = Field(default=None, max_length=500)
    api_key_header: str = Field(default="X-Api-Key", pattern=r"^[A-Za-z0-9-]{1,60}$")
    template: str | None = Field(default=None, max_length=100)
    timeout_s: float = Field(default=10.0, gt=0, le=30)

    secret_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    secret_url_fields: ClassVar[tuple[str, ...]] = ("url",)

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str) -> str:
        if v not in PROVIDERS:
            raise PydanticCustomError(
                "provider_unknown",
                "Unknown provider '{name}'; available: {available} / 未知的服务商",
                {"name": v, "available": ", ".join(sorted(PROVIDERS))},
            )
        return v


# --------------------------------------------------------------------------- HTTP plumbing

_client_lock = threading.Lock()
_client: httpx.Client | None = None


def http_transport() -> httpx.HTTPTransport:
    """Pooled transport with TCP_NODELAY: a request's headers and body go out as separate writes,
    and without it Nagle + delayed ACK add ~40 ms to every keep-alive request."""
    return httpx.HTTPTransport(
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


def http_client() -> httpx.Client:
    """One pooled client per process (thread-safe); redirects are never followed."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(
                    follow_redirects=False,
                    headers={"User-Agent": USER_AGENT},
                    transport=http_transport(),
                )
    return _client


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(min(int(value.strip()), 3600))
    return None


def classify_status(response: httpx.Response) -> DeliveryResult:
    """2xx sent; 408/429/5xx retry; other 3xx/4xx permanent (the request itself is wrong)."""
    code = response.status_code
    if 200 <= code < 300:
        return DeliveryResult.sent(code)
    detail = _excerpt(response.text) if response.content else ""
    message = f"HTTP {code} from receiver / 接收方返回 HTTP {code}" + (f": {detail}" if detail else "")
    if code in (408, 429) or code >= 500:
        return DeliveryResult.retry(message, code, _retry_after(response))
    if 300 <= code < 400:
        message += " (redirects are not followed; update the URL / 不跟随重定向，请更新网址)"
    return DeliveryResult.failed(message, code)


def post_json(
    client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float
) -> tuple[httpx.Response | None, DeliveryResult]:
    """POST raw JSON bytes; transport problems become retryable results."""
    started = time.perf_counter()
    try:
        response = client.post(
            url,
            content=body,
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
            timeout=timeout_s,
        )
    except httpx.TimeoutException as exc:
        return None, DeliveryResult.retry(f"Timed out after {timeout_s:g}s ({exc.__class__.__name__}) / 等待接收方超时")
    except httpx.InvalidURL as exc:
        return None, DeliveryResult.failed(f"Invalid URL: {exc} / 网址无效")
    except (httpx.TransportError, OSError) as exc:
        return None, DeliveryResult.retry(
            f"Connection failed ({exc.__class__.__name__}: {_excerpt(str(exc))}) / 连接接收方失败"
        )
    result = classify_status(response)
    elapsed = (time.perf_counter() - started) * 1000
    return response, DeliveryResult(**{**result.__dict__, "duration_ms": round(elapsed, 1)})


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _config(model: type[ChannelConfig], config: Mapping[str, Any]) -> ChannelConfig | DeliveryResult:
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        return DeliveryResult.failed(f"Channel configuration is invalid / 渠道配置无效: {errs}")


def _with_duration(result: DeliveryResult, started: float) -> DeliveryResult:
    return DeliveryResult(**{**result.__dict__, "duration_ms": round((time.perf_counter() - started) * 1000, 1)})


# --------------------------------------------------------------------------- SMTP


class SmtpAdapter:
    """Plain-text UTF-8 email (Chinese and English) over SMTP, optionally STARTTLS/SSL and login."""

    kind = "smtp"
    config_model: type[BaseModel] = SmtpConfig

    def build(self, message: OutboundMessage, cfg: SmtpConfig) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"{EMAIL_SUBJECT_PREFIX} {message.title}"
        msg["From"] = cfg.from_
        msg["To"] = message.to or ""
        msg["Date"] = formatdate(localtime=False)
        domain = parseaddr(cfg.from_)[1].rpartition("@")[2] or "servicelens.local"
        msg["Message-ID"] = make_msgid(idstring=message.delivery_id, domain=domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Servicelens-Delivery"] = message.delivery_id
        msg["X-Servicelens-Event"] = message.kind
        text = message.body.rstrip()
        if message.ticket_id is not None:
            text += f"\n\n工单 Ticket #{message.ticket_id}"
        msg.set_content(f"{text}\n\n--\n{EMAIL_FOOTER}\n", charset="utf-8")
        return msg

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult:
        cfg = _config(SmtpConfig, config)
        if isinstance(cfg, DeliveryResult):
            return cfg
        assert isinstance(cfg, SmtpConfig)
        if not message.to or "@" not in message.to:
            return DeliveryResult.failed("No email address for the recipient / 收件人没有邮箱地址")
        msg = self.build(message, cfg)
        started = time.perf_counter()
        try:
            smtp_cls = smtplib.SMTP_SSL if cfg.ssl else smtplib.SMTP
            with smtp_cls(cfg.host, cfg.port, local_hostname=cfg.helo, timeout=cfg.timeout_s) as smtp:
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.username and cfg.password:
                    smtp.login(cfg.username, cfg.password)
                refused = smtp.send_message(msg, from_addr=parseaddr(cfg.from_)[1], to_addrs=[message.to])
            if refused:
                code, reason = next(iter(refused.values()))
                return self._smtp_code(code, reason, started)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            return self._smtp_code(code, reason, started)
        except smtplib.SMTPResponseException as exc:
            return self._smtp_code(exc.smtp_code, exc.smtp_error, started)
        except smtplib.SMTPNotSupportedError as exc:
            return _with_duration(
                DeliveryResult.failed(f"SMTP server does not support this: {exc} / 邮件服务器不支持"), started
            )
        except TimeoutError:
            return _with_duration(
                DeliveryResult.retry(f"SMTP timed out after {cfg.timeout_s:g}s / 邮件服务器超时"), started
            )
        except (OSError, smtplib.SMTPException) as exc:
            return _with_duration(
                DeliveryResult.retry(
                    f"SMTP connection failed ({exc.__class__.__name__}: {_excerpt(str(exc))}) / 连接邮件服务器失败"
                ),
                started,
            )
        return _with_duration(DeliveryResult.sent(250), started)

    @staticmethod
    def _smtp_code(code: int, reason: bytes | str, started: float) -> DeliveryResult:
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        message = f"SMTP {code}: {_excerpt(text)} / 邮件服务器拒绝"
        result = DeliveryResult.failed(message, code) if 500 <= code < 600 else DeliveryResult.retry(message, code)
        return _with_duration(result, started)


# --------------------------------------------------------------------------- webhooks


def sign_webhook(secret: str, timestamp: int | str, raw_body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw_body}")>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(secret: str, timestamp: str, raw_body: bytes, signature: str, *, tolerance_s: int = 300) -> bool:
    """Receiver-side check (also used by tests and the docs): signature and a fresh timestamp."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign_webhook(secret, timestamp, raw_body), signature)


class WebhookAdapter:
    """POST the message as JSON, signed with HMAC-SHA256 over ``"{timestamp}.{body}"``."""

    kind = "webhook"
    config_model: type[BaseModel] = WebhookConfig

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult:
        cfg = _config(WebhookConfig, config)
        if isinstance(cfg, DeliveryResult):
            return cfg
        assert isinstance(cfg, WebhookConfig)
        body = _dumps(message.as_json())
        timestamp = str(int(time.time()))
        headers = {
            "X-Servicelens-Event": message.kind,
            "X-Servicelens-Delivery": message.delivery_id,
            "X-Servicelens-Timestamp": timestamp,
            "X-Servicelens-Signature": sign_webhook(cfg.secret, timestamp, body),
        }
        _, result = post_json(self._client or http_client(), cfg.url, body, headers, cfg.timeout_s)
        return result


# --------------------------------------------------------------------------- group robots

# Robot error codes worth retrying: rate limits and "system busy".
_ROBOT_RETRY_CODES = frozenset({-1, 45009, 45033, 130101, 410100})
_ROBOT_MAX_BYTES = 4000


def _truncate_utf8(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


def _robot_reply(response: httpx.Response | None, result: DeliveryResult, who: str) -> DeliveryResult:
    if response is None or not result.ok:
        return result
    try:
        doc = response.json()
        errcode = int(doc.get("errcode", 0))
        errmsg = str(doc.get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):
        return DeliveryResult.failed(
            f"{who} robot replied with something that is not its JSON / 机器人回复格式异常: {_excerpt(response.text)}",
            response.status_code,
        )
    if errcode == 0:
        return result
    message = f"{who} robot error {errcode}: {_excerpt(errmsg)} / 机器人返回错误 {errcode}"
    if errcode in _ROBOT_RETRY_CODES:
        return DeliveryResult.retry(message, response.status_code, 60.0)
    return DeliveryResult.failed(message, response.status_code)


def robot_markdown(message: OutboundMessage) -> str:
    lines = [f"**{message.title}**", "", message.body.strip()]
    if message.ticket_id is not None:
        lines += ["", f"> 工单 Ticket #{message.ticket_id}"]
    return "\n".join(lines)


class WeComRobotAdapter:
    """WeCom (企业微信) group robot: markdown message to the robot webhook, ``errcode`` checked."""

    kind = "wecom"
    config_model: type[BaseModel] = WeComConfig

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult:
        cfg = _config(WeComConfig, config)
        if isinstance(cfg, DeliveryResult):
            return cfg
        assert isinstance(cfg, WeComConfig)
        doc = {
            "msgtype": "markdown",
            "markdown": {"content": _truncate_utf8(robot_markdown(message), _ROBOT_MAX_BYTES)},
        }
        headers = {"X-Servicelens-Delivery": message.delivery_id}
        response, result = post_json(self._client or http_client(), cfg.url, _dumps(doc), headers, cfg.timeout_s)
        return _robot_reply(response, result, "WeCom")


def dingtalk_sign(secret: str, timestamp_ms: int | str) -> str:
    """DingTalk signature: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    sep = "&" if urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"


class DingTalkRobotAdapter:
    """DingTalk (钉钉) group robot: signed URL (timestamp + sign), markdown message, ``errcode`` checked."""

    kind = "dingtalk"
    config_model: type[BaseModel] = DingTalkConfig

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult:
        cfg = _config(DingTalkConfig, config)
        if isinstance(cfg, DeliveryResult):
            return cfg
        assert isinstance(cfg, DingTalkConfig)
        text = robot_markdown(message).replace(f"**{message.title}**", f"### {message.title}", 1)
        if cfg.at_mobiles:
            text += "\n\n" + " ".join(f"@{m}" for m in cfg.at_mobiles)
        doc = {
            "msgtype": "markdown",
            "markdown": {"title": message.title[:100], "text": _truncate_utf8(text, _ROBOT_MAX_BYTES)},
            "at": {"atMobiles": cfg.at_mobiles, "isAtAll": cfg.at_all},
        }
        url = dingtalk_signed_url(cfg.url, cfg.secret) if cfg.secret else cfg.url
        headers = {"X-Servicelens-Delivery": message.delivery_id}
        response, result = post_json(self._client or http_client(), url, _dumps(doc), headers, cfg.timeout_s)
        return _robot_reply(response, result, "DingTalk")


# --------------------------------------------------------------------------- SMS / WeChat providers


class MessageProvider(Protocol):
    """An SMS or WeChat-template provider. ``channel`` is "sms" or "wechat"."""

    def send(self, channel: str, message: OutboundMessage, config: ProviderConfig) -> DeliveryResult: ...


def sms_text(message: OutboundMessage, limit: int = 300) -> str:
    text = f"【servicelens】{message.title}：{message.body.strip()}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HttpSmsAdapter:
    """Generic HTTP provider: POST JSON {to, template, params, text} with an API-key header.

    Fits SMS gateways and WeChat template-message relays that take a JSON request; a provider
    with its own protocol registers its own :class:`MessageProvider` under a new name.
    """

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def send(self, channel: str, message: OutboundMessage, config: ProviderConfig) -> DeliveryResult:
        if not message.to:
            return DeliveryResult.failed(
                "No phone number or WeChat account for the recipient / 收件人没有手机号或微信账号"
            )
        doc = {
            "id": message.delivery_id,
            "channel": channel,
            "to": message.to,
            "template": config.template or message.kind,
            "params": {
                "title": message.title,
                "body": message.body,
                "kind": message.kind,
                "ticket_id": message.ticket_id,
                **{k: v for k, v in message.data.items() if isinstance(v, str | int | float | bool)},
            },
            "text": sms_text(message),
        }
        headers = {"X-Servicelens-Delivery": message.delivery_id}
        if config.api_key:
            headers[config.api_key_header] = config.api_key
        _, result = post_json(self._client or http_client(), config.url, _dumps(doc), headers, config.timeout_s)
        return result


PROVIDERS: dict[str, MessageProvider] = {"http": HttpSmsAdapter()}


def register_provider(name: str, provider: MessageProvider) -> None:
    """Plug in another SMS/WeChat provider; channels select it with ``config.provider``."""
    PROVIDERS[name] = provider


class ProviderChannelAdapter:
    """Channel kinds "sms" and "wechat": dispatch to the configured provider."""

    config_model: type[BaseModel] = ProviderConfig

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> DeliveryResult:
        cfg = _config(ProviderConfig, config)
        if isinstance(cfg, DeliveryResult):
            return cfg
        assert isinstance(cfg, ProviderConfig)
        started = time.perf_counter()
        result = PROVIDERS[cfg.provider].send(self.kind, message, cfg)
        return result if result.duration_ms else _with_duration(result, started)


# --------------------------------------------------------------------------- registry and masking

ADAPTERS: dict[str, ChannelAdapter] = {
    "smtp": SmtpAdapter(),
    "webhook": WebhookAdapter(),
    "wecom": WeComRobotAdapter(),
    "dingtalk": DingTalkRobotAdapter(),
    "sms": ProviderChannelAdapter("sms"),
    "wechat": ProviderChannelAdapter("wechat"),
}
# Kinds addressed to a person (need ``message.to``) versus group/endpoint kinds (broadcast).
PERSONAL_KINDS = frozenset({"smtp", "sms", "wechat"})
BROADCAST_KINDS = frozenset({"webhook", "wecom", "dingtalk"})


def register_adapter(adapter: ChannelAdapter) -> None:
    ADAPTERS[adapter.kind] = adapter


def get_adapter(kind: str) -> ChannelAdapter:
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        raise KeyError(kind)
    return adapter


MASK = "****"


def mask_secret(value: str | None) -> str | None:
    if not value:
        return value
    return MASK + value[-4:] if len(value) >= 16 else MASK


def mask_url(url: str) -> str:
    """Hide query values (robot keys, access tokens) and any password in the URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{quote_plus(k)}={mask_secret(v) or ''}" for k, v in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def secret_keys(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    model = get_adapter(kind).config_model
    if issubclass(model, ChannelConfig):
        return model.secret_fields, model.secret_url_fields
    return (), ()


def mask_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: secrets masked, URLs with their query values masked."""
    fields, url_fields = secret_keys(kind)
    out = dict(config)
    for key in fields:
        if isinstance(out.get(key), str):
            out[key] = mask_secret(out[key])
    for key in url_fields:
        if isinstance(out.get(key), str):
            out[key] = mask_url(out[key])
    return out


def unmask_config(kind: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """Merge an edited config over the stored one; masked secrets sent back unchanged keep their value."""
    fields, url_fields = secret_keys(kind)
    merged = {**old, **new}
    for key in fields:
        if key in new and isinstance(new[key], str) and new[key] == mask_secret(old.get(key)):
            merged[key] = old.get(key)
    for key in url_fields:
        if key in new and isinstance(old.get(key), str) and new[key] == mask_url(old[key]):
            merged[key] = old[key]
    return merged
