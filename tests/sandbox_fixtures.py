"""Pytest plugin: run the TiParser and CaseHelper sandboxes as real subprocesses.

Registered by tests/conftest.py (`pytest_plugins = ["tests.sandbox_fixtures"]`).

    def test_something(sandbox, sandbox_reset):
        httpx.get(f"{sandbox.tiparser_url}/analysis/at/1295022",
                  headers={"x-api-key": sandbox.tiparser_api_key})

    with start_sandbox({"SANDBOX_LATENCY_SECONDS": "0.2"}) as sb:   # benchmarks / special settings
        ...
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass
class Sandbox:
    tiparser_url: str
    casehelper_url: str
    tiparser_api_key: str
    casehelper_username: str
    casehelper_password: str
    casehelper_app_type: str
    casehelper_api_key: str = ""
    env: dict[str, str] = field(default_factory=dict)
    pids: tuple[int, ...] = ()

    _admin: httpx.Client | None = field(default=None, repr=False)

    @property
    def admin(self) -> httpx.Client:
        """One reused client for the /__sandbox__/ admin calls (no new connection per call)."""
        if self._admin is None:
            self._admin = httpx.Client(timeout=5)
        return self._admin

    def reset(self) -> None:
        """Clear call counters and sessions on both services."""
        for url in (self.tiparser_url, self.casehelper_url):
            self.admin.post(f"{url}/__sandbox__/reset").raise_for_status()

    def calls(self, service: str = "tiparser") -> dict:
        """{case_id: {endpoint: count}} of one service ("tiparser" or "casehelper")."""
        url = self.tiparser_url if service == "tiparser" else self.casehelper_url
        response = self.admin.get(f"{url}/__sandbox__/calls")
        response.raise_for_status()
        return response.json()["calls"]

    def expire_sessions(self) -> None:
        """Expire every CaseHelper session (and TiParser's own login)."""
        for url in (self.tiparser_url, self.casehelper_url):
            self.admin.post(f"{url}/__sandbox__/expire-sessions").raise_for_status()

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox at {url} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"sandbox at {url} did not become healthy:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # this exact child, by PID
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def start_sandbox(env: dict[str, str] | None = None) -> Iterator[Sandbox]:
    """Start both services on free ports with SANDBOX_* settings from `env`; stop them on exit.

    Inherited SANDBOX_* variables are dropped so a developer's shell cannot change the tests."""
    env = {k: str(v) for k, v in (env or {}).items()}
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    child_env.update(env)
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    procs: list[subprocess.Popen] = []
    urls: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sandbox-logs-") as logdir:
        try:
            for service in ("tiparser", "casehelper"):
                port = free_port()
                log = Path(logdir) / f"{service}.log"
                with open(log, "wb") as out:
                    proc = subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "sandbox",
                            service,
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                        ],
                        cwd=REPO_ROOT,
                        env=child_env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                procs.append(proc)
                urls[service] = f"http://127.0.0.1:{port}"
                urls[service + "_log"] = str(log)
            for service, proc in zip(("tiparser", "casehelper"), procs, strict=True):
                _wait_healthy(urls[service], proc, Path(urls[service + "_log"]))
            sb = Sandbox(
                tiparser_url=urls["tiparser"],
                casehelper_url=urls["casehelper"],
                tiparser_api_key=env.get("SANDBOX_TIPARSER_API_KEY", "sandbox-tiparser-key"),
                casehelper_username=env.get("SANDBOX_CASEHELPER_USERNAME", "sandbox-user"),
                casehelper_password=env.get("SANDBOX_CASEHELPER_PASSWORD", "sandbox-password"),
                casehelper_app_type=env.get("SANDBOX_CASEHELPER_APP_TYPE", "transcript_pipeline"),
                casehelper_api_key=env.get("SANDBOX_CASEHELPER_API_KEY", ""),
                env=env,
                pids=tuple(p.pid for p in procs),
            )
            try:
                yield sb
            finally:
                sb.close()
        finally:
            for proc in procs:
                _stop(proc)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """Both sandbox services with default settings, for the whole test session."""
    with start_sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox_reset(sandbox: Sandbox) -> Sandbox:
    """Reset call counters and sessions on both services before the test."""
    sandbox.reset()
    return sandbox
