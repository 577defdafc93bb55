"""Start a real Dagster (`dagster dev`: webserver + daemon + code server) on a free port with a
given instance yaml and environment, for the production-config test and the benchmarks.
Only the process group this helper started is ever stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from dagster_pipeline.instance import PRODUCTION_INSTANCE_YAML, sqlalchemy_url
from tests.sandbox_fixtures import REPO_ROOT, free_port


@dataclass
class DagsterStack:
    host: str
    port: int
    dagster_home: Path
    env: dict[str, str]
    pid: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextlib.contextmanager
def start_dagster(
    *,
    database_url: str,
    dagster_pg_url: str,
    sandbox,
    extra_env: dict[str, str] | None = None,
    instance_yaml: Path = PRODUCTION_INSTANCE_YAML,
    timeout: float = 90,
) -> Iterator[DagsterStack]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dagster-home-") as home:
        Path(home, "dagster.yaml").write_text(instance_yaml.read_text())
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "MEDALLION_"))},
            "DAGSTER_HOME": home,
            "DATABASE_URL": database_url,
            "DAGSTER_POSTGRES_URL_SQLALCHEMY": sqlalchemy_url(dagster_pg_url),
            "TIPARSER_URL": sandbox.tiparser_url,
            "TIPARSER_API_KEY": sandbox.tiparser_api_key,
            "CASEHELPER_API_URL": sandbox.casehelper_url,
            "CASEHELPER_USERNAME": sandbox.casehelper_username,
            "CASEHELPER_PASSWORD": sandbox.casehelper_password,
            "ENVIRONMENT": "local",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "MEDALLION_SENSOR_INTERVAL_SECONDS": "5",
            **(extra_env or {}),
        }
        log = open(Path(home, "dagster.log"), "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster")),
                "dev",
                "-m",
                "dagster_pipeline",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"dagster dev exited: {Path(home, 'dagster.log').read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dagster dev not up: {Path(home, 'dagster.log').read_text()[-3000:]}")
                time.sleep(0.3)
            yield DagsterStack("127.0.0.1", port, Path(home), env, proc.pid)
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGINT)  # the group this helper started
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            _reap_group(proc.pid)
            log.close()


def _reap_group(pgid: int, grace_s: float = 10.0) -> None:
    """dagster dev can exit before its children (a `dagster api grpc` code server outlived it by
    minutes): wait for the rest of its process group, then kill what is left of it."""
    deadline = time.monotonic() + grace_s
    for sig in (0, signal.SIGTERM, signal.SIGKILL):
        if sig:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        deadline = time.monotonic() + 5


def wait_for_requests(
    conn, request_ids: list[str], timeout: float = 60, poll: float = 0.05
) -> dict[str, str]:
    """Poll extraction_requests until every request is finished; {request_id: status}."""
    deadline = time.monotonic() + timeout
    done = ("complete", "partial", "failed", "cancelled")
    while True:
        rows = dict(
            conn.execute(
                "SELECT request_id::text, status FROM public.extraction_requests"
                " WHERE request_id::text = ANY(%s)",
                (request_ids,),
            ).fetchall()
        )
        if rows and len(rows) == len(request_ids) and all(s in done for s in rows.values()):
            return rows
        if time.monotonic() > deadline:
            raise TimeoutError(f"requests not finished after {timeout}s: {rows}")
        time.sleep(poll)
