"""SANDBOX_* settings, each checked against separately started sandbox processes."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.sandbox_fixtures import start_sandbox

SPECIAL_ENV = {
    "SANDBOX_LATENCY_SECONDS": "0.3",
    "SANDBOX_COLD_START_SECONDS": "0.6",
    "SANDBOX_SLOW_SECONDS": "0.3",
    "SANDBOX_SESSION_TTL_SECONDS": "1",
    "SANDBOX_TIPARSER_API_KEY": "other-key",
    "SANDBOX_CASEHELPER_API_KEY": "ch-key",
    "SANDBOX_CASEHELPER_USERNAME": "alice",
    "SANDBOX_CASEHELPER_PASSWORD": "s3cret",
}


@pytest.fixture(scope="module")
def special():
    with start_sandbox(SPECIAL_ENV) as sb:
        yield sb


def _timed_get(url: str, **kwargs) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    r = httpx.get(url, timeout=10, **kwargs)
    return r, time.perf_counter() - start


def test_fixture_reports_settings(special) -> None:
    assert special.tiparser_api_key == "other-key"
    assert (special.casehelper_username, special.casehelper_password) == ("alice", "s3cret")
    assert special.casehelper_api_key == "ch-key" and len(special.pids) == 2


def test_cold_start_then_latency(special) -> None:
    special.reset()  # re-arms the cold start
    headers = {"x-api-key": "other-key"}
    first, t1 = _timed_get(f"{special.tiparser_url}/analysis/at/1295022", headers=headers)
    second, t2 = _timed_get(f"{special.tiparser_url}/analysis/at/1295022", headers=headers)
    assert first.status_code == second.status_code == 200
    # Compared within the run, not to fixed ceilings: a loaded machine slows every request alike.
    assert t1 >= 0.9  # latency + cold start
    assert t2 >= 0.3  # latency only
    assert t1 - t2 >= 0.45  # the 0.6 s cold start is paid once
    _, health = _timed_get(f"{special.tiparser_url}/health")
    assert health < t2 - 0.2  # /health skips the 0.3 s latency


def test_latency_calls_overlap(special) -> None:
    async def run() -> float:
        async with httpx.AsyncClient(
            base_url=special.tiparser_url, headers={"x-api-key": "other-key"}, timeout=10
        ) as client:
            start = time.perf_counter()
            responses = await asyncio.gather(*[client.get(f"/analysis/wi/{1000 + i}") for i in range(6)])
            assert all(r.status_code == 200 for r in responses)
            return time.perf_counter() - start

    special.reset()
    httpx.get(
        f"{special.tiparser_url}/analysis/at/1", headers={"x-api-key": "other-key"}, timeout=10
    )  # cold start
    assert asyncio.run(run()) < 6 * 0.3 * 0.6  # six 0.3 s delays run concurrently


def test_configured_tiparser_key(special) -> None:
    url = f"{special.tiparser_url}/analysis/trt/1000001"
    assert httpx.get(url, headers={"x-api-key": "sandbox-tiparser-key"}, timeout=10).status_code == 403
    assert httpx.get(url, headers={"x-api-key": "other-key"}, timeout=10).status_code == 200


def test_slow_seconds_setting(special) -> None:
    special.reset()
    headers = {"x-api-key": "other-key"}
    httpx.get(f"{special.tiparser_url}/analysis/wi/1", headers=headers, timeout=10)  # absorb the cold start
    _, first = _timed_get(f"{special.tiparser_url}/analysis/at/4000408", headers=headers)
    _, second = _timed_get(f"{special.tiparser_url}/analysis/at/4000408", headers=headers)
    assert first >= 0.6  # 0.3 latency + 0.3 slow
    assert first - second >= 0.2  # then latency only: the slow part is paid once


def test_casehelper_api_key_credentials_and_ttl(special) -> None:
    special.reset()
    base = special.casehelper_url
    creds = {"credentials": {"username": "alice", "password": "s3cret", "appType": "transcript_pipeline"}}
    assert httpx.post(f"{base}/v2/auth/login", json=creds, timeout=10).status_code == 403  # no X-API-Key
    key = {"X-API-Key": "ch-key"}
    default_creds = {"credentials": {"username": "sandbox-user", "password": "sandbox-password"}}
    assert httpx.post(f"{base}/v2/auth/login", json=default_creds, headers=key, timeout=10).status_code == 401
    login = httpx.post(f"{base}/v2/auth/login", json=creds, headers=key, timeout=10)
    assert login.status_code == 200
    cookie = {"Cookie": f"casehelper_session={login.json()['cookies']['casehelper_session']}"}
    url = f"{base}/api/cases/1295022/interview"
    assert httpx.get(url, headers=cookie, timeout=10).status_code == 403  # session but no key
    assert httpx.get(url, headers={**cookie, **key}, timeout=10).status_code == 200
    time.sleep(1.1)  # SANDBOX_SESSION_TTL_SECONDS=1
    assert httpx.get(url, headers={**cookie, **key}, timeout=10).status_code == 401


def test_same_bytes_across_processes(sandbox, special) -> None:
    for path in ("/analysis/at/1295022", "/analysis/wi/3000002", "/transcripts/wi/1295022"):
        a = httpx.get(
            sandbox.tiparser_url + path, headers={"x-api-key": sandbox.tiparser_api_key}, timeout=10
        )
        b = httpx.get(special.tiparser_url + path, headers={"x-api-key": "other-key"}, timeout=10)
        assert a.status_code == 200 and a.content == b.content


def test_global_fault() -> None:
    with start_sandbox({"SANDBOX_FAULT": "500"}) as sb:
        url = f"{sb.tiparser_url}/analysis/at/1000001"
        headers = {"x-api-key": sb.tiparser_api_key}
        assert [httpx.get(url, headers=headers).status_code for _ in range(3)] == [500, 500, 200]
        login = httpx.post(
            f"{sb.casehelper_url}/v2/auth/login",
            json={"username": "sandbox-user", "password": "sandbox-password"},
        )
        assert login.status_code == 200  # logins are not case calls: no fault
        url = f"{sb.casehelper_url}/api/cases/1000001/interview"
        assert [httpx.get(url, cookies=login.cookies).status_code for _ in range(3)] == [500, 500, 200]
        # A per-case fault wins over the global one.
        assert httpx.get(f"{sb.tiparser_url}/analysis/at/4000403", headers=headers).status_code == 403


def test_invalid_global_fault_fails_fast() -> None:
    with pytest.raises(RuntimeError, match="SANDBOX_FAULT"), start_sandbox({"SANDBOX_FAULT": "bogus"}):
        pass
