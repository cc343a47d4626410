"""Running job workers: loading handler modules, the embedded worker of ``serve`` (SQLite) and the
``servicelens worker`` process (any number of them on PostgreSQL).

Handlers and periodic tasks register themselves when their module is imported. A worker imports
every ``servicelens.<package>.jobs`` and ``servicelens.<package>.tasks`` module (the convention for
built-in domains, e.g. ``servicelens.sla.tasks``) and then the comma-separated modules in
``SERVICELENS_JOB_MODULES`` (plugins, test fixtures).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import pkgutil
from collections.abc import Callable

from sqlalchemy import inspect

from servicelens.core import jobs
from servicelens.core.db import Database

ENV_JOB_MODULES = "SERVICELENS_JOB_MODULES"
ENV_EMBEDDED_WORKER = "SERVICELENS_EMBEDDED_WORKER"
BUILTIN_MODULE_NAMES = ("jobs", "tasks")

log = logging.getLogger("servicelens.worker")


def builtin_job_modules() -> list[str]:
    """``servicelens.<package>.jobs``/``.tasks`` modules that exist (``core`` holds the framework)."""
    import servicelens

    names = []
    for info in pkgutil.iter_modules(servicelens.__path__):
        if info.ispkg and info.name != "core":
            for leaf in BUILTIN_MODULE_NAMES:
                name = f"servicelens.{info.name}.{leaf}"
                if importlib.util.find_spec(name) is not None:
                    names.append(name)
    return sorted(names)


def load_job_modules(extra: str | None = None) -> list[str]:
    """Import the built-in job modules and those listed in ``extra`` (default: the env var)."""
    listed = os.environ.get(ENV_JOB_MODULES, "") if extra is None else extra
    names = builtin_job_modules() + [m.strip() for m in listed.split(",") if m.strip()]
    for name in names:
        importlib.import_module(name)
    return names


def embedded_worker_enabled(db: Database) -> bool:
    """SQLite file databases run one worker inside ``serve`` unless SERVICELENS_EMBEDDED_WORKER=false."""
    flag = os.environ.get(ENV_EMBEDDED_WORKER, "true").strip().lower()
    database = db.engine.url.database
    return db.is_sqlite and flag not in ("false", "0", "no", "off") and bool(database) and database != ":memory:"


def start_embedded_worker(db: Database) -> jobs.Worker | None:
    """Start the in-process worker thread of ``serve`` when :func:`embedded_worker_enabled`."""
    if not embedded_worker_enabled(db):
        return None
    load_job_modules()
    worker = jobs.Worker(db, concurrency=1)
    worker.start()
    return worker


def run_worker(
    db: Database,
    *,
    concurrency: int,
    poll_s: float,
    lease_s: float,
    periodic: bool,
    echo: Callable[[str], None] = print,
) -> int:
    """Body of ``servicelens worker``; returns the exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = db.engine.url.render_as_string(hide_password=True)
    if not inspect(db.engine).has_table("jobs"):
        echo(f"error: {url} has no jobs table — run `servicelens init` first")
        return 2
    modules = load_job_modules()
    worker = jobs.Worker(db, concurrency=concurrency, poll_s=poll_s, lease_s=lease_s, periodic=periodic)
    echo(f"worker {worker.name} started on {url}")
    names = ", ".join(modules) or "-"
    echo(f"  concurrency {concurrency}, poll {poll_s:g} s, lease {lease_s:g} s; modules: {names}")
    echo(f"  job kinds: {', '.join(jobs.registered_kinds()) or '-'}")
    if periodic:
        tasks = ", ".join(f"{t.name} every {t.every_s:g} s" for t in jobs.periodic_tasks())
        echo(f"  periodic (leader-locked): {tasks or '-'}")
    if db.is_sqlite:
        echo(f"  note: `serve` also runs a worker on SQLite unless {ENV_EMBEDDED_WORKER}=false")
    worker.run_forever()
    echo(f"worker {worker.name} stopped")
    return 0
