"""SLA engine on the worked examples of metrics.md §A.1/§A.2 (T-1001 under P2)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from servicelens.sla.calendar import Clock, Schedule, ScheduleVersion
from servicelens.sla.engine import History, TargetSpec, evaluate
from servicelens.sla.models import TargetMetric, TargetState

SH = ZoneInfo("Asia/Shanghai")
WORK = [("09:00", "12:00"), ("13:00", "18:00")]
CHINA = Schedule(
    tz="Asia/Shanghai",
    versions=[ScheduleVersion(date(2000, 1, 1), {d: WORK for d in range(5)})],
    observe_statutory=True,
    statutory_region="CN",
)
P2 = [
    TargetSpec(TargetMetric.first_reply, 60),
    TargetSpec(TargetMetric.next_reply, 60),
    TargetSpec(TargetMetric.resolution, 960),
]


def sh(day: int, hm: str) -> datetime:
    h, m = map(int, hm.split(":"))
    return datetime(2025, 3, day, h, m, tzinfo=SH).astimezone(ZoneInfo("UTC"))


def t1001(on_hold_pauses: bool = False, upto: datetime | None = None) -> History:
    statuses = [
        (sh(3, "08:40"), "new"),
        (sh(3, "09:25"), "pending"),
        (sh(3, "14:10"), "open"),
        (sh(3, "15:40"), "solved"),
        (sh(5, "10:00"), "open"),
        (sh(5, "10:50"), "on_hold"),
        (sh(6, "11:30"), "solved"),
    ]
    return History(
        created_at=sh(3, "08:40"),
        statuses=[s for s in statuses if upto is None or s[0] <= upto],
        agent_replies=[
            t for t in (sh(3, "09:25"), sh(3, "15:40"), sh(5, "10:50"), sh(6, "11:30")) if not upto or t <= upto
        ],
        customer_messages=[t for t in (sh(3, "14:10"), sh(5, "10:00")) if not upto or t <= upto],
    )


def by_metric(results: list, metric: TargetMetric, cycle: int = 1):  # type: ignore[no-untyped-def]
    return next(r for r in results if r.metric is metric and r.cycle == cycle)


def test_A15b_first_reply_due_and_achieved() -> None:
    res = evaluate(t1001(), P2, CHINA, sh(7, "12:00"))
    fr = by_metric(res, TargetMetric.first_reply)
    assert fr.due_at == sh(3, "10:00")
    assert fr.state is TargetState.achieved and fr.fulfilled_at == sh(3, "09:25")
    assert fr.used_seconds == 25 * 60  # [A2] 25 biz min


def test_A15c_resolution_due_after_resume() -> None:
    now = sh(3, "15:00")  # resumed at 14:10, still open
    res = evaluate(t1001(upto=now), P2, CHINA, now)
    r = by_metric(res, TargetMetric.resolution)
    assert r.state is TargetState.active
    assert r.due_at == sh(5, "13:45")


def test_A15d_reopen_keeps_budget_used() -> None:
    now = sh(5, "10:20")
    res = evaluate(t1001(upto=now), P2, CHINA, now)
    r = by_metric(res, TargetMetric.resolution)
    assert r.state is TargetState.active and r.due_at == sh(6, "17:05")


def test_A13_resolution_achieved_with_685_used() -> None:
    res = evaluate(t1001(), P2, CHINA, sh(7, "12:00"))
    r = by_metric(res, TargetMetric.resolution)
    assert r.state is TargetState.achieved
    assert r.used_seconds == 685 * 60
    assert r.fulfilled_at == sh(6, "11:30")


def test_A14_on_hold_pausing_uses_165() -> None:
    res = evaluate(t1001(), P2, CHINA, sh(7, "12:00"), pause_categories={"pending", "on_hold"})
    assert by_metric(res, TargetMetric.resolution).used_seconds == 165 * 60


def test_A3_next_reply_instances_90_and_50() -> None:
    res = evaluate(t1001(), P2, CHINA, sh(7, "12:00"))
    nr = [r for r in res if r.metric is TargetMetric.next_reply]
    assert [r.used_seconds / 60 for r in nr] == [90, 50]
    assert [r.state for r in nr] == [TargetState.breached, TargetState.achieved]  # 90 > 60 target


def test_pending_pauses_and_shows_paused() -> None:
    now = sh(3, "11:00")
    res = evaluate(t1001(upto=now), P2, CHINA, now)
    r = by_metric(res, TargetMetric.resolution)
    assert r.state is TargetState.paused and r.due_at is None and r.used_seconds == 25 * 60


def test_breach_while_open_and_breach_minutes() -> None:
    created = sh(3, "09:00")
    h = History(created_at=created, statuses=[(created, "new")])
    spec = [TargetSpec(TargetMetric.first_reply, 30)]
    before = evaluate(h, spec, CHINA, sh(3, "09:29"))[0]
    assert before.state is TargetState.active and before.due_at == sh(3, "09:30")
    assert before.warn_at == sh(3, "09:24") and before.warned
    at_due = evaluate(h, spec, CHINA, sh(3, "09:30"))[0]
    assert at_due.state is TargetState.active  # inclusive: not breached at the due instant
    after = evaluate(h, spec, CHINA, sh(3, "10:00"))[0]
    assert after.state is TargetState.breached and after.breach_seconds == 30 * 60
    # a reply after the breach does not undo it
    late = History(created_at=created, statuses=[(created, "new")], agent_replies=[sh(3, "10:00")])
    assert evaluate(late, spec, CHINA, sh(3, "11:00"))[0].state is TargetState.breached


def test_solve_without_reply_fulfils_reply_target() -> None:
    created = sh(3, "09:00")
    h = History(created_at=created, statuses=[(created, "new"), (sh(3, "09:10"), "solved")])
    fr = evaluate(h, [TargetSpec(TargetMetric.first_reply, 30)], CHINA, sh(4, "09:00"))[0]
    assert fr.state is TargetState.achieved and fr.fulfilled_at == sh(3, "09:10")


def test_calendar_clock_ignores_business_hours() -> None:
    created = sh(3, "20:00")
    h = History(created_at=created, statuses=[(created, "new")])
    r = evaluate(h, [TargetSpec(TargetMetric.first_reply, 120, Clock.CALENDAR)], CHINA, sh(3, "21:00"))[0]
    assert r.due_at == sh(3, "22:00")


def test_cancelled_when_merged() -> None:
    created = sh(3, "09:00")
    h = History(
        created_at=created,
        statuses=[(created, "new"), (sh(3, "09:05"), "closed")],
        cancelled_at=sh(3, "09:05"),
    )
    assert (
        evaluate(h, [TargetSpec(TargetMetric.resolution, 60)], CHINA, sh(4, "09:00"))[0].state is TargetState.cancelled
    )


@pytest.mark.parametrize("minutes", [1, 30, 60, 479, 480, 481, 960, 2000])
def test_due_is_where_used_reaches_target(minutes: int) -> None:
    created = sh(3, "16:37")
    h = History(created_at=created, statuses=[(created, "new")])
    r = evaluate(h, [TargetSpec(TargetMetric.resolution, minutes)], CHINA, created)[0]
    assert r.due_at is not None
    later = evaluate(h, [TargetSpec(TargetMetric.resolution, minutes)], CHINA, r.due_at)[0]
    assert later.used_seconds == minutes * 60 and later.state is TargetState.active
