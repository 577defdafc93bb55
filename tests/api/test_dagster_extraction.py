"""The Dagster extraction endpoints. Real app, real Postgres; the Dagster submission is the
FakeSubmitter from conftest (records what would be handed to trigger_case_ingestion)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from backend.app.services import data_saver
from tests.api.conftest import wait_until


def _request_row(database_url, request_id):
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT status, dagster_run_id, error, attempts FROM extraction_requests"
                            " WHERE request_id = %s", (request_id,)).fetchone()


def test_trigger_answers_at_once_and_is_submitted_in_background(api, case_id, submitter, database_url):
    response = api.post(f"/api/dagster/cases/{case_id}/extract", params={"case_number": "TRA-1"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "triggered" and body["case_id"] == case_id and body["case_number"] == "TRA-1"
    assert body["request_status"] == "queued" and body["deduplicated"] is False
    assert body["dagster_ui"].startswith("http://localhost:3000/runs")
    assert body["status_url"] == f"/api/dagster/status/{case_id}"
    rid = body["request_id"]
    assert wait_until(lambda: (case_id, rid) in submitter.submitted)
    assert wait_until(lambda: _request_row(database_url, rid)[1] == f"run-{rid[:8]}")
    assert _request_row(database_url, rid)[0] == "submitted"
    status = api.get(f"/api/dagster/status/{case_id}").json()
    assert status["status"] == "running" and status["run_id"] == f"run-{rid[:8]}"
    assert status["dagster_ui"] == f"http://localhost:3000/runs/run-{rid[:8]}"


def test_repeated_trigger_returns_the_same_request(api, case_id, submitter):
    first = api.post(f"/api/dagster/cases/{case_id}/extract").json()
    second = api.post(f"/api/dagster/cases/{case_id}/extract")
    third = api.post("/api/dagster/extract", json={"case_id": case_id}).json()
    assert second.status_code == 202
    assert second.json()["request_id"] == first["request_id"] == third["request_id"]
    assert second.json()["status"] == "already_active" and second.json()["deduplicated"] is True
    api.app.state.trigger.wait_idle()
    assert [pair[0] for pair in submitter.submitted].count(case_id) == 1


def test_force_starts_another_request(api, case_id):
    first = api.post(f"/api/dagster/cases/{case_id}/extract").json()
    forced = api.post(f"/api/dagster/cases/{case_id}/extract", params={"force": "true"}).json()
    assert forced["status"] == "triggered" and forced["request_id"] != first["request_id"]


def test_concurrent_triggers_for_one_case_record_one_request(api, case_id):
    results: list[str] = []

    def go():
        results.append(api.post(f"/api/dagster/cases/{case_id}/extract").json()["request_id"])

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1


def test_dagster_down_keeps_the_request_queued_for_the_sensor(api, case_id, submitter, database_url):
    submitter.down = True
    rid = api.post(f"/api/dagster/cases/{case_id}/extract").json()["request_id"]
    assert wait_until(lambda: submitter.calls)
    assert wait_until(lambda: _request_row(database_url, rid)[2] is not None)
    status, run_id, error, attempts = _request_row(database_url, rid)
    assert status == "queued" and run_id is None and attempts == 1
    assert "Dagster was not reachable" in error
    body = api.get(f"/api/dagster/status/{case_id}").json()
    assert body["status"] == "queued" and "Dagster was not reachable" in body["message"]


def test_body_form_with_case_number(api, case_id):
    response = api.post("/api/dagster/extract", json={"case_id": case_id, "case_number": "N-77"})
    assert response.status_code == 202 and response.json()["case_number"] == "N-77"
    assert api.get(f"/api/cases/{case_id}").json()["case_number"] == "N-77"


def test_bulk(api, case_id, submitter):
    other = str(int(case_id) - 1)
    response = api.post("/api/dagster/extract/bulk", json={"case_ids": [case_id, other, case_id]})
    assert response.status_code == 202
    body = response.json()
    assert body["requested"] == 2 and body["created"] == 2
    again = api.post("/api/dagster/extract/bulk", json={"case_ids": [case_id]}).json()
    assert again["deduplicated"] == 1 and again["results"][0]["request_id"] == body["results"][0]["request_id"]
    api.app.state.trigger.wait_idle()
    assert {case_id, other} <= {c for c, _ in submitter.submitted}


@pytest.mark.parametrize("bad", ["abc", "1234567890123", "12a", "-1", "１２３"])
def test_invalid_case_id_is_422(api, bad):
    for response in (api.post(f"/api/dagster/cases/{bad}/extract"), api.get(f"/api/dagster/status/{bad}"),
                     api.post("/api/dagster/extract", json={"case_id": bad}),
                     api.post("/api/dagster/extract/bulk", json={"case_ids": ["1", bad]})):
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "invalid_case_id"
        assert response.json()["detail"] == "A case id is 1 to 12 digits."


def test_bulk_needs_at_least_one_case(api):
    response = api.post("/api/dagster/extract/bulk", json={"case_ids": []})
    assert response.status_code == 422 and response.json()["type"] == "validation_error"


def test_status_of_unknown_case_is_not_started(api, case_id):
    body = api.get(f"/api/dagster/status/{case_id}").json()
    assert body["status"] == "not_started" and body["case_exists"] is False
    assert body["message"] == "No data found. Trigger extraction to begin."
    assert set(body["sources"]) == {"at", "wi", "trt", "interview"}
    assert body["bronze"] == {"at": False, "wi": False, "trt": False, "interview": False,
                              "counts": {"at": 0, "wi": 0, "trt": 0, "interview": 0}, "total_records": 0}


def _states(database_url, case_id, states, *, http_status=None, error=None):
    with psycopg.connect(database_url) as conn:
        for source, state in states.items():
            failed = state == "failed"
            data_saver.set_source_state(conn, case_id, source, state, http_status=http_status if failed else 200,
                                        error=error if failed else None)


def test_status_reports_plain_errors_per_source(api, case_id, database_url):
    with psycopg.connect(database_url) as conn:
        data_saver.save_bronze(conn, "interview", case_id, {"employment": {}})
    _states(database_url, case_id, {"at": "failed", "wi": "failed", "trt": "failed", "interview": "stored"},
            http_status=403, error="403 Forbidden: {'detail': 'Invalid or expired API Key'}")
    body = api.get(f"/api/dagster/status/{case_id}").json()
    assert body["status"] == "partial"
    assert body["sources"]["at"]["error"] == "TiParser API key invalid or expired"
    assert body["sources"]["interview"]["state"] == "stored" and body["sources"]["interview"]["error"] is None
    assert "AT: TiParser API key invalid or expired" in body["errors"]
    assert "TiParser API key invalid or expired" in body["message"]


def test_status_failed_when_every_source_failed(api, case_id, database_url):
    _states(database_url, case_id, dict.fromkeys(("at", "wi", "trt", "interview"), "failed"),
            http_status=503, error=None)
    body = api.get(f"/api/dagster/status/{case_id}").json()
    assert body["status"] == "failed"
    assert body["sources"]["wi"]["error"] == "TiParser is unavailable (HTTP 503)"
    assert body["sources"]["interview"]["error"] == "CaseHelper is unavailable (HTTP 503)"


def test_status_running_while_sources_fetch(api, case_id, database_url):
    _states(database_url, case_id, {"at": "stored", "wi": "fetching", "trt": "fetching", "interview": "pending"})
    body = api.get(f"/api/dagster/status/{case_id}").json()
    assert body["status"] == "running" and "1 of 4" in body["message"]


def test_request_counts_as_done_once_all_sources_report(api, case_id, database_url):
    api.post(f"/api/dagster/cases/{case_id}/extract")
    assert api.get(f"/api/dagster/status/{case_id}").json()["status"] in ("queued", "running")
    _states(database_url, case_id, dict.fromkeys(("at", "wi", "trt", "interview"), "no_data"))
    body = api.get(f"/api/dagster/status/{case_id}").json()
    assert body["status"] == "complete" and "no data" in body["message"]


def test_sync_mode_waits_for_the_result(api, case_id, database_url):
    def finish():
        time.sleep(0.5)
        _states(database_url, case_id, dict.fromkeys(("at", "wi", "trt", "interview"), "no_data"))

    threading.Thread(target=finish).start()
    started = time.monotonic()
    response = api.post(f"/api/dagster/cases/{case_id}/extract", params={"async_mode": "false", "wait_seconds": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "complete" and body["timed_out"] is False
    assert body["case_status"]["status"] == "complete"
    assert time.monotonic() - started < 8


def test_sync_mode_gives_up_at_the_limit(api, case_id):
    response = api.post("/api/dagster/extract", json={"case_id": case_id, "async_mode": False, "wait_seconds": 1.2})
    assert response.status_code == 202
    body = response.json()
    assert body["timed_out"] is True and body["status"] in ("queued", "running")
    assert "keep polling" in body["message"]


def test_dagster_health_unreachable_is_503(api):
    response = api.get("/api/dagster/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unreachable" and body["reachable"] is False and body["worker_alive"] is True


def test_dagster_health_reachable(api, monkeypatch):
    monkeypatch.setattr(api.app.state.trigger, "server_info", lambda: {"dagster_webserver_version": "1.13.27"})
    body = api.get("/api/dagster/health").json()
    assert body["status"] == "healthy" and body["version"] == "1.13.27"


def test_ui_redirects(api, case_id, submitter):
    plain = api.get("/api/dagster/ui", follow_redirects=False)
    assert plain.status_code == 307 and plain.headers["location"] == "http://localhost:3000/runs"
    run = api.get("/api/dagster/ui", params={"run_id": "abc-123"}, follow_redirects=False)
    assert run.headers["location"] == "http://localhost:3000/runs/abc-123"
    rid = api.post(f"/api/dagster/cases/{case_id}/extract").json()["request_id"]
    api.app.state.trigger.wait_idle()
    assert wait_until(lambda: api.get("/api/dagster/ui", params={"case_id": case_id}, follow_redirects=False)
                      .headers["location"].endswith(f"/runs/run-{rid[:8]}"))
    assert api.get("/api/dagster/ui", params={"run_id": "../x"}, follow_redirects=False).status_code == 422


def test_real_submitter_with_dagster_down_leaves_the_request_queued(database_url, settings, auth, case_id):
    """No fake: trigger_case_ingestion.submit_requests against a closed Dagster port."""
    from fastapi.testclient import TestClient

    from backend.app.main import create_app

    app = create_app(settings, database_url=database_url, log_file=None)
    with TestClient(app) as client:
        rid = client.post(f"/api/dagster/cases/{case_id}/extract", headers=auth).json()["request_id"]
        assert app.state.trigger.wait_idle(15)
        assert wait_until(lambda: _request_row(database_url, rid)[3] == 1, 10)
        status, run_id, error, _ = _request_row(database_url, rid)
        assert status == "queued" and run_id is None and "Dagster was not reachable" in error
