"""Ticket rules: the status machine, history, comments, merge, follow-ups, listing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    exists,
    false,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from servicelens.core.auth import Subject
from servicelens.core.clock import utcnow
from servicelens.core.errors import ProblemError, conflict, forbidden, not_found
from servicelens.core.pagination import check_page, order_by, paginate_count
from servicelens.customers.models import Customer
from servicelens.org.models import Region, Role, Team, User
from servicelens.products.models import Component, Product
from servicelens.tickets.models import (
    EventKind,
    Priority,
    StatusCategory,
    Ticket,
    TicketComment,
    TicketEvent,
    TicketStatus,
)
from servicelens.tickets.schemas import (
    CommentIn,
    FollowupIn,
    TicketCreate,
    TicketPatch,
    TransitionIn,
)

S = TicketStatus

STATUS_CATEGORY: dict[str, StatusCategory] = {
    S.new: StatusCategory.new,
    S.assigned: StatusCategory.open,
    S.in_progress: StatusCategory.open,
    S.pending_customer: StatusCategory.pending,
    S.on_hold: StatusCategory.on_hold,
    S.resolved: StatusCategory.solved,
    S.closed: StatusCategory.closed,
}

# Allowed moves. resolved → in_progress is a reopen; closed is final (a follow-up is a new ticket).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.new: frozenset({S.assigned, S.in_progress, S.resolved}),
    S.assigned: frozenset({S.in_progress, S.pending_customer, S.on_hold, S.resolved}),
    S.in_progress: frozenset({S.assigned, S.pending_customer, S.on_hold, S.resolved}),
    S.pending_customer: frozenset({S.in_progress, S.resolved}),
    S.on_hold: frozenset({S.in_progress, S.resolved}),
    S.resolved: frozenset({S.in_progress, S.closed}),
    S.closed: frozenset(),
}

OPEN_STATUSES = (S.new, S.assigned, S.in_progress, S.pending_customer, S.on_hold)
PRIORITY_RANK = {Priority.low: 0, Priority.normal: 1, Priority.high: 2, Priority.urgent: 3}


def status_category(status: str) -> str:
    return STATUS_CATEGORY[TicketStatus(status)].value


def allowed_transitions(status: str) -> list[str]:
    return sorted(TRANSITIONS[TicketStatus(status)], key=lambda s: list(TicketStatus).index(TicketStatus(s)))


_ALLOWED = {status.value: allowed_transitions(status) for status in TicketStatus}


# ---------------------------------------------------------------- scoping


def scope_clause(subject: Subject) -> ColumnElement[bool]:
    """Rows of ``tickets`` the caller may see (design §5: scoping inside the query)."""
    if subject.sees_everything:
        return true()
    if subject.role == Role.sales:
        owned = select(Customer.id).where(Customer.sales_owner_id == subject.user_id)
        return Ticket.customer_id.in_(owned)
    mine = Ticket.assignee_id == subject.user_id
    if subject.role == Role.supervisor and subject.region_id is not None:
        return or_(mine, Ticket.team_id == subject.team_id, Ticket.region_id == subject.region_id)
    if subject.team_id is not None:
        return or_(mine, Ticket.team_id == subject.team_id)
    return mine


# ---------------------------------------------------------------- reading

_Cust = aliased(Customer)
_Team = aliased(Team)
_Assignee = aliased(User)
_Region = aliased(Region)
_Product = aliased(Product)

SUMMARY_COLUMNS = (
    Ticket.id,
    Ticket.subject,
    Ticket.type,
    Ticket.channel,
    Ticket.priority,
    Ticket.status,
    Ticket.flag_color,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.version,
    Ticket.external_id,
    Ticket.customer_id,
    _Cust.name.label("customer_name"),
    _Cust.tier.label("customer_tier"),
    Ticket.team_id,
    _Team.name.label("team_name"),
    Ticket.assignee_id,
    _Assignee.display_name.label("assignee_name"),
    Ticket.region_id,
    _Region.name.label("region_name"),
    Ticket.product_id,
    _Product.name.label("product_name"),
)


def _summary_select(*extra: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(*SUMMARY_COLUMNS, *extra)
        .select_from(Ticket)
        .outerjoin(_Cust, _Cust.id == Ticket.customer_id)
        .outerjoin(_Team, _Team.id == Ticket.team_id)
        .outerjoin(_Assignee, _Assignee.id == Ticket.assignee_id)
        .outerjoin(_Region, _Region.id == Ticket.region_id)
        .outerjoin(_Product, _Product.id == Ticket.product_id)
    )


# The read paths build plain dicts in the shape of TicketSummary/TicketDetail (tests validate them
# against the models): constructing ~30 nested pydantic models per ticket cost more than its queries.
_CATEGORY = {str(status): category.value for status, category in STATUS_CATEGORY.items()}


def _ref(ident: int | None, name: str | None) -> dict[str, Any] | None:
    return {"id": ident, "name": name or ""} if ident is not None else None


def _user_ref(ident: int | None, name: str | None) -> dict[str, Any] | None:
    return {"id": ident, "display_name": name or ""} if ident is not None else None


def _summary_fields(r: Row[Any]) -> dict[str, Any]:
    return {
        "id": r.id,
        "subject": r.subject,
        "type": r.type,
        "channel": r.channel,
        "priority": r.priority,
        "status": r.status,
        "status_category": _CATEGORY[r.status],
        "flag_color": r.flag_color,
        "customer": {"id": r.customer_id, "name": r.customer_name or "", "tier": r.customer_tier or "regular"}
        if r.customer_id is not None
        else None,
        "team": _ref(r.team_id, r.team_name),
        "assignee": _user_ref(r.assignee_id, r.assignee_name),
        "region": _ref(r.region_id, r.region_name),
        "product": _ref(r.product_id, r.product_name),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "version": r.version,
        "external_id": r.external_id,
    }


@dataclass
class TicketFilters:
    status: Sequence[str] = ()
    type: Sequence[str] = ()
    priority: Sequence[str] = ()
    channel: Sequence[str] = ()
    team_id: Sequence[int] = ()
    assignee_id: Sequence[int] = ()
    region_id: Sequence[int] = ()
    customer_id: int | None = None
    product_id: int | None = None
    flag_color: str | None = None
    open_only: bool = False
    unassigned: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    q: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [Ticket.merged_into_id.is_(None), Ticket.is_deleted.is_(false())]
        for col, values in (
            (Ticket.status, self.status),
            (Ticket.type, self.type),
            (Ticket.priority, self.priority),
            (Ticket.channel, self.channel),
            (Ticket.team_id, self.team_id),
            (Ticket.assignee_id, self.assignee_id),
            (Ticket.region_id, self.region_id),
        ):
            if values:
                out.append(col.in_(list(values)))
        if self.customer_id is not None:
            out.append(Ticket.customer_id == self.customer_id)
        if self.product_id is not None:
            out.append(Ticket.product_id == self.product_id)
        if self.flag_color:
            out.append(Ticket.flag_color == self.flag_color)
        if self.open_only:
            out.append(Ticket.status.in_(OPEN_STATUSES))
        if self.unassigned:
            out.append(Ticket.assignee_id.is_(None))
        if self.created_from:
            out.append(Ticket.created_at >= self.created_from)
        if self.created_to:
            out.append(Ticket.created_at < self.created_to)
        if self.updated_from:
            out.append(Ticket.updated_at >= self.updated_from)
        if self.updated_to:
            out.append(Ticket.updated_at < self.updated_to)
        if self.q:
            text = self.q.strip()
            if text.isdigit():
                out.append(or_(Ticket.id == int(text), Ticket.external_id == text))
            elif text:
                like = "%" + text.replace("%", "\\%").replace("_", "\\_") + "%"
                out.append(
                    or_(
                        Ticket.subject.like(like, escape="\\"),
                        Ticket.external_id == text,
                    )
                )
        return out


def _rank(column: Any, order: Sequence[str]) -> Any:
    """Sort an enum column by its domain order (low < urgent, new < closed), not alphabetically."""
    return case({v: i for i, v in enumerate(order)}, value=column, else_=len(order))


@lru_cache(maxsize=1)
def _sla_due_statements() -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]], ColumnElement[bool]]:
    """(the timed block by deadline ascending, descending, has_due), built once: constructing them
    cost more than running them. A ticket is taken at its earliest running target: no running
    target of the same ticket comes before it (by deadline, then id)."""
    from servicelens.sla.models import TicketSla, running_target

    other = aliased(TicketSla)
    earlier = (
        select(other.id)
        .where(
            other.ticket_id == TicketSla.ticket_id,
            running_target(other),
            or_(other.due_at < TicketSla.due_at, and_(other.due_at == TicketSla.due_at, other.id < TicketSla.id)),
        )
        .exists()
    )
    timed = (
        select(Ticket.id, TicketSla.due_at.label("due"))
        .select_from(TicketSla)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(running_target(), ~earlier)
    )
    ascending = timed.order_by(TicketSla.due_at.asc(), TicketSla.ticket_id.asc())
    descending = timed.order_by(TicketSla.due_at.desc(), TicketSla.ticket_id.desc())
    return ascending, descending, exists().where(TicketSla.ticket_id == Ticket.id, running_target())


def _page_by_sla_due(
    conn: Connection | Session, where: ColumnElement[bool], descending: bool, page: int, page_size: int
) -> list[Row[Any]]:
    """Sort by SLA urgency without sorting the table: tickets with a due instant (earliest first)
    then the rest by id — or exactly the reverse. Each block is paged on its own index order: the
    first walks the running targets by deadline (partial index ix_ticket_sla_running_due) and
    stops at the page."""
    by_due_ascending, by_due_descending, has_due = _sla_due_statements()
    timed = (by_due_descending if descending else by_due_ascending).where(where)
    rest = _SUMMARY.where(where, ~has_due).order_by(Ticket.id.desc() if descending else Ticket.id.asc())

    def timed_page(limit: int, offset: int) -> list[Row[Any]]:
        # The page's ids first, then the display joins for those rows only (not for every open ticket).
        ids = timed.limit(limit).offset(offset).subquery()
        page_stmt = _SUMMARY.add_columns(ids.c.due).join(ids, ids.c.id == Ticket.id)
        order = (ids.c.due.desc(), Ticket.id.desc()) if descending else (ids.c.due.asc(), Ticket.id.asc())
        return list(conn.execute(page_stmt.order_by(*order)).all())

    def rest_page(limit: int, offset: int) -> list[Row[Any]]:
        return list(conn.execute(rest.limit(limit).offset(offset)).all())

    first, second = (rest_page, timed_page) if descending else (timed_page, rest_page)
    offset = (page - 1) * page_size
    rows = first(page_size, offset)
    if len(rows) < page_size:
        # The first block ends on this page (or before it): its length tells where the second starts.
        # Nothing came back only when it ends at or before ``offset``: counting up to there is exact.
        length = offset + len(rows)
        if not rows and offset:
            length = paginate_count(conn, rest if descending else timed, cap=offset)[0]
        rows += second(page_size - len(rows), max(0, offset - length))
    return rows


SORTABLE: dict[str, Any] = {
    "sla_due": None,  # paged by _page_by_sla_due
    "id": Ticket.id,
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "priority": _rank(Ticket.priority, [p.value for p in Priority]),
    "status": _rank(Ticket.status, [s.value for s in TicketStatus]),
    "type": Ticket.type,
}


_SUMMARY = _summary_select()  # built once: five aliased joins cost ~0.3 ms to construct per request


def list_tickets(
    conn: Connection | Session, subject: Subject, filters: TicketFilters, sort: str, page: int, page_size: int
) -> dict[str, Any]:
    """A page of tickets in the shape of ``Page[TicketSummary]``."""
    check_page(page, page_size)
    where = and_(scope_clause(subject), *filters.clauses())
    base = select(Ticket.id).where(where)
    total, exact = paginate_count(conn, base)
    if sort.lstrip("-") == "sla_due":
        rows = _page_by_sla_due(conn, where, sort.startswith("-"), page, page_size)
    else:
        stmt = order_by(_SUMMARY.where(where), sort, SORTABLE, Ticket.id)
        rows = list(conn.execute(stmt.limit(page_size).offset((page - 1) * page_size)).all())
    badges = _sla().badges(conn, [r.id for r in rows])
    items = [{**_summary_fields(r), "sla": badges.get(r.id)} for r in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size, "total_exact": exact}


def load_visible(session: Session, subject: Subject, ticket_id: int, *, for_write: bool = False) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id, scope_clause(subject)))
    if ticket is None or ticket.is_deleted:
        raise not_found("ticket", ticket_id)
    return ticket


_Actor = aliased(User)
_Comp = aliased(Component)
# Built once: the hot read paths only bind parameters (statement construction dominated their cost).
# Events and comments come back in ONE query: the columns the two kinds do not share are NULL.
_TIMELINE = (
    union_all(
        select(
            literal("event").label("kind"),
            TicketEvent.id,
            TicketEvent.at,
            TicketEvent.actor_id,
            _Actor.display_name,
            TicketEvent.kind.label("event_kind"),
            TicketEvent.from_status,
            TicketEvent.to_status,
            TicketEvent.data,
            # Typed NULLs: a UNION's columns carry the first SELECT's types (booleans are 0/1 on SQLite).
            type_coerce(null(), Text).label("body"),
            type_coerce(null(), Boolean).label("public"),
            type_coerce(null(), String).label("author_kind"),
        )
        .outerjoin(_Actor, _Actor.id == TicketEvent.actor_id)
        .where(TicketEvent.ticket_id == bindparam("tid")),
        select(
            literal("comment"),
            TicketComment.id,
            TicketComment.created_at,
            TicketComment.author_id,
            _Actor.display_name,
            null(),
            null(),
            null(),
            null(),
            TicketComment.body,
            TicketComment.public,
            TicketComment.author_kind,
        )
        .outerjoin(_Actor, _Actor.id == TicketComment.author_id)
        .where(TicketComment.ticket_id == bindparam("tid")),
    )
    .subquery()
    .select()
)
_DETAIL = (
    _summary_select(
        Ticket.description,
        Ticket.category,
        Ticket.component_id,
        _Comp.name.label("component_name"),
        Ticket.resolution_code,
        Ticket.fcr_marked,
        Ticket.first_response_at,
        Ticket.first_resolved_at,
        Ticket.resolved_at,
        Ticket.closed_at,
        Ticket.reopen_count,
        Ticket.merged_into_id,
        Ticket.followup_of_id,
        Ticket.is_deleted,
    )
    .outerjoin(_Comp, _Comp.id == Ticket.component_id)
    .where(Ticket.id == bindparam("tid"))
)


def timeline(conn: Connection | Session, ticket_id: int) -> list[dict[str, Any]]:
    """Events and comments of a ticket, oldest first, as ``TimelineItem`` dicts (one query)."""
    items = []
    for (
        kind,
        ident,
        at,
        actor_id,
        actor_name,
        event_kind,
        from_status,
        to_status,
        data,
        body,
        public,
        author_kind,
    ) in conn.execute(_TIMELINE, {"tid": ticket_id}).all():
        item: dict[str, Any] = {
            "kind": kind,
            "id": ident,
            "at": at,
            "actor": _user_ref(actor_id, actor_name),
            "event_kind": event_kind,
            "from_status": from_status,
            "to_status": to_status,
            "data": (data or {}) if kind == "event" else None,
            "body": body,
            "public": public,
            "author_kind": author_kind,
        }
        items.append(item)
    # Comments sort before the event they caused at the same instant.
    items.sort(key=lambda i: (i["at"], 0 if i["kind"] == "comment" else 1, i["id"]))
    return items


def ticket_detail(conn: Connection | Session, subject: Subject, ticket_id: int) -> dict[str, Any]:
    """One ticket as a ``TicketDetail`` dict (three queries: the row, its SLA badge, its timeline);
    404 when it does not exist or lies outside the caller's scope."""
    stmt = _DETAIL if subject.sees_everything else _DETAIL.where(scope_clause(subject))
    row = conn.execute(stmt, {"tid": ticket_id}).first()
    if row is None or row.is_deleted:
        raise not_found("ticket", ticket_id)
    return {
        **_summary_fields(row),
        "sla": _sla().badges(conn, [ticket_id]).get(ticket_id),
        "description": row.description,
        "category": row.category,
        "component": _ref(row.component_id, row.component_name),
        "resolution_code": row.resolution_code,
        "fcr_marked": row.fcr_marked,
        "first_response_at": row.first_response_at,
        "first_resolved_at": row.first_resolved_at,
        "resolved_at": row.resolved_at,
        "closed_at": row.closed_at,
        "reopen_count": row.reopen_count,
        "merged_into_id": row.merged_into_id,
        "followup_of_id": row.followup_of_id,
        "allowed_transitions": _ALLOWED[row.status] if row.merged_into_id is None else [],
        "timeline": timeline(conn, ticket_id),
    }


def get_ticket(session: Session, subject: Subject, ticket_id: int) -> dict[str, Any]:
    """``ticket_detail`` inside a write's session: its pending changes are flushed first."""
    session.flush()
    return ticket_detail(session.connection(), subject, ticket_id)


# ---------------------------------------------------------------- writing


def _sla() -> Any:
    """The SLA service (imported late: it imports this domain's models and events)."""
    from servicelens.sla import service as sla_service

    return sla_service


def _after_change(session: Session, ticket: Ticket, now: datetime) -> None:
    """Every change re-evaluates the ticket's SLA targets and escalation ladders."""
    _sla().sync_ticket(session, ticket, now)


def _event(
    session: Session,
    ticket: Ticket,
    kind: EventKind,
    actor: Subject | None,
    at: datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    **data: Any,
) -> TicketEvent:
    ev = TicketEvent(
        ticket_id=ticket.id,
        kind=kind.value,
        actor_id=actor.user_id if actor and actor.via != "anonymous" else None,
        at=at,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )
    session.add(ev)
    return ev


def _check_refs(session: Session, data: dict[str, Any]) -> None:
    """Foreign keys must exist: a clear 422 naming the field instead of an integrity error."""
    checks = (
        ("customer_id", Customer),
        ("product_id", Product),
        ("component_id", Component),
        ("team_id", Team),
        ("assignee_id", User),
        ("region_id", Region),
    )
    errors = []
    for field, model in checks:
        value = data.get(field)
        if value is not None and session.get(model, value) is None:
            errors.append({"field": field, "reason": f"{model.__tablename__} {value} does not exist"})
    if errors:
        raise ProblemError(422, "validation_error", "Invalid request", "Unknown references", errors)
    comp_id, prod_id = data.get("component_id"), data.get("product_id")
    if comp_id is not None and prod_id is not None:
        comp = session.get(Component, comp_id)
        if comp is not None and comp.product_id != prod_id:
            raise ProblemError(
                422,
                "validation_error",
                "Invalid request",
                "component does not belong to product",
                [{"field": "component_id", "reason": "belongs to another product"}],
            )
    assignee_id = data.get("assignee_id")
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is not None and (not user.is_active or user.role not in (Role.agent, Role.engineer, Role.supervisor)):
            raise ProblemError(
                422,
                "ticket.bad_assignee",
                "Invalid request",
                "Tickets can only be assigned to active agents, engineers or supervisors",
                [{"field": "assignee_id", "reason": "not an active agent/engineer/supervisor"}],
            )


def _flush(session: Session, ticket_id: int) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise conflict(
            "ticket.version_conflict", f"Ticket {ticket_id} was changed by someone else; reload and retry"
        ) from exc


def _check_version(ticket: Ticket, version: int) -> None:
    if ticket.version != version:
        raise conflict(
            "ticket.version_conflict",
            f"Ticket {ticket.id} is at version {ticket.version}, you sent {version}; reload and retry",
            current_version=ticket.version,
        )


def _check_writable(subject: Subject) -> None:
    if subject.role not in (Role.admin, Role.supervisor, Role.agent, Role.engineer):
        raise forbidden()


def create_ticket(session: Session, subject: Subject, data: TicketCreate) -> Ticket:
    _check_writable(subject)
    values = data.model_dump()
    _check_refs(session, values)
    now = utcnow()
    if values["team_id"] is None and values["assignee_id"] is None:
        values["team_id"] = subject.team_id  # the creator's team owns it until dispatched
    if values["region_id"] is None and values["customer_id"] is not None:
        cust = session.get(Customer, values["customer_id"])
        values["region_id"] = cust.region_id if cust else None
    status = S.assigned if values["assignee_id"] is not None else S.new
    ticket = Ticket(
        **{k: v.value if hasattr(v, "value") else v for k, v in values.items()},
        status=status.value,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    _event(session, ticket, EventKind.created, subject, now, to_status=status.value, channel=ticket.channel)
    if ticket.assignee_id is not None:
        _event(session, ticket, EventKind.assigned, subject, now, assignee_id=ticket.assignee_id, previous=None)
    _after_change(session, ticket, now)
    return ticket


PATCH_FIELDS = (
    "subject",
    "description",
    "type",
    "channel",
    "priority",
    "category",
    "customer_id",
    "product_id",
    "component_id",
    "team_id",
    "assignee_id",
    "region_id",
    "flag_color",
    "fcr_marked",
    "is_spam",
)


def update_ticket(session: Session, subject: Subject, ticket_id: int, patch: TicketPatch) -> Ticket:
    _check_writable(subject)
    ticket = load_visible(session, subject, ticket_id, for_write=True)
    _check_version(ticket, patch.version)
    if ticket.status == S.closed:
        raise conflict("ticket.closed", "A closed ticket cannot change; open a follow-up ticket instead")
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    _check_refs(session, {**changes, "product_id": changes.get("product_id", ticket.product_id)})
    now = utcnow()
    changed: dict[str, list[Any]] = {}
    for field in PATCH_FIELDS:
        if field not in changes:
            continue
        new = changes[field]
        new = new.value if hasattr(new, "value") else new
        old = getattr(ticket, field)
        if new == old:
            continue
        if field in ("subject", "type", "channel", "priority") and new is None:
            raise ProblemError(422, "validation_error", "Invalid request", f"{field} cannot be null")
        setattr(ticket, field, new)
        if field == "assignee_id":
            _event(session, ticket, EventKind.assigned, subject, now, assignee_id=new, previous=old)
        elif field == "flag_color":
            _event(session, ticket, EventKind.flagged, subject, now, color=new, previous=old)
        else:
            changed[field] = [old, new] if field != "description" else ["…", "…"]
    if "assignee_id" in changes and ticket.assignee_id is not None and ticket.status == S.new:
        _event(session, ticket, EventKind.status_changed, subject, now, from_status=S.new, to_status=S.assigned)
        ticket.status = S.assigned.value
    if changed:
        _event(session, ticket, EventKind.updated, subject, now, changes=changed)
    ticket.updated_at = now
    _flush(session, ticket_id)
    _after_change(session, ticket, now)
    return ticket


def transition(session: Session, subject: Subject, ticket_id: int, body: TransitionIn) -> Ticket:
    _check_writable(subject)
    ticket = load_visible(session, subject, ticket_id, for_write=True)
    _check_version(ticket, body.version)
    now = utcnow()
    _apply_transition(session, subject, ticket, body.to_status, now, body.resolution_code, body.note)
    _flush(session, ticket_id)
    _after_change(session, ticket, now)
    return ticket


def _apply_transition(
    session: Session,
    subject: Subject | None,
    ticket: Ticket,
    to: TicketStatus,
    now: datetime,
    resolution_code: str | None = None,
    note: str | None = None,
) -> None:
    current = TicketStatus(ticket.status)
    if ticket.merged_into_id is not None:
        raise conflict("ticket.merged", f"Ticket {ticket.id} was merged into {ticket.merged_into_id}")
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(allowed_transitions(current)) or "none (closed is final; open a follow-up)"
        raise ProblemError(
            409,
            "ticket.illegal_transition",
            "Illegal status transition",
            f"Cannot move a ticket from {current.value} to {to.value}; allowed: {allowed}",
            extra={"allowed_transitions": allowed_transitions(current)},
        )
    if to == S.assigned and ticket.assignee_id is None:
        raise ProblemError(422, "ticket.no_assignee", "Invalid request", "Set an assignee before moving to 'assigned'")
    data: dict[str, Any] = {}
    if note:
        data["note"] = note
    if to == S.resolved:
        ticket.resolved_at = now
        if ticket.first_resolved_at is None:
            ticket.first_resolved_at = now
        if resolution_code:
            ticket.resolution_code = resolution_code
            data["resolution_code"] = resolution_code
    if to == S.closed:
        ticket.closed_at = now
    reopen = current == S.resolved and to != S.closed
    if reopen:
        ticket.reopen_count += 1
        ticket.resolved_at = None
    ticket.status = to.value
    ticket.updated_at = now
    _event(session, ticket, EventKind.status_changed, subject, now, from_status=current, to_status=to, **data)
    if reopen:
        _event(session, ticket, EventKind.reopened, subject, now, reopen_count=ticket.reopen_count)


def add_comment(session: Session, subject: Subject, ticket_id: int, body: CommentIn) -> Ticket:
    _check_writable(subject)
    ticket = load_visible(session, subject, ticket_id, for_write=True)
    if ticket.status == S.closed:
        raise conflict("ticket.closed", "A closed ticket takes no comments; open a follow-up ticket instead")
    if ticket.merged_into_id is not None:
        raise conflict("ticket.merged", f"Ticket {ticket.id} was merged into {ticket.merged_into_id}")
    now = utcnow()
    from_customer = body.author_kind == "customer"
    comment = TicketComment(
        ticket_id=ticket.id,
        author_id=None if from_customer else subject.user_id,
        author_kind=body.author_kind,
        public=True if from_customer else body.public,
        body=body.body,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    agent_reply = not from_customer and body.public
    kind = EventKind.replied if agent_reply else EventKind.commented
    _event(
        session,
        ticket,
        kind,
        subject,
        now,
        comment_id=comment.id,
        public=comment.public,
        author=body.author_kind,
    )
    if agent_reply and ticket.first_response_at is None:
        ticket.first_response_at = now
    if from_customer and ticket.status in (S.resolved, S.pending_customer):
        # The customer answering moves the ticket back to work (metrics.md T-1001: a reply reopens).
        _apply_transition(session, None, ticket, S.in_progress, now)
    ticket.updated_at = now
    _flush(session, ticket_id)
    _after_change(session, ticket, now)
    return ticket


def merge(session: Session, subject: Subject, source_id: int, target_id: int) -> Ticket:
    """Merge a duplicate into ``target``: the source closes and points at the target."""
    _check_writable(subject)
    if source_id == target_id:
        raise ProblemError(422, "ticket.merge_self", "Invalid request", "A ticket cannot be merged into itself")
    source = load_visible(session, subject, source_id, for_write=True)
    target = load_visible(session, subject, target_id, for_write=True)
    for t in (source, target):
        if t.merged_into_id is not None:
            raise conflict("ticket.merged", f"Ticket {t.id} was already merged into {t.merged_into_id}")
    if target.status == S.closed:
        raise conflict("ticket.closed", f"Ticket {target.id} is closed; merge into an open ticket")
    if source.customer_id and target.customer_id and source.customer_id != target.customer_id:
        raise ProblemError(
            422,
            "ticket.merge_customer_mismatch",
            "Invalid request",
            "Only tickets of the same customer can be merged",
        )
    now = utcnow()
    previous = source.status
    source.merged_into_id = target.id
    source.status = S.closed.value
    source.closed_at = now
    source.updated_at = now
    target.updated_at = now
    _event(
        session,
        source,
        EventKind.merged_into,
        subject,
        now,
        from_status=previous,
        to_status=S.closed,
        into=target.id,
    )
    _event(session, target, EventKind.merged, subject, now, source=source.id, source_subject=source.subject)
    _flush(session, source_id)
    _after_change(session, source, now)
    return target


def create_followup(session: Session, subject: Subject, ticket_id: int, body: FollowupIn) -> Ticket:
    """A closed ticket is final: a new contact about it becomes a linked follow-up ticket."""
    _check_writable(subject)
    parent = load_visible(session, subject, ticket_id)
    if parent.status != S.closed:
        raise conflict("ticket.not_closed", "Only closed tickets get follow-ups; reopen a resolved ticket instead")
    child = create_ticket(
        session,
        subject,
        TicketCreate(
            subject=body.subject or parent.subject,
            description=body.description,
            type=parent.type,
            channel=parent.channel,
            priority=parent.priority,
            category=parent.category,
            customer_id=parent.customer_id,
            product_id=parent.product_id,
            component_id=parent.component_id,
            team_id=parent.team_id,
            region_id=parent.region_id,
            source="followup",
        ),
    )
    child.followup_of_id = parent.id
    _event(session, parent, EventKind.followup_created, subject, child.created_at, followup_id=child.id)
    session.flush()
    return child
