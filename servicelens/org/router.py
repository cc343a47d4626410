"""Auth (login, logout, me, API tokens) and organisation endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from servicelens.config import get_settings
from servicelens.core.auth import CSRF_COOKIE, SESSION_COOKIE, AnySubject, Permission, Subject, require
from servicelens.core.deps import DbSession
from servicelens.core.errors import ProblemError, not_found
from servicelens.core.pagination import Page
from servicelens.core.security import LoginRateLimiter
from servicelens.org import service
from servicelens.org.models import Role, User
from servicelens.org.schemas import (
    LoginIn,
    LoginOut,
    RegionIn,
    RegionOut,
    TeamIn,
    TeamOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
)

auth_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["organisation"])
OrgReader = Annotated[Subject, Depends(require(Permission.org_read))]
Admin = Annotated[Subject, Depends(require(Permission.org_admin))]


def _limiter(request: Request) -> LoginRateLimiter:
    limiter: LoginRateLimiter = request.app.state.login_limiter
    return limiter


@auth_router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> LoginOut:
    """Public. Sets the HttpOnly session cookie and a readable CSRF cookie."""
    limiter = _limiter(request)
    client = request.client.host if request.client else "?"
    wait = limiter.retry_after(body.username, client)
    if wait:
        raise ProblemError(
            429,
            "auth.rate_limited",
            "Too many attempts",
            f"Too many failed logins; try again in {wait} s",
            extra={"retry_after": wait},
            headers={"Retry-After": str(wait)},
        )
    try:
        user = service.authenticate(session, body.username, body.password)
    except ProblemError:
        limiter.record_failure(body.username, client)
        raise
    limiter.reset(body.username, client)
    raw, csrf = service.open_session(session, user)
    settings = get_settings()
    max_age = settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return LoginOut(user=service.user_out(user), csrf_token=csrf)


@auth_router.post("/logout", status_code=204)
def logout(request: Request, session: DbSession, subject: AnySubject) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        service.close_session(session, raw)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@auth_router.get("/me", response_model=UserOut)
def me(session: DbSession, subject: AnySubject) -> UserOut:
    user = session.get(User, subject.user_id)
    if user is None:
        raise not_found("user", subject.user_id)
    return service.user_out(user)


@auth_router.get("/tokens", response_model=list[TokenOut])
def list_tokens(session: DbSession, subject: AnySubject) -> list[TokenOut]:
    return service.list_tokens(session, subject)


@auth_router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, session: DbSession, subject: AnySubject) -> TokenCreated:
    """Personal API token for integrations; the secret is returned once, only its hash is kept."""
    if "admin" in body.scopes and subject.role != Role.admin:
        raise ProblemError(403, "auth.forbidden", "Forbidden", "Only admins can mint admin-scoped tokens")
    return service.create_token(session, subject, body)


@auth_router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Annotated[int, Path(ge=1)], session: DbSession, subject: AnySubject) -> Response:
    service.revoke_token(session, subject, token_id)
    return Response(status_code=204)


@router.get("/users", response_model=Page[UserOut])
def list_users(
    session: DbSession,
    subject: OrgReader,
    role: Role | None = None,
    team_id: int | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[UserOut]:
    return service.list_users(session, role.value if role else None, team_id, q, page, page_size)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, session: DbSession, subject: Admin) -> UserOut:
    return service.user_out(service.create_user(session, body))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: Annotated[int, Path(ge=1)], body: UserPatch, session: DbSession, subject: Admin) -> UserOut:
    return service.user_out(service.update_user(session, user_id, body))


@router.get("/teams", response_model=Page[TeamOut])
def list_teams(session: DbSession, subject: OrgReader) -> Page[TeamOut]:
    items = service.list_teams(session)
    return Page[TeamOut](items=items, total=len(items), page=1, page_size=max(1, len(items)))


@router.post("/teams", response_model=TeamOut, status_code=201)
def create_team(body: TeamIn, session: DbSession, subject: Admin) -> TeamOut:
    t = service.create_team(session, body)
    return TeamOut(id=t.id, name=t.name, name_en=t.name_en, region_id=t.region_id, supervisor_id=t.supervisor_id)


@router.get("/regions", response_model=Page[RegionOut])
def list_regions(session: DbSession, subject: OrgReader) -> Page[RegionOut]:
    items = service.list_regions(session)
    return Page[RegionOut](items=items, total=len(items), page=1, page_size=max(1, len(items)))


@router.post("/regions", response_model=RegionOut, status_code=201)
def create_region(body: RegionIn, session: DbSession, subject: Admin) -> RegionOut:
    r = service.create_region(session, body)
    return RegionOut(id=r.id, code=r.code, name=r.name, name_en=r.name_en, manager_id=r.manager_id)
