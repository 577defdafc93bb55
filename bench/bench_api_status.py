"""Status endpoint: GET /api/dagster/status/{case_id} for a fully ingested case, 50
connections (wrk), one uvicorn worker. Target (issue 5): >= 1,000 req/s with p99 <= 30 ms on a
2-core machine.

Measured twice, each against GET /healthz measured the same way in the same run:
* saturated: the most requests/s the server answers (its p99 there is queueing: 50/R);
* paced at 1,000 req/s: the p99 a request sees at the target load.
And on two servers: the default (status cache on, <= 1 s, services/status_cache.py) and
STATUS_CACHE_TTL_S=0 (every poll runs the status query: the real path's own cost).

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


TARGET_RATE = 1000.0


def _measure_server(base: str, duration_s: float, connections: int) -> dict:
    load(base, STATUS_PATH, connections=connections, duration_s=2)  # warm-up
    load(base, "/healthz", auth=False, connections=connections, duration_s=2)
    out = {}
    # interleaved, so that a noisy neighbour hurts the figure and its baseline alike
    out["status_saturated"] = load(base, STATUS_PATH, connections=connections, duration_s=duration_s).as_dict()
    out["healthz_saturated"] = load(base, "/healthz", auth=False, connections=connections,
                                    duration_s=duration_s).as_dict()
    out["status_paced"] = load(base, STATUS_PATH, connections=connections, duration_s=duration_s,
                               rate=TARGET_RATE).as_dict()
    out["healthz_paced"] = load(base, "/healthz", auth=False, connections=connections, duration_s=duration_s,
                                rate=TARGET_RATE).as_dict()
    return out


def measure(duration_s: float = 10.0, connections: int = 50) -> dict:
    with scratch_database() as url:
        _ingest(url)
        with api_server(url) as base:
            cached = _measure_server(base, duration_s, connections)
        with api_server(url, env={"STATUS_CACHE_TTL_S": "0"}) as base:
            uncached = _measure_server(base, duration_s, connections)
    return {"benchmark": BENCH, "connections": connections, "wrk_threads": WRK_THREADS, "workers": 1,
            "target_rate": TARGET_RATE, "cache_on": cached, "cache_off": uncached}


def _figures(r: dict, label: str, note_extra: str, connections: int) -> list[Figure]:
    s, h = r["status_saturated"], r["healthz_saturated"]
    sp, hp = r["status_paced"], r["healthz_paced"]
    errors = s["errors"] + sp["errors"]
    base = f"wrk -t{s['wrk_threads']} -c{connections}, 1 uvicorn worker, {note_extra}"
    paced_ok = sp["req_per_s"] >= 0.95 * TARGET_RATE
    return [
        Figure(BENCH, f"status req/s, saturated, {label}", s["req_per_s"], "req/s", "healthz req/s, saturated",
               h["req_per_s"], ">= 1000", s["req_per_s"] >= 1000 and errors == 0,
               f"{base}; errors={s['errors']}; status p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms (healthz p50 "
               f"{h['p50_ms']} ms, p99 {h['p99_ms']} ms): at saturation p99 is mostly queueing"),
        Figure(BENCH, f"status p99 at 1,000 req/s offered, {label} (ms)", sp["p99_ms"], "ms",
               "healthz p99 at 1,000 req/s", hp["p99_ms"], "<= 30",
               sp["p99_ms"] <= 30 and paced_ok and errors == 0,
               f"{base}; achieved {sp['req_per_s']} req/s (healthz {hp['req_per_s']}); p50 {sp['p50_ms']} ms, "
               f"p95 {sp['p95_ms']} ms; errors={sp['errors']}"),
        Figure(BENCH, f"status p99 saturated, {label} (ms)", s["p99_ms"], "ms", "healthz p99, saturated",
               h["p99_ms"], None, None, f"{base}; {s['req_per_s']} req/s"),
    ]


def run() -> list[Figure]:
    result = measure()
    c = result["connections"]
    return (_figures(result["cache_on"], "cache on",
                     "status cache <= 1 s (default); one case polled by every connection, so nearly every poll "
                     "is a cache hit", c)
            + _figures(result["cache_off"], "cache off", "STATUS_CACHE_TTL_S=0: every poll runs the query", c))


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(), indent=2) + "\n")
