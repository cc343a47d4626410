"""Product catalogue import (one row per component, rows grouped by product code) and export.

Products are keyed by their code (unique in servicelens), components by (product, component
code). A product's name and category come from the first row of the file that gives them; later
rows may leave them empty, but may not contradict them. Import adds and renames, never deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, bindparam, column, insert, select, table, update

from servicelens.imports.engine import BatchOutcome, Context, chunks, in_keys
from servicelens.imports.exports import RowSelect
from servicelens.imports.reader import RawRow
from servicelens.imports.values import Errors, text
from servicelens.products.models import Component, Product

COLUMNS: Final = ("code", "name", "category", "component_code", "component_name")
REQUIRED_COLUMNS: Final = ("code",)

_P = table(
    "products",
    column("id"),
    column("external_id"),
    column("source"),
    column("code"),
    column("name"),
    column("category"),
    column("created_at"),
)
_C = table("components", column("id"), column("product_id"), column("code"), column("name"))


@dataclass
class _FileProduct:
    """What the file says about one product so far (first non-empty value wins)."""

    name: str | None = None
    name_row: int = 0
    category: str | None = None
    category_row: int = 0


@dataclass(slots=True)
class Prepared:
    row: int
    code: str
    component_code: str | None
    component_name: str | None


@dataclass
class _ProductPlan:
    id: int | None
    action: str | None  # "create" | "update" | None
    name: str | None
    category: str | None
    owner: int | None = None  # the first row that stored it counts the create/update
    components: dict[str, tuple[int, str]] = field(default_factory=dict)  # code → (id, name)


class ProductImporter:
    columns: Sequence[str] = COLUMNS
    required_columns: Sequence[str] = REQUIRED_COLUMNS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.products: dict[str, _FileProduct] = {}
        self.components: dict[tuple[str, str], int] = {}

    def prepare(self, batch: list[RawRow], failed: list[tuple[int, Errors]]) -> list[Prepared]:
        out: list[Prepared] = []
        for row, cells in batch:
            if isinstance(cells, str):
                failed.append((row, [(None, cells)]))
                continue
            errs: Errors = []
            code, name, category, comp_code, comp_name = cells
            if not code:
                errs.append(("code", "required"))
            elif len(code) > 64:
                errs.append(("code", "longer than 64 characters"))
            name_v = text(name, "name", errs, 200)
            category_v = text(category, "category", errs, 100)
            comp_code_v = text(comp_code, "component_code", errs, 64)
            comp_name_v = text(comp_name, "component_name", errs, 200)
            info = self.products.get(code or "") or _FileProduct()
            if isinstance(name_v, str) and info.name is not None and name_v != info.name:
                errs.append(("name", f"differs from row {info.name_row} for product '{code}' ('{info.name}')"))
            if isinstance(category_v, str) and info.category is not None and category_v != info.category:
                errs.append(
                    (
                        "category",
                        f"differs from row {info.category_row} for product '{code}' ('{info.category}')",
                    )
                )
            if isinstance(comp_name_v, str) and not isinstance(comp_code_v, str):
                errs.append(("component_code", "required when component_name is given"))
            if isinstance(comp_code_v, str) and code:
                first = self.components.get((code, comp_code_v))
                if first is not None:
                    errs.append(("component_code", f"duplicate of row {first} for product '{code}'"))
            if errs:
                failed.append((row, errs))
                continue
            if isinstance(name_v, str) and info.name is None:
                info.name, info.name_row = name_v, row
            if isinstance(category_v, str) and info.category is None:
                info.category, info.category_row = category_v, row
            self.products[code or ""] = info
            comp = comp_code_v if isinstance(comp_code_v, str) else None
            if comp is not None:
                self.components[(code or "", comp)] = row
            out.append(Prepared(row, code or "", comp, comp_name_v if isinstance(comp_name_v, str) else None))
        return out

    def _plans(self, conn: Connection, codes: list[str]) -> dict[str, _ProductPlan]:
        found: dict[str, tuple[int, str, str | None]] = {}
        for part in chunks(codes):
            stmt = select(Product.code, Product.id, Product.name, Product.category).where(
                in_keys(Product.code, part, self.ctx.is_sqlite)
            )
            if not self.ctx.is_sqlite and not self.ctx.dry_run:
                stmt = stmt.with_for_update()
            for code, pid, name, category in conn.execute(stmt):
                found[code] = (pid, name, category)
        plans: dict[str, _ProductPlan] = {}
        for code in codes:
            info = self.products[code]
            if code not in found:
                plans[code] = _ProductPlan(None, "create" if info.name else None, info.name, info.category)
                continue
            pid, old_name, old_category = found[code]
            name = info.name or old_name
            category = info.category or old_category
            action = "update" if (name, category) != (old_name, old_category) else None
            plans[code] = _ProductPlan(pid, action, name, category)
        by_id = {p.id: p for p in plans.values() if p.id is not None}
        for ids in chunks(list(by_id)):
            for pid, ccode, cid, cname in conn.execute(
                select(Component.product_id, Component.code, Component.id, Component.name).where(
                    in_keys(Component.product_id, ids, self.ctx.is_sqlite)
                )
            ):
                by_id[pid].components[ccode] = (cid, cname)
        return plans

    def write(self, conn: Connection, prepared: list[Prepared]) -> BatchOutcome:
        ctx = self.ctx
        outcome = BatchOutcome()
        plans = self._plans(conn, list(dict.fromkeys(p.code for p in prepared)))
        new_components: list[tuple[str, str, str]] = []  # product code, component code, name
        renamed: list[dict[str, Any]] = []
        for p in prepared:
            plan = plans[p.code]
            if plan.id is None and plan.name is None:
                outcome.failed.append((p.row, [("name", f"required for the new product '{p.code}'")]))
                continue
            comp_action = None
            if p.component_code is not None:
                current = plan.components.get(p.component_code)
                if current is None:
                    if p.component_name is None:
                        outcome.failed.append((p.row, [("component_name", "required for a new component")]))
                        continue
                    comp_action = "create"
                elif p.component_name is not None and p.component_name != current[1]:
                    comp_action = "update"
            created = updated = False
            if plan.action is not None and plan.owner is None:
                plan.owner = p.row
                created, updated = plan.action == "create", plan.action == "update"
            if comp_action == "create":
                created = True
                new_components.append((p.code, p.component_code or "", p.component_name or ""))
            elif comp_action == "update":
                updated = True
                renamed.append({"b_id": plan.components[p.component_code or ""][0], "name": p.component_name})
            if created:
                outcome.created += 1
            elif updated:
                outcome.updated += 1
            else:
                outcome.unchanged += 1
        if ctx.dry_run:
            return outcome
        now = ctx.db_now()
        ids = {code: plan.id for code, plan in plans.items() if plan.id is not None}
        inserts = [
            {
                "code": code,
                "external_id": code,
                "source": ctx.source,
                "name": plan.name,
                "category": plan.category,
                "created_at": now,
            }
            for code, plan in plans.items()
            if plan.action == "create" and plan.owner is not None
        ]
        if inserts:
            for pid, code in conn.execute(insert(_P).returning(_P.c.id, _P.c.code), inserts):
                ids[code] = pid
        changed = [
            {"b_id": plan.id, "name": plan.name, "category": plan.category}
            for plan in plans.values()
            if plan.action == "update" and plan.owner is not None
        ]
        if changed:
            conn.execute(update(_P).where(_P.c.id == bindparam("b_id")), changed)
        if new_components:
            conn.execute(
                insert(_C),
                [{"product_id": ids[code], "code": ccode, "name": name} for code, ccode, name in new_components],
            )
        if renamed:
            conn.execute(update(_C).where(_C.c.id == bindparam("b_id")), renamed)
        return outcome


def export_query() -> RowSelect:
    """One row per component; a product without components gets one row with empty component cells."""
    return (
        select(Product.code, Product.name, Product.category, Component.code, Component.name)
        .outerjoin(Component, Component.product_id == Product.id)
        .order_by(Product.id, Component.id)
    )
