"""One place for configuration: environment variables and `.env`, read by the backend, the
pipeline and the developer tools alike.

Variable names are the ones the design and the upstream contracts use (TIPARSER_URL,
CASEHELPER_API_URL, ...), so there is no prefix. The original deployment's aliases are
accepted too (SUPABASE_KEY, CASEHELPER_BASE_URL).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_LOG_FILE = PROJECT_ROOT / "backend" / "logs" / "app.log"

# Defaults that only make sense against the local sandboxes. Outside local mode they count
# as placeholders and stop start-up.
LOCAL_TIPARSER_API_KEY = "sandbox-tiparser-key"
LOCAL_CASEHELPER_USERNAME = "sandbox-user"
LOCAL_CASEHELPER_PASSWORD = "sandbox-password"
LOCAL_JWT_SECRET = "local-development-jwt-secret-not-for-production-use"

_PLACEHOLDER_MARKERS = ("your-", "your_", "changeme", "change-me", "placeholder", "xxx", "<", "example")
_LOCAL_DEFAULTS = {LOCAL_TIPARSER_API_KEY, LOCAL_CASEHELPER_USERNAME, LOCAL_CASEHELPER_PASSWORD, LOCAL_JWT_SECRET}


def _is_placeholder(value: str | None) -> bool:
    if not value or not value.strip():
        return True
    lowered = value.strip().lower()
    return value in _LOCAL_DEFAULTS or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    environment: Literal["local", "test", "staging", "production"] = Field(
        "local", validation_alias=AliasChoices("ENVIRONMENT", "APP_ENV")
    )
    log_level: str = "INFO"
    # The rotating JSON log file (beside stdout); empty: stdout only.
    log_file: str = str(DEFAULT_LOG_FILE)

    # --- database -------------------------------------------------------------------
    # A Supabase direct or pooler connection string, or any Postgres URL. Unset: embedded.
    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL", "SUPABASE_DB_URL"))
    embedded_pg_dir: Path = VAR_DIR / "pg"

    # --- Supabase (Storage, auth) ---------------------------------------------------
    supabase_url: str | None = None
    supabase_service_role_key: str | None = Field(
        None, validation_alias=AliasChoices("SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_KEY")
    )
    supabase_anon_key: str | None = None
    supabase_jwt_secret: str = LOCAL_JWT_SECRET
    supabase_jwks_url: str | None = None
    supabase_jwt_audience: str = "authenticated"
    pdf_storage_bucket: str = "case-pdfs"
    pdf_local_dir: Path = VAR_DIR / "pdfs"

    # --- TiParser -------------------------------------------------------------------
    # Unset: the local sandbox started by `make run` on sandbox_tiparser_port.
    tiparser_url: str | None = None
    tiparser_api_key: str = LOCAL_TIPARSER_API_KEY
    tiparser_connect_timeout: float = 5.0
    tiparser_read_timeout: float = 120.0

    # --- CaseHelper -----------------------------------------------------------------
    casehelper_api_url: str | None = Field(
        None, validation_alias=AliasChoices("CASEHELPER_API_URL", "CASEHELPER_BASE_URL")
    )
    casehelper_username: str = LOCAL_CASEHELPER_USERNAME
    casehelper_password: str = LOCAL_CASEHELPER_PASSWORD
    casehelper_app_type: str = "transcript_pipeline"
    casehelper_api_key: str | None = None
    casehelper_timeout: float = 60.0

    # --- local sandboxes ------------------------------------------------------------
    sandbox_tiparser_port: int = 8101
    sandbox_casehelper_port: int = 8102

    # --- Dagster and the API process ------------------------------------------------
    dagster_home: Path = VAR_DIR / "dagster_home"
    dagster_host: str = "127.0.0.1"
    dagster_port: int = 3000
    dagster_ui_url: str = "http://localhost:3000"
    host: str = "127.0.0.1"
    port: int = 8000
    frontend_url: str = "http://localhost:5173"
    cors_origins: list[str] = ["http://localhost:5173", "http://localhost:3001", "http://127.0.0.1:5173"]
    alert_webhook_url: str | None = None
    # How long `async_mode=false` extraction waits for completion before answering "still running".
    extract_sync_timeout_s: float = 120.0
    # Per-process cache of the status answer, seconds (0 = off, at most 1); see services/status_cache.py.
    status_cache_ttl_s: float = Field(1.0, ge=0.0, le=1.0)

    @property
    def is_local(self) -> bool:
        return self.environment in ("local", "test")

    @property
    def tiparser_base_url(self) -> str:
        return (self.tiparser_url or f"http://127.0.0.1:{self.sandbox_tiparser_port}").rstrip("/")

    @property
    def casehelper_base_url(self) -> str:
        return (self.casehelper_api_url or f"http://127.0.0.1:{self.sandbox_casehelper_port}").rstrip("/")

    @property
    def uses_sandboxes(self) -> bool:
        return self.tiparser_url is None or self.casehelper_api_url is None

    @model_validator(mode="after")
    def _refuse_placeholders_outside_local(self) -> Settings:
        if self.is_local:
            return self
        required = {
            "DATABASE_URL": self.database_url,
            "TIPARSER_URL": self.tiparser_url,
            "TIPARSER_API_KEY": self.tiparser_api_key,
            "CASEHELPER_API_URL": self.casehelper_api_url,
            "CASEHELPER_USERNAME": self.casehelper_username,
            "CASEHELPER_PASSWORD": self.casehelper_password,
            "SUPABASE_JWT_SECRET": self.supabase_jwt_secret if not self.supabase_jwks_url else "jwks",
        }
        missing = [name for name, value in required.items() if _is_placeholder(value)]
        if self.supabase_url and _is_placeholder(self.supabase_service_role_key):
            missing.append("SUPABASE_SERVICE_ROLE_KEY (or SUPABASE_KEY)")
        if missing:
            raise ValueError(
                f"ENVIRONMENT={self.environment} needs real values for: {', '.join(missing)}. "
                "Set them in the environment or .env (see .env.example), or use ENVIRONMENT=local "
                "to run against the local sandboxes."
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
