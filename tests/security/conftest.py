"""Security suite fixtures: ONE app for the whole package, configured with distinctive secrets,
talking to sandboxes that require those secrets, with every response body and every log line
(the app's stdout handler, its app.log file handler, and the root logger) captured so the last
test can prove no secret leaked anywhere.

Nothing here is faked except the Dagster submission (FakeSubmitter, as in tests/api)."""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from backend.app import logging_config
from backend.app.config import Settings
from backend.app.main import create_app
from backend.app.security import create_dev_token
from tests.api.conftest import FakeSubmitter, make_settings
from tests.sandbox_fixtures import start_sandbox

_tag = uuid.uuid4().hex[:12]
# Distinctive values: a hit in a log or a body can only be a leak, never a coincidence.
JWT_SECRET = f"sec-jwt-secret-{_tag}-" + "0123456789abcdef" * 4
TIPARSER_KEY = f"sec-tiparser-key-{_tag}"
CASEHELPER_PASSWORD = f"sec-casehelper-pw-{_tag}"
WRONG_TIPARSER_KEY = f"sec-wrong-tiparser-key-{_tag}"  # a second app sends this one (403 path)


@dataclass
class Capture:
    """Everything a client or an operator could see: response bodies and headers, log output."""

    bodies: list[tuple[str, int, str]] = field(default_factory=list)  # (method path, status, text)
    stdout: io.StringIO = field(default_factory=io.StringIO)
    root: io.StringIO = field(default_factory=io.StringIO)
    log_file: Path | None = None
    shared_log: Path | None = None
    shared_log_offset: int = 0
    tokens: set[str] = field(default_factory=set)

    def record(self, label: str, status: int, text: str) -> None:
        self.bodies.append((label, status, text))

    def log_text(self) -> str:
        parts = [self.stdout.getvalue(), self.root.getvalue()]
        if self.log_file and self.log_file.exists():
            parts.append(self.log_file.read_text(errors="replace"))
        if self.shared_log and self.shared_log.exists():
            with open(self.shared_log, "rb") as fh:
                fh.seek(min(self.shared_log_offset, self.shared_log.stat().st_size))
                parts.append(fh.read().decode(errors="replace"))
        return "\n".join(parts)


class RecordingClient(TestClient):
    """A TestClient that keeps every response (status, headers, body) in the Capture."""

    capture: Capture

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any):  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.capture.record(f"{method} {url}", response.status_code, headers + "\n\n" + response.text)
        return response


@pytest.fixture(scope="package")
def sec_sandbox() -> Iterator[Any]:
    with start_sandbox({"SANDBOX_TIPARSER_API_KEY": TIPARSER_KEY,
                        "SANDBOX_CASEHELPER_PASSWORD": CASEHELPER_PASSWORD}) as sb:
        yield sb


def sec_settings_for(sb: Any, **overrides: Any) -> Settings:
    values = {"supabase_jwt_secret": JWT_SECRET, "tiparser_url": sb.tiparser_url, "tiparser_api_key": TIPARSER_KEY,
              "casehelper_api_url": sb.casehelper_url, "casehelper_password": CASEHELPER_PASSWORD,
              "tiparser_read_timeout": 2.0}
    return make_settings(**{**values, **overrides})


@pytest.fixture(scope="package")
def sec_settings(sec_sandbox: Any) -> Settings:
    return sec_settings_for(sec_sandbox)


@pytest.fixture(scope="package")
def capture(tmp_path_factory: pytest.TempPathFactory, sec_settings: Settings) -> Iterator[Capture]:
    """Re-point the app's logging at buffers we can read: its JSON formatter and handlers are
    rebuilt by configure_logging (the app's own code) with a temporary app.log, then the stdout
    handler's stream is swapped for a buffer. Restored afterwards."""
    cap = Capture()
    cap.log_file = tmp_path_factory.mktemp("seclogs") / "app.log"
    cap.shared_log = logging_config.LOG_FILE
    if cap.shared_log.exists():
        cap.shared_log_offset = cap.shared_log.stat().st_size
    app_logger = logging.getLogger("medallion")
    saved = (list(app_logger.handlers), app_logger.level, app_logger.propagate, logging_config._configured)
    logging_config._configured = False
    logging_config.configure_logging(sec_settings, log_file=cap.log_file)
    for handler in app_logger.handlers:
        if type(handler) is logging.StreamHandler:
            handler.setStream(cap.stdout)
    root_handler = logging.StreamHandler(cap.root)
    root_handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(root_handler)
    try:
        yield cap
    finally:
        logging.getLogger().removeHandler(root_handler)
        for handler in app_logger.handlers:
            handler.close()
        app_logger.handlers[:] = saved[0]
        app_logger.setLevel(saved[1])
        app_logger.propagate = saved[2]
        logging_config._configured = saved[3]


@pytest.fixture(scope="package")
def sec_app(database_url: str, sec_settings: Settings, capture: Capture) -> Iterator[tuple[Any, RecordingClient]]:
    app = create_app(sec_settings, database_url=database_url, submitter=FakeSubmitter(), log_file=capture.log_file)
    client = RecordingClient(app, raise_server_exceptions=False)
    client.capture = capture
    with client:
        yield app, client



@pytest.fixture(scope="package")
def client(sec_app: tuple[Any, RecordingClient]) -> RecordingClient:
    return sec_app[1]


@pytest.fixture(scope="package")
def token(sec_settings: Settings, capture: Capture) -> str:
    value = create_dev_token(sec_settings)
    capture.tokens.add(value)
    return value


@pytest.fixture(scope="package")
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _walk(routes: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, APIRoute):
            for method in route.methods - {"HEAD", "OPTIONS"}:
                yield method, prefix + route.path
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers nested
            ctx = getattr(route, "include_context", None)
            yield from _walk(route.original_router.routes, prefix + (getattr(ctx, "prefix", "") or ""))


def api_routes(app: Any) -> list[tuple[str, str]]:
    """Every (METHOD, path template) under /api: the app's route table, walked (so routes hidden
    from the docs count too), united with the OpenAPI document."""
    found = {(m, p) for m, p in _walk(app.routes) if p.startswith("/api")}
    for path, item in app.openapi()["paths"].items():
        if path.startswith("/api"):
            found |= {(m.upper(), path) for m in item if m in ("get", "post", "put", "patch", "delete")}
    return sorted(found)


def table_counts(database_url: str) -> dict[str, int]:
    """Row count of every table in the schemas the app writes (public, plus any non-system schema)."""
    with psycopg.connect(database_url) as conn:
        rels = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2").fetchall()
        return {f"{s}.{t}": conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in rels}


def wait_quiet(app: Any, timeout: float = 5.0) -> None:
    """Let the background submitter finish what it was handed (it writes extraction_requests)."""
    app.state.trigger.wait_idle(timeout)
    time.sleep(0.05)
