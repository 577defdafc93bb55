"""Bronze ingestion against the real sandboxes and the real Postgres, through dg.materialize."""

import time

import dagster as dg
import pytest

from backend.app.services.data_saver import save_bronze
from dagster_pipeline.resources.tiparser_resource import TIPARSER_KEY_MESSAGE
from tests.dagster.conftest import make_resources, materialize_cases, reset_case
from tests.sandbox_fixtures import start_sandbox


def states(conn, case_id):
    return dict(
        conn.execute(
            "SELECT source, state FROM public.case_ingestion_status WHERE case_id = %s", (case_id,)
        ).fetchall()
    )


def request(conn, case_id):
    return conn.execute(
        "SELECT status, error, dagster_run_id FROM public.extraction_requests WHERE case_id = %s"
        " ORDER BY requested_at DESC LIMIT 1",
        (case_id,),
    ).fetchone()


def bronze_count(conn, source, case_id):
    return conn.execute(
        f"SELECT count(*) FROM public.bronze_{source}_raw WHERE case_id = %s",  # noqa: S608
        (case_id,),
    ).fetchone()[0]


def table_exists(conn, name):
    return conn.execute("SELECT to_regclass(%s)", (f"public.{name}",)).fetchone()[0] is not None


def test_normal_case_lands_in_bronze_and_downstream(resources, conn):
    case = "1000001"  # normal, with a TRT
    reset_case(conn, case)
    result = materialize_cases(resources, [case])
    assert result.success
    assert states(conn, case) == {"at": "stored", "wi": "stored", "trt": "stored", "interview": "stored"}
    for source in ("at", "wi", "trt", "interview"):
        assert bronze_count(conn, source, case) == 1
    status, error, run_id = request(conn, case)
    assert (status, error, run_id) == ("complete", None, result.run_id)
    mats = {
        str(m.asset_key.path[-1]): m.metadata
        for m in result.asset_materializations_for_node("bronze_case_extraction")
    }
    assert set(mats) == {"bronze_at_data", "bronze_wi_data", "bronze_trt_data", "bronze_interview_data"}
    assert mats["bronze_at_data"]["stored"].value == 1
    assert mats["bronze_wi_data"]["forms"].value > 0
    # Silver and gold are built by the schema engineers' triggers; check those that exist.
    for table in (
        "tax_years",
        "account_activity",
        "income_documents",
        "trt_records",
        "logiqs_raw_data",
        "employment_information",
    ):
        if table_exists(conn, table):
            n = conn.execute(f"SELECT count(*) FROM public.{table} WHERE case_id = %s", (case,)).fetchone()[0]  # noqa: S608
            assert n > 0, f"{table} has no rows for the case"

    # The same case again: nothing new in bronze, every source "unchanged", request complete.
    again = materialize_cases(resources, [case])
    assert again.success
    assert set(states(conn, case).values()) == {"unchanged"}
    assert bronze_count(conn, "at", case) == 1


def test_trt_404_is_no_data_and_the_request_complete(resources, conn):
    case = "1000002"
    reset_case(conn, case)
    assert materialize_cases(resources, [case]).success
    assert states(conn, case)["trt"] == "no_data"
    assert request(conn, case)[0] == "complete"
    assert bronze_count(conn, "trt", case) == 0


def test_403_fails_fast_without_retry_and_says_what_to_do(resources, conn, sandbox):
    case = "4000403"
    reset_case(conn, case)
    started = time.monotonic()
    result = materialize_cases(resources, [case])
    assert not result.success
    assert time.monotonic() - started < 5
    failure = result.get_step_failure_events()[0]
    assert failure.step_failure_data.user_failure_data.description == TIPARSER_KEY_MESSAGE
    assert len(result.get_step_failure_events()) == 1  # no step retry either
    calls = sandbox.calls("tiparser").get(case, {})
    assert calls and all(n == 1 for n in calls.values()), calls
    status, error, _ = request(conn, case)
    assert (status, error) == ("failed", TIPARSER_KEY_MESSAGE)
    st = states(conn, case)
    assert st["at"] == st["wi"] == "failed" and st["interview"] == "stored"
    err = conn.execute(
        "SELECT error FROM public.case_ingestion_status WHERE case_id = %s AND source = 'at'", (case,)
    ).fetchone()[0]
    assert err == TIPARSER_KEY_MESSAGE


def test_429_500_timeout_and_401_405_are_retried_and_succeed(resources, conn, sandbox):
    cases = ["4000429", "4000500", "4000408", "4000401", "4000405"]
    reset_case(conn, *cases)
    result = materialize_cases(resources, cases)
    assert result.success, [e.message for e in result.get_step_failure_events()]
    for case in cases:
        assert request(conn, case)[0] == "complete", (case, request(conn, case))
    calls = sandbox.calls("tiparser")
    assert calls["4000429"]["analysis/at"] == 3  # two 429s (Retry-After: 1), then 200
    assert calls["4000500"]["analysis/wi"] == 3  # two 500s, then 200
    assert calls["4000408"]["analysis/at"] == 2  # first call outlives the read timeout
    assert calls["4000401"]["analysis/at"] == 2
    assert calls["4000405"]["analysis/at"] == 2  # GET 405, then POST
    assert sandbox.calls("casehelper")["4000429"]["interview"] == 3


def test_malformed_json_fails_the_source_is_kept_and_earlier_rows_stay(resources, conn, database_url):
    case = "4000207"
    reset_case(conn, case)
    earlier = {"at_records": [{"tax_year": "2019", "transactions": []}]}
    with __import__("psycopg").connect(database_url) as c:
        save_bronze(c, "at", case, earlier)
        c.commit()
    result = materialize_cases(resources, [case])
    assert not result.success
    assert set(states(conn, case).values()) == {"failed"}
    status, error, _ = request(conn, case)
    assert status == "failed" and "not valid JSON" in error
    rejected = conn.execute(
        "SELECT source, http_status, length(body_text) FROM public.bronze_rejected_payloads"
        " WHERE case_id = %s ORDER BY source",
        (case,),
    ).fetchall()
    assert [r[0] for r in rejected] == ["at", "interview", "trt", "wi"]
    assert all(r[1] == 200 and r[2] > 0 for r in rejected)
    assert conn.execute(
        "SELECT raw_response FROM public.bronze_at_raw WHERE case_id = %s", (case,)
    ).fetchall() == [(earlier,)]
    # A non-JSON body is not retried by the step either.
    assert len(result.get_step_failure_events()) == 1


def test_upstream_down_is_retried_by_the_step_then_fails_plainly(resources, conn, sandbox):
    case = "4000599"  # every call 500
    reset_case(conn, case)
    result = materialize_cases(resources, [case])
    assert not result.success
    # client retries (1 + 3) on each of the 2 step attempts (RetryPolicy max_retries=1 in tests)
    assert sandbox.calls("tiparser")[case]["analysis/at"] == 8
    status, error, _ = request(conn, case)
    assert status == "failed"
    assert "still failing after 4 attempts" in error and "500" in error


def test_interview_failure_makes_the_request_partial(resources, conn):
    case = "5000500"
    reset_case(conn, case)
    result = materialize_cases(resources, [case])
    assert result.success  # partial does not fail the run
    status, error, _ = request(conn, case)
    assert status == "partial" and error.startswith("CaseHelper interview")


def test_a_batch_fetches_sources_and_cases_concurrently(database_url, conn, tmp_path):
    with start_sandbox({"SANDBOX_LATENCY_SECONDS": "0.5"}) as sb:
        res = make_resources(sb, database_url, tmp_path, read_timeout=5)
        cases = ["7100001", "7100002", "7100003", "7100004"]
        reset_case(conn, *cases)
        started = time.monotonic()
        result = materialize_cases(res, cases)
        elapsed = time.monotonic() - started
    assert result.success
    # Sequential would be 4 cases x 4 calls x 0.5 s = 8 s (+ CaseHelper login).
    assert elapsed < 4, elapsed


def test_bad_case_id_is_refused(resources):
    result = materialize_cases(resources, ["12a"])
    assert not result.success
    assert (
        "1 to 12 digits"
        in result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    )


@pytest.mark.parametrize("kind", ["dg"])
def test_request_claimed_by_another_run_is_skipped(resources, conn, kind):
    from dagster_pipeline.requests_store import create_or_reuse_request

    case = "7200001"
    reset_case(conn, case)
    request_id, created = create_or_reuse_request(conn, case, origin="api")
    assert created
    conn.execute(
        "UPDATE public.extraction_requests SET status = 'running', dagster_run_id = 'other-run'"
        " WHERE request_id = %s",
        (request_id,),
    )
    result = materialize_cases(resources, [case], [request_id])
    assert result.success
    assert bronze_count(conn, "at", case) == 0
    assert request(conn, case)[:1] == ("running",)
    assert isinstance(result, dg.ExecuteInProcessResult)
