"""The reliability scenarios' checkers report a planted violation (a checker that can never fail
proves nothing). Runs in `make test` (no stack: a real Postgres, the sandbox's payloads)."""

from __future__ import annotations

import psycopg
import pytest

from backend.app.services import data_saver
from sandbox import data as sandbox_data
from tests.reliability.helpers import (
    duplicate_problems,
    duplicated_rows,
    find_secrets,
    ran_more_than_once,
    unfinished,
)


class _DB:
    def __init__(self, url: str) -> None:
        self.url = url

    def db(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)


def _state(case_id: str, status: str) -> dict:
    return {"case_id": case_id, "status": status, "error": None, "attempts": 1, "run_id": "r1"}


def test_unfinished_names_lost_and_pending_requests():
    state = {"a": _state("1", "complete"), "b": _state("2", "running"), "c": _state("3", "failed")}
    problems = unfinished(["a", "b", "c", "d"], state)
    assert problems == ["request d: lost (no extraction_requests row)",
                        "request b case 2: still running (attempts 1, run r1, error None)"]
    assert unfinished(["a", "c"], state) == []


def test_ran_more_than_once_names_requests_with_zero_or_two_runs():
    runs = {"a": ["r1"], "b": ["r1", "r2"]}
    assert ran_more_than_once(runs, ["a", "b", "c"]) == ["request b: 2 Dagster runs ['r1', 'r2']",
                                                        "request c: 0 Dagster runs []"]
    assert ran_more_than_once(runs, ["a"]) == []


def test_duplicate_problems_from_counts():
    before = {("bronze_at_raw", "1"): 2, ("tax_years", "1"): 4, ("vehicles", "1"): 1, ("bronze_wi_raw", "1"): 1}
    after = {("bronze_at_raw", "1"): 2, ("tax_years", "1"): 3, ("vehicles", "1"): 1, ("bronze_wi_raw", "1"): 1}
    assert duplicate_problems(before, after) == ["bronze_at_raw case 1: 2 rows (one expected)",
                                                 "tax_years case 1: 4 rows, clean re-derivation 3"]
    assert duplicate_problems(after | {("bronze_at_raw", "1"): 1}, after | {("bronze_at_raw", "1"): 1}) == []


def test_find_secrets():
    assert find_secrets({"api.log": "x key-123 y", "body": "nothing"}, {"TiParser key": "key-123", "empty": ""}) \
        == ["TiParser key in api.log"]


@pytest.fixture
def stored_case(database_url: str, case_id: str) -> str:
    with psycopg.connect(database_url) as conn:
        for source in ("at", "wi", "interview"):
            payload = getattr(sandbox_data, f"{source}_payload")("1295022")
            data_saver.save_bronze(conn, source, case_id, payload)
        conn.commit()
    return case_id


def test_duplicated_rows_clean_case_passes_then_planted_duplicates_are_reported(database_url, stored_case):
    db = _DB(database_url)
    assert duplicated_rows(db, [stored_case]) == []
    with db.db() as conn:
        # A silver row stored twice, as a loader that counts a repeated transaction as a new
        # occurrence would leave it (the natural key includes the occurrence number).
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND table_name = 'account_activity' AND column_default IS NULL AND is_identity = 'NO'"
            " AND is_generated = 'NEVER' AND column_name <> 'occurrence'")]
        col_list = ", ".join(cols)
        conn.execute(f"INSERT INTO public.account_activity ({col_list}, occurrence)"  # noqa: S608
                     f" SELECT {col_list}, occurrence + 1000"
                     " FROM public.account_activity WHERE case_id = %s LIMIT 1", (stored_case,))
    problems = duplicated_rows(db, [stored_case])
    assert len(problems) == 1 and problems[0].startswith(f"account_activity case {stored_case}: "), problems
    # A second bronze row for the same case and source (a fetch stored twice).
    with db.db() as conn:
        payload = sandbox_data.wi_payload("1295022")
        data_saver.save_bronze(conn, "wi", stored_case, {**payload, "planted": True})
    assert f"bronze_wi_raw case {stored_case}: 2 rows (one expected)" in duplicated_rows(db, [stored_case])
