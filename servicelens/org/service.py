"""Users, teams, regions, sessions and API tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from servicelens.config import get_settings
from servicelens.core.auth import TOKEN_SCOPES, Subject, subject_cache, unauthenticated
from servicelens.core.clock import utcnow
from servicelens.core.errors import ProblemError, conflict, not_found
from servicelens.core.pagination import Page, check_page
from servicelens.core.security import hash_password, new_secret, sha256_hex, verify_password
from servicelens.org.models import ApiToken, Region, Team, User, UserSession
from servicelens.org.schemas import (
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


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        role=user.role,
        team_id=user.team_id,
        region_id=user.region_id,
        locale=user.locale,
        is_active=user.is_active,
        skills=list(user.skills or []),
    )


# ---------------------------------------------------------------- sessions


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise unauthenticated("Wrong username or password")
    return user


def open_session(session: Session, user: User) -> tuple[str, str]:
    """Returns (cookie secret, CSRF token); only the secret's hash is stored."""
    raw, csrf = new_secret("sls_"), new_secret(nbytes=24)
    now = utcnow()
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=sha256_hex(raw),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(days=get_settings().session_days),
        )
    )
    return raw, csrf


def close_session(session: Session, raw: str) -> None:
    digest = sha256_hex(raw)
    row = session.scalar(select(UserSession).where(UserSession.token_hash == digest))
    if row is not None:
        session.delete(row)
    subject_cache.evict("s:" + digest)


# ---------------------------------------------------------------- tokens


def create_token(session: Session, subject: Subject, body: TokenCreate) -> TokenCreated:
    bad = [s for s in body.scopes if s not in TOKEN_SCOPES]
    if bad:
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            f"Unknown scopes {bad}; use {list(TOKEN_SCOPES)}",
            [{"field": "scopes", "reason": "unknown scope"}],
        )
    raw = new_secret("slt_")
    now = utcnow()
    token = ApiToken(
        user_id=subject.user_id,
        name=body.name,
        prefix=raw[:10],
        token_hash=sha256_hex(raw),
        scopes=sorted(set(body.scopes)),
        expires_at=now + timedelta(days=body.expires_in_days) if body.expires_in_days else None,
        created_at=now,
    )
    session.add(token)
    session.flush()
    return TokenCreated(**_token_out(token).model_dump(), token=raw)


def _token_out(t: ApiToken) -> TokenOut:
    return TokenOut(
        id=t.id,
        name=t.name,
        prefix=t.prefix,
        scopes=list(t.scopes),
        expires_at=t.expires_at,
        last_used_at=t.last_used_at,
        revoked_at=t.revoked_at,
        created_at=t.created_at,
    )


def list_tokens(session: Session, subject: Subject) -> list[TokenOut]:
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == subject.user_id).order_by(ApiToken.id))
    return [_token_out(t) for t in rows]


def revoke_token(session: Session, subject: Subject, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != subject.user_id:
        raise not_found("token", token_id)
    token.revoked_at = utcnow()
    subject_cache.evict("t:" + token.token_hash)


# ---------------------------------------------------------------- users


def list_users(
    session: Session, role: str | None, team_id: int | None, q: str | None, page: int, page_size: int
) -> Page[UserOut]:
    check_page(page, page_size)
    stmt = select(User)
    if role:
        stmt = stmt.where(User.role == role)
    if team_id is not None:
        stmt = stmt.where(User.team_id == team_id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.like(like), User.display_name.like(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(User.id).limit(page_size).offset((page - 1) * page_size))
    return Page[UserOut](items=[user_out(u) for u in rows], total=total, page=page, page_size=page_size)


def _check_org_refs(session: Session, team_id: int | None, region_id: int | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            f"team {team_id} does not exist",
            [{"field": "team_id", "reason": "unknown team"}],
        )
    if region_id is not None and session.get(Region, region_id) is None:
        raise ProblemError(
            422,
            "validation_error",
            "Invalid request",
            f"region {region_id} does not exist",
            [{"field": "region_id", "reason": "unknown region"}],
        )


def create_user(session: Session, body: UserCreate) -> User:
    if session.scalar(select(User.id).where(func.lower(User.username) == body.username.lower())):
        raise conflict("user.username_taken", f"Username '{body.username}' is taken")
    _check_org_refs(session, body.team_id, body.region_id)
    user = User(
        username=body.username,
        display_name=body.display_name,
        email=body.email,
        phone=body.phone,
        role=body.role.value,
        team_id=body.team_id,
        region_id=body.region_id,
        locale=body.locale,
        skills=body.skills,
        password_hash=hash_password(body.password),
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user_id: int, body: UserPatch) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    changes = body.model_dump(exclude_unset=True)
    _check_org_refs(session, changes.get("team_id"), changes.get("region_id"))
    if "password" in changes:
        pw = changes.pop("password")
        if pw:
            user.password_hash = hash_password(pw)
    for field, value in changes.items():
        setattr(user, field, value.value if hasattr(value, "value") else value)
    if changes.get("is_active") is False or "role" in changes:
        # Sessions of a deactivated or re-roled user must not outlive the change.
        session.execute(update(UserSession).where(UserSession.user_id == user.id).values(expires_at=utcnow()))
        subject_cache.clear()
    return user


# ---------------------------------------------------------------- teams & regions


def list_teams(session: Session) -> list[TeamOut]:
    return [
        TeamOut(id=t.id, name=t.name, name_en=t.name_en, region_id=t.region_id, supervisor_id=t.supervisor_id)
        for t in session.scalars(select(Team).order_by(Team.id))
    ]


def create_team(session: Session, body: TeamIn) -> Team:
    if session.scalar(select(Team.id).where(Team.name == body.name)):
        raise conflict("team.name_taken", f"Team '{body.name}' exists")
    _check_org_refs(session, None, body.region_id)
    team = Team(**body.model_dump())
    session.add(team)
    session.flush()
    return team


def list_regions(session: Session) -> list[RegionOut]:
    return [
        RegionOut(id=r.id, code=r.code, name=r.name, name_en=r.name_en, manager_id=r.manager_id)
        for r in session.scalars(select(Region).order_by(Region.id))
    ]


def create_region(session: Session, body: RegionIn) -> Region:
    if session.scalar(select(Region.id).where(Region.code == body.code)):
        raise conflict("region.code_taken", f"Region code '{body.code}' exists")
    region = Region(**body.model_dump())
    session.add(region)
    session.flush()
    return region
