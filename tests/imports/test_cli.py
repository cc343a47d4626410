"""`servicelens import` and `servicelens export` against the test database."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicelens.cli import app
from servicelens.config import get_settings
from servicelens.core.db import Database
from servicelens.customers.models import Customer
from servicelens.tickets.models import Ticket
from tests.conftest import Org
from tests.imports.helpers import CUSTOMER_COLUMNS, CUSTOMERS, count, csv_bytes, file_for


@pytest.fixture
def cli(db: Database, org: Org, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SERVICELENS_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_import_all_good(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "customers.csv", csv_bytes(CUSTOMER_COLUMNS, CUSTOMERS, encoding="gbk"))
    result = cli.invoke(app, ["import", "customers", str(path), "--source", "crm"])
    assert result.exit_code == 0, result.output
    assert "gbk" in result.output and "created" in result.output
    assert count(db, Customer, Customer.source == "crm") == 2


def test_import_with_bad_rows_exits_1_and_shows_them(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    rows = [*CUSTOMERS, {"external_id": "BAD-1", "name": "坏数据", "tier": "gold", "lat": "north"}]
    path = _write(tmp_path, "customers.csv", csv_bytes(CUSTOMER_COLUMNS, rows))
    result = cli.invoke(app, ["import", "customers", str(path)])
    assert result.exit_code == 1, result.output
    assert "tier" in result.output and "lat" in result.output and "gold" in result.output
    assert "row 1 = first line after the header" in result.output
    assert count(db, Customer, Customer.source == "import") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "orders", "x.csv"], "unknown kind"),
        (["import", "customers", "does-not-exist.csv"], "file not found"),
        (["import", "customers", "{good}", "--as", "nobody"], "no active user"),
        (["import", "customers", "{good}", "--as", "agent1"], "lacks permission"),
        (["import", "tickets", "{garbage}"], "UTF-8"),
        (["import", "customers", "{columns}"], "unknown columns"),
        (["export", "customers", "out.txt"], "cannot tell the format"),
        (["export", "customers", "{tmp}/missing/out.csv"], "directory does not exist"),
        (["export", "customers", "{tmp}/out.csv", "--as", "agent1"], "lacks permission"),
    ],
)
def test_file_level_problems_exit_2(
    cli: CliRunner, db: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    files = {
        "good": _write(tmp_path, "good.csv", file_for("customers", "csv")[1]),
        "garbage": _write(tmp_path, "garbage.csv", random.Random(3).randbytes(2048)),
        "columns": _write(tmp_path, "columns.csv", b"external_id,name,shoe_size\nX,Y,42\n"),
    }
    argv = [a.format(tmp=tmp_path, **{k: str(v) for k, v in files.items()}) for a in args]
    result = cli.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "fix:" in result.output or "error:" in result.output
    assert count(db, Customer, Customer.source == "import") == 0


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "ndjson"])
def test_export_then_reimport(cli: CliRunner, db: Database, tmp_path: Path, suffix: str) -> None:
    for kind in ("customers", "products", "tickets"):
        name, content = file_for(kind, "csv")
        assert cli.invoke(app, ["import", kind, str(_write(tmp_path, name, content))]).exit_code == 0
    out = tmp_path / f"tickets.{suffix}"
    result = cli.invoke(app, ["export", "tickets", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    result = cli.invoke(app, ["import", "tickets", str(out)])
    assert result.exit_code == 0, result.output
    assert count(db, Ticket) == 3
    if suffix == "csv":
        with out.open(encoding="utf-8-sig") as f:
            assert [r["external_id"] for r in csv.DictReader(f)] == ["T-1001", "T-1002", "T-1003"]
