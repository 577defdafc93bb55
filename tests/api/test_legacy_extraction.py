"""The legacy synchronous path against the real sandbox services: it writes bronze, the
triggers fill silver and gold, and upstream failures come back in plain words."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from backend.app.main import create_app
from tests.api.conftest import make_settings


@pytest.fixture
def legacy_api(database_url, sandbox, submitter, token):
    settings = make_settings(tiparser_url=sandbox.tiparser_url, casehelper_api_url=sandbox.casehelper_url,
                             tiparser_api_key=sandbox.tiparser_api_key, casehelper_username=sandbox.casehelper_username,
                             casehelper_password=sandbox.casehelper_password,
                             casehelper_app_type=sandbox.casehelper_app_type)
    app = create_app(settings, database_url=database_url, submitter=submitter, log_file=None)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _bronze_counts(database_url, case_id):
    with psycopg.connect(database_url) as conn:
        return {s: conn.execute(f"SELECT count(*) FROM bronze_{s}_raw WHERE case_id = %s", (case_id,)).fetchone()[0]
                for s in ("at", "wi", "trt", "interview")}


def test_legacy_path_writes_bronze_and_triggers_fill_the_rest(legacy_api, database_url, case_id):
    response = legacy_api.post(f"/api/extraction/trigger/{case_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "complete"
    assert body["sources"]["at"]["state"] == "stored" and body["sources"]["at"]["bronze_id"]
    counts = _bronze_counts(database_url, case_id)
    assert counts["at"] == 1 and counts["wi"] == 1 and counts["interview"] == 1
    trt_expected = int(case_id) % 2 == 1  # sandbox: TRT exists for odd ids
    assert body["sources"]["trt"]["state"] == ("stored" if trt_expected else "no_data")
    status = body["case_status"]
    assert status["silver"]["tax_years"] > 0
    assert status["status"] == "complete" and status["gold"]["total_records"] > 0
    # again: same payloads, nothing new stored
    again = legacy_api.post(f"/api/extraction/trigger/{case_id}").json()
    assert again["sources"]["at"]["state"] == "unchanged"
    assert _bronze_counts(database_url, case_id) == counts


def test_legacy_path_reports_a_bad_api_key_plainly(legacy_api, database_url):
    body = legacy_api.post("/api/extraction/trigger/4000403").json()
    assert body["status"] == "partial"
    for source in ("at", "wi", "trt"):
        assert body["sources"][source]["state"] == "failed"
        assert body["sources"][source]["error"] == "TiParser API key invalid or expired"
    assert body["sources"]["interview"]["state"] == "stored"
    status = legacy_api.get("/api/dagster/status/4000403").json()
    assert status["status"] == "partial"
    assert "AT: TiParser API key invalid or expired" in status["errors"]


def test_legacy_path_keeps_malformed_bodies(legacy_api, database_url):
    body = legacy_api.post("/api/extraction/trigger/4000207").json()
    assert body["status"] == "failed"
    assert "malformed JSON" in body["sources"]["at"]["error"]
    with psycopg.connect(database_url) as conn:
        kept = conn.execute("SELECT count(*) FROM bronze_rejected_payloads WHERE case_id = '4000207'").fetchone()[0]
    assert kept >= 4
