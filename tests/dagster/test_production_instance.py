"""A run through a real Dagster (webserver + daemon) configured by dagster.production.yaml, with
run/event/schedule storage on the real Postgres: submitted by trigger_case_ingestion, dequeued
by the run queue, executed in its own process, its status landing in our tables."""

import time

import dagster as dg
import psycopg

from dagster_pipeline.instance import POOL_LIMITS, apply_pool_limits
from tests.dagster.conftest import reset_case
from tests.dagster.dagster_stack import start_dagster, wait_for_requests
from trigger_case_ingestion import record_requests, submit_requests


def test_run_through_the_production_instance_on_postgres(
    database_url, create_database, sandbox, conn, monkeypatch
):
    dagster_pg = create_database("dagster_prod")
    cases = ["7700001", "7700002"]
    reset_case(conn, *cases)
    with start_dagster(database_url=database_url, dagster_pg_url=dagster_pg, sandbox=sandbox) as stack:
        monkeypatch.setenv("DAGSTER_POSTGRES_URL_SQLALCHEMY", stack.env["DAGSTER_POSTGRES_URL_SQLALCHEMY"])
        with dg.DagsterInstance.from_config(str(stack.dagster_home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
            apply_pool_limits(instance)
            assert (
                instance.event_log_storage.get_concurrency_info("tiparser_api").slot_count
                == POOL_LIMITS["tiparser_api"]
            )
            pairs = record_requests(cases, database_url=database_url)
            started = time.monotonic()
            submitted = submit_requests(
                pairs,
                dagster_host=stack.host,
                dagster_port=stack.port,
                database_url=database_url,
                origin="cli",
            )
            statuses = wait_for_requests(conn, [r for _, r in pairs], timeout=90)
            elapsed = time.monotonic() - started
            assert set(statuses.values()) == {"complete"}, statuses
            for item in submitted:
                run = instance.get_run_by_id(item["run_id"])
                assert run.tags["case_id"] == item["case_id"] and run.tags["request_id"] == item["request_id"]
                assert run.job_name == "case_ingestion_job"
            # the runs are findable by their case_id tag, as in the UI
            found = instance.get_runs(filters=dg.RunsFilter(tags={"case_id": cases[0]}))
            assert [r.run_id for r in found] == [submitted[0]["run_id"]]
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            "SELECT count(*) FROM public.bronze_at_raw WHERE case_id = ANY(%s)", (cases,)
        ).fetchone()
    assert rows[0] == 2
    assert elapsed < 60
