"""The FastAPI application: API under /api/v1, the web UI at /app, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicelens import __version__
from servicelens.alerts.router import admin as alerts_admin_router
from servicelens.alerts.router import notifications as notifications_router
from servicelens.config import get_settings
from servicelens.core.db import Database
from servicelens.core.errors import install_handlers, problem_response
from servicelens.core.security import LoginRateLimiter
from servicelens.customers.router import router as customers_router
from servicelens.imports.router import router as imports_router
from servicelens.jobs_router import router as jobs_router
from servicelens.org.router import auth_router
from servicelens.org.router import router as org_router
from servicelens.products.router import router as products_router
from servicelens.sla.router import router as sla_router
from servicelens.sla.router import ticket_router as sla_ticket_router
from servicelens.tickets.router import router as tickets_router
from servicelens.worker import start_embedded_worker

API_PREFIX = "/api/v1"
# Routes reachable without credentials (the OpenAPI walk test checks every other route answers 401).
PUBLIC_PATHS = frozenset({"/api/v1/auth/login", "/healthz", "/readyz", "/metrics", "/", "/app", "/app/{path}"})

REQUESTS = Counter("servicelens_http_requests_total", "HTTP requests", ["method", "status"])


class RequestCounter:
    """Counts responses by method and status (plain ASGI: BaseHTTPMiddleware costs ~0.5 ms a request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                REQUESTS.labels(scope["method"], str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)


# Ticket routes first: the router tries routes in order and these are the most requested.
DOMAIN_ROUTERS = (
    tickets_router,
    auth_router,
    org_router,
    customers_router,
    products_router,
    imports_router,
    sla_router,
    sla_ticket_router,
    notifications_router,
    alerts_admin_router,
    jobs_router,
)


def add_api_routes(app: FastAPI) -> None:
    """Register every domain route on the app itself, under /api/v1.

    ``include_router`` in this FastAPI keeps each included router as a nested node that is matched
    twice per request (once to select, once to handle), which cost ~0.3 ms of a ~1 ms ticket read
    with our ~100 routes; flat routes are matched once, one regex each (docs/decisions.md)."""
    for router in DOMAIN_ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"unexpected route type {type(route).__name__} in {router.prefix}")
            app.router.add_api_route(
                API_PREFIX + route.path,
                route.endpoint,
                response_model=route.response_model,
                status_code=route.status_code,
                tags=route.tags,
                dependencies=route.dependencies,
                summary=route.summary,
                description=route.description,
                response_description=route.response_description,
                responses=route.responses,
                deprecated=route.deprecated,
                methods=route.methods,
                operation_id=route.operation_id,
                include_in_schema=route.include_in_schema,
                response_class=route.response_class,
                name=route.name,
                callbacks=route.callbacks,
                openapi_extra=route.openapi_extra,
            )


def create_app(
    database_url: str | None = None, db: Database | None = None, *, embedded_worker: bool | None = None
) -> FastAPI:
    """``embedded_worker``: run the SQLite job worker thread in this process (see
    servicelens.worker.start_embedded_worker); default: only when the app owns its database, so
    tests that pass ``db=`` run jobs explicitly with ``servicelens.core.jobs.drain``."""
    settings = get_settings()
    database = db or Database(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        run_worker = embedded_worker if embedded_worker is not None else db is None
        worker = start_embedded_worker(database) if run_worker else None
        yield
        if worker is not None:
            worker.stop()
        if db is None:
            database.dispose()

    app = FastAPI(
        title="servicelens API",
        version=__version__,
        description="服务质量监控与管理平台 — service-quality monitoring and management. "
        "Errors are RFC 9457 problem details with a stable `code`.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.db = database
    app.state.login_limiter = LoginRateLimiter(settings.login_max_attempts, settings.login_window_seconds)
    install_handlers(app)

    # Probes first: routes are tried in order and these are called constantly.
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # readiness reports, it does not raise
            return problem_response(503, "not_ready", "Not ready", f"database unavailable: {exc.__class__.__name__}")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    add_api_routes(app)

    app.add_middleware(RequestCounter)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/app/")

    _mount_web(app, settings.web_dist)
    return app


def _mount_web(app: FastAPI, dist: Path) -> None:
    """Serve the built SPA; unknown /app/* paths get index.html (history-mode routing)."""

    def spa(path: str = "") -> Response:
        target = (dist / path).resolve()
        if path and target.is_file() and dist.resolve() in target.parents:
            headers = {"Cache-Control": "public, max-age=31536000, immutable"} if "/assets/" in f"/{path}" else {}
            return FileResponse(target, headers=headers)
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(
                "<h1>servicelens</h1><p>The web UI is not built. Run <code>make web</code> "
                "(or <code>make demo</code>). 网页界面尚未构建，请运行 make web。</p>",
                status_code=503,
            )
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route("/app", spa, include_in_schema=False)
    app.add_api_route("/app/{path:path}", spa, include_in_schema=False)
