"""Cell parsers shared by the importers.

Every parser takes the raw cell (``None`` when the file has no such column), the column name and
the row's error list, appends ``(field, reason)`` on bad input and returns the parsed value. They
append instead of raising so one row can report all of its bad fields at once, and because the
ticket path runs them hundreds of thousands of times a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from servicelens.tickets.models import Channel, Priority, TicketStatus, TicketType

Errors = list[tuple[str | None, str]]


class Missing(Enum):
    """The file has no such column: keep the stored value (update) or use the default (create)."""

    token = 0


MISSING: Final = Missing.token

# Characters that make Excel/WPS evaluate a CSV cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def _needs_escape(value: str) -> bool:
    if value[:1] in FORMULA_TRIGGERS:
        return True
    return value[:1] == "'" and len(value) > 1 and _needs_escape(value[1:])


def escape_formula(value: str) -> str:
    """Prefix a leading apostrophe so spreadsheets show the text instead of running it.

    The mapping is reversible (``unescape_formula``), so an exported CSV re-imports unchanged."""
    return "'" + value if value and _needs_escape(value) else value


def unescape_formula(value: str) -> str:
    return value[1:] if value[:1] == "'" and _needs_escape(value[1:]) else value


def text(raw: str | None, field: str, errs: Errors, max_len: int) -> str | Missing | None:
    """Optional text: empty clears the stored value."""
    if raw is None:
        return MISSING
    if not raw:
        return None
    if len(raw) > max_len:
        errs.append((field, f"longer than {max_len} characters ({len(raw)})"))
        return None
    return raw


def number(raw: str | None, field: str, errs: Errors, low: float, high: float) -> float | Missing | None:
    if raw is None:
        return MISSING
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errs.append((field, f"'{raw}' is not a number"))
        return None
    if not low <= value <= high:
        errs.append((field, f"{value} is outside {low}..{high}"))
        return None
    return value


_TRUE = frozenset({"true", "1", "yes", "y", "t", "是", "对", "√"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", "不是", "×"})


def boolean(raw: str | None, field: str, errs: Errors) -> bool | Missing | None:
    """``None`` means empty: the caller keeps the stored value or the default."""
    if raw is None:
        return MISSING
    if not raw:
        return None
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    errs.append((field, f"'{raw}' is not a yes/no value; use true/false, 1/0 or 是/否"))
    return None


def choice(raw: str | None, field: str, errs: Errors, aliases: dict[str, str]) -> str | Missing | None:
    """An enum value, accepting the English value in any case and the Chinese label."""
    if raw is None:
        return MISSING
    if not raw:
        return None
    value = aliases.get(raw) or aliases.get(raw.lower())
    if value is None:
        allowed = ", ".join(sorted({v for v in aliases.values()}))
        errs.append((field, f"'{raw}' is not one of: {allowed}"))
    return value


def _aliases(values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, names in values.items():
        out[value] = value
        for name in names:
            out[name] = value
            out[name.lower()] = value
    return out


TIER_ALIASES: Final = _aliases(
    {"vip": ("VIP", "VIP客户", "贵宾", "重要客户"), "regular": ("普通", "普通客户", "一般", "常规")}
)
TYPE_ALIASES: Final = _aliases(
    {
        TicketType.inquiry.value: ("咨询",),
        TicketType.repair.value: ("报修", "维修"),
        TicketType.complaint.value: ("投诉",),
        TicketType.return_.value: ("退换货", "退货", "换货"),
        TicketType.suggestion.value: ("建议",),
    }
)
CHANNEL_ALIASES: Final = _aliases(
    {
        Channel.phone.value: ("电话", "热线"),
        Channel.web.value: ("网页", "网站", "网页表单", "web表单"),
        Channel.email.value: ("邮件", "电子邮件", "e-mail"),
        Channel.wechat.value: ("微信",),
        Channel.sms.value: ("短信",),
        Channel.app.value: ("应用", "手机应用"),
        Channel.api.value: ("接口",),
        Channel.social.value: ("社交媒体", "社交", "微博"),
    }
)
PRIORITY_ALIASES: Final = _aliases(
    {
        Priority.low.value: ("低",),
        Priority.normal.value: ("普通", "中", "一般"),
        Priority.high.value: ("高",),
        Priority.urgent.value: ("紧急",),
    }
)
STATUS_ALIASES: Final = _aliases(
    {
        TicketStatus.new.value: ("新建", "新"),
        TicketStatus.assigned.value: ("已分配", "已派单"),
        TicketStatus.in_progress.value: ("处理中",),
        TicketStatus.pending_customer.value: ("待客户回复", "待客户"),
        TicketStatus.on_hold.value: ("挂起",),
        TicketStatus.resolved.value: ("已解决",),
        TicketStatus.closed.value: ("已关闭", "关闭"),
    }
)

# Spreadsheet exports from Chinese-locale Excel/WPS write "2025/3/3 8:40" rather than ISO 8601.
_LOOSE_TS = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
_MIN_TS: Final = datetime(1970, 1, 1)
_CLOCK: Final = frozenset(f":{m:02d}:{sec:02d}" for m in range(60) for sec in range(60))
_FUTURE_SLACK: Final = timedelta(hours=1)
TS_HINT: Final = "use ISO 8601, e.g. 2025-03-03 08:40:00 or 2025-03-03T00:40:00Z"


def _loose(raw: str) -> datetime | None:
    m = _LOOSE_TS.fullmatch(raw.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, zone = m.groups()
    try:
        value = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    if zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        value = (value - sign * offset).replace(tzinfo=UTC)
    return value


class TimeParser:
    """ISO 8601 → UTC at 1-second precision (metrics.md §0); naive input is local time in the
    organisation's timezone.

    ``out`` picks the result: "naive" (naive UTC datetime), or what the database driver stores for
    a ``UTCDateTime`` column, so the ticket importer needs no second conversion per value:
    "sqlite" (SQLAlchemy's fixed-width text, which sorts as text) or "pg" (aware UTC)."""

    def __init__(self, tz: ZoneInfo, now: datetime, out: Literal["naive", "sqlite", "pg"] = "naive") -> None:
        self.tz = tz
        self.latest = now.astimezone(UTC).replace(tzinfo=None) + _FUTURE_SLACK
        self.out = out
        # "YYYY-MM-DD HH" (local, as written) → "YYYY-MM-DD HH" (UTC) for hours that shift by whole
        # hours and lie wholly in range: "…HH:MM:SS" in such an hour then converts by replacing
        # its first 13 characters (a third of the import's parsing time was this conversion).
        self._hours: dict[str, str] = {}

    def __call__(self, raw: str | None, field: str, errs: Errors) -> Any:
        if raw is None:
            return MISSING
        if not raw:
            return None
        if len(raw) == 19 and self.out == "sqlite":
            hour = self._hours.get(raw[:13])
            if hour is not None and raw[13:] in _CLOCK:
                return hour + raw[13:] + ".000000"
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            parsed = _loose(raw)
            if parsed is None:
                errs.append((field, f"'{raw}' is not a date/time; {TS_HINT}"))
                return None
            value = parsed
        offset = value.utcoffset()
        # ZoneInfo.utcoffset on a naive value is ~10x cheaper than replace(tzinfo).astimezone().
        value = value - self.tz.utcoffset(value) if offset is None else value.replace(tzinfo=None) - offset  # type: ignore[operator]
        if value.microsecond:
            value = value.replace(microsecond=0)
        if value < _MIN_TS:
            errs.append((field, f"'{raw}' is before 1970"))
            return None
        if value > self.latest:
            errs.append((field, f"'{raw}' is in the future"))
            return None
        if self.out == "sqlite":
            if offset is None and len(raw) == 19 and raw[13:] in _CLOCK:
                self._learn_hour(raw[:13])
            return value.isoformat(" ") + ".000000"  # microseconds were cut above
        if self.out == "pg":
            return value.replace(tzinfo=UTC)
        return value

    def local_hours(self, keys: Iterable[str]) -> dict[str, str] | None:
        """The UTC hours of local hours "YYYY-MM-DD HH" (see ``_hours``), learning the ones not yet
        seen; None if any of them has no whole-hour conversion (a bad date, a DST change, out of
        range): values in that hour need the full parse."""
        hours = self._hours
        for key in keys:
            if key not in hours:
                try:
                    self._learn_hour(key)
                except ValueError:
                    return None
                if key not in hours:
                    return None
        return hours

    def _learn_hour(self, key: str) -> None:
        """Remember the UTC hour of the local hour ``key`` if every second of it converts alike."""
        start = datetime.fromisoformat(key + ":00:00")
        end = start + timedelta(minutes=59, seconds=59)
        offsets = {self.tz.utcoffset(t) for t in (start, end, start.replace(fold=1), end.replace(fold=1))}
        if len(offsets) != 1:
            return  # a daylight-saving change within (or around) this hour
        offset = offsets.pop()
        if offset is None or offset.total_seconds() % 3600:
            return  # e.g. +05:30: the minutes would change too
        if start - offset >= _MIN_TS and end - offset <= self.latest:
            self._hours[key] = (start - offset).isoformat(" ")[:13]

    def local(self, value: datetime) -> datetime:
        """Naive local wall time (for spreadsheets) of an aware or naive-UTC value."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.tz).replace(tzinfo=None)

    def iso(self, value: datetime) -> str:
        """ISO 8601 with the local offset: readable by people and re-importable unambiguously."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.tz).isoformat()
