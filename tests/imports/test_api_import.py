"""Bulk import through the real API: formats, encodings, per-row errors, upserts, dry runs,
permissions, idempotency and batch atomicity."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicelens.config import get_settings
from servicelens.core.db import Database
from servicelens.customers.models import Customer, CustomerContact
from servicelens.imports import service
from servicelens.imports.schemas import ImportKind
from servicelens.imports.tickets import TicketImporter
from servicelens.org.models import User
from servicelens.products.models import Component, Product
from servicelens.tickets.models import Ticket, TicketEvent
from tests.conftest import Org, login
from tests.imports.helpers import (
    CUSTOMER_COLUMNS,
    CUSTOMERS,
    TICKET_COLUMNS,
    TICKETS,
    count,
    csv_bytes,
    file_for,
    import_ok,
    seed_all,
    upload,
)


def _ticket(db: Database, external_id: str) -> Ticket:
    with db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.source == "import", Ticket.external_id == external_id))
        assert t is not None
        return t


def _events(db: Database, ticket_id: int) -> list[TicketEvent]:
    with db.session() as s:
        return list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))


# ---------------------------------------------------------------- stored values


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ndjson"])
def test_import_stores_typed_values(admin_client: TestClient, db: Database, org: Org, fmt: str) -> None:
    for kind in ("customers", "products", "tickets"):
        body = import_ok(admin_client, kind, fmt)
        assert body["format"] == fmt and body["kind"] == kind and body["failed"] == 0
        assert body["encoding"] == (None if fmt == "xlsx" else "utf-8")
    with db.session() as s:
        c = s.scalar(select(Customer).where(Customer.external_id == "CRM-001"))
        assert c is not None and c.source == "import"
        assert (c.tier, c.region_id, c.city, c.is_member, c.lat, c.lng) == (
            "vip",
            org.region_east,
            "杭州",
            True,
            30.2741,
            120.1551,
        )
        contact = s.scalar(select(CustomerContact).where(CustomerContact.customer_id == c.id))
        assert contact is not None and contact.name == "张伟" and contact.is_primary
        c2 = s.scalar(select(Customer).where(Customer.external_id == "CRM-002"))
        assert c2 is not None and (c2.tier, c2.region_id, c2.is_member, c2.email) == (
            "regular",
            org.region_north,
            False,
            None,
        )
        p = s.scalar(select(Product).where(Product.code == "AC-35"))
        assert p is not None and (p.name, p.category) == ("变频空调 1.5匹", "空调")
        comps = s.scalars(select(Component.code).where(Component.product_id == p.id).order_by(Component.code)).all()
        assert list(comps) == ["compressor", "fan"]
    t1 = _ticket(db, "T-1001")
    # Naive timestamps are Asia/Shanghai wall time, stored as UTC.
    assert t1.created_at == datetime(2025, 3, 3, 0, 40, tzinfo=UTC)
    assert t1.first_response_at == datetime(2025, 3, 3, 1, 25, tzinfo=UTC)
    assert (t1.status, t1.type, t1.channel, t1.priority) == ("resolved", "repair", "phone", "high")
    assert t1.region_id == org.region_east  # from the customer, like the API
    assert t1.team_id == org.team_east and t1.assignee_id == org.users["engineer1"]
    t2 = _ticket(db, "T-1002")
    assert t2.created_at == datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    assert (t2.type, t2.channel, t2.priority, t2.description) == ("inquiry", "wechat", "normal", "")
    assert t2.region_id == org.region_north
    events = _events(db, t2.id)
    assert [(e.kind, e.to_status, e.data, e.actor_id) for e in events] == [
        ("imported", "new", {"source": "import"}, org.users["admin"])
    ]


def test_gbk_csv_is_detected_and_decoded(admin_client: TestClient, db: Database, org: Org) -> None:
    content = csv_bytes(CUSTOMER_COLUMNS, CUSTOMERS, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    r = upload(admin_client, "customers", content, "客户.csv")
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == "gbk" and r.json()["created"] == 2
    with db.session() as s:
        assert s.scalar(select(Customer.name).where(Customer.external_id == "CRM-001")) == "杭州绿源净水科技有限公司"


def test_gb18030_only_characters(admin_client: TestClient, db: Database, org: Org) -> None:
    rows = [{"external_id": "G1", "name": "𠀀记五金"}]  # CJK Extension B: in GB18030, not in GBK
    r = upload(admin_client, "customers", csv_bytes(["external_id", "name"], rows, encoding="gb18030"))
    assert r.json()["encoding"] == "gb18030" and r.json()["created"] == 1
    with db.session() as s:
        assert s.scalar(select(Customer.name).where(Customer.external_id == "G1")) == "𠀀记五金"


def test_utf8_bom_and_semicolons(admin_client: TestClient, db: Database, org: Org) -> None:
    content = "\ufeffexternal_id;name;tier\nB1;上海一号店;vip\n".encode()
    r = upload(admin_client, "customers", content)
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == "utf-8-sig" and r.json()["created"] == 1


def test_garbage_bytes_are_a_clear_4xx(admin_client: TestClient, db: Database, org: Org) -> None:
    garbage = random.Random(7).randbytes(4096)
    r = upload(admin_client, "tickets", garbage, "tickets.csv")
    assert r.status_code == 400
    problem = r.json()
    assert problem["code"] == "import.bad_encoding" and "UTF-8" in problem["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    r = upload(admin_client, "tickets", b"\x00\x01binary\x00", "tickets.ndjson")
    assert r.status_code == 400 and r.json()["code"] == "import.bad_encoding"
    assert count(db, Ticket) == 0


def test_malformed_xlsx_is_a_clear_4xx(admin_client: TestClient, db: Database, org: Org) -> None:
    for content in (b"PK\x03\x04" + b"\x00" * 64 + b"not a zip", b"plain text, named like a workbook"):
        r = upload(admin_client, "customers", content, "customers.xlsx")
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "import.bad_file"
    r = upload(admin_client, "customers", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls")
    assert r.status_code == 415 and r.json()["code"] == "import.unsupported_format"


def test_unknown_and_missing_columns_are_file_errors(admin_client: TestClient, db: Database, org: Org) -> None:
    content = b"external_id,name,shoe_size,favourite_colour\nX1,A,42,red\n"
    r = upload(admin_client, "customers", content)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import.bad_columns"
    assert "shoe_size" in body["detail"] and "favourite_colour" in body["detail"]
    assert {e["field"] for e in body["errors"]} == {"shoe_size", "favourite_colour"}
    r = upload(admin_client, "tickets", b"subject,type\nhello,repair\n")
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "external_id", "reason": "required column is missing"}
    ]
    assert count(db, Customer, Customer.source == "import") == 0
    r = upload(admin_client, "tickets", b"")
    assert r.status_code == 400 and r.json()["code"] == "import.bad_file"


def test_header_names_are_forgiving(admin_client: TestClient, db: Database, org: Org) -> None:
    r = upload(admin_client, "customers", b"External ID, Name ,TIER\nH1,Header Co,regular\n")
    assert r.status_code == 200 and r.json()["created"] == 1


# ---------------------------------------------------------------- per-row errors


def test_bad_rows_are_reported_and_good_rows_kept(admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)
    before = _ticket(db, "T-1001")
    good = {c: "" for c in TICKET_COLUMNS} | {
        "subject": "好的一行",
        "type": "inquiry",
        "created_at": "2025-04-01 10:00",
    }
    rows: list[dict[str, Any]] = [
        good | {"external_id": "N-1"},  # row 1: fine
        good | {"external_id": "N-2", "type": "gossip"},  # row 2
        good | {"external_id": "N-3", "subject": "长" * 501},  # row 3
        good | {"external_id": "N-4", "created_at": "yesterday"},  # row 4
        good | {"external_id": "N-5", "status": "resolved", "resolved_at": "2025-03-01 10:00"},  # row 5
        good | {"external_id": "N-6", "customer_external_id": "NOPE"},  # row 6
        good | {"external_id": "N-1"},  # row 7: duplicate of row 1
        good | {"external_id": "N-8", "subject": ""},  # row 8: new ticket without subject
        good | {"external_id": "", "subject": "no id"},  # row 9
        good | {"external_id": "N-10", "description": "x" * 65_537, "assignee": "analyst1"},  # row 10
        good | {"external_id": "N-11", "component_code": "fan"},  # row 11: component without product
        good | {"external_id": "N-12", "status": "closed"},  # row 12: closed without closed_at
        good | {"external_id": "N-13", "first_response_at": "2025-03-31 10:00"},  # row 13
        good | {"external_id": "N-14", "priority": "紧急", "channel": "电话"},  # row 14: fine (Chinese labels)
    ]
    r = upload(admin_client, "tickets", csv_bytes(TICKET_COLUMNS, rows))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["created"], body["failed"]) == (14, 2, 12)
    got = {(e["row"], e["field"]) for e in body["errors"]}
    assert got == {
        (2, "type"),
        (3, "subject"),
        (4, "created_at"),
        (5, "resolved_at"),
        (6, "customer_external_id"),
        (7, "external_id"),
        (8, "subject"),
        (9, "external_id"),
        (10, "description"),
        (10, "assignee"),
        (11, "component_code"),
        (12, "closed_at"),
        (13, "first_response_at"),
    }
    reasons = {(e["row"], e["field"]): e["reason"] for e in body["errors"]}
    assert "row 1" in reasons[(7, "external_id")]
    assert "earlier than created_at" in reasons[(5, "resolved_at")]
    assert "NOPE" in reasons[(6, "customer_external_id")]
    assert [e["row"] for e in body["errors"]] == sorted(e["row"] for e in body["errors"])
    assert _ticket(db, "N-14").priority == "urgent"
    assert count(db, Ticket) == 5  # 3 seeded + N-1 + N-14
    after = _ticket(db, "T-1001")
    assert (after.subject, after.version, after.updated_at) == (before.subject, before.version, before.updated_at)


def test_ndjson_bad_lines_are_row_errors(admin_client: TestClient, db: Database, org: Org) -> None:
    content = (
        b'{"external_id": "J1", "name": "Line one", "lat": 31.2, "is_member": true}\n'
        b"{not json\n"
        b"\n"
        b"[1, 2]\n"
        b'{"external_id": "J5", "name": "Line five", "hobby": "golf"}\n'
        b'{"external_id": "J6", "name": {"nested": 1}}\n'
        b'{"external_id": "J7", "name": "Line seven", "tier": null}\n'
    )
    r = upload(admin_client, "customers", content, "c.ndjson")
    body = r.json()
    assert (body["total"], body["created"], body["failed"]) == (6, 2, 4)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, None), (4, None), (5, None), (6, None)]
    assert "golf" not in body["errors"][2]["reason"] and "hobby" in body["errors"][2]["reason"]
    with db.session() as s:
        j1 = s.scalar(select(Customer).where(Customer.external_id == "J1"))
        assert j1 is not None and j1.lat == 31.2 and j1.is_member is True


def test_error_list_is_capped(admin_client: TestClient, db: Database, org: Org) -> None:
    rows = [{"external_id": f"E{i}", "name": "x", "tier": "gold"} for i in range(1_200)]
    body = upload(admin_client, "customers", csv_bytes(["external_id", "name", "tier"], rows)).json()
    assert body["failed"] == 1_200 and len(body["errors"]) == 1_000 and body["errors_truncated"] is True
    assert body["errors"][-1]["row"] == 1_000


# ---------------------------------------------------------------- upsert


def test_reimport_updates_instead_of_duplicating(admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)
    t1 = _ticket(db, "T-1001")
    rows = [dict(r) for r in TICKETS]
    rows[0]["subject"] = "空调不制冷（已换压缩机）"
    rows[1]["status"] = "in_progress"
    rows[1]["assignee"] = "agent1"
    body = import_ok(admin_client, "tickets", rows=rows)
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 2, 1)
    assert count(db, Ticket) == 3
    again = _ticket(db, "T-1001")
    assert again.id == t1.id and again.subject == "空调不制冷（已换压缩机）" and again.version == 2
    assert again.created_at == t1.created_at and again.updated_at >= t1.updated_at
    events = _events(db, t1.id)
    assert [e.kind for e in events] == ["imported", "updated"]
    assert events[1].data["source"] == "import"
    assert events[1].data["changes"] == {"subject": ["空调不制冷", "空调不制冷（已换压缩机）"]}
    t2 = _ticket(db, "T-1002")
    assert (t2.status, t2.assignee_id) == ("in_progress", org.users["agent1"])
    # Customers and products upsert too.
    rows_c = [dict(r) for r in CUSTOMERS]
    rows_c[1]["tier"] = "vip"
    rows_c[1]["contact_name"] = "刘先生"
    body = import_ok(admin_client, "customers", rows=rows_c)
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    assert count(db, Customer, Customer.source == "import") == 2
    with db.session() as s:
        c2 = s.scalar(select(Customer).where(Customer.external_id == "CRM-002"))
        assert c2 is not None and c2.tier == "vip"
        assert s.scalar(select(CustomerContact.name).where(CustomerContact.customer_id == c2.id)) == "刘先生"
    body = import_ok(
        admin_client, "products", rows=[{"code": "AC-35", "component_code": "fan", "component_name": "风扇"}]
    )
    assert body["updated"] == 1 and count(db, Component) == 3  # heater (seeded), compressor, fan


def test_partial_columns_keep_stored_values(admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)
    body = upload(admin_client, "tickets", b"external_id,status,assignee\nT-1002,assigned,agent1\n").json()
    assert body["updated"] == 1, body
    t2 = _ticket(db, "T-1002")
    assert (t2.subject, t2.type, t2.channel, t2.status) == ("发票抬头咨询", "inquiry", "wechat", "assigned")
    body = upload(admin_client, "customers", b"external_id,city\nCRM-001,\n").json()
    assert body["updated"] == 1
    with db.session() as s:
        c = s.scalar(select(Customer).where(Customer.external_id == "CRM-001"))
        assert c is not None and c.city is None and c.name == "杭州绿源净水科技有限公司"  # empty cell clears


def test_sources_keep_external_ids_apart(admin_client: TestClient, db: Database, org: Org) -> None:
    import_ok(admin_client, "customers")
    name, content = file_for("customers", "csv")
    body = upload(admin_client, "customers", content, name, source="crm2").json()
    assert body["created"] == 2 and body["source"] == "crm2"
    assert count(db, Customer, Customer.external_id == "CRM-001") == 2


def test_closed_tickets_are_final(admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)
    rows = [dict(r) for r in TICKETS]
    rows[2]["subject"] = "改个标题"
    body = upload(admin_client, "tickets", csv_bytes(TICKET_COLUMNS, rows)).json()
    assert body["failed"] == 1 and body["unchanged"] == 2
    assert body["errors"] == [{"row": 3, "field": "status", "reason": body["errors"][0]["reason"]}]
    assert "closed" in body["errors"][0]["reason"]


def test_supervisor_updates_only_tickets_in_scope(app: Any, admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)
    with TestClient(app) as c:
        login(c, "supervisor1")
        rows = [dict(r) for r in TICKETS] + [TICKETS[1] | {"external_id": "T-2000"}]
        for r in rows:
            r["priority"] = "low"
        body = upload(c, "tickets", csv_bytes(TICKET_COLUMNS, rows)).json()
    # T-1001 is the east team's; T-1002 sits in the north region without a team; T-1003 is closed
    # and in the north anyway; T-2000 is new.
    assert (body["updated"], body["created"], body["failed"]) == (1, 1, 2), body
    assert {e["row"] for e in body["errors"]} == {2, 3}
    assert all("scope" in e["reason"] for e in body["errors"])


def test_dry_run_stores_nothing(admin_client: TestClient, db: Database, org: Org) -> None:
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    name, content = file_for("tickets", "csv")
    body = upload(admin_client, "tickets", content, name, dry_run="true").json()
    assert body["dry_run"] is True and (body["created"], body["failed"]) == (3, 0)
    assert count(db, Ticket) == 0 and count(db, TicketEvent) == 0
    body = upload(
        admin_client, "customers", csv_bytes(CUSTOMER_COLUMNS, [CUSTOMERS[0] | {"tier": "regular"}]), dry_run=True
    ).json()
    assert body["updated"] == 1
    with db.session() as s:
        assert s.scalar(select(Customer.tier).where(Customer.external_id == "CRM-001")) == "vip"


# ---------------------------------------------------------------- formats


def test_format_from_content_type_parameter_and_magic(admin_client: TestClient, db: Database, org: Org) -> None:
    _, nd = file_for("customers", "ndjson")
    r = upload(admin_client, "customers", nd, "upload", "application/x-ndjson")
    assert r.json()["format"] == "ndjson"
    _, xl = file_for("customers", "xlsx")
    r = upload(admin_client, "customers", xl, "mislabelled.csv", "text/csv")  # ZIP magic wins
    assert r.json()["format"] == "xlsx" and r.json()["unchanged"] == 2
    r = upload(admin_client, "customers", nd, "x.csv", format="ndjson")
    assert r.json()["format"] == "ndjson"
    assert upload(admin_client, "customers", nd, "x.csv", format="yaml").status_code == 422


def test_excel_style_values(admin_client: TestClient, db: Database, org: Org) -> None:
    """Numbers and dates typed into spreadsheet cells, and Chinese-locale date text."""
    from openpyxl import Workbook

    import_ok(admin_client, "customers")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["external_id", "subject", "type", "created_at", "customer_external_id"])
    ws.append([1001, "数字编号", "repair", datetime(2025, 5, 1, 9, 30), "CRM-001"])
    ws.append(["X-2", "斜杠日期", "repair", "2025/5/2 8:05", "CRM-001"])
    out = io.BytesIO()
    wb.save(out)
    body = upload(admin_client, "tickets", out.getvalue(), "t.xlsx").json()
    assert body["created"] == 2, body
    assert _ticket(db, "1001").created_at == datetime(2025, 5, 1, 1, 30, tzinfo=UTC)
    assert _ticket(db, "X-2").created_at == datetime(2025, 5, 2, 0, 5, tzinfo=UTC)


# ---------------------------------------------------------------- permissions, limits, idempotency


def _token(client: TestClient, scopes: list[str]) -> str:
    r = client.post("/api/v1/auth/tokens", json={"name": "crm", "scopes": scopes})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_permissions(app: Any, admin_client: TestClient, agent_client: TestClient, db: Database, org: Org) -> None:
    name, content = file_for("customers", "csv")
    r = upload(agent_client, "customers", content, name)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    with TestClient(app) as anonymous:
        assert upload(anonymous, "customers", content, name).status_code == 401
        rw = _token(admin_client, ["read", "write"])
        r = upload(anonymous, "customers", content, name, headers={"Authorization": f"Bearer {rw}"})
        assert r.status_code == 403 and r.json()["code"] == "auth.scope_missing" and "import" in r.json()["detail"]
        bulk = _token(admin_client, ["write", "import"])
        r = upload(anonymous, "customers", content, name, headers={"Authorization": f"Bearer {bulk}"})
        assert r.status_code == 200 and r.json()["created"] == 2
    assert count(db, Customer, Customer.source == "import") == 2


def test_file_size_limit(admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "max_import_bytes", 100)
    name, content = file_for("customers", "csv")
    assert len(content) > 100
    r = upload(admin_client, "customers", content, name)
    assert r.status_code == 413 and r.json()["code"] == "import.too_large"
    r = upload(admin_client, "customers", content[:90], name)
    assert r.status_code != 413


def test_missing_file_field(admin_client: TestClient, org: Org) -> None:
    r = admin_client.post("/api/v1/imports/customers", data={"other": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert admin_client.post("/api/v1/imports/orders", files={"file": ("a.csv", b"a\n")}).status_code == 422


def test_idempotency_key_replays_the_first_result(admin_client: TestClient, db: Database, org: Org) -> None:
    name, content = file_for("customers", "csv")
    key = {"Idempotency-Key": "nightly-2025-03-03"}
    first = upload(admin_client, "customers", content, name, headers=key)
    assert first.status_code == 200 and first.json()["created"] == 2
    with db.session() as s:
        s.execute(Customer.__table__.update().where(Customer.external_id == "CRM-002").values(city="改过"))
    again = upload(admin_client, "customers", content, name, headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    with db.session() as s:  # replayed, not re-imported: the local edit survives
        assert s.scalar(select(Customer.city).where(Customer.external_id == "CRM-002")) == "改过"
    other = upload(admin_client, "customers", content + b"CRM-3,x,,,,,,,,,,\n", name, headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"
    fresh = upload(admin_client, "customers", content, name, headers={"Idempotency-Key": "another"})
    assert fresh.json()["updated"] == 1  # a new key imports again


# ---------------------------------------------------------------- atomicity


def test_each_batch_commits_atomically(
    admin_client: TestClient, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    original = TicketImporter.write
    calls = {"n": 0}

    def crash_in_second_batch(self: TicketImporter, conn: Any, prepared: Any) -> Any:
        calls["n"] += 1
        outcome = original(self, conn, prepared)  # the batch's rows are written …
        if calls["n"] == 2:
            raise RuntimeError("power cut")  # … and the process dies before its commit
        return outcome

    monkeypatch.setattr(TicketImporter, "write", crash_in_second_batch)
    with db.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        from servicelens.core.auth import system_subject

        subject = system_subject(admin)
    rows = [TICKETS[1] | {"external_id": f"B-{i}"} for i in range(5)]
    with pytest.raises(RuntimeError):
        service.import_file(db, subject, ImportKind.tickets, io.BytesIO(csv_bytes(TICKET_COLUMNS, rows)), batch_size=2)
    # Batch 1 (B-0, B-1) committed with its events; batch 2 (B-2, B-3) left nothing behind.
    with db.session() as s:
        ids = {ext: tid for ext, tid in s.execute(select(Ticket.external_id, Ticket.id))}
        assert set(ids) == {"B-0", "B-1"}
        assert sorted(s.scalars(select(TicketEvent.ticket_id)).all()) == sorted(ids.values())
    monkeypatch.setattr(TicketImporter, "write", original)
    result = service.import_file(
        db, subject, ImportKind.tickets, io.BytesIO(csv_bytes(TICKET_COLUMNS, rows)), batch_size=2
    )
    assert (result.created, result.unchanged, result.failed) == (3, 2, 0)  # re-running finishes the job
    assert count(db, TicketEvent) == 5


def test_open_tickets_queue_one_sla_rebuild(admin_client: TestClient, db: Database, org: Org) -> None:
    from servicelens.core.models import Job

    import_ok(admin_client, "customers")
    import_ok(admin_client, "products")
    closed_only = [r for r in TICKETS if r["status"] != "new"]
    import_ok(admin_client, "tickets", rows=closed_only)
    assert count(db, Job, Job.kind == "sla.rebuild") == 0  # nothing open: no SLA clock to start
    name, content = file_for("tickets", "csv")
    upload(admin_client, "tickets", content, name, dry_run=True)
    assert count(db, Job, Job.kind == "sla.rebuild") == 0
    import_ok(admin_client, "tickets")  # T-1002 is new: one job, in the last batch's transaction
    import_ok(admin_client, "tickets")  # unchanged: nothing to recompute
    with db.session() as s:
        jobs = s.scalars(select(Job).where(Job.kind == "sla.rebuild")).all()
        assert len(jobs) == 1 and jobs[0].payload["reason"] == "import:import"
