"""`make run` as a user meets it: everything answers, Ctrl-C and SIGTERM leave nothing behind,
and a second start works. Uses its own ports, data directory and DAGSTER_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from backend.app.config import LOCAL_TIPARSER_API_KEY, PROJECT_ROOT

PORTS = {"PORT": 18000, "DAGSTER_PORT": 13000, "SANDBOX_TIPARSER_PORT": 18101, "SANDBOX_CASEHELPER_PORT": 18102}


def _start(tmp_path: Path) -> tuple[subprocess.Popen, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TIPARSER_URL", "CASEHELPER_API_URL")}
    env.update({k: str(v) for k, v in PORTS.items()})
    env.update({"EMBEDDED_PG_DIR": str(tmp_path / "pg"), "DAGSTER_HOME": str(tmp_path / "dagster_home"),
                "ENVIRONMENT": "local"})
    proc = subprocess.Popen([sys.executable, "scripts/run_stack.py"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Ctrl-C stops everything" in line:
            return proc, lines
    proc.kill()
    pytest.fail("stack did not come up:\n" + "\n".join(lines))


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _assert_everything_answers() -> None:
    assert httpx.get(f"http://127.0.0.1:{PORTS['PORT']}/health").status_code == 200
    assert httpx.get(f"http://127.0.0.1:{PORTS['DAGSTER_PORT']}/server_info").status_code == 200
    at = httpx.get(f"http://127.0.0.1:{PORTS['SANDBOX_TIPARSER_PORT']}/analysis/at/1295022",
                   headers={"x-api-key": LOCAL_TIPARSER_API_KEY})
    assert at.status_code == 200 and at.json()["at_records"]


def _stop(proc: subprocess.Popen, signum: int) -> str:
    children = _descendants(proc.pid)
    assert len(children) >= 4  # sandboxes, dagster (+ its webserver, daemon, code server), api
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=60)
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    assert proc.returncode == 0
    return out


@pytest.mark.timeout(420)
def test_run_starts_everything_and_stops_cleanly_twice(tmp_path):
    proc, lines = _start(tmp_path)
    assert any("Development token" in line for line in lines)
    _assert_everything_answers()
    out = _stop(proc, signal.SIGINT)
    assert "All services stopped." in out
    # The embedded Postgres of this stack is gone too: its pid file is removed on clean stop.
    assert not (tmp_path / "pg" / "postmaster.pid").exists()

    proc, _ = _start(tmp_path)  # a second start reuses the data directory and works
    _assert_everything_answers()
    out = _stop(proc, signal.SIGTERM)
    assert "Received SIGTERM" in out
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
