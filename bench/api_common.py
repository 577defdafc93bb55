"""Shared plumbing for the API benchmarks: a scratch database, one uvicorn worker serving the
real app on it, a development token, and wrk as the load generator (N connections, fixed
duration; latency percentiles from a Lua `done()` hook).

wrk, not a Python client: an asyncio/httpx generator tops out near 130 req/s on two cores and
measures itself rather than the server. wrk runs with WRK_THREADS threads (default 1, so that on
a 2-core machine one core is left for the server and Postgres) and `--timeout 10s`.
`make bench` installs it from Debian (`apt-get install -y wrk`) when it is missing.

Two ways to load the server:

* saturated (`rate=None`): every connection sends its next request as soon as the previous
  answer arrives. Throughput is the server's maximum; latency is then mostly queueing (Little's
  law: 50 connections at R req/s wait 50/R s on average).
* paced (`rate=R`): the same connections, but requests leave on a fixed schedule of R per
  second (a Lua `delay()` on a monotonic clock, via LuaJIT's FFI), so the latency is what a
  request sees at that load. If the server cannot keep up the achieved rate falls below R
  (reported), and the latency then excludes the time spent waiting for a free connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from backend.app.config import PROJECT_ROOT, Settings
from backend.app.security import create_dev_token

WRK_THREADS = int(os.environ.get("WRK_THREADS", "1"))
WRK_TIMEOUT = "10s"
_MARKER = "WRK_RESULT "

# Appended to every script: one JSON line with the figures we report (latencies in microseconds).
_DONE_HOOK = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d,'
    .. ' "timeout": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


# Paced load: the thread's requests leave every 1000/rate ms (threads split the rate).
_PACED = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } medallion_timespec;
int clock_gettime(int clk_id, medallion_timespec *tp);
]]
local medallion_ts = ffi.new("medallion_timespec")
local function medallion_now_ms()
  ffi.C.clock_gettime(1, medallion_ts)  -- CLOCK_MONOTONIC
  return tonumber(medallion_ts.tv_sec) * 1000 + tonumber(medallion_ts.tv_nsec) / 1e6
end
local medallion_next = nil
function delay()
  local now = medallion_now_ms()
  if medallion_next == nil or medallion_next < now - 1000 then medallion_next = now end
  local slot = medallion_next
  medallion_next = medallion_next + MEDALLION_INTERVAL_MS
  if slot > now then return slot - now end
  return 0
end
"""


class WrkMissing(RuntimeError):
    pass


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed: `apt-get install -y wrk` (make bench does this on Debian/Ubuntu)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def api_server(database_url: str, *, log_level: str = "INFO", env: dict[str, str] | None = None) -> Iterator[str]:
    """`uvicorn backend.app.main:app`, one worker, on the scratch database. Dagster points at a
    closed port: triggers are recorded and stay queued (what the API itself costs is measured).
    Logging as deployed (LOG_LEVEL=INFO: a JSON access line per request to stdout and to the
    rotating log file), the file in a temporary directory instead of backend/logs."""
    port = _free_port()
    log_dir = tempfile.TemporaryDirectory(prefix="medallion-bench-log-")
    env = {**os.environ, "DATABASE_URL": database_url, "DAGSTER_PORT": "1", "LOG_LEVEL": log_level,
           "LOG_FILE": str(Path(log_dir.name, "app.log")), "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "backend.app.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"API exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("API did not become ready")
        yield url
    finally:
        proc.terminate()  # the child we started, by PID
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log_dir.cleanup()


def token() -> str:
    return create_dev_token(Settings())


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


def lua_script(*, method: str = "GET", path: str | None = None, body: str | None = None, auth: bool = True,
               distinct_path: str | None = None, distinct_base: int = 0, rate: float | None = None,
               threads: int | None = None, cycle: int | None = None) -> str:
    """A wrk script: method, headers (bearer token, JSON content type), a fixed body, and either
    the URL's path or, with `distinct_path` (a format with one `%s`), a new path per request:
    ids distinct_base + thread * 10^9 + n, so every request is for a case never seen before.
    With `cycle`, the ids go round distinct_base .. distinct_base + cycle - 1 instead (each
    thread starting at its own share), so each of `cycle` cases comes back every `cycle` requests."""
    lines = [f"wrk.method = {_lua_string(method)}"]
    if auth:
        lines.append(f"wrk.headers[\"Authorization\"] = {_lua_string('Bearer ' + token())}")
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = {_lua_string(body)}")
    if path is not None:
        lines.append(f"wrk.path = {_lua_string(path)}")
    if distinct_path is not None:
        lines += [
            "local next_tid = 0",
            "function setup(thread) thread:set(\"tid\", next_tid); next_tid = next_tid + 1 end",
            "local n = 0",
            "function request()",
            "  n = n + 1",
            (f"  local id = string.format(\"%.0f\", {distinct_base}"
             f" + (n + (tid or 0) * {(cycle or 1) // max(1, threads or WRK_THREADS)}) % {cycle})"
             if cycle else
             f"  local id = string.format(\"%.0f\", {distinct_base} + (tid or 0) * 1000000000 + n)"),
            f"  return wrk.format(nil, string.format({_lua_string(distinct_path)}, id))",
            "end",
        ]
    if rate:
        interval_ms = 1000.0 * (threads or WRK_THREADS) / rate
        lines.append(f"MEDALLION_INTERVAL_MS = {interval_ms:.6f}")
        lines.append(_PACED)
    return "\n".join(lines) + "\n" + _DONE_HOOK


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    connections: int
    threads: int
    offered_rate: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 2),
                "req_per_s": round(self.rps, 1), "p50_ms": round(self.p50_ms, 2), "p90_ms": round(self.p90_ms, 2),
                "p95_ms": round(self.p95_ms, 2), "p99_ms": round(self.p99_ms, 2), "max_ms": round(self.max_ms, 2),
                "mean_ms": round(self.mean_ms, 2), "connections": self.connections, "wrk_threads": self.threads,
                "offered_req_per_s": self.offered_rate}


def wrk(base_url: str, script: str, *, path: str = "/", connections: int = 50, duration_s: float = 10.0,
        threads: int | None = None, rate: float | None = None) -> LoadResult:
    """Run wrk against base_url + path with the given Lua script; errors = socket errors plus
    HTTP answers >= 400 (wrk's own count)."""
    threads = threads or WRK_THREADS
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="medallion_bench_", delete=False) as f:
        f.write(script)
        script_path = f.name
    try:
        out = subprocess.run([wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
                              "--timeout", WRK_TIMEOUT, "-s", script_path, base_url + path],
                             capture_output=True, text=True, timeout=duration_s + 60)
    finally:
        os.unlink(script_path)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(_MARKER)), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {out.returncode}): {(out.stderr or out.stdout)[-1000:]}")
    r = json.loads(line[len(_MARKER):])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return LoadResult(requests=r["requests"], errors=errors, seconds=r["duration_us"] / 1e6,
                      p50_ms=r["p50_us"] / 1000, p90_ms=r["p90_us"] / 1000, p95_ms=r["p95_us"] / 1000,
                      p99_ms=r["p99_us"] / 1000, max_ms=r["max_us"] / 1000, mean_ms=r["mean_us"] / 1000,
                      connections=connections, threads=threads, offered_rate=rate)


def load(base_url: str, path: str, *, method: str = "GET", body: str | None = None, auth: bool = True,
         connections: int = 50, duration_s: float = 10.0, distinct_path: str | None = None,
         distinct_base: int = 0, rate: float | None = None, cycle: int | None = None) -> LoadResult:
    """Saturated load (rate=None) or paced at `rate` requests/s over the same connections."""
    script = lua_script(method=method, body=body, auth=auth, distinct_path=distinct_path,
                        distinct_base=distinct_base, rate=rate, cycle=cycle)
    return wrk(base_url, script, path=path, connections=connections, duration_s=duration_s, rate=rate)
