"""Helpers for the import/export tests: build files in every format, upload them, count rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from servicelens.core.auth import Subject, system_subject
from servicelens.core.db import Database

CUSTOMER_COLUMNS = [
    "external_id",
    "name",
    "tier",
    "region",
    "city",
    "address",
    "lat",
    "lng",
    "phone",
    "email",
    "is_member",
    "contact_name",
]
PRODUCT_COLUMNS = ["code", "name", "category", "component_code", "component_name"]
TICKET_COLUMNS = [
    "external_id",
    "subject",
    "description",
    "type",
    "channel",
    "priority",
    "status",
    "category",
    "customer_external_id",
    "product_code",
    "component_code",
    "team",
    "assignee",
    "region",
    "created_at",
    "first_response_at",
    "first_resolved_at",
    "resolved_at",
    "closed_at",
]

CUSTOMERS: list[dict[str, Any]] = [
    {
        "external_id": "CRM-001",
        "name": "杭州绿源净水科技有限公司",
        "tier": "VIP",
        "region": "east",
        "city": "杭州",
        "address": "西湖区文三路 90 号",
        "lat": "30.2741",
        "lng": "120.1551",
        "phone": "+86 571 8888 0001",
        "email": "service@lvyuan.example",
        "is_member": "是",
        "contact_name": "张伟",
    },
    {
        "external_id": "CRM-002",
        "name": "刘洋",
        "tier": "普通",
        "region": "华北",
        "city": "北京",
        "address": "",
        "lat": "",
        "lng": "",
        "phone": "13900002222",
        "email": "",
        "is_member": "0",
        "contact_name": "",
    },
]
PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "AC-35",
        "name": "变频空调 1.5匹",
        "category": "空调",
        "component_code": "compressor",
        "component_name": "压缩机",
    },
    {"code": "AC-35", "name": "", "category": "", "component_code": "fan", "component_name": "风扇电机"},
    {"code": "WP-10", "name": "净水器 RO-10", "category": "净水器", "component_code": "", "component_name": ""},
]
TICKETS: list[dict[str, Any]] = [
    {
        "external_id": "T-1001",
        "subject": "空调不制冷",
        "description": "客户反映开机 30 分钟仍不制冷。",
        "type": "repair",
        "channel": "phone",
        "priority": "high",
        "status": "resolved",
        "category": "制冷",
        "customer_external_id": "CRM-001",
        "product_code": "AC-35",
        "component_code": "compressor",
        "team": "华东售后",
        "assignee": "engineer1",
        "region": "",
        "created_at": "2025-03-03 08:40:00",
        "first_response_at": "2025-03-03 09:25:00",
        "first_resolved_at": "2025-03-03 15:40:00",
        "resolved_at": "2025-03-03 15:40:00",
        "closed_at": "",
    },
    {
        "external_id": "T-1002",
        "subject": "发票抬头咨询",
        "description": "",
        "type": "咨询",
        "channel": "微信",
        "priority": "",
        "status": "new",
        "category": "",
        "customer_external_id": "CRM-002",
        "product_code": "",
        "component_code": "",
        "team": "",
        "assignee": "",
        "region": "",
        "created_at": "2025-03-04T02:00:00Z",
        "first_response_at": "",
        "first_resolved_at": "",
        "resolved_at": "",
        "closed_at": "",
    },
    {
        "external_id": "T-1003",
        "subject": "服务态度投诉",
        "description": "上门工程师迟到两小时。",
        "type": "complaint",
        "channel": "web",
        "priority": "urgent",
        "status": "closed",
        "category": "",
        "customer_external_id": "CRM-001",
        "product_code": "WP-10",
        "component_code": "",
        "team": "华北售后",
        "assignee": "agent2",
        "region": "north",
        "created_at": "2025-03-05 10:00",
        "first_response_at": "2025-03-05 10:30",
        "first_resolved_at": "2025-03-06 09:00",
        "resolved_at": "2025-03-06 09:00",
        "closed_at": "2025-03-08 09:00",
    },
]
DATA = {
    "customers": (CUSTOMER_COLUMNS, CUSTOMERS),
    "products": (PRODUCT_COLUMNS, PRODUCTS),
    "tickets": (TICKET_COLUMNS, TICKETS),
}


def csv_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns])
    return buf.getvalue().encode(encoding)


def ndjson_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps({c: r[c] for c in columns if c in r}) + b"\n" for r in rows)


def xlsx_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(columns))
    for r in rows:
        ws.append([r.get(c, "") or None for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def file_for(kind: str, fmt: str, rows: Sequence[dict[str, Any]] | None = None) -> tuple[str, bytes]:
    columns, default = DATA[kind]
    data = default if rows is None else rows
    if fmt == "csv":
        return f"{kind}.csv", csv_bytes(columns, data)
    if fmt == "ndjson":
        return f"{kind}.ndjson", ndjson_bytes(columns, data)
    return f"{kind}.xlsx", xlsx_bytes(columns, data)


def upload(
    client: TestClient,
    kind: str,
    content: bytes,
    filename: str = "data.csv",
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Response:
    return client.post(
        f"/api/v1/imports/{kind}",
        files={"file": (filename, content, content_type)},
        params=params,
        headers=headers,
    )


def import_ok(
    client: TestClient, kind: str, fmt: str = "csv", rows: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    name, content = file_for(kind, fmt, rows)
    r = upload(client, kind, content, name)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["failed"] == 0, body["errors"]
    return body


def seed_all(client: TestClient) -> None:
    """Customers and products first: tickets refer to them."""
    import_ok(client, "customers")
    import_ok(client, "products")
    import_ok(client, "tickets")


def count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def admin_subject(db: Database) -> Subject:
    """The seeded admin as the subject of a service-level import."""
    from servicelens.org.models import User

    with db.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        return system_subject(admin)


def wipe_tickets(db: Database) -> None:
    """Delete the tickets and what hangs off them, keeping the organisation, customers and products."""
    with db.engine.begin() as conn:
        for table in ("ticket_events", "ticket_sla", "jobs", "tickets"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
