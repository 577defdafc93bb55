"""One case end to end through a running Dagster: submit (trigger_case_ingestion.submit_requests,
as the API does) -> queued run -> run process -> bronze written -> silver and gold built by the
triggers -> request `complete`. Measured with the sandbox at 0 s and 2 s latency per call.

    python -m bench.bench_dagster_e2e [--repeats 3]

Targets (issue 4): <= 6 s at zero latency, <= 8 s with 2 s per upstream call (the four fetches
overlap; sequential fetching would take >= 8 s on its own). The baseline is the same case's
extraction without Dagster (BatchIngestor called directly), i.e. the part that is not Dagster's
queue and run-launch overhead; the notes split each run into queue wait, process launch and step.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Iterator

import dagster as dg
import psycopg
from psycopg import sql

from backend.app.db import embedded
from backend.app.db.migrate import apply_migrations
from bench.common import Figure, server_url
from tests.dagster.dagster_stack import start_dagster, wait_for_requests
from tests.sandbox_fixtures import start_sandbox

BENCH = "dagster end to end"
GOLD_TABLES = ("employment_information", "household_information", "monthly_expenses")


@contextlib.contextmanager
def databases() -> Iterator[tuple[str, str]]:
    """(app database with every migration applied, empty Dagster storage database)."""
    server = server_url()
    names = [f"medallion_bench_{uuid.uuid4().hex[:8]}", f"dagster_bench_{uuid.uuid4().hex[:8]}"]
    with psycopg.connect(server, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    app, dag = (embedded.with_database(server, n) for n in names)
    try:
        apply_migrations(app, log=lambda _m: None)
        yield app, dag
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _layers_done(conn: psycopg.Connection, case_id: str) -> dict[str, int]:
    out = {}
    for table in (
        "bronze_at_raw",
        "bronze_wi_raw",
        "bronze_interview_raw",
        "tax_years",
        "account_activity",
        *GOLD_TABLES,
    ):
        if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone()[0] is None:
            continue
        out[table] = conn.execute(
            f"SELECT count(*) FROM public.{table} WHERE case_id = %s",  # noqa: S608
            (case_id,),
        ).fetchone()[0]
    return out


def timeline(stack, run_id: str) -> dict[str, float]:
    """Where the seconds of one run went: queue wait, process launch, the step itself."""
    import os

    os.environ["DAGSTER_POSTGRES_URL_SQLALCHEMY"] = stack.env["DAGSTER_POSTGRES_URL_SQLALCHEMY"]
    with dg.DagsterInstance.from_config(str(stack.dagster_home)) as instance:
        first: dict[str, float] = {}
        for entry in instance.all_logs(run_id):
            if entry.dagster_event:
                first.setdefault(entry.dagster_event.event_type_value, entry.timestamp)
    def span(start: str, end: str) -> float | None:
        return round(first[end] - first[start], 2) if start in first and end in first else None

    return {
        "queued_s": span("PIPELINE_ENQUEUED", "PIPELINE_STARTING"),
        "launch_s": span("PIPELINE_STARTING", "PIPELINE_START"),
        "execution_s": span("PIPELINE_START", "PIPELINE_SUCCESS"),
    }


def one_case(stack, app_url: str, case_id: str) -> tuple[float, dict[str, int]]:
    from trigger_case_ingestion import record_requests, submit_requests

    with psycopg.connect(app_url, autocommit=True) as conn:
        started = time.monotonic()
        pairs = record_requests([case_id], database_url=app_url, origin="api")
        [sub] = submit_requests(pairs, dagster_host=stack.host, dagster_port=stack.port, database_url=app_url)
        statuses = wait_for_requests(conn, [pairs[0][1]], timeout=120, poll=0.02)
        elapsed = time.monotonic() - started
        if set(statuses.values()) != {"complete"}:
            raise RuntimeError(f"case {case_id} ended {statuses}")
        return elapsed, {**_layers_done(conn, case_id), **timeline(stack, sub["run_id"])}


def direct_baseline(sb, app_url: str, case_id: str) -> float:
    """The same extraction without Dagster (fresh clients, so a CaseHelper login included)."""
    from dagster_pipeline.ingest import BatchIngestor
    from dagster_pipeline.resources.casehelper_resource import CaseHelperClient
    from dagster_pipeline.resources.supabase_resource import SupabaseResource
    from dagster_pipeline.resources.tiparser_resource import TiParserClient

    supabase = SupabaseResource(database_url=app_url)
    started = time.monotonic()
    ingestor = BatchIngestor(
        tiparser=TiParserClient(sb.tiparser_url, sb.tiparser_api_key),
        casehelper=CaseHelperClient(
            sb.casehelper_url, sb.casehelper_username, sb.casehelper_password, sb.casehelper_app_type
        ),
        connection=supabase.connection,
        run_id=None,
        origin="bench",
    )
    outcome = ingestor.ingest_case(case_id)
    ingestor.close()
    assert outcome.status == "complete", outcome
    return time.monotonic() - started


def measure(latency: float, repeats: int) -> list[Figure]:
    target = 6.0 if latency == 0 else 8.0
    with (
        databases() as (app_url, dagster_url),
        start_sandbox({"SANDBOX_LATENCY_SECONDS": str(latency)}) as sb,
        start_dagster(database_url=app_url, dagster_pg_url=dagster_url, sandbox=sb) as stack,
    ):
        warm, _ = one_case(stack, app_url, "8100000")  # first run also warms the code server
        times, layers = [], {}
        for i in range(repeats):
            t, layers = one_case(stack, app_url, str(8100001 + i))
            times.append(t)
        baseline = direct_baseline(sb, app_url, "8200001")
    med = statistics.median(times)
    return [
        Figure(
            BENCH,
            f"one case submit -> gold, sandbox latency {latency:g} s (median of {repeats})",
            round(med, 2),
            "s",
            baseline_name="same extraction without Dagster",
            baseline_value=round(baseline, 2),
            target=f"<= {target:g} s",
            met=med <= target,
            notes=f"runs {', '.join(f'{t:.2f}' for t in times)} s; first run {warm:.2f} s; rows {layers}",
        )
    ]


def run(repeats: int = 3) -> list[Figure]:
    return measure(0.0, repeats) + measure(2.0, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency", type=float, action="append", help="only these latencies (repeatable)")
    args = parser.parse_args(argv)
    figures = []
    for latency in args.latency or [0.0, 2.0]:
        figures += measure(latency, args.repeats)
    sys.stdout.write(json.dumps([f.as_dict() for f in figures], indent=2) + "\n")
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
