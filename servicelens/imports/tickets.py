"""Ticket import (upsert by source + external_id) and export.

The hot path is written for throughput (design target ≥ 50,000 rows/s on SQLite; see
bench/bench_import.py and docs/import.md): references are resolved from dicts loaded once per file
(customers once per batch, all keys in one bound value); a clean batch is checked and merged a
column at a time (``_prepare_columns``, ``_merge_new``), any other batch row by row with each
row's errors; tickets and their events go to the database as multi-row statements on untyped
columns, one transaction per batch, references checked once per batch (``_check_references``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, Final, TypeVar

import orjson
from sqlalchemy import Connection, and_, bindparam, column, func, insert, select, table, true, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType

from servicelens.customers.models import Customer
from servicelens.imports.engine import BatchOutcome, Context, chunks, in_keys, sqlite_values
from servicelens.imports.exports import RowSelect
from servicelens.imports.reader import RawRow
from servicelens.imports.values import (
    CHANNEL_ALIASES,
    MISSING,
    PRIORITY_ALIASES,
    STATUS_ALIASES,
    TYPE_ALIASES,
    Errors,
    Missing,
    TimeParser,
    choice,
    text,
)
from servicelens.org.models import Region, Role, Team, User
from servicelens.products.models import Component, Product
from servicelens.tickets.models import Channel, EventKind, Priority, Ticket, TicketStatus
from servicelens.tickets.schemas import MAX_TEXT
from servicelens.tickets.service import OPEN_STATUSES, TicketFilters, scope_clause

COLUMNS: Final = (
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
)
REQUIRED_COLUMNS: Final = ("external_id",)

# Ticket columns an import writes, in a fixed order. Rows travel as lists in this order (not dicts):
# the hot path builds ~50,000 of them a second, and positional access is what keeps it cheap.
FIELDS: Final = (
    "subject",
    "description",
    "type",
    "channel",
    "priority",
    "status",
    "category",
    "customer_id",
    "product_id",
    "component_id",
    "team_id",
    "assignee_id",
    "region_id",
    "created_at",
    "first_response_at",
    "first_resolved_at",
    "resolved_at",
    "closed_at",
)
(SUBJECT, DESCRIPTION, TYPE, CHANNEL, PRIORITY, STATUS, CATEGORY, CUSTOMER, PRODUCT, COMPONENT, TEAM,
 ASSIGNEE, REGION, CREATED, FIRST_RESPONSE, FIRST_RESOLVED, RESOLVED, CLOSED) = range(len(FIELDS))  # fmt: skip
_INDEXES: Final = tuple(range(len(FIELDS)))
TIMES: Final = (CREATED, FIRST_RESPONSE, FIRST_RESOLVED, RESOLVED, CLOSED)
# Non-null columns: an empty cell means "default" for a new ticket and "keep" for a stored one.
NOT_NULL: Final = frozenset({SUBJECT, DESCRIPTION, TYPE, CHANNEL, PRIORITY, STATUS, CREATED})
ASSIGNABLE: Final = frozenset({Role.agent.value, Role.engineer.value, Role.supervisor.value})
OPEN: Final = frozenset(s.value for s in OPEN_STATUSES)
CLOSED_STATUS: Final = TicketStatus.closed.value
T = TypeVar("T")

# Reference columns and the tables they point to (checked per batch: _check_references).
_REFERENCES: Final = {
    CUSTOMER: "customers",
    PRODUCT: "products",
    COMPONENT: "components",
    TEAM: "teams",
    ASSIGNEE: "users",
    REGION: "regions",
}

# Untyped columns: values are already in the driver's representation (see Context.db_time).
_T = table(
    "tickets",
    column("id"),
    column("external_id"),
    column("source"),
    *(column(f) for f in FIELDS),
    column("flag_color"),
    column("fcr_marked"),
    column("is_spam"),
    column("is_test"),
    column("is_deleted"),
    column("reopen_count"),
    column("updated_at"),
    column("version"),
)
_EVENT_COLUMNS: Final = ("ticket_id", "kind", "actor_id", "at", "from_status", "to_status", "data")
_E = table("ticket_events", *(column(c) for c in _EVENT_COLUMNS))
_SQLITE_EVENTS_HEAD: Final = f"INSERT INTO ticket_events ({', '.join(_EVENT_COLUMNS)}) VALUES "
_SQLITE_EVENT_ROW: Final = f"({', '.join('?' * len(_EVENT_COLUMNS))})"
_INSERT_COLUMNS: Final = ("external_id", "source", *FIELDS, "updated_at")
# A new ticket's flags are constants in the SQL rather than 7 more bound values per row.
_NEW_FLAGS: Final = {
    "flag_color": "none",
    "fcr_marked": False,
    "is_spam": False,
    "is_test": False,
    "is_deleted": False,
    "reopen_count": 0,
    "version": 1,
}
_SQLITE_INSERT_HEAD: Final = f"INSERT INTO tickets (id, {', '.join(_INSERT_COLUMNS)}, {', '.join(_NEW_FLAGS)}) VALUES "
_SQLITE_INSERT_ROW: Final = f"({', '.join('?' * (len(_INSERT_COLUMNS) + 1))}, 'none', 0, 0, 0, 0, 0, 1)"
_SQLITE_EVENTS: Final = (
    "INSERT INTO ticket_events (ticket_id, kind, actor_id, at, from_status, to_status, data) "
    "SELECT id, ?, ?, ?, NULL, status, ? FROM tickets WHERE id BETWEEN ? AND ? ORDER BY id"
)
# Rows come back in any order: each event needs only its ticket's id and status.
_INSERT_TICKETS = insert(_T).values(_NEW_FLAGS).returning(_T.c.id, _T.c.status)
_INSERT_EVENTS = insert(_E)
# The SET clause comes from the parameter keys: the changed FIELDS, updated_at and version.
_UPDATE_TICKETS = update(_T).where(_T.c.id == bindparam("b_id"))


@dataclass(slots=True)
class Prepared:
    row: int
    external_id: str
    values: list[Any]  # in FIELDS order: a value, MISSING (no such column) or None (empty cell)
    customer_region: int | None
    assignee_inactive: str | None  # username of a deactivated assignee


@dataclass(slots=True)
class ColumnBatch:
    """A batch in which every cell parsed cleanly, kept as columns: what ``_prepare_rows`` would
    give for the same rows, without a Python object per row (TicketImporter._prepare_columns)."""

    rows: list[int]
    external_ids: list[str]
    columns: list[list[Any] | Missing]  # in FIELDS order; MISSING: the file has no such column
    customer_regions: list[int | None]
    # The batch as new tickets, merged in prepare (TicketImporter._merge_new) and written if none of
    # them exists: the insert columns after the id, in _INSERT_COLUMNS order. None if a row breaks
    # a rule.
    new_tickets: list[list[Any]] | None = None
    references: dict[int, set[Any]] = field(default_factory=dict)  # _REFERENCES index → ids used
    sla_dirty: bool = False

    def __len__(self) -> int:
        return len(self.external_ids)

    def prepared(self) -> list[Prepared]:
        """The same rows as ``_prepare_rows`` objects, for the row-by-row write."""
        cols = [repeat(MISSING) if c is MISSING else c for c in self.columns]
        return [
            Prepared(row, ext, list(values), region, None)
            # repeat() stands in for absent columns: zip stops at the rows.
            for row, ext, values, region in zip(
                self.rows, self.external_ids, zip(*cols, strict=False), self.customer_regions, strict=False
            )
        ]


class TicketImporter:
    columns: Sequence[str] = COLUMNS
    required_columns: Sequence[str] = REQUIRED_COLUMNS
    # Every SQLite statement of ``write`` is a single step (multi-row VALUES, one-row JSON reads):
    # the engine may run it in a writer thread beside ``prepare`` (engine.run).
    pipelined = True
    # Batches whose every cell is clean are parsed and written column by column (see
    # _prepare_columns); False forces the row-by-row path, which tests compare it with.
    columnar = True
    checks_references = True  # see _check_references

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: dict[str, int] = {}  # external_id → first row, for duplicates inside one file
        # Whether the last batch written found stored tickets (set by ``write``, read by ``prepare``):
        # the next one then likely updates too, and is parsed row by row (see prepare).
        self.updating = False
        self.customers: dict[str, tuple[int, int | None] | None] = {}
        with ctx.db.engine.connect() as conn:
            self.products: dict[str, int] = {c: i for c, i in conn.execute(select(Product.code, Product.id))}
            self.components = {
                (p, c): i for p, c, i in conn.execute(select(Component.product_id, Component.code, Component.id))
            }
            self.teams: dict[str, int] = {}
            for tid, name, name_en in conn.execute(select(Team.id, Team.name, Team.name_en)):
                self.teams[name] = tid
                if name_en:
                    self.teams.setdefault(name_en, tid)
            self.users = {
                u: (i, r, a) for u, i, r, a in conn.execute(select(User.username, User.id, User.role, User.is_active))
            }
            self.regions: dict[str, int] = {}
            for rid, code, name in conn.execute(select(Region.id, Region.code, Region.name)):
                self.regions[code] = rid
                self.regions.setdefault(name, rid)
        self.event_data = orjson.dumps({"source": ctx.source}).decode()
        # Timestamps travel in the driver's representation from parsing to the INSERT/UPDATE and
        # are read back the same way (no type processing), so the diff and the order checks compare
        # like with like: SQLAlchemy's fixed-width text on SQLite (ordered as text), aware
        # datetimes on PostgreSQL.
        self.ts = TimeParser(ctx.tz, ctx.now, out="sqlite" if ctx.is_sqlite else "pg")
        self.now = ctx.db_now()

    # ------------------------------------------------------------------ prepare (no transaction)

    def _load_customers(self, keys: set[str]) -> None:
        wanted = [k for k in keys if k not in self.customers]
        if not wanted:
            return
        with self.ctx.db.engine.connect() as conn:
            for part in chunks(wanted):
                for ext, cid, region in conn.execute(
                    select(Customer.external_id, Customer.id, Customer.region_id).where(
                        Customer.source == self.ctx.source,
                        in_keys(Customer.external_id, part, self.ctx.is_sqlite),
                    )
                ):
                    self.customers[ext or ""] = (cid, region)
        for k in wanted:
            self.customers.setdefault(k, None)

    def prepare(self, batch: list[RawRow], failed: list[tuple[int, Errors]]) -> list[Prepared] | ColumnBatch:
        """Parse and check the batch (no database access except the customer cache): column by
        column when every cell is clean, otherwise row by row with each row's errors."""
        wanted: set[str] = set()
        for _, cells in batch:
            if not isinstance(cells, str) and (key := cells[8]):
                wanted.add(key)
        self._load_customers(wanted)
        # After a batch that found stored tickets the next one likely updates too, and its rows are
        # merged one by one with what is stored: parsing them row by row is then the cheaper way
        # (measured: columns turned into row objects made unchanged re-imports 20% slower).
        if self.columnar and not self.updating and (columns := self._prepare_columns(batch)) is not None:
            return columns
        return self._prepare_rows(batch, failed)

    def _prepare_columns(self, batch: list[RawRow]) -> ColumnBatch | None:
        """The batch parsed a column at a time, or None if any cell needs the row path (an error to
        report, a reader error, a value the column checks don't cover such as "2025/3/3 8:40").

        Each check and lookup is one C-level pass over a column (map, set, a regex over the joined
        column), where the row path runs some 20 Python-level steps per row: on a clean file this
        is most of the import's Python time saved. It yields exactly what _prepare_rows would."""
        cells = [c for _, c in batch]
        if not cells or str in set(map(type, cells)):
            return None  # a row the reader could not split into cells
        try:
            batch_columns = self._columns(cells)  # type: ignore[arg-type]
        except _RowPath:
            return None
        rows = [r for r, _ in batch]
        self.seen.update(zip(batch_columns.external_ids, rows, strict=True))
        batch_columns.rows = rows
        self._merge_new(batch_columns)
        return batch_columns

    def _columns(self, cells: list[list[str | None]]) -> ColumnBatch:
        (ext, subj, desc, typ, chan, prio, status, cat, cust, prod, comp, team, assignee, region,
         *times) = zip(*cells, strict=True)  # fmt: skip
        externals = set(ext)
        if len(externals) != len(ext) or "" in externals or max(map(len, ext)) > 100:
            raise _RowPath
        if not self.seen.keys().isdisjoint(externals):
            raise _RowPath
        n = len(ext)
        product_ids = _lookup(prod, self.products)
        component_ids: list[Any] | Missing = MISSING
        if comp[0] is not None:
            if product_ids is MISSING:
                if any(comp):
                    raise _RowPath  # needs product_code in the same row
                component_ids = [None] * n
            else:
                components = self.components
                pairs: Iterable[tuple[Any, str]] = zip(product_ids, comp, strict=True)
                component_ids = _found([components.get((p, c)) if c else None for p, c in pairs], comp)
        users = _lookup(assignee, self.users)
        assignee_ids: list[Any] | Missing = MISSING
        if users is not MISSING:
            if any(u is not None and (u[1] not in ASSIGNABLE or not u[2]) for u in users):
                raise _RowPath  # a wrong role or a deactivated user
            assignee_ids = [u[0] if u is not None else None for u in users]
        customers = _lookup(cust, self.customers)
        customer_ids: list[Any] | Missing = MISSING
        customer_regions: list[int | None] = [None] * n
        if customers is not MISSING:
            customer_ids = [h[0] if h is not None else None for h in customers]
            customer_regions = [h[1] if h is not None else None for h in customers]
        columns: list[list[Any] | Missing] = [
            _texts(subj, 500),
            _texts(desc, MAX_TEXT),
            # Enums by their exact aliases; another spelling ("REPAIR") takes the row path (``choice``).
            _lookup(typ, TYPE_ALIASES),
            _lookup(chan, CHANNEL_ALIASES),
            _lookup(prio, PRIORITY_ALIASES),
            _lookup(status, STATUS_ALIASES),
            _texts(cat, 100),
            customer_ids,
            product_ids,
            component_ids,
            _lookup(team, self.teams),
            assignee_ids,
            _lookup(region, self.regions),
            *(self._times(col) for col in times),
        ]
        return ColumnBatch([], list(ext), columns, customer_regions)

    def _times(self, raw: tuple[str | None, ...]) -> list[Any] | Missing:
        """A timestamp column as TimeParser would give it."""
        if raw[0] is None:
            return MISSING
        ts = self.ts
        if ts.out == "sqlite":
            joined = "\n".join(raw)  # type: ignore[arg-type]
            # One newline per gap between cells: no cell holds a newline of its own.
            if joined.count("\n") == len(raw) - 1 and _LOCAL_SECONDS_COLUMN.fullmatch(joined):
                hours = ts.local_hours({v[:13] for v in raw if v})
                if hours is None:
                    raise _RowPath
                return [hours[v[:13]] + v[13:] + ".000000" if v else None for v in raw]
        errs: Errors = []
        values = [ts(v, "", errs) for v in raw]
        if errs:
            raise _RowPath
        return values

    def _prepare_rows(self, batch: list[RawRow], failed: list[tuple[int, Errors]]) -> list[Prepared]:
        """Parse and check each row on its own."""
        out: list[Prepared] = []
        seen = self.seen
        customers, products, components = self.customers, self.products, self.components
        teams, users, regions = self.teams, self.users, self.regions
        ts = self.ts
        source = self.ctx.source
        for row, cells in batch:
            if isinstance(cells, str):
                failed.append((row, [(None, cells)]))
                continue
            errs: Errors = []
            (ext, subj, desc, typ, chan, prio, status, cat, cust, prod, comp, team, assignee, region,
             c_at, fr_at, frs_at, r_at, cl_at) = cells  # fmt: skip
            if not ext:
                errs.append(("external_id", "required"))
                ext = ""
            elif len(ext) > 100:
                errs.append(("external_id", "longer than 100 characters"))
            else:
                first = seen.get(ext)
                if first is None:
                    seen[ext] = row
                else:
                    errs.append(("external_id", f"duplicate in this file (first in row {first})"))
            if subj is None:
                subject: str | Missing | None = MISSING
            elif len(subj) > 500:
                errs.append(("subject", f"longer than 500 characters ({len(subj)})"))
                subject = None
            else:
                subject = subj or None
            if desc is None:
                description: str | Missing | None = MISSING
            elif len(desc) > MAX_TEXT:
                errs.append(("description", f"longer than {MAX_TEXT} characters ({len(desc)})"))
                description = None
            else:
                description = desc or None
            customer_id: int | Missing | None = MISSING
            customer_region = None
            if cust is not None:
                customer_id = None
                if cust:
                    hit = customers.get(cust)
                    if hit is None:
                        errs.append(
                            (
                                "customer_external_id",
                                f"no customer '{cust}' from source '{source}'; import the customers first",
                            )
                        )
                    else:
                        customer_id, customer_region = hit
            product_id: int | Missing | None = MISSING if prod is None else None
            if prod:
                product_id = products.get(prod)
                if product_id is None:
                    errs.append(("product_code", f"unknown product '{prod}'"))
            component_id: int | Missing | None = MISSING if comp is None else None
            if comp:
                if not prod:
                    errs.append(("component_code", "needs product_code in the same row"))
                elif product_id is not None:
                    component_id = components.get((product_id, comp))  # type: ignore[arg-type]
                    if component_id is None:
                        errs.append(("component_code", f"product '{prod}' has no component '{comp}'"))
            team_id: int | Missing | None = MISSING if team is None else None
            if team:
                team_id = teams.get(team)
                if team_id is None:
                    errs.append(("team", f"unknown team '{team}'"))
            assignee_id: int | Missing | None = MISSING if assignee is None else None
            inactive = None
            if assignee:
                user = users.get(assignee)
                if user is None:
                    errs.append(("assignee", f"unknown user '{assignee}'"))
                elif user[1] not in ASSIGNABLE:
                    errs.append(("assignee", f"'{assignee}' is a {user[1]}; assign agents, engineers or supervisors"))
                else:
                    assignee_id = user[0]
                    if not user[2]:
                        inactive = assignee
            region_id: int | Missing | None = MISSING if region is None else None
            if region:
                region_id = regions.get(region)
                if region_id is None:
                    errs.append(("region", f"unknown region '{region}'"))
            values = [
                subject,
                description,
                choice(typ, "type", errs, TYPE_ALIASES),
                choice(chan, "channel", errs, CHANNEL_ALIASES),
                choice(prio, "priority", errs, PRIORITY_ALIASES),
                choice(status, "status", errs, STATUS_ALIASES),
                text(cat, "category", errs, 100),
                customer_id,
                product_id,
                component_id,
                team_id,
                assignee_id,
                region_id,
                ts(c_at, "created_at", errs),
                ts(fr_at, "first_response_at", errs),
                ts(frs_at, "first_resolved_at", errs),
                ts(r_at, "resolved_at", errs),
                ts(cl_at, "closed_at", errs),
            ]
            if errs:
                failed.append((row, errs))
            else:
                out.append(Prepared(row, ext, values, customer_region, inactive))
        return out

    # ------------------------------------------------------------------ write (in the transaction)

    def _existing(self, conn: Connection, keys: list[str]) -> dict[str, tuple[Any, ...]]:
        """Stored tickets of this batch: (id, version, is_deleted, merged_into_id, visible, [FIELDS])."""
        ctx = self.ctx
        visible = true() if ctx.subject.sees_everything else scope_clause(ctx.subject)
        cols = (
            Ticket.external_id,
            Ticket.id,
            Ticket.version,
            Ticket.is_deleted,
            Ticket.merged_into_id,
            visible.label("visible"),
            *(
                type_coerce(getattr(Ticket, f), NullType()) if i in TIMES else getattr(Ticket, f)
                for i, f in enumerate(FIELDS)
            ),
        )
        found: dict[str, tuple[Any, ...]] = {}
        for part in chunks(keys):
            where = (Ticket.source == ctx.source, in_keys(Ticket.external_id, part, ctx.is_sqlite))
            if ctx.is_sqlite:
                # The whole answer as ONE row of JSON: fetching 5,000 rows would step SQLite (and
                # hand over the GIL) 5,000 times. Timestamps come back as their stored text.
                stored = conn.execute(select(func.json_group_array(func.json_array(*cols))).where(*where)).scalar()
                rows: Sequence[Sequence[Any]] = orjson.loads(stored) if stored else []
            else:
                stmt = select(*cols).where(*where)
                rows = conn.execute(stmt if ctx.dry_run else stmt.with_for_update(of=Ticket)).all()
            for r in rows:
                found[r[0]] = (r[1], r[2], r[3], r[4], bool(r[5]), list(r[6:]))
        return found

    def _merge(self, p: Prepared, old: list[Any] | None) -> tuple[list[Any], Errors]:
        """The row as it would be stored, and what is wrong with it as a whole."""
        v = p.values
        errs: Errors = []
        if old is None:
            m = [None if x is MISSING else x for x in v]
            if m[SUBJECT] is None:
                errs.append(("subject", "required for a new ticket"))
            if m[TYPE] is None:
                errs.append(("type", "required for a new ticket"))
            if m[DESCRIPTION] is None:
                m[DESCRIPTION] = ""
            if m[CHANNEL] is None:
                m[CHANNEL] = Channel.web.value
            if m[PRIORITY] is None:
                m[PRIORITY] = Priority.normal.value
            if m[STATUS] is None:
                m[STATUS] = TicketStatus.new.value
            if m[CREATED] is None:
                m[CREATED] = self.now
        else:
            m = list(v) if MISSING not in v else [o if x is MISSING else x for x, o in zip(v, old, strict=True)]
            for i in NOT_NULL:
                if m[i] is None:
                    m[i] = old[i]
        if m[REGION] is None and p.customer_region is not None:
            m[REGION] = p.customer_region  # like the API: a ticket sits in its customer's region
        errs += _timeline_errors(
            m[STATUS], m[CREATED], m[FIRST_RESPONSE], m[FIRST_RESOLVED], m[RESOLVED], m[CLOSED], m[ASSIGNEE]
        )
        status, first_resolved, resolved = m[STATUS], m[FIRST_RESOLVED], m[RESOLVED]
        if p.assignee_inactive and status in OPEN:
            errs.append(("assignee", f"'{p.assignee_inactive}' is deactivated; an open ticket needs an active user"))
        if first_resolved is None and resolved is not None:
            m[FIRST_RESOLVED] = resolved  # a resolved ticket was first resolved then, unless told otherwise
        return m, errs

    def _merge_new(self, batch: ColumnBatch) -> None:
        """The batch as new tickets, merged column by column (in ``prepare``, off the writer thread):
        the defaults and checks of ``_merge`` for tickets that do not exist yet. Leaves
        ``batch.new_tickets`` None if a row breaks a rule: the row path then reports that row."""
        n = len(batch)
        cols = batch.columns
        subject, type_ = cols[SUBJECT], cols[TYPE]
        if subject is MISSING or type_ is MISSING or None in subject or None in type_:
            return  # required for a new ticket
        status = _filled(cols[STATUS], TicketStatus.new.value, n)
        created = _filled(cols[CREATED], self.now, n)
        assignee = _filled(cols[ASSIGNEE], None, n)
        first_response, first_resolved, resolved, closed = (
            _filled(cols[i], None, n) for i in (FIRST_RESPONSE, FIRST_RESOLVED, RESOLVED, CLOSED)
        )
        if any(map(_timeline_errors, status, created, first_response, first_resolved, resolved, closed, assignee)):
            return
        if None in first_resolved:
            first_resolved = [f if f is not None else r for f, r in zip(first_resolved, resolved, strict=True)]
        region = cols[REGION]
        if region is MISSING or None in region:
            own = _filled(region, None, n)
            region = [r if r is not None else c for r, c in zip(own, batch.customer_regions, strict=True)]
        category, customer, product, component, team = (
            _filled(cols[i], None, n) for i in (CATEGORY, CUSTOMER, PRODUCT, COMPONENT, TEAM)
        )
        batch.new_tickets = [
            batch.external_ids,
            [self.ctx.source] * n,
            subject,
            _filled(cols[DESCRIPTION], "", n),
            type_,
            _filled(cols[CHANNEL], Channel.web.value, n),
            _filled(cols[PRIORITY], Priority.normal.value, n),
            status,
            category,
            customer,
            product,
            component,
            team,
            assignee,
            region,
            created,
            first_response,
            first_resolved,
            resolved,
            closed,
            [self.now] * n,
        ]
        references = (customer, product, component, team, assignee, region)  # in _REFERENCES order
        batch.references = {i: set(ids) for i, ids in zip(_REFERENCES, references, strict=True)}
        batch.sla_dirty = not OPEN.isdisjoint(status)

    def _create(self, conn: Connection, batch: ColumnBatch) -> BatchOutcome:
        """Write ``batch.new_tickets`` (none of them exists)."""
        assert batch.new_tickets is not None
        outcome = BatchOutcome(created=len(batch), sla_dirty=batch.sla_dirty)
        if self.ctx.dry_run:
            return outcome
        next_id = self._next_id(conn)
        self._check_references(conn, batch.references)
        self._insert_new(conn, [range(next_id, next_id + len(batch)), *batch.new_tickets], self.now)
        return outcome

    def _check_references(self, conn: Connection, referenced: dict[int, set[Any]]) -> None:
        """Every id the batch writes into a reference column exists. On SQLite this replaces the
        per-row foreign-key checks (``checks_references``): one query per referenced table instead
        of six lookups per ticket. The ids were looked up when the batch was parsed; this catches a
        row deleted since, and the batch is then retried and refused like a foreign-key error."""
        if not self.ctx.is_sqlite:
            return  # PostgreSQL checks the foreign keys itself
        checked: list[tuple[int, list[Any]]] = []
        for index, used in referenced.items():
            used.discard(None)
            if used:
                checked.append((index, list(used)))
        if not checked:
            return
        # One statement for all tables: each return from SQLite waits for the GIL (engine.run).
        counts = (
            f"(SELECT count(*) FROM {_REFERENCES[index]} WHERE id IN (SELECT value FROM json_each(?)))"
            for index, _ in checked
        )
        found = conn.exec_driver_sql(
            f"SELECT {', '.join(counts)}", tuple(orjson.dumps(ids).decode() for _, ids in checked)
        ).one()
        for (index, ids), count in zip(checked, found, strict=True):
            if count != len(ids):
                orig = sqlite3.IntegrityError("FOREIGN KEY constraint failed")
                raise IntegrityError(f"tickets.{FIELDS[index]} → {_REFERENCES[index]}", None, orig)

    def writes_in_sqlite(self, prepared: list[Prepared] | ColumnBatch) -> bool:
        """New tickets from columns are written by SQLite alone; other batches are merged row by row
        in Python in the writer thread (engine.writes_in_sqlite)."""
        return isinstance(prepared, ColumnBatch) and prepared.new_tickets is not None

    def _create_unless_stored(self, conn: Connection, batch: ColumnBatch) -> BatchOutcome | None:
        """SQLite: insert the batch as new tickets without looking its keys up first. The unique
        (source, external_id) index refuses a key that is stored already; everything the attempt
        wrote is then undone to a savepoint and None returned, for the lookup-first path. A fresh
        import's batches skip a 10,000-key lookup in the writer thread this way."""
        conn.exec_driver_sql("SAVEPOINT new_tickets")
        try:
            outcome = self._create(conn, batch)
        except IntegrityError:
            conn.exec_driver_sql("ROLLBACK TO new_tickets")
            conn.exec_driver_sql("RELEASE new_tickets")
            return None  # a stored ticket (or a vanished reference: the next path raises it again)
        conn.exec_driver_sql("RELEASE new_tickets")
        return outcome

    def _next_id(self, conn: Connection) -> int:
        """SQLite: the write lock (BEGIN IMMEDIATE) is held, so the ids after max(id) are ours to use."""
        if self.ctx.is_sqlite and not self.ctx.dry_run:
            return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) + 1 FROM tickets").scalar_one())
        return 0

    def write(self, conn: Connection, prepared: list[Prepared] | ColumnBatch) -> BatchOutcome:
        ctx = self.ctx
        if isinstance(prepared, ColumnBatch):
            if prepared.new_tickets is not None and ctx.is_sqlite and not ctx.dry_run:
                created = self._create_unless_stored(conn, prepared)
                if created is not None:
                    self.updating = False
                    return created
            existing = self._existing(conn, prepared.external_ids)
            self.updating = bool(existing)
            if not existing and prepared.new_tickets is not None:
                return self._create(conn, prepared)
            prepared = prepared.prepared()
        else:
            existing = self._existing(conn, [p.external_id for p in prepared]) if prepared else {}
            self.updating = bool(existing)
        outcome = BatchOutcome()
        db_now, source = self.now, ctx.source
        next_id = self._next_id(conn)
        new_rows: list[tuple[Any, ...]] = []
        actor = ctx.subject.user_id
        updates: dict[tuple[int, ...], list[dict[str, Any]]] = {}
        update_events: list[tuple[Any, ...]] = []
        for p in prepared:
            stored = existing.get(p.external_id)
            m, errs = self._merge(p, stored[5] if stored else None)
            if errs:
                outcome.failed.append((p.row, errs))
                continue
            if stored is None:
                outcome.created += 1
                outcome.sla_dirty = outcome.sla_dirty or m[STATUS] in OPEN
                new_rows.append((next_id, p.external_id, source, *m, db_now))
                next_id += 1
                continue
            tid, version, deleted, merged_into, visible, old = stored
            # Whole-list equality runs in C; most rows of a nightly re-sync are unchanged.
            changed = () if m == old else tuple([i for i, a, b in zip(_INDEXES, old, m, strict=True) if a != b])
            refusal = _refusal(tid, deleted, merged_into, visible, old[STATUS], bool(changed))
            if refusal:
                outcome.failed.append((p.row, [refusal]))
                continue
            if not changed:
                outcome.unchanged += 1
                continue
            outcome.updated += 1
            outcome.sla_dirty = outcome.sla_dirty or m[STATUS] in OPEN or old[STATUS] in OPEN
            # SET only the changed columns (rows grouped by which ones): SQLite then leaves the
            # indexes of unchanged columns alone, which nightly re-syncs with few edits rely on.
            params = {FIELDS[i]: m[i] for i in changed}
            params.update(b_id=tid, updated_at=db_now, version=version + 1)
            updates.setdefault(changed, []).append(params)
            changes = {FIELDS[i]: _change(i, old[i], m[i]) for i in changed}
            update_events.append(
                (
                    tid,
                    EventKind.updated.value,
                    actor,
                    db_now,
                    None,
                    None,
                    orjson.dumps({"source": source, "changes": changes}).decode(),
                )
            )
        if ctx.dry_run:
            return outcome
        referenced = {i: {r[3 + i] for r in new_rows} for i in _REFERENCES}
        for group in updates.values():
            for i, ids in referenced.items():
                ids.update(params[FIELDS[i]] for params in group if FIELDS[i] in params)
        self._check_references(conn, referenced)
        if new_rows:
            self._insert_new(conn, list(zip(*new_rows, strict=True)), db_now)
        for changed_columns, group in updates.items():
            self._update(conn, changed_columns, group)
        if update_events:
            self._insert_events(conn, update_events)
        return outcome

    def _update(self, conn: Connection, changed: tuple[int, ...], group: list[dict[str, Any]]) -> None:
        """Rows that changed the same columns: UPDATE … FROM (VALUES …) on SQLite (see sqlite_values)."""
        if not self.ctx.is_sqlite:
            conn.execute(_UPDATE_TICKETS, group)
            return
        names = [FIELDS[i] for i in changed] + ["updated_at", "version"]
        sets = ", ".join(f"{n} = v.column{k}" for k, n in enumerate(names, start=2))
        columns = [[p["b_id"] for p in group], *([p[n] for p in group] for n in names)]
        row = f"({', '.join('?' * len(columns))})"
        sqlite_values(
            conn, f"UPDATE tickets SET {sets} FROM (VALUES ", row, columns, ") AS v WHERE tickets.id = v.column1"
        )

    def _insert_events(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Event rows as tuples in _EVENT_COLUMNS order."""
        if self.ctx.is_sqlite:
            sqlite_values(conn, _SQLITE_EVENTS_HEAD, _SQLITE_EVENT_ROW, list(zip(*rows, strict=True)))
        else:
            conn.execute(_INSERT_EVENTS, [dict(zip(_EVENT_COLUMNS, r, strict=True)) for r in rows])

    def _insert_new(self, conn: Connection, columns: Sequence[Sequence[Any]], at: Any) -> None:
        """New tickets and their ``imported`` events; ``columns`` holds the ids, then the
        _INSERT_COLUMNS.

        SQLite (measured fastest, see bench/bench_import.py): the columns with pre-assigned ids go
        straight to the driver as multi-row VALUES — SQLAlchemy's per-row parameter processing
        cost more than SQLite's own insert — and one INSERT … SELECT copies the id range into
        ticket_events inside SQLite, so the events cost no Python per row. PostgreSQL: a Core
        insert with RETURNING (insertmanyvalues) gives the ids; the events follow by executemany."""
        actor, kind = self.ctx.subject.user_id, EventKind.imported.value
        if self.ctx.is_sqlite:
            ids = columns[0]
            sqlite_values(conn, _SQLITE_INSERT_HEAD, _SQLITE_INSERT_ROW, columns)
            conn.exec_driver_sql(_SQLITE_EVENTS, (kind, actor, at, self.event_data, ids[0], ids[-1]))
            return
        params = [dict(zip(_INSERT_COLUMNS, r, strict=True)) for r in zip(*columns[1:], strict=True)]
        returned = conn.execute(_INSERT_TICKETS, params)
        self._insert_events(conn, [(tid, kind, actor, at, None, status, self.event_data) for tid, status in returned])


def _timeline_errors(
    status: str | None,
    created: Any,
    first_response: Any,
    first_resolved: Any,
    resolved: Any,
    closed: Any,
    assignee: Any,
) -> Errors:
    """What is wrong with a ticket's status and timestamps together (timestamps compare as stored)."""
    errs: Errors = []
    if first_response is not None and first_response < created:
        errs.append(("first_response_at", "is earlier than created_at"))
    if first_resolved is not None and first_resolved < created:
        errs.append(("first_resolved_at", "is earlier than created_at"))
    if resolved is not None:
        if resolved < created:
            errs.append(("resolved_at", "is earlier than created_at"))
        elif first_resolved is not None and resolved < first_resolved:
            errs.append(("resolved_at", "is earlier than first_resolved_at"))
        if status in OPEN:
            errs.append(("resolved_at", f"must be empty while status is {status} (a reopened ticket)"))
    elif status == "resolved":
        errs.append(("resolved_at", "required when status is resolved"))
    if closed is not None:
        if status != CLOSED_STATUS:
            errs.append(("closed_at", f"must be empty while status is {status}"))
        if closed < created:
            errs.append(("closed_at", "is earlier than created_at"))
        elif resolved is not None and closed < resolved:
            errs.append(("closed_at", "is earlier than resolved_at"))
    elif status == CLOSED_STATUS:
        errs.append(("closed_at", "required when status is closed"))
    if status == "assigned" and assignee is None:
        errs.append(("assignee", "required when status is assigned"))
    return errs


def _filled(values: list[Any] | Missing, default: Any, n: int) -> list[Any]:
    """A column with ``default`` for its empty cells (all n of them when the file has no such column)."""
    if values is MISSING:
        return [default] * n
    if default is not None and None in values:
        return [default if v is None else v for v in values]
    return values


# A column of "YYYY-MM-DD HH:MM:SS" or empty cells, joined by newlines: one regex pass checks them all.
_LOCAL_SECONDS_COLUMN: Final = re.compile(
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9])?"
    r"(?:\n(?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9])?)*"
)


class _RowPath(Exception):
    """A cell the column path does not take: the batch goes row by row."""


def _texts(raw: tuple[str | None, ...], max_len: int) -> list[str | None] | Missing:
    """A text column as the row path gives it (empty → None)."""
    if raw[0] is None:
        return MISSING
    if max(map(len, raw)) > max_len:  # type: ignore[arg-type]
        raise _RowPath
    return [v or None for v in raw]


def _lookup(raw: tuple[Any, ...], mapping: Mapping[Any, T]) -> list[T | None] | Missing:
    """Cells → mapping values; an empty cell gives None, a non-empty one must be in the mapping."""
    if raw[0] is None:
        return MISSING
    return _found(list(map(mapping.get, raw)), raw)


def _found(found: list[T | None], cells: Sequence[Any]) -> list[T | None]:
    """``found`` if it has a value for each non-empty cell."""
    if None in found and any(c for c, f in zip(cells, found, strict=True) if f is None):
        raise _RowPath
    return found


def _refusal(
    tid: int, deleted: bool, merged_into: int | None, visible: bool, status: str, changed: bool
) -> tuple[str, str] | None:
    """Why a stored ticket may not take this row (None: it may)."""
    if not visible:
        return "external_id", f"ticket {tid} exists but is outside your data scope"
    if deleted:
        return "external_id", f"ticket {tid} was deleted in servicelens"
    if changed and merged_into is not None:
        return "external_id", f"ticket {tid} was merged into ticket {merged_into}"
    if changed and status == CLOSED_STATUS:
        return "status", f"ticket {tid} is closed; closed tickets are final (open a follow-up)"
    return None


def _change(index: int, old: Any, new: Any) -> list[Any]:
    """One entry of the ``updated`` event: [old, new], JSON-ready."""
    if index == DESCRIPTION:
        return ["…", "…"]  # like the API: long text stays out of the history
    if index in TIMES:
        return [_iso(old), _iso(new)]
    return [old, new]


def _iso(value: Any) -> str | None:
    """ISO 8601 UTC of a driver timestamp (SQLite text or an aware datetime)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    return str(value).removesuffix(".000000").replace(" ", "T") + "Z"


# ---------------------------------------------------------------------- export

_Cust = aliased(Customer)
_Prod = aliased(Product)
_Comp = aliased(Component)
_Team = aliased(Team)
_User = aliased(User)
_Region = aliased(Region)


def export_query(ctx_subject: Any, filters: TicketFilters) -> RowSelect:
    """The visible tickets as import columns (references by code/name, so an export re-imports)."""
    return (
        select(
            Ticket.external_id,
            Ticket.subject,
            Ticket.description,
            Ticket.type,
            Ticket.channel,
            Ticket.priority,
            Ticket.status,
            Ticket.category,
            _Cust.external_id,
            _Prod.code,
            _Comp.code,
            _Team.name,
            _User.username,
            _Region.code,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.first_resolved_at,
            Ticket.resolved_at,
            Ticket.closed_at,
        )
        .select_from(Ticket)
        .outerjoin(_Cust, _Cust.id == Ticket.customer_id)
        .outerjoin(_Prod, _Prod.id == Ticket.product_id)
        .outerjoin(_Comp, _Comp.id == Ticket.component_id)
        .outerjoin(_Team, _Team.id == Ticket.team_id)
        .outerjoin(_User, _User.id == Ticket.assignee_id)
        .outerjoin(_Region, _Region.id == Ticket.region_id)
        .where(and_(scope_clause(ctx_subject), *filters.clauses()))
        .order_by(Ticket.id)
    )
