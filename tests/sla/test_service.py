"""SLA engine through the real app and database: policies, targets, scanner, ladders, node checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicelens.core import clock
from servicelens.core.db import Database
from servicelens.sla import service
from servicelens.sla.models import TicketSla
from servicelens.tickets.models import TicketEvent
from tests.conftest import Org, backend, login

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, mo: int, d: int, hm: str) -> datetime:
    h, m = map(int, hm.split(":"))
    return datetime(y, mo, d, h, m, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def sla_setup(admin_client: TestClient, org: Org) -> dict[str, Any]:
    clock.freeze(sh(2025, 3, 3, "08:00"))  # a Monday
    cal = admin_client.post("/api/v1/sla/calendars", json={"name": "中国工作日历"}).json()
    urgent = admin_client.post(
        "/api/v1/sla/policies",
        json={
            "name": "VIP 投诉",
            "position": 1,
            "conditions": {"tier": ["vip"], "type": ["complaint"]},
            "calendar_id": cal["id"],
            "targets": [
                {"metric": "first_reply", "minutes": 30, "clock": "business"},
                {"metric": "resolution", "minutes": 480, "clock": "business"},
            ],
        },
    )
    assert urgent.status_code == 201, urgent.text
    regular = admin_client.post(
        "/api/v1/sla/policies",
        json={
            "name": "普通",
            "position": 10,
            "calendar_id": cal["id"],
            "targets": [
                {"metric": "first_reply", "minutes": 120, "clock": "business"},
                {"metric": "first_reply", "minutes": 30, "clock": "business", "priorities": ["urgent"]},
                {"metric": "next_reply", "minutes": 240, "clock": "business"},
                {"metric": "resolution", "minutes": 960, "clock": "business"},
            ],
        },
    )
    assert regular.status_code == 201, regular.text
    nosla = admin_client.post(
        "/api/v1/sla/policies",
        json={"name": "建议无SLA", "position": 0, "conditions": {"type": ["suggestion"]}, "no_sla": True},
    )
    assert nosla.status_code == 201
    return {"calendar": cal, "urgent": urgent.json(), "regular": regular.json()}


def _ticket(c: TestClient, org: Org, **over: Any) -> dict[str, Any]:
    body = {"subject": "热水器漏水投诉", "type": "complaint", "customer_id": org.customer_vip} | over
    r = c.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _targets(c: TestClient, ticket_id: int) -> dict[str, dict[str, Any]]:
    body = c.get(f"/api/v1/tickets/{ticket_id}/sla").json()
    return {f"{t['metric']}#{t['cycle']}": t for t in body["targets"]}


def test_policy_chosen_and_deadlines_on_business_calendar(admin_client: TestClient, org: Org, sla_setup: Any) -> None:
    t = _ticket(admin_client, org)  # VIP complaint created Mon 08:00 → clock starts 09:00
    targets = _targets(admin_client, t["id"])
    assert targets["first_reply#1"]["due_at"].startswith("2025-03-03T01:30")  # 09:30 Shanghai
    assert targets["resolution#1"]["due_at"].startswith("2025-03-03T10:00")  # 18:00 Shanghai
    assert t["sla"]["metric"] == "first_reply" and t["sla"]["state"] == "active"
    regular = _ticket(admin_client, org, type="repair", customer_id=org.customer_regular)
    assert _targets(admin_client, regular["id"])["first_reply#1"]["target_minutes"] == 120
    urgent = _ticket(admin_client, org, type="repair", customer_id=org.customer_regular, priority="urgent")
    assert _targets(admin_client, urgent["id"])["first_reply#1"]["target_minutes"] == 30
    suggestion = _ticket(admin_client, org, type="suggestion")
    assert _targets(admin_client, suggestion["id"]) == {}  # "no SLA" is a valid outcome


def test_pending_pauses_clock_and_resume_shifts_due(admin_client: TestClient, org: Org, sla_setup: Any) -> None:
    t = _ticket(admin_client, org)
    clock.freeze(sh(2025, 3, 3, "09:10"))
    t = admin_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "请提供订单号"}).json()
    t = admin_client.post(
        f"/api/v1/tickets/{t['id']}/transition", json={"to_status": "in_progress", "version": t["version"]}
    ).json()
    t = admin_client.post(
        f"/api/v1/tickets/{t['id']}/transition",
        json={"to_status": "pending_customer", "version": t["version"]},
    ).json()
    targets = _targets(admin_client, t["id"])
    assert targets["first_reply#1"]["state"] == "achieved"
    assert targets["resolution#1"]["state"] == "paused" and targets["resolution#1"]["due_at"] is None
    assert t["sla"]["state"] == "paused"
    clock.freeze(sh(2025, 3, 3, "14:00"))  # customer answers: resumes with 10 min used
    admin_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "订单号 123", "author_kind": "customer"})
    res = _targets(admin_client, t["id"])["resolution#1"]
    assert res["state"] == "active" and res["used_minutes"] == 10
    assert res["due_at"].startswith("2025-03-04T05:50")  # 14:00 + 470 biz min → Tue 13:50 Shanghai


def test_scanner_records_warning_and_breach_once(
    admin_client: TestClient, org: Org, sla_setup: Any, db: Database
) -> None:
    t = _ticket(admin_client, org)
    assert service.scan_due(db, sh(2025, 3, 3, "09:20")) == 0  # nothing due yet
    service.scan_due(db, sh(2025, 3, 3, "09:25"))  # warning at 80 % = 09:24
    service.scan_due(db, sh(2025, 3, 3, "09:30") + timedelta(seconds=1))
    service.scan_due(db, sh(2025, 3, 3, "09:31"))  # again: no duplicate
    with db.session() as s:
        kinds = s.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == t["id"]).order_by(TicketEvent.id)
        ).all()
        row = s.scalar(select(TicketSla).where(TicketSla.ticket_id == t["id"], TicketSla.metric == "first_reply"))
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_breached") == 1
    assert row is not None and row.state == "breached" and row.next_check_at is None
    assert row.breached_at == sh(2025, 3, 3, "09:30")
    # a late reply does not un-breach
    clock.freeze(sh(2025, 3, 3, "10:00"))
    admin_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "抱歉久等"})
    fr = _targets(admin_client, t["id"])["first_reply#1"]
    assert fr["state"] == "breached" and fr["fulfilled_at"] is not None and fr["breach_minutes"] == 30


def test_priority_change_recomputes_and_breaches_at_change_time(
    admin_client: TestClient, org: Org, sla_setup: Any, db: Database
) -> None:
    t = _ticket(admin_client, org, type="repair", customer_id=org.customer_regular)
    assert _targets(admin_client, t["id"])["first_reply#1"]["target_minutes"] == 120
    clock.freeze(sh(2025, 3, 3, "09:45"))  # 45 biz min used; urgent allows 30 → already past
    t = admin_client.patch(f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "priority": "urgent"}).json()
    fr = _targets(admin_client, t["id"])["first_reply#1"]
    assert fr["target_minutes"] == 30 and fr["state"] == "breached"
    assert fr["breached_at"].startswith("2025-03-03T01:45")  # the change time
    assert any(i.get("event_kind") == "sla_breached" for i in t["timeline"])


def test_complaint_ladder_two_levels(admin_client: TestClient, org: Org, sla_setup: Any, db: Database) -> None:
    from servicelens.org.models import Region, User

    with db.session() as s:
        region = s.get(Region, org.region_east)
        assert region is not None
        region.manager_id = org.users["admin"]
        sup = s.get(User, org.users["supervisor1"])
        assert sup is not None
    rule = admin_client.post(
        "/api/v1/sla/escalation-rules",
        json={
            "name": "投诉2小时未响应",
            "conditions": {"type": ["complaint"]},
            "trigger": "no_first_response",
            "levels": [
                {
                    "after_minutes": 120,
                    "actions": [
                        {"type": "flag", "color": "red"},
                        {"type": "notify", "roles": ["team_supervisor"]},
                        {"type": "priority", "raise_levels": 1},
                    ],
                },
                {"after_minutes": 240, "actions": [{"type": "notify", "roles": ["regional_manager"]}]},
            ],
        },
    )
    assert rule.status_code == 201, rule.text
    clock.freeze(sh(2025, 3, 3, "10:00"))
    t = _ticket(admin_client, org, team_id=org.team_east, priority="normal")
    answered = _ticket(admin_client, org, team_id=org.team_east)
    admin_client.post(f"/api/v1/tickets/{answered['id']}/comments", json={"body": "已收到"})
    service.scan_due(db, sh(2025, 3, 3, "11:59"))
    assert admin_client.get(f"/api/v1/tickets/{t['id']}").json()["flag_color"] == "none"
    service.scan_due(db, sh(2025, 3, 3, "12:00") + timedelta(seconds=1))
    got = admin_client.get(f"/api/v1/tickets/{t['id']}").json()
    assert got["flag_color"] == "red" and got["priority"] == "high"
    esc = [i for i in got["timeline"] if i.get("event_kind") == "escalated"]
    assert len(esc) == 1 and esc[0]["data"]["level"] == 1
    service.scan_due(db, sh(2025, 3, 3, "14:00") + timedelta(seconds=1))
    service.scan_due(db, sh(2025, 3, 3, "14:05"))
    got = admin_client.get(f"/api/v1/tickets/{t['id']}").json()
    assert [i["data"]["level"] for i in got["timeline"] if i.get("event_kind") == "escalated"] == [1, 2]
    # the answered complaint never escalates
    other = admin_client.get(f"/api/v1/tickets/{answered['id']}").json()
    assert not any(i.get("event_kind") == "escalated" for i in other["timeline"])
    with TestClient(admin_client.app) as sup_client:
        login(sup_client, "supervisor1")
        notes = sup_client.get("/api/v1/notifications").json()["items"]
        assert any(n["ticket_id"] == t["id"] and n["kind"] == "escalation" for n in notes)


def test_rule_that_would_loop_is_rejected(admin_client: TestClient, org: Org) -> None:
    r = admin_client.post(
        "/api/v1/sla/escalation-rules",
        json={
            "name": "loop",
            "conditions": {"priority": ["high"]},
            "trigger": "unresolved",
            "levels": [{"after_minutes": 60, "actions": [{"type": "priority", "raise_levels": 1}]}],
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "escalation.loop"


@pytest.mark.parametrize(
    "body,code",
    [
        ({"name": "x", "tz": "Mars/Base"}, "calendar.unknown_timezone"),
        (
            {"name": "x", "weekly_hours": {"0": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "calendar.overlapping_intervals",
        ),
        ({"name": "x", "weekly_hours": {"0": [["12:00", "09:00"]]}}, "calendar."),
        ({"name": "x", "weekly_hours": {"0": [["09:00", "25:00"]]}}, "calendar."),
    ],
)
def test_bad_calendars_rejected(admin_client: TestClient, body: dict[str, Any], code: str) -> None:
    r = admin_client.post("/api/v1/sla/calendars", json=body)
    assert r.status_code == 422 and r.json()["code"].startswith(code), r.text
    assert admin_client.get("/api/v1/sla/calendars").json() == []


def test_bad_policies_rejected(admin_client: TestClient, sla_setup: Any) -> None:
    r = admin_client.post("/api/v1/sla/policies", json={"name": "空", "targets": []})
    assert r.status_code == 422
    r = admin_client.post(
        "/api/v1/sla/policies", json={"name": "无日历", "targets": [{"metric": "first_reply", "minutes": 30}]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "calendar_id"
    r = admin_client.post(
        "/api/v1/sla/policies",
        json={"name": "bad", "targets": [{"metric": "first_reply", "minutes": -5, "clock": "calendar"}]},
    )
    assert r.status_code == 422


def test_holiday_import_and_coverage_warning(admin_client: TestClient, sla_setup: Any) -> None:
    cal = sla_setup["calendar"]
    clock.freeze(datetime(2026, 11, 24, tzinfo=UTC))
    got = admin_client.get(f"/api/v1/sla/calendars/{cal['id']}").json()
    assert 2027 in got["coverage_warnings"]
    csv_text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节调休\nnot-a-date,holiday,x\n"
    r = admin_client.post(
        f"/api/v1/sla/calendars/{cal['id']}/holidays",
        files={"file": ("2027.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 200 and r.json()["imported"] == 2 and r.json()["errors"][0]["row"] == 4
    ics = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270210\r\nDTEND;VALUE=DATE:20270217\r\n"
        "SUMMARY:春节\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    r = admin_client.post(
        f"/api/v1/sla/calendars/{cal['id']}/holidays",
        files={"file": ("cn.ics", ics.encode(), "text/calendar")},
    )
    assert r.status_code == 200 and r.json()["imported"] == 7
    got = admin_client.get(f"/api/v1/sla/calendars/{cal['id']}").json()
    assert 2027 not in got["coverage_warnings"] and len(got["holidays"]) == 9
    comp = admin_client.post(
        f"/api/v1/sla/calendars/{cal['id']}/compute", json={"start": "2026-12-31T10:00:00Z", "minutes": 60}
    ).json()
    # 2026-12-31 18:00 Shanghai is closing time; 2027-01-01 is now a holiday → Mon 2027-01-04 10:00
    assert comp["due_at"].startswith("2027-01-04T02:00")


def test_calendar_version_in_future_only(admin_client: TestClient, sla_setup: Any) -> None:
    cal = sla_setup["calendar"]
    r = admin_client.post(
        f"/api/v1/sla/calendars/{cal['id']}/versions",
        json={"effective_from": "2025-01-01", "weekly_hours": {"0": [["08:00", "20:00"]]}},
    )
    assert r.status_code == 422 and r.json()["code"] == "calendar.version_in_past"
    r = admin_client.post(
        f"/api/v1/sla/calendars/{cal['id']}/versions",
        json={
            "effective_from": "2025-04-01",
            "weekly_hours": {str(d): [["08:00", "20:00"]] for d in range(6)},
        },
    )
    assert r.status_code == 201 and len(r.json()["versions"]) == 2


def test_preview_and_at_risk_queue(admin_client: TestClient, org: Org, sla_setup: Any) -> None:
    p = admin_client.post(
        "/api/v1/sla/preview", json={"type": "complaint", "tier": "vip", "created_at": "2025-03-03T01:00:00Z"}
    ).json()
    assert p["policy"]["name"] == "VIP 投诉"
    assert {t["metric"]: t["due_at"][:16] for t in p["targets"]} == {
        "first_reply": "2025-03-03T01:30",
        "resolution": "2025-03-03T10:00",
    }
    assert admin_client.post("/api/v1/sla/preview", json={"type": "suggestion"}).json()["no_sla"] is True
    t = _ticket(admin_client, org)
    clock.freeze(sh(2025, 3, 3, "09:10"))
    risk = admin_client.get("/api/v1/sla/at-risk?within_minutes=60").json()
    assert [r["ticket_id"] for r in risk] == [t["id"]] and risk[0]["metric"] == "first_reply"
    assert admin_client.get("/api/v1/sla/at-risk?within_minutes=5").json() == []


def test_node_checks_A17_A18(db: Database, org: Org, admin_client: TestClient) -> None:
    """200 created: 183 met, 12 late, 5 unanswered & old → 91.5 %; resolution 158/196 → 80.61 %."""
    from servicelens.tickets.models import Ticket

    start = datetime(2025, 3, 1, tzinfo=UTC)
    as_of = datetime(2025, 3, 10, tzinfo=UTC)
    rows = []
    for i in range(200):
        created = start + timedelta(hours=i % 24)
        resp = created + timedelta(minutes=60 if i < 183 else 200) if i < 195 else None
        if i < 158:
            solved = created + timedelta(hours=20)
        elif i < 188:
            solved = created + timedelta(hours=60)
        else:
            solved = None
        if i >= 196:  # 4 unresolved and younger than 48 h at as_of
            created = as_of - timedelta(hours=10)
        rows.append(
            Ticket(
                subject=f"t{i}",
                type="repair",
                channel="phone",
                priority="normal",
                status="resolved" if solved else "in_progress",
                created_at=created,
                updated_at=created,
                first_response_at=resp,
                first_resolved_at=solved,
            )
        )
    with db.session() as s:
        s.add_all(rows)
    from servicelens.core.auth import Subject
    from servicelens.org.models import Role
    from servicelens.tickets.service import scope_clause

    subj = Subject(org.users["admin"], "admin", Role.admin, None, None, "session")
    with db.session() as s:
        checks = {c.check: c for c in service.node_checks(s, scope_clause(subj), start, as_of, None, as_of)}
    resp = checks["responded_within_2h"]
    assert (resp.met, resp.missed, resp.immature) == (183, 17, 0)
    assert round(resp.share or 0, 4) == 0.915 and resp.passed
    res = checks["resolved_within_48h"]
    assert (res.met, res.missed, res.immature) == (158, 38, 4)
    assert round(res.share or 0, 4) == 0.8061 and res.passed
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 200


def test_tier_change_reevaluates_open_tickets(admin_client: TestClient, org: Org, sla_setup: Any) -> None:
    t = _ticket(admin_client, org, customer_id=org.customer_regular)  # regular complaint → 120 min
    assert _targets(admin_client, t["id"])["first_reply#1"]["target_minutes"] == 120
    r = admin_client.patch(f"/api/v1/customers/{org.customer_regular}", json={"tier": "vip"})
    assert r.status_code == 200
    assert _targets(admin_client, t["id"])["first_reply#1"]["target_minutes"] == 30  # VIP complaint policy


def test_queue_sorted_by_sla_urgency(admin_client: TestClient, org: Org, sla_setup: Any) -> None:
    regular = _ticket(admin_client, org, type="repair", customer_id=org.customer_regular)  # due 11:00
    vip = _ticket(admin_client, org)  # VIP complaint, due 09:30
    no_sla = _ticket(admin_client, org, type="suggestion")
    order = [t["id"] for t in admin_client.get("/api/v1/tickets?sort=sla_due").json()["items"]]
    assert order == [vip["id"], regular["id"], no_sla["id"]]
    risk = admin_client.get("/api/v1/sla/at-risk?within_minutes=600").json()
    assert {"warned", "clock"} <= set(risk[0])


def test_sla_sort_pages_through_both_blocks(admin_client: TestClient, org: Org, sla_setup: Any) -> None:
    """Tickets with a due instant (earliest first), then the rest by id; "-sla_due" is the exact
    reverse. The two blocks are paged separately, so every page size must give the same order."""
    regular = _ticket(admin_client, org, type="repair", customer_id=org.customer_regular)  # due 11:00
    no_sla = [_ticket(admin_client, org, type="suggestion") for _ in range(2)]
    vip = _ticket(admin_client, org)  # due 09:30
    vip2 = _ticket(admin_client, org)  # due 09:30 too: the id breaks the tie
    expected = [vip["id"], vip2["id"], regular["id"], no_sla[0]["id"], no_sla[1]["id"]]
    for sort, order in (("sla_due", expected), ("-sla_due", expected[::-1])):
        for size in (1, 2, 3, 5):
            got: list[int] = []
            for page in range(1, 8):
                body = admin_client.get(f"/api/v1/tickets?sort={sort}&page_size={size}&page={page}").json()
                got += [t["id"] for t in body["items"]]
            assert got == order, (sort, size)


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite's query plan")
def test_sla_sort_walks_the_running_targets_by_deadline(
    admin_client: TestClient, db: Database, org: Org, sla_setup: Any
) -> None:
    """The SLA-sorted page reads the running targets in deadline order from the partial index and
    stops at the page: no sort of every running target, and no statistics needed to choose it."""
    from sqlalchemy import event

    _ticket(admin_client, org, type="repair", customer_id=org.customer_regular)
    _ticket(admin_client, org)
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert len(admin_client.get("/api/v1/tickets?sort=sla_due&page_size=1").json()["items"]) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    page_sql, params = next((sql, p) for sql, p in statements if "FROM ticket_sla JOIN tickets" in sql)
    with db.engine.connect() as conn:
        plan = [str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {page_sql}", params)]
    assert any("USING INDEX ix_ticket_sla_running_due" in step for step in plan), plan
    assert not any("MULTI-INDEX OR" in step for step in plan), plan


def test_conditions_naming_unknown_records_are_rejected(admin_client: TestClient, sla_setup: Any) -> None:
    body = {
        "name": "幽灵产品",
        "conditions": {"product_id": [987654]},
        "calendar_id": sla_setup["calendar"]["id"],
        "targets": [{"metric": "first_reply", "minutes": 30}],
    }
    r = admin_client.post("/api/v1/sla/policies", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "conditions.product_id"
    rule = {
        "name": "ghost",
        "conditions": {"region_id": [987654]},
        "trigger": "unresolved",
        "levels": [{"after_minutes": 60, "actions": [{"type": "flag", "color": "red"}]}],
    }
    r = admin_client.post("/api/v1/sla/escalation-rules", json=rule)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "conditions.region_id"
