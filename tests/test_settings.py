"""Settings validation: aliases, local defaults, and refusal of placeholder secrets outside local."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.app.config import Settings

ALL_VARS = [
    "ENVIRONMENT", "APP_ENV", "DATABASE_URL", "SUPABASE_DB_URL", "SUPABASE_URL", "SUPABASE_KEY",
    "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_JWT_SECRET", "SUPABASE_JWKS_URL", "TIPARSER_URL",
    "TIPARSER_API_KEY", "CASEHELPER_API_URL", "CASEHELPER_BASE_URL", "CASEHELPER_USERNAME",
    "CASEHELPER_PASSWORD",
]

PRODUCTION = {
    "ENVIRONMENT": "production",
    "DATABASE_URL": "postgresql://medallion:s3cret-pw@db.internal:5432/medallion",
    "TIPARSER_URL": "https://tiparser.internal",
    "TIPARSER_API_KEY": "tp_live_8f2a61c0",
    "CASEHELPER_API_URL": "https://casehelper.internal",
    "CASEHELPER_USERNAME": "pipeline-bot",
    "CASEHELPER_PASSWORD": "Zq7!mLp2",
    "SUPABASE_JWT_SECRET": "f3b1c9d27e5a4c8b9d0e1f2a3b4c5d6e",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ALL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_local_defaults_point_at_the_sandboxes():
    settings = Settings()
    assert settings.is_local
    assert settings.tiparser_base_url == "http://127.0.0.1:8101"
    assert settings.casehelper_base_url == "http://127.0.0.1:8102"
    assert settings.database_url is None  # embedded Postgres


def test_original_deployment_aliases_are_accepted(monkeypatch):
    monkeypatch.setenv("SUPABASE_KEY", "service-key-from-alias")
    monkeypatch.setenv("CASEHELPER_BASE_URL", "https://ch.example.org/")
    settings = Settings()
    assert settings.supabase_service_role_key == "service-key-from-alias"
    assert settings.casehelper_base_url == "https://ch.example.org"


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("TIPARSER_URL=https://from-dotenv.example.net\n")
    assert Settings().tiparser_base_url == "https://from-dotenv.example.net"


def test_production_with_real_values_starts(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert Settings().environment == "production"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIPARSER_API_KEY", "your-tiparser-key"),
        ("TIPARSER_API_KEY", "sandbox-tiparser-key"),  # the local default is not a real key
        ("CASEHELPER_PASSWORD", ""),
        ("DATABASE_URL", ""),
        ("SUPABASE_JWT_SECRET", "changeme"),
    ],
)
def test_placeholder_secret_outside_local_names_the_variable(monkeypatch, variable, value):
    for name, real in PRODUCTION.items():
        monkeypatch.setenv(name, real)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert variable in str(refused.value)
    assert "ENVIRONMENT=local" in str(refused.value)


def test_missing_service_key_is_refused_when_supabase_storage_is_configured(monkeypatch):
    for name, real in PRODUCTION.items():
        monkeypatch.setenv(name, real)
    monkeypatch.setenv("SUPABASE_URL", "https://abc.supabase.co")
    with pytest.raises(ValidationError, match="SUPABASE_SERVICE_ROLE_KEY"):
        Settings()
