"""Customer import (upsert by source + external_id, primary contact by name) and export."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, bindparam, column, insert, literal, select, table, update

from servicelens.core.auth import Subject
from servicelens.customers.models import Customer, CustomerContact, CustomerTier
from servicelens.customers.service import mask_email, mask_phone
from servicelens.imports.engine import BatchOutcome, Context, chunks, in_keys
from servicelens.imports.exports import RowSelect
from servicelens.imports.reader import RawRow
from servicelens.imports.values import MISSING, TIER_ALIASES, Errors, Missing, boolean, choice, number, text
from servicelens.org.models import Region, Role

COLUMNS: Final = (
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
)
REQUIRED_COLUMNS: Final = ("external_id",)
FIELDS: Final = ("name", "tier", "region_id", "city", "address", "lat", "lng", "phone", "email", "is_member")
DEFAULTS: Final[dict[str, Any]] = {"tier": CustomerTier.regular.value, "is_member": False}
NOT_NULL: Final = frozenset({"name", "tier", "is_member"})
EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_C = table(
    "customers",
    column("id"),
    column("external_id"),
    column("source"),
    *(column(f) for f in FIELDS),
    column("created_at"),
    column("updated_at"),
)
_K = table("customer_contacts", column("id"), column("customer_id"), column("name"), column("phone"), column("email"))
_K_INSERT = table(
    "customer_contacts",
    column("customer_id"),
    column("name"),
    column("phone"),
    column("email"),
    column("is_primary"),
)


@dataclass(slots=True)
class Prepared:
    row: int
    external_id: str
    values: dict[str, Any]
    contact_name: str | None


class CustomerImporter:
    columns: Sequence[str] = COLUMNS
    required_columns: Sequence[str] = REQUIRED_COLUMNS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: dict[str, int] = {}
        self.regions: dict[str, int] = {}
        with ctx.db.engine.connect() as conn:
            rows = conn.execute(select(Region.id, Region.code, Region.name, Region.name_en)).all()
        for rid, code, _name, _name_en in rows:
            self.regions[code] = rid
        for rid, _code, name, name_en in rows:
            self.regions.setdefault(name, rid)
            if name_en:
                self.regions.setdefault(name_en, rid)

    def prepare(self, batch: list[RawRow], failed: list[tuple[int, Errors]]) -> list[Prepared]:
        out: list[Prepared] = []
        for row, cells in batch:
            if isinstance(cells, str):
                failed.append((row, [(None, cells)]))
                continue
            errs: Errors = []
            ext, name, tier, region, city, address, lat, lng, phone, email, member, contact = cells
            if not ext:
                errs.append(("external_id", "required"))
                ext = ""
            elif len(ext) > 100:
                errs.append(("external_id", "longer than 100 characters"))
            elif ext in self.seen:
                errs.append(("external_id", f"duplicate in this file (first in row {self.seen[ext]})"))
            else:
                self.seen[ext] = row
            region_id: int | Missing | None = MISSING if region is None else None
            if region:
                region_id = self.regions.get(region)
                if region_id is None:
                    errs.append(("region", f"unknown region '{region}' (use a region code or name)"))
            email_value = text(email, "email", errs, 200)
            if isinstance(email_value, str) and not EMAIL.fullmatch(email_value):
                errs.append(("email", f"'{email_value}' is not an e-mail address"))
            values = {
                "name": text(name, "name", errs, 200),
                "tier": choice(tier, "tier", errs, TIER_ALIASES),
                "region_id": region_id,
                "city": text(city, "city", errs, 100),
                "address": text(address, "address", errs, 300),
                "lat": number(lat, "lat", errs, -90, 90),
                "lng": number(lng, "lng", errs, -180, 180),
                "phone": text(phone, "phone", errs, 40),
                "email": email_value,
                "is_member": boolean(member, "is_member", errs),
            }
            contact_name = text(contact, "contact_name", errs, 100)
            if errs:
                failed.append((row, errs))
            else:
                # Only a name updates contacts: an empty or absent cell leaves them alone.
                out.append(Prepared(row, ext, values, contact_name if isinstance(contact_name, str) else None))
        return out

    def _existing(self, conn: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        cols = [Customer.id, Customer.external_id, *(getattr(Customer, f) for f in FIELDS)]
        for part in chunks(keys):
            stmt = select(*cols).where(
                Customer.source == self.ctx.source, in_keys(Customer.external_id, part, self.ctx.is_sqlite)
            )
            if not self.ctx.is_sqlite and not self.ctx.dry_run:
                stmt = stmt.with_for_update()
            for r in conn.execute(stmt).mappings():
                found[r["external_id"]] = {**r, "contact_id": None, "contact_name": None}
        by_id = {c["id"]: c for c in found.values()}
        for ids in chunks(list(by_id)):
            contacts = conn.execute(
                select(CustomerContact.customer_id, CustomerContact.id, CustomerContact.name)
                .where(
                    in_keys(CustomerContact.customer_id, ids, self.ctx.is_sqlite), CustomerContact.is_primary.is_(True)
                )
                .order_by(CustomerContact.id.desc())
            )
            for cid, contact_id, name in contacts:  # descending: the oldest primary contact wins
                by_id[cid]["contact_id"], by_id[cid]["contact_name"] = contact_id, name
        return found

    def write(self, conn: Connection, prepared: list[Prepared]) -> BatchOutcome:
        ctx = self.ctx
        outcome = BatchOutcome()
        existing = self._existing(conn, [p.external_id for p in prepared]) if prepared else {}
        now = ctx.db_now()
        inserts: list[dict[str, Any]] = []
        new_contacts: dict[str, dict[str, Any]] = {}
        updates: list[dict[str, Any]] = []
        contact_updates: list[dict[str, Any]] = []
        contact_inserts: list[dict[str, Any]] = []
        for p in prepared:
            v = p.values
            old = existing.get(p.external_id)
            if old is None:
                m = {f: (None if x is MISSING else x) for f, x in v.items()}
                for f, default in DEFAULTS.items():
                    if m[f] is None:
                        m[f] = default
                if m["name"] is None:
                    outcome.failed.append((p.row, [("name", "required for a new customer")]))
                    continue
                outcome.created += 1
                inserts.append(
                    {
                        **m,
                        "external_id": p.external_id,
                        "source": ctx.source,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                if p.contact_name:
                    new_contacts[p.external_id] = {
                        "name": p.contact_name,
                        "phone": m["phone"],
                        "email": m["email"],
                        "is_primary": True,
                    }
                continue
            m = {f: (old[f] if x is MISSING or (x is None and f in NOT_NULL) else x) for f, x in v.items()}
            changed = any(m[f] != old[f] for f in FIELDS)
            contact_changed = p.contact_name is not None and p.contact_name != old["contact_name"]
            if not changed and not contact_changed:
                outcome.unchanged += 1
                continue
            outcome.updated += 1
            updates.append({**m, "b_id": old["id"], "updated_at": now})
            if contact_changed and old["contact_id"] is not None:
                contact_updates.append({"b_id": old["contact_id"], "name": p.contact_name})
            elif contact_changed:
                contact_inserts.append(
                    {
                        "customer_id": old["id"],
                        "name": p.contact_name,
                        "phone": m["phone"],
                        "email": m["email"],
                        "is_primary": True,
                    }
                )
        if ctx.dry_run:
            return outcome
        if inserts:
            stmt = insert(_C).returning(_C.c.id, _C.c.external_id)
            for cid, ext in conn.execute(stmt, inserts):
                contact = new_contacts.get(ext)
                if contact is not None:
                    contact_inserts.append({**contact, "customer_id": cid})
        if updates:
            # The SET clause comes from the parameter keys (every FIELDS column plus updated_at).
            conn.execute(update(_C).where(_C.c.id == bindparam("b_id")), updates)
        if contact_updates:
            conn.execute(update(_K).where(_K.c.id == bindparam("b_id")), contact_updates)
        if contact_inserts:
            conn.execute(insert(_K_INSERT), contact_inserts)
        return outcome


def export_query(subject: Subject) -> RowSelect:
    contact = (
        select(CustomerContact.name)
        .where(CustomerContact.customer_id == Customer.id)
        .order_by(CustomerContact.is_primary.desc(), CustomerContact.id)
        .limit(1)
        .scalar_subquery()
    )
    # Same scope as the customer list: sales staff see the customers they own.
    scope = Customer.sales_owner_id == subject.user_id if subject.role == Role.sales else literal(True)
    return (
        select(
            Customer.external_id,
            Customer.name,
            Customer.tier,
            Region.code,
            Customer.city,
            Customer.address,
            Customer.lat,
            Customer.lng,
            Customer.phone,
            Customer.email,
            Customer.is_member,
            contact,
        )
        .outerjoin(Region, Region.id == Customer.region_id)
        .where(scope)
        .order_by(Customer.id)
    )


_PHONE, _EMAIL = COLUMNS.index("phone"), COLUMNS.index("email")


def masked(rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """Export rows with phone and e-mail masked the way the customer API shows them."""
    for row in rows:
        out = list(row)
        out[_PHONE], out[_EMAIL] = mask_phone(out[_PHONE]), mask_email(out[_EMAIL])
        yield out
