"""Trigger latency: POST /api/dagster/cases/{case_id}/extract, 50 connections (wrk), one
uvicorn worker. Two loads: every request for a case never seen before (each records a request
row and is handed to the batching thread), and every request for one case that already has an
active request (the dedup path answers with that request). Dagster points at a closed port, so
the batching thread runs too (claims, fails to submit, puts the batch back to queued).
Baseline: GET /healthz measured the same way, in the same run. Target (issue 5): p99 <= 50 ms
at 50 connections (saturated: each connection sends its next trigger when the answer arrives).
Also paced at 1,000 triggers/s for new cases (the latency at that load), beside /healthz paced.
Concurrent triggers are recorded by one statement per batch (group commit, requests_store).

    python -m bench.bench_api_trigger     # prints JSON
"""

from __future__ import annotations

import json
import sys

import httpx
import psycopg

from bench.api_common import WRK_THREADS, api_server, load, token
from bench.common import Figure, scratch_database

BENCH = "api_trigger"
REPEATED_CASE = "700000000001"
NEW_CASE_PATH = "/api/dagster/cases/%s/extract"
PACED_RATE = 1000.0  # the paced run: the latency a trigger sees at this load (not a target of its own)


def measure(duration_s: float = 10.0, connections: int = 50) -> dict:
    with scratch_database() as url, api_server(url) as base:
        load(base, "/", method="POST", connections=connections, duration_s=2,
             distinct_path=NEW_CASE_PATH, distinct_base=900_000_000_000)  # warm-up
        # A deployed database is analyzed by autovacuum; a fresh scratch one is not for its first
        # minute, and the plans of the batching thread's `request_id = ANY(...) AND status =
        # 'queued'` then walk every queued row (all of them here: Dagster is down) per batch.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE public.cases, public.extraction_requests")
        new = load(base, "/", method="POST", connections=connections, duration_s=duration_s,
                   distinct_path=NEW_CASE_PATH, distinct_base=800_000_000_000)
        first = httpx.post(f"{base}/api/dagster/cases/{REPEATED_CASE}/extract",
                           headers={"Authorization": f"Bearer {token()}"}, timeout=10)
        first.raise_for_status()
        repeat = load(base, f"/api/dagster/cases/{REPEATED_CASE}/extract", method="POST",
                      connections=connections, duration_s=duration_s)
        healthz = load(base, "/healthz", auth=False, connections=connections, duration_s=duration_s)
        new_paced = load(base, "/", method="POST", connections=connections, duration_s=duration_s,
                         distinct_path=NEW_CASE_PATH, distinct_base=700_000_000_000, rate=PACED_RATE)
        healthz_paced = load(base, "/healthz", auth=False, connections=connections, duration_s=duration_s,
                             rate=PACED_RATE)
    return {"benchmark": BENCH, "connections": connections, "wrk_threads": WRK_THREADS, "workers": 1,
            "trigger_new_case": new.as_dict(), "trigger_repeat_one_case": repeat.as_dict(),
            "healthz_baseline": healthz.as_dict(), "paced_rate": PACED_RATE,
            "trigger_new_case_paced": new_paced.as_dict(), "healthz_paced": healthz_paced.as_dict()}


def run() -> list[Figure]:
    result = measure()
    t, r, h = result["trigger_new_case"], result["trigger_repeat_one_case"], result["healthz_baseline"]
    p, hp = result["trigger_new_case_paced"], result["healthz_paced"]

    def note(x: dict) -> str:
        return (f"wrk -t{result['wrk_threads']} -c{result['connections']}, 1 uvicorn worker, LOG_LEVEL=INFO, "
                f"errors={x['errors']}, "
                f"{x['requests']} requests; p50 {x['p50_ms']} ms")

    return [
        Figure(BENCH, "trigger p99, new case (ms)", t["p99_ms"], "ms", "healthz p99", h["p99_ms"], "<= 50",
               t["p99_ms"] <= 50 and t["errors"] == 0, note(t)),
        Figure(BENCH, "trigger req/s, new case", t["req_per_s"], "req/s", "healthz req/s", h["req_per_s"], None,
               None, note(t)),
        Figure(BENCH, "trigger p99, one repeated case (dedup) (ms)", r["p99_ms"], "ms", "healthz p99", h["p99_ms"],
               "<= 50", r["p99_ms"] <= 50 and r["errors"] == 0, note(r)),
        Figure(BENCH, "trigger req/s, one repeated case (dedup)", r["req_per_s"], "req/s", "healthz req/s",
               h["req_per_s"], None, None, note(r)),
        Figure(BENCH, "trigger p99 at 1,000 req/s offered, new case (ms)", p["p99_ms"], "ms",
               "healthz p99 at 1,000 req/s", hp["p99_ms"], None, None,
               note(p) + f"; achieved {p['req_per_s']} req/s (healthz {hp['req_per_s']})"),
    ]


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(), indent=2) + "\n")
