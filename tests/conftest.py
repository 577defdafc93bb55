"""Shared fixtures: a real Postgres (embedded unless DATABASE_URL is set), a fresh database
per test session with every migration applied, and the sandbox services."""

from __future__ import annotations

import os
import uuid

# The pipeline's settings are read once, when dagster_pipeline is first imported, and test
# packages other than tests/dagster import it too (the API's trigger does). So the test
# timings go into the environment here, before any test module loads: fast retries, one
# quick step retry, small batches, no sensor grace period.
os.environ.setdefault("MEDALLION_BACKOFF_BASE_SECONDS", "0.05")
os.environ.setdefault("MEDALLION_TIPARSER_MAX_RETRIES", "3")
os.environ.setdefault("MEDALLION_CASEHELPER_MAX_RETRIES", "3")
os.environ.setdefault("MEDALLION_STEP_MAX_RETRIES", "1")
os.environ.setdefault("MEDALLION_STEP_RETRY_DELAY_SECONDS", "0.1")
os.environ.setdefault("MEDALLION_SENSOR_MIN_AGE_SECONDS", "0")
os.environ.setdefault("MEDALLION_BATCH_SIZE", "3")
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from backend.app.config import VAR_DIR
from backend.app.db import embedded
from backend.app.db.migrate import apply_migrations

pytest_plugins = ["tests.sandbox_fixtures"]


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """A server we may create databases on: DATABASE_URL's, or an embedded one under var/."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return embedded.start(Path(os.environ.get("TEST_PG_DIR", VAR_DIR / "pg-test")))


@pytest.fixture(scope="session")
def create_database(postgres_server_url: str) -> Iterator[Callable[[str], str]]:
    """Factory: create an empty uniquely named database, return its URL; dropped at session end."""
    created: list[str] = []

    def create(prefix: str = "medallion_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return embedded.with_database(postgres_server_url, name)

    yield create
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database_url(create_database: Callable[[str], str]) -> str:
    """A database with every migration applied, shared by the session. Tests that commit must
    use case ids of their own (see `case_id`)."""
    url = create_database("medallion_test")
    apply_migrations(url, log=lambda _msg: None)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(database_url) as conn:
        yield conn
        conn.rollback()


@pytest.fixture
def case_id() -> str:
    """A case id no other test uses (for tests that commit)."""
    return str(uuid.uuid4().int % 10**12).rjust(12, "9")
