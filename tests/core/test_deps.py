"""core.deps.read: a bounded number of reads at once, point reads inline on SQLite."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

from servicelens.core.db import Database
from servicelens.core.deps import read


def _request(db: Database) -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(db=db)))


def test_reads_run_a_few_at_a_time(db: Database) -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def work(conn: Any) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return int(conn.exec_driver_sql("SELECT 1").scalar_one())

    async def main() -> list[int]:
        return await asyncio.gather(*(read(_request(db), work) for _ in range(12)))

    assert asyncio.run(main()) == [1] * 12
    assert peak == (2 if db.is_sqlite else 8)


def test_point_reads_stay_on_the_event_loop_on_sqlite(db: Database) -> None:
    async def main() -> tuple[int, int]:
        here = threading.get_ident()
        there = await read(_request(db), lambda conn: threading.get_ident(), point=True)
        return here, there

    here, there = asyncio.run(main())
    assert (here == there) is db.is_sqlite
