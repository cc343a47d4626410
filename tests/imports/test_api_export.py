"""Exports through the real API: round trips in every format, filters, scoping, spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicelens.core.db import Database
from servicelens.customers.models import Customer
from servicelens.tickets.models import Ticket
from tests.conftest import Org, login
from tests.imports.helpers import (
    CUSTOMER_COLUMNS,
    PRODUCT_COLUMNS,
    TICKET_COLUMNS,
    count,
    csv_bytes,
    import_ok,
    seed_all,
    upload,
)

COLUMNS = {"customers": CUSTOMER_COLUMNS, "products": PRODUCT_COLUMNS, "tickets": TICKET_COLUMNS}
SUFFIX = {"csv": "csv", "xlsx": "xlsx", "ndjson": "ndjson"}


def _rows(fmt: str, content: bytes) -> list[list[Any]]:
    """Header + rows of an exported file, for comparisons."""
    if fmt == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    if fmt == "ndjson":
        objs = [orjson.loads(line) for line in content.splitlines() if line]
        return [list(objs[0])] + [list(o.values()) for o in objs] if objs else []
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ndjson"])
@pytest.mark.parametrize("kind", ["customers", "products", "tickets"])
def test_export_reimports_unchanged(admin_client: TestClient, db: Database, org: Org, kind: str, fmt: str) -> None:
    for k in ("customers", "products", "tickets"):
        import_ok(admin_client, k, fmt)
    r = admin_client.get(f"/api/v1/exports/{kind}", params={"format": fmt, "source": "import"})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment;") and f".{fmt}" in r.headers["content-disposition"]
    exported = r.content
    rows = _rows(fmt, exported)
    assert rows[0] == COLUMNS[kind]
    assert len(rows) - 1 == {"customers": 2, "products": 3, "tickets": 3}[kind]
    # The export is a valid import file of the same kind: nothing to change on the way back in.
    back = upload(admin_client, kind, exported, f"export.{SUFFIX[fmt]}")
    assert back.status_code == 200, back.text
    body = back.json()
    assert (body["created"], body["updated"], body["failed"]) == (0, 0, 0), body["errors"]
    assert body["unchanged"] == body["total"] == len(rows) - 1
    again = admin_client.get(f"/api/v1/exports/{kind}", params={"format": fmt, "source": "import"}).content
    assert _rows(fmt, again) == rows


def test_export_values_are_readable(admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)
    text = admin_client.get("/api/v1/exports/tickets?format=csv&source=import").content
    assert text.startswith(b"\xef\xbb\xbf")  # BOM: Excel/WPS on Chinese Windows then read UTF-8
    first = next(r for r in csv.DictReader(io.StringIO(text.decode("utf-8-sig"))) if r["external_id"] == "T-1001")
    assert first["created_at"] == "2025-03-03T08:40:00+08:00"  # local time with its offset
    assert (first["customer_external_id"], first["product_code"], first["component_code"]) == (
        "CRM-001",
        "AC-35",
        "compressor",
    )
    assert (first["team"], first["assignee"], first["region"]) == ("华东售后", "engineer1", "east")
    plain = admin_client.get("/api/v1/exports/tickets?format=csv&bom=false").content
    assert plain.startswith(b"external_id,")
    nd = admin_client.get("/api/v1/exports/customers?format=ndjson&source=import").content.splitlines()
    crm1 = orjson.loads(nd[0])
    assert crm1["lat"] == 30.2741 and crm1["is_member"] is True and crm1["tier"] == "vip"
    from openpyxl import load_workbook

    xl = admin_client.get("/api/v1/exports/tickets?format=xlsx&source=import").content
    ws = load_workbook(io.BytesIO(xl)).worksheets[0]
    header = [c.value for c in ws[1]]
    created = ws.cell(row=2, column=header.index("created_at") + 1).value
    assert created == datetime(2025, 3, 3, 8, 40)  # a real date cell, local wall time


def test_export_neutralises_formulas_and_round_trips(admin_client: TestClient, db: Database, org: Org) -> None:
    evil = '=HYPERLINK("http://evil.example","点我")'
    rows = [{"external_id": "F1", "name": evil, "phone": "+86 138 0000 0000", "address": "'=already quoted"}]
    assert (
        upload(admin_client, "customers", csv_bytes(["external_id", "name", "phone", "address"], rows)).json()[
            "created"
        ]
        == 1
    )
    text = admin_client.get("/api/v1/exports/customers?format=csv&source=import").content.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["external_id"] == "F1")
    assert row["name"] == "'" + evil and row["phone"] == "'+86 138 0000 0000"
    back = upload(admin_client, "customers", text.encode()).json()
    assert back["unchanged"] == 1 and back["failed"] == 0
    with db.session() as s:
        c = s.scalar(select(Customer).where(Customer.external_id == "F1"))
        # In CSV a leading apostrophe before =+-@ is the spreadsheet "text" prefix, not part of the value.
        assert c is not None and (c.name, c.phone, c.address) == (evil, "+86 138 0000 0000", "=already quoted")
    from openpyxl import load_workbook

    ws = load_workbook(
        io.BytesIO(admin_client.get("/api/v1/exports/customers?format=xlsx&source=import").content)
    ).worksheets[0]
    cell = ws.cell(row=2, column=2)
    assert cell.value == evil and cell.data_type == "s"  # text, not a formula


def test_ticket_filters_apply(admin_client: TestClient, db: Database, org: Org) -> None:
    seed_all(admin_client)

    def ids(**params: Any) -> list[str]:
        r = admin_client.get("/api/v1/exports/tickets", params={"format": "ndjson", **params})
        assert r.status_code == 200, r.text
        return [orjson.loads(line)["external_id"] for line in r.content.splitlines()]

    assert ids() == ["T-1001", "T-1002", "T-1003"]
    assert ids(status="resolved") == ["T-1001"]
    assert ids(status=["resolved", "closed"]) == ["T-1001", "T-1003"]
    assert ids(type="complaint") == ["T-1003"]
    assert ids(team_id=org.team_north) == ["T-1003"]
    assert ids(created_from="2025-03-04T00:00:00Z") == ["T-1002", "T-1003"]
    assert ids(open_only=True) == ["T-1002"]
    assert ids(q="发票") == ["T-1002"]
    assert admin_client.get("/api/v1/exports/tickets", params={"status": "bogus"}).status_code == 422


def test_export_is_scoped_to_the_caller(app: Any, admin_client: TestClient, agent_client: TestClient, org: Org) -> None:
    seed_all(admin_client)
    r = agent_client.get("/api/v1/exports/tickets")
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    with TestClient(app) as c:
        login(c, "supervisor1")  # east team and region
        lines = c.get("/api/v1/exports/tickets?format=ndjson").content.splitlines()
        assert [orjson.loads(x)["external_id"] for x in lines] == ["T-1001"]
        # The list endpoint shows the supervisor the same tickets.
        listed = c.get("/api/v1/tickets").json()
        assert [t["external_id"] for t in listed["items"]] == ["T-1001"]
    with TestClient(app) as c:
        login(c, "analyst1")
        assert len(c.get("/api/v1/exports/tickets?format=ndjson").content.splitlines()) == 3
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/exports/tickets").status_code == 401


def test_large_export_streams_in_chunks(admin_client: TestClient, db: Database, org: Org) -> None:
    rows = [{"external_id": f"S{i:05d}", "name": f"客户{i}"} for i in range(5_000)]
    assert upload(admin_client, "customers", csv_bytes(["external_id", "name"], rows)).json()["created"] == 5_000
    with admin_client.stream("GET", "/api/v1/exports/customers?format=csv&source=import") as r:
        assert r.status_code == 200
        chunks = list(r.iter_raw())
    assert len(chunks) > 1
    assert b"".join(chunks).count(b"\r\n") == 5_001
    assert count(db, Customer) == 5_002


def test_template_download(admin_client: TestClient, org: Org) -> None:
    r = admin_client.get("/api/v1/imports/tickets/template")
    assert r.status_code == 200
    assert r.content.decode("utf-8-sig").strip() == ",".join(TICKET_COLUMNS)
    from openpyxl import load_workbook

    xl = admin_client.get("/api/v1/imports/products/template?format=xlsx").content
    assert [c.value for c in load_workbook(io.BytesIO(xl)).worksheets[0][1]] == PRODUCT_COLUMNS


def test_products_without_components_export_one_row(admin_client: TestClient, db: Database, org: Org) -> None:
    import_ok(admin_client, "products")
    text = admin_client.get("/api/v1/exports/products?format=csv").content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[1:] == [
        "WH-60,电热水器 60L,热水器,heater,加热管",
        "AC-35,变频空调 1.5匹,空调,compressor,压缩机",
        "AC-35,变频空调 1.5匹,空调,fan,风扇电机",
        "WP-10,净水器 RO-10,净水器,,",
    ]
    assert count(db, Ticket) == 0


def test_analysts_get_masked_contact_details(app: Any, admin_client: TestClient, org: Org) -> None:
    import_ok(admin_client, "customers")
    full = admin_client.get("/api/v1/exports/customers?format=ndjson&source=import").content.splitlines()
    assert orjson.loads(full[1])["phone"] == "13900002222"  # admins sync with a CRM: full values
    with TestClient(app) as c:
        login(c, "analyst1")
        rows = [
            orjson.loads(x) for x in c.get("/api/v1/exports/customers?format=ndjson&source=import").content.splitlines()
        ]
    assert rows[1]["phone"] == "139****2222" and rows[0]["email"] == "s***@lvyuan.example"
    assert rows[0]["name"] == "杭州绿源净水科技有限公司"
