"""Status endpoint throughput: GET /api/dagster/status/{case_id} for a fully ingested case,
50 connections (wrk), one uvicorn worker. Baseline: GET /healthz measured the same way, in the
same run. Target (issue 5): >= 1,000 req/s with p99 <= 30 ms on a 2-core machine.

    python -m bench.bench_api_status      # prints JSON
"""

from __future__ import annotations

import json
import sys

import psycopg

from backend.app.services import data_saver
from bench.api_common import WRK_THREADS, api_server, load
from bench.common import Figure, scratch_database
from sandbox import data as sandbox_data

BENCH = "api_status"
CASE_ID = "1295022"
STATUS_PATH = f"/api/dagster/status/{CASE_ID}"


def _ingest(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for source, payload in (("at", sandbox_data.at_payload(CASE_ID)), ("wi", sandbox_data.wi_payload(CASE_ID)),
                                ("trt", sandbox_data.trt_payload(CASE_ID)),
                                ("interview", sandbox_data.interview_payload(CASE_ID))):
            if payload is None:
                data_saver.set_source_state(conn, CASE_ID, source, "no_data", http_status=404)
            else:
                saved = data_saver.save_bronze(conn, source, CASE_ID, payload)
                data_saver.set_source_state(conn, CASE_ID, source, "stored", bronze_id=saved.bronze_id)


def measure(duration_s: float = 10.0, connections: int = 50) -> dict:
    with scratch_database() as url:
        _ingest(url)
        with api_server(url) as base:
            load(base, STATUS_PATH, connections=connections, duration_s=2)  # warm-up
            load(base, "/healthz", auth=False, connections=connections, duration_s=2)
            status = load(base, STATUS_PATH, connections=connections, duration_s=duration_s)
            healthz = load(base, "/healthz", auth=False, connections=connections, duration_s=duration_s)
    return {"benchmark": BENCH, "connections": connections, "wrk_threads": WRK_THREADS, "workers": 1,
            "status": status.as_dict(), "healthz_baseline": healthz.as_dict()}


def run() -> list[Figure]:
    result = measure()
    s, h = result["status"], result["healthz_baseline"]
    note = (f"wrk -t{result['wrk_threads']} -c{result['connections']}, 1 uvicorn worker, errors={s['errors']}; "
            f"status p50 {s['p50_ms']} ms / healthz p50 {h['p50_ms']} ms")
    return [
        Figure(BENCH, "status req/s", s["req_per_s"], "req/s", "healthz req/s", h["req_per_s"], ">= 1000",
               s["req_per_s"] >= 1000 and s["errors"] == 0, note),
        Figure(BENCH, "status p99 (ms)", s["p99_ms"], "ms", "healthz p99", h["p99_ms"], "<= 30",
               s["p99_ms"] <= 30 and s["errors"] == 0, note),
    ]


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(), indent=2) + "\n")
