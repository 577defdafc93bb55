"""Status endpoint: GET /api/dagster/status/{case_id}, 50 connections (wrk), one uvicorn
worker. Target (issue 5): >= 1,000 req/s with p99 <= 30 ms on a 2-core machine.

The case mix is what a deployment sees: many case workers, each polling their own case. CASES
(4,000; BENCH_STATUS_CASES) distinct cases are ingested (each the sandbox's payloads for its id:
bronze, silver and gold built by the triggers, the heaviest status to compute), and the
requests go round them in order, so a case comes back once every CASES requests: every 4 s at
1,000 req/s, every 1.3 s at 3,000 req/s. Both are longer than the status cache's 1 s, so no poll
is answered from the cache (hit rate 0, as for a worker polling every 5 s); `poll_period_s` in
the output is CASES / achieved req/s.

Measured twice, each against GET /healthz measured the same way in the same run:
* saturated: the most requests/s the server answers (its p99 there is queueing: 50/R);
* paced at 1,000 req/s: the p99 a request sees at the target load.
And on two servers: the default (status cache on, <= 1 s, services/status_cache.py) and
STATUS_CACHE_TTL_S=0 (every poll runs the status query).

    python -m bench.bench_api_status      # prints JSON
"""

from __future__ import annotations

import json
import os
import sys
import threading

import psycopg

from bench.api_common import WRK_THREADS, api_server, load
from bench.common import Figure, scratch_database
from tests.sandbox_cases import store_sandbox_case

BENCH = "api_status"
CASES = int(os.environ.get("BENCH_STATUS_CASES", "4000"))
FIRST_CASE = 100_000_000  # case ids FIRST_CASE .. FIRST_CASE + CASES - 1
STATUS_PATH = "/api/dagster/status/%s"
CACHE_TTL_S = 1.0


def ingest(database_url: str, cases: int = CASES, workers: int = 2) -> None:
    """cases distinct cases, through the bronze writer and the triggers (~20 ms a case)."""
    def work(part: int) -> None:
        with psycopg.connect(database_url) as conn:
            for k in range(part, cases, workers):
                store_sandbox_case(conn, str(FIRST_CASE + k))
                conn.commit()

    threads = [threading.Thread(target=work, args=(p,)) for p in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Steady state before measuring, as a deployed database is: statistics, the visibility map,
    # and the ingestion's dirty pages written out (else the checkpoint it triggers lands in the
    # first measured round: /healthz itself ran 3-15x slower there).
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


TARGET_RATE = 1000.0


def _status(base: str, duration_s: float, connections: int, rate: float | None = None) -> dict:
    out = load(base, "/", connections=connections, duration_s=duration_s, distinct_path=STATUS_PATH,
               distinct_base=FIRST_CASE, cycle=CASES, rate=rate).as_dict()
    out["poll_period_s"] = round(CASES / out["req_per_s"], 2) if out["req_per_s"] else None
    return out


def _measure_server(base: str, duration_s: float, connections: int) -> dict:
    _status(base, 2, connections)  # warm-up
    load(base, "/healthz", auth=False, connections=connections, duration_s=2)
    out = {}
    # interleaved, so that a noisy neighbour hurts the figure and its baseline alike
    out["status_saturated"] = _status(base, duration_s, connections)
    out["healthz_saturated"] = load(base, "/healthz", auth=False, connections=connections,
                                    duration_s=duration_s).as_dict()
    out["status_paced"] = _status(base, duration_s, connections, rate=TARGET_RATE)
    out["healthz_paced"] = load(base, "/healthz", auth=False, connections=connections, duration_s=duration_s,
                                rate=TARGET_RATE).as_dict()
    return out


def measure(duration_s: float = 10.0, connections: int = 50) -> dict:
    with scratch_database() as url:
        ingest(url)
        with api_server(url) as base:
            cached = _measure_server(base, duration_s, connections)
        with api_server(url, env={"STATUS_CACHE_TTL_S": "0"}) as base:
            uncached = _measure_server(base, duration_s, connections)
    return {"benchmark": BENCH, "connections": connections, "wrk_threads": WRK_THREADS, "workers": 1,
            "target_rate": TARGET_RATE, "cases": CASES, "cache_on": cached, "cache_off": uncached}


def _figures(r: dict, label: str, note_extra: str, connections: int) -> list[Figure]:
    s, h = r["status_saturated"], r["healthz_saturated"]
    sp, hp = r["status_paced"], r["healthz_paced"]
    errors = s["errors"] + sp["errors"]
    base = (f"wrk -t{s['wrk_threads']} -c{connections}, 1 uvicorn worker, LOG_LEVEL=INFO, {note_extra}; "
            f"{CASES} distinct "
            f"ingested cases polled in turn (each every {s['poll_period_s']} s saturated, "
            f"{sp['poll_period_s']} s at 1,000 req/s)")
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
    periods = [result["cache_on"][k]["poll_period_s"] or 0 for k in ("status_saturated", "status_paced")]
    hits = (f"status cache <= 1 s (default); a case comes back only after {CASES} other polls, "
            + (f"later than the {CACHE_TTL_S:.0f} s cache, so the hit rate is 0, as for workers polling every 5 s"
               if min(periods) >= CACHE_TTL_S else
               f"within the {CACHE_TTL_S:.0f} s cache at the fastest rate: some polls are cache hits"))
    return (_figures(result["cache_on"], "cache on", hits, c)
            + _figures(result["cache_off"], "cache off", "STATUS_CACHE_TTL_S=0: every poll runs the query", c))


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(), indent=2) + "\n")
