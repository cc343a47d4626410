"""SLA endpoints: calendars, policies, escalation rules, per-ticket targets, risk queue, node checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile

from servicelens.core.auth import Permission, Subject, require
from servicelens.core.clock import utcnow
from servicelens.core.deps import DbSession
from servicelens.core.errors import ProblemError
from servicelens.sla import service
from servicelens.sla.schemas import (
    CalendarComputeIn,
    CalendarComputeOut,
    CalendarCreate,
    CalendarOut,
    CalendarOverrideIn,
    CalendarPatch,
    CalendarVersionIn,
    HolidayImportResult,
    NodeCheckOut,
    PolicyIn,
    PolicyOut,
    PreviewIn,
    PreviewOut,
    RuleIn,
    RuleOut,
    TicketSlaOut,
)
from servicelens.tickets import service as tickets

router = APIRouter(prefix="/sla", tags=["sla"])
ticket_router = APIRouter(prefix="/tickets", tags=["sla"])
Reader = Annotated[Subject, Depends(require(Permission.tickets_read))]
Admin = Annotated[Subject, Depends(require(Permission.org_admin))]
Id = Annotated[int, Path(ge=1)]
MAX_HOLIDAY_FILE = 2 * 1024 * 1024


@router.get("/calendars", response_model=list[CalendarOut])
def list_calendars(session: DbSession, subject: Reader) -> list[CalendarOut]:
    return service.list_calendars(session)


@router.post("/calendars", response_model=CalendarOut, status_code=201)
def create_calendar(body: CalendarCreate, session: DbSession, subject: Admin) -> CalendarOut:
    return service.calendar_out(session, service.create_calendar(session, body))


@router.get("/calendars/{calendar_id}", response_model=CalendarOut)
def get_calendar(calendar_id: Id, session: DbSession, subject: Reader) -> CalendarOut:
    return service.calendar_out(session, service.get_calendar(session, calendar_id))


@router.patch("/calendars/{calendar_id}", response_model=CalendarOut)
def update_calendar(calendar_id: Id, body: CalendarPatch, session: DbSession, subject: Admin) -> CalendarOut:
    return service.calendar_out(session, service.update_calendar(session, calendar_id, body))


@router.delete("/calendars/{calendar_id}", status_code=204)
def delete_calendar(calendar_id: Id, session: DbSession, subject: Admin) -> Response:
    service.delete_calendar(session, calendar_id)
    return Response(status_code=204)


@router.post("/calendars/{calendar_id}/versions", response_model=CalendarOut, status_code=201)
def add_version(calendar_id: Id, body: CalendarVersionIn, session: DbSession, subject: Admin) -> CalendarOut:
    """New weekly hours effective from a date (today or later); earlier dates keep their hours."""
    return service.calendar_out(session, service.add_version(session, calendar_id, body))


@router.put("/calendars/{calendar_id}/overrides", response_model=CalendarOut)
def set_override(calendar_id: Id, body: CalendarOverrideIn, session: DbSession, subject: Admin) -> CalendarOut:
    return service.calendar_out(session, service.set_override(session, calendar_id, body))


@router.post("/calendars/{calendar_id}/holidays", response_model=HolidayImportResult)
async def import_holidays(
    calendar_id: Id, session: DbSession, subject: Admin, file: Annotated[UploadFile, File()]
) -> HolidayImportResult:
    """Import holidays and make-up workdays from CSV (date,kind,name) or iCalendar (.ics)."""
    raw = await file.read(MAX_HOLIDAY_FILE + 1)
    if len(raw) > MAX_HOLIDAY_FILE:
        raise ProblemError(413, "import.too_large", "File too large", "Holiday files are limited to 2 MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ProblemError(
                400, "import.bad_encoding", "Bad encoding", "Save the file as UTF-8 and upload it again"
            ) from exc
    name = (file.filename or "").lower()
    fmt = "ics" if name.endswith(".ics") or text.lstrip().startswith("BEGIN:VCALENDAR") else "csv"
    return service.import_holidays(session, calendar_id, text, fmt)


@router.post("/calendars/{calendar_id}/compute", response_model=CalendarComputeOut)
def compute(calendar_id: Id, body: CalendarComputeIn, session: DbSession, subject: Reader) -> CalendarComputeOut:
    """Preview: start + N business minutes, or business minutes between two instants."""
    return service.compute(session, calendar_id, body)


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(session: DbSession, subject: Reader) -> list[PolicyOut]:
    return service.list_policies(session)


@router.post("/policies", response_model=PolicyOut, status_code=201)
def create_policy(body: PolicyIn, session: DbSession, subject: Admin) -> PolicyOut:
    return service.policy_out(service.create_policy(session, body))


@router.put("/policies/{policy_id}", response_model=PolicyOut)
def update_policy(policy_id: Id, body: PolicyIn, session: DbSession, subject: Admin) -> PolicyOut:
    return service.policy_out(service.update_policy(session, policy_id, body))


@router.delete("/policies/{policy_id}", status_code=204)
def delete_policy(policy_id: Id, session: DbSession, subject: Admin) -> Response:
    service.delete_policy(session, policy_id)
    return Response(status_code=204)


@router.post("/preview", response_model=PreviewOut)
def preview(body: PreviewIn, session: DbSession, subject: Reader) -> PreviewOut:
    """Which policy applies to this ticket (or these ticket fields) and what its deadlines are."""
    if body.ticket_id is not None:
        tickets.load_visible(session, subject, body.ticket_id)  # scope check
    return service.preview(session, body)


@router.get("/escalation-rules", response_model=list[RuleOut])
def list_rules(session: DbSession, subject: Reader) -> list[RuleOut]:
    return service.list_rules(session)


@router.post("/escalation-rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, session: DbSession, subject: Admin) -> RuleOut:
    return service.rule_out(service.create_rule(session, body))


@router.put("/escalation-rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: Id, body: RuleIn, session: DbSession, subject: Admin) -> RuleOut:
    return service.rule_out(service.update_rule(session, rule_id, body))


@router.delete("/escalation-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: Id, session: DbSession, subject: Admin) -> Response:
    service.delete_rule(session, rule_id)
    return Response(status_code=204)


@router.get("/at-risk", response_model=list[dict[str, Any]])
def at_risk(
    session: DbSession,
    subject: Reader,
    within_minutes: Annotated[float, Query(ge=0, le=10_080)] = 60,
    team_id: int | None = None,
) -> list[dict[str, Any]]:
    """Supervisor queue: open tickets breached or due within the window, most urgent first."""
    return service.at_risk(session, tickets.scope_clause(subject), within_minutes, team_id)


@router.get("/node-checks", response_model=list[NodeCheckOut])
def node_checks(
    session: DbSession,
    subject: Reader,
    start: datetime | None = None,
    end: datetime | None = None,
    team_id: int | None = None,
    clock: Annotated[str, Query(pattern="^(calendar|business)$")] = "calendar",
    calendar_id: int | None = None,
) -> list[NodeCheckOut]:
    """Node checks (节点考核) of tickets created in [start, end).

    Defaults: responded within 2 h ≥ 90 %, resolved within 48 h ≥ 80 % (calendar clock).
    """
    end = end or utcnow()
    start = start or end - timedelta(days=7)
    if start >= end:
        raise ProblemError(422, "validation_error", "Invalid request", "start must be before end")
    return service.node_checks(session, tickets.scope_clause(subject), start, end, team_id, None, clock, calendar_id)


@ticket_router.get("/{ticket_id}/sla", response_model=TicketSlaOut)
def ticket_sla(ticket_id: Id, session: DbSession, subject: Reader) -> TicketSlaOut:
    tickets.load_visible(session, subject, ticket_id)  # 404 outside the caller's scope
    return service.ticket_sla(session, ticket_id)
