"""Business calendars: working hours, CN statutory holidays, DST-safe business time (metrics.md §B).

Reference semantics (§B.2):

* Every local date gets its working intervals from the first matching rule of §B.1 (override,
  imported/statutory holiday or make-up workday, weekly hours of the version in effect that day).
* Local interval bounds become UTC instants with ``zoneinfo`` and ``fold=0``; ``24:00`` is the next
  local midnight.  Business time is measured on the **union** of these UTC intervals, so an instant
  is never counted twice even where a spring-forward gap makes two local intervals overlap in UTC.
* ``business_seconds_between(a, b)`` is the measure of ``[a, b)`` ∩ business time (negative if b < a).
* ``add_business_seconds(start, s)`` is the earliest instant ``t >= start`` with
  ``between(start, t) == s``; reaching the target exactly at an interval end returns that end.

Speed: a :class:`CompiledSchedule` is built lazily per :class:`Schedule` instance and caches merged
UTC intervals (epoch seconds) plus a cumulative business-seconds array, whole local years at a time,
so ``add`` and ``between`` are two ``bisect`` calls instead of a day-by-day walk.
"""

from __future__ import annotations

import csv
import io
import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Final, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chinese_calendar import constants as _cc_constants

__all__ = [
    "MAX_SEARCH_DAYS",
    "CalendarError",
    "Clock",
    "CompiledSchedule",
    "DayInfo",
    "DayKind",
    "Holiday",
    "HolidayImportError",
    "ImportRowError",
    "Schedule",
    "ScheduleOverride",
    "ScheduleVersion",
    "WorkingHours",
    "add_business_minutes",
    "add_business_seconds",
    "add_minutes",
    "business_minutes_between",
    "business_seconds_between",
    "compiled",
    "describe_day",
    "minutes_between",
    "parse_holidays_csv",
    "parse_holidays_ics",
    "statutory_coverage",
]

# §B.2: an add that finds no business time within this many days gives up (schedule without hours).
MAX_SEARCH_DAYS: Final = 3660
_MAX_SEARCH_S: Final = MAX_SEARCH_DAYS * 86400.0

_DAY_MIN: Final = 1440
_DAY_S: Final = 86400.0
# Local date ↔ UTC never differ by more than a day (offsets are within ±14 h, gaps are ≤ 1 day), so a
# 3-day margin guarantees every interval touching the safe window comes from a compiled date.
_MARGIN_DAYS: Final = 3
# Keep date arithmetic inside datetime's range (years 1..9999) including the margins above.
_MIN_YEAR: Final = 2
_MAX_YEAR: Final = 9997

# chinese_calendar ships plain dicts date -> holiday name; it has no type information.
_CN_HOLIDAYS: Final[Mapping[date, str]] = _cc_constants.holidays
_CN_WORKDAYS: Final[Mapping[date, str]] = _cc_constants.workdays
# Same coverage rule chinese_calendar uses before raising NotImplementedError (2004–2026 in 1.11.0).
_CN_YEARS: Final[frozenset[int]] = frozenset(
    range(min(_CN_HOLIDAYS).year, max(_CN_HOLIDAYS).year + 1) if _CN_HOLIDAYS else ()
)

_HHMM: Final = re.compile(r"^(\d{2}):(\d{2})$")

OverrideKind = Literal["closed", "open"]
HolidayKind = Literal["holiday", "workday"]
Region = Literal["CN"]
IntervalInput = Sequence[str]  # ("09:00", "12:00"); lists from JSON are accepted too
WeeklyHoursInput = Mapping[int, Sequence[IntervalInput]] | Mapping[str, Sequence[IntervalInput]]
Minutes = tuple[tuple[int, int], ...]  # validated, sorted local [start, end) minutes of one day


class CalendarError(ValueError):
    """Invalid calendar input or an impossible computation; ``code`` is stable for APIs and i18n."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportRowError:
    """One rejected row (CSV) or event (iCalendar); ``row`` is the 1-based line number."""

    row: int
    reason: str


class HolidayImportError(CalendarError):
    """Raised by the importers when some rows are bad; ``valid`` holds the rows that parsed."""

    def __init__(self, errors: Sequence[ImportRowError], valid: Sequence[Holiday]) -> None:
        self.errors: tuple[ImportRowError, ...] = tuple(errors)
        self.valid: tuple[Holiday, ...] = tuple(valid)
        detail = "; ".join(f"row {e.row}: {e.reason}" for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__("calendar.import_errors", f"{len(self.errors)} bad row(s): {detail}{more}")


# --------------------------------------------------------------------------------------------------
# Interval parsing and validation


def _parse_hhmm(value: object, *, is_end: bool, where: str) -> int:
    if not isinstance(value, str):
        raise CalendarError("calendar.bad_time", f"{where}: time must be a 'HH:MM' string, got {value!r}")
    if value == "24:00":
        if is_end:
            return _DAY_MIN
        raise CalendarError("calendar.bad_time", f"{where}: '24:00' is only allowed as an interval end")
    m = _HHMM.match(value)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise CalendarError("calendar.bad_time", f"{where}: {value!r} is not a valid 'HH:MM' time")
    return int(m.group(1)) * 60 + int(m.group(2))


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_intervals(raw: object, where: str) -> tuple[tuple[tuple[str, str], ...], Minutes]:
    """Validate one day's intervals; returns the normalised text form and sorted minutes."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise CalendarError("calendar.bad_interval", f"{where}: expected a list of [start, end] pairs")
    parsed: list[tuple[int, int]] = []
    for item in raw:
        if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
            raise CalendarError("calendar.bad_interval", f"{where}: {item!r} is not a [start, end] pair")
        start = _parse_hhmm(item[0], is_end=False, where=where)
        end = _parse_hhmm(item[1], is_end=True, where=where)
        if end <= start:
            raise CalendarError(
                "calendar.empty_interval",
                f"{where}: interval {item[0]}-{item[1]} is empty or reversed "
                "(split an overnight shift into [start, 24:00] and [00:00, end] on the next day)",
            )
        parsed.append((start, end))
    parsed.sort()
    for (s1, e1), (s2, e2) in pairwise(parsed):
        if s2 < e1:
            raise CalendarError(
                "calendar.overlapping_intervals",
                f"{where}: intervals {_fmt(s1)}-{_fmt(e1)} and {_fmt(s2)}-{_fmt(e2)} overlap",
            )
    text = tuple((_fmt(s), _fmt(e)) for s, e in parsed)
    return text, tuple(parsed)


class WorkingHours(Mapping[int, tuple[tuple[str, str], ...]]):
    """Immutable weekly hours: weekday 0 (Monday) .. 6 -> sorted ``("HH:MM", "HH:MM"|"24:00")`` pairs.

    Accepts int or JSON string keys ("0".."6"); missing weekdays are closed.
    """

    __slots__ = ("_days", "_minutes")

    def __init__(self, hours: WeeklyHoursInput | None = None) -> None:
        days: list[tuple[tuple[str, str], ...]] = [()] * 7
        minutes: list[Minutes] = [()] * 7
        seen: set[int] = set()
        for key, raw in (hours or {}).items():
            wd = _weekday(key, "weekly_hours key")
            if wd in seen:
                raise CalendarError("calendar.invalid_weekday", f"weekday {wd} is given twice")
            seen.add(wd)
            days[wd], minutes[wd] = _parse_intervals(raw, f"weekday {wd}")
        self._days: tuple[tuple[tuple[str, str], ...], ...] = tuple(days)
        self._minutes: tuple[Minutes, ...] = tuple(minutes)

    def __getitem__(self, weekday: int) -> tuple[tuple[str, str], ...]:
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise KeyError(weekday)
        return self._days[weekday]

    def __iter__(self) -> Iterator[int]:
        return iter(range(7))

    def __len__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WorkingHours):
            return self._days == other._days
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._days)

    def __repr__(self) -> str:
        return f"WorkingHours({ {wd: list(iv) for wd, iv in enumerate(self._days) if iv} })"

    def minutes(self, weekday: int) -> Minutes:
        """Local ``(start_minute, end_minute)`` pairs of a weekday; end may be 1440 (24:00)."""
        return self._minutes[weekday]

    def to_json(self) -> dict[str, list[list[str]]]:
        """The §B.1 JSON shape ``{"0": [["09:00", "12:00"], ...], ...}`` (closed days omitted)."""
        return {str(wd): [list(iv) for iv in ivs] for wd, ivs in enumerate(self._days) if ivs}


def _weekday(value: object, where: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise CalendarError("calendar.invalid_weekday", f"{where}: {value!r} is not a weekday 0..6")
    return value


# --------------------------------------------------------------------------------------------------
# Data model (§B.1)


@dataclass(frozen=True)
class ScheduleVersion:
    """Weekly hours in effect from the local date ``effective_from`` until the next version."""

    effective_from: date
    weekly_hours: WorkingHours | WeeklyHoursInput
    makeup_template_weekday: int = 0  # hours for a make-up workday whose weekday has none (J12)

    def __post_init__(self) -> None:
        if not isinstance(self.effective_from, date) or isinstance(self.effective_from, datetime):
            raise CalendarError("calendar.bad_date", "effective_from must be a date (not a datetime)")
        if not isinstance(self.weekly_hours, WorkingHours):
            object.__setattr__(self, "weekly_hours", WorkingHours(self.weekly_hours))
        _weekday(self.makeup_template_weekday, "makeup_template_weekday")

    @property
    def hours(self) -> WorkingHours:
        """``weekly_hours`` after normalisation (always a :class:`WorkingHours`)."""
        return cast(WorkingHours, self.weekly_hours)


@dataclass(frozen=True)
class ScheduleOverride:
    """Tenant exception for one local date: ``closed``, or ``open`` with hours (None = template hours)."""

    day: date
    kind: OverrideKind
    hours: Sequence[IntervalInput] | None = None
    _minutes: Minutes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise CalendarError("calendar.bad_date", "override day must be a date (not a datetime)")
        if self.kind not in ("closed", "open"):
            raise CalendarError("calendar.invalid_override", f"{self.day}: kind must be 'closed' or 'open'")
        if self.hours is None:
            return
        if self.kind == "closed":
            raise CalendarError("calendar.invalid_override", f"{self.day}: a 'closed' override takes no hours")
        text, minutes = _parse_intervals(self.hours, f"override {self.day}")
        if not minutes:
            raise CalendarError(
                "calendar.invalid_override",
                f"{self.day}: an 'open' override needs hours (or None for the template hours)",
            )
        object.__setattr__(self, "hours", text)
        object.__setattr__(self, "_minutes", minutes)


@dataclass(frozen=True)
class Holiday:
    """Imported statutory data for one date: a ``holiday`` (closed) or a make-up ``workday``."""

    day: date
    kind: HolidayKind
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise CalendarError("calendar.bad_date", "holiday day must be a date (not a datetime)")
        if self.kind not in ("holiday", "workday"):
            raise CalendarError("calendar.invalid_holiday", f"{self.day}: kind must be 'holiday' or 'workday'")


@dataclass(frozen=True)
class Schedule:
    """A tenant business calendar (§B.1). Immutable, so its compiled form is cached on the instance.

    ``imported_holidays`` (from :func:`parse_holidays_csv` / :func:`parse_holidays_ics`) act like
    statutory data for their dates and win over ``chinese_calendar``; like all statutory data they
    apply only when ``observe_statutory`` is true.  ``statutory_region='CN'`` adds chinese_calendar.
    """

    tz: str
    versions: Sequence[ScheduleVersion]
    overrides: Sequence[ScheduleOverride] = ()
    observe_statutory: bool = False
    statutory_region: Region | None = None
    imported_holidays: Sequence[Holiday] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _compiled: CompiledSchedule | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: normalise fields once, at construction
        if not isinstance(self.tz, str) or not self.tz:
            raise CalendarError("calendar.unknown_timezone", f"unknown IANA timezone {self.tz!r}")
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise CalendarError("calendar.unknown_timezone", f"unknown IANA timezone {self.tz!r}") from exc
        set_(self, "_zone", zone)

        versions = tuple(sorted(self.versions, key=lambda v: v.effective_from))
        if not versions:
            raise CalendarError("calendar.no_versions", "a schedule needs at least one version")
        for prev, cur in pairwise(versions):
            if prev.effective_from == cur.effective_from:
                raise CalendarError(
                    "calendar.duplicate_version", f"two versions are effective from {cur.effective_from}"
                )
        set_(self, "versions", versions)

        overrides = tuple(sorted(self.overrides, key=lambda o: o.day))
        for prev_o, cur_o in pairwise(overrides):
            if prev_o.day == cur_o.day:
                raise CalendarError("calendar.duplicate_override", f"two overrides for {cur_o.day}")
        set_(self, "overrides", overrides)

        if self.statutory_region not in (None, "CN"):
            raise CalendarError(
                "calendar.unknown_region",
                f"statutory_region must be 'CN' or None, got {self.statutory_region!r}",
            )

        by_day: dict[date, Holiday] = {}
        for h in self.imported_holidays:
            seen = by_day.get(h.day)
            if seen is not None and seen.kind != h.kind:
                raise CalendarError("calendar.conflicting_holiday", f"{h.day} is imported as both holiday and workday")
            by_day.setdefault(h.day, h)
        set_(self, "imported_holidays", tuple(sorted(by_day.values(), key=lambda h: h.day)))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone


class DayKind(StrEnum):
    """Which §B.1 rule decided a local date."""

    OVERRIDE_CLOSED = "override_closed"
    OVERRIDE_OPEN = "override_open"
    STATUTORY_HOLIDAY = "statutory_holiday"
    MAKEUP_WORKDAY = "makeup_workday"
    WEEKLY = "weekly"  # regular weekly hours (may be empty, e.g. a weekend)
    NO_VERSION = "no_version"  # before the first version's effective_from: closed


@dataclass(frozen=True, slots=True)
class DayInfo:
    day: date
    kind: DayKind
    hours: tuple[tuple[str, str], ...]
    name: str | None  # holiday / make-up workday name when statutory data decided the day
    statutory_covered: bool  # False when holidays were needed but no data exists for that year

    @property
    def is_open(self) -> bool:
        return bool(self.hours)


class _Resolver:
    """Day-type rules of §B.1, with lookup tables prepared once per schedule."""

    __slots__ = ("_cn", "_imported", "_observe", "_overrides", "_version_days", "_versions", "covered_years")

    def __init__(self, schedule: Schedule) -> None:
        self._overrides = {o.day: o for o in schedule.overrides}
        self._versions = tuple(schedule.versions)
        self._version_days = [v.effective_from for v in self._versions]
        self._observe = schedule.observe_statutory
        self._cn = schedule.observe_statutory and schedule.statutory_region == "CN"
        self._imported = {h.day: h for h in schedule.imported_holidays}
        years = {d.year for d in self._imported}
        if self._cn:
            years |= _CN_YEARS
        self.covered_years: frozenset[int] = frozenset(years)

    def resolve(self, d: date) -> tuple[DayKind, Minutes, str | None]:
        idx = bisect_right(self._version_days, d) - 1
        version = self._versions[idx] if idx >= 0 else None

        override = self._overrides.get(d)
        if override is not None:
            if override.kind == "closed":
                return DayKind.OVERRIDE_CLOSED, (), None
            if override._minutes is not None:
                return DayKind.OVERRIDE_OPEN, override._minutes, None
            template = version.hours.minutes(version.makeup_template_weekday) if version else ()
            return DayKind.OVERRIDE_OPEN, template, None

        if version is None:
            return DayKind.NO_VERSION, (), None
        own = version.hours.minutes(d.weekday())

        if self._observe:
            imported = self._imported.get(d)
            if imported is not None:
                kind, name = imported.kind, imported.name
            elif self._cn and d in _CN_HOLIDAYS:
                kind, name = "holiday", _CN_HOLIDAYS[d]
            elif self._cn and d in _CN_WORKDAYS:
                kind, name = "workday", _CN_WORKDAYS[d]
            else:
                return DayKind.WEEKLY, own, None
            if kind == "holiday":
                return DayKind.STATUTORY_HOLIDAY, (), name
            # J12: make-up day keeps its own weekday's hours, else the template weekday's.
            return DayKind.MAKEUP_WORKDAY, own or version.hours.minutes(version.makeup_template_weekday), name
        return DayKind.WEEKLY, own, None


# --------------------------------------------------------------------------------------------------
# Compiled schedule (fast path)


def _utc_midnight_ts(d: date) -> float:
    return (d - date(1970, 1, 1)).days * _DAY_S


class CompiledSchedule:
    """Merged UTC business intervals of whole local years plus cumulative business seconds.

    Arrays (epoch seconds, floats): ``starts[i]``/``ends[i]`` are disjoint sorted intervals,
    ``cum[i]`` is the business time before interval i and ``cum_end[i] = cum[i] + len(i)``.
    Queries are valid for instants in ``[lo, hi)``; outside it, more years are compiled first.
    The state tuple is replaced atomically so readers never see half-extended arrays.
    """

    __slots__ = ("_first_year", "_last_year", "_lock", "_resolver", "_state", "_year_cache", "_zone")

    def __init__(self, schedule: Schedule) -> None:
        self._zone = schedule.zone
        self._resolver = _Resolver(schedule)
        self._lock = threading.Lock()
        self._year_cache: dict[int, list[tuple[float, float]]] = {}
        self._first_year = 0
        self._last_year = -1
        empty: list[float] = []
        # (starts, ends, cum, cum_end, lo, hi); lo > hi forces compilation on first use.
        self._state: tuple[list[float], list[float], list[float], list[float], float, float] = (
            empty,
            empty,
            empty,
            empty,
            1.0,
            0.0,
        )

    @property
    def years(self) -> tuple[int, int] | None:
        """The compiled local-year range (inclusive), or None before first use."""
        return (self._first_year, self._last_year) if self._last_year >= self._first_year else None

    def _year_intervals(self, year: int) -> list[tuple[float, float]]:
        zone = self._zone
        resolve = self._resolver.resolve
        out: list[tuple[float, float]] = []
        d = date(year, 1, 1)
        one = timedelta(days=1)
        while d.year == year:
            _, minutes, _ = resolve(d)
            for start, end in minutes:
                # fold=0 (the default): ambiguous -> first occurrence, gap -> pre-gap offset (J15).
                s = datetime(d.year, d.month, d.day, start // 60, start % 60, tzinfo=zone).timestamp()
                if end == _DAY_MIN:
                    n = d + one
                    e = datetime(n.year, n.month, n.day, tzinfo=zone).timestamp()
                else:
                    e = datetime(d.year, d.month, d.day, end // 60, end % 60, tzinfo=zone).timestamp()
                if e > s:  # a gap can make an interval empty or reversed in UTC; it has no business time
                    out.append((s, e))
            d += one
        return out

    def _ensure(self, lo_ts: float, hi_ts: float) -> None:
        """Compile whole years so that ``[lo_ts, hi_ts]`` lies inside the safe window."""
        try:
            lo_day = date(1970, 1, 1) + timedelta(days=lo_ts // _DAY_S - _MARGIN_DAYS)
            hi_day = date(1970, 1, 1) + timedelta(days=hi_ts // _DAY_S + _MARGIN_DAYS)
        except OverflowError as exc:
            raise CalendarError("calendar.out_of_range", "instant outside the supported date range") from exc
        if lo_day.year < _MIN_YEAR or hi_day.year > _MAX_YEAR:
            raise CalendarError("calendar.out_of_range", f"dates must lie within years {_MIN_YEAR}..{_MAX_YEAR}")
        with self._lock:
            first, last = lo_day.year, hi_day.year
            if self._last_year >= self._first_year:
                if first >= self._first_year and last <= self._last_year:
                    return  # another thread compiled it meanwhile
                first, last = min(first, self._first_year), max(last, self._last_year)
            for y in range(first, last + 1):
                if y not in self._year_cache:
                    self._year_cache[y] = self._year_intervals(y)
            raw: list[tuple[float, float]] = []
            for y in range(first, last + 1):
                raw.extend(self._year_cache[y])
            raw.sort()  # almost sorted already; merging needs global order
            starts: list[float] = []
            ends: list[float] = []
            for s, e in raw:
                if ends and s <= ends[-1]:  # overlap or touch: union, so time is never counted twice
                    if e > ends[-1]:
                        ends[-1] = e
                else:
                    starts.append(s)
                    ends.append(e)
            cum: list[float] = []
            cum_end: list[float] = []
            total = 0.0
            for s, e in zip(starts, ends, strict=True):
                cum.append(total)
                total += e - s
                cum_end.append(total)
            lo = _utc_midnight_ts(date(first, 1, 1)) + _MARGIN_DAYS * _DAY_S
            hi = _utc_midnight_ts(date(last + 1, 1, 1)) - _MARGIN_DAYS * _DAY_S
            self._first_year, self._last_year = first, last
            self._state = (starts, ends, cum, cum_end, lo, hi)

    def seconds_between(self, a: float, b: float) -> float:
        """Business seconds in ``[a, b)`` for epoch seconds; negative when b < a."""
        if a > b:
            return -self.seconds_between(b, a)
        st = self._state
        if a < st[4] or b >= st[5]:
            self._ensure(a, b)
            st = self._state
        starts, ends, cum = st[0], st[1], st[2]
        i = bisect_right(starts, a) - 1
        ca = cum[i] + min(a, ends[i]) - starts[i] if i >= 0 else 0.0
        j = bisect_right(starts, b) - 1
        cb = cum[j] + min(b, ends[j]) - starts[j] if j >= 0 else 0.0
        return cb - ca

    def add_seconds(self, start: float, seconds: float) -> float:
        """Earliest instant ``t >= start`` with ``seconds`` business seconds in ``[start, t)``.

        ``seconds`` must be > 0. Ending exactly at an interval end returns that end (§B.2, [B3]).
        """
        # Hot path for SLA deadlines, kept free of calls other than the two bisects.
        starts, ends, cum, cum_end, lo, hi = self._state
        if lo <= start < hi:
            i = bisect_right(starts, start) - 1
            if i >= 0:
                end = ends[i]
                target = cum[i] + (start if start < end else end) - starts[i] + seconds
            else:
                target = seconds
            # First interval whose cumulative end reaches the target: `bisect_left` makes a target
            # met exactly at an interval end return that end, not the next interval's start.
            k = bisect_left(cum_end, target)
            if k < len(cum_end):
                t = starts[k] + (target - cum[k])
                if t < hi and t - start <= _MAX_SEARCH_S:
                    return t
        return self._add_seconds_slow(start, seconds)

    def _add_seconds_slow(self, start: float, seconds: float) -> float:
        """``add_seconds`` when the compiled range must grow or the search limit may be hit."""
        if not math.isfinite(seconds):  # NaN / inf never reach the hot path's return
            raise CalendarError("calendar.bad_duration", f"duration must be a finite number, got {seconds!r}")
        limit = start + _MAX_SEARCH_S
        self._ensure(start, start)
        while True:
            starts, ends, cum, cum_end, _, hi = self._state
            i = bisect_right(starts, start) - 1
            target = (cum[i] + min(start, ends[i]) - starts[i] if i >= 0 else 0.0) + seconds
            k = bisect_left(cum_end, target)
            if k < len(cum_end):
                t = starts[k] + (target - cum[k])
                if t < hi:  # everything before hi is compiled, so t is final
                    if t > limit:
                        break
                    return t
            if hi > limit:
                break
            # Not enough compiled business time: extend forward by about a year and retry.
            self._ensure(start, min(hi + 366 * _DAY_S, limit + _DAY_S))
        raise CalendarError(
            "calendar.no_business_time",
            f"no {seconds / 60:g} business minutes within {MAX_SEARCH_DAYS} days (does the schedule have any hours?)",
        )


_compile_lock = threading.Lock()


def compiled(schedule: Schedule) -> CompiledSchedule:
    """The cached :class:`CompiledSchedule` of a schedule (built on first use)."""
    comp = schedule._compiled
    if comp is None:
        with _compile_lock:
            comp = schedule._compiled
            if comp is None:
                comp = CompiledSchedule(schedule)
                object.__setattr__(schedule, "_compiled", comp)
    return comp


# --------------------------------------------------------------------------------------------------
# Public API


def _ts(dt: datetime, name: str) -> float:
    tz = dt.tzinfo
    if tz is not UTC and (tz is None or dt.utcoffset() is None):
        raise CalendarError("calendar.naive_datetime", f"{name} must be timezone-aware (UTC), got {dt!r}")
    return dt.timestamp()


_fromts = datetime.fromtimestamp


def business_seconds_between(schedule: Schedule, a: datetime, b: datetime) -> float:
    """Business seconds in ``[a, b)``; ``-between(b, a)`` when ``b < a`` ([B1], [B9])."""
    comp = schedule._compiled or compiled(schedule)
    diff = comp.seconds_between(_ts(a, "a"), _ts(b, "b"))
    # Inputs carry microseconds; snap float noise back to the microsecond grid.
    return round(diff * 1e6) / 1e6


def business_minutes_between(schedule: Schedule, a: datetime, b: datetime) -> float:
    return business_seconds_between(schedule, a, b) / 60.0


def add_business_seconds(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """Deadline ``seconds`` business seconds after ``start`` (UTC); ``seconds <= 0`` returns ``start``."""
    ts = _ts(start, "start")
    if seconds <= 0:
        return start
    comp = schedule._compiled or compiled(schedule)
    return _fromts(comp.add_seconds(ts, seconds), UTC)


def add_business_minutes(schedule: Schedule, start: datetime, minutes: float) -> datetime:
    """Deadline ``minutes`` business minutes after ``start`` (§B.2, [B3]–[B5], [B8]).

    Returns ``start`` unchanged when ``minutes <= 0``; raises ``calendar.no_business_time`` when
    the target is not reached within :data:`MAX_SEARCH_DAYS` days.
    """
    # Hot path (SLA deadlines): add_business_seconds with the naive check inlined to save a call.
    tz = start.tzinfo
    if tz is not UTC and (tz is None or start.utcoffset() is None):
        _ts(start, "start")  # raises calendar.naive_datetime
    if minutes <= 0:
        return start
    comp = schedule._compiled or compiled(schedule)
    return _fromts(comp.add_seconds(start.timestamp(), minutes * 60.0), UTC)


def describe_day(schedule: Schedule, day: date) -> DayInfo:
    """How §B.1 classifies a local date, with its local hours (for admin UIs and audits)."""
    resolver = compiled(schedule)._resolver
    kind, minutes, name = resolver.resolve(day)
    needs_data = schedule.observe_statutory and kind not in (DayKind.OVERRIDE_CLOSED, DayKind.OVERRIDE_OPEN)
    return DayInfo(
        day=day,
        kind=kind,
        hours=tuple((_fmt(s), _fmt(e)) for s, e in minutes),
        name=name,
        statutory_covered=not needs_data or day.year in resolver.covered_years,
    )


def statutory_coverage(schedule: Schedule, start: date | datetime, end: date | datetime) -> list[int]:
    """Years in ``[start, end]`` (local dates) for which the schedule has no holiday data (J13).

    A year is covered if chinese_calendar covers it (region CN) or the schedule imported holidays
    for it. Empty when ``observe_statutory`` is false, since no holiday data is needed then.
    A non-empty result means results touching those years used weekly hours only
    (``statutory_coverage=false``) and the admin should be warned.
    """
    if not schedule.observe_statutory:
        return []
    days = [_local_date(schedule, x) for x in (start, end)]
    lo, hi = min(days), max(days)
    covered = compiled(schedule)._resolver.covered_years
    return [y for y in range(lo.year, hi.year + 1) if y not in covered]


def _local_date(schedule: Schedule, value: date | datetime) -> date:
    if isinstance(value, datetime):
        _ts(value, "datetime")
        return value.astimezone(schedule.zone).date()
    return value


class Clock(StrEnum):
    """Which clock a target or node check uses (§A.2, §A.3)."""

    BUSINESS = "business"
    CALENDAR = "calendar"


def add_minutes(clock: Clock | str, schedule: Schedule | None, start: datetime, minutes: float) -> datetime:
    """``start + minutes`` on the given clock. The calendar clock is absolute UTC time ([B17])."""
    if Clock(clock) is Clock.CALENDAR:
        _ts(start, "start")
        # Add on UTC: adding to a zoned datetime would be wall-clock arithmetic across DST.
        return start.astimezone(UTC) + timedelta(minutes=minutes)
    if schedule is None:
        raise CalendarError("calendar.no_schedule", "the business clock needs a schedule")
    return add_business_minutes(schedule, start, minutes)


def minutes_between(clock: Clock | str, schedule: Schedule | None, a: datetime, b: datetime) -> float:
    """Minutes from ``a`` to ``b`` on the given clock; negative when ``b < a``."""
    if Clock(clock) is Clock.CALENDAR:
        # Timestamps, not `b - a`: two datetimes sharing a ZoneInfo subtract as wall clocks ([B17]).
        return (_ts(b, "b") - _ts(a, "a")) / 60.0
    if schedule is None:
        raise CalendarError("calendar.no_schedule", "the business clock needs a schedule")
    return business_seconds_between(schedule, a, b) / 60.0


# --------------------------------------------------------------------------------------------------
# Holiday importers


_KIND_ALIASES: Final[Mapping[str, HolidayKind]] = {
    "holiday": "holiday",
    "休": "holiday",
    "假": "holiday",
    "节假日": "holiday",
    "放假": "holiday",
    "workday": "workday",
    "班": "workday",
    "补班": "workday",
    "上班": "workday",
    "调休上班": "workday",
}
_CSV_DATE: Final = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_MAX_EVENT_DAYS: Final = 366


def _parse_csv_date(value: str) -> date:
    m = _CSV_DATE.match(value)
    if m is None:
        raise ValueError(f"date {value!r} is not YYYY-MM-DD")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"date {value!r} does not exist") from None


def parse_holidays_csv(text: str) -> list[Holiday]:
    """Parse ``date,kind,name`` rows (optional header; kind ``holiday``/``workday``, or 休/班 aliases).

    All rows are checked; if any is bad, :class:`HolidayImportError` lists each bad row's number
    (1-based line, header included) and reason, and carries the good rows in ``valid``.
    """
    errors: list[ImportRowError] = []
    good: list[Holiday] = []
    first_row: dict[date, int] = {}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for row_no, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if row_no == 1 and cells[0].lower() == "date":
            continue  # header
        if len(cells) < 2 or len(cells) > 3:
            errors.append(ImportRowError(row_no, f"expected 3 columns date,kind,name, got {len(cells)}"))
            continue
        try:
            day = _parse_csv_date(cells[0])
        except ValueError as exc:
            errors.append(ImportRowError(row_no, str(exc)))
            continue
        kind = _KIND_ALIASES.get(cells[1].lower())
        if kind is None:
            errors.append(ImportRowError(row_no, f"kind {cells[1]!r} must be 'holiday' or 'workday'"))
            continue
        if day in first_row:
            errors.append(ImportRowError(row_no, f"{day} already given on row {first_row[day]}"))
            continue
        first_row[day] = row_no
        good.append(Holiday(day, kind, cells[2] if len(cells) == 3 else ""))
    good.sort(key=lambda h: h.day)
    if errors:
        raise HolidayImportError(errors, good)
    return good


def _ics_lines(text: str) -> list[tuple[int, str]]:
    """Unfold RFC 5545 continuation lines; keeps the physical line number of each logical line."""
    out: list[tuple[int, str]] = []
    for no, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
        elif line.strip():
            out.append((no, line))
    return out


def _ics_unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _ics_date(value: str, params: str) -> tuple[date, bool]:
    """Date of a DTSTART/DTEND value; the flag says it had a time part that is not midnight."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?", v)
    if m is None:
        raise ValueError(f"bad date value {v!r}")
    if "VALUE=DATE" in params.upper() and m.group(4) is not None:
        raise ValueError(f"VALUE=DATE but {v!r} has a time")
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"date {v!r} does not exist") from None
    has_time = m.group(4) is not None and (m.group(4), m.group(5), m.group(6)) != ("00", "00", "00")
    return d, has_time


def _ics_duration_days(value: str) -> int:
    m = re.fullmatch(r"P(?:(\d+)W)?(?:(\d+)D)?", value.strip())
    if m is None or (m.group(1) is None and m.group(2) is None):
        raise ValueError(f"DURATION {value!r} must be whole days or weeks (e.g. P3D)")
    return int(m.group(1) or 0) * 7 + int(m.group(2) or 0)


def parse_holidays_ics(text: str) -> list[Holiday]:
    """Parse all-day VEVENTs of an iCalendar feed into one :class:`Holiday` per date.

    DTSTART (``VALUE=DATE``) to DTEND (exclusive; or DURATION; default one day) covers the dates.
    A SUMMARY containing 补班, 上班 or "workday" marks make-up workdays; anything else is a holiday.
    Bad events raise :class:`HolidayImportError` (row = line of ``BEGIN:VEVENT``).
    """
    errors: list[ImportRowError] = []
    by_day: dict[date, tuple[Holiday, int]] = {}
    event: dict[str, tuple[str, str]] | None = None
    event_line = 0
    for no, line in _ics_lines(text):
        name_part, sep, value = line.partition(":")
        if not sep:
            continue  # not a property line; tolerate junk outside events
        prop, _, params = name_part.partition(";")
        prop = prop.strip().upper()
        if prop == "BEGIN" and value.strip().upper() == "VEVENT":
            event, event_line = {}, no
        elif prop == "END" and value.strip().upper() == "VEVENT" and event is not None:
            try:
                days, hol_kind, summary = _ics_event(event)
            except ValueError as exc:
                errors.append(ImportRowError(event_line, str(exc)))
            else:
                for d in days:
                    seen = by_day.get(d)
                    if seen is None:
                        by_day[d] = (Holiday(d, hol_kind, summary), event_line)
                    elif seen[0].kind != hol_kind:
                        errors.append(
                            ImportRowError(
                                event_line, f"{d} is a {hol_kind} here but a {seen[0].kind} on row {seen[1]}"
                            )
                        )
            event = None
        elif event is not None:
            event.setdefault(prop, (params, value))
    if event is not None:
        errors.append(ImportRowError(event_line, "VEVENT is not closed by END:VEVENT"))
    good = [h for h, _ in sorted(by_day.values(), key=lambda hv: hv[0].day)]
    if errors:
        raise HolidayImportError(errors, good)
    return good


def _ics_event(event: Mapping[str, tuple[str, str]]) -> tuple[list[date], HolidayKind, str]:
    if "DTSTART" not in event:
        raise ValueError("VEVENT has no DTSTART")
    start, _ = _ics_date(event["DTSTART"][1], event["DTSTART"][0])
    if "DTEND" in event:
        end, has_time = _ics_date(event["DTEND"][1], event["DTEND"][0])
        n_days = (end - start).days + (1 if has_time else 0)  # a timed end still covers its date
    elif "DURATION" in event:
        n_days = _ics_duration_days(event["DURATION"][1])
    else:
        n_days = 1  # RFC 5545: an all-day event without DTEND lasts one day
    if n_days < 1:
        raise ValueError("DTEND is not after DTSTART")
    if n_days > _MAX_EVENT_DAYS:
        raise ValueError(f"event spans {n_days} days; at most {_MAX_EVENT_DAYS} allowed")
    summary = _ics_unescape(event.get("SUMMARY", ("", ""))[1]).strip()
    lowered = summary.lower()
    is_workday = "补班" in summary or "上班" in summary or "workday" in lowered
    kind: HolidayKind = "workday" if is_workday else "holiday"
    return [start + timedelta(days=i) for i in range(n_days)], kind, summary
