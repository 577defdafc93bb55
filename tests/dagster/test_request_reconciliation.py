"""The case sensor's reconciliation and the run worker health check, on a real Dagster instance
(dg.instance_for_test) and the real Postgres: requests left behind by a dead run or submitter get
a new attempt, once each, under a deterministic run key; live runs are left alone."""

import os
import subprocess
import sys
import time
import uuid

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.launcher.base import WorkerStatus

from dagster_pipeline import requests_store
from dagster_pipeline.assets.bronze_assets import case_batch_run_config, case_run_tags
from dagster_pipeline.instance import LocalRunLauncher, process_alive
from dagster_pipeline.sensors.case_sensor import case_sensor
from dagster_pipeline.settings import get_pipeline_settings
from tests.dagster.conftest import reset_case

CASES = ["7600001", "7600002", "7600003", "7600004", "7600005", "7600006"]


@dg.op
def _noop():
    pass


@dg.job(name="case_ingestion_job")
def _same_name_job():
    _noop()


def add_run(instance, status, case_id=None, request_id=None) -> str:
    """A run of case_ingestion_job in the instance's run storage, in the given status."""
    run_id = str(uuid.uuid4())
    cases = [case_id] if case_id else ["1"]
    instance.add_run(
        dg.DagsterRun(
            job_name="case_ingestion_job",
            run_id=run_id,
            status=status,
            run_config=case_batch_run_config(cases, [request_id] if request_id else None),
            tags=case_run_tags(cases, [request_id] if request_id else None, origin="api"),
        )
    )
    return run_id


def request(conn, case_id, status, run_id=None, attempts=1, age_s=0) -> str:
    rid = requests_store.create_or_reuse_request(conn, case_id, origin="api")[0]
    conn.execute(
        "UPDATE public.extraction_requests SET status = %s, dagster_run_id = %s, attempts = %s,"
        " updated_at = now() - make_interval(secs => %s) WHERE request_id = %s",
        (status, run_id, attempts, age_s, rid),
    )
    return rid


def row(conn, rid):
    r = conn.execute(
        "SELECT status, attempts, error, dagster_run_id FROM public.extraction_requests WHERE request_id = %s",
        (rid,),
    ).fetchone()
    return {"status": r[0], "attempts": r[1], "error": r[2], "run_id": r[3]}


class Tick:
    def __init__(self, result):
        self.cursor = result.cursor
        # Only request runs: "new case" runs for cases other tests left without bronze are not ours.
        self.run_requests = [r for r in result.run_requests if not r.run_key.startswith("new-cases:")]


def tick(instance, resources, cursor=None) -> Tick:
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"supabase": resources["supabase"]}
    ) as ctx:
        return Tick(case_sensor(ctx))


@pytest.fixture
def clean(conn):
    # Only this test's rows may be active: the sensor reconciles the whole table.
    conn.execute(
        "UPDATE public.extraction_requests SET status = 'cancelled'"
        " WHERE status IN ('queued', 'submitted', 'running')"
    )
    reset_case(conn, *CASES)
    yield conn
    reset_case(conn, *CASES)


def test_interrupted_requests_get_one_new_attempt_each(resources, clean):
    conn = clean
    s = get_pipeline_settings()
    with dg.instance_for_test() as instance:
        dead = add_run(instance, dg.DagsterRunStatus.FAILURE, CASES[0])
        live = add_run(instance, dg.DagsterRunStatus.STARTED, CASES[1])
        done = add_run(instance, dg.DagsterRunStatus.SUCCESS, CASES[4])
        r_dead = request(conn, CASES[0], "running", dead, attempts=2)
        r_live = request(conn, CASES[1], "running", live, attempts=2)
        r_absent = request(conn, CASES[2], "submitted", str(uuid.uuid4()), attempts=1)
        r_lost = request(conn, CASES[3], "submitted", None, attempts=1, age_s=s.reconcile_after_s + 5)
        r_done = request(conn, CASES[4], "running", done, attempts=1)
        # Marked submitted a moment ago, no run id yet: the API is calling Dagster right now.
        r_young = request(conn, CASES[5], "submitted", None, attempts=1, age_s=1)

        result = tick(instance, resources)
        keys = {r.tags["request_id"]: r.run_key for r in result.run_requests}
        assert keys == {r_dead: f"{r_dead}:3", r_absent: f"{r_absent}:2", r_lost: f"{r_lost}:2",
                        r_done: f"{r_done}:2"}
        for req in result.run_requests:
            cfg = req.run_config["ops"]["bronze_case_extraction"]["config"]
            assert cfg["request_ids"] == [req.tags["request_id"]] and len(cfg["case_ids"]) == 1
        for rid in (r_dead, r_absent, r_lost, r_done):
            got = row(conn, rid)
            assert got["status"] == "queued" and got["error"].startswith("interrupted, retrying: ")
        assert "ended (FAILURE)" in row(conn, r_dead)["error"]
        assert "not known to Dagster" in row(conn, r_absent)["error"]
        assert "never handed to Dagster" in row(conn, r_lost)["error"]
        # A live run's request and a fresh submission are left alone.
        assert row(conn, r_live) == {"status": "running", "attempts": 2, "error": None, "run_id": live}
        assert row(conn, r_young)["status"] == "submitted"

        # A replayed tick: the same keys (Dagster launches nothing twice), no second bump.
        again = tick(instance, resources, result.cursor)
        assert {r.tags["request_id"]: r.run_key for r in again.run_requests} == keys
        assert row(conn, r_dead)["attempts"] == 3

        # Once the retry run exists in Dagster, it carries the request: nothing more.
        add_run(instance, dg.DagsterRunStatus.STARTING, CASES[0], r_dead)
        third = tick(instance, resources, again.cursor)
        assert r_dead not in {r.tags["request_id"] for r in third.run_requests}


def test_run_failure_requeues_held_requests_and_gives_up_after_max_attempts(resources, clean, monkeypatch):
    conn = clean
    s = get_pipeline_settings()
    with dg.instance_for_test() as instance:
        dead = add_run(instance, dg.DagsterRunStatus.FAILURE, CASES[0])
        rid = request(conn, CASES[0], "running", dead, attempts=1)
        # What the run-failure sensor does for a run failed by run monitoring.
        assert requests_store.fail_active_for_run(conn, dead, "the run worker process is gone") == []
        assert row(conn, rid)["status"] == "queued" and row(conn, rid)["attempts"] == 2
        [req] = tick(instance, resources).run_requests
        assert req.run_key == f"{rid}:2"

        # Out of attempts: failed, with the reason in plain words.
        again = add_run(instance, dg.DagsterRunStatus.FAILURE, CASES[0], rid)
        conn.execute(
            "UPDATE public.extraction_requests SET status = 'running', dagster_run_id = %s, attempts = %s"
            " WHERE request_id = %s",
            (again, s.max_request_attempts - 1, rid),
        )
        assert requests_store.fail_active_for_run(conn, again, "killed") == [(rid, CASES[0])]
        got = row(conn, rid)
        assert got["status"] == "failed" and got["error"].startswith(f"gave up after {s.max_request_attempts}")
        assert "killed" in got["error"] and "Traceback" not in got["error"]
        assert not tick(instance, resources).run_requests


def test_run_that_died_before_starting_requeues_its_queued_requests(resources, clean):
    conn = clean
    with dg.instance_for_test() as instance:
        rid = request(conn, CASES[0], "queued", None, attempts=0)
        dead = add_run(instance, dg.DagsterRunStatus.FAILURE, CASES[0], rid)
        assert requests_store.fail_queued(conn, [rid], dead, "start timeout") == 0
        got = row(conn, rid)
        assert got["status"] == "queued" and got["run_id"] == dead and got["attempts"] == 1
        # Behind the cursor or not, the requeued request is relaunched (not by the pending scan).
        result = tick(instance, resources)
        assert [(r.tags["request_id"], r.run_key) for r in result.run_requests] == [(rid, f"{rid}:1")]


def test_worker_health_check_sees_a_dead_run_worker():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_alive(proc.pid, time.time())
        # A pid reused by a process started long after the run's worker is not that worker.
        assert not process_alive(proc.pid, time.time() - 3600)
    finally:
        proc.kill()
        proc.wait()
    assert not process_alive(proc.pid, time.time())

    with dg.instance_for_test() as instance:
        launcher = LocalRunLauncher()
        launcher.register_instance(instance)
        assert launcher.supports_check_run_worker_health
        run_id = add_run(instance, dg.DagsterRunStatus.STARTED)
        run = instance.get_run_by_id(run_id)
        # No pid recorded: no verdict (max_runtime_seconds still bounds the run).
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
        instance.report_engine_event(
            f"Started process for run (pid: {os.getpid()}).", run,
            EngineEventData.in_process(os.getpid()),
        )
        assert launcher.check_run_worker_health(run).status.value == "RUNNING"
        instance.report_engine_event(f"Process for run exited (pid: {os.getpid()}).", run)
        assert launcher.check_run_worker_health(run).status.value == "FAILED"
