"""A backlog of queued extraction requests worked off by the running Dagster: the requests are
recorded while nothing submits them (as when Dagster was down), then the case sensor batches
them (MEDALLION_BATCH_SIZE cases per run) into the run queue. Throughput = cases/min from the
first sensor tick to the last request finished.

    python -m bench.bench_dagster_backlog [--cases 500] [--batch-size 25]

Target (issue 4): >= 300 cases/min on a 2-core machine. Baseline: one run per case submitted
directly (the launch-bound way), measured on a small sample and extrapolated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import psycopg

from bench.bench_dagster_e2e import databases
from bench.common import Figure
from tests.dagster.dagster_stack import start_dagster, wait_for_requests
from tests.sandbox_fixtures import start_sandbox

BENCH = "dagster backlog"


def run(cases: int = 500, batch_size: int = 25, baseline_sample: int = 8) -> list[Figure]:
    from trigger_case_ingestion import record_requests, submit_requests

    case_ids = [str(9_000_000 + i) for i in range(cases)]
    env = {
        "MEDALLION_BATCH_SIZE": str(batch_size),
        "MEDALLION_SENSOR_MIN_AGE_SECONDS": "0",
        "MEDALLION_SENSOR_INTERVAL_SECONDS": "2",
        "MEDALLION_SENSOR_MAX_RUNS_PER_TICK": "40",
        "MEDALLION_MAX_CONCURRENT_CASES": os.environ.get("MEDALLION_MAX_CONCURRENT_CASES", "8"),
    }
    with databases() as (app_url, dagster_url), start_sandbox() as sb:
        pairs = record_requests(case_ids, database_url=app_url, origin="bulk")  # Dagster is "down"
        with (
            start_dagster(
                database_url=app_url, dagster_pg_url=dagster_url, sandbox=sb, extra_env=env
            ) as stack,
            psycopg.connect(app_url, autocommit=True) as conn,
        ):
            started = time.monotonic()
            statuses = wait_for_requests(conn, [r for _, r in pairs], timeout=1800, poll=0.5)
            elapsed = time.monotonic() - started
            runs = conn.execute(
                "SELECT count(DISTINCT dagster_run_id) FROM public.extraction_requests WHERE origin = 'bulk'"
            ).fetchone()[0]
            # Baseline: one run per case, submitted directly.
            sample = [str(9_500_000 + i) for i in range(baseline_sample)]
            b_pairs = record_requests(sample, database_url=app_url, origin="api")
            b_start = time.monotonic()
            submit_requests(b_pairs, dagster_host=stack.host, dagster_port=stack.port, database_url=app_url)
            wait_for_requests(conn, [r for _, r in b_pairs], timeout=600, poll=0.2)
            b_elapsed = time.monotonic() - b_start
    counts = {s: list(statuses.values()).count(s) for s in set(statuses.values())}
    rate = cases / elapsed * 60
    return [
        Figure(
            BENCH,
            f"{cases}-case backlog via case sensor, {batch_size} cases/run",
            round(rate, 1),
            "cases/min",
            baseline_name=f"one run per case ({baseline_sample} cases)",
            baseline_value=round(baseline_sample / b_elapsed * 60, 1),
            target=">= 300 cases/min",
            met=rate >= 300 and counts.get("complete", 0) + counts.get("partial", 0) == cases,
            notes=f"{elapsed:.1f} s, {runs} runs, outcomes {counts}, {os.cpu_count()} cores",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=25)
    args = parser.parse_args(argv)
    figures = run(args.cases, args.batch_size)
    sys.stdout.write(json.dumps([f.as_dict() for f in figures], indent=2) + "\n")
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
