"""Group commit of triggers: the requests that arrive while a statement is in flight are recorded
by ONE statement (RECORD_REQUESTS_BATCH_SQL), and each caller gets exactly the answer it would
have had alone: dedup of a case already queued/running (also two triggers for one case inside
one batch), force creating a new request, errors reaching every waiting caller."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from dagster_pipeline.requests_store import (
    RECORD_REQUESTS_BATCH_SQL,
    create_or_reuse_request,
    plan_batch,
    record_requests,
)


def new_case() -> str:
    return str(uuid.uuid4().int % 10**12).rjust(12, "8")


def requests_of(database_url: str, case_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT request_id::text, status, force, case_number, requested_at FROM public.extraction_requests"
            " WHERE case_id = %s ORDER BY requested_at, request_id", (case_id,)).fetchall()
    return [{"request_id": r[0], "status": r[1], "force": r[2], "case_number": r[3], "requested_at": r[4]}
            for r in rows]


def gather_triggers(client: TestClient, calls: list[dict[str, Any]]) -> list[Any]:
    """Run trigger.request_async for every call concurrently on the app's event loop (all submitted
    in the same turn of the loop, so they form one batch), exceptions returned in place."""
    state = client.app.state

    async def run() -> list[Any]:
        return await asyncio.gather(*(state.trigger.request_async(state.async_pool, **call) for call in calls),
                                    return_exceptions=True)

    return client.portal.call(run)


def recorder_counts(client: TestClient) -> tuple[int, int]:
    state = client.app.state
    recorder = state.trigger.recorder(state.async_pool)
    return recorder.batches, recorder.items


def test_50_triggers_for_50_cases_are_recorded_by_fewer_statements(client: TestClient,
                                                                   database_url: str) -> None:
    cases = [new_case() for _ in range(50)]
    batches_before, items_before = recorder_counts(client)
    outcomes = gather_triggers(client, [{"case_id": c} for c in cases])
    batches, items = recorder_counts(client)
    assert items - items_before == 50
    assert batches - batches_before < 50  # one statement recorded many requests
    assert batches - batches_before == 1  # all arrived in one turn of the loop
    for case_id, outcome in zip(cases, outcomes, strict=True):
        assert not isinstance(outcome, BaseException), outcome
        assert outcome.created and outcome.request["case_id"] == case_id
        rows = requests_of(database_url, case_id)  # durable: another connection sees it
        assert [r["request_id"] for r in rows] == [outcome.request_id]
        assert rows[0]["status"] in ("queued", "submitted")


def test_50_concurrent_http_triggers_get_50_durable_requests(api: TestClient, database_url: str) -> None:
    cases = [new_case() for _ in range(50)]
    barrier = threading.Barrier(len(cases))
    answers: dict[str, Any] = {}

    def click(case_id: str) -> None:
        barrier.wait()
        answers[case_id] = api.post(f"/api/dagster/cases/{case_id}/extract")

    batches_before, items_before = recorder_counts(api)
    threads = [threading.Thread(target=click, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batches, items = recorder_counts(api)
    assert items - items_before == 50
    assert batches - batches_before <= 50
    for case_id in cases:
        response = answers[case_id]
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "triggered" and body["case_id"] == case_id and not body["deduplicated"]
        assert [r["request_id"] for r in requests_of(database_url, case_id)] == [body["request_id"]]


def test_triggers_for_one_case_in_one_batch_dedup_to_one_request(client: TestClient, database_url: str) -> None:
    case_id = new_case()
    outcomes = gather_triggers(client, [{"case_id": case_id}] * 10)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert [o.created for o in outcomes] == [True] + [False] * 9
    assert len({o.request_id for o in outcomes}) == 1
    assert [r["request_id"] for r in requests_of(database_url, case_id)] == [outcomes[0].request_id]
    # and a later batch for the case returns the same active request
    again = gather_triggers(client, [{"case_id": case_id}] * 3)
    assert [(o.created, o.request_id) for o in again] == [(False, outcomes[0].request_id)] * 3


def test_force_in_a_batch_creates_a_new_request_like_one_by_one(client: TestClient, database_url: str,
                                                                  db: psycopg.Connection) -> None:
    """The same sequence (plain, force, plain, force, plain) for a case in one batch and one by
    one with the single statement gives the same pattern of answers and rows."""
    sequence = [False, True, False, True, False]
    batched_case, single_case = new_case(), new_case()
    outcomes = gather_triggers(client, [{"case_id": batched_case, "force": f} for f in sequence])
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    batched = [(o.created, o.request_id) for o in outcomes]

    with psycopg.connect(database_url, autocommit=True) as conn:
        single = [create_or_reuse_request(conn, single_case, origin="api", force=f)[::-1] for f in sequence]

    def pattern(answers: list[tuple[bool, str]]) -> list[tuple[bool, int]]:
        order = list(dict.fromkeys(rid for _, rid in answers))
        return [(created, order.index(rid)) for created, rid in answers]

    assert pattern(batched) == pattern(single) == [(True, 0), (True, 1), (False, 1), (True, 2), (False, 2)]
    rows = requests_of(database_url, batched_case)
    assert [r["force"] for r in rows] == [False, True, True]
    # the latest request (what the status shows) is the last one created, as one by one
    assert rows[-1]["request_id"] == batched[3][1]
    assert len({r["requested_at"] for r in rows}) == 3


def test_a_batch_case_number_is_kept_as_one_by_one(client: TestClient, database_url: str) -> None:
    case_id = new_case()
    gather_triggers(client, [{"case_id": case_id}, {"case_id": case_id, "case_number": "TRA-1"},
                             {"case_id": case_id, "case_number": "TRA-2"}])
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT case_number FROM public.cases WHERE case_id = %s",
                            (case_id,)).fetchone() == ("TRA-1",)


def test_plan_batch_sends_one_unforced_request_per_case_and_every_forced_one() -> None:
    reqs = [{"case_id": c, "case_number": None, "force": f, "origin": "api", "requested_by": None}
            for c, f in (("1", False), ("2", False), ("1", False), ("1", True), ("1", False), ("2", True))]
    plan = plan_batch(reqs)
    assert plan.sent == [0, 1, 3, 5]
    assert plan.source == [0, 1, 0, 3, 3, 5]
    assert plan.params["case_id"] == ["1", "2", "1", "2"]


def test_sync_record_requests_matches_the_single_statement(database_url: str) -> None:
    a, b = new_case(), new_case()
    with psycopg.connect(database_url, autocommit=True) as conn:
        existing, _ = create_or_reuse_request(conn, a, origin="cli")
        rows = record_requests(conn, [
            {"case_id": a, "case_number": None, "force": False, "origin": "bulk", "requested_by": None},
            {"case_id": b, "case_number": "N-1", "force": False, "origin": "bulk", "requested_by": "u"},
        ])
    assert [(r["created"], str(r["request_id"])) for r in rows][0] == (False, existing)
    assert rows[1]["created"] is True and rows[1]["case_number"] == "N-1" and rows[1]["requested_by"] == "u"
    assert "ord" not in rows[0]


def test_a_database_error_in_a_batch_gives_every_waiter_a_503_and_records_nothing(
        api: TestClient, database_url: str) -> None:
    state = api.app.state
    cases = [new_case() for _ in range(20)]
    real_connection = state.async_pool.connection
    entered = threading.Event()

    @contextlib.asynccontextmanager
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        entered.set()
        await asyncio.sleep(0.05)  # let the other clicks queue behind this statement
        raise psycopg.OperationalError("server closed the connection unexpectedly")
        yield  # pragma: no cover

    state.async_pool.connection = broken
    try:
        barrier = threading.Barrier(len(cases))
        answers: dict[str, Any] = {}

        def click(case_id: str) -> None:
            barrier.wait()
            answers[case_id] = api.post(f"/api/dagster/cases/{case_id}/extract")

        threads = [threading.Thread(target=click, args=(c,)) for c in cases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        state.async_pool.connection = real_connection
    assert entered.is_set()
    for case_id in cases:
        response = answers[case_id]
        assert response.status_code == 503, response.text
        assert response.json()["type"] == "database_unavailable"
        assert requests_of(database_url, case_id) == []  # no 202 was given, none was recorded
    # the same clicks once the database answers again: each recorded once
    for case_id in cases:
        assert api.post(f"/api/dagster/cases/{case_id}/extract").status_code == 202
        assert len(requests_of(database_url, case_id)) == 1


def test_a_bad_request_in_a_batch_fails_alone(client: TestClient, database_url: str) -> None:
    good = [new_case() for _ in range(5)]
    bad = new_case()
    calls = [{"case_id": c} for c in good[:2]] + [{"case_id": bad, "case_number": "NUL\x00"}] + \
            [{"case_id": c} for c in good[2:]]
    outcomes = gather_triggers(client, calls)
    assert isinstance(outcomes[2], psycopg.DataError)
    assert requests_of(database_url, bad) == []
    for case_id, outcome in zip(good, outcomes[:2] + outcomes[3:], strict=True):
        assert not isinstance(outcome, BaseException), outcome
        assert outcome.created and [r["request_id"] for r in requests_of(database_url, case_id)] == [
            outcome.request_id]


def test_http_nul_byte_in_case_number_is_still_a_422(api: TestClient) -> None:
    response = api.post(f"/api/dagster/cases/{new_case()}/extract", params={"case_number": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["type"] == "validation_error"


@pytest.mark.parametrize("force", [False, True])
def test_batch_sql_runs_alone_on_an_existing_active_request(database_url: str, force: bool) -> None:
    case_id = new_case()
    with psycopg.connect(database_url, autocommit=True) as conn:
        first, _ = create_or_reuse_request(conn, case_id, origin="cli")
        plan = plan_batch([{"case_id": case_id, "case_number": None, "force": force, "origin": "api",
                            "requested_by": None}])
        rows = conn.execute(RECORD_REQUESTS_BATCH_SQL, plan.params).fetchall()
    assert len(rows) == 1
    created, request_id = rows[0][1], str(rows[0][2])
    assert created is force
    assert (request_id == first) is (not force)


def test_trigger_answer_is_the_full_response_model(api: TestClient) -> None:
    """The route serialises its TriggerResponse itself: every field is there, as FastAPI's
    response_model encoding would write it (nulls included)."""
    from backend.app.schemas.extraction import TriggerResponse

    response = api.post(f"/api/dagster/cases/{new_case()}/extract")
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == TriggerResponse.model_validate(body).model_dump(mode="json")
    assert set(body) == set(TriggerResponse.model_fields)
    assert body["timed_out"] is None
    body_form = api.post("/api/dagster/extract", json={"case_id": new_case()})
    assert body_form.status_code == 202 and set(body_form.json()) == set(TriggerResponse.model_fields)
