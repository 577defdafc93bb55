"""API test fixtures: the real app (real routers, real lifespan, a real connection pool on the
session's migrated database). The ONLY fake is the Dagster submission (`FakeSubmitter`): it
records what the background worker hands to trigger_case_ingestion.submit_requests and answers
with run ids, or raises like an unreachable Dagster."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import psycopg
import pytest
from fastapi.testclient import TestClient

from backend.app.config import Settings
from backend.app.main import create_app
from backend.app.security import create_dev_token
from tests.sandbox_cases import store_sandbox_case


class DagsterDown(Exception):
    """Stands in for trigger_case_ingestion.DagsterUnavailable."""


class FakeSubmitter:
    def __init__(self) -> None:
        self.calls: list[list[tuple[str, str]]] = []
        self.down = False
        self.lock = threading.Lock()

    def __call__(self, requests: list[tuple[str, str]], *, dagster_host: str,
                 dagster_port: int) -> list[dict[str, Any]]:
        with self.lock:
            self.calls.append(list(requests))
        if self.down:
            raise DagsterDown("connection refused")
        return [{"case_id": c, "request_id": r, "run_id": f"run-{r[:8]}"} for c, r in requests]

    @property
    def submitted(self) -> list[tuple[str, str]]:
        return [pair for call in self.calls for pair in call]


def make_settings(**overrides: Any) -> Settings:
    # The status cache is off here: these tests write states as Dagster would (another process,
    # which cannot invalidate it) and read the status at once. tests/api/test_status_cache.py
    # covers the cache itself.
    base = {"environment": "test", "dagster_host": "127.0.0.1", "dagster_port": 1,  # nothing listens on :1
            "dagster_ui_url": "http://localhost:3000", "status_cache_ttl_s": 0}
    return Settings(**{**base, **overrides})


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def submitter() -> FakeSubmitter:
    return FakeSubmitter()


@pytest.fixture
def client(database_url: str, settings: Settings, submitter: FakeSubmitter) -> Iterator[TestClient]:
    app = create_app(settings, database_url=database_url, submitter=submitter, log_file=None)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings) -> str:
    return create_dev_token(settings)


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(client: TestClient, auth: dict[str, str]) -> TestClient:
    """The client with a valid token on every request."""
    client.headers.update(auth)
    return client


def forge(settings: Settings, **claims: Any) -> str:
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "aud": settings.supabase_jwt_audience, "role": "authenticated",
            "iat": now, "exp": now + 600}
    base.update(claims)
    secret = base.pop("_secret", settings.supabase_jwt_secret)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def ingested(database_url: str, case_id: str) -> str:
    """The sandbox's deterministic payloads for this case id, stored through the bronze writer:
    the SQL triggers build silver and gold."""
    with psycopg.connect(database_url) as conn:
        store_sandbox_case(conn, case_id)
    return case_id
