"""Deterministic demo data: a Chinese home-appliance after-sales company ("澜图电器").

``generate(db, tickets=…, seed=…, days=…, console=…)`` fills a migrated database with eight regions,
their teams and staff, a product catalogue with components, CRM customers and ``tickets`` tickets
spread over ``days`` days up to today's 00:00 UTC (08:00 Beijing time, so the overnight backlog is
waiting when the demo opens), each with a full event history and comments.

Design notes (the *why*):

* Determinism: every random draw comes from ``random.Random`` instances seeded from ``seed`` (one
  per phase, so reusing existing organisation rows does not shift the ticket stream). The only
  other input is the anchor date, so a seed gives the same data on the same day.
* Lifecycles are simulated with the rules of ``servicelens.tickets.service`` (status machine,
  events and their data, first response = first public agent reply, a customer reply moves a
  pending or resolved ticket back to in_progress, merge and follow-up events). The simulation stops
  at the anchor, so recent tickets are left open in whatever state they had reached.
* Speed: ids are pre-assigned (read max(id) first) and rows written with ``executemany`` in
  batches of ``BATCH`` tickets, one transaction per batch (bounded memory and a bounded SQLite
  WAL). The small tables go through Core ``insert()``; tickets, events and comments go straight
  to the driver with values pre-converted (see ``_bulk``). PostgreSQL sequences are moved past
  the explicit ids afterwards.
* Idempotency: organisation, catalogue and customers are get-or-create by natural key (region code,
  team name, username, product code, CRM external id), so a database holding only the admin of
  ``servicelens init`` is completed and that admin kept. Tickets are generated only when the
  database has no demo tickets yet (``source = 'demo'``); otherwise everything is reused.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from bisect import bisect, insort
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, NamedTuple

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Connection, Table, and_, delete, func, select, text, update

import servicelens.models  # noqa: F401  (registers every table on the metadata)
from servicelens.core import clock
from servicelens.core.db import Base, Database
from servicelens.core.security import hash_password
from servicelens.demo import data as D
from servicelens.tickets.models import EventKind, TicketStatus
from servicelens.tickets.service import TRANSITIONS

__all__ = ["BATCH", "DEMO_SOURCE", "KNOWN_LOGINS", "ROLE_PASSWORDS", "DemoLogin", "DemoResult", "generate"]

BATCH: Final = 5_000  # tickets per insert batch / transaction
DEMO_SOURCE: Final = "demo"  # tickets.source of generated tickets: the "already generated" marker
FOLLOWUP_SOURCE: Final = "followup"  # what servicelens.tickets.service.create_followup sets
CRM_SOURCE: Final = "crm"

DAY: Final = 86_400
HOUR: Final = 3_600
MINUTE: Final = 60
TZ: Final = 8 * HOUR  # Beijing time; HK, Macao and Taiwan share the offset and there is no DST
OPEN: Final = 9 * HOUR  # service desk hours, local: Mon–Sat 09:00–18:00
CLOSE: Final = 18 * HOUR
AUTO_CLOSE: Final = 72 * HOUR  # a resolved ticket closes itself after three quiet days

S = TicketStatus
K = EventKind
# Plain-string copies of the enums for the hot path: enum attribute access and TicketStatus(...)
# calls are measurable at millions of events.
NEW, ASSIGNED, IN_PROGRESS = S.new.value, S.assigned.value, S.in_progress.value
PENDING, ON_HOLD, RESOLVED, CLOSED = S.pending_customer.value, S.on_hold.value, S.resolved.value, S.closed.value
ALLOWED: Final[dict[str, frozenset[str]]] = {str(k): frozenset(str(v) for v in to) for k, to in TRANSITIONS.items()}


class E:
    """EventKind values as plain strings (see above)."""

    created = K.created.value
    assigned = K.assigned.value
    status_changed = K.status_changed.value
    reopened = K.reopened.value
    replied = K.replied.value
    commented = K.commented.value
    flagged = K.flagged.value
    merged = K.merged.value
    merged_into = K.merged_into.value
    updated = K.updated.value
    followup_created = K.followup_created.value


# Passwords of the role patterns; every generated user of a role shares it (demo only!).
ROLE_PASSWORDS: Final[dict[str, str]] = {
    "admin": "admin12345",
    "supervisor": "super12345",
    "agent": "agent12345",
    "engineer": "engineer12345",
    "analyst": "analyst12345",
    "sales": "sales12345",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    what_zh: str
    what_en: str
    existed: bool = False  # the user was already there: its password was left unchanged


KNOWN_LOGINS: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("admin", "admin", "管理员", "administrator"),
    ("supervisor1", "supervisor", "华东售后主管", "supervisor of East after-sales"),
    ("agent1", "agent", "华东售后坐席", "agent in East after-sales"),
    ("engineer1", "engineer", "华东上门工程师", "field engineer, East"),
    ("analyst1", "analyst", "质量分析师", "quality analyst"),
    ("sales1", "sales", "华东大客户销售", "key-account sales, East"),
)


@dataclass
class DemoResult:
    """What ``generate`` did; counts are of the demo data (of the whole database when reused)."""

    reused: bool
    seed: int
    days: int
    anchor: datetime
    regions: int = 0
    teams: int = 0
    users: int = 0
    agents: int = 0
    engineers: int = 0
    customers: int = 0
    vip_customers: int = 0
    contacts: int = 0
    products: int = 0
    components: int = 0
    tickets: int = 0
    open_tickets: int = 0
    merged_tickets: int = 0
    followup_tickets: int = 0
    reopened_tickets: int = 0
    red_flagged: int = 0
    spam_tickets: int = 0
    events: int = 0
    comments: int = 0
    seconds: float = 0.0
    logins: tuple[DemoLogin, ...] = ()

    def summary(self) -> str:
        """Human summary, zh + en; lines stay under 80 terminal cells (CJK count double)."""
        head = (
            "已有演示数据，直接复用 / Existing demo data reused (nothing changed)"
            if self.reused
            else f"演示数据已生成 / Demo data generated in {self.seconds:.1f} s"
        )
        lines = [
            head,
            f"  种子 seed {self.seed} · {self.days} 天 days · 截至 until {self.anchor:%Y-%m-%d %H:%M} UTC",
            f"  区域 regions {self.regions} · 团队 teams {self.teams} · 用户 users {self.users}",
            f"  坐席 agents {self.agents} · 工程师 engineers {self.engineers}",
            f"  客户 customers {self.customers:,} (VIP {self.vip_customers:,}) · 联系人 contacts {self.contacts:,}",
            f"  产品 products {self.products} · 部件 components {self.components}",
            f"  工单 tickets {self.tickets:,} · 未结 open {self.open_tickets:,} · 红色 red {self.red_flagged:,}",
            f"  合并 merged {self.merged_tickets:,} · 跟进 follow-ups {self.followup_tickets:,} · "
            f"重开 reopened {self.reopened_tickets:,}",
            f"  事件 events {self.events:,} · 评论 comments {self.comments:,} · 垃圾 spam {self.spam_tickets:,}",
            "登录 Logins (用户名 / 密码 username / password):",
        ]
        for lg in self.logins:
            lines.append(f"  {lg.username:<12} {lg.password:<14} {lg.what_zh} / {lg.what_en}")
            if lg.existed:
                lines.append("    ↳ 已存在，密码未改 / existed before: password unchanged")
        lines.append("  其他用户同角色密码 / others share their role's password: agent7 / agent12345")
        return "\n".join(lines)


# ---------------------------------------------------------------- small helpers


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _local_date(ts: int) -> date:
    return datetime.fromtimestamp(ts + TZ, UTC).date()


def _work_time(t: int) -> int:
    """Earliest instant ≥ t inside desk hours (Mon–Sat 09:00–18:00 Beijing time)."""
    day, sec = divmod(t + TZ, DAY)
    if (day + 3) % 7 == 6:  # epoch day 0 was a Thursday; 6 = Sunday
        return (day + 1) * DAY + OPEN - TZ
    if sec < OPEN:
        return day * DAY + OPEN - TZ
    if sec >= CLOSE:
        day += 2 if (day + 4) % 7 == 6 else 1
        return day * DAY + OPEN - TZ
    return t


def _add_work(t: int, seconds: float) -> int:
    """``t`` plus ``seconds`` of desk time: agents work in office hours, so do their delays."""
    left = max(0, int(seconds))
    t = _work_time(t)
    while True:
        close = ((t + TZ) // DAY) * DAY + CLOSE - TZ
        if t + left < close:
            return t + left
        left -= close - t
        t = _work_time(close)


def _cum(weights: Iterable[float]) -> list[float]:
    out: list[float] = []
    acc = 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


def _next_ids(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """First free id per table: we write explicit ids, so we read where the data ends first."""
    return {n: int(conn.execute(select(func.max(_table(n).c.id))).scalar() or 0) + 1 for n in names}


def _reset_sequences(conn: Connection, names: Iterable[str]) -> None:
    """After explicit ids PostgreSQL's sequences lag behind; move them past max(id)."""
    if conn.dialect.name != "postgresql":
        return
    for n in names:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{n}', 'id'), COALESCE((SELECT MAX(id) FROM {n}), 0) + 1, false)"
            )
        )


def _insert(conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_table(name).insert(), rows)


def _sqlite_ts(ts: int) -> str:
    """What UTCDateTime + SQLite's DATETIME store for a UTC instant (naive, microseconds always
    written, so string comparisons against bound parameters stay exact)."""
    day, sec = divmod(ts, DAY)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:  # a few hundred distinct days: format each once
        prefix = _DAY_PREFIX[day] = time.strftime("%Y-%m-%d ", time.gmtime(day * DAY))
    h, rest = divmod(sec, HOUR)
    m, s = divmod(rest, MINUTE)
    return f"{prefix}{h:02d}:{m:02d}:{s:02d}.000000"


_DAY_PREFIX: dict[int, str] = {}


def _bulk(conn: Connection, name: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """executemany straight to the driver: SQLAlchemy's per-value bind processing costs more than
    the insert itself at millions of rows, so values arrive already converted (timestamps via
    ``_sqlite_ts`` or aware datetimes, JSON as text, which PostgreSQL casts from the untyped literal)."""
    if not rows:
        return
    table = _table(name)
    # The schema may grow nullable columns (left NULL here); anything else must fail loudly.
    unknown = set(cols) - set(table.c.keys())
    required = {c.name for c in table.c if not c.nullable and c.server_default is None} - set(cols)
    if unknown or required:
        raise RuntimeError(f"demo generator is out of date with table {name}: {sorted(unknown | required)}")
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    names = ", ".join('"' + c + '"' for c in cols)
    marks = ", ".join(mark for _ in cols)
    sql = f"INSERT INTO {name} ({names}) VALUES ({marks})"
    conn.exec_driver_sql(sql, rows)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


# ---------------------------------------------------------------- people


class _Person(NamedTuple):
    name: str
    surname: str
    pinyin: str  # "given.surname" for mailbox names


class _Names:
    """Chinese names drawn with real surname frequencies."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cum = _cum(w for _, _, w in D.SURNAMES)

    def person(self) -> _Person:
        r = self.rng
        sur, sur_py, _ = D.SURNAMES[bisect(self.cum, r.random() * self.cum[-1])]
        n = 2 if r.random() < 0.55 else 1
        given = [D.GIVEN_CHARS[r.randrange(len(D.GIVEN_CHARS))] for _ in range(n)]
        return _Person(sur + "".join(g for g, _ in given), sur, "".join(p for _, p in given) + "." + sur_py)

    def phone(self, city: str) -> str:
        r = self.rng
        if city == "香港":
            return f"+852 {r.choice('569')}{r.randrange(10**6, 10**7):07d}"
        if city == "澳门":
            return f"+853 6{r.randrange(10**6, 10**7):07d}"
        if city in ("台北", "高雄"):
            return f"+886 9{r.randrange(10**7, 10**8):08d}"
        return r.choice(D.CN_MOBILE_PREFIXES) + f"{r.randrange(10**8):08d}"


# ---------------------------------------------------------------- organisation


@dataclass
class _Staff:
    id: int
    username: str
    name: str  # display name, as customers see it in replies
    role: str
    team_id: int | None
    region: int | None  # index into D.REGIONS
    skills: tuple[str, ...] = ()
    speed: float = 1.0  # response-time multiplier: some agents are slower (rankings need spread)
    care: float = 1.0  # reopen-probability multiplier: some close too early (suspected false closure)


@dataclass
class _RegionOrg:
    spec: D.RegionSpec
    id: int = 0
    service_team: int = 0  # 售后: repairs, returns, complaints
    cs_team: int = 0  # 客服: inquiries, suggestions, phone intake
    service_agents: list[_Staff] = field(default_factory=list)
    engineers: list[_Staff] = field(default_factory=list)
    cs_agents: list[_Staff] = field(default_factory=list)
    service_supervisor: _Staff | None = None
    cs_supervisor: _Staff | None = None
    manager: _Staff | None = None
    sales: list[_Staff] = field(default_factory=list)
    by_skill: dict[str, list[_Staff]] = field(default_factory=dict)


@dataclass
class _Org:
    regions: list[_RegionOrg]
    users: int
    agents: int
    engineers: int
    teams: int
    logins: tuple[DemoLogin, ...]


class _UserSpec(NamedTuple):
    username: str
    display_name: str
    role: str
    team: int | None  # index: 2*region (售后) or 2*region+1 (客服)
    region: int | None
    skills: tuple[str, ...]
    lat: float | None
    lng: float | None
    phone: str


def _staff_scale(tickets: int, days: int) -> float:
    """Staff grows with the yearly volume so per-agent workloads stay plausible."""
    return max(1.0, tickets * 365 / max(days, 1) / 25_000)


def _user_specs(rng: random.Random, scale: float) -> list[_UserSpec]:
    names = _Names(rng)
    specs: list[_UserSpec] = []
    counter: dict[str, int] = {}

    def add(role: str, team: int | None, region: int | None, skills: tuple[str, ...] = ()) -> None:
        counter[role] = counter.get(role, 0) + 1
        username = f"{role}{counter[role]}"  # agent1, agent2 … in creation order
        person = names.person()
        lat = lng = None
        if role == "engineer" and region is not None:
            cities = D.REGIONS[region].cities
            city = cities[bisect(_cum(c.weight for c in cities), rng.random() * sum(c.weight for c in cities))]
            lat, lng = round(city.lat + rng.gauss(0, 0.04), 6), round(city.lng + rng.gauss(0, 0.04), 6)
        city_name = D.REGIONS[region].cities[0].name if region is not None else "上海"
        specs.append(_UserSpec(username, person.name, role, team, region, skills, lat, lng, names.phone(city_name)))

    specs.append(_UserSpec("admin", "系统管理员", "admin", None, None, (), None, None, names.phone("上海")))
    for ri in range(len(D.REGIONS)):
        add("supervisor", 2 * ri, ri)  # supervisor1 = 华东售后
        add("supervisor", 2 * ri + 1, ri)
    for ri, reg in enumerate(D.REGIONS):
        for _ in range(max(2, round(10 * reg.weight * scale))):
            add("agent", 2 * ri, ri)  # agent1 = 华东售后
        for i in range(max(2, round(14 * reg.weight * scale))):
            # Skills rotate so every region covers the common ones; one or two extras on top.
            primary = D.SKILLS[i % len(D.SKILLS)]
            extra = rng.sample([s for s in D.SKILLS if s != primary], rng.choice((1, 1, 2)))
            add("engineer", 2 * ri, ri, (primary, *sorted(extra)))  # engineer1 = 华东售后
        for _ in range(max(2, round(12 * reg.weight * scale))):
            add("agent", 2 * ri + 1, ri)
    for ri, reg in enumerate(D.REGIONS):
        specs.append(
            _UserSpec(
                f"manager_{reg.code}",
                names.person().name,
                "supervisor",
                None,
                ri,
                (),
                None,
                None,
                names.phone("上海"),
            )
        )
    for ri, reg in enumerate(D.REGIONS):
        for _ in range(max(1, round(6 * reg.weight))):
            add("sales", None, ri)  # sales1 = 华东
    for _ in range(3):
        add("analyst", None, None)
    return specs


def _ensure_org(conn: Connection, rng: random.Random, scale: float, now: datetime) -> _Org:
    regions_t, teams_t, users_t = _table("regions"), _table("teams"), _table("users")
    nxt = _next_ids(conn, ("regions", "teams", "users"))

    # Regions (get-or-create by code).
    have_regions = {r.code: r.id for r in conn.execute(select(regions_t.c.code, regions_t.c.id))}
    orgs: list[_RegionOrg] = []
    new_rows: list[dict[str, Any]] = []
    for spec in D.REGIONS:
        rid = have_regions.get(spec.code)
        if rid is None:
            rid = nxt["regions"]
            nxt["regions"] += 1
            new_rows.append(
                {"id": rid, "code": spec.code, "name": spec.name, "name_en": spec.name_en, "manager_id": None}
            )
        orgs.append(_RegionOrg(spec, rid))
    _insert(conn, "regions", new_rows)

    # Teams: 华东售后 / 华东客服 … (get-or-create by name).
    have_teams = {t.name: t.id for t in conn.execute(select(teams_t.c.name, teams_t.c.id))}
    team_ids: list[int] = []
    new_rows = []
    for org in orgs:
        for suffix, en in (("售后", "after-sales"), ("客服", "customer service")):
            name = org.spec.name + suffix
            tid = have_teams.get(name)
            if tid is None:
                tid = nxt["teams"]
                nxt["teams"] += 1
                new_rows.append(
                    {
                        "id": tid,
                        "name": name,
                        "name_en": f"{org.spec.name_en} {en}",
                        "region_id": org.id,
                        "supervisor_id": None,
                    }
                )
            team_ids.append(tid)
        org.service_team, org.cs_team = team_ids[-2], team_ids[-1]
    _insert(conn, "teams", new_rows)

    # Users (get-or-create by username).
    specs = _user_specs(rng, scale)
    have_users = {
        u.username: (u.id, u.role) for u in conn.execute(select(users_t.c.username, users_t.c.id, users_t.c.role))
    }
    # Hash each distinct password once (argon2 is slow on purpose), two at a time: argon2-cffi
    # releases the GIL, but every hash holds 64 MiB, so more would only raise the memory peak.
    needed = sorted({ROLE_PASSWORDS[sp.role] for sp in specs if sp.username not in have_users})
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes = dict(zip(needed, pool.map(hash_password, needed), strict=True))
    new_rows = []
    existed: set[str] = set()
    for sp in specs:
        # Drawn before any skip so the stream (and every later agent's traits) never depends on
        # what the database already held.
        speed, care = math.exp(rng.gauss(0, 0.35)), math.exp(rng.gauss(0, 0.4))
        got = have_users.get(sp.username)
        if got is not None:
            existed.add(sp.username)
            uid, role = got
            if role != sp.role:
                continue  # someone else's account under our name: leave it out of the demo staff
        else:
            uid = nxt["users"]
            nxt["users"] += 1
            pw = ROLE_PASSWORDS[sp.role]
            new_rows.append(
                {
                    "id": uid,
                    "username": sp.username,
                    "display_name": sp.display_name,
                    "email": f"{sp.username}@{D.MAIL_DOMAIN}",
                    "phone": sp.phone,
                    "role": sp.role,
                    "team_id": team_ids[sp.team] if sp.team is not None else None,
                    "region_id": orgs[sp.region].id if sp.region is not None else None,
                    "password_hash": hashes[pw],
                    "is_active": True,
                    "locale": "zh-CN",
                    "skills": list(sp.skills),
                    "base_lat": sp.lat,
                    "base_lng": sp.lng,
                    "created_at": now,
                }
            )
        staff = _Staff(
            uid,
            sp.username,
            sp.display_name,
            sp.role,
            team_ids[sp.team] if sp.team is not None else None,
            sp.region,
            sp.skills,
            speed=speed,
            care=care,
        )
        if sp.region is None:
            continue
        org = orgs[sp.region]
        if sp.role == "supervisor" and sp.team is None:
            org.manager = staff
        elif sp.role == "supervisor" and sp.team is not None:
            if sp.team % 2 == 0:
                org.service_supervisor = staff
            else:
                org.cs_supervisor = staff
        elif sp.role == "engineer":
            org.engineers.append(staff)
            for sk in sp.skills:
                org.by_skill.setdefault(sk, []).append(staff)
        elif sp.role == "agent":
            (org.service_agents if sp.team is not None and sp.team % 2 == 0 else org.cs_agents).append(staff)
        elif sp.role == "sales":
            org.sales.append(staff)
    _insert(conn, "users", new_rows)

    # Team supervisors and regional managers, only where none is set (never overwrite a choice).
    for org in orgs:
        if org.manager is not None:
            conn.execute(
                update(regions_t)
                .where(and_(regions_t.c.id == org.id, regions_t.c.manager_id.is_(None)))
                .values(manager_id=org.manager.id)
            )
        for tid, sup in ((org.service_team, org.service_supervisor), (org.cs_team, org.cs_supervisor)):
            if sup is not None:
                conn.execute(
                    update(teams_t)
                    .where(and_(teams_t.c.id == tid, teams_t.c.supervisor_id.is_(None)))
                    .values(supervisor_id=sup.id)
                )
    for org in orgs:  # a region without agents would make routing impossible; borrow from 华东
        for attr in ("service_agents", "engineers", "cs_agents"):
            if not getattr(org, attr):
                setattr(org, attr, list(getattr(orgs[0], attr)) or [s for o in orgs for s in getattr(o, attr)])
    logins = tuple(
        DemoLogin(u, ROLE_PASSWORDS[role], role, zh, en, existed=u in existed) for u, role, zh, en in KNOWN_LOGINS
    )
    return _Org(
        orgs,
        users=len(specs),
        agents=sum(1 for s in specs if s.role == "agent"),
        engineers=sum(1 for s in specs if s.role == "engineer"),
        teams=len(team_ids),
        logins=logins,
    )


# ---------------------------------------------------------------- catalogue


class _Comp(NamedTuple):
    id: int
    code: str
    name: str
    skill: str


class _Prod(NamedTuple):
    id: int
    spec: D.ProductSpec
    comps: tuple[_Comp, ...]
    comp_cum: tuple[float, ...]


def _ensure_catalog(conn: Connection, now: datetime) -> list[_Prod]:
    products_t, comps_t = _table("products"), _table("components")
    nxt = _next_ids(conn, ("products", "components"))
    have_p = {r.code: r.id for r in conn.execute(select(products_t.c.code, products_t.c.id))}
    have_c = {
        (r.product_id, r.code): r.id for r in conn.execute(select(comps_t.c.product_id, comps_t.c.code, comps_t.c.id))
    }
    prows: list[dict[str, Any]] = []
    crows: list[dict[str, Any]] = []
    out: list[_Prod] = []
    for spec in D.PRODUCTS:
        pid = have_p.get(spec.code)
        if pid is None:
            pid = nxt["products"]
            nxt["products"] += 1
            prows.append(
                {
                    "id": pid,
                    "external_id": spec.code,
                    "source": "erp",
                    "code": spec.code,
                    "name": spec.name,
                    "category": spec.category,
                    "created_at": now,
                }
            )
        comps: list[_Comp] = []
        for cs in spec.components:
            cid = have_c.get((pid, cs.code))
            if cid is None:
                cid = nxt["components"]
                nxt["components"] += 1
                crows.append({"id": cid, "product_id": pid, "code": cs.code, "name": cs.name})
            comps.append(_Comp(cid, cs.code, cs.name, cs.skill))
        out.append(_Prod(pid, spec, tuple(comps), tuple(_cum(c.weight for c in spec.components))))
    _insert(conn, "products", prows)
    _insert(conn, "components", crows)
    return out


# ---------------------------------------------------------------- customers


@dataclass
class _Customers:
    ids: list[int]
    region: bytearray  # region index per customer
    vip: bytearray
    salutation: list[str]  # how agents address them: 王先生, 李经理 …
    cum: list[float]  # activity weights: a few customers call often
    created: int = 0
    vips: int = 0
    contacts: int = 0


def _ensure_customers(
    conn: Connection, rng: random.Random, count: int, org: _Org, start: int, progress: Progress
) -> _Customers:
    names = _Names(rng)
    cust_t = _table("customers")
    have = {
        r.external_id: r.id
        for r in conn.execute(select(cust_t.c.external_id, cust_t.c.id).where(cust_t.c.source == CRM_SOURCE))
    }
    nxt = _next_ids(conn, ("customers", "customer_contacts"))
    region_cum = _cum(r.weight for r in D.REGIONS)
    city_cums = [_cum(c.weight for c in r.cities) for r in D.REGIONS]
    out = _Customers([], bytearray(), bytearray(), [], [])
    rows: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    acc = 0.0
    task = progress.add_task("客户 customers", total=count)

    def flush() -> None:
        _insert(conn, "customers", rows)
        _insert(conn, "customer_contacts", contacts)
        progress.advance(task, len(rows))
        rows.clear()
        contacts.clear()

    for i in range(count):
        r = rng
        ri = bisect(region_cum, r.random() * region_cum[-1])
        reg = D.REGIONS[ri]
        city = reg.cities[bisect(city_cums[ri], r.random() * city_cums[ri][-1])]
        vip = r.random() < 0.10
        business = r.random() < (0.7 if vip else 0.05)
        person = names.person()
        phone = names.phone(city.name)
        if business:
            word, word_py = D.COMPANY_WORDS[r.randrange(len(D.COMPANY_WORDS))]
            trade = D.COMPANY_TRADES[r.randrange(len(D.COMPANY_TRADES))]
            name = f"{city.name}{word}{trade}有限公司"
            email: str | None = f"service@{word_py}{i}.example"
            salutation = person.surname + "经理"
        else:
            name = person.name
            email = f"{person.pinyin}{r.randrange(100)}@{r.choice(D.PERSONAL_MAIL)}" if r.random() < 0.6 else None
            salutation = person.surname + ("先生" if r.random() < 0.5 else "女士")
        address = (
            f"{city.full}{r.choice(city.districts)}{r.choice(D.STREETS)}{r.randint(1, 999)}号"
            f"{r.choice(D.COMMUNITIES)}{r.randint(1, 30)}栋"
            f"{r.randint(1, 4)}单元{r.randint(1, 32)}0{r.randint(1, 4)}"
        )
        created = start - r.randint(DAY, 1500 * DAY)
        updated = created + r.randint(0, start - created)
        ext = f"CRM{100001 + i}"
        owner = None
        if vip and org.regions[ri].sales:
            owner = org.regions[ri].sales[r.randrange(len(org.regions[ri].sales))].id
        weight = math.exp(r.gauss(0, 0.9)) * (3.0 if vip else 1.0) * (2.0 if business else 1.0)
        n_contacts = r.randint(1, 3) if business else (2 if r.random() < 0.15 else 1)
        extra = [names.person() for _ in range(n_contacts - 1)]
        extra_phones = [names.phone(city.name) for _ in extra]
        wechat = f"wxid_{r.randrange(16**10):010x}" if r.random() < 0.6 else None
        is_member = r.random() < (0.8 if vip else 0.35)
        lat, lng = round(city.lat + r.gauss(0, 0.05), 6), round(city.lng + r.gauss(0, 0.05), 6)
        # Every draw above happens whether or not the row exists: the stream stays the same.
        cid = have.get(ext)
        if cid is None:
            cid = nxt["customers"]
            nxt["customers"] += 1
            out.created += 1
            out.vips += vip
            rows.append(
                {
                    "id": cid,
                    "external_id": ext,
                    "source": CRM_SOURCE,
                    "name": name,
                    "tier": "vip" if vip else "regular",
                    "region_id": org.regions[ri].id,
                    "city": city.name,
                    "address": address,
                    "lat": lat,
                    "lng": lng,
                    "phone": phone,
                    "email": email,
                    "is_member": is_member,
                    "sales_owner_id": owner,
                    "created_at": _dt(created),
                    "updated_at": _dt(updated),
                }
            )
            people = [
                (person, phone, wechat),
                *((p, ph, None) for p, ph in zip(extra, extra_phones, strict=True)),
            ]
            for k, (p, ph, wx) in enumerate(people):
                contacts.append(
                    {
                        "id": nxt["customer_contacts"],
                        "customer_id": cid,
                        "name": p.name,
                        "phone": ph,
                        "email": email if k == 0 else None,
                        "wechat": wx,
                        "is_primary": k == 0,
                    }
                )
                nxt["customer_contacts"] += 1
                out.contacts += 1
        out.ids.append(cid)
        out.region.append(ri)
        out.vip.append(vip)
        out.salutation.append(salutation)
        acc += weight
        out.cum.append(acc)
        if len(rows) >= BATCH:
            flush()
    flush()
    progress.update(task, completed=count)
    return out


# ---------------------------------------------------------------- ticket simulation


TICKET_COLS: Final = (
    "id",
    "external_id",
    "source",
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
    "flag_color",
    "resolution_code",
    "fcr_marked",
    "is_spam",
    "is_test",
    "is_deleted",
    "merged_into_id",
    "followup_of_id",
    "first_response_at",
    "first_resolved_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "created_at",
    "updated_at",
    "version",
)
EVENT_COLS: Final = ("id", "ticket_id", "kind", "actor_id", "at", "from_status", "to_status", "data")
COMMENT_COLS: Final = ("id", "ticket_id", "author_id", "author_kind", "public", "body", "created_at")


class _Stop(Exception):
    """The simulated clock reached the anchor: the ticket stays in its current state."""


# (at, kind, actor, from_status, to_status, data as a dict or already-serialised JSON)
Event = tuple[int, str, int | None, str | None, str | None, dict[str, Any] | str]


class _Sim:
    """One ticket's state, mutated with the rules of servicelens.tickets.service."""

    __slots__ = (
        "closed",
        "code",
        "comments",
        "events",
        "first_res",
        "flag",
        "fr",
        "gen",
        "last",
        "merged_into",
        "owner",
        "reopens",
        "res",
        "status",
        "tid",
    )

    def __init__(self, gen: _TicketGen, tid: int) -> None:
        self.gen = gen
        self.tid = tid
        self.status: str = NEW
        self.owner: int | None = None
        self.events: list[Event] = []
        self.comments: list[tuple[Any, ...]] = []
        self.fr: int | None = None
        self.first_res: int | None = None
        self.res: int | None = None
        self.closed: int | None = None
        self.reopens = 0
        self.code: str | None = None
        self.flag = "none"
        self.merged_into: int | None = None
        self.last = 0

    def _ev(
        self,
        t: int,
        kind: str,
        actor: int | None,
        frm: str | None,
        to: str | None,
        data: dict[str, Any] | str,
    ) -> int:
        t = max(t, self.last)  # history is append-only and ordered
        if t >= self.gen.anchor:
            raise _Stop
        self.last = t
        self.events.append((t, kind, actor, frm, to, data))
        return t

    def create(self, t: int, actor: int | None, channel: str, assignee: int | None = None) -> None:
        self.status = ASSIGNED if assignee is not None else NEW
        self._ev(t, E.created, actor, None, self.status, {"channel": channel})
        if assignee is not None:
            self.owner = assignee
            self._ev(t, E.assigned, actor, None, None, {"assignee_id": assignee, "previous": None})

    def assign(self, t: int, actor: int | None, assignee: int) -> int:
        t = self._ev(t, E.assigned, actor, None, None, {"assignee_id": assignee, "previous": self.owner})
        self.owner = assignee
        if self.status == NEW:
            self._ev(t, E.status_changed, actor, NEW, ASSIGNED, {})
            self.status = ASSIGNED
        return t

    def move(self, t: int, to: str, actor: int | None, code: str | None = None, note: str | None = None) -> int:
        cur = self.status
        if to not in ALLOWED[cur]:  # a bug in the script, never bad data
            raise AssertionError(f"illegal demo transition {cur} → {to}")
        data: dict[str, Any] = {}
        if note:
            data["note"] = note
        if to == RESOLVED and code:
            data["resolution_code"] = code
        t = self._ev(t, E.status_changed, actor, cur, to, data)
        if to == RESOLVED:
            self.res = t
            self.first_res = self.first_res or t
            self.code = code or self.code
        elif to == CLOSED:
            self.closed = t
        self.status = to
        if cur == RESOLVED and to != CLOSED:
            self.reopens += 1
            self.res = None
            self._ev(t, E.reopened, actor, None, None, {"reopen_count": self.reopens})
        return t

    def comment(self, t: int, author: str, actor: int | None, public: bool, body: str) -> int:
        cid = self.gen.next_comment
        t = max(t, self.last)
        if t >= self.gen.anchor:
            raise _Stop
        agent_reply = author == "agent" and public
        self._ev(
            t,
            E.replied if agent_reply else E.commented,
            actor,
            None,
            None,
            # Pre-serialised (author is one of three fixed words): what json.dumps would write.
            f'{{"comment_id": {cid}, "public": {"true" if public else "false"}, "author": "{author}"}}',
        )
        self.gen.next_comment += 1
        self.comments.append((cid, self.tid, actor, author, public, body, self.gen.ts(t)))
        if agent_reply and self.fr is None:
            self.fr = t
        if author == "customer" and self.status in (RESOLVED, PENDING):
            # As in add_comment: the customer answering moves the ticket back to work.
            self.move(t, IN_PROGRESS, None)
        return t

    def flag_as(self, t: int, actor: int | None, color: str) -> None:
        self._ev(t, E.flagged, actor, None, None, {"color": color, "previous": self.flag})
        self.flag = color

    def merge_into(self, t: int, actor: int | None, target: int) -> None:
        self._ev(t, E.merged_into, actor, self.status, CLOSED, {"into": target})
        self.status = CLOSED
        self.closed = t
        self.merged_into = target

    def add_merged(self, t: int, actor: int | None, source: int, subject: str) -> None:
        """The target's side of a merge, at a time inside its already simulated history."""
        insort(
            self.events,
            (t, E.merged, actor, None, None, {"source": source, "source_subject": subject}),
            key=lambda e: e[0],
        )
        self.last = max(self.last, t)


class _Closed(NamedTuple):
    """A closed ticket a later contact may follow up on."""

    closed: int
    tid: int
    customer: int
    type: str
    channel: str
    priority: str
    category: str | None
    product: int | None
    component: int | None
    team: int
    region: int
    subject: str
    owner: int | None


@dataclass
class _Ctx:
    """Attributes of one ticket being generated."""

    t0: int
    customer: int
    region: int
    vip: bool
    type: str
    channel: str
    priority: str
    category: str | None
    product: _Prod | None
    comp: _Comp | None
    team: int
    subject: str
    description: str
    answer: str = ""  # what the first reply says to an inquiry or suggestion
    source: str = DEMO_SOURCE
    followup_of: int | None = None
    spam: bool = False
    fcr: bool = False


class _TicketGen:
    """Generates tickets day by day, in creation order, and writes them in batches."""

    def __init__(
        self,
        db: Database,
        rng: random.Random,
        org: _Org,
        prods: list[_Prod],
        custs: _Customers,
        anchor: int,
        days: int,
        ids: dict[str, int],
    ) -> None:
        self.db = db
        self.r = rng
        self.org = org
        self.prods = prods
        self.custs = custs
        self.anchor = anchor
        self.days = days
        self.start = anchor - days * DAY
        self.next_ticket = ids["tickets"]
        self.next_event = ids["ticket_events"]
        self.next_comment = ids["ticket_comments"]
        # Rows as tuples in *_COLS order, already in the form the driver stores (see _bulk).
        self.ts: Callable[[int], Any] = _sqlite_ts if db.is_sqlite else _dt
        self.tickets: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.comments: list[tuple[Any, ...]] = []
        self.closed_heap: list[tuple[int, int, _Closed]] = []
        self.ready: list[_Closed] = []
        self.last_engineer: dict[int, _Staff] = {}
        self.staff: dict[int, _Staff] = {}
        for o in org.regions:
            for s in (*o.engineers, *o.service_agents, *o.cs_agents):
                self.staff[s.id] = s
        self.hot = next(p for p in prods if p.spec.code == D.HOT_PRODUCT)
        self.hot_comp = next(c for c in self.hot.comps if c.code == D.HOT_COMPONENT)
        norm = sum(r.weight * D.HOT_REGION_FACTOR.get(r.code, 1.0) for r in D.REGIONS)
        self.hot_p = [D.HOT_SHARE * D.HOT_REGION_FACTOR.get(r.code, 1.0) / norm for r in D.REGIONS]
        self.hour_cum = _cum(D.HOUR_WEIGHTS)
        self.type_cum = _cum(D.TYPE_WEIGHTS)
        self.chan_cum = {k: (v[0], _cum(v[1])) for k, v in D.CHANNELS.items()}
        self.prio_cum = {k: _cum(v) for k, v in D.PRIORITY_WEIGHTS.items()}
        self.month_prod_cum = [self._product_cum(m) for m in range(1, 13)]
        self.stats: dict[str, int] = dict.fromkeys(
            ("tickets", "open", "merged", "followups", "reopened", "red", "spam", "events", "comments"), 0
        )

    # ------------------------------------------------ distributions

    def _product_cum(self, month: int) -> list[float]:
        # Air conditioners and fridges peak in summer, water heaters in winter.
        summer = max(0.0, math.cos(2 * math.pi * (month - 7.5) / 12))
        winter = max(0.0, math.cos(2 * math.pi * (month - 1) / 12))
        f = {"summer": 1 + 1.2 * summer, "winter": 1 + 0.6 * winter, "": 1.0}
        return _cum(p.spec.weight * f[p.spec.season] for p in self.prods)

    def _day_counts(self, total: int) -> list[int]:
        weights = []
        for d in range(self.days):
            day = _local_date(self.start + d * DAY + HOUR)
            w = D.WEEKDAY_FACTOR[day.weekday()] * (1 + 0.15 * d / self.days)  # a growing business
            w *= 1 + 0.25 * max(0.0, math.cos(2 * math.pi * (day.month - 7.5) / 12))  # summer AC season
            if (day.month, day.day) >= (11, 11) and (day.month, day.day) <= (11, 20):
                w *= 1.35  # after the 11.11 shopping festival: deliveries, installs, returns
            if day.month == 6 and 18 <= day.day <= 25:
                w *= 1.2  # after 618
            if day.month == 10 and day.day <= 7:
                w *= 0.8  # National Day holiday
            weights.append(w * (1 + self.r.gauss(0, 0.06)))
        total_w = sum(weights)
        counts, acc, prev = [], 0.0, 0
        for w in weights:
            acc += w
            cur = round(acc / total_w * total)
            counts.append(cur - prev)
            prev = cur
        counts[-1] += total - sum(counts)
        return counts

    def _pick(self, cum: Sequence[float]) -> int:
        return bisect(cum, self.r.random() * cum[-1])

    def _ln(self, median: float, sigma: float) -> float:
        return median * math.exp(self.r.gauss(0, sigma))

    def _customer_time(self, t: int) -> int:
        """Customers answer whenever they like, but rarely between 23:00 and 07:30."""
        sec = (t + TZ) % DAY
        if sec < 7 * HOUR + 1800:
            return t - sec + 7 * HOUR + 1800 + self.r.randrange(2 * HOUR)
        if sec > 23 * HOUR:
            return t - sec + DAY + 7 * HOUR + 1800 + self.r.randrange(2 * HOUR)
        return t

    def _response(self, t: int, priority: str, vip: bool, who: _Staff) -> int:
        s = self._ln(D.RESPONSE_MEDIAN[priority] * who.speed * (0.7 if vip else 1.0), 0.85)
        if self.r.random() < 0.04:
            s *= self.r.uniform(6, 20)  # the forgotten ticket: where SLA breaches come from
        s = min(s, 3 * 9 * HOUR)
        if priority == "urgent" and self.r.random() < 0.5:
            return t + int(s)  # on-call handles urgent ones out of hours too
        return _add_work(t, s)

    # ------------------------------------------------ texts

    def _product_for(self, month: int) -> _Prod:
        return self.prods[self._pick(self.month_prod_cum[month - 1])]

    def _component(self, prod: _Prod, exclude_hot: bool) -> _Comp:
        while True:
            c = prod.comps[self._pick(prod.comp_cum)]
            if not (exclude_hot and c.id == self.hot_comp.id):
                return c

    def _ctx(self, t0: int, month: int) -> _Ctx:
        r = self.r
        ci = bisect(self.custs.cum, r.random() * self.custs.cum[-1])
        ri = self.custs.region[ci]
        vip = bool(self.custs.vip[ci])
        org = self.org.regions[ri]
        typ = D.TYPES[self._pick(self.type_cum)]
        if (month == 11 or month == 6) and typ == "inquiry" and r.random() < 0.3:
            typ = "return"  # shopping-festival returns
        chans, ccum = self.chan_cum[typ]
        channel = chans[self._pick(ccum)]
        if vip and r.random() < 0.3:
            channel = "phone"  # VIPs have a dedicated line
        prio = D.PRIORITIES[self._pick(self.prio_cum[typ])]
        if vip and typ == "complaint":
            prio = "urgent" if r.random() < 0.5 else "high"
        elif vip and r.random() < 0.5:
            prio = D.PRIORITIES[min(3, D.PRIORITIES.index(prio) + 1)]
        greet = r.choice(D.GREETINGS)
        answer = ""
        prod: _Prod | None = None
        comp: _Comp | None = None
        team = org.service_team
        if typ == "repair":
            if r.random() < self.hot_p[ri]:
                prod, comp = self.hot, self.hot_comp
            else:
                prod = self._product_for(month)
                comp = self._component(prod, exclude_hot=True)
            symptom = r.choice(D.SYMPTOMS[comp.code])
            category = "安装" if r.random() < 0.12 else "产品质量"
            if symptom in D.SAFETY_SYMPTOMS:
                prio = "urgent"
            subject = f"{prod.spec.short}{symptom}"
            if self.custs.salutation[ci].endswith("经理"):
                desc = (
                    f"{greet}我们单位的{prod.spec.name}有一台{symptom}，"
                    f"{r.choice(D.BUSINESS_IMPACTS)}。{r.choice(D.ASKS)}"
                )
            else:
                desc = (
                    f"{greet}我家的{prod.spec.name}是{r.choice(D.PURCHASES)}买的，{symptom}，"
                    f"{r.choice(D.IMPACTS)}。{r.choice(D.ASKS)}"
                )
        elif typ == "complaint":
            prod = self._product_for(month)
            tmpl, category = D.COMPLAINTS[r.randrange(len(D.COMPLAINTS))]
            if category == "产品质量":
                comp = self._component(prod, exclude_hot=False)
            subject = tmpl.format(p=prod.spec.short)
            desc = f"{greet}{r.choice(D.COMPLAINT_DETAILS)}{subject}。{r.choice(D.COMPLAINT_DEMANDS)}"
        elif typ == "return":
            prod = self._product_for(month)
            tmpl, category = D.RETURNS[r.randrange(len(D.RETURNS))]
            subject = tmpl.format(p=prod.spec.short)
            desc = f"{greet}订单号LT{r.randrange(10**11, 10**12)}，{subject}，请尽快处理。"
        elif typ == "inquiry":
            team = org.cs_team
            tmpl, category, answer = D.INQUIRIES[r.randrange(len(D.INQUIRIES))]
            # Questions that name a product always have one; general ones sometimes do.
            prod = self._product_for(month) if "{p}" in tmpl or r.random() < 0.5 else None
            subject = tmpl.format(p=prod.spec.short if prod else "")
            desc = f"{greet}{subject}？"
        else:
            team = org.cs_team
            tmpl, answer = D.SUGGESTIONS[r.randrange(len(D.SUGGESTIONS))]
            prod = self._product_for(month) if "{p}" in tmpl or r.random() < 0.3 else None
            category = "功能建议"
            subject = tmpl.format(p=prod.spec.short if prod else "产品")
            desc = f"{subject}。使用中发现的一点小建议，希望采纳。"
        return _Ctx(t0, ci, ri, vip, typ, channel, prio, category, prod, comp, team, subject, desc, answer)

    def _owner(self, ctx: _Ctx) -> _Staff:
        r = self.r
        org = self.org.regions[ctx.region]
        if ctx.type == "repair":
            prev = self.last_engineer.get(ctx.customer)
            if prev is not None and r.random() < 0.6:
                return prev  # repeat repairs go to the engineer who knows the unit (story 3)
            pool = org.by_skill.get(ctx.comp.skill, []) if ctx.comp else []
            eng = r.choice(pool or org.engineers)
            self.last_engineer[ctx.customer] = eng
            return eng
        if ctx.type in ("inquiry", "suggestion"):
            return r.choice(org.cs_agents)
        if (
            ctx.type == "complaint"
            and ctx.vip
            and ctx.priority == "urgent"
            and org.service_supervisor
            and r.random() < 0.3
        ):
            return org.service_supervisor
        return r.choice(org.service_agents)

    def _supervisor(self, ctx: _Ctx) -> _Staff | None:
        org = self.org.regions[ctx.region]
        return org.cs_supervisor if ctx.team == org.cs_team else org.service_supervisor

    def _first_reply(self, ctx: _Ctx, owner: _Staff) -> str:
        r = self.r
        name = self.custs.salutation[ctx.customer]
        p = ctx.product.spec.short if ctx.product else "产品"
        if ctx.type == "repair":
            return r.choice(D.FIRST_REPLY_REPAIR).format(name=name, eng=owner.name, p=p)
        if ctx.type == "complaint":
            return r.choice(D.FIRST_REPLY_COMPLAINT).format(name=name)
        if ctx.type == "return":
            return r.choice(D.FIRST_REPLY_RETURN).format(name=name)
        return f"{name}您好，{ctx.answer}" if ctx.answer else r.choice(D.FIRST_REPLY_GENERIC).format(name=name)

    # ------------------------------------------------ lifecycles

    def _lifecycle(self, sim: _Sim, ctx: _Ctx, creator: int | None, owner: _Staff | None) -> None:
        """Walk the status machine from creation to closing; _Stop ends it at the anchor."""
        r = self.r
        t0 = ctx.t0
        if creator is not None and owner is not None and owner.id == creator:
            sim.create(t0, creator, ctx.channel, assignee=owner.id)  # the phone agent keeps it
            t_as = t0
        else:
            sim.create(t0, creator, ctx.channel)
            t_as = -1
        if owner is None:
            owner = self._owner(ctx)
        sup = self._supervisor(ctx)
        dispatcher: int | None = None
        if t_as < 0:
            if r.random() < 0.7 or sup is None:
                t_as = t0 + r.randint(20, 600)  # routing rules, no human
            else:
                t_as = _add_work(t0, self._ln(20 * MINUTE, 0.8))  # the supervisor dispatches by hand
                dispatcher = sup.id
        if sim.owner is not None and ctx.channel == "phone":
            t_fr = t0 + r.randint(60, 600)  # answered during the call, written up right after
        else:
            t_fr = self._response(t_as, ctx.priority, ctx.vip, owner)
        flag: tuple[int, str] | None = None
        # The escalation ladder counts desk time like the SLA does: 2 h unanswered turns a complaint
        # or urgent ticket red (story 1), 4 h an unanswered VIP ticket amber.
        red_at, amber_at = _add_work(t0, 2 * HOUR), _add_work(t0, 4 * HOUR)
        if (ctx.type == "complaint" or ctx.priority == "urgent") and t_fr > red_at:
            flag = (red_at, "red")
        elif ctx.vip and t_fr > amber_at:
            flag = (amber_at, "amber")
        if flag and flag[0] < t_as:
            sim.flag_as(flag[0], None, flag[1])
            flag = None
        if sim.owner is None:
            sim.assign(t_as, dispatcher, owner.id)
        if flag:
            sim.flag_as(flag[0], None, flag[1])
        me = owner.id
        sim.move(t_fr, IN_PROGRESS, me)
        t = sim.comment(t_fr, "agent", me, True, self._first_reply(ctx, owner))
        codes = D.RESOLUTIONS[ctx.type]
        if ctx.type in ("inquiry", "suggestion") and r.random() < 0.75:
            code = codes[0][0]  # answered in the first reply: first-contact resolution
            t = sim.move(t + r.randint(30, 600), RESOLVED, me, code)
        else:
            cycles = 0
            if r.random() < D.PENDING_P[ctx.type]:
                cycles = 1 + (r.random() < 0.25)
            silent = False
            for _ in range(cycles):
                t = _add_work(t, self._ln(40 * MINUTE, 0.8))
                question, answers = r.choice(D.ASK_INFO[ctx.type])
                t = sim.comment(t, "agent", me, True, question)
                t = sim.move(t, PENDING, me)
                if r.random() < 0.08:
                    silent = True  # the customer never answers
                    break
                t = self._customer_time(t + int(self._ln(3 * HOUR, 1.2)))
                t = sim.comment(t, "customer", None, True, r.choice(answers))
            if silent:
                t = _add_work(t + 3 * DAY, self._ln(30 * MINUTE, 0.5))
                t = sim.comment(t, "agent", me, True, D.NO_RESPONSE_REPLY)
                t = sim.move(t, RESOLVED, me, "no_response")
            else:
                if r.random() < 0.45 or ctx.vip:
                    t = _add_work(t, self._ln(30 * MINUTE, 0.8))
                    t = sim.comment(
                        t,
                        "agent",
                        me,
                        False,
                        "VIP客户，请优先处理。" if ctx.vip else r.choice(D.INTERNAL_NOTES),
                    )
                if ctx.type == "repair" and r.random() < 0.3:
                    c = ctx.comp.name if ctx.comp else "配件"
                    t = sim.move(
                        _add_work(t, self._ln(20 * MINUTE, 0.5)),
                        ON_HOLD,
                        me,
                        note=r.choice(D.HOLD_NOTES).format(c=c),
                    )
                    t = sim.move(
                        _add_work(t + int(self._ln(2.5 * DAY, 0.5)), r.randrange(40 * MINUTE)), IN_PROGRESS, me
                    )
                if r.random() < 0.05 and sup is not None:
                    org = self.org.regions[ctx.region]
                    if ctx.type == "repair":
                        pool = org.engineers
                    else:
                        pool = org.cs_agents if ctx.team == org.cs_team else org.service_agents
                    other = r.choice(pool)
                    if other.id != me:
                        t = sim.assign(_add_work(t, self._ln(HOUR, 0.8)), sup.id, other.id)
                        owner, me = other, other.id
                t = self._resolve(sim, ctx, t, me, self._ln(D.WORK_MEDIAN[ctx.type] * owner.speed, 0.9))
        if r.random() < D.REOPEN_P[ctx.type] * owner.care:
            t = sim.comment(
                min(self._customer_time(t + int(self._ln(20 * HOUR, 0.7))), t + AUTO_CLOSE - HOUR),
                "customer",
                None,
                True,
                r.choice(D.REOPEN_MESSAGES),
            )
            t = sim.comment(_add_work(t, self._ln(HOUR, 0.8)), "agent", me, True, "非常抱歉，马上为您重新安排处理。")
            t = self._resolve(sim, ctx, t, me, self._ln(D.WORK_MEDIAN[ctx.type] * 0.6, 0.8))
        ctx.fcr = r.random() < (0.93 if sim.reopens == 0 else 0.45)  # agents mark FCR generously
        if r.random() < 0.2:
            t = sim.move(min(_add_work(t, self._ln(4 * HOUR, 0.8)), t + AUTO_CLOSE), CLOSED, me)  # closed after a call
        else:
            t = sim.move(t + AUTO_CLOSE, CLOSED, None)

    def _resolve(self, sim: _Sim, ctx: _Ctx, t: int, me: int, work: float) -> int:
        code, body = self.r.choice(D.RESOLUTIONS[ctx.type])
        t = _add_work(t, work)
        if sim.flag != "red" and (ctx.type == "complaint" or ctx.vip or ctx.priority == "urgent"):
            # Resolution ladder: a complaint/urgent ticket open two desk days (a VIP ticket three) goes red,
            # flagged by the supervisor; the slow ones still open at the anchor are the red queue.
            due = _add_work(ctx.t0, (27 if ctx.vip and ctx.type != "complaint" else 18) * HOUR)
            sup = self._supervisor(ctx)
            if t > due:
                sim.flag_as(due, sup.id if sup else None, "red")
        body = body.format(c=ctx.comp.name if ctx.comp else "相关部件", co=D.COMPANY)
        t = sim.comment(t, "agent", me, True, body)
        return sim.move(t, RESOLVED, me, code)

    def _spam(self, sim: _Sim, ctx: _Ctx) -> None:
        org = self.org.regions[ctx.region]
        agent = self.r.choice(org.cs_agents)
        sim.create(ctx.t0, None, ctx.channel)
        t = sim._ev(
            _add_work(ctx.t0, self._ln(30 * MINUTE, 0.6)),
            E.updated,
            agent.id,
            None,
            None,
            {"changes": {"is_spam": [False, True]}},
        )
        t = sim.move(t, RESOLVED, agent.id, "spam")
        sim.move(t + AUTO_CLOSE, CLOSED, None)

    def _run(self, sim: _Sim, ctx: _Ctx, creator: int | None, owner: _Staff | None) -> None:
        try:
            if ctx.spam:
                self._spam(sim, ctx)
            else:
                self._lifecycle(sim, ctx, creator, owner)
        except _Stop:
            pass

    def _creator(self, ctx: _Ctx) -> tuple[int | None, _Staff | None]:
        """Phone tickets are typed in by a 客服 agent, who keeps inquiries and suggestions."""
        if ctx.channel != "phone":
            return None, None
        agent = self.r.choice(self.org.regions[ctx.region].cs_agents)
        return agent.id, (agent if ctx.team == self.org.regions[ctx.region].cs_team else None)

    # ------------------------------------------------ emitting rows

    def _emit(self, sim: _Sim, ctx: _Ctx) -> None:
        events = sim.events
        ts, dumps, out, eid, tid = self.ts, json.dumps, self.events, self.next_event, sim.tid
        for t, kind, actor, frm, to, data in events:
            # Most events carry {} or a comment reference: skip json.dumps for those.
            js = data if data.__class__ is str else dumps(data) if data else "{}"
            out.append((eid, tid, kind, actor, ts(t), frm, to, js))
            eid += 1
        self.next_event = eid
        self.comments.extend(sim.comments)
        created = ctx.t0
        ts = self.ts
        self.tickets.append(
            (
                sim.tid,
                None,
                ctx.source,
                ctx.subject,
                ctx.description,
                ctx.type,
                ctx.channel,
                ctx.priority,
                sim.status,
                ctx.category,
                self.custs.ids[ctx.customer],
                ctx.product.id if ctx.product else None,
                ctx.comp.id if ctx.comp else None,
                ctx.team,
                sim.owner,
                self.org.regions[ctx.region].id,
                sim.flag,
                sim.code,
                ctx.fcr and sim.first_res is not None,
                ctx.spam,
                False,
                False,
                sim.merged_into,
                ctx.followup_of,
                ts(sim.fr) if sim.fr is not None else None,
                ts(sim.first_res) if sim.first_res is not None else None,
                ts(sim.res) if sim.res is not None else None,
                ts(sim.closed) if sim.closed is not None else None,
                sim.reopens,
                ts(created),
                ts(max(sim.last, created)),
                max(1, len(events)),
            )
        )
        st = self.stats
        st["tickets"] += 1
        st["events"] += len(events)
        st["comments"] += len(sim.comments)
        st["open"] += sim.status not in (RESOLVED, CLOSED)
        st["merged"] += sim.merged_into is not None
        st["followups"] += ctx.followup_of is not None
        st["reopened"] += sim.reopens > 0
        st["red"] += sim.flag == "red"
        st["spam"] += ctx.spam
        if sim.closed is not None and sim.merged_into is None and not ctx.spam:
            info = _Closed(
                sim.closed,
                sim.tid,
                ctx.customer,
                ctx.type,
                ctx.channel,
                ctx.priority,
                ctx.category,
                ctx.product.id if ctx.product else None,
                ctx.comp.id if ctx.comp else None,
                ctx.team,
                ctx.region,
                ctx.subject,
                sim.owner,
            )
            heapq.heappush(self.closed_heap, (sim.closed, sim.tid, info))

    def _parent_event(self, parent: int, t: int, actor: int | None, child: int) -> None:
        data = json.dumps({"followup_id": child})
        self.events.append((self.next_event, parent, E.followup_created, actor, self.ts(t), None, None, data))
        self.next_event += 1
        self.stats["events"] += 1

    def flush(self) -> None:
        with self.db.engine.begin() as conn:
            _bulk(conn, "tickets", TICKET_COLS, self.tickets)
            _bulk(conn, "ticket_events", EVENT_COLS, self.events)
            _bulk(conn, "ticket_comments", COMMENT_COLS, self.comments)
        self.tickets.clear()
        self.events.clear()
        self.comments.clear()

    # ------------------------------------------------ the day loop

    def _followup_ctx(self, t0: int) -> tuple[_Ctx, _Staff | None] | None:
        heap, ready = self.closed_heap, self.ready
        while heap and heap[0][0] < t0:
            ready.append(heapq.heappop(heap)[2])
        if len(ready) > 4000:
            ready[:] = [c for c in ready if c.closed >= t0 - 30 * DAY][-4000:]
        if not ready:
            return None
        i = self.r.randrange(len(ready))
        p = ready[i]
        ready[i] = ready[-1]
        ready.pop()
        if p.closed < t0 - 30 * DAY:
            return None
        prod = next((x for x in self.prods if x.id == p.product), None)
        comp = next((c for c in prod.comps if c.id == p.component), None) if prod else None
        ctx = _Ctx(
            t0,
            p.customer,
            p.region,
            bool(self.custs.vip[p.customer]),
            p.type,
            p.channel,
            p.priority,
            p.category,
            prod,
            comp,
            p.team,
            f"跟进：{p.subject}"[:500],
            self.r.choice(D.FOLLOWUP_DESCRIPTIONS),
            source=FOLLOWUP_SOURCE,
            followup_of=p.tid,
        )
        # The engineer or agent who handled the first ticket usually takes the follow-up.
        return ctx, self.staff.get(p.owner) if p.owner is not None else None

    def run(self, total: int, progress: Progress) -> None:
        r = self.r
        task = progress.add_task("工单 tickets", total=total)
        done = 0
        for d, n in enumerate(self._day_counts(total)):
            day0 = self.start + d * DAY
            month = _local_date(day0 + HOUR).month
            times = sorted(day0 + ((self._pick(self.hour_cum) - 8) % 24) * HOUR + r.randrange(HOUR) for _ in range(n))
            i = 0
            while i < len(times):
                t0 = times[i]
                i += 1
                tid = self.next_ticket
                self.next_ticket += 1
                fu = self._followup_ctx(t0) if r.random() < 0.03 else None
                if fu is not None:
                    ctx, prev = fu
                    opener = r.choice(self.org.regions[ctx.region].cs_agents)  # as create_followup
                    self._parent_event(ctx.followup_of or 0, t0, opener.id, tid)
                    sim = _Sim(self, tid)
                    self._run(sim, ctx, opener.id, prev)
                    self._emit(sim, ctx)
                else:
                    ctx = self._ctx(t0, month)
                    if ctx.channel in ("web", "email", "social") and r.random() < 0.02:
                        ctx.spam = True
                        ctx.type, ctx.priority, ctx.category = "inquiry", "low", None
                        ctx.product = ctx.comp = None
                        ctx.team = self.org.regions[ctx.region].cs_team
                        ctx.subject = ctx.description = r.choice(D.SPAM)
                    creator, keeper = self._creator(ctx)
                    sim = _Sim(self, tid)
                    self._run(sim, ctx, creator, keeper)
                    dup = None
                    if not ctx.spam and i < len(times) and r.random() < 0.025:
                        dup = self._duplicate(sim, ctx)
                    self._emit(sim, ctx)
                    if dup is not None:
                        i += 1  # the duplicate takes the next slot of the day: the total stays exact
                        self._emit(*dup)
                done_now = self.stats["tickets"]
                if len(self.tickets) >= BATCH:
                    self.flush()
                    progress.advance(task, done_now - done)
                    done = done_now
        self.flush()
        progress.update(task, completed=total)

    def _duplicate(self, sim: _Sim, ctx: _Ctx) -> tuple[_Sim, _Ctx] | None:
        """The customer reports the same problem again; an agent merges it into the first ticket."""
        r = self.r
        t_d = ctx.t0 + int(min(2 * DAY, max(5 * MINUTE, self._ln(2 * HOUR, 1.0))))
        t_as = t_d + r.randint(20, 600)
        tm = _add_work(t_as, self._ln(40 * MINUTE, 0.8))
        if (sim.closed is not None and tm >= sim.closed) or t_d >= self.anchor:
            return None  # a closed ticket takes no merges (service.merge); or no time left
        channel = r.choice([c for c in ("phone", "wechat", "app", "web") if c != ctx.channel])
        dctx = _Ctx(
            t_d,
            ctx.customer,
            ctx.region,
            ctx.vip,
            ctx.type,
            channel,
            ctx.priority,
            ctx.category,
            ctx.product,
            ctx.comp,
            ctx.team,
            ctx.subject,
            r.choice(D.DUPLICATE_DESCRIPTIONS).format(s=ctx.subject),
        )
        dsim = _Sim(self, self.next_ticket)
        self.next_ticket += 1
        merger = sim.owner
        try:
            dsim.create(t_d, None, channel)
            if sim.owner is not None:
                dsim.assign(t_as, None, sim.owner)
            dsim.merge_into(tm, merger, sim.tid)
            sim.add_merged(dsim.last, merger, dsim.tid, ctx.subject)
        except _Stop:
            pass
        return dsim, dctx


# ---------------------------------------------------------------- entry point


def _anchor() -> datetime:
    """Today's 00:00 UTC (08:00 in China): the data ends there, so the demo stays current."""
    now = clock.utcnow()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _count(conn: Connection, name: str, *where: Any) -> int:
    t = _table(name)
    return int(conn.execute(select(func.count()).select_from(t).where(*where)).scalar() or 0)


def _reused(db: Database, seed: int, days: int, anchor: datetime) -> DemoResult:
    with db.engine.connect() as conn:
        t, u, c = _table("tickets"), _table("users"), _table("customers")
        have = {r.username for r in conn.execute(select(u.c.username))}
        return DemoResult(
            reused=True,
            seed=seed,
            days=days,
            anchor=anchor,
            regions=_count(conn, "regions"),
            teams=_count(conn, "teams"),
            users=_count(conn, "users"),
            agents=_count(conn, "users", u.c.role == "agent"),
            engineers=_count(conn, "users", u.c.role == "engineer"),
            customers=_count(conn, "customers"),
            vip_customers=_count(conn, "customers", c.c.tier == "vip"),
            contacts=_count(conn, "customer_contacts"),
            products=_count(conn, "products"),
            components=_count(conn, "components"),
            tickets=_count(conn, "tickets"),
            open_tickets=_count(conn, "tickets", t.c.status.not_in((RESOLVED, CLOSED))),
            merged_tickets=_count(conn, "tickets", t.c.merged_into_id.is_not(None)),
            followup_tickets=_count(conn, "tickets", t.c.followup_of_id.is_not(None)),
            reopened_tickets=_count(conn, "tickets", t.c.reopen_count > 0),
            red_flagged=_count(conn, "tickets", t.c.flag_color == "red"),
            spam_tickets=_count(conn, "tickets", t.c.is_spam.is_(True)),
            events=_count(conn, "ticket_events"),
            comments=_count(conn, "ticket_comments"),
            logins=tuple(
                DemoLogin(n, ROLE_PASSWORDS[role], role, zh, en, existed=True)
                for n, role, zh, en in KNOWN_LOGINS
                if n in have
            ),
        )


def generate(db: Database, tickets: int, seed: int, days: int, console: Console) -> DemoResult:
    """Fill ``db`` (already migrated) with the demo company; reuse it if it is already there."""
    if tickets < 1 or days < 1:
        raise ValueError("tickets and days must be positive")
    started = time.perf_counter()
    anchor_dt = _anchor()
    anchor = int(anchor_dt.timestamp())
    start = anchor - days * DAY
    with db.engine.connect() as conn:
        regions_t, tickets_t = _table("regions"), _table("tickets")
        has_east = conn.execute(select(regions_t.c.id).where(regions_t.c.code == "east")).first() is not None
        demo_tickets = has_east and _count(conn, "tickets", tickets_t.c.source == DEMO_SOURCE) > 0
    if demo_tickets:
        console.print("[yellow]演示数据已存在，复用 / demo data already present: reused[/yellow]")
        result = _reused(db, seed, days, anchor_dt)
        result.seconds = time.perf_counter() - started
        return result

    # Independent streams per phase: reusing existing rows never shifts what comes after.
    rng_org = random.Random(f"servicelens-demo/{seed}/org")
    rng_cust = random.Random(f"servicelens-demo/{seed}/customers")
    rng_tick = random.Random(f"servicelens-demo/{seed}/tickets")
    setup_at = _dt(start - 400 * DAY)
    n_customers = max(200, tickets // 8)
    with _progress(console) as progress:
        # One transaction for organisation, catalogue and customers: all or nothing.
        with db.engine.begin() as conn:
            org = _ensure_org(conn, rng_org, _staff_scale(tickets, days), setup_at)
            prods = _ensure_catalog(conn, setup_at)
            custs = _ensure_customers(conn, rng_cust, n_customers, org, start, progress)
            _reset_sequences(
                conn,
                ("regions", "teams", "users", "products", "components", "customers", "customer_contacts"),
            )
            ids = _next_ids(conn, ("tickets", "ticket_events", "ticket_comments"))
        gen = _TicketGen(db, rng_tick, org, prods, custs, anchor, days, ids)
        try:
            gen.run(tickets, progress)
        except BaseException:
            # Batches commit one by one; take back a half-written run so the next one starts clean.
            with db.engine.begin() as conn:
                for name in ("ticket_events", "ticket_comments"):
                    conn.execute(delete(_table(name)).where(_table(name).c.id >= ids[name]))
                conn.execute(delete(tickets_t).where(tickets_t.c.id >= ids["tickets"]))
            raise
    with db.engine.begin() as conn:
        _reset_sequences(conn, ("tickets", "ticket_events", "ticket_comments"))
        if db.is_sqlite:
            # Fresh statistics for the planner; analysis_limit keeps ANALYZE cheap on big tables.
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE tickets, ticket_events, ticket_comments, customers")
    st = gen.stats
    return DemoResult(
        reused=False,
        seed=seed,
        days=days,
        anchor=anchor_dt,
        regions=len(org.regions),
        teams=org.teams,
        users=org.users,
        agents=org.agents,
        engineers=org.engineers,
        customers=len(custs.ids),
        vip_customers=sum(custs.vip),
        contacts=custs.contacts,
        products=len(prods),
        components=sum(len(p.comps) for p in prods),
        tickets=st["tickets"],
        open_tickets=st["open"],
        merged_tickets=st["merged"],
        followup_tickets=st["followups"],
        reopened_tickets=st["reopened"],
        red_flagged=st["red"],
        spam_tickets=st["spam"],
        events=st["events"],
        comments=st["comments"],
        seconds=time.perf_counter() - started,
        logins=org.logins,
    )
