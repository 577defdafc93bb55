"""Trigger latency: POST /api/dagster/cases/{case_id}/extract, 50 concurrent clients, each
request a new case (so every one records a request row and enqueues it), one uvicorn worker.
Baseline: GET /healthz under the same load. Target (issue 5): p99 <= 50 ms.

    python -m bench.bench_api_trigger     # prints JSON
"""

from __future__ import annotations

import json
import sys

from bench.api_common import api_server, load
from bench.common import Figure, scratch_database

BENCH = "api_trigger"


def measure(duration_s: float = 10.0, concurrency: int = 50) -> dict:
    with scratch_database() as url, api_server(url) as base:
        load(base, lambda n: ("POST", f"/api/dagster/cases/{900000000000 + n}/extract", None),
             concurrency=concurrency, duration_s=2, ok={202})  # warm-up
        trigger = load(base, lambda n: ("POST", f"/api/dagster/cases/{800000000000 + n}/extract", None),
                       concurrency=concurrency, duration_s=duration_s, ok={202})
        repeat = load(base, lambda n: ("POST", f"/api/dagster/cases/{800000000000 + n % 50}/extract", None),
                      concurrency=concurrency, duration_s=duration_s / 2, ok={202})
        healthz = load(base, lambda n: ("GET", "/healthz", None), concurrency=concurrency,
                       duration_s=duration_s / 2, auth=False)
    return {"benchmark": BENCH, "concurrency": concurrency, "workers": 1, "trigger_new_case": trigger.as_dict(),
            "trigger_repeat_same_cases": repeat.as_dict(), "healthz_baseline": healthz.as_dict()}


def run() -> list[Figure]:
    result = measure()
    t, r, h = result["trigger_new_case"], result["trigger_repeat_same_cases"], result["healthz_baseline"]
    note = f"{result['concurrency']} concurrent clients, 1 uvicorn worker, errors={t['errors']}"
    return [
        Figure(BENCH, "trigger p99, new case (ms)", t["p99_ms"], "ms", "healthz p99", h["p99_ms"], "<= 50",
               t["p99_ms"] <= 50, note),
        Figure(BENCH, "trigger req/s, new case", t["req_per_s"], "req/s", "healthz req/s", h["req_per_s"], None,
               None, note),
        Figure(BENCH, "trigger p99, repeat (dedup) (ms)", r["p99_ms"], "ms", "healthz p99", h["p99_ms"], "<= 50",
               r["p99_ms"] <= 50, note),
    ]


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(), indent=2) + "\n")
