"""Tickets through the real app and database: status machine, history, comments, merge, locking."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Org


def _create(c: TestClient, org: Org, **over: Any) -> dict[str, Any]:
    body = {
        "subject": "热水器漏水",
        "description": "客户反映热水器底部漏水，需要上门检修。",
        "type": "repair",
        "channel": "phone",
        "priority": "high",
        "customer_id": org.customer_vip,
        "product_id": org.product,
        "component_id": org.component,
        "team_id": org.team_east,
    } | over
    r = c.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _move(c: TestClient, t: dict[str, Any], to: str, **extra: Any) -> Any:
    return c.post(f"/api/v1/tickets/{t['id']}/transition", json={"to_status": to, "version": t["version"], **extra})


def test_create_and_read_ticket(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    assert t["status"] == "new" and t["status_category"] == "new"
    assert t["customer"]["tier"] == "vip" and t["region"]["id"] == org.region_east  # region from the customer
    assert t["allowed_transitions"] == ["assigned", "in_progress", "resolved"]
    assert [i["event_kind"] for i in t["timeline"]] == ["created"]
    got = agent_client.get(f"/api/v1/tickets/{t['id']}").json()
    assert got["subject"] == "热水器漏水" and got["version"] == t["version"]


def test_full_lifecycle_maps_status_categories(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org, assignee_id=org.users["agent1"])
    assert t["status"] == "assigned" and t["status_category"] == "open"
    expected = [
        ("in_progress", "open"),
        ("pending_customer", "pending"),
        ("in_progress", "open"),
        ("on_hold", "on_hold"),
        ("in_progress", "open"),
        ("resolved", "solved"),
    ]
    for to, cat in expected:
        r = _move(agent_client, t, to, resolution_code="replaced_part" if to == "resolved" else None)
        assert r.status_code == 200, r.text
        t = r.json()
        assert (t["status"], t["status_category"]) == (to, cat)
    assert t["first_resolved_at"] and t["resolved_at"] and t["resolution_code"] == "replaced_part"
    # reopen keeps first_resolved_at and counts the reopen
    first = t["first_resolved_at"]
    t = _move(agent_client, t, "in_progress").json()
    assert t["reopen_count"] == 1 and t["first_resolved_at"] == first and t["resolved_at"] is None
    t = _move(agent_client, t, "resolved").json()
    t = _move(agent_client, t, "closed").json()
    assert t["status"] == "closed" and t["closed_at"] and t["allowed_transitions"] == []
    kinds = [i["event_kind"] for i in t["timeline"] if i["kind"] == "event"]
    assert kinds.count("status_changed") == 9 and "reopened" in kinds


def test_illegal_transition_rejected_and_nothing_changes(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    r = _move(agent_client, t, "closed")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "ticket.illegal_transition" and "new to closed" in body["detail"]
    assert body["allowed_transitions"] == ["assigned", "in_progress", "resolved"]
    after = agent_client.get(f"/api/v1/tickets/{t['id']}").json()
    assert after["status"] == "new" and after["version"] == t["version"]
    r = _move(agent_client, t, "bogus")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to_status"


def test_closed_is_final_followup_links(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    t = _move(agent_client, t, "resolved").json()
    t = _move(agent_client, t, "closed").json()
    assert _move(agent_client, t, "in_progress").status_code == 409
    r = agent_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "还在漏"})
    assert r.status_code == 409 and r.json()["code"] == "ticket.closed"
    r = agent_client.post(f"/api/v1/tickets/{t['id']}/followups", json={"description": "客户再次来电"})
    assert r.status_code == 201
    child = r.json()
    assert child["followup_of_id"] == t["id"] and child["status"] == "new" and child["id"] != t["id"]


def test_public_reply_records_first_response_internal_note_does_not(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    t = agent_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "内部备注", "public": False}).json()
    assert t["first_response_at"] is None
    t = agent_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "您好，已安排工程师"}).json()
    assert t["first_response_at"] is not None
    comments = [i for i in t["timeline"] if i["kind"] == "comment"]
    assert [c["public"] for c in comments] == [False, True]
    kinds = [i["event_kind"] for i in t["timeline"] if i["kind"] == "event"]
    assert kinds == ["created", "commented", "replied"]


def test_customer_reply_reopens_resolved_ticket(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    t = _move(agent_client, t, "resolved").json()
    t = agent_client.post(
        f"/api/v1/tickets/{t['id']}/comments", json={"body": "问题又出现了", "author_kind": "customer"}
    ).json()
    assert t["status"] == "in_progress" and t["reopen_count"] == 1
    assert t["first_response_at"] is None  # a customer message is not a response


def test_merge_duplicates(agent_client: TestClient, org: Org) -> None:
    a = _create(agent_client, org)
    b = _create(agent_client, org, subject="热水器漏水（重复）")
    r = agent_client.post(f"/api/v1/tickets/{b['id']}/merge", json={"into_ticket_id": a["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == a["id"]
    assert any(i.get("event_kind") == "merged" for i in r.json()["timeline"])
    src = agent_client.get(f"/api/v1/tickets/{b['id']}").json()
    assert src["merged_into_id"] == a["id"] and src["status"] == "closed"
    # merged tickets leave the default list
    ids = [t["id"] for t in agent_client.get("/api/v1/tickets").json()["items"]]
    assert a["id"] in ids and b["id"] not in ids
    assert agent_client.post(f"/api/v1/tickets/{a['id']}/merge", json={"into_ticket_id": a["id"]}).status_code == 422
    other = _create(agent_client, org, customer_id=org.customer_regular)
    r = agent_client.post(f"/api/v1/tickets/{other['id']}/merge", json={"into_ticket_id": a["id"]})
    assert r.status_code == 422 and r.json()["code"] == "ticket.merge_customer_mismatch"


def test_stale_version_gets_409(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    r1 = agent_client.patch(f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "priority": "urgent"})
    assert r1.status_code == 200
    r2 = agent_client.patch(f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "priority": "low"})
    assert r2.status_code == 409 and r2.json()["code"] == "ticket.version_conflict"
    assert agent_client.get(f"/api/v1/tickets/{t['id']}").json()["priority"] == "urgent"


def test_concurrent_updates_one_wins_other_409(app: Any, org: Org) -> None:
    """Two updates race on the same version: exactly one wins, the other is told (409)."""
    from tests.conftest import login

    with TestClient(app) as setup:
        t = _create(login(setup, "agent1"), org)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker(priority: str) -> None:
        with TestClient(app) as c:
            login(c, "agent1")
            barrier.wait()
            r = c.patch(f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "priority": priority})
            results.append(r.status_code)

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("urgent", "low")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [200, 409]
    with TestClient(app) as c:
        final = login(c, "agent1").get(f"/api/v1/tickets/{t['id']}").json()
    assert final["version"] == t["version"] + 1
    updated = [i for i in final["timeline"] if i.get("event_kind") == "updated"]
    assert len(updated) == 1


def test_assign_moves_new_to_assigned_and_rejects_bad_assignee(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    r = agent_client.patch(
        f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "assignee_id": org.users["engineer1"]}
    )
    assert r.status_code == 200
    t = r.json()
    assert t["status"] == "assigned" and t["assignee"]["id"] == org.users["engineer1"]
    r = agent_client.patch(f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "assignee_id": 99999})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee_id"
    r = agent_client.patch(
        f"/api/v1/tickets/{t['id']}", json={"version": t["version"], "assignee_id": org.users["analyst1"]}
    )
    assert r.status_code == 422 and r.json()["code"] == "ticket.bad_assignee"


def test_bad_input_is_4xx_never_500(agent_client: TestClient, org: Org) -> None:
    cases = [
        {"subject": "x" * 70_000, "type": "repair"},
        {"subject": "ok", "type": "nonsense"},
        {"subject": "ok", "type": "repair", "unknown_field": 1},
        {"subject": "ok", "type": "repair", "customer_id": "abc"},
        {"subject": "", "type": "repair"},
        {"subject": "ok", "type": "repair", "customer_id": 424242},
    ]
    for body in cases:
        r = agent_client.post("/api/v1/tickets", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"]
    r = agent_client.post("/api/v1/tickets", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert agent_client.get("/api/v1/tickets/0").status_code == 422
    assert agent_client.get("/api/v1/tickets/99999").status_code == 404
    assert agent_client.get("/api/v1/tickets?sort=-password").status_code == 422
    assert agent_client.get("/api/v1/tickets?page_size=100000").status_code == 422
    assert agent_client.get("/api/v1/tickets").json()["total"] == 0


def test_idempotency_key_replays_and_rejects_changed_body(agent_client: TestClient, org: Org) -> None:
    body = {"subject": "安装预约", "type": "inquiry", "customer_id": org.customer_regular}
    h = {"Idempotency-Key": "crm-42"}
    r1 = agent_client.post("/api/v1/tickets", json=body, headers=h)
    r2 = agent_client.post("/api/v1/tickets", json=body, headers=h)
    assert r1.status_code == r2.status_code == 201 and r1.json()["id"] == r2.json()["id"]
    r3 = agent_client.post("/api/v1/tickets", json=body | {"subject": "别的"}, headers=h)
    assert r3.status_code == 422 and r3.json()["code"] == "idempotency.key_reused"
    assert agent_client.get("/api/v1/tickets").json()["total"] == 1


def test_list_filters_sort_search_and_paging(agent_client: TestClient, org: Org) -> None:
    a = _create(agent_client, org, subject="空调不制冷", type="repair", priority="urgent")
    _create(agent_client, org, subject="咨询安装费用", type="inquiry", priority="low")
    _create(agent_client, org, subject="投诉工程师迟到", type="complaint", priority="high", team_id=org.team_east)
    get = agent_client.get
    assert get("/api/v1/tickets?type=repair").json()["total"] == 1
    assert get("/api/v1/tickets?type=repair&type=inquiry").json()["total"] == 2
    assert get("/api/v1/tickets?q=空调").json()["items"][0]["id"] == a["id"]
    assert get(f"/api/v1/tickets?q={a['id']}").json()["items"][0]["id"] == a["id"]
    assert get("/api/v1/tickets?priority=urgent&status=new").json()["total"] == 1
    page = get("/api/v1/tickets?sort=id&page=2&page_size=2").json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["page"] == 2
    asc = [t["id"] for t in get("/api/v1/tickets?sort=id").json()["items"]]
    assert asc == sorted(asc)
    assert get(f"/api/v1/tickets?region_id={org.region_north}").json()["total"] == 0
    assert get("/api/v1/tickets?created_from=2000-01-01T00:00:00Z&created_to=2000-01-02T00:00:00Z").json()["total"] == 0


def test_agent_sees_only_own_team_tickets(app: Any, agent_client: TestClient, org: Org) -> None:
    from tests.conftest import login

    mine = _create(agent_client, org)
    with TestClient(app) as other:
        login(other, "agent2")
        assert other.get("/api/v1/tickets").json()["total"] == 0
        assert other.get(f"/api/v1/tickets/{mine['id']}").status_code == 404
    with TestClient(app) as analyst:
        login(analyst, "analyst1")
        assert analyst.get("/api/v1/tickets").json()["total"] == 1
        r = analyst.post(f"/api/v1/tickets/{mine['id']}/comments", json={"body": "x"})
        assert r.status_code == 403


def test_sort_by_priority_and_status_follows_domain_order(agent_client: TestClient, org: Org) -> None:
    for p in ("high", "low", "urgent", "normal"):
        _create(agent_client, org, priority=p)
    asc = [t["priority"] for t in agent_client.get("/api/v1/tickets?sort=priority").json()["items"]]
    assert asc == ["low", "normal", "high", "urgent"]
    desc = [t["priority"] for t in agent_client.get("/api/v1/tickets?sort=-priority").json()["items"]]
    assert desc == ["urgent", "high", "normal", "low"]


def test_rate_limit_sends_retry_after_header(client: TestClient, org: Org) -> None:
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "agent1", "password": "bad"})
    r = client.post("/api/v1/auth/login", json={"username": "agent1", "password": "bad"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_nul_characters_are_a_4xx_not_a_500(agent_client: TestClient, org: Org) -> None:
    r = agent_client.post("/api/v1/tickets", json={"subject": "漏水\u0000", "type": "repair"})
    assert r.status_code in (201, 422)  # SQLite stores NUL; PostgreSQL refuses it with a clear 422
    if r.status_code == 422:
        assert r.json()["code"] == "invalid_value"
        assert agent_client.get("/api/v1/tickets").json()["total"] == 0


def test_numbers_out_of_range_are_a_4xx_not_a_500(agent_client: TestClient, org: Org) -> None:
    t = _create(agent_client, org)
    huge = "9" * 20  # beyond 64 bits (and PostgreSQL's 32-bit ids from 10 digits)
    for url in (f"/api/v1/tickets/{huge}", f"/api/v1/tickets/{'9' * 10}", f"/api/v1/tickets?page={huge}"):
        r = agent_client.get(url)
        assert r.status_code in (404, 422), (url, r.text)  # 404: SQLite can look up a 10-digit id
        assert r.status_code == 404 or r.json()["code"] == "invalid_value"
    assert agent_client.get(f"/api/v1/tickets?page={huge}&sort=sla_due").status_code == 422
    assert agent_client.get(f"/api/v1/tickets/{t['id']}").status_code == 200


def test_read_payloads_match_their_declared_models(agent_client: TestClient, org: Org) -> None:
    """The ticket reads build plain dicts for speed: they must stay exactly in the shape (fields,
    types, "Z" timestamps) of the models the OpenAPI document declares."""
    from servicelens.core.pagination import Page
    from servicelens.tickets.schemas import TicketDetail, TicketSummary

    t = _create(agent_client, org)
    agent_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "内部备注", "public": False})
    agent_client.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "您好，已安排工程师"})
    got = agent_client.get(f"/api/v1/tickets/{t['id']}").json()
    # Re-serialising through the model gives back the very same JSON: nothing missing, extra or reshaped.
    assert TicketDetail.model_validate(got).model_dump(mode="json") == got
    assert got["created_at"].endswith("Z")
    kinds = [(i["kind"], i.get("event_kind") or i.get("public")) for i in got["timeline"]]
    assert ("comment", False) in kinds and ("comment", True) in kinds and ("event", "replied") in kinds
    assert got["sla"] is None or set(got["sla"]) == {"metric", "state", "due_at", "warned", "breached_at"}

    page = agent_client.get("/api/v1/tickets?page_size=5").json()
    assert page["items"] and Page[TicketSummary].model_validate(page).model_dump(mode="json") == page


def test_api_routes_are_registered_flat() -> None:
    """Nested included routers are matched twice per request in this FastAPI: every API route is
    registered on the app itself (servicelens.app.add_api_routes)."""
    from fastapi.routing import APIRoute
    from starlette.routing import Route

    from servicelens.app import create_app

    routes = create_app("sqlite://").router.routes
    assert all(isinstance(r, APIRoute | Route) for r in routes), {type(r).__name__ for r in routes}
    assert sum(isinstance(r, APIRoute) and r.path.startswith("/api/v1/") for r in routes) > 50


def test_a_failed_commit_is_never_reported_as_success(app: Any, org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request's transaction commits before the response is sent: when the commit fails the
    client gets an error, not a 201 for a ticket that was never stored."""
    from sqlalchemy.orm import Session

    from tests.conftest import login

    with TestClient(app, raise_server_exceptions=False) as c:
        login(c, "agent1")
        assert c.get("/api/v1/tickets").status_code == 200  # the credential is cached: no commit of its own

        def broken_commit(self: Session) -> None:
            raise RuntimeError("disk I/O error")

        monkeypatch.setattr(Session, "commit", broken_commit)
        r = c.post("/api/v1/tickets", json={"subject": "提交失败", "type": "inquiry"})
        monkeypatch.undo()
        assert r.status_code == 500, r.text
        assert c.get("/api/v1/tickets?q=提交失败").json()["total"] == 0


def test_counting_stops_at_the_cap(agent_client: TestClient, org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list's count is O(matching rows): past COUNT_CAP it says "at least" instead of scanning on."""
    from servicelens.core import pagination

    for i in range(5):
        _create(agent_client, org, subject=f"计数 {i}", priority="low" if i < 2 else "high")
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    page = agent_client.get("/api/v1/tickets?page_size=2&page=2").json()
    assert (page["total"], page["total_exact"], len(page["items"])) == (3, False, 2)
    assert len(agent_client.get("/api/v1/tickets?page_size=2&page=3").json()["items"]) == 1  # paging goes on
    narrow = agent_client.get("/api/v1/tickets?priority=low").json()
    assert (narrow["total"], narrow["total_exact"]) == (2, True)
