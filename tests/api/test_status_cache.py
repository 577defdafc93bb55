"""The per-process status cache (services/status_cache.py): at most 1 s old, never ahead of the
database, invalidated by everything this process does to a case, one query per case at a time."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from backend.app.main import create_app
from backend.app.services import data_saver
from backend.app.services.status_cache import MAX_TTL_S, StatusCache
from tests.api.conftest import make_settings, wait_until

SOURCES = ("at", "wi", "trt", "interview")


@pytest.fixture
def cached_api(database_url, submitter, auth):
    settings = make_settings(status_cache_ttl_s=1.0)
    app = create_app(settings, database_url=database_url, submitter=submitter, log_file=None)
    with TestClient(app) as client:
        client.headers.update(auth)
        yield client


def _set_states(database_url: str, case_id: str, state: str) -> None:
    """What a Dagster run (another process) writes: this API cannot invalidate on it."""
    with psycopg.connect(database_url) as conn:
        for source in SOURCES:
            data_saver.set_source_state(conn, case_id, source, state, http_status=200)


def _status(client: TestClient, case_id: str) -> dict:
    response = client.get(f"/api/dagster/status/{case_id}")
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------- through the API
def test_trigger_invalidates_the_cached_status(cached_api, case_id):
    assert _status(cached_api, case_id)["status"] == "not_started"  # cached now
    response = cached_api.post(f"/api/dagster/cases/{case_id}/extract")
    assert response.status_code == 202
    body = _status(cached_api, case_id)  # at once, not after the TTL
    assert body["status"] in ("queued", "running")
    assert body["request"]["request_id"] == response.json()["request_id"]


def test_body_and_bulk_triggers_invalidate(cached_api, case_id):
    other = str(int(case_id) - 1).rjust(12, "9")
    assert _status(cached_api, case_id)["status"] == "not_started"
    assert _status(cached_api, other)["status"] == "not_started"
    assert cached_api.post("/api/dagster/extract", json={"case_id": case_id}).status_code == 202
    assert _status(cached_api, case_id)["status"] in ("queued", "running")
    assert cached_api.post("/api/dagster/extract/bulk", json={"case_ids": [other]}).status_code == 202
    assert _status(cached_api, other)["status"] in ("queued", "running")


def test_submission_by_the_worker_invalidates(cached_api, case_id, submitter):
    cached_api.post(f"/api/dagster/cases/{case_id}/extract")
    before = _status(cached_api, case_id)
    assert wait_until(lambda: submitter.submitted)  # the batching thread recorded a run id
    assert wait_until(lambda: _status(cached_api, case_id)["run_id"] is not None, timeout=0.5), before


def test_changes_by_other_processes_show_within_the_ttl(cached_api, case_id, database_url):
    cached_api.post(f"/api/dagster/cases/{case_id}/extract")
    first = _status(cached_api, case_id)
    assert first["status"] in ("queued", "running")
    _set_states(database_url, case_id, "no_data")  # the run finished, in another process
    changed_at = time.monotonic()
    assert wait_until(lambda: _status(cached_api, case_id)["status"] == "complete", timeout=MAX_TTL_S + 1)
    assert time.monotonic() - changed_at <= MAX_TTL_S + 0.5


def test_delete_invalidates(cached_api, case_id):
    cached_api.post(f"/api/dagster/cases/{case_id}/extract")
    assert _status(cached_api, case_id)["case_exists"] is True
    assert cached_api.delete(f"/api/cases/{case_id}").status_code == 204
    body = _status(cached_api, case_id)
    assert body["case_exists"] is False and body["status"] == "not_started"


def test_cache_off_reads_every_time(api, case_id, database_url):
    api.post(f"/api/dagster/cases/{case_id}/extract")
    assert _status(api, case_id)["status"] in ("queued", "running")
    _set_states(database_url, case_id, "no_data")
    assert _status(api, case_id)["status"] == "complete"


# ---------------------------------------------------------------------------- the cache itself
def test_ttl_is_capped_at_one_second():
    assert StatusCache(5).ttl_s == MAX_TTL_S
    assert StatusCache(0).enabled is False
    assert StatusCache(0.25).ttl_s == 0.25


def test_entry_age_counts_from_the_query_start():
    async def scenario():
        cache = StatusCache(0.2)
        calls = []

        async def slow_load():
            calls.append(time.monotonic())
            await asyncio.sleep(0.15)
            return len(calls)

        assert await cache.get("1", slow_load) == 1
        await asyncio.sleep(0.1)  # 0.25 s after the query started: expired although stored 0.1 s ago
        assert await cache.get("1", slow_load) == 2

    asyncio.run(scenario())


def test_concurrent_misses_share_one_query():
    async def scenario():
        cache = StatusCache(1.0)
        calls = 0

        async def load():
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return calls

        results = await asyncio.gather(*(cache.get("1", load) for _ in range(20)))
        assert results == [1] * 20 and calls == 1

    asyncio.run(scenario())


def test_a_query_that_started_before_an_invalidation_is_not_stored_or_shared():
    async def scenario():
        cache = StatusCache(1.0)
        versions = iter(["before", "after", "later"])

        async def load():
            value = next(versions)
            await asyncio.sleep(0.05)
            return value

        first = asyncio.ensure_future(cache.get("1", load))
        await asyncio.sleep(0.01)
        cache.invalidate("1")  # e.g. a trigger recorded while the query was running
        second = await cache.get("1", load)  # does not join the stale query
        assert await first == "before" and second == "after"
        assert await cache.get("1", load) == "after"  # the fresh one was stored, the stale one not

    asyncio.run(scenario())


def test_a_failed_query_is_not_cached():
    async def scenario():
        cache = StatusCache(1.0)
        attempts = 0

        async def load():
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                raise psycopg.OperationalError("down")
            return "ok"

        with pytest.raises(psycopg.OperationalError):
            await cache.get("1", load)
        assert await cache.get("1", load) == "ok"

    asyncio.run(scenario())


def test_invalidation_is_per_case():
    async def scenario():
        cache = StatusCache(1.0)
        counter = {"1": 0, "2": 0}

        def loader(case_id):
            async def load():
                counter[case_id] += 1
                return counter[case_id]
            return load

        await cache.get("1", loader("1"))
        await cache.get("2", loader("2"))
        cache.invalidate("1")
        assert await cache.get("1", loader("1")) == 2
        assert await cache.get("2", loader("2")) == 1

    asyncio.run(scenario())
