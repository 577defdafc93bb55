"""The TiParser sandbox over real HTTP (subprocess started by the `sandbox` fixture)."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import data
from tests.test_sandbox_data import check_pdf


@pytest.fixture
def tp(sandbox_reset) -> httpx.Client:
    with httpx.Client(
        base_url=sandbox_reset.tiparser_url, timeout=10, headers={"x-api-key": sandbox_reset.tiparser_api_key}
    ) as client:
        yield client


def test_health_needs_no_key(sandbox) -> None:
    r = httpx.get(f"{sandbox.tiparser_url}/health")
    assert r.status_code == 200 and r.json()["status"] == "healthy"


@pytest.mark.parametrize(
    "path",
    [
        "/analysis/at/1295022",
        "/analysis/wi/1295022",
        "/analysis/trt/1000001",
        "/transcripts/at/1295022",
        "/transcripts/wi/1295022",
        "/auth/status",
    ],
)
@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": "wrong"}, {"Authorization": "Bearer sandbox-tiparser-key"}]
)
def test_api_key_required(sandbox_reset, path: str, headers: dict) -> None:
    r = httpx.get(f"{sandbox_reset.tiparser_url}{path}", headers=headers)
    assert r.status_code == 403
    assert r.json() == {"detail": "Invalid or expired API Key"}


def test_analysis_endpoints_serve_the_generated_payloads(tp: httpx.Client) -> None:
    r = tp.get("/analysis/at/1295022")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == data.at_payload("1295022")
    assert tp.get("/analysis/wi/1295022").json() == data.wi_payload("1295022")
    assert tp.get("/analysis/trt/1000001").json() == data.trt_payload("1000001")


def test_trt_404_for_demo_case(tp: httpx.Client) -> None:
    r = tp.get("/analysis/trt/1295022")
    assert r.status_code == 404
    assert tp.get("/analysis/trt/1000002").status_code == 404


def test_invalid_case_id_rejected(tp: httpx.Client) -> None:
    assert tp.get("/analysis/at/12ab").status_code == 422
    assert tp.get("/analysis/at/1234567890123").status_code == 422


def test_same_bytes_on_every_call(tp: httpx.Client) -> None:
    assert tp.get("/analysis/at/3000001").content == tp.get("/analysis/at/3000001").content
    assert tp.get("/analysis/wi/42").content == tp.get("/analysis/wi/42").content


def test_transcript_listing_and_download(tp: httpx.Client) -> None:
    listing = tp.get("/transcripts/at/1295022").json()
    assert listing["case_id"] == "1295022" and listing["transcript_type"] == "AT"
    assert listing["total_files"] == len(listing["files"]) == 6
    doc = listing["files"][0]["case_document_id"]
    r = tp.get(f"/transcripts/download/at/1295022/{doc}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f"attachment; filename=AT_1295022_{doc}.pdf"
    check_pdf(r.content)
    assert b"Case 1295022" in r.content and b"AT 18.pdf" in r.content
    wi = tp.get("/transcripts/wi/1295022").json()
    assert wi["transcript_type"] == "WI"
    r = tp.get(f"/transcripts/download/wi/1295022/{wi['files'][0]['case_document_id']}")
    check_pdf(r.content)
    missing = tp.get("/transcripts/download/at/1295022/123")
    assert missing.status_code == 404 and missing.json() == {"detail": "PDF file not found or empty"}


def test_login_status_logout(tp: httpx.Client) -> None:
    assert tp.get("/auth/status").json()["authenticated"] is False
    bad = tp.post("/auth/login", json={"username": "sandbox-user", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["detail"].startswith("Authentication failed")
    ok = tp.post("/auth/login", json={"username": "sandbox-user", "password": "sandbox-password"})
    assert ok.status_code == 200
    assert ok.json()["status"] == "success" and ok.json()["message"] == "Authentication successful"
    assert ok.json()["data"]["cookieCount"] == len(ok.cookies) == 2
    nested = tp.post(
        "/auth/login", json={"credentials": {"username": "sandbox-user", "password": "sandbox-password"}}
    )
    assert nested.status_code == 200
    assert tp.get("/auth/status").json()["authenticated"] is True
    assert tp.post("/auth/logout").status_code == 200
    assert tp.get("/auth/status").json()["authenticated"] is False


# ----------------------------------------------------------------------------------- faults


def test_fault_403_every_call(tp: httpx.Client, sandbox) -> None:
    for _ in range(3):
        r = tp.get("/analysis/at/4000403")
        assert r.status_code == 403 and r.json() == {"detail": "Invalid or expired API Key"}
    assert sandbox.calls()["4000403"] == {"analysis/at": 3}


def test_fault_401_first_call_per_endpoint(tp: httpx.Client) -> None:
    for path in ("/analysis/at/4000401", "/analysis/wi/4000401"):
        first = tp.get(path)
        assert first.status_code == 401 and first.json() == {"detail": "Authentication required."}
        assert tp.get(path).status_code == 200


def test_fault_404_everything(tp: httpx.Client) -> None:
    assert tp.get("/analysis/at/4000404").json() == {"detail": "404: No AT files found for this case."}
    assert tp.get("/analysis/wi/4000404").json() == {"detail": "404: No WI files found for this case."}
    for path in ("/analysis/at/4000404", "/analysis/trt/4000404", "/transcripts/at/4000404"):
        assert tp.get(path).status_code == 404


def test_fault_429_then_success_and_counters_reset(tp: httpx.Client, sandbox) -> None:
    for _ in range(2):
        r = tp.get("/analysis/at/4000429")
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert tp.get("/analysis/at/4000429").status_code == 200
    assert sandbox.calls()["4000429"]["analysis/at"] == 3
    sandbox.reset()
    assert "4000429" not in sandbox.calls()
    assert tp.get("/analysis/at/4000429").status_code == 429  # counting starts again


def test_fault_500_transient(tp: httpx.Client) -> None:
    statuses = [tp.get("/analysis/wi/4000500").status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    assert tp.get("/analysis/at/4000500").status_code == 500  # counters are per endpoint


def test_fault_500_always(tp: httpx.Client) -> None:
    r = None
    for _ in range(4):
        r = tp.get("/analysis/at/4000599")
        assert r.status_code == 500
    assert r.json()["detail"].startswith("Internal server error: ")


def test_fault_slow_first_call(sandbox_reset) -> None:
    headers = {"x-api-key": sandbox_reset.tiparser_api_key}
    url = f"{sandbox_reset.tiparser_url}/analysis/at/4000408"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, headers=headers, timeout=0.5)
    r = httpx.get(url, headers=headers, timeout=2)
    assert r.status_code == 200 and r.json() == data.at_payload("4000408")


def test_fault_405_get_then_post(tp: httpx.Client) -> None:
    r = tp.get("/analysis/at/4000405")
    assert r.status_code == 405
    r = tp.post("/analysis/at/4000405", json={})
    assert r.status_code == 200 and r.json() == data.at_payload("4000405")
    # Everywhere else the real service is GET-only.
    assert tp.post("/analysis/at/1295022", json={}).status_code == 405


def test_fault_truncated_json(tp: httpx.Client) -> None:
    r = tp.get("/analysis/at/4000206")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    full = json.dumps(data.at_payload("4000206")).encode()
    assert r.content == full[: len(full) // 2]
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_fault_malformed_json(tp: httpx.Client) -> None:
    r = tp.get("/analysis/wi/4000207")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_drift_cases_over_http(tp: httpx.Client) -> None:
    assert set(tp.get("/analysis/at/3000001").json()) == {"records"}
    assert set(tp.get("/analysis/at/3000002").json()) == {"data"}
    assert "Unknown" in tp.get("/analysis/wi/3000001").json()["years_data"]
    assert set(tp.get("/analysis/wi/3000002").json()) == {"forms"}


def test_calls_counted_per_case_and_endpoint(tp: httpx.Client, sandbox) -> None:
    tp.get("/analysis/at/1295022")
    tp.get("/analysis/at/1295022")
    tp.get("/analysis/wi/1295022")
    httpx.get(f"{sandbox.tiparser_url}/analysis/at/1295022")  # rejected calls count too
    assert sandbox.calls()["1295022"] == {"analysis/at": 3, "analysis/wi": 1}


def test_admin_cases_lists_the_table(sandbox) -> None:
    for url in (sandbox.tiparser_url, sandbox.casehelper_url):
        cases = httpx.get(f"{url}/__sandbox__/cases").json()["cases"]
        assert {c["case_id"] for c in cases} == set(data.BEHAVIOURS)
        demo = next(c for c in cases if c["case_id"] == "1295022")
        assert demo["trt"] is False and demo["label"] == "demo"
