"""Cell parsing, encoding detection and header matching (no database)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicelens.core.errors import ProblemError
from servicelens.imports.reader import detect_encoding, detect_format, match_header, open_csv
from servicelens.imports.schemas import FileFormat
from servicelens.imports.values import (
    MISSING,
    STATUS_ALIASES,
    TIER_ALIASES,
    Errors,
    TimeParser,
    boolean,
    choice,
    escape_formula,
    number,
    text,
    unescape_formula,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ts = TimeParser(ZoneInfo("Asia/Shanghai"), NOW)


@given(st.text())
def test_formula_escaping_round_trips(value: str) -> None:
    escaped = escape_formula(value)
    assert unescape_formula(escaped) == value
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-03 08:40:00", datetime(2025, 3, 3, 0, 40)),  # naive = Asia/Shanghai
        ("2025-03-03T08:40", datetime(2025, 3, 3, 0, 40)),
        ("2025-03-03", datetime(2025, 3, 2, 16, 0)),
        ("2025-03-03T00:40:00Z", datetime(2025, 3, 3, 0, 40)),
        ("2025-03-03T09:40:00+09:00", datetime(2025, 3, 3, 0, 40)),
        ("2025-03-03 08:40:00.999", datetime(2025, 3, 3, 0, 40)),  # stored at 1-second precision
        ("2025/3/3 8:40", datetime(2025, 3, 3, 0, 40)),  # Chinese-locale Excel
        ("2025/03/03 08:40:00 +0800", datetime(2025, 3, 3, 0, 40)),
    ],
)
def test_timestamps(raw: str, expected: datetime) -> None:
    errs: Errors = []
    assert ts(raw, "created_at", errs) == expected
    assert errs == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("tomorrow", "not a date"), ("2025-13-01", "not a date"), ("1969-12-31", "1970"), ("2030-01-01", "future")],
)
def test_bad_timestamps(raw: str, reason: str) -> None:
    errs: Errors = []
    assert ts(raw, "created_at", errs) is None
    assert errs[0][0] == "created_at" and reason in errs[0][1]


def test_missing_and_empty_cells() -> None:
    errs: Errors = []
    assert ts(None, "x", errs) is MISSING and text(None, "x", errs, 5) is MISSING
    assert ts("", "x", errs) is None and text("", "x", errs, 5) is None
    assert text("abcdef", "x", errs, 5) is None and "longer than 5" in errs[-1][1]


def test_booleans_numbers_and_choices() -> None:
    errs: Errors = []
    assert [boolean(v, "b", errs) for v in ("true", "1", "是", "YES", "false", "0", "否", "n")] == [True] * 4 + [
        False
    ] * 4
    assert boolean("maybe", "b", errs) is None and errs.pop()[0] == "b"
    assert number("31.23", "lat", errs, -90, 90) == 31.23
    assert number("91", "lat", errs, -90, 90) is None and "outside" in errs.pop()[1]
    assert number("north", "lat", errs, -90, 90) is None and "not a number" in errs.pop()[1]
    assert (
        choice("VIP", "tier", errs, TIER_ALIASES) == "vip" and choice("普通", "tier", errs, TIER_ALIASES) == "regular"
    )
    assert choice("已解决", "status", errs, STATUS_ALIASES) == "resolved"
    assert choice("In_Progress", "status", errs, STATUS_ALIASES) == "in_progress"
    assert errs == []
    assert choice("gold", "tier", errs, TIER_ALIASES) is None and "regular, vip" in errs[0][1]


def test_encoding_detection() -> None:
    text_zh = "客户,服务质量监控\n"
    assert detect_encoding(io.BytesIO(text_zh.encode("utf-8"))) == "utf-8"
    assert detect_encoding(io.BytesIO(b"\xef\xbb\xbf" + text_zh.encode())) == "utf-8-sig"
    assert detect_encoding(io.BytesIO(text_zh.encode("gbk"))) == "gbk"
    assert detect_encoding(io.BytesIO(text_zh.encode("utf-16"))) == "utf-16"
    with pytest.raises(ProblemError) as exc:
        detect_encoding(io.BytesIO(bytes(range(256)) * 8))
    assert exc.value.code == "import.bad_encoding" and exc.value.status == 400


def test_format_detection() -> None:
    assert detect_format(b"PK\x03\x04", "a.csv", "text/csv", None) is FileFormat.xlsx
    assert detect_format(b"a,b", "a.CSV", None, None) is FileFormat.csv
    assert detect_format(b"{}", "a.jsonl", None, None) is FileFormat.ndjson
    assert detect_format(b"a,b", None, "application/vnd.ms-excel", None) is FileFormat.csv
    assert detect_format(b' {"a"', None, None, None) is FileFormat.ndjson
    assert detect_format(b"a,b", "a.xlsx", None, FileFormat.csv) is FileFormat.csv


def test_header_matching() -> None:
    h = match_header(["External ID", "NAME", "", None], ["external_id", "name", "tier"], ["external_id"])
    assert h.positions == [0, 1, -1] and not h.identity
    with pytest.raises(ProblemError) as exc:
        match_header(["external_id", "name", "name"], ["external_id", "name"], [])
    assert exc.value.errors == [{"field": "name", "reason": "column appears twice"}]


def test_csv_rows_are_aligned_numbered_and_unescaped() -> None:
    content = "name\texternal_id\n  张三 \tA1\n\n'=1+1\tA2\nx\ty\tz\n".encode()
    src = open_csv(io.BytesIO(content), ["external_id", "name", "tier"], ["external_id"])
    rows = list(src.rows)
    assert rows[0] == (1, ("A1", "张三", None))
    assert rows[1] == (3, ("A2", "=1+1", None))  # row 2 was blank: numbering follows the lines
    assert rows[2][0] == 4 and isinstance(rows[2][1], str) and "3 cells" in rows[2][1]


def test_bulk_timestamps_match_the_orm_storage_format() -> None:
    """The ticket fast path writes timestamps itself; SQLite compares them as text, so they must be
    byte-identical to what UTCDateTime stores, and PostgreSQL must get an aware UTC value."""
    from sqlalchemy.dialects import postgresql, sqlite

    from servicelens.core.db import UTCDateTime
    from servicelens.imports.engine import _pg_time, _sqlite_time

    for value in (
        datetime(2025, 3, 3, 0, 40),
        datetime(2025, 3, 3, 0, 40, 5, 123456),
        datetime(1999, 12, 31, 23, 59, 59),
    ):
        lite = sqlite.dialect()
        orm = UTCDateTime().dialect_impl(lite).bind_processor(lite)
        assert orm is not None
        assert _sqlite_time(value) == orm(value)
        pg = postgresql.dialect()
        assert _pg_time(value) == UTCDateTime().process_bind_param(value, pg)
    assert _sqlite_time(None) is None and _pg_time(None) is None


def test_time_parser_can_emit_driver_values() -> None:
    from servicelens.imports.engine import _pg_time, _sqlite_time

    errs: Errors = []
    lite = TimeParser(ZoneInfo("Asia/Shanghai"), NOW, out="sqlite")("2025-03-03 08:40:00.5", "t", errs)
    pg = TimeParser(ZoneInfo("Asia/Shanghai"), NOW, out="pg")("2025-03-03 08:40:00.5", "t", errs)
    assert lite == _sqlite_time(datetime(2025, 3, 3, 0, 40)) == "2025-03-03 00:40:00.000000"
    assert pg == _pg_time(datetime(2025, 3, 3, 0, 40)) and errs == []


_ZONES = [
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",
]


@given(
    zone=st.sampled_from(_ZONES),
    stamps=st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1969, 12, 31), max_value=datetime(2026, 1, 2)),
            st.sampled_from([" ", "T"]),
            st.sampled_from(["", ":60", ":61:00", "5"]),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_hour_shortcut_converts_exactly_like_the_full_parse(zone: str, stamps: list[tuple[datetime, str, str]]) -> None:
    """The SQLite output takes a shortcut for "YYYY-MM-DD HH:MM:SS" in hours it has converted
    before; it must give what a fresh parse gives, errors included (DST changes, +05:30 zones,
    1970 and "now" edges, impossible clocks after a valid one of the same hour)."""
    shared = TimeParser(ZoneInfo(zone), NOW, out="sqlite")
    for when, sep, damage in stamps:
        # Repeat each hour with other minutes so the shortcut is taken, and damage some clocks.
        for raw in (when.strftime(f"%Y-%m-%d{sep}%H:%M:%S"), when.strftime(f"%Y-%m-%d{sep}%H:07:09"),
                    when.strftime(f"%Y-%m-%d{sep}%H") + (damage or ":59:59")):  # fmt: skip
            fresh_errs: Errors = []
            shared_errs: Errors = []
            fresh = TimeParser(ZoneInfo(zone), NOW, out="sqlite")(raw, "t", fresh_errs)
            assert shared(raw, "t", shared_errs) == fresh, raw
            assert shared_errs == fresh_errs, raw


def test_hour_shortcut_is_taken() -> None:
    parse = TimeParser(ZoneInfo("Asia/Shanghai"), NOW, out="sqlite")
    assert parse("2025-03-03 08:40:00", "t", []) == "2025-03-03 00:40:00.000000"
    assert parse._hours == {"2025-03-03 08": "2025-03-03 00"}
    assert parse("2025-03-03T08:59:59", "t", []) == "2025-03-03 00:59:59.000000"


def test_hour_shortcut_keeps_the_future_limit_inside_an_hour() -> None:
    """ "Now" (+1 h slack) falls inside an hour: that hour is never taken as a whole."""
    parse = TimeParser(ZoneInfo("Asia/Shanghai"), datetime(2026, 1, 1, 0, 30, tzinfo=UTC), out="sqlite")
    errs: Errors = []
    assert parse("2026-01-01 09:10:00", "t", errs) == "2026-01-01 01:10:00.000000" and not errs
    assert parse("2026-01-01 09:45:00", "t", errs) is None
    assert errs == [("t", "'2026-01-01 09:45:00' is in the future")]
