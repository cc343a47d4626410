"""Runtime configuration (env prefix ``SERVICELENS_``, ``.env`` supported)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICELENS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/servicelens.db",
        description="SQLAlchemy URL; SQLite (WAL) by default, postgresql+psycopg://… in production.",
    )
    timezone: str = "Asia/Shanghai"
    secret_key: str = Field(default="change-me-in-production", description="Signs CSRF tokens.")
    session_days: int = 7
    cookie_secure: bool = False
    login_max_attempts: int = 5
    login_window_seconds: int = 300
    host: str = "127.0.0.1"
    port: int = 8000
    log_json: bool = False
    web_dist: Path = Path(__file__).resolve().parent / "static" / "app"
    max_import_bytes: int = 200 * 1024 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
