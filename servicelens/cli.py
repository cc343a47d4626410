"""The ``servicelens`` command: init, serve, worker, demo, import, export, openapi, users."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select

from servicelens.config import get_settings
from servicelens.core.db import Database
from servicelens.core.migrate import upgrade

app = typer.Typer(
    help="servicelens — 服务质量监控与管理平台 (service-quality monitoring and management).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)

DEFAULT_ADMIN = ("admin", "admin12345")


def _db() -> Database:
    return Database()


def fail(message: str, fix: str | None = None) -> None:
    console.print(f"[red]error:[/red] {message}")
    if fix:
        console.print(f"[yellow]fix:[/yellow] {fix}")
    raise typer.Exit(code=2)


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="Username of the first admin")] = DEFAULT_ADMIN[0],
    admin_password: Annotated[
        str | None, typer.Option(help="Password of the first admin (default: admin12345 — change it)")
    ] = None,
) -> None:
    """Migrate the database to the latest schema and create the first admin if there is none."""
    from servicelens.org.models import Role, User
    from servicelens.org.schemas import UserCreate
    from servicelens.org.service import create_user

    db = _db()
    upgrade(db.engine)
    settings = get_settings()
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(User).where(User.role == Role.admin.value)):
            console.print(f"[green]✓[/green] database ready at {settings.database_url} (admin exists)")
            return
        password = admin_password or DEFAULT_ADMIN[1]
        create_user(
            s,
            UserCreate(username=admin_username, display_name="管理员 Admin", password=password, role=Role.admin),
        )
    console.print(f"[green]✓[/green] database ready at {settings.database_url}")
    console.print(f"  login: [bold]{admin_username}[/bold] / [bold]{password}[/bold]")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL or read-heavy SQLite)")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code change (development)")] = False,
) -> None:
    """Run the web server (API, web UI at /app)."""
    import uvicorn

    settings = get_settings()
    h, p = host or settings.host, port or settings.port
    console.print(f"servicelens on [bold]http://{h}:{p}/app/[/bold]  (API docs: http://{h}:{p}/docs)")
    uvicorn.run(
        "servicelens.asgi:app",
        host=h,
        port=p,
        workers=workers if not reload else 1,
        reload=reload,
        log_level="warning",
        access_log=False,
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once (threads)")] = 4,
    poll: Annotated[float, typer.Option(min=0.01, help="Seconds between polls of an empty queue")] = 0.2,
    lease: Annotated[
        float, typer.Option(min=1, help="Seconds a job stays claimed if this process dies (heartbeat-renewed)")
    ] = 60.0,
    periodic: Annotated[bool, typer.Option(help="Also run periodic tasks (leader-locked)")] = True,
) -> None:
    """Run background jobs and periodic tasks until SIGTERM/SIGINT (run several on PostgreSQL)."""
    from servicelens.worker import run_worker

    code = run_worker(_db(), concurrency=concurrency, poll_s=poll, lease_s=lease, periodic=periodic, echo=console.print)
    raise typer.Exit(code=code)


@app.command()
def demo(
    tickets: Annotated[int, typer.Option(help="Number of tickets to generate", min=100)] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed → same data)")] = 42,
    days: Annotated[int, typer.Option(help="Days of history", min=7)] = 365,
) -> None:
    """Load a realistic Chinese after-sales demo company (idempotent: reuses existing demo data)."""
    import time

    from servicelens.demo.generator import generate
    from servicelens.sla.defaults import ensure_defaults
    from servicelens.sla.service import rebuild

    db = _db()
    upgrade(db.engine)
    result = generate(db, tickets=tickets, seed=seed, days=days, console=console)
    console.print(result.summary())
    with db.session() as s:
        created = ensure_defaults(s).created
    if created:
        # Replay the generated history through the SLA engine so targets, warnings and breaches exist.
        t0 = time.perf_counter()
        with console.status("SLA: 计算历史工单的时效目标 / computing SLA targets of the history…"):
            n = rebuild(db, open_only=False, backfill=True)
        console.print(f"[green]✓[/green] SLA 日历、策略与升级规则 / calendar, policies, ladders: {len(created)}")
        console.print(f"[green]✓[/green] SLA targets for {n:,} tickets in {time.perf_counter() - t0:.1f} s")
    else:
        console.print("[green]✓[/green] SLA set-up exists: reused / SLA 配置已存在，沿用")


@app.command("import")
def import_cmd(
    kind: Annotated[str, typer.Argument(help="customers | products | tickets")],
    path: Annotated[Path, typer.Argument(help="CSV, XLSX or NDJSON file", exists=False)],
    as_user: Annotated[str, typer.Option("--as", help="Username the import runs as")] = "admin",
    source: Annotated[str, typer.Option(help="Source system name (external ids are unique per source)")] = "import",
) -> None:
    """Bulk import with per-row results: good rows are stored, bad rows reported."""
    from servicelens.imports.service import run_import_cli

    code = run_import_cli(_db(), kind, path, as_user, source, console)
    raise typer.Exit(code=code)


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help="customers | products | tickets")],
    path: Annotated[Path, typer.Argument(help="Output file; format from the suffix: .csv, .xlsx, .ndjson")],
    as_user: Annotated[str, typer.Option("--as", help="Username whose data scope applies")] = "admin",
) -> None:
    """Export rows to CSV, XLSX or NDJSON."""
    from servicelens.imports.service import run_export_cli

    raise typer.Exit(code=run_export_cli(_db(), kind, path, as_user, console))


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None,
) -> None:
    """Print the OpenAPI document (used to generate the web UI's TypeScript types)."""
    from servicelens.app import create_app

    doc = json.dumps(create_app("sqlite://").openapi(), ensure_ascii=False, indent=1)
    if out:
        out.write_text(doc + "\n", encoding="utf-8")
    else:
        sys.stdout.write(doc + "\n")


if __name__ == "__main__":
    app()
