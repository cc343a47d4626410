"""Who is calling: session cookie (+CSRF) or Bearer API token, and what their role may do."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from servicelens.core.clock import utcnow
from servicelens.core.db import Database
from servicelens.core.errors import ProblemError, forbidden
from servicelens.core.security import sha256_hex
from servicelens.org.models import ApiToken, Role, User, UserSession

SESSION_COOKIE = "sl_session"
CSRF_COOKIE = "sl_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Permission(StrEnum):
    tickets_read = "tickets:read"
    tickets_write = "tickets:write"
    customers_read = "customers:read"
    customers_write = "customers:write"
    catalog_write = "catalog:write"
    org_read = "org:read"
    org_admin = "org:admin"
    data_import = "data:import"
    data_export = "data:export"


_ALL = set(Role)
ROLE_PERMISSIONS: dict[Permission, set[Role]] = {
    Permission.tickets_read: _ALL,
    Permission.tickets_write: {Role.admin, Role.supervisor, Role.agent, Role.engineer},
    Permission.customers_read: _ALL,
    Permission.customers_write: {Role.admin, Role.supervisor, Role.agent, Role.sales},
    Permission.catalog_write: {Role.admin},
    Permission.org_read: _ALL,
    Permission.org_admin: {Role.admin},
    Permission.data_import: {Role.admin, Role.supervisor},
    Permission.data_export: {Role.admin, Role.supervisor, Role.analyst},
}

# Token scopes: "read" covers safe methods, "write" unsafe ones, "import" the bulk endpoints.
TOKEN_SCOPES = ("read", "write", "import", "admin")


@dataclass(frozen=True)
class Subject:
    """The authenticated caller handed to every service function."""

    user_id: int
    username: str
    role: Role
    team_id: int | None
    region_id: int | None
    via: str  # "session" | "token" | "system"
    scopes: frozenset[str] = field(default_factory=frozenset)
    csrf_token: str | None = None

    def can(self, permission: Permission) -> bool:
        return self.role in ROLE_PERMISSIONS[permission]

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.admin, Role.analyst)


def system_subject(user: User) -> Subject:
    return Subject(user.id, user.username, Role(user.role), user.team_id, user.region_id, "system")


class _SubjectCache:
    """A few seconds of memory per credential: a read-heavy API should not hit the DB per request
    just to authenticate. Logout and revocation evict the entry in this process."""

    def __init__(self, ttl: float = 5.0, max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._data: dict[str, tuple[float, Subject]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Subject | None:
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, subject: Subject) -> None:
        with self._lock:
            if len(self._data) >= self.max_size:
                self._data.clear()
            self._data[key] = (time.monotonic() + self.ttl, subject)

    def evict(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


subject_cache = _SubjectCache()


def unauthenticated(detail: str = "Log in or send a valid Bearer token") -> ProblemError:
    return ProblemError(401, "auth.unauthenticated", "Authentication required", detail)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _from_token(db: Database, raw: str) -> Subject:
    key = "t:" + sha256_hex(raw)
    cached = subject_cache.get(key)
    if cached is not None:
        return cached
    now = utcnow()
    with db.session() as s:
        row = s.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == key[2:])
        ).first()
        if row is None:
            raise unauthenticated("Unknown API token")
        token, user = row
        if token.revoked_at is not None:
            raise unauthenticated("API token was revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise unauthenticated("API token has expired")
        if not user.is_active:
            raise unauthenticated("User is deactivated")
        subject = Subject(
            user.id,
            user.username,
            Role(user.role),
            user.team_id,
            user.region_id,
            "token",
            frozenset(token.scopes),
        )
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            token.last_used_at = now
    subject_cache.put(key, subject)
    return subject


def _from_session(db: Database, raw: str) -> Subject:
    key = "s:" + sha256_hex(raw)
    cached = subject_cache.get(key)
    if cached is not None:
        return cached
    with db.session() as s:
        row = s.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == key[2:])
        ).first()
        if row is None or row[0].expires_at <= utcnow() or not row[1].is_active:
            raise unauthenticated("Your session has expired; log in again")
        sess, user = row
        subject = Subject(
            user.id,
            user.username,
            Role(user.role),
            user.team_id,
            user.region_id,
            "session",
            frozenset(TOKEN_SCOPES),
            sess.csrf_token,
        )
    subject_cache.put(key, subject)
    return subject


def _credential(request: Request) -> tuple[str, str]:
    """("t", bearer token) or ("s", session cookie); 401 when there is none or it is malformed."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthenticated("Authorization header must be 'Bearer <token>'")
        return "t", value.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise unauthenticated()
    return "s", cookie


def _check_request(request: Request, subject: Subject) -> Subject:
    """Token scopes for bearer callers, the CSRF header for cookie-authenticated writes."""
    if subject.via == "token":
        needed = "read" if request.method in SAFE_METHODS else "write"
        ok = needed in subject.scopes or "admin" in subject.scopes
        if not ok and needed == "write" and request.url.path.startswith("/api/v1/imports/"):
            ok = "import" in subject.scopes  # bulk import needs only the import scope
        if not ok:
            raise ProblemError(403, "auth.scope_missing", "Forbidden", f"Token lacks the '{needed}' scope")
    elif request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not subject.csrf_token or not hmac.compare_digest(sent, subject.csrf_token):
            raise ProblemError(403, "auth.csrf_failed", "Forbidden", f"Missing or wrong {CSRF_HEADER} header")
    return subject


def current_subject(request: Request) -> Subject:
    kind, raw = _credential(request)
    db = _db(request)
    subject = _from_token(db, raw) if kind == "t" else _from_session(db, raw)
    return _check_request(request, subject)


def cached_subject(request: Request) -> Subject | None:
    """The caller from the credential cache, without touching the database (None on a miss)."""
    kind, raw = _credential(request)
    subject = subject_cache.get(f"{kind}:{sha256_hex(raw)}")
    return _check_request(request, subject) if subject is not None else None


async def any_subject(request: Request) -> Subject:
    """Async dependency: a cache hit costs no thread hop; a miss reads the database in the pool."""
    subject = cached_subject(request)
    if subject is None:
        subject = await run_in_threadpool(current_subject, request)
    return subject


def require(permission: Permission) -> Callable[[Request], Coroutine[Any, Any, Subject]]:
    """Router dependency: authenticate, then check the role may use ``permission``."""

    async def dependency(request: Request) -> Subject:
        subject = await any_subject(request)
        if not subject.can(permission):
            raise forbidden(f"Role '{subject.role.value}' lacks permission '{permission.value}'")
        return subject

    dependency.__name__ = f"require_{permission.name}"
    return dependency


AnySubject = Annotated[Subject, Depends(any_subject)]
