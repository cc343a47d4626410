"""Pure SLA evaluation (metrics.md §A.2): replay a ticket's history against its targets.

Everything here is a function of the history, the policy and ``now``; the service stores the
results and the scanner only moves targets across their warning and due instants. Replaying from
``created_at`` makes a priority change "restart the calculation with the same pause history" and a
reopen "re-activate keeping the budget already used" fall out of one rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from servicelens.sla.calendar import Clock, Schedule, add_business_seconds, business_seconds_between
from servicelens.sla.models import TargetMetric, TargetState

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
# Categories in which no target clock runs, whatever the policy says.
SOLVED = frozenset({"solved", "closed"})
DEFAULT_PAUSE = frozenset({"pending"})


@dataclass(frozen=True)
class TargetSpec:
    metric: TargetMetric
    minutes: float
    clock: Clock = Clock.BUSINESS


@dataclass(frozen=True)
class History:
    """What the engine needs to know of one ticket."""

    created_at: datetime
    # (at, status category) in time order; the first entry is the category at creation.
    statuses: Sequence[tuple[datetime, str]]
    agent_replies: Sequence[datetime] = ()  # agent public replies (responses), time order
    customer_messages: Sequence[datetime] = ()  # requester public comments, time order
    cancelled_at: datetime | None = None  # merged, spam or deleted


@dataclass
class TargetResult:
    metric: TargetMetric
    cycle: int
    clock: Clock
    target_minutes: float
    state: TargetState
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    warned: bool
    fulfilled_at: datetime | None
    used_seconds: float
    paused_seconds: float
    breach_seconds: float
    extra: dict[str, object] = field(default_factory=dict)


class _Meter:
    """Measures and advances on one clock."""

    def __init__(self, clock: Clock, schedule: Schedule | None) -> None:
        self.business = clock is Clock.BUSINESS and schedule is not None
        self.schedule = schedule

    def between(self, a: datetime, b: datetime) -> float:
        if self.business:
            assert self.schedule is not None
            return business_seconds_between(self.schedule, a, b)
        return (b - a).total_seconds()

    def advance(self, a: datetime, seconds: float) -> datetime:
        if self.business:
            assert self.schedule is not None
            return add_business_seconds(self.schedule, a, seconds)
        return a + timedelta(seconds=seconds)


def _segments(history: History) -> list[tuple[datetime, datetime, str]]:
    """[start, end) status segments; the last runs to FAR_FUTURE."""
    pts = list(history.statuses)
    out = []
    for i, (at, cat) in enumerate(pts):
        end = pts[i + 1][0] if i + 1 < len(pts) else FAR_FUTURE
        if end > at:
            out.append((at, end, cat))
    return out


def _walk(
    segments: Sequence[tuple[datetime, datetime, str]],
    start: datetime,
    end: datetime,
    running: frozenset[str] | None,
    paused_in: frozenset[str],
    target_s: float,
    warn_s: float,
    meter: _Meter,
) -> tuple[float, float, datetime | None, datetime | None, bool]:
    """Consume the clock from ``start`` to ``end``; returns (used, paused, due, warn, running_at_end).

    The due and warning instants are projected past ``end`` within the running segment that
    contains ``end`` (``due_at = add(resume_at, target − used)``).
    """
    used = paused = 0.0
    due: datetime | None = None
    warn: datetime | None = None
    running_at_end = False
    for seg_start, seg_end, cat in segments:
        a = max(seg_start, start)
        if seg_end <= a:
            continue
        if a > end:
            break
        b = min(seg_end, end)
        if cat in paused_in or (running is not None and cat not in running):
            paused += (b - a).total_seconds()
            running_at_end = False
            continue
        running_at_end = True
        if warn is None and warn_s > used:
            w = meter.advance(a, warn_s - used)
            if w <= seg_end:
                warn = w
        if due is None:
            d = meter.advance(a, target_s - used)
            if d <= seg_end:
                due = d
        used += meter.between(a, b)
    return used, paused, due, warn, running_at_end


def _result(
    spec: TargetSpec,
    cycle: int,
    start: datetime,
    fulfilled: datetime | None,
    history: History,
    segments: Sequence[tuple[datetime, datetime, str]],
    paused_in: frozenset[str],
    warn_ratio: float,
    meter: _Meter,
    now: datetime,
) -> TargetResult:
    target_s = spec.minutes * 60.0
    end = min(fulfilled, now) if fulfilled is not None else now
    if history.cancelled_at is not None:
        end = min(end, history.cancelled_at)
    used, paused, due, warn, running = _walk(
        segments, start, end, None, paused_in, target_s, target_s * warn_ratio, meter
    )
    breached = due is not None and due < end
    if due is None and fulfilled is not None and not breached:
        # Show where the deadline stood when the target was met (metrics.md [A15b]).
        due = meter.advance(end, target_s - used)
    if history.cancelled_at is not None and history.cancelled_at <= now:
        state = TargetState.cancelled
    elif breached:
        state = TargetState.breached
    elif fulfilled is not None and fulfilled <= now:
        state = TargetState.achieved
    elif running:
        state = TargetState.active
    else:
        state = TargetState.paused
    breach_s = meter.between(due, end) if breached and due is not None else 0.0
    return TargetResult(
        metric=spec.metric,
        cycle=cycle,
        clock=spec.clock,
        target_minutes=spec.minutes,
        state=state,
        started_at=start,
        due_at=due,
        warn_at=warn,
        warned=warn is not None and warn < end,
        fulfilled_at=fulfilled if fulfilled is not None and fulfilled <= now else None,
        used_seconds=used,
        paused_seconds=paused,
        breach_seconds=breach_s,
    )


def _first_after(times: Iterable[datetime], t: datetime) -> datetime | None:
    return next((x for x in times if x >= t), None)


def solve_times(history: History) -> list[datetime]:
    """Instants the ticket entered the solved category."""
    out = []
    prev = None
    for at, cat in history.statuses:
        if cat == "solved" and prev != "solved":
            out.append(at)
        prev = cat
    return out


def evaluate(
    history: History,
    targets: Sequence[TargetSpec],
    schedule: Schedule | None,
    now: datetime,
    pause_categories: Iterable[str] = DEFAULT_PAUSE,
    warn_ratio: float = 0.8,
) -> list[TargetResult]:
    """States of every target (and next-reply instance) of one ticket at ``now``."""
    segments = _segments(history)
    pauses = frozenset(pause_categories)
    solves = solve_times(history)
    first_solve = solves[0] if solves else None
    current = history.statuses[-1][1] if history.statuses else "new"
    results: list[TargetResult] = []
    for spec in targets:
        meter = _Meter(spec.clock, schedule)
        if spec.metric is TargetMetric.first_reply:
            reply = history.agent_replies[0] if history.agent_replies else None
            done = min((t for t in (reply, first_solve) if t is not None), default=None)
            results.append(
                _result(
                    spec,
                    1,
                    history.created_at,
                    done,
                    history,
                    segments,
                    pauses | SOLVED,
                    warn_ratio,
                    meter,
                    now,
                )
            )
        elif spec.metric is TargetMetric.resolution:
            # Fulfilled while the ticket sits solved/closed; a reopen re-activates with the budget used.
            done = solves[-1] if solves and current in SOLVED else None
            results.append(
                _result(
                    spec,
                    1,
                    history.created_at,
                    done,
                    history,
                    segments,
                    pauses | SOLVED,
                    warn_ratio,
                    meter,
                    now,
                )
            )
        elif spec.metric is TargetMetric.next_reply:
            if not history.agent_replies:
                continue
            first_reply = history.agent_replies[0]
            cycle = 0
            open_until: datetime | None = first_reply
            for msg in history.customer_messages:
                if msg <= first_reply:
                    continue
                if open_until is None or open_until > msg:
                    continue  # the oldest unanswered message already started the clock
                answer = _first_after(history.agent_replies, msg)
                solve = _first_after(solves, msg)
                done = min((t for t in (answer, solve) if t is not None), default=None)
                cycle += 1
                results.append(
                    _result(spec, cycle, msg, done, history, segments, pauses | SOLVED, warn_ratio, meter, now)
                )
                open_until = done
    return results
