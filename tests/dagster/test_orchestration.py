"""Sensors, schedules, alerting, monitoring, the PDF archive, the trigger CLI and definitions."""

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import psycopg
import pytest

import trigger_case_ingestion
from backend.app.config import get_settings
from dagster_pipeline.assets.bronze_assets import bronze_pdf_archive, case_batch_run_config
from dagster_pipeline.assets.monitoring_assets import monitoring_assets, monitoring_checks
from dagster_pipeline.requests_store import create_or_reuse_request
from dagster_pipeline.resources.tiparser_resource import TIPARSER_KEY_MESSAGE
from dagster_pipeline.schedules.health_check_schedule import case_refresh_schedule, health_check_schedule
from dagster_pipeline.sensors.alert_sensor import run_failure_alert_sensor
from dagster_pipeline.sensors.case_sensor import case_sensor
from tests.dagster.conftest import materialize_cases, reset_case


def test_all_definitions_load(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://placeholder/db")
    from dagster_pipeline import defs

    defs.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert {"case_ingestion_job", "pdf_archive_job", "health_check_job"} <= {
        j.name for j in repo.get_all_jobs()
    }
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "bronze_at_data",
        "bronze_wi_data",
        "bronze_trt_data",
        "bronze_interview_data",
        "tax_years",
        "employment_information",
        "tax_projections",
        "monitor_bronze_silver_health",
        "monitor_silver_gold_health",
        "monitor_business_functions",
    } <= keys
    assert {s.name for s in repo.sensor_defs} == {"case_sensor", "run_failure_alert_sensor"}
    assert {s.name for s in repo.schedule_defs} == {"health_check_schedule", "case_refresh_schedule"}
    assert repo.get_job("case_ingestion_job").executor_def.name == "in_process"
    node = defs.resolve_assets_def("bronze_at_data").node_def
    assert node.pool == "tiparser_api" and node.retry_policy is not None


# -- sensor --------------------------------------------------------------------------------------


def run_sensor(instance, resources, cursor=None):
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"supabase": resources["supabase"]}
    ) as ctx:
        return case_sensor(ctx)


def test_case_sensor_batches_queued_requests_once_and_advances_the_cursor(resources, conn):
    # Requests other tests left active would be reconciled (new attempts) by the same tick.
    conn.execute(
        "UPDATE public.extraction_requests SET status = 'cancelled'"
        " WHERE status IN ('queued', 'submitted', 'running')"
    )
    cases = ["7300001", "7300002", "7300003", "7300004"]
    reset_case(conn, *cases)
    ids = [create_or_reuse_request(conn, c, origin="api")[0] for c in cases]
    # Everything without a request or bronze would be a "new case": give the others a request.
    conn.execute(
        "INSERT INTO public.extraction_requests (case_id, status) SELECT case_id, 'complete'"
        " FROM public.cases c WHERE NOT EXISTS (SELECT 1 FROM public.extraction_requests r"
        " WHERE r.case_id = c.case_id)"
    )
    with dg.instance_for_test() as instance:
        result = run_sensor(instance, resources)
        assert isinstance(result, dg.SensorResult)
        reqs = result.run_requests
        assert len(reqs) == 2  # batch size 3 in tests
        cfg = [r.run_config["ops"]["bronze_case_extraction"]["config"] for r in reqs]
        assert cfg[0]["case_ids"] == cases[:3] and cfg[0]["request_ids"] == ids[:3]
        assert cfg[1]["case_ids"] == cases[3:] and reqs[1].tags["case_id"] == "7300004"
        assert reqs[1].tags["request_id"] == ids[3]
        assert len({r.run_key for r in reqs}) == 2
        cursor = json.loads(result.cursor)
        assert cursor["req"][1] == ids[-1]

        # Same rows, evaluated again from the new cursor: nothing more.
        again = run_sensor(instance, resources, result.cursor)
        assert not again.run_requests
        # From scratch, the same batches get the same run keys (Dagster then skips them).
        replay = run_sensor(instance, resources)
        assert [r.run_key for r in replay.run_requests] == [r.run_key for r in reqs]

        # A new request after the cursor is picked up, alone.
        reset_case(conn, "7300005")
        new_id = create_or_reuse_request(conn, "7300005", origin="api")[0]
        later = run_sensor(instance, resources, result.cursor)
        assert [r.tags["request_id"] for r in later.run_requests] == [new_id]

    # Running the sensor's batch claims the requests; a second run of the same batch skips them.
    first = materialize_cases(resources, cfg[0]["case_ids"], cfg[0]["request_ids"])
    assert first.success
    statuses = dict(
        conn.execute(
            "SELECT request_id::text, status FROM public.extraction_requests"
            " WHERE request_id::text = ANY(%s)",
            (ids[:3],),
        ).fetchall()
    )
    assert set(statuses.values()) == {"complete"}
    before = conn.execute("SELECT count(*) FROM public.bronze_at_raw").fetchone()[0]
    assert materialize_cases(resources, cfg[0]["case_ids"], cfg[0]["request_ids"]).success
    assert conn.execute("SELECT count(*) FROM public.bronze_at_raw").fetchone()[0] == before


def test_case_sensor_picks_up_new_cases_without_bronze(resources, conn):
    conn.execute(
        "INSERT INTO public.extraction_requests (case_id, status) SELECT case_id, 'complete'"
        " FROM public.cases c WHERE NOT EXISTS (SELECT 1 FROM public.extraction_requests r"
        " WHERE r.case_id = c.case_id)"
    )
    reset_case(conn, "7400001")
    conn.execute("SELECT public.ensure_case('7400001')")
    with dg.instance_for_test() as instance:
        result = run_sensor(instance, resources)
    [req] = [r for r in result.run_requests if "7400001" in json.dumps(r.run_config)]
    assert req.run_key.startswith("new-cases:")
    assert json.loads(result.cursor)["case"][1] == "7400001"


# -- schedules -----------------------------------------------------------------------------------


def test_health_check_schedule_targets_the_health_job():
    assert health_check_schedule.job_name == "health_check_job"
    assert health_check_schedule.cron_schedule == "0 6 * * *"
    ctx = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 1, 2, 6, tzinfo=UTC))
    [req] = health_check_schedule.evaluate_tick(ctx).run_requests
    assert req.job_name in (None, "health_check_job")


def test_refresh_schedule_batches_active_cases_due_for_refresh(resources, conn):
    conn.execute(
        "UPDATE public.extraction_requests SET finished_at = now(), status = 'complete'"
        " WHERE status IN ('queued', 'submitted', 'running')"
    )
    cases = ["7500001", "7500002", "7500003", "7500004"]
    reset_case(conn, *cases)
    for c in cases:
        conn.execute("SELECT public.ensure_case(%s)", (c,))
        conn.execute(
            "INSERT INTO public.extraction_requests (case_id, status, requested_at, finished_at)"
            " VALUES (%s, 'complete', now() - interval '2 days', now() - interval '2 days')",
            (c,),
        )
    conn.execute("INSERT INTO public.extraction_requests (case_id, status) VALUES ('7500004', 'queued')")
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 1, 2, 2, tzinfo=UTC),
        resources={"supabase": resources["supabase"]},
    ) as ctx:
        reqs = case_refresh_schedule.evaluate_tick(ctx).run_requests
    due = [c for r in reqs for c in r.run_config["ops"]["bronze_case_extraction"]["config"]["case_ids"]]
    assert {"7500001", "7500002", "7500003"} <= set(due) and "7500004" not in due
    assert all(r.run_key.startswith("refresh:2025-01-02T02:00:00") for r in reqs)
    assert len({r.run_key for r in reqs}) == len(reqs)


# -- alerting ------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    get_settings.cache_clear()
    yield _Receiver.received
    server.shutdown()
    get_settings.cache_clear()


def test_failed_run_alert_reaches_the_webhook_and_is_recorded(resources, conn, webhook):
    case = "4000403"
    reset_case(conn, case)
    with dg.instance_for_test() as instance:
        result = materialize_cases(resources, [case], instance=instance)
        assert not result.success
        failure = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        with dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert_sensor",
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=failure[0].event_log_entry.dagster_event,
            resources={"supabase": resources["supabase"]},
        ) as status_ctx:
            run_failure_alert_sensor(status_ctx.for_run_failure())
    assert len(webhook) == 1
    text = webhook[0]["text"]
    assert case in text and TIPARSER_KEY_MESSAGE in text and result.run_id in text
    row = conn.execute(
        "SELECT kind, case_id, source, message, delivered, run_url FROM public.pipeline_alerts"
        " WHERE dagster_run_id = %s",
        (result.run_id,),
    ).fetchone()
    assert row[0] == "run_failure" and row[1] == case and row[2] == "at,trt,wi" and row[4] is True
    assert TIPARSER_KEY_MESSAGE in row[3] and row[5].endswith(f"/runs/{result.run_id}")


def test_alert_without_webhook_is_logged_and_recorded(database_url, monkeypatch):
    from dagster_pipeline.alerts import Alert, send_alert

    with psycopg.connect(database_url) as c:
        alert_id = send_alert(c, Alert("health_check", "3 cases stale"), None)
        row = c.execute(
            "SELECT delivered, delivery_error FROM public.pipeline_alerts WHERE id = %s", (alert_id,)
        ).fetchone()
    assert row == (False, "no webhook configured")


# -- monitoring, PDFs ----------------------------------------------------------------------------


def test_health_check_assets_and_checks_run(resources):
    result = dg.materialize(
        [*monitoring_assets, *monitoring_checks],
        resources={"supabase": resources["supabase"]},
        raise_on_error=False,
    )
    assert result.success
    meta = result.asset_materializations_for_node("monitor_bronze_silver_health")[0].metadata
    assert meta["bronze_at_raw_rows"].value > 0
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {"bronze_cases_have_silver", "no_stuck_requests", "csed_sanity", "projection_sanity"} <= set(
        checks
    )


def test_pdf_archive_stores_each_pdf_once(resources, conn, tmp_path):
    case = "1000001"
    run_config = {
        "ops": {"bronze_pdf_archive": case_batch_run_config([case])["ops"]["bronze_case_extraction"]}
    }
    first = dg.materialize([bronze_pdf_archive], resources=resources, run_config=run_config)
    meta = first.asset_materializations_for_node("bronze_pdf_archive")[0].metadata
    stored = meta["pdfs_stored"].value + meta["duplicates_skipped"].value
    assert stored > 0
    second = dg.materialize([bronze_pdf_archive], resources=resources, run_config=run_config)
    meta2 = second.asset_materializations_for_node("bronze_pdf_archive")[0].metadata
    assert meta2["pdfs_stored"].value == 0 and meta2["duplicates_skipped"].value == stored
    rows = conn.execute(
        "SELECT count(*), count(DISTINCT sha256) FROM public.bronze_pdf_raw WHERE case_id = %s", (case,)
    ).fetchone()
    assert rows[0] == rows[1] == stored


# -- trigger -------------------------------------------------------------------------------------


def test_trigger_exits_plainly_when_dagster_is_down_and_the_request_stays_queued(database_url, conn, capsys):
    case = "7600001"
    reset_case(conn, case)
    code = trigger_case_ingestion.main(
        [case, "--dagster-host", "127.0.0.1", "--dagster-port", "9", "--database-url", database_url]
    )
    assert code == 2
    out = json.loads(capsys.readouterr().out)
    assert out["submitted"] == [] and out["queued"][0]["case_id"] == case
    assert "not reachable" in out["error"]
    assert (
        conn.execute("SELECT status FROM public.extraction_requests WHERE case_id = %s", (case,)).fetchone()[
            0
        ]
        == "queued"
    )
    with pytest.raises(trigger_case_ingestion.DagsterUnavailable):
        trigger_case_ingestion.submit_requests(
            [(case, out["queued"][0]["request_id"])],
            dagster_host="127.0.0.1",
            dagster_port=9,
            database_url=database_url,
        )
