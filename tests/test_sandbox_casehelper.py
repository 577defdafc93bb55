"""The CaseHelper sandbox over real HTTP: login variants, cookie sessions, interview, blobs, faults."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import data
from tests.test_sandbox_data import check_pdf


def _nested(sb) -> dict:
    return {
        "credentials": {
            "username": sb.casehelper_username,
            "password": sb.casehelper_password,
            "appType": sb.casehelper_app_type,
        }
    }


def _cookie_header(login: httpx.Response) -> str:
    """What a variant-A client builds: cookies from the JSON body, empty values skipped."""
    return "; ".join(f"{k}={v}" for k, v in login.json()["cookies"].items() if v)


@pytest.fixture
def session(sandbox_reset) -> dict[str, str]:
    r = httpx.post(f"{sandbox_reset.casehelper_url}/v2/auth/login", json=_nested(sandbox_reset))
    assert r.status_code == 200
    return {"Cookie": _cookie_header(r)}


def test_health(sandbox) -> None:
    assert httpx.get(f"{sandbox.casehelper_url}/health").json()["status"] == "healthy"


def test_login_nested_body_returns_cookies_in_body_and_headers(sandbox_reset) -> None:
    r = httpx.post(
        f"{sandbox_reset.casehelper_url}/v2/auth/login",
        json=_nested(sandbox_reset),
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200
    cookies = r.json()["cookies"]
    assert cookies["casehelper_session"] and cookies["remember_me"] == ""
    assert r.cookies["casehelper_session"] == cookies["casehelper_session"]
    assert r.cookies["casehelper_user"] == cookies["casehelper_user"] == sandbox_reset.casehelper_username


def test_login_flat_body_and_set_cookie_session(sandbox_reset) -> None:
    sb = sandbox_reset
    with httpx.Client(base_url=sb.casehelper_url) as client:  # the client keeps Set-Cookie cookies
        r = client.post(
            "/v2/auth/login",
            json={
                "username": sb.casehelper_username,
                "password": sb.casehelper_password,
                "appType": sb.casehelper_app_type,
            },
        )
        assert r.status_code == 200 and "cookies" in r.json()
        assert client.get("/api/cases/1295022/interview").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"credentials": {"username": "sandbox-user", "password": "wrong", "appType": "transcript_pipeline"}},
        {"username": "someone", "password": "sandbox-password"},
        {"credentials": {"username": "sandbox-user", "password": "sandbox-password", "appType": "other_app"}},
    ],
)
def test_login_bad_credentials_401(sandbox, body: dict) -> None:
    r = httpx.post(f"{sandbox.casehelper_url}/v2/auth/login", json=body)
    assert r.status_code == 401 and "cookies" not in r.json()


def test_interview_requires_session(sandbox_reset) -> None:
    url = f"{sandbox_reset.casehelper_url}/api/cases/1295022/interview"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Cookie": "casehelper_session=forged"}).status_code == 401


def test_interview_payload(sandbox, session) -> None:
    r = httpx.get(f"{sandbox.casehelper_url}/api/cases/1295022/interview", headers=session)
    assert r.status_code == 200 and r.json() == data.interview_payload("1295022")
    drifted = httpx.get(f"{sandbox.casehelper_url}/api/cases/3000001/interview", headers=session).json()
    assert isinstance(drifted["employment"]["clientGrossIncome"], str)


def test_no_interview_404(sandbox, session) -> None:
    for case_id in ("5000404", "4000404"):
        r = httpx.get(f"{sandbox.casehelper_url}/api/cases/{case_id}/interview", headers=session)
        assert r.status_code == 404


def test_interview_500_case(sandbox, session) -> None:
    for _ in range(3):
        assert (
            httpx.get(f"{sandbox.casehelper_url}/api/cases/5000500/interview", headers=session).status_code
            == 500
        )
    assert sandbox.calls("casehelper")["5000500"] == {"interview": 3}


def test_expire_sessions_then_relogin(sandbox, session) -> None:
    url = f"{sandbox.casehelper_url}/api/cases/1295022/interview"
    assert httpx.get(url, headers=session).status_code == 200
    expired = httpx.post(f"{sandbox.casehelper_url}/__sandbox__/expire-sessions").json()
    assert expired["sessions"] >= 1
    assert httpx.get(url, headers=session).status_code == 401
    again = httpx.post(f"{sandbox.casehelper_url}/v2/auth/login", json=_nested(sandbox))
    assert httpx.get(url, headers={"Cookie": _cookie_header(again)}).status_code == 200


def test_blob_walk_and_download(sandbox, session) -> None:
    walk = httpx.get(f"{sandbox.casehelper_url}/v2/blobs/1295022/walk", headers=session)
    assert walk.status_code == 200
    entries = walk.json()["data"]
    assert {e["document_type"] for e in entries} == {"AT", "WI"}
    entry = next(e for e in entries if e["file_name"] == "AT 21.pdf")
    r = httpx.post(
        f"{sandbox.casehelper_url}/v2/blobs/1295022/download",
        headers={**session, "accept": "application/pdf"},
        json={"status": 200, "data": [entry]},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    check_pdf(r.content)
    assert r.content == data.pdf_bytes("1295022", "at", entry["case_document_id"])
    missing = httpx.post(
        f"{sandbox.casehelper_url}/v2/blobs/1295022/download",
        headers=session,
        json={"status": 200, "data": [{**entry, "case_document_id": "1"}]},
    )
    assert missing.status_code == 404
    assert httpx.get(f"{sandbox.casehelper_url}/v2/blobs/1295022/walk").status_code == 401


def test_transient_faults_on_casehelper(sandbox, session) -> None:
    url = f"{sandbox.casehelper_url}/api/cases/4000429/interview"
    first = httpx.get(url, headers=session)
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    assert [httpx.get(url, headers=session).status_code for _ in range(2)] == [429, 200]
    url = f"{sandbox.casehelper_url}/api/cases/4000500/interview"
    assert [httpx.get(url, headers=session).status_code for _ in range(3)] == [500, 500, 200]


def test_broken_json_on_casehelper(sandbox, session) -> None:
    for case_id in ("4000206", "4000207"):
        r = httpx.get(f"{sandbox.casehelper_url}/api/cases/{case_id}/interview", headers=session)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            r.json()
