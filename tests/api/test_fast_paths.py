"""What the performance work changed underneath the contract: the one-statement trigger, the
fixed table names (a missing table is an error, not an empty answer), the case search indexes
(migration 014), the verified-token cache and the request ids."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from backend.app.database import CASE_TABLES, create_async_pool
from backend.app.db.migrate import apply_migrations
from backend.app.main import create_app, new_request_id
from backend.app.security import LEEWAY_S, TokenVerifier
from backend.app.services.case_data import read_rows
from backend.app.services.case_status import GOLD_TABLES, SILVER_TABLES, STATUS_QUERY
from backend.app.services.dagster_trigger import DagsterTrigger
from tests.api.conftest import forge, make_settings


# ------------------------------------------------------------------------------ trigger statement
def _trigger(pool) -> DagsterTrigger:
    return DagsterTrigger(pool, dagster_host="127.0.0.1", dagster_port=1, dagster_ui_url="http://localhost:3000",
                          load_submitter=False)


def test_one_statement_trigger_semantics(database_url, case_id):
    async def scenario() -> None:
        apool: AsyncConnectionPool = create_async_pool(database_url, min_size=1, max_size=4)
        await apool.open()
        try:
            trigger = _trigger(None)
            first = await trigger.request_async(apool, case_id, case_number=None, requested_by="u1")
            assert first.created and first.request["status"] == "queued" and first.request["requested_by"] == "u1"
            # a click with a number fills in the number the case did not have, returns the same request
            again = await trigger.request_async(apool, case_id, case_number="TRA-1")
            assert not again.created and again.request_id == first.request_id
            # a later, different number does not overwrite it
            await trigger.request_async(apool, case_id, case_number="TRA-2")
            forced = await trigger.request_async(apool, case_id, force=True)
            assert forced.created and forced.request_id != first.request_id and forced.request["force"] is True
            # 20 concurrent clicks on a fresh case: one request, everyone gets it
            other = str(int(case_id) - 7).rjust(12, "9")
            outcomes = await asyncio.gather(*(trigger.request_async(apool, other) for _ in range(20)))
            assert sum(o.created for o in outcomes) == 1
            assert len({o.request_id for o in outcomes}) == 1
        finally:
            await apool.close()

    asyncio.run(scenario())
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT case_number FROM public.cases WHERE case_id = %s", (case_id,)).fetchone() == (
            "TRA-1",)
        assert conn.execute("SELECT count(*) FROM public.extraction_requests WHERE case_id = %s",
                            (case_id,)).fetchone() == (2,)


# ------------------------------------------------------------------------------ fixed tables
def test_every_table_the_api_names_exists(database_url):
    with psycopg.connect(database_url) as conn:
        for table in CASE_TABLES | set(SILVER_TABLES.values()) | set(GOLD_TABLES.values()):
            columns = {r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND table_name = %s", (table,))}
            assert "case_id" in columns, table
        conn.execute(STATUS_QUERY, {"case_id": "1"}).fetchone()


def test_read_rows_refuses_a_table_it_does_not_know(database_url):
    with psycopg.connect(database_url) as conn, pytest.raises(ValueError):
        read_rows(conn, "vehicles_v2", "1")


def test_a_missing_table_is_a_loud_error(create_database, auth, case_id):
    """Before: the API probed the catalog and answered `available: false` / zero counts for a
    table that was not there. Now the migrations define the schema, and its absence is a 500."""
    url = create_database("medallion_missing_table")
    apply_migrations(url, log=lambda _m: None)
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO public.cases (case_id) VALUES (%s)", (case_id,))
        conn.execute("DROP TABLE public.vehicles CASCADE")
    app = create_app(make_settings(), database_url=url, submitter=lambda *a, **k: [], log_file=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(auth)
        vehicles = client.get(f"/api/cases/{case_id}/vehicles")
        assert vehicles.status_code == 500 and vehicles.json()["type"] == "internal_error"
        status = client.get(f"/api/dagster/status/{case_id}")
        assert status.status_code == 500 and status.json()["type"] == "internal_error"
        assert client.get(f"/api/cases/{case_id}/employment").status_code == 200


# ------------------------------------------------------------------------------ search indexes
@pytest.mark.parametrize(("q", "index"), [("doe", "cases_client_name_trgm_idx"),
                                          ("tra-2024", "cases_case_number_trgm_idx"),
                                          ("1295", "cases_case_id_pattern_idx")])
def test_case_search_can_use_the_indexes(database_url, q, index):
    """The exact WHERE clause list_cases builds, with sequential scans priced out: the plan must
    reach for migration 014's indexes (the planner picks them on its own at scale)."""
    clauses = "lower(c.case_number) LIKE %(contains)s OR lower(c.client_name) LIKE %(contains)s"
    params = {"contains": f"%{q}%"}
    if q.isdigit():
        clauses = "c.case_id LIKE %(prefix)s OR " + clauses
        params["prefix"] = f"{q}%"
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT count(*) AS n FROM public.cases c WHERE ({clauses})", params))
    assert index in plan, plan


# ------------------------------------------------------------------------------ token cache
def test_token_cache_still_checks_expiry(settings, monkeypatch):
    verifier = TokenVerifier(settings)
    token = forge(settings, exp=int(time.time()) + 60)
    assert verifier.verify(token).id
    assert verifier.cached(token) is not None
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 60 + LEEWAY_S + 1)
    assert verifier.cached(token) is None  # past exp + leeway: verify() decodes again (PyJWT then refuses it)


def test_token_cache_does_not_accept_a_tampered_token(settings):
    verifier = TokenVerifier(settings)
    token = forge(settings)
    verifier.verify(token)
    head, payload, signature = token.split(".")
    with pytest.raises(Exception, match="signature|Invalid"):
        verifier.verify(f"{head}.{payload}.{signature[:-2]}AA")


def test_request_ids_are_unique_and_hex():
    ids = {new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


# ------------------------------------------------------------------------------ Dagster down
def test_worker_stops_calling_the_submitter_while_dagster_stays_down(api, case_id, submitter, database_url):
    """The first failure requeues as before (attempt 1); later batches only note the reason on the
    rows (no claim, no submitter call) until the probe says Dagster answers again."""
    trigger = api.app.state.trigger
    submitter.down = True
    first = api.post(f"/api/dagster/cases/{case_id}/extract").json()["request_id"]
    assert trigger.wait_idle(10) and len(submitter.calls) == 1
    second_case = str(int(case_id) - 3).rjust(12, "9")
    second = api.post(f"/api/dagster/cases/{second_case}/extract").json()["request_id"]
    assert trigger.wait_idle(10) and len(submitter.calls) == 1  # not called again
    with psycopg.connect(database_url) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT request_id::text, status, attempts, error LIKE 'Dagster was not reachable%%'"
            " FROM public.extraction_requests WHERE request_id = ANY(%s::uuid[])", ([first, second],))}
    assert rows[first] == ("queued", 1, True) and rows[second] == ("queued", 0, True)
    # Dagster is back: the next batch goes to the submitter again
    submitter.down = False
    trigger._health_cache = (time.monotonic(), True)
    third_case = str(int(case_id) - 5).rjust(12, "9")
    api.post(f"/api/dagster/cases/{third_case}/extract")
    assert trigger.wait_idle(10) and len(submitter.calls) == 2 and submitter.calls[-1][0][0] == third_case
