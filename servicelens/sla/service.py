"""SLA rules: calendars, policy choice, per-ticket targets, the due scanner and escalation ladders.

Deadlines are recomputed only when an input changes (ticket status, priority, type, customer tier,
policy or calendar); the scanner reads only rows whose ``next_check_at`` has come, so its cost
grows with the number of due items, not with open tickets.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, and_, bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicelens.core.clock import precise_now, utcnow
from servicelens.core.db import Database
from servicelens.core.errors import ProblemError, conflict, not_found
from servicelens.customers.models import Customer
from servicelens.org.models import Region, Role, Team, User
from servicelens.sla.calendar import (
    CalendarError,
    Clock,
    Holiday,
    HolidayImportError,
    Schedule,
    ScheduleOverride,
    ScheduleVersion,
    add_business_minutes,
    business_seconds_between,
    describe_day,
    parse_holidays_csv,
    parse_holidays_ics,
    statutory_coverage,
)
from servicelens.sla.engine import History, TargetResult, TargetSpec, evaluate
from servicelens.sla.models import (
    Calendar,
    CalendarHoliday,
    CalendarOverride,
    CalendarVersion,
    EscalationRule,
    EscalationStep,
    EscalationTrigger,
    SlaPolicy,
    TargetMetric,
    TargetState,
    TicketSla,
)
from servicelens.sla.schemas import (
    CalendarComputeIn,
    CalendarComputeOut,
    CalendarCreate,
    CalendarOut,
    CalendarOverrideIn,
    CalendarPatch,
    CalendarVersionIn,
    HolidayImportResult,
    HolidayOut,
    NodeCheckOut,
    PolicyIn,
    PolicyOut,
    PreviewIn,
    PreviewOut,
    RuleIn,
    RuleOut,
    TargetOut,
    TicketSlaOut,
)
from servicelens.tickets.models import EventKind, Priority, Ticket, TicketComment, TicketEvent

FINAL = (TargetState.achieved.value, TargetState.breached.value, TargetState.cancelled.value)
PRIORITY_ORDER = [p.value for p in Priority]
STATUS_CATEGORY = {
    "new": "new",
    "assigned": "open",
    "in_progress": "open",
    "pending_customer": "pending",
    "on_hold": "on_hold",
    "resolved": "solved",
    "closed": "closed",
}
OPEN_STATUSES = ("new", "assigned", "in_progress", "pending_customer", "on_hold")
METRIC_LABEL = {
    "first_reply": ("首次响应", "first response"),
    "next_reply": ("后续响应", "next response"),
    "resolution": ("解决", "resolution"),
}


def _calendar_error(exc: CalendarError) -> ProblemError:
    return ProblemError(422, exc.code, "Invalid calendar", str(exc))


# ================================================================ calendars

_schedules: dict[int, tuple[datetime, Schedule]] = {}
_schedules_lock = threading.Lock()


def _build_schedule(
    cal: Calendar,
    versions: Sequence[CalendarVersion | CalendarVersionIn],
    overrides: Sequence[CalendarOverride | CalendarOverrideIn],
    holidays: Sequence[CalendarHoliday],
) -> Schedule:
    try:
        return Schedule(
            tz=cal.tz,
            versions=[ScheduleVersion(v.effective_from, v.weekly_hours, v.makeup_template_weekday) for v in versions],
            overrides=[ScheduleOverride(o.day, o.kind, o.hours) for o in overrides],  # type: ignore[arg-type]
            observe_statutory=cal.observe_statutory,
            statutory_region=cal.statutory_region,  # type: ignore[arg-type]
            imported_holidays=[Holiday(h.day, h.kind, h.name) for h in holidays],  # type: ignore[arg-type]
        )
    except CalendarError as exc:
        raise _calendar_error(exc) from exc


def schedule_for(session: Session, calendar_id: int | None) -> Schedule | None:
    """The compiled schedule of a calendar, rebuilt only when the calendar changed."""
    if calendar_id is None:
        return None
    stamp = session.scalar(select(Calendar.updated_at).where(Calendar.id == calendar_id))
    if stamp is None:
        return None
    hit = _schedules.get(calendar_id)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    cal = session.get(Calendar, calendar_id)
    assert cal is not None
    schedule = _build_schedule(
        cal,
        session.scalars(select(CalendarVersion).where(CalendarVersion.calendar_id == calendar_id)).all(),
        session.scalars(select(CalendarOverride).where(CalendarOverride.calendar_id == calendar_id)).all(),
        session.scalars(select(CalendarHoliday).where(CalendarHoliday.calendar_id == calendar_id)).all(),
    )
    with _schedules_lock:
        _schedules[calendar_id] = (stamp, schedule)
    return schedule


def _local_today(tz: str) -> date:
    return utcnow().astimezone(ZoneInfo(tz)).date()


def calendar_out(session: Session, cal: Calendar) -> CalendarOut:
    versions = session.scalars(
        select(CalendarVersion).where(CalendarVersion.calendar_id == cal.id).order_by(CalendarVersion.effective_from)
    ).all()
    overrides = session.scalars(
        select(CalendarOverride).where(CalendarOverride.calendar_id == cal.id).order_by(CalendarOverride.day)
    ).all()
    holidays = session.scalars(
        select(CalendarHoliday).where(CalendarHoliday.calendar_id == cal.id).order_by(CalendarHoliday.day)
    ).all()
    schedule = _build_schedule(cal, versions, overrides, holidays)
    today = _local_today(cal.tz)
    # Deadlines of open tickets can reach about a year ahead (regular SLAs, long pauses).
    warnings = statutory_coverage(schedule, today, today + timedelta(days=366))
    return CalendarOut(
        id=cal.id,
        name=cal.name,
        tz=cal.tz,
        observe_statutory=cal.observe_statutory,
        statutory_region=cal.statutory_region,
        versions=[
            CalendarVersionIn(
                effective_from=v.effective_from,
                weekly_hours=v.weekly_hours,
                makeup_template_weekday=v.makeup_template_weekday,
            )
            for v in versions
        ],
        overrides=[CalendarOverrideIn(day=o.day, kind=o.kind, hours=o.hours, name=o.name) for o in overrides],
        holidays=[HolidayOut(day=h.day, kind=h.kind, name=h.name) for h in holidays],
        coverage_warnings=warnings,
        updated_at=cal.updated_at,
    )


def list_calendars(session: Session) -> list[CalendarOut]:
    return [calendar_out(session, c) for c in session.scalars(select(Calendar).order_by(Calendar.id))]


def get_calendar(session: Session, calendar_id: int) -> Calendar:
    cal = session.get(Calendar, calendar_id)
    if cal is None:
        raise not_found("calendar", calendar_id)
    return cal


def create_calendar(session: Session, body: CalendarCreate) -> Calendar:
    if session.scalar(select(Calendar.id).where(Calendar.name == body.name)):
        raise conflict("calendar.name_taken", f"Calendar '{body.name}' exists")
    now = utcnow()
    cal = Calendar(
        name=body.name,
        tz=body.tz,
        observe_statutory=body.observe_statutory,
        statutory_region=body.statutory_region if body.observe_statutory else None,
        created_at=now,
        updated_at=now,
    )
    version = CalendarVersionIn(
        effective_from=body.effective_from,
        weekly_hours=body.weekly_hours,
        makeup_template_weekday=body.makeup_template_weekday,
    )
    _build_schedule(cal, [version], body.overrides, [])  # validates before anything is stored
    session.add(cal)
    session.flush()
    session.add(CalendarVersion(calendar_id=cal.id, **version.model_dump()))
    for o in body.overrides:
        session.add(CalendarOverride(calendar_id=cal.id, **o.model_dump()))
    session.flush()
    return cal


def _touch_calendar(session: Session, cal: Calendar) -> None:
    cal.updated_at = max(utcnow(), cal.updated_at + timedelta(seconds=1))
    _queue_rebuild(session, calendar_id=cal.id)


def update_calendar(session: Session, calendar_id: int, body: CalendarPatch) -> Calendar:
    cal = get_calendar(session, calendar_id)
    changes = body.model_dump(exclude_unset=True)
    for k, v in changes.items():
        setattr(cal, k, v)
    _validate_stored(session, cal)
    _touch_calendar(session, cal)
    return cal


def _validate_stored(session: Session, cal: Calendar, extra_version: CalendarVersionIn | None = None) -> None:
    versions: list[Any] = list(
        session.scalars(select(CalendarVersion).where(CalendarVersion.calendar_id == cal.id)).all()
    )
    if extra_version is not None:
        versions.append(extra_version)
    _build_schedule(
        cal,
        versions,
        session.scalars(select(CalendarOverride).where(CalendarOverride.calendar_id == cal.id)).all(),
        session.scalars(select(CalendarHoliday).where(CalendarHoliday.calendar_id == cal.id)).all(),
    )


def add_version(session: Session, calendar_id: int, body: CalendarVersionIn) -> Calendar:
    """New weekly hours from a date on; past dates keep the version they had (metrics.md J14)."""
    cal = get_calendar(session, calendar_id)
    if body.effective_from < _local_today(cal.tz):
        raise ProblemError(
            422,
            "calendar.version_in_past",
            "Invalid calendar",
            "A new version must take effect today or later; past results are never recomputed",
            [{"field": "effective_from", "reason": "in the past"}],
        )
    _validate_stored(session, cal, body)
    session.execute(
        delete(CalendarVersion).where(
            CalendarVersion.calendar_id == cal.id, CalendarVersion.effective_from == body.effective_from
        )
    )
    session.add(CalendarVersion(calendar_id=cal.id, **body.model_dump()))
    _touch_calendar(session, cal)
    session.flush()
    return cal


def set_override(session: Session, calendar_id: int, body: CalendarOverrideIn) -> Calendar:
    cal = get_calendar(session, calendar_id)
    try:
        ScheduleOverride(body.day, body.kind, body.hours)
    except CalendarError as exc:
        raise _calendar_error(exc) from exc
    session.execute(
        delete(CalendarOverride).where(CalendarOverride.calendar_id == cal.id, CalendarOverride.day == body.day)
    )
    session.add(CalendarOverride(calendar_id=cal.id, **body.model_dump()))
    _touch_calendar(session, cal)
    session.flush()
    return cal


def import_holidays(session: Session, calendar_id: int, text: str, fmt: str) -> HolidayImportResult:
    """Holidays and make-up workdays from CSV (date,kind,name) or iCalendar; good rows are kept."""
    cal = get_calendar(session, calendar_id)
    errors: list[dict[str, Any]] = []
    try:
        rows = parse_holidays_ics(text) if fmt == "ics" else parse_holidays_csv(text)
    except HolidayImportError as exc:
        rows = list(exc.valid)
        errors = [{"row": e.row, "reason": e.reason} for e in exc.errors]
    except CalendarError as exc:
        raise _calendar_error(exc) from exc
    if rows:
        session.execute(
            delete(CalendarHoliday).where(
                CalendarHoliday.calendar_id == cal.id, CalendarHoliday.day.in_([h.day for h in rows])
            )
        )
        session.add_all(CalendarHoliday(calendar_id=cal.id, day=h.day, kind=h.kind, name=h.name) for h in rows)
        _touch_calendar(session, cal)
        session.flush()
    return HolidayImportResult(imported=len(rows), errors=errors, years=sorted({h.day.year for h in rows}))


def compute(session: Session, calendar_id: int, body: CalendarComputeIn) -> CalendarComputeOut:
    """Admin preview: a deadline (start + minutes) or the business minutes between two instants."""
    schedule = schedule_for(session, get_calendar(session, calendar_id).id)
    assert schedule is not None
    try:
        due = add_business_minutes(schedule, body.start, body.minutes) if body.minutes is not None else None
        between = business_seconds_between(schedule, body.start, body.end) / 60 if body.end is not None else None
    except CalendarError as exc:
        raise _calendar_error(exc) from exc
    last = due or body.end or body.start
    first_day = body.start.astimezone(schedule.zone).date()
    last_day = last.astimezone(schedule.zone).date()
    days: list[dict[str, Any]] = []
    d = first_day
    while d <= last_day and len(days) < 60:
        info = describe_day(schedule, d)
        days.append(
            {
                "day": d,
                "kind": info.kind.value,
                "hours": info.hours,
                "name": info.name,
                "covered": info.statutory_covered,
            }
        )
        d += timedelta(days=1)
    return CalendarComputeOut(due_at=due, business_minutes=between, days=days)


def delete_calendar(session: Session, calendar_id: int) -> None:
    cal = get_calendar(session, calendar_id)
    if session.scalar(select(SlaPolicy.id).where(SlaPolicy.calendar_id == cal.id).limit(1)):
        raise conflict("calendar.in_use", "A policy uses this calendar; change the policy first")
    session.delete(cal)
    _schedules.pop(calendar_id, None)


# ================================================================ policies


def policy_out(p: SlaPolicy) -> PolicyOut:
    return PolicyOut.model_validate(
        {
            "id": p.id,
            "name": p.name,
            "position": p.position,
            "is_active": p.is_active,
            "no_sla": p.no_sla,
            "conditions": p.conditions,
            "calendar_id": p.calendar_id,
            "targets": p.targets,
            "pause_statuses": p.pause_statuses,
            "warn_ratio": p.warn_ratio,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }
    )


def _unknown_condition_refs(session: Session, conditions: dict[str, Any]) -> list[dict[str, Any]]:
    """Conditions naming products, regions, customers or teams that do not exist could never match."""
    from servicelens.products.models import Product

    errors = []
    for key, model in (("product_id", Product), ("region_id", Region), ("customer_id", Customer), ("team_id", Team)):
        wanted = set(conditions.get(key) or [])
        if wanted:
            found = set(session.scalars(select(model.id).where(model.id.in_(wanted))))
            for missing in sorted(wanted - found):
                errors.append(
                    {"field": f"conditions.{key}", "reason": f"{model.__tablename__} {missing} does not exist"}
                )
    return errors


def _check_policy(session: Session, body: PolicyIn) -> None:
    errors = _unknown_condition_refs(session, body.conditions.model_dump())
    if body.calendar_id is not None and session.get(Calendar, body.calendar_id) is None:
        errors.append({"field": "calendar_id", "reason": f"calendar {body.calendar_id} does not exist"})
    if not body.no_sla and not body.targets:
        errors.append({"field": "targets", "reason": "a policy needs targets, or no_sla=true"})
    if any(t.clock == "business" for t in body.targets) and body.calendar_id is None:
        errors.append({"field": "calendar_id", "reason": "business-time targets need a calendar"})
    seen: set[tuple[str, str]] = set()
    for i, t in enumerate(body.targets):
        for pr in [p.value for p in t.priorities] or ["*"]:
            key = (t.metric.value, str(pr))
            if key in seen:
                errors.append({"field": f"targets.{i}", "reason": f"two {t.metric.value} targets for priority {pr}"})
            seen.add(key)
    if errors:
        raise ProblemError(422, "validation_error", "Invalid policy", errors[0]["reason"], errors)


def list_policies(session: Session) -> list[PolicyOut]:
    return [policy_out(p) for p in session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id))]


def create_policy(session: Session, body: PolicyIn) -> SlaPolicy:
    _check_policy(session, body)
    if session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == body.name)):
        raise conflict("policy.name_taken", f"Policy '{body.name}' exists")
    now = utcnow()
    p = SlaPolicy(**body.model_dump(mode="json"), created_at=now, updated_at=now)
    session.add(p)
    session.flush()
    _queue_rebuild(session, policy_id=p.id)
    return p


def update_policy(session: Session, policy_id: int, body: PolicyIn) -> SlaPolicy:
    p = session.get(SlaPolicy, policy_id)
    if p is None:
        raise not_found("policy", policy_id)
    _check_policy(session, body)
    for k, v in body.model_dump(mode="json").items():
        setattr(p, k, v)
    p.updated_at = utcnow()
    _queue_rebuild(session, policy_id=p.id)
    return p


def delete_policy(session: Session, policy_id: int) -> None:
    p = session.get(SlaPolicy, policy_id)
    if p is None:
        raise not_found("policy", policy_id)
    p.is_active = False  # targets keep their policy reference for history; it just stops matching
    p.updated_at = utcnow()
    _queue_rebuild(session, policy_id=p.id)


def _matches(conditions: dict[str, Any], facts: dict[str, Any]) -> bool:
    return all(not (allowed and facts.get(key) not in allowed) for key, allowed in conditions.items())


def ticket_facts(ticket: Ticket, tier: str | None) -> dict[str, Any]:
    return {
        "type": ticket.type,
        "priority": ticket.priority,
        "tier": tier or "regular",
        "channel": ticket.channel,
        "product_id": ticket.product_id,
        "region_id": ticket.region_id,
        "customer_id": ticket.customer_id,
        "team_id": ticket.team_id,
        "flag_color": ticket.flag_color,
    }


def choose_policy(policies: Sequence[SlaPolicy], facts: dict[str, Any]) -> SlaPolicy | None:
    """First active policy whose conditions all match, by position."""
    for p in policies:
        if p.is_active and _matches(p.conditions or {}, facts):
            return p
    return None


def target_specs(policy: SlaPolicy, priority: str) -> list[TargetSpec]:
    """Targets for a priority: a target naming the priority wins over a generic one."""
    chosen: dict[str, dict[str, Any]] = {}
    for t in policy.targets:
        prios = t.get("priorities") or []
        if prios and priority not in prios:
            continue
        if t["metric"] in chosen and not prios:
            continue
        chosen[t["metric"]] = t
    return [
        TargetSpec(TargetMetric(t["metric"]), float(t["minutes"]), Clock(t.get("clock", "business")))
        for t in chosen.values()
    ]


# ================================================================ history & sync


def _active_policies(session: Session) -> list[SlaPolicy]:
    return list(
        session.scalars(
            select(SlaPolicy).where(SlaPolicy.is_active.is_(True)).order_by(SlaPolicy.position, SlaPolicy.id)
        )
    )


def _active_rules(session: Session) -> list[EscalationRule]:
    return list(
        session.scalars(
            select(EscalationRule)
            .where(EscalationRule.is_active.is_(True))
            .order_by(EscalationRule.position, EscalationRule.id)
        )
    )


def load_histories(session: Session, tickets: Sequence[Ticket]) -> dict[int, History]:
    """Histories of many tickets in two queries."""
    ids = [t.id for t in tickets]
    statuses: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    cancelled: dict[int, datetime] = {}
    for tid, kind, at, to_status in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.at, TicketEvent.to_status)
        .where(
            TicketEvent.ticket_id.in_(ids),
            TicketEvent.kind.in_(("created", "status_changed", "merged_into")),
        )
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    ):
        if to_status:
            statuses[tid].append((at, STATUS_CATEGORY.get(to_status, "open")))
        if kind == "merged_into":
            cancelled[tid] = at
    replies: dict[int, list[datetime]] = defaultdict(list)
    messages: dict[int, list[datetime]] = defaultdict(list)
    for tid, kind, at in session.execute(
        select(TicketComment.ticket_id, TicketComment.author_kind, TicketComment.created_at)
        .where(TicketComment.ticket_id.in_(ids), TicketComment.public.is_(True))
        .order_by(TicketComment.ticket_id, TicketComment.id)
    ):
        (replies if kind == "agent" else messages)[tid].append(at)
    out: dict[int, History] = {}
    for t in tickets:
        seq = statuses.get(t.id) or _synthetic_statuses(t)
        agent = replies.get(t.id, [])
        if not agent and t.first_response_at is not None:
            agent = [t.first_response_at]  # imported tickets carry the timestamp, not the comment
        cancel = cancelled.get(t.id)
        if cancel is None and (t.is_spam or t.is_deleted or t.merged_into_id is not None):
            cancel = t.updated_at
        out[t.id] = History(
            created_at=t.created_at,
            statuses=sorted(seq, key=lambda s: s[0]),
            agent_replies=sorted(agent),
            customer_messages=messages.get(t.id, []),
            cancelled_at=cancel,
        )
    return out


def _synthetic_statuses(t: Ticket) -> list[tuple[datetime, str]]:
    """Imported tickets have no status events: rebuild the outline from their timestamps."""
    seq = [(t.created_at, "new" if t.status == "new" else "open")]
    if t.first_resolved_at is not None:
        seq.append((t.first_resolved_at, "solved"))
    current = STATUS_CATEGORY.get(t.status, "open")
    if current not in ("solved", "closed") and t.first_resolved_at is not None:
        seq.append((t.updated_at, current))
    elif current == "closed" and t.closed_at is not None:
        seq.append((t.closed_at, "closed"))
    return seq


def record_event(
    session: Session,
    ticket_id: int,
    kind: EventKind,
    at: datetime,
    *,
    dedupe_key: str | None = None,
    actor_id: int | None = None,
    **data: Any,
) -> bool:
    """Append a ticket event once per ``dedupe_key``; returns False when it already existed."""
    if dedupe_key is not None and session.scalar(select(TicketEvent.id).where(TicketEvent.dedupe_key == dedupe_key)):
        return False
    ev = TicketEvent(ticket_id=ticket_id, kind=kind.value, actor_id=actor_id, at=at, data=data, dedupe_key=dedupe_key)
    try:
        with session.begin_nested():
            session.add(ev)
    except IntegrityError:
        return False  # another worker recorded it first
    return True


class _NewTarget:
    """A target row not yet in the database: cheaper than an ORM object for bulk inserts."""

    __slots__ = (
        "breach_seconds",
        "breached_at",
        "clock",
        "cycle",
        "due_at",
        "fulfilled_at",
        "metric",
        "next_check_at",
        "paused_seconds",
        "policy_id",
        "started_at",
        "state",
        "statutory_coverage",
        "target_minutes",
        "ticket_id",
        "updated_at",
        "used_seconds",
        "warn_at",
        "warned",
    )

    def __init__(self, ticket_id: int, metric: str, cycle: int, started_at: datetime, now: datetime) -> None:
        self.ticket_id = ticket_id
        self.metric = metric
        self.cycle = cycle
        self.started_at = started_at
        self.updated_at = now
        self.policy_id: int | None = None
        self.clock = "business"
        self.target_minutes = 0.0
        self.state = TargetState.active.value
        self.warned = False
        self.due_at: datetime | None = None
        self.warn_at: datetime | None = None
        self.fulfilled_at: datetime | None = None
        self.breached_at: datetime | None = None
        self.used_seconds = 0.0
        self.paused_seconds = 0.0
        self.breach_seconds = 0.0
        self.statutory_coverage = True
        self.next_check_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class Syncer:
    """Recomputes the targets of tickets; holds policies, rules and schedules for a batch."""

    def __init__(self, session: Session, now: datetime | None = None, *, backfill: bool = False) -> None:
        self.session = session
        self.now = now or utcnow()
        self.backfill = backfill  # demo/history: events at the instants they happened, not at now
        self.policies = _active_policies(session)
        self.rules = _active_rules(session)
        self._schedules: dict[int | None, Schedule | None] = {}
        # (event, then-callback) collected during a batch and written once, deduplicated in bulk.
        self._events: list[tuple[TicketEvent, Callable[[], None] | None]] = []
        self._new_targets: list[_NewTarget] = []

    def _schedule(self, calendar_id: int | None) -> Schedule | None:
        if calendar_id not in self._schedules:
            self._schedules[calendar_id] = schedule_for(self.session, calendar_id)
        return self._schedules[calendar_id]

    def _emit(
        self, t: Ticket, kind: EventKind, at: datetime, dedupe_key: str, then: Callable[[], None] | None, **data: Any
    ) -> None:
        ev = TicketEvent(ticket_id=t.id, kind=kind.value, actor_id=None, at=at, data=data, dedupe_key=dedupe_key)
        self._events.append((ev, then))

    def _write_events(self) -> None:
        if not self._events:
            return
        keys = [ev.dedupe_key for ev, _ in self._events]
        existing: set[str] = set()
        for i in range(0, len(keys), 500):
            existing.update(
                k
                for k in self.session.scalars(
                    select(TicketEvent.dedupe_key).where(TicketEvent.dedupe_key.in_(keys[i : i + 500]))
                )
                if k
            )
        fresh = [(ev, then) for ev, then in self._events if ev.dedupe_key not in existing]
        self._events = []
        if len(fresh) == 1:  # live path: a concurrent writer may race us on the unique key
            ev, then = fresh[0]
            try:
                with self.session.begin_nested():
                    self.session.add(ev)
            except IntegrityError:
                return
            if then is not None:
                then()
            return
        if fresh:
            self.session.connection().execute(
                insert(cast(Table, TicketEvent.__table__)),
                [
                    {
                        "ticket_id": ev.ticket_id,
                        "kind": ev.kind,
                        "actor_id": None,
                        "at": ev.at,
                        "from_status": None,
                        "to_status": None,
                        "data": ev.data,
                        "dedupe_key": ev.dedupe_key,
                    }
                    for ev, _ in fresh
                ],
            )
        for _, then in fresh:
            if then is not None:
                then()

    def sync(self, tickets: Sequence[Ticket]) -> None:
        if not tickets:
            return
        with self.session.no_autoflush:
            self._sync(tickets)
        if self._new_targets:
            # Core executemany on the table: the ORM bulk path would emit one INSERT per row here.
            self.session.connection().execute(
                insert(cast(Table, TicketSla.__table__)), [row.values() for row in self._new_targets]
            )
            self._new_targets = []
        self._write_events()

    def _sync(self, tickets: Sequence[Ticket]) -> None:
        s = self.session
        tiers = dict(
            s.execute(
                select(Customer.id, Customer.tier).where(
                    Customer.id.in_({t.customer_id for t in tickets if t.customer_id})
                )
            ).all()
        )
        histories = load_histories(s, tickets)
        existing: dict[int, dict[tuple[str, int], TicketSla]] = defaultdict(dict)
        for row in s.scalars(select(TicketSla).where(TicketSla.ticket_id.in_([t.id for t in tickets]))):
            existing[row.ticket_id][(row.metric, row.cycle)] = row
        for t in tickets:
            facts = ticket_facts(t, tiers.get(t.customer_id) if t.customer_id else None)
            self._sync_targets(t, facts, histories[t.id], existing[t.id])
        self._sync_time_steps(tickets, tiers)

    def _sync_targets(
        self, t: Ticket, facts: dict[str, Any], history: History, rows: dict[tuple[str, int], TicketSla]
    ) -> None:
        policy = choose_policy(self.policies, facts)
        results: list[TargetResult] = []
        schedule: Schedule | None = None
        if policy is not None and not policy.no_sla:
            schedule = self._schedule(policy.calendar_id)
            results = evaluate(
                history,
                target_specs(policy, t.priority),
                schedule,
                self.now,
                [STATUS_CATEGORY.get(p, p) for p in policy.pause_statuses],
                policy.warn_ratio,
            )
        seen: set[tuple[str, int]] = set()
        for r in results:
            key = (r.metric.value, r.cycle)
            seen.add(key)
            row: TicketSla | _NewTarget | None = rows.get(key)
            if row is None:
                # New rows are plain records inserted in one executemany at the end of the batch.
                new = _NewTarget(t.id, r.metric.value, r.cycle, r.started_at, self.now)
                self._new_targets.append(new)
                row = new
            self._apply(t, row, r, policy, schedule)
        for key, row in rows.items():
            if key not in seen and row.state not in FINAL:
                row.state = TargetState.cancelled.value
                row.next_check_at = None
                row.updated_at = self.now

    def _apply(
        self,
        t: Ticket,
        row: TicketSla | _NewTarget,
        r: TargetResult,
        policy: SlaPolicy | None,
        schedule: Schedule | None,
    ) -> None:
        was_breached = row.state == TargetState.breached.value
        was_warned = row.warned
        row.policy_id = policy.id if policy else None
        row.clock = r.clock.value
        row.target_minutes = r.target_minutes
        row.started_at = r.started_at
        row.used_seconds = r.used_seconds
        row.paused_seconds = r.paused_seconds
        row.fulfilled_at = r.fulfilled_at
        row.warn_at = r.warn_at
        row.updated_at = self.now
        if schedule is not None and r.due_at is not None:
            row.statutory_coverage = not statutory_coverage(schedule, r.started_at, r.due_at)
        if was_breached:
            # A breach is final (metrics.md §A.2): later changes never un-breach a target.
            row.breach_seconds = max(row.breach_seconds, r.breach_seconds)
            row.next_check_at = None
            return
        row.due_at = r.due_at
        row.state = r.state.value
        row.breach_seconds = r.breach_seconds
        if r.warned and not was_warned and r.state in (TargetState.active, TargetState.breached):
            row.warned = True
            at = r.warn_at if self.backfill and r.warn_at else self.now
            self._warn_event(t, row, at)
        if r.state is TargetState.breached:
            # Breached by a change (e.g. a priority raise) at the change time, or historically.
            at = r.due_at if (self.backfill or r.fulfilled_at is not None) and r.due_at else self.now
            row.breached_at = at
            row.warned = True
            self._breach_event(t, row, at)
        row.next_check_at = _next_check(row)

    def _warn_event(self, t: Ticket, row: TicketSla | _NewTarget, at: datetime) -> None:
        def then() -> None:
            schedule_sla_steps(self.session, self.rules, t, row.metric, EscalationTrigger.sla_warning, at)

        self._emit(
            t,
            EventKind.sla_warning,
            at,
            f"sla:{t.id}:{row.metric}:{row.cycle}:warn",
            None if self.backfill else then,
            metric=row.metric,
            cycle=row.cycle,
            due_at=row.due_at.isoformat() if row.due_at else None,
        )

    def _breach_event(self, t: Ticket, row: TicketSla | _NewTarget, at: datetime) -> None:
        def then() -> None:
            schedule_sla_steps(self.session, self.rules, t, row.metric, EscalationTrigger.sla_breach, at)

        self._emit(
            t,
            EventKind.sla_breached,
            at,
            f"sla:{t.id}:{row.metric}:{row.cycle}:breach",
            None if self.backfill else then,
            metric=row.metric,
            cycle=row.cycle,
            due_at=row.due_at.isoformat() if row.due_at else None,
            target_minutes=row.target_minutes,
        )

    def _sync_time_steps(self, tickets: Sequence[Ticket], tiers: dict[int, str]) -> None:
        """Schedule or cancel the age-based ladder levels (no first response / unresolved)."""
        rules = [
            r
            for r in self.rules
            if r.trigger in (EscalationTrigger.no_first_response.value, EscalationTrigger.unresolved.value)
        ]
        if not rules:
            return
        steps: dict[tuple[int, int, int], EscalationStep] = {
            (st.ticket_id, st.rule_id, st.level): st
            for st in self.session.scalars(
                select(EscalationStep).where(
                    EscalationStep.ticket_id.in_([t.id for t in tickets]),
                    EscalationStep.rule_id.in_([r.id for r in rules]),
                )
            )
        }
        for t in tickets:
            facts = ticket_facts(t, tiers.get(t.customer_id) if t.customer_id else None)
            solved = STATUS_CATEGORY.get(t.status) in ("solved", "closed") or t.merged_into_id is not None
            for rule in rules:
                pending = not solved and (
                    t.first_response_at is None if rule.trigger == EscalationTrigger.no_first_response.value else True
                )
                live = pending and _matches(rule.conditions or {}, facts)
                for level, spec in enumerate(rule.levels):
                    st = steps.get((t.id, rule.id, level))
                    if live:
                        due = t.created_at + timedelta(minutes=float(spec["after_minutes"]))
                        if st is None:
                            if self.backfill and due < self.now:
                                continue  # history: ladders only run live
                            self.session.add(
                                EscalationStep(
                                    ticket_id=t.id,
                                    rule_id=rule.id,
                                    level=level,
                                    due_at=due,
                                    next_check_at=due,
                                )
                            )
                        elif st.state == "pending" and st.due_at != due:
                            st.due_at = due
                            st.next_check_at = due
                    elif st is not None and st.state == "pending":
                        st.state = "cancelled"
                        st.next_check_at = None


def _next_check(row: TicketSla | _NewTarget) -> datetime | None:
    if row.state != TargetState.active.value or row.due_at is None:
        return None
    if not row.warned and row.warn_at is not None and row.warn_at < row.due_at:
        return row.warn_at
    return row.due_at


def sync_ticket(session: Session, ticket: Ticket, now: datetime | None = None) -> None:
    """Recompute one ticket's targets after a change (called by the tickets service)."""
    session.flush()
    Syncer(session, now).sync([ticket])


def resync_customer_tickets(session: Session, customer_id: int) -> int:
    """Re-evaluate the open tickets of one customer (its tier changed)."""
    tickets = list(
        session.scalars(select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES)))
    )
    Syncer(session).sync(tickets)
    return len(tickets)


def _queue_rebuild(session: Session, *, policy_id: int | None = None, calendar_id: int | None = None) -> None:
    from servicelens.core.jobs import enqueue

    enqueue(
        session,
        "sla.rebuild",
        {"policy_id": policy_id, "calendar_id": calendar_id},
        dedupe_key=None,
    )


def rebuild(
    db: Database,
    *,
    open_only: bool = True,
    batch: int = 500,
    now: datetime | None = None,
    backfill: bool = False,
) -> int:
    """Recompute targets of (open) tickets in batches; used after policy/calendar edits and by the demo."""
    done = 0
    last_id = 0
    while True:
        with db.session() as s:
            stmt = select(Ticket).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch)
            if open_only:
                stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
            tickets = list(s.scalars(stmt))
            if not tickets:
                return done
            Syncer(s, now, backfill=backfill).sync(tickets)
            last_id = tickets[-1].id
            done += len(tickets)


# ================================================================ scanner & escalation


def schedule_sla_steps(
    session: Session,
    rules: Sequence[EscalationRule],
    ticket: Ticket,
    metric: str,
    trigger: EscalationTrigger,
    at: datetime,
) -> None:
    tier = (
        session.scalar(select(Customer.tier).where(Customer.id == ticket.customer_id)) if ticket.customer_id else None
    )
    facts = ticket_facts(ticket, tier)
    for rule in rules:
        if rule.trigger != trigger.value or (rule.metric and rule.metric != metric):
            continue
        if not _matches(rule.conditions or {}, facts):
            continue
        for level, spec in enumerate(rule.levels):
            due = at + timedelta(minutes=float(spec["after_minutes"]))
            exists = session.scalar(
                select(EscalationStep.id).where(
                    EscalationStep.ticket_id == ticket.id,
                    EscalationStep.rule_id == rule.id,
                    EscalationStep.level == level,
                )
            )
            if exists is None:
                session.add(
                    EscalationStep(ticket_id=ticket.id, rule_id=rule.id, level=level, due_at=due, next_check_at=due)
                )


def _claim(session: Session, stmt: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


def scan_due(db: Database, now: datetime | None = None, limit: int = 500) -> int:
    """One scanner pass: record due warnings/breaches and fire due ladder levels. Returns work done."""
    now = now or precise_now()
    handled = 0
    while True:
        with db.session() as s:
            rows = list(
                s.scalars(
                    _claim(
                        s,
                        select(TicketSla)
                        .where(TicketSla.next_check_at <= now)
                        .order_by(TicketSla.next_check_at)
                        .limit(limit),
                    )
                )
            )
            steps = list(
                s.scalars(
                    _claim(
                        s,
                        select(EscalationStep)
                        .where(EscalationStep.next_check_at <= now)
                        .order_by(EscalationStep.next_check_at)
                        .limit(limit),
                    )
                )
            )
            if not rows and not steps:
                return handled
            tickets = {
                t.id: t
                for t in s.scalars(
                    select(Ticket).where(Ticket.id.in_({r.ticket_id for r in rows} | {st.ticket_id for st in steps}))
                )
            }
            rules = _active_rules(s)
            for row in rows:
                _check_target(s, rules, tickets[row.ticket_id], row, now)
            s.flush()
            # Steps created by this pass with due ≤ now (after_minutes = 0) fire in the same pass.
            steps += [
                st
                for st in s.scalars(
                    select(EscalationStep).where(
                        EscalationStep.next_check_at <= now,
                        EscalationStep.id.not_in([x.id for x in steps] or [0]),
                    )
                )
                if st.ticket_id in tickets
            ]
            rule_by_id = {r.id: r for r in s.scalars(select(EscalationRule))}
            for st in steps:
                ticket = tickets.get(st.ticket_id) or s.get(Ticket, st.ticket_id)
                rule = rule_by_id.get(st.rule_id)
                if ticket is None or rule is None or not rule.is_active or st.state != "pending":
                    st.next_check_at = None
                    continue
                fire_step(s, st, ticket, rule, now)
            handled += len(rows) + len(steps)
            if len(rows) < limit and len(steps) < limit:
                return handled


def _check_target(session: Session, rules: Sequence[EscalationRule], t: Ticket, row: TicketSla, now: datetime) -> None:
    if row.state != TargetState.active.value or row.due_at is None:
        row.next_check_at = None
        return
    if row.due_at < now:
        row.state = TargetState.breached.value
        row.breached_at = row.due_at
        row.warned = True
        row.next_check_at = None
        row.updated_at = now
        if record_event(
            session,
            t.id,
            EventKind.sla_breached,
            row.due_at,
            dedupe_key=f"sla:{t.id}:{row.metric}:{row.cycle}:breach",
            metric=row.metric,
            cycle=row.cycle,
            due_at=row.due_at.isoformat(),
            target_minutes=row.target_minutes,
            detected_at=now.isoformat(),
        ):
            schedule_sla_steps(session, rules, t, row.metric, EscalationTrigger.sla_breach, row.due_at)
        return
    if not row.warned and row.warn_at is not None and row.warn_at <= now:
        row.warned = True
        row.updated_at = now
        if record_event(
            session,
            t.id,
            EventKind.sla_warning,
            row.warn_at,
            dedupe_key=f"sla:{t.id}:{row.metric}:{row.cycle}:warn",
            metric=row.metric,
            cycle=row.cycle,
            due_at=row.due_at.isoformat(),
        ):
            schedule_sla_steps(session, rules, t, row.metric, EscalationTrigger.sla_warning, row.warn_at)
    row.next_check_at = _next_check(row)


def _recipients(session: Session, ticket: Ticket, action: dict[str, Any]) -> list[int]:
    ids: set[int] = set(action.get("user_ids") or [])
    for role in action.get("roles") or []:
        if role == "assignee" and ticket.assignee_id:
            ids.add(ticket.assignee_id)
        elif role == "team_supervisor" and ticket.team_id:
            sup = session.scalar(select(Team.supervisor_id).where(Team.id == ticket.team_id))
            if sup:
                ids.add(sup)
        elif role == "regional_manager" and ticket.region_id:
            mgr = session.scalar(select(Region.manager_id).where(Region.id == ticket.region_id))
            if mgr:
                ids.add(mgr)
        elif role == "admin":
            ids.update(session.scalars(select(User.id).where(User.role == Role.admin.value, User.is_active.is_(True))))
    return sorted(ids)


def fire_step(session: Session, step: EscalationStep, ticket: Ticket, rule: EscalationRule, now: datetime) -> None:
    """Run one ladder level's actions once, and record the firing as a ticket event."""
    from servicelens.alerts import service as alerts

    step.state = "fired"
    step.fired_at = now
    step.next_check_at = None
    level = rule.levels[step.level]
    done: list[dict[str, Any]] = []
    priority_changed = False
    title = f"[升级 Escalation] #{ticket.id} {ticket.subject} — {rule.name} (L{step.level + 1})"
    body = (
        f"工单 #{ticket.id}「{ticket.subject}」触发升级规则「{rule.name}」第 {step.level + 1} 级。\n"
        f"Ticket #{ticket.id} '{ticket.subject}' escalated by rule '{rule.name}', level {step.level + 1}."
    )
    for action in level["actions"]:
        kind = action["type"]
        if kind == "flag" and action.get("color"):
            if ticket.flag_color != action["color"]:
                previous = ticket.flag_color
                ticket.flag_color = action["color"]
                record_event(session, ticket.id, EventKind.flagged, now, color=action["color"], previous=previous)
            done.append({"type": "flag", "color": action["color"]})
        elif kind == "priority":
            old = ticket.priority
            new = (
                action.get("set")
                or PRIORITY_ORDER[
                    min(
                        len(PRIORITY_ORDER) - 1,
                        PRIORITY_ORDER.index(old) + int(action.get("raise_levels") or 1),
                    )
                ]
            )
            if new != old:
                ticket.priority = new
                priority_changed = True
                record_event(session, ticket.id, EventKind.priority_changed, now, previous=old, priority=new)
            done.append({"type": "priority", "from": old, "to": new})
        elif kind == "reassign":
            to = action.get("to")
            target: int | None = None
            if to == "team_supervisor" and ticket.team_id:
                target = session.scalar(select(Team.supervisor_id).where(Team.id == ticket.team_id))
            elif to == "regional_manager" and ticket.region_id:
                target = session.scalar(select(Region.manager_id).where(Region.id == ticket.region_id))
            elif isinstance(to, int):
                target = to
            if target and target != ticket.assignee_id:
                previous_assignee = ticket.assignee_id
                ticket.assignee_id = target
                record_event(
                    session,
                    ticket.id,
                    EventKind.assigned,
                    now,
                    assignee_id=target,
                    previous=previous_assignee,
                )
            done.append({"type": "reassign", "to": target})
        elif kind == "notify":
            users = _recipients(session, ticket, action)
            if users:
                alerts.notify(
                    session,
                    user_ids=users,
                    kind="escalation",
                    title=title,
                    body=body,
                    ticket_id=ticket.id,
                    data={"rule_id": rule.id, "level": step.level + 1},
                )
            done.append({"type": "notify", "user_ids": users})
        elif kind == "webhook":
            channel_ids = list(action.get("channel_ids") or [])
            if channel_ids:
                alerts.broadcast(
                    session,
                    channel_ids=channel_ids,
                    title=title,
                    body=body,
                    data={
                        "event": "ticket.escalated",
                        "ticket_id": ticket.id,
                        "rule_id": rule.id,
                        "level": step.level + 1,
                        "priority": ticket.priority,
                        "status": ticket.status,
                    },
                )
            done.append({"type": "webhook", "channel_ids": channel_ids})
    ticket.updated_at = now
    record_event(
        session,
        ticket.id,
        EventKind.escalated,
        now,
        dedupe_key=f"esc:{ticket.id}:{rule.id}:{step.level}",
        rule_id=rule.id,
        rule_name=rule.name,
        level=step.level + 1,
        actions=done,
    )
    if priority_changed:
        Syncer(session, now).sync([ticket])


# ================================================================ rules


def rule_out(r: EscalationRule) -> RuleOut:
    return RuleOut.model_validate(
        {
            "id": r.id,
            "name": r.name,
            "position": r.position,
            "is_active": r.is_active,
            "conditions": r.conditions,
            "trigger": r.trigger,
            "metric": r.metric,
            "levels": r.levels,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
    )


# Which ticket field each action writes, and which condition key reads that field.
_ACTION_WRITES = {"flag": "flag_color", "priority": "priority", "reassign": "team_id"}


def _check_rule(session: Session, body: RuleIn) -> None:
    errors: list[dict[str, Any]] = _unknown_condition_refs(session, body.conditions.model_dump())
    if body.trigger in (EscalationTrigger.sla_warning, EscalationTrigger.sla_breach) and body.metric is None:
        pass  # any target metric
    conds = body.conditions.model_dump()
    for i, level in enumerate(body.levels):
        for j, action in enumerate(level.actions):
            field = _ACTION_WRITES.get(action.type)
            if field and conds.get(field):
                errors.append(
                    {
                        "field": f"levels.{i}.actions.{j}",
                        "reason": f"the '{action.type}' action changes {field}, which this rule's conditions "
                        "test: the rule would re-trigger itself (loop)",
                    }
                )
            if action.type == "flag" and action.color is None:
                errors.append({"field": f"levels.{i}.actions.{j}.color", "reason": "flag needs a color"})
            if action.type == "priority" and action.set is None and action.raise_levels is None:
                errors.append({"field": f"levels.{i}.actions.{j}", "reason": "priority needs set or raise_levels"})
            if action.type == "reassign" and action.to is None:
                errors.append({"field": f"levels.{i}.actions.{j}.to", "reason": "reassign needs 'to'"})
            if action.type == "reassign" and isinstance(action.to, int) and session.get(User, action.to) is None:
                errors.append({"field": f"levels.{i}.actions.{j}.to", "reason": f"user {action.to} does not exist"})
            if action.type == "notify" and not action.roles and not action.user_ids:
                errors.append({"field": f"levels.{i}.actions.{j}", "reason": "notify needs roles or user_ids"})
            if action.type == "webhook":
                from servicelens.alerts.models import NotificationChannel

                if not action.channel_ids:
                    errors.append({"field": f"levels.{i}.actions.{j}", "reason": "webhook needs channel_ids"})
                for cid in action.channel_ids:
                    if session.get(NotificationChannel, cid) is None:
                        errors.append(
                            {
                                "field": f"levels.{i}.actions.{j}.channel_ids",
                                "reason": f"channel {cid} does not exist",
                            }
                        )
    minutes = [lv.after_minutes for lv in body.levels]
    if minutes != sorted(minutes):
        errors.append({"field": "levels", "reason": "levels must be in increasing after_minutes order"})
    if errors:
        loop = any("loop" in e["reason"] for e in errors)
        raise ProblemError(
            422,
            "escalation.loop" if loop else "validation_error",
            "Invalid escalation rule",
            errors[0]["reason"],
            errors,
        )


def list_rules(session: Session) -> list[RuleOut]:
    return [
        rule_out(r)
        for r in session.scalars(select(EscalationRule).order_by(EscalationRule.position, EscalationRule.id))
    ]


def create_rule(session: Session, body: RuleIn) -> EscalationRule:
    _check_rule(session, body)
    if session.scalar(select(EscalationRule.id).where(EscalationRule.name == body.name)):
        raise conflict("rule.name_taken", f"Rule '{body.name}' exists")
    now = utcnow()
    r = EscalationRule(**body.model_dump(mode="json", exclude_none=False), created_at=now, updated_at=now)
    session.add(r)
    session.flush()
    _queue_rebuild(session)
    return r


def update_rule(session: Session, rule_id: int, body: RuleIn) -> EscalationRule:
    r = session.get(EscalationRule, rule_id)
    if r is None:
        raise not_found("rule", rule_id)
    _check_rule(session, body)
    for k, v in body.model_dump(mode="json").items():
        setattr(r, k, v)
    r.updated_at = utcnow()
    _queue_rebuild(session)
    return r


def delete_rule(session: Session, rule_id: int) -> None:
    r = session.get(EscalationRule, rule_id)
    if r is None:
        raise not_found("rule", rule_id)
    session.execute(
        update(EscalationStep)
        .where(EscalationStep.rule_id == rule_id, EscalationStep.state == "pending")
        .values(state="cancelled", next_check_at=None)
    )
    r.is_active = False
    r.updated_at = utcnow()


# ================================================================ reading


def target_out(r: TicketSla) -> TargetOut:
    return TargetOut(
        id=r.id,
        metric=r.metric,
        cycle=r.cycle,
        clock=r.clock,
        target_minutes=r.target_minutes,
        state=r.state,
        warned=r.warned,
        started_at=r.started_at,
        due_at=r.due_at,
        warn_at=r.warn_at,
        fulfilled_at=r.fulfilled_at,
        breached_at=r.breached_at,
        used_minutes=r.used_seconds / 60,
        breach_minutes=r.breach_seconds / 60,
        statutory_coverage=r.statutory_coverage,
    )


def ticket_sla(session: Session, ticket_id: int) -> TicketSlaOut:
    rows = list(
        session.scalars(
            select(TicketSla).where(TicketSla.ticket_id == ticket_id).order_by(TicketSla.metric, TicketSla.cycle)
        )
    )
    policy = session.get(SlaPolicy, rows[0].policy_id) if rows and rows[0].policy_id else None
    steps = session.execute(
        select(EscalationStep, EscalationRule.name)
        .join(EscalationRule, EscalationRule.id == EscalationStep.rule_id)
        .where(EscalationStep.ticket_id == ticket_id)
        .order_by(EscalationStep.due_at)
    ).all()
    warnings = []
    if any(not r.statutory_coverage for r in rows if r.state not in FINAL):
        warnings.append("calendar.no_holiday_data")
    return TicketSlaOut(
        ticket_id=ticket_id,
        policy={"id": policy.id, "name": policy.name} if policy else None,
        targets=[target_out(r) for r in rows],
        escalations=[
            {
                "rule_id": st.rule_id,
                "rule": name,
                "level": st.level + 1,
                "due_at": st.due_at,
                "state": st.state,
                "fired_at": st.fired_at,
            }
            for st, name in steps
        ],
        warnings=warnings,
    )


_BADGE_ROWS = select(
    TicketSla.ticket_id, TicketSla.metric, TicketSla.state, TicketSla.due_at, TicketSla.warned, TicketSla.breached_at
).where(TicketSla.ticket_id.in_(bindparam("ids", expanding=True)), TicketSla.state != TargetState.cancelled.value)
_BADGE_RANK = {"breached": 0, "active": 1, "paused": 2, "achieved": 3}
_NEVER = datetime.max.replace(tzinfo=UTC)


def badges(session: Session | Connection, ticket_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The most urgent target per ticket, for list badges (one query per page)."""
    out: dict[int, dict[str, Any]] = {}
    best: dict[int, tuple[int, datetime]] = {}
    if not ticket_ids:
        return out
    for r in session.execute(_BADGE_ROWS, {"ids": list(ticket_ids)}):
        key = (_BADGE_RANK.get(r.state, 9), r.due_at or _NEVER)
        if r.ticket_id not in best or key < best[r.ticket_id]:
            best[r.ticket_id] = key
            out[r.ticket_id] = {
                "metric": r.metric,
                "state": r.state,
                "due_at": r.due_at,
                "warned": r.warned,
                "breached_at": r.breached_at,
            }
    return out


def preview(session: Session, body: PreviewIn) -> PreviewOut:
    """Which policy applies to a ticket (real or hypothetical) and what its deadlines would be."""
    now = utcnow()
    if body.ticket_id is not None:
        t = session.get(Ticket, body.ticket_id)
        if t is None:
            raise not_found("ticket", body.ticket_id)
        tier = session.scalar(select(Customer.tier).where(Customer.id == t.customer_id)) if t.customer_id else None
        facts = ticket_facts(t, tier)
        created = t.created_at
    else:
        tier = body.tier
        if tier is None and body.customer_id is not None:
            tier = session.scalar(select(Customer.tier).where(Customer.id == body.customer_id))
        facts = {
            "type": body.type.value if body.type else None,
            "priority": (body.priority or Priority.normal).value,
            "tier": tier or "regular",
            "channel": body.channel.value if body.channel else None,
            "product_id": body.product_id,
            "region_id": body.region_id,
            "customer_id": body.customer_id,
        }
        created = body.created_at or now
    policy = choose_policy(_active_policies(session), facts)
    if policy is None or policy.no_sla:
        return PreviewOut(
            policy={"id": policy.id, "name": policy.name} if policy else None,
            no_sla=True,
            targets=[],
            warnings=[],
        )
    schedule = schedule_for(session, policy.calendar_id)
    targets = []
    warnings: list[str] = []
    for spec in target_specs(policy, facts["priority"]):
        if spec.metric is TargetMetric.next_reply:
            targets.append(
                {
                    "metric": spec.metric.value,
                    "minutes": spec.minutes,
                    "clock": spec.clock.value,
                    "due_at": None,
                }
            )
            continue
        try:
            if spec.clock is Clock.BUSINESS and schedule is not None:
                due = add_business_minutes(schedule, created, spec.minutes)
                missing = statutory_coverage(schedule, created, due)
                if missing:
                    warnings.append(f"calendar.no_holiday_data:{','.join(map(str, missing))}")
            else:
                due = created + timedelta(minutes=spec.minutes)
        except CalendarError as exc:
            raise _calendar_error(exc) from exc
        warn = (
            created + (due - created) * policy.warn_ratio
            if spec.clock is Clock.CALENDAR or schedule is None
            else (add_business_minutes(schedule, created, spec.minutes * policy.warn_ratio))
        )
        targets.append(
            {
                "metric": spec.metric.value,
                "minutes": spec.minutes,
                "clock": spec.clock.value,
                "due_at": due,
                "warn_at": warn,
            }
        )
    return PreviewOut(
        policy={"id": policy.id, "name": policy.name},
        no_sla=False,
        targets=targets,
        warnings=sorted(set(warnings)),
    )


def at_risk(
    session: Session, ticket_scope: Any, within_minutes: float, team_id: int | None, limit: int = 200
) -> list[dict[str, Any]]:
    """Open tickets whose targets are breached or due within the window, most urgent first."""
    now = utcnow()
    horizon = now + timedelta(minutes=within_minutes)
    stmt = (
        select(
            TicketSla,
            Ticket.subject,
            Ticket.priority,
            Ticket.status,
            Ticket.flag_color,
            Ticket.assignee_id,
            Ticket.team_id,
        )
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(
            ticket_scope,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.merged_into_id.is_(None),
            or_(
                and_(TicketSla.state == TargetState.breached.value, TicketSla.fulfilled_at.is_(None)),
                and_(TicketSla.state == TargetState.active.value, TicketSla.due_at <= horizon),
            ),
        )
        .order_by(TicketSla.due_at)
        .limit(limit)
    )
    if team_id is not None:
        stmt = stmt.where(Ticket.team_id == team_id)
    out: dict[int, dict[str, Any]] = {}
    for row, subject, priority, status, flag, assignee_id, t_team in session.execute(stmt):
        if row.ticket_id in out:
            continue
        out[row.ticket_id] = {
            "ticket_id": row.ticket_id,
            "subject": subject,
            "priority": priority,
            "status": status,
            "flag_color": flag,
            "assignee_id": assignee_id,
            "team_id": t_team,
            "metric": row.metric,
            "state": row.state,
            "warned": row.warned,
            "clock": row.clock,
            "due_at": row.due_at,
            "minutes_left": (row.due_at - now).total_seconds() / 60 if row.due_at else None,
        }
    return list(out.values())


# ================================================================ node checks (metrics.md §A.3)

NODE_CHECKS = (
    ("responded_within_2h", "first_response", 120.0, 0.90),
    ("resolved_within_48h", "resolution", 2880.0, 0.80),
)


def node_checks(
    session: Session,
    ticket_scope: Any,
    start: datetime,
    end: datetime,
    team_id: int | None = None,
    as_of: datetime | None = None,
    clock: str = "calendar",
    calendar_id: int | None = None,
) -> list[NodeCheckOut]:
    """Share of the tickets created in [start, end) that met each node check, immature excluded."""
    as_of = as_of or utcnow()
    schedule = schedule_for(session, calendar_id) if clock == "business" else None
    if clock == "business" and schedule is None:
        raise ProblemError(422, "validation_error", "Invalid request", "business clock needs calendar_id")
    stmt = select(Ticket.created_at, Ticket.first_response_at, Ticket.first_resolved_at).where(
        ticket_scope,
        Ticket.created_at >= start,
        Ticket.created_at < end,
        Ticket.is_spam.is_(false()),
        Ticket.is_deleted.is_(false()),
        Ticket.is_test.is_(false()),
        Ticket.merged_into_id.is_(None),
    )
    if team_id is not None:
        stmt = stmt.where(Ticket.team_id == team_id)
    counts = {name: [0, 0, 0] for name, *_ in NODE_CHECKS}

    def minutes(a: datetime, b: datetime) -> float:
        if schedule is not None:
            return business_seconds_between(schedule, a, b) / 60
        return (b - a).total_seconds() / 60

    for created, responded, resolved in session.execute(stmt.execution_options(yield_per=5000)):
        for name, metric, threshold, _ in NODE_CHECKS:
            at = responded if metric == "first_response" else resolved
            c = counts[name]
            if at is not None and at <= as_of:
                c[0 if minutes(created, at) <= threshold else 1] += 1
            elif minutes(created, as_of) > threshold:
                c[1] += 1
            else:
                c[2] += 1
    out = []
    for name, metric, threshold, share_target in NODE_CHECKS:
        met, missed, immature = counts[name]
        share = met / (met + missed) if met + missed else None
        out.append(
            NodeCheckOut(
                check=name,
                metric=metric,
                threshold_minutes=threshold,
                clock=clock,
                target_share=share_target,
                met=met,
                missed=missed,
                immature=immature,
                share=share,
                passed=None if share is None else share >= share_target,
            )
        )
    return out


def due_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(TicketSla).where(TicketSla.next_check_at.is_not(None))) or 0
    )


def unique_ids(values: Iterable[int]) -> list[int]:
    return sorted(set(values))
