"""Benchmark SLA deadline computations (``add_business_minutes``) on the China schedule.

Run: ``.venv/bin/python bench/bench_calendar.py [--calls N] [--seed S]``

Compares the compiled engine with a naive day-walk baseline (the obvious implementation: walk
local dates from the start, resolve each day's hours, convert them with zoneinfo, consume) in the
same run, on the same inputs: random starts over 2025–2026 and N from 30 min to 2 working days.
Single-threaded, so the figures are per core. Requirement: >= 200,000 deadlines/s.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing the package

from servicelens.sla.calendar import (
    MAX_SEARCH_DAYS,
    CalendarError,
    Schedule,
    ScheduleVersion,
    _Resolver,
    add_business_minutes,
    business_seconds_between,
    compiled,
)

TARGET_PER_S = 200_000
LUNCH_WEEK = {wd: [("09:00", "12:00"), ("13:00", "18:00")] for wd in range(5)}


def china_schedule() -> Schedule:
    return Schedule(
        "Asia/Shanghai",
        [ScheduleVersion(date(2020, 1, 1), LUNCH_WEEK)],
        observe_statutory=True,
        statutory_region="CN",
    )


def naive_add_business_minutes(resolver: _Resolver, schedule: Schedule, start: datetime, minutes: float) -> datetime:
    """Baseline: day-by-day walk. Reuses the engine's day-type rules so only the walk is compared."""
    if minutes <= 0:
        return start
    zone = schedule.zone
    remaining = timedelta(minutes=minutes)
    cursor = start
    first = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(MAX_SEARCH_DAYS + 2):
        d = first + timedelta(days=offset)
        _, hours, _ = resolver.resolve(d)
        for s_min, e_min in hours:
            ivs = datetime(d.year, d.month, d.day, s_min // 60, s_min % 60, tzinfo=zone).astimezone(UTC)
            if e_min == 1440:
                n = d + timedelta(days=1)
                ive = datetime(n.year, n.month, n.day, tzinfo=zone).astimezone(UTC)
            else:
                ive = datetime(d.year, d.month, d.day, e_min // 60, e_min % 60, tzinfo=zone).astimezone(UTC)
            if ive <= cursor:
                continue
            begin = max(cursor, ivs)
            if remaining <= ive - begin:
                return begin + remaining
            remaining -= ive - begin
            cursor = ive
    raise CalendarError("calendar.no_business_time", "baseline gave up")


def make_inputs(n: int, seed: int) -> tuple[list[datetime], list[int]]:
    rng = random.Random(seed)
    t0 = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=8)  # local 2025-01-01 00:00 Asia/Shanghai
    span = int((datetime(2027, 1, 1, tzinfo=UTC) - timedelta(hours=8) - t0).total_seconds())
    starts = [t0 + timedelta(seconds=rng.randrange(span)) for _ in range(n)]
    minutes = [rng.randint(30, 960) for _ in range(n)]  # 30 min .. 2 working days of 480 min
    return starts, minutes


def rate(fn: Callable[[datetime, int], object], starts: Sequence[datetime], minutes: Sequence[int]) -> float:
    t = time.perf_counter()
    for s, m in zip(starts, minutes, strict=True):
        fn(s, m)
    return len(starts) / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300_000, help="compiled-engine calls per round (5 rounds)")
    ap.add_argument("--baseline-calls", type=int, default=20_000, help="naive day-walk calls per round (3 rounds)")
    ap.add_argument("--seed", type=int, default=20250303)
    args = ap.parse_args()

    cpu = platform.processor() or "unknown cpu"
    print(f"python {platform.python_version()} on {platform.machine()} ({cpu})")
    starts, minutes = make_inputs(args.calls, args.seed)

    # Cold start: a fresh schedule compiles its years on first use.
    schedule = china_schedule()
    t = time.perf_counter()
    add_business_minutes(schedule, starts[0], minutes[0])
    add_business_minutes(schedule, datetime(2026, 12, 31, 8, tzinfo=UTC), 960)
    cold_ms = (time.perf_counter() - t) * 1000
    years = compiled(schedule).years
    print(f"cold start: first two calls on a fresh schedule, compiling local years {years}: {cold_ms:.1f} ms")

    # Same answers from both implementations before timing anything.
    resolver = _Resolver(schedule)
    for s, m in zip(starts[:2000], minutes[:2000], strict=True):
        fast, slow = (
            add_business_minutes(schedule, s, m),
            naive_add_business_minutes(resolver, schedule, s, m),
        )
        if fast != slow:
            print(f"MISMATCH start={s} minutes={m}: compiled {fast} vs day-walk {slow}")
            return 2

    def fast_add(s: datetime, m: int) -> object:
        return add_business_minutes(schedule, s, m)

    def slow_add(s: datetime, m: int) -> object:
        return naive_add_business_minutes(resolver, schedule, s, m)

    ends = [add_business_minutes(schedule, s, m) for s, m in zip(starts, minutes, strict=True)]

    def between(s: datetime, e: object) -> object:
        return business_seconds_between(schedule, s, e)  # type: ignore[arg-type]

    fast_rates = [rate(fast_add, starts, minutes) for _ in range(5)]
    n_base = min(args.baseline_calls, len(starts))
    slow_rates = [rate(slow_add, starts[:n_base], minutes[:n_base]) for _ in range(3)]
    between_rates = [rate(between, starts, ends) for _ in range(3)]  # type: ignore[arg-type]

    fast_med, slow_med = statistics.median(fast_rates), statistics.median(slow_rates)
    print(
        f"add_business_minutes, compiled : median {fast_med:>11,.0f}/s"
        f"  (best {max(fast_rates):,.0f}/s, {args.calls:,} calls x 5)"
    )
    print(
        f"add_business_minutes, day-walk : median {slow_med:>11,.0f}/s"
        f"  (best {max(slow_rates):,.0f}/s, {n_base:,} calls x 3)"
    )
    print(f"business_seconds_between       : median {statistics.median(between_rates):>11,.0f}/s")
    print(f"speed-up compiled / day-walk   : {fast_med / slow_med:.1f}x")
    verdict = "PASS" if fast_med >= TARGET_PER_S else "FAIL"
    print(f"requirement >= {TARGET_PER_S:,}/s per core: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
