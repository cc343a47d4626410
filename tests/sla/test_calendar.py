"""Business-calendar engine: worked examples of metrics.md §B / §A.1–A.2 and property tests.

Check ids from the spec are part of the test names. The property tests compare the compiled fast
path with a deliberately simple day-walk reference written here from the text of §B.1/§B.2.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from chinese_calendar import constants as cc_constants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicelens.sla.calendar import (
    MAX_SEARCH_DAYS,
    CalendarError,
    Clock,
    DayKind,
    Holiday,
    HolidayImportError,
    Schedule,
    ScheduleOverride,
    ScheduleVersion,
    WorkingHours,
    add_business_minutes,
    add_business_seconds,
    add_minutes,
    business_minutes_between,
    business_seconds_between,
    compiled,
    describe_day,
    minutes_between,
    parse_holidays_csv,
    parse_holidays_ics,
    statutory_coverage,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
LUNCH_WEEK = {wd: [("09:00", "12:00"), ("13:00", "18:00")] for wd in range(5)}


def china(observe: bool = True, **kw: object) -> Schedule:
    """The §B.3 default: Asia/Shanghai, Mon–Fri 09–12 + 13–18, CN statutory calendar."""
    return Schedule(
        "Asia/Shanghai",
        [ScheduleVersion(date(2000, 1, 1), LUNCH_WEEK)],
        observe_statutory=observe,
        statutory_region="CN",
        **kw,  # type: ignore[arg-type]
    )


CN = china()


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Shanghai local wall time as a UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=SH).astimezone(UTC)


def ny(y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    """New York local wall time (PEP 495 fold) as a UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=NY, fold=fold).astimezone(UTC)


def biz_min(schedule: Schedule, a: datetime, b: datetime) -> float:
    return business_seconds_between(schedule, a, b) / 60


# --------------------------------------------------------------------------------------------------
# §B.3 worked examples


def test_B1_between_across_national_day() -> None:
    assert biz_min(CN, sh(2025, 9, 26, 16), sh(2025, 10, 9, 10)) == 1620


def test_B2_same_span_weekly_hours_only() -> None:
    assert biz_min(china(observe=False), sh(2025, 9, 26, 16), sh(2025, 10, 9, 10)) == 4020


def test_B3_boundary_rule_returns_interval_end() -> None:
    assert add_business_minutes(CN, sh(2025, 9, 30, 17), 240) == sh(2025, 10, 9, 12)


def test_B4_skips_lunch() -> None:
    assert add_business_minutes(CN, sh(2025, 9, 30, 17), 241) == sh(2025, 10, 9, 13, 1)


def test_B5_makeup_workday_on_sunday() -> None:
    assert add_business_minutes(CN, sh(2025, 9, 27, 20), 120) == sh(2025, 9, 28, 11)
    day = describe_day(CN, date(2025, 9, 28))
    assert day.kind is DayKind.MAKEUP_WORKDAY
    assert day.hours == (("09:00", "12:00"), ("13:00", "18:00"))  # J12: Monday template hours


@pytest.mark.parametrize("minutes", [0, -5, -0.5])
def test_B8_non_positive_minutes_return_start_unchanged(minutes: float) -> None:
    start = sh(2025, 9, 27, 20)  # outside business hours: still not moved
    assert add_business_minutes(CN, start, minutes) is start
    assert add_business_seconds(CN, start, minutes * 60) is start


def test_B9_reversed_between_is_negative() -> None:
    assert biz_min(CN, sh(2025, 10, 9, 10), sh(2025, 9, 26, 16)) == -1620


def test_B10_2027_not_covered_falls_back_to_weekly_hours() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(date(2027, 1, 1))
    # Fri 2027-01-01 (New Year) is not known as a holiday: weekly hours apply.
    assert biz_min(CN, sh(2027, 1, 1), sh(2027, 1, 2)) == 480
    assert statutory_coverage(CN, date(2026, 12, 1), date(2027, 2, 1)) == [2027]
    assert statutory_coverage(CN, sh(2025, 1, 1), sh(2026, 12, 31, 23)) == []
    assert describe_day(CN, date(2027, 1, 1)).statutory_covered is False
    assert describe_day(CN, date(2026, 1, 1)).statutory_covered is True
    # Statutory calendar off: no holiday data needed, nothing to warn about.
    assert statutory_coverage(china(observe=False), date(2027, 1, 1), date(2028, 1, 1)) == []


def test_B10_imported_2027_holidays_close_coverage_gap() -> None:
    imported = parse_holidays_csv("date,kind,name\n2027-01-01,holiday,元旦\n")
    schedule = china(imported_holidays=imported)
    assert biz_min(schedule, sh(2027, 1, 1), sh(2027, 1, 2)) == 0
    assert statutory_coverage(schedule, date(2026, 12, 1), date(2027, 2, 1)) == []
    assert describe_day(schedule, date(2027, 1, 1)).name == "元旦"


def test_B11_version_chosen_per_local_date() -> None:
    v2 = {wd: [("09:00", "21:00")] for wd in range(6)}
    schedule = Schedule(
        "Asia/Shanghai",
        [ScheduleVersion(date(2000, 1, 1), LUNCH_WEEK), ScheduleVersion(date(2025, 7, 1), v2)],
        observe_statutory=True,
        statutory_region="CN",
    )
    assert biz_min(schedule, sh(2025, 6, 30, 20), sh(2025, 7, 1, 20)) == 660


def test_B12_applying_new_version_to_whole_span_is_wrong() -> None:
    v2_only = Schedule(
        "Asia/Shanghai",
        [ScheduleVersion(date(2000, 1, 1), {wd: [("09:00", "21:00")] for wd in range(6)})],
    )
    assert biz_min(v2_only, sh(2025, 6, 30, 20), sh(2025, 7, 1, 20)) == 720  # the wrong answer
    # ... which the versioned schedule does not give (see B11).


NY_24X7 = Schedule(
    "America/New_York", [ScheduleVersion(date(2000, 1, 1), {wd: [("00:00", "24:00")] for wd in range(7)})]
)


def test_B13_spring_forward_day_is_23h() -> None:
    assert biz_min(NY_24X7, ny(2025, 3, 9), ny(2025, 3, 10)) == 1380


def test_B14_fall_back_day_is_25h() -> None:
    assert biz_min(NY_24X7, ny(2025, 11, 2), ny(2025, 11, 3)) == 1500


def _ny_sunday_shift() -> Schedule:
    return Schedule("America/New_York", [ScheduleVersion(date(2000, 1, 1), {6: [("01:00", "04:00")]})])


def test_B15_shift_on_spring_forward() -> None:
    assert biz_min(_ny_sunday_shift(), ny(2025, 3, 9), ny(2025, 3, 10)) == 120
    assert compiled(_ny_sunday_shift()) is not None


def test_B16_shift_on_fall_back_starts_at_first_occurrence() -> None:
    schedule = _ny_sunday_shift()
    assert biz_min(schedule, ny(2025, 11, 2), ny(2025, 11, 3)) == 240
    # 01:00 EDT (fold=0) is 05:00 UTC; the shift ends at 04:00 EST = 09:00 UTC.
    assert add_business_minutes(schedule, ny(2025, 11, 1, 12), 1) == datetime(2025, 11, 2, 5, 1, tzinfo=UTC)
    assert add_business_minutes(schedule, ny(2025, 11, 1, 12), 240) == datetime(2025, 11, 2, 9, tzinfo=UTC)


def test_J15_gap_times_shift_forward_and_overlaps_count_once() -> None:
    def sunday(hours: list[tuple[str, str]]) -> Schedule:
        return Schedule("America/New_York", [ScheduleVersion(date(2000, 1, 1), {6: hours})])

    # 02:30 does not exist on 2025-03-09: fold=0 maps it to 03:30 EDT (07:30 UTC).
    assert biz_min(sunday([("01:00", "02:30")]), ny(2025, 3, 9), ny(2025, 3, 10)) == 90
    # [02:30, 03:00] maps to [07:30, 07:00] UTC: reversed, so no business time.
    assert biz_min(sunday([("02:30", "03:00")]), ny(2025, 3, 9), ny(2025, 3, 10)) == 0
    # [06:00, 07:30] and [07:00, 08:00] UTC overlap: the union (120 min) counts, not the sum (150).
    overlap = sunday([("01:00", "02:30"), ("03:00", "04:00")])
    assert biz_min(overlap, ny(2025, 3, 9), ny(2025, 3, 10)) == 120
    assert add_business_minutes(overlap, ny(2025, 3, 8), 120) == datetime(2025, 3, 9, 8, tzinfo=UTC)
    assert add_business_minutes(overlap, ny(2025, 3, 8), 121) == ny(2025, 3, 16, 1, 1)


def test_B17_calendar_minutes_are_absolute_not_wall_clock() -> None:
    a = datetime(2025, 3, 7, 17, tzinfo=NY)  # same ZoneInfo on both: naive subtraction would say 3840
    b = datetime(2025, 3, 10, 9, tzinfo=NY)
    assert (b - a) == timedelta(minutes=3840)  # the trap
    assert minutes_between(Clock.CALENDAR, None, a, b) == 3780
    assert minutes_between("calendar", None, b, a) == -3780
    assert add_minutes(Clock.CALENDAR, None, a, 3780) == b
    assert add_minutes(Clock.CALENDAR, None, a, 3780).tzinfo is UTC


def test_B18_weekend_across_dst_has_no_business_time() -> None:
    weekdays_9_17 = Schedule(
        "America/New_York", [ScheduleVersion(date(2000, 1, 1), {wd: [("09:00", "17:00")] for wd in range(5)})]
    )
    a, b = ny(2025, 3, 7, 17), ny(2025, 3, 10, 9)
    assert minutes_between(Clock.BUSINESS, weekdays_9_17, a, b) == 0
    assert add_minutes(Clock.BUSINESS, weekdays_9_17, a, 1) == ny(2025, 3, 10, 9, 1)


def test_A15_p1_first_reply_due() -> None:
    assert add_minutes(Clock.BUSINESS, CN, sh(2025, 9, 30, 17), 240) == sh(2025, 10, 9, 12)


# --------------------------------------------------------------------------------------------------
# §A.1 / §A.2 worked example T-1001 (business-minute figures)

T_CREATED = sh(2025, 3, 3, 8, 40)
T_REPLY1 = sh(2025, 3, 3, 9, 25)  # -> pending
T_REQ1 = sh(2025, 3, 3, 14, 10)  # -> open
T_SOLVE1 = sh(2025, 3, 3, 15, 40)  # -> solved
T_REOPEN = sh(2025, 3, 5, 10)  # -> open
T_HOLD = sh(2025, 3, 5, 10, 50)  # -> on_hold
T_SOLVE2 = sh(2025, 3, 6, 11, 30)  # -> solved


def test_A2_first_response_biz() -> None:
    assert biz_min(CN, T_CREATED, T_REPLY1) == 25


def test_A5_first_resolution_biz() -> None:
    assert biz_min(CN, T_CREATED, T_SOLVE1) == 340


def test_A7_full_resolution_biz() -> None:
    assert biz_min(CN, T_CREATED, T_SOLVE2) == 1590


def test_A9_requester_wait_biz() -> None:
    spans = [(T_CREATED, T_REPLY1), (T_REQ1, T_SOLVE1), (T_REOPEN, T_HOLD), (T_HOLD, T_SOLVE2)]
    assert [biz_min(CN, a, b) for a, b in spans] == [25, 90, 50, 520]
    assert sum(biz_min(CN, a, b) for a, b in spans) == 685


def test_A11_agent_wait_biz() -> None:
    assert biz_min(CN, T_REPLY1, T_REQ1) == 225


def test_A12_on_hold_biz() -> None:
    assert biz_min(CN, T_HOLD, T_SOLVE2) == 520


def test_A15b_first_reply_due() -> None:
    assert add_business_minutes(CN, T_CREATED, 60) == sh(2025, 3, 3, 10)


def test_A15c_resolution_due_after_resume() -> None:
    used = business_minutes_between(CN, T_CREATED, T_REPLY1)
    assert add_business_minutes(CN, T_REQ1, 960 - used) == sh(2025, 3, 5, 13, 45)


def test_A15d_resolution_due_after_reopen() -> None:
    used = business_minutes_between(CN, T_CREATED, T_REPLY1) + business_minutes_between(CN, T_REQ1, T_SOLVE1)
    assert used == 115
    assert add_business_minutes(CN, T_REOPEN, 960 - used) == sh(2025, 3, 6, 17, 5)


# --------------------------------------------------------------------------------------------------
# Day-type rules, overrides, imports


def test_holiday_block_closes_weekend_and_weekdays() -> None:
    assert describe_day(CN, date(2025, 10, 4)).kind is DayKind.STATUTORY_HOLIDAY  # Saturday in the block
    assert describe_day(CN, date(2025, 10, 1)).hours == ()
    assert describe_day(CN, date(2025, 10, 11)).kind is DayKind.MAKEUP_WORKDAY


def test_makeup_day_uses_own_weekday_hours_then_template() -> None:
    hours = {0: [("10:00", "11:00")], 5: [("08:00", "09:00")]}
    schedule = Schedule(
        "Asia/Shanghai",
        [ScheduleVersion(date(2000, 1, 1), hours, makeup_template_weekday=0)],
        observe_statutory=True,
        statutory_region="CN",
    )
    assert describe_day(schedule, date(2025, 10, 11)).hours == (("08:00", "09:00"),)  # Saturday: own hours
    assert describe_day(schedule, date(2025, 9, 28)).hours == (("10:00", "11:00"),)  # Sunday: template


def test_override_wins_over_statutory_and_weekly() -> None:
    schedule = china(
        overrides=[
            ScheduleOverride(date(2025, 10, 2), "open", [("10:00", "12:00")]),
            ScheduleOverride(date(2025, 9, 28), "closed"),
            ScheduleOverride(date(2025, 10, 4), "open"),  # template hours
        ]
    )
    assert biz_min(schedule, sh(2025, 10, 2), sh(2025, 10, 3)) == 120
    assert biz_min(schedule, sh(2025, 9, 28), sh(2025, 9, 29)) == 0
    assert biz_min(schedule, sh(2025, 10, 4), sh(2025, 10, 5)) == 480


def test_imported_holidays_take_precedence_over_chinese_calendar() -> None:
    imported = [
        Holiday(date(2025, 10, 8), "workday", "company policy"),
        Holiday(date(2025, 10, 10), "holiday"),
    ]
    schedule = china(imported_holidays=imported)
    assert describe_day(schedule, date(2025, 10, 8)).kind is DayKind.MAKEUP_WORKDAY
    # Wed 8 open (imported make-up day), Thu 9 open (no statutory entry), Fri 10 closed (imported).
    assert biz_min(schedule, sh(2025, 10, 8), sh(2025, 10, 11)) == 960
    assert biz_min(schedule, sh(2025, 10, 10), sh(2025, 10, 11)) == 0


def test_imported_holidays_without_region_and_ignored_when_not_observing() -> None:
    imported = [Holiday(date(2025, 3, 3), "holiday", "local")]
    base = {"tz": "Asia/Shanghai", "versions": [ScheduleVersion(date(2000, 1, 1), LUNCH_WEEK)]}
    observing = Schedule(**base, observe_statutory=True, imported_holidays=imported)  # type: ignore[arg-type]
    ignoring = Schedule(**base, observe_statutory=False, imported_holidays=imported)  # type: ignore[arg-type]
    assert biz_min(observing, sh(2025, 3, 3), sh(2025, 3, 4)) == 0
    assert biz_min(ignoring, sh(2025, 3, 3), sh(2025, 3, 4)) == 480
    assert statutory_coverage(observing, date(2024, 6, 1), date(2025, 6, 1)) == [2024]


def test_days_before_first_version_are_closed() -> None:
    schedule = Schedule("Asia/Shanghai", [ScheduleVersion(date(2025, 3, 5), LUNCH_WEEK)])
    assert describe_day(schedule, date(2025, 3, 4)).kind is DayKind.NO_VERSION
    assert biz_min(schedule, sh(2025, 3, 3), sh(2025, 3, 6)) == 480
    assert add_business_minutes(schedule, sh(2025, 3, 3), 1) == sh(2025, 3, 5, 9, 1)


def test_overnight_shift_split_over_two_days() -> None:
    schedule = Schedule(
        "Asia/Shanghai",
        [ScheduleVersion(date(2000, 1, 1), {0: [("22:00", "24:00")], 1: [("00:00", "06:00")]})],
    )
    assert biz_min(schedule, sh(2025, 3, 3), sh(2025, 3, 5)) == 480
    assert add_business_minutes(schedule, sh(2025, 3, 3, 12), 120) == sh(2025, 3, 4)
    assert add_business_minutes(schedule, sh(2025, 3, 3, 12), 121) == sh(2025, 3, 4, 0, 1)


def test_gives_up_after_3660_days_without_hours() -> None:
    closed = Schedule("UTC", [ScheduleVersion(date(2000, 1, 1), {})])
    with pytest.raises(CalendarError) as exc:
        add_business_minutes(closed, datetime(2025, 1, 1, tzinfo=UTC), 1)
    assert exc.value.code == "calendar.no_business_time"
    # Hours that start only after the search horizon are not found either.
    late = Schedule("UTC", [ScheduleVersion(date(2036, 1, 1), LUNCH_WEEK), ScheduleVersion(date(2000, 1, 1), {})])
    with pytest.raises(CalendarError):
        add_business_minutes(late, datetime(2025, 1, 1, tzinfo=UTC), 1)
    soon = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=MAX_SEARCH_DAYS - 400)
    assert add_business_minutes(late, soon, 1) == datetime(2036, 1, 1, 9, 1, tzinfo=UTC)


def test_cache_extends_both_directions() -> None:
    schedule = china()
    assert add_business_minutes(schedule, sh(2025, 3, 3, 8, 40), 60) == sh(2025, 3, 3, 10)
    assert biz_min(schedule, sh(2010, 1, 4), sh(2010, 1, 5)) == 480
    far = add_business_minutes(schedule, sh(2025, 1, 1), 480 * 250 * 5)
    assert far == ref_add(schedule, sh(2025, 1, 1), 480 * 250 * 5)
    years = compiled(schedule).years
    assert years is not None and years[0] <= 2010 and years[1] >= 2029


def test_non_utc_aware_inputs_are_accepted_and_output_is_utc() -> None:
    out = add_business_minutes(CN, datetime(2025, 3, 3, 8, 40, tzinfo=SH), 60)
    assert out.tzinfo is UTC and out == sh(2025, 3, 3, 10)


def test_parse_holidays_csv_rows_and_errors() -> None:
    good = parse_holidays_csv(
        "\ufeffdate,kind,name\n2027-02-06,休,春节\n2027/2/14,workday,春节补班\n\n2027-01-01,holiday,\n"
    )
    assert [(h.day, h.kind, h.name) for h in good] == [
        (date(2027, 1, 1), "holiday", ""),
        (date(2027, 2, 6), "holiday", "春节"),
        (date(2027, 2, 14), "workday", "春节补班"),
    ]
    bad = (
        "date,kind,name\n2027-02-30,holiday,x\n2027-03-01,vacation,x\n"
        "2027-03-02,holiday,x\n2027-03-02,workday,y\n1,2,3,4\n"
    )
    with pytest.raises(HolidayImportError) as exc:
        parse_holidays_csv(bad)
    err = exc.value
    assert err.code == "calendar.import_errors"
    assert [e.row for e in err.errors] == [2, 3, 5, 6]
    assert "does not exist" in err.errors[0].reason and "kind" in err.errors[1].reason
    assert "row 4" in err.errors[2].reason
    assert [h.day for h in err.valid] == [date(2027, 3, 2)]


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20271001\r\nDTEND;VALUE=DATE:20271008\r\n"
    "SUMMARY:国庆节 假期\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270926\r\nSUMMARY:国庆节 补班\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nDURATION:P1D\r\n"
    "SUMMARY:New Year\\, day\r\n off\r\nEND:VEVENT\r\n"  # folded line, escaped comma
    "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270213\r\nSUMMARY:Spring Festival Workday\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_parse_holidays_ics_multiday_makeup_and_folding() -> None:
    hols = parse_holidays_ics(ICS)
    kinds = {h.day: h.kind for h in hols}
    assert [d for d, k in kinds.items() if k == "holiday"] == [date(2027, 1, 1)] + [
        date(2027, 10, d) for d in range(1, 8)
    ]
    assert kinds[date(2027, 9, 26)] == "workday" and kinds[date(2027, 2, 13)] == "workday"
    assert next(h.name for h in hols if h.day == date(2027, 1, 1)) == "New Year, dayoff"
    schedule = china(imported_holidays=hols)
    assert biz_min(schedule, sh(2027, 9, 26), sh(2027, 9, 27)) == 480  # Sunday make-up day
    assert biz_min(schedule, sh(2027, 10, 1), sh(2027, 10, 8)) == 0


def test_parse_holidays_ics_errors() -> None:
    bad = (
        "BEGIN:VEVENT\nSUMMARY:no start\nEND:VEVENT\n"
        "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20271005\nDTEND;VALUE=DATE:20271003\nEND:VEVENT\n"
        "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20271001\nSUMMARY:holiday\nEND:VEVENT\n"
        "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20271001\nSUMMARY:补班\nEND:VEVENT\n"
    )
    with pytest.raises(HolidayImportError) as exc:
        parse_holidays_ics(bad)
    assert [e.row for e in exc.value.errors] == [1, 4, 12]
    assert [h.day for h in exc.value.valid] == [date(2027, 10, 1)]


# --------------------------------------------------------------------------------------------------
# Validation


def _version(hours: object) -> ScheduleVersion:
    return ScheduleVersion(date(2025, 1, 1), hours)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: Schedule("Mars/Olympus", [_version({})]), "calendar.unknown_timezone"),
        (lambda: Schedule("", [_version({})]), "calendar.unknown_timezone"),
        (lambda: Schedule("../etc/passwd", [_version({})]), "calendar.unknown_timezone"),
        (lambda: _version({0: [("09:00", "12:00"), ("11:00", "13:00")]}), "calendar.overlapping_intervals"),
        (lambda: _version({0: [("09:00", "09:00")]}), "calendar.empty_interval"),
        (lambda: _version({0: [("22:00", "06:00")]}), "calendar.empty_interval"),
        (lambda: _version({0: [("9:00", "12:00")]}), "calendar.bad_time"),
        (lambda: _version({0: [("09:00", "25:00")]}), "calendar.bad_time"),
        (lambda: _version({0: [("09:60", "12:00")]}), "calendar.bad_time"),
        (lambda: _version({0: [("24:00", "24:00")]}), "calendar.bad_time"),
        (lambda: _version({0: [(900, 1200)]}), "calendar.bad_time"),
        (lambda: _version({0: [("09:00",)]}), "calendar.bad_interval"),
        (lambda: _version({0: "09:00-12:00"}), "calendar.bad_interval"),
        (lambda: _version({7: []}), "calendar.invalid_weekday"),
        (
            lambda: ScheduleVersion(date(2025, 1, 1), {}, makeup_template_weekday=9),
            "calendar.invalid_weekday",
        ),
        (lambda: Schedule("UTC", []), "calendar.no_versions"),
        (
            lambda: Schedule("UTC", [_version({}), _version({0: [("09:00", "10:00")]})]),
            "calendar.duplicate_version",
        ),
        (
            lambda: ScheduleOverride(date(2025, 1, 1), "closed", [("09:00", "10:00")]),
            "calendar.invalid_override",
        ),
        (lambda: ScheduleOverride(date(2025, 1, 1), "open", []), "calendar.invalid_override"),
        (lambda: ScheduleOverride(date(2025, 1, 1), "maybe"), "calendar.invalid_override"),  # type: ignore[arg-type]
        (
            lambda: Schedule("UTC", [_version({})], overrides=[ScheduleOverride(date(2025, 1, 1), "closed")] * 2),
            "calendar.duplicate_override",
        ),
        (lambda: Schedule("UTC", [_version({})], statutory_region="US"), "calendar.unknown_region"),  # type: ignore[arg-type]
        (lambda: Holiday(date(2025, 1, 1), "vacation"), "calendar.invalid_holiday"),  # type: ignore[arg-type]
        (
            lambda: Schedule(
                "UTC",
                [_version({})],
                imported_holidays=[
                    Holiday(date(2027, 1, 1), "holiday"),
                    Holiday(date(2027, 1, 1), "workday"),
                ],
            ),
            "calendar.conflicting_holiday",
        ),
    ],
)
def test_validation_errors(build: Callable[[], object], code: str) -> None:
    with pytest.raises(CalendarError) as exc:
        build()
    assert exc.value.code == code
    assert isinstance(exc.value, ValueError) and code in str(exc.value) and exc.value.message


def test_naive_datetimes_rejected() -> None:
    naive = datetime(2025, 3, 3, 9)
    aware = sh(2025, 3, 3, 9)
    calls: list[Callable[[], object]] = [
        lambda: add_business_minutes(CN, naive, 10),
        lambda: add_business_minutes(CN, naive, 0),
        lambda: add_business_seconds(CN, naive, 10),
        lambda: business_seconds_between(CN, naive, aware),
        lambda: business_seconds_between(CN, aware, naive),
        lambda: minutes_between(Clock.CALENDAR, None, naive, aware),
        lambda: add_minutes(Clock.CALENDAR, None, naive, 5),
        lambda: statutory_coverage(CN, naive, aware),
    ]
    for call in calls:
        with pytest.raises(CalendarError) as exc:
            call()
        assert exc.value.code == "calendar.naive_datetime"


@pytest.mark.parametrize("minutes", [float("nan"), float("inf")])
def test_non_finite_durations_rejected(minutes: float) -> None:
    with pytest.raises(CalendarError) as exc:
        add_business_minutes(CN, sh(2025, 3, 3), minutes)
    assert exc.value.code == "calendar.bad_duration"


def test_business_clock_needs_schedule() -> None:
    with pytest.raises(CalendarError) as exc:
        add_minutes(Clock.BUSINESS, None, sh(2025, 3, 3), 5)
    assert exc.value.code == "calendar.no_schedule"


def test_working_hours_json_round_trip_and_equality() -> None:
    wh = WorkingHours({"0": [["09:00", "12:00"]], 6: [("13:00", "24:00")]})  # type: ignore[arg-type]
    assert wh[0] == (("09:00", "12:00"),) and wh[3] == () and len(wh) == 7
    assert WorkingHours(wh.to_json()) == wh
    assert hash(china()) == hash(china()) and china() == china()


# --------------------------------------------------------------------------------------------------
# Slow reference implementation (day walk, straight from §B.1/§B.2) for the property tests


def _hhmm(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def ref_day_hours(s: Schedule, d: date) -> list[tuple[int, int]]:
    eligible = [v for v in s.versions if v.effective_from <= d]
    version = max(eligible, key=lambda v: v.effective_from) if eligible else None

    def weekly(weekday: int) -> list[tuple[int, int]]:
        if version is None:
            return []
        return [(_hhmm(a), _hhmm(b)) for a, b in version.hours[weekday]]

    for o in s.overrides:
        if o.day == d:
            if o.kind == "closed":
                return []
            if o.hours is not None:
                return [(_hhmm(a), _hhmm(b)) for a, b in o.hours]
            return weekly(version.makeup_template_weekday) if version else []
    if version is None:
        return []
    if s.observe_statutory:
        kind = None
        for h in s.imported_holidays:
            if h.day == d:
                kind = h.kind
        if kind is None and s.statutory_region == "CN":
            if d in cc_constants.holidays:
                kind = "holiday"
            elif d in cc_constants.workdays:
                kind = "workday"
        if kind == "holiday":
            return []
        if kind == "workday":
            return weekly(d.weekday()) or weekly(version.makeup_template_weekday)
    return weekly(d.weekday())


def ref_intervals(s: Schedule, d: date) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(s.tz)
    out = []
    for a, b in ref_day_hours(s, d):
        start = datetime.combine(d, time(a // 60, a % 60), tzinfo=zone).astimezone(UTC)
        end_day, end_min = (d + timedelta(days=1), 0) if b == 1440 else (d, b)
        end = datetime.combine(end_day, time(end_min // 60, end_min % 60), tzinfo=zone).astimezone(UTC)
        if end > start:
            out.append((start, end))
    return sorted(out)


def _local(s: Schedule, t: datetime) -> date:
    return t.astimezone(ZoneInfo(s.tz)).date()


def ref_between(s: Schedule, a: datetime, b: datetime) -> float:
    if b < a:
        return -ref_between(s, b, a)
    ivs: list[tuple[datetime, datetime]] = []
    d = _local(s, a) - timedelta(days=1)
    while d <= _local(s, b) + timedelta(days=1):
        ivs += ref_intervals(s, d)
        d += timedelta(days=1)
    merged: list[list[datetime]] = []
    for start, end in sorted(ivs):  # union: the same UTC instant is never counted twice
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    total = timedelta()
    for start, end in merged:
        lo, hi = max(start, a), min(end, b)
        if hi > lo:
            total += hi - lo
    return total.total_seconds()


def ref_add(s: Schedule, start: datetime, minutes: float) -> datetime:
    if minutes <= 0:
        return start
    remaining = timedelta(minutes=minutes)
    cursor = start
    d = _local(s, start) - timedelta(days=1)
    while d <= _local(s, start) + timedelta(days=MAX_SEARCH_DAYS):
        for ivs, ive in ref_intervals(s, d):
            if ive <= cursor:
                continue
            begin = max(cursor, ivs)
            if remaining <= ive - begin:
                result = begin + remaining
                if result - start > timedelta(days=MAX_SEARCH_DAYS):
                    raise CalendarError("calendar.no_business_time", "reference: beyond the horizon")
                return result
            remaining -= ive - begin
            cursor = ive
        d += timedelta(days=1)
    raise CalendarError("calendar.no_business_time", "reference: gave up")


# --------------------------------------------------------------------------------------------------
# Property tests

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_S = int((datetime(2027, 7, 1, tzinfo=UTC) - T0).total_seconds())
# Instants close to DST transitions of the zones used below, where bugs hide.
DST_EDGES = [
    datetime(2025, 3, 9, 7, tzinfo=UTC),
    datetime(2025, 11, 2, 6, tzinfo=UTC),
    datetime(2025, 3, 30, 1, tzinfo=UTC),
    datetime(2025, 10, 26, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
]

instants = st.one_of(
    st.integers(0, SPAN_S // 60).map(lambda m: T0 + timedelta(minutes=m)),
    st.integers(0, SPAN_S).map(lambda s: T0 + timedelta(seconds=s)),
    st.builds(lambda e, m: e + timedelta(minutes=m), st.sampled_from(DST_EDGES), st.integers(-1500, 1500)),
)


def _fmt(half_hours: int) -> str:
    return f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


# Half-hour grid points, biased towards 00:30–04:00 where the DST gaps and overlaps are.
grid_points = st.one_of(st.integers(0, 48), st.integers(1, 8))


@st.composite
def day_hours(draw: st.DrawFn) -> list[tuple[str, str]]:
    """0–3 disjoint intervals on a half-hour grid (lunch breaks, 24:00 ends, DST-gap hours)."""
    points = sorted(draw(st.lists(grid_points, max_size=6, unique=True)))
    if len(points) % 2:
        points = points[:-1]
    return [(_fmt(a), _fmt(b)) for a, b in zip(points[::2], points[1::2], strict=True)]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    tz = draw(st.sampled_from(["America/New_York", "Asia/Shanghai", "Europe/London", "UTC"]))
    eff = draw(st.lists(st.dates(date(2023, 6, 1), date(2026, 12, 31)), min_size=1, max_size=3, unique=True))
    versions = [
        ScheduleVersion(
            d,
            {wd: draw(day_hours()) for wd in range(7)},
            makeup_template_weekday=draw(st.integers(0, 6)),
        )
        for d in eff
    ]
    days = draw(st.lists(st.dates(date(2024, 1, 1), date(2027, 6, 30)), max_size=4, unique=True))
    overrides = [
        ScheduleOverride(d, "closed")
        if draw(st.booleans())
        else ScheduleOverride(d, "open", draw(st.one_of(st.none(), day_hours().filter(bool))))
        for d in days
    ]
    hol_days = draw(st.lists(st.dates(date(2025, 9, 1), date(2027, 6, 30)), max_size=4, unique=True))
    imported = [Holiday(d, draw(st.sampled_from(["holiday", "workday"]))) for d in hol_days]
    return Schedule(
        tz,
        versions,
        overrides,
        observe_statutory=draw(st.booleans()),
        statutory_region=draw(st.sampled_from(["CN", None])),
        imported_holidays=imported,
    )


NY_LUNCH = Schedule(
    "America/New_York",
    [ScheduleVersion(date(2000, 1, 1), {wd: [("08:00", "12:00"), ("13:00", "17:30")] for wd in range(6)})],
)


@PROPS
@given(st.sampled_from([CN, NY_LUNCH, NY_24X7]), instants, st.integers(1, 4000))
def test_property_between_of_add_is_n_minutes(schedule: Schedule, start: datetime, n: int) -> None:
    due = add_business_minutes(schedule, start, n)
    assert due >= start and due.tzinfo is UTC
    assert business_seconds_between(schedule, start, due) == n * 60
    # Minimal: any earlier instant has strictly less business time (so a deadline never overshoots).
    assert business_seconds_between(schedule, start, due - timedelta(seconds=1)) < n * 60


@PROPS
@given(st.sampled_from([CN, NY_LUNCH]), instants, st.integers(1, 3000), st.integers(1, 3000), instants)
def test_property_monotone(schedule: Schedule, start: datetime, n1: int, n2: int, other: datetime) -> None:
    lo, hi = sorted((n1, n2))
    assert add_business_minutes(schedule, start, lo) <= add_business_minutes(schedule, start, hi)
    a, b = sorted((start, other))
    mid = a + (b - a) / 2
    ab, am, mb = (business_seconds_between(schedule, x, y) for x, y in ((a, b), (a, mid), (mid, b)))
    assert 0 <= am <= ab and 0 <= mb <= ab
    assert am + mb == pytest.approx(ab, abs=1e-6)
    assert business_seconds_between(schedule, b, a) == -ab


@PROPS
@given(schedules(), instants, instants, st.integers(1, 3000))
def test_property_compiled_equals_reference(schedule: Schedule, a: datetime, b: datetime, n: int) -> None:
    assert business_seconds_between(schedule, a, b) == pytest.approx(ref_between(schedule, a, b), abs=1e-6)
    try:
        expected: datetime | None = ref_add(schedule, a, n)
    except CalendarError:
        expected = None
    if expected is None:
        with pytest.raises(CalendarError):
            add_business_minutes(schedule, a, n)
    else:
        assert add_business_minutes(schedule, a, n) == expected
