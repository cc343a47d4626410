"""Customers: masked contacts, CRUD, scoping and the interaction timeline."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from servicelens.customers.service import mask_email, mask_phone
from tests.conftest import Org, login


def test_masking_rules() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("021-5555") == "02**5555"
    assert mask_phone("123") == "***"
    assert mask_email("li.ming@hongda.example") == "l***@hongda.example"
    assert mask_phone(None) is None


def test_customer_detail_masks_contacts(agent_client: TestClient, org: Org) -> None:
    c = agent_client.get(f"/api/v1/customers/{org.customer_vip}").json()
    assert c["phone_masked"] == "138****5678" and "13812345678" not in str(c)
    assert c["contacts"][0]["phone_masked"] == "138****5678"
    assert c["region"]["name"] == "华东" and c["tier"] == "vip"


def test_create_update_and_filter_customers(agent_client: TestClient, org: Org) -> None:
    body = {
        "name": "杭州绿源净水",
        "tier": "vip",
        "region_id": org.region_east,
        "city": "杭州",
        "phone": "13900001111",
        "external_id": "CRM-9",
        "source": "crm",
        "contacts": [{"name": "张三", "phone": "13900001111", "is_primary": True}],
    }
    r = agent_client.post("/api/v1/customers", json=body)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert agent_client.post("/api/v1/customers", json=body).status_code == 409  # same external id
    r = agent_client.patch(f"/api/v1/customers/{cid}", json={"tier": "regular", "is_member": True})
    assert r.json()["tier"] == "regular" and r.json()["is_member"] is True
    assert agent_client.patch(f"/api/v1/customers/{cid}", json={"tier": "gold"}).status_code == 422
    assert agent_client.patch(f"/api/v1/customers/{cid}", json={"region_id": 999}).status_code == 422
    assert agent_client.get("/api/v1/customers?q=绿源").json()["total"] == 1
    assert agent_client.get("/api/v1/customers?tier=vip").json()["total"] == 1
    assert agent_client.get(f"/api/v1/customers?region_id={org.region_north}").json()["total"] == 1


def test_sales_sees_only_own_customers(app: Any, org: Org) -> None:
    with TestClient(app) as c:
        login(c, "sales1")
        ids = [x["id"] for x in c.get("/api/v1/customers").json()["items"]]
        assert ids == [org.customer_vip]
        assert c.get(f"/api/v1/customers/{org.customer_regular}").status_code == 404


def test_interaction_timeline(agent_client: TestClient, org: Org) -> None:
    ids = []
    for subject in ("热水器漏水", "热水器不加热", "热水器异响"):
        r = agent_client.post(
            "/api/v1/tickets", json={"subject": subject, "type": "repair", "customer_id": org.customer_vip}
        )
        ids.append(r.json()["id"])
    t = agent_client.get(f"/api/v1/tickets/{ids[0]}").json()
    agent_client.post(f"/api/v1/tickets/{ids[0]}/comments", json={"body": "已安排上门"})
    agent_client.post(
        f"/api/v1/tickets/{ids[0]}/transition", json={"to_status": "resolved", "version": t["version"] + 1}
    )
    page = agent_client.get(f"/api/v1/customers/{org.customer_vip}/timeline").json()
    kinds = [(i["kind"], i["ticket_id"]) for i in page["items"]]
    assert sum(1 for k, _ in kinds if k == "ticket") == 3
    assert ("comment", ids[0]) in kinds and ("event", ids[0]) in kinds
    ats = [i["at"] for i in page["items"]]
    assert ats == sorted(ats, reverse=True)
    assert page["total"] == 5
    small = agent_client.get(f"/api/v1/customers/{org.customer_vip}/timeline?page=2&page_size=2").json()
    assert len(small["items"]) == 2 and small["total"] == 5
    assert agent_client.get(f"/api/v1/customers/{org.customer_regular}/timeline").json()["total"] == 0
    assert agent_client.get("/api/v1/customers/9999/timeline").status_code == 404


def test_timeline_and_counts_respect_ticket_scope(app: Any, agent_client: TestClient, org: Org) -> None:
    """agent2 (north team) sees the customer but not east-team tickets in its timeline or counts."""
    agent_client.post(
        "/api/v1/tickets", json={"subject": "华东工单", "type": "repair", "customer_id": org.customer_vip}
    )
    with TestClient(app) as other:
        login(other, "agent2")
        assert other.get(f"/api/v1/customers/{org.customer_vip}/timeline").json()["total"] == 0
        assert other.get(f"/api/v1/customers/{org.customer_vip}").json()["ticket_count"] == 0
    assert agent_client.get(f"/api/v1/customers/{org.customer_vip}").json()["ticket_count"] == 1
