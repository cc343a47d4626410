"""Authentication and authorisation: sessions + CSRF, API tokens, role checks, rate limit."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from servicelens.app import PUBLIC_PATHS
from servicelens.core import clock
from servicelens.core.auth import CSRF_HEADER
from servicelens.core.db import Database
from servicelens.org.models import ApiToken, User, UserSession
from tests.conftest import Org, login


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_requires_auth_except_public_ones(client: TestClient, org: Org) -> None:
    """Walk the OpenAPI document: anonymous callers get 401 everywhere but the public routes."""
    doc = client.get("/openapi.json").json()
    checked = 0
    for path, ops in doc["paths"].items():
        for method in ops:
            if path in PUBLIC_PATHS:
                continue
            r = client.request(method.upper(), _concrete(path), json={})
            assert r.status_code == 401, f"{method.upper()} {path} answered {r.status_code}"
            assert r.json()["code"] == "auth.unauthenticated"
            checked += 1
    assert checked >= 25
    assert "/api/v1/auth/login" in doc["paths"]


def test_login_sets_httponly_cookie_and_csrf(client: TestClient, org: Org) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent12345"})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("sl_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("sl_csrf="))
    assert "HttpOnly" in session_cookie and "HttpOnly" not in csrf_cookie
    assert r.json()["user"]["role"] == "agent"
    assert client.get("/api/v1/auth/me").json()["username"] == "agent1"
    # a cookie-authenticated write without the CSRF header is refused
    r = client.post("/api/v1/tickets", json={"subject": "x", "type": "inquiry"})
    assert r.status_code == 403 and r.json()["code"] == "auth.csrf_failed"
    r = client.post("/api/v1/tickets", json={"subject": "x", "type": "inquiry"}, headers={CSRF_HEADER: "wrong"})
    assert r.status_code == 403
    r = client.post("/api/v1/tickets", json={"subject": "x", "type": "inquiry"}, headers={CSRF_HEADER: r_csrf(client)})
    assert r.status_code == 201


def r_csrf(client: TestClient) -> str:
    return str(client.cookies.get("sl_csrf"))


def test_session_stored_hashed_and_logout_ends_it(client: TestClient, org: Org, db: Database) -> None:
    login(client, "agent1")
    raw = str(client.cookies.get("sl_session"))
    with db.session() as s:
        hashes = s.scalars(select(UserSession.token_hash)).all()
    assert raw not in hashes and len(hashes) == 1
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.set("sl_session", raw)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_and_unknown_user_are_401(client: TestClient, org: Org) -> None:
    for body in ({"username": "agent1", "password": "nope"}, {"username": "ghost", "password": "x"}):
        r = client.post("/api/v1/auth/login", json=body)
        assert r.status_code == 401 and r.json()["detail"] == "Wrong username or password"


def test_login_rate_limit(client: TestClient, org: Org) -> None:
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"username": "agent1", "password": "bad"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent12345"})
    assert r.status_code == 429 and r.json()["code"] == "auth.rate_limited" and r.json()["retry_after"] > 0
    # other users are not locked out
    assert client.post("/api/v1/auth/login", json={"username": "agent2", "password": "agent12345"}).status_code == 200


def _token(c: TestClient, **body: Any) -> dict[str, Any]:
    r = c.post("/api/v1/auth/tokens", json={"name": "crm", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_api_token_bearer_scopes_and_hashing(app: Any, agent_client: TestClient, db: Database) -> None:
    tok = _token(agent_client, scopes=["read"])
    assert tok["token"].startswith("slt_") and tok["prefix"] == tok["token"][:10]
    with db.session() as s:
        stored = s.scalar(select(ApiToken.token_hash))
    assert stored != tok["token"] and len(stored or "") == 64
    with TestClient(app) as bare:
        h = {"Authorization": f"Bearer {tok['token']}"}
        assert bare.get("/api/v1/tickets", headers=h).status_code == 200
        r = bare.post("/api/v1/tickets", json={"subject": "x", "type": "inquiry"}, headers=h)
        assert r.status_code == 403 and r.json()["code"] == "auth.scope_missing"
        rw = _token(agent_client, scopes=["read", "write"])
        # bearer writes need no CSRF header (no cookie involved)
        r = bare.post(
            "/api/v1/tickets",
            json={"subject": "x", "type": "inquiry"},
            headers={"Authorization": f"Bearer {rw['token']}"},
        )
        assert r.status_code == 201
        assert bare.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert bare.get("/api/v1/tickets", headers={"Authorization": "Basic abc"}).status_code == 401
        # revoked tokens stop working at once
        assert agent_client.delete(f"/api/v1/auth/tokens/{tok['id']}").status_code == 204
        assert bare.get("/api/v1/tickets", headers=h).status_code == 401


def test_expired_token_rejected(app: Any, agent_client: TestClient) -> None:
    tok = _token(agent_client, scopes=["read"], expires_in_days=1)
    clock.freeze(clock.utcnow() + timedelta(days=2))
    with TestClient(app) as bare:
        r = bare.get("/api/v1/tickets", headers={"Authorization": f"Bearer {tok['token']}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_bad_token_requests(agent_client: TestClient) -> None:
    assert agent_client.post("/api/v1/auth/tokens", json={"name": "x", "scopes": ["root"]}).status_code == 422
    assert agent_client.post("/api/v1/auth/tokens", json={"name": "x", "scopes": ["admin"]}).status_code == 403
    assert agent_client.post("/api/v1/auth/tokens", json={"name": "x", "expires_in_days": 0}).status_code == 422


def test_role_checks(app: Any, org: Org) -> None:
    with TestClient(app) as c:
        login(c, "agent1")
        r = c.post(
            "/api/v1/users",
            json={"username": "x1", "display_name": "X", "password": "12345678", "role": "agent"},
        )
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        assert c.post("/api/v1/products", json={"code": "A", "name": "A"}).status_code == 403
    with TestClient(app) as c:
        login(c, "analyst1")
        assert c.post("/api/v1/tickets", json={"subject": "x", "type": "inquiry"}).status_code == 403
        assert c.get("/api/v1/tickets").status_code == 200
    with TestClient(app) as c:
        login(c, "admin")
        r = c.post(
            "/api/v1/users",
            json={"username": "newagent", "display_name": "新坐席", "password": "12345678", "role": "agent"},
        )
        assert r.status_code == 201
        assert (
            c.post(
                "/api/v1/users",
                json={"username": "NewAgent", "display_name": "dup", "password": "12345678", "role": "agent"},
            ).status_code
            == 409
        )


def test_deactivated_user_loses_session(app: Any, org: Org, db: Database) -> None:
    with TestClient(app) as agent, TestClient(app) as admin:
        login(agent, "agent2")
        login(admin, "admin")
        assert admin.patch(f"/api/v1/users/{org.users['agent2']}", json={"is_active": False}).status_code == 200
        assert agent.get("/api/v1/auth/me").status_code == 401
        r = agent.post("/api/v1/auth/login", json={"username": "agent2", "password": "agent12345"})
        assert r.status_code == 401
    with db.session() as s:
        assert s.get(User, org.users["agent2"]).is_active is False  # type: ignore[union-attr]
