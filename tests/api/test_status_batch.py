"""Coalesced status reads: concurrent polls of different cases are read by one statement
(STATUS_BATCH_QUERY), and each answer equals the one-case query's (`fetch_async`)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from backend.app.services import data_saver
from backend.app.services.case_status import STATUS_BATCH_QUERY, STATUS_QUERY
from tests.sandbox_cases import store_sandbox_case


def new_case() -> str:
    return str(uuid.uuid4().int % 10**12).rjust(12, "7")


def _ingest(database_url: str, case_id: str) -> None:
    with psycopg.connect(database_url) as conn:
        store_sandbox_case(conn, case_id)


def _varied_cases(api: TestClient, database_url: str) -> list[str]:
    """Cases in different states: complete, submitted, partial (a failed source), running, unknown."""
    complete, queued, partial, running, unknown = (new_case() for _ in range(5))
    _ingest(database_url, complete)
    assert api.post(f"/api/dagster/cases/{queued}/extract").status_code == 202
    assert api.app.state.trigger.wait_idle()  # submitted (fake Dagster): no change while we read
    with psycopg.connect(database_url) as conn:
        data_saver.save_bronze(conn, "interview", partial, {"employment": {}})
        data_saver.set_source_state(conn, partial, "interview", "stored", http_status=200)
        data_saver.set_source_state(conn, partial, "at", "failed", http_status=403, error="403 Forbidden")
        data_saver.set_source_state(conn, running, "at", "fetching")
    return [complete, queued, partial, running, unknown]


def _without_clock(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "checked_at"}


def test_coalesced_answers_equal_one_by_one_answers(api: TestClient, database_url: str) -> None:
    cases = _varied_cases(api, database_url)
    state = api.app.state
    service, apool = state.status_service, state.async_pool

    async def one_by_one() -> list[dict[str, Any]]:
        answers = []
        for case_id in cases:
            async with apool.connection() as aconn:
                answers.append(await service.fetch_async(aconn, case_id))
        return answers

    async def coalesced() -> tuple[list[dict[str, Any]], int]:
        reader = service.reader(apool)
        before = reader.batches
        # twice the same case in one batch too
        answers = await asyncio.gather(*(service.fetch_coalesced(apool, c) for c in [*cases, cases[0]]))
        return list(answers), reader.batches - before

    single = api.portal.call(one_by_one)
    together, batches = api.portal.call(coalesced)
    assert batches == 1  # one statement for all the polls of the turn
    assert [_without_clock(a) for a in together] == [_without_clock(a) for a in [*single, single[0]]]
    assert [a["status"] for a in single] == ["complete", "running", "partial", "running", "not_started"]


def test_concurrent_http_polls_share_statements_and_answer_as_alone(api: TestClient, database_url: str) -> None:
    cases = _varied_cases(api, database_url)
    alone = {c: api.get(f"/api/dagster/status/{c}").json() for c in cases}
    reader = api.app.state.status_service.reader(api.app.state.async_pool)
    items_before = reader.items
    polls = cases * 6
    barrier = threading.Barrier(len(polls))
    answers: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def poll(case_id: str) -> None:
        barrier.wait()
        response = api.get(f"/api/dagster/status/{case_id}")
        with lock:
            answers.append((case_id, response))

    threads = [threading.Thread(target=poll, args=(c,)) for c in polls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reader.items - items_before == len(polls)
    for case_id, response in answers:
        assert response.status_code == 200
        assert _without_clock(response.json()) == _without_clock(alone[case_id])


def test_batch_query_has_the_single_query_columns(db: psycopg.Connection) -> None:
    single = db.execute(STATUS_QUERY, {"case_id": "1"}).description
    batch = db.execute(STATUS_BATCH_QUERY, {"case_ids": ["1", "2"]})
    assert [c.name for c in batch.description] == ["batch_case_id"] + [c.name for c in single]
    assert [r[0] for r in batch.fetchall()] == ["1", "2"]


def test_polls_while_the_pool_has_no_connection_answer_503_together(api: TestClient) -> None:
    """No connection within the pool timeout: the poll whose batch waited and every poll queued
    behind it answer 503 at once (none waits for a second failing batch)."""
    import contextlib

    from psycopg_pool import PoolTimeout

    state = api.app.state
    reader = state.status_service.reader(state.async_pool)
    real_connection = state.async_pool.connection

    @contextlib.asynccontextmanager
    async def no_connection(*_args: Any, **_kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # the pool's wait, shortened
        raise PoolTimeout("couldn't get a connection after 5.00 sec")
        yield  # pragma: no cover

    cases = [new_case() for _ in range(12)]
    answers: list[Any] = []
    lock = threading.Lock()

    def poll(case_id: str, delay: float) -> None:
        import time

        time.sleep(delay)
        response = api.get(f"/api/dagster/status/{case_id}")
        with lock:
            answers.append(response)

    batches_before = reader.batches
    state.async_pool.connection = no_connection
    try:
        threads = [threading.Thread(target=poll, args=(c, 0.0 if i < 2 else 0.1)) for i, c in enumerate(cases)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        state.async_pool.connection = real_connection
    assert [r.status_code for r in answers] == [503] * len(cases)
    assert {r.json()["type"] for r in answers} == {"database_unavailable"}
    assert reader.batches - batches_before <= 2  # the first failing batch(es) answered everyone
