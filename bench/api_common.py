"""Shared plumbing for the API benchmarks: a scratch database, one uvicorn worker serving the
real app on it, a development token, and an asyncio load generator (httpx, N concurrent
clients, fixed duration) reporting req/s and latency percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from backend.app.config import PROJECT_ROOT, Settings
from backend.app.security import create_dev_token
from bench.common import percentile


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def api_server(database_url: str) -> Iterator[str]:
    """`uvicorn backend.app.main:app`, one worker, on the scratch database. Dagster points at a
    closed port: triggers are recorded and stay queued (what the API itself costs is measured).
    LOG_LEVEL=WARNING keeps 100k access lines out of backend/logs/app.log."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DAGSTER_PORT": "1", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(PROJECT_ROOT)}
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


def token() -> str:
    return create_dev_token(Settings())


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, pct: float) -> float:
        return percentile(self.latencies_ms, pct)

    def as_dict(self) -> dict:
        return {"requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 2),
                "req_per_s": round(self.rps, 1), "p50_ms": round(self.p(50), 2), "p95_ms": round(self.p(95), 2),
                "p99_ms": round(self.p(99), 2), "max_ms": round(max(self.latencies_ms, default=0), 2)}


async def _load(base_url: str, make_request: Callable[[int], tuple[str, str, dict | None]], concurrency: int,
                duration_s: float, headers: dict[str, str], ok: set[int], max_requests: int | None) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        stop_at = time.perf_counter() + duration_s

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < stop_at and (max_requests is None or counter < max_requests):
                n = counter
                counter += 1
                method, path, body = make_request(n)
                started = time.perf_counter()
                try:
                    response = await client.request(method, path, json=body)
                    if response.status_code not in ok:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return LoadResult(len(latencies), errors, elapsed, latencies)


def load(base_url: str, make_request: Callable[[int], tuple[str, str, dict | None]], *, concurrency: int = 50,
         duration_s: float = 10.0, ok: set[int] | None = None, max_requests: int | None = None,
         auth: bool = True) -> LoadResult:
    headers = {"Authorization": f"Bearer {token()}"} if auth else {}
    return asyncio.run(_load(base_url, make_request, concurrency, duration_s, headers, ok or {200},
                             max_requests))
