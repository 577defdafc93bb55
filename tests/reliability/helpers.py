"""Client-side helpers for the reliability scenarios: trigger through the API as the frontend
does, wait for requests to finish, and the invariants (ran once, no duplicate rows)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import yaml

from backend.app.config import Settings
from backend.app.security import create_dev_token
from tests.reliability.stack import JWT_SECRET, Stack

TERMINAL = ("complete", "partial", "failed")
LAYER_TABLES = ("tax_years", "account_activity", "csed_assessments", "csed_tolling_events", "trt_records",
                "income_documents", "logiqs_raw_data", "employment_information", "household_information",
                "financial_accounts", "income_sources", "monthly_expenses", "vehicles", "real_property",
                "tax_projections")
BRONZE_TABLES = ("bronze_at_raw", "bronze_wi_raw", "bronze_trt_raw", "bronze_interview_raw")


def token() -> str:
    return create_dev_token(Settings(supabase_jwt_secret=JWT_SECRET, environment="test"))


def trigger_many(stack: Stack, case_ids: list[str], workers: int = 16) -> list[tuple[str, int, dict]]:
    """POST /api/dagster/cases/{id}/extract for each id, concurrently: [(case_id, status, body)]."""
    headers = {"Authorization": f"Bearer {token()}"}

    def one(case_id: str) -> tuple[str, int, dict]:
        with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as c:
            r = c.post(f"/api/dagster/cases/{case_id}/extract")
            return case_id, r.status_code, (r.json() if r.headers.get("content-type", "").startswith(
                "application/json") else {})

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, case_ids))


def requests_state(stack: Stack, request_ids: list[str]) -> dict[str, dict[str, Any]]:
    with stack.db() as conn:
        rows = conn.execute(
            "SELECT request_id::text, case_id, status, error, attempts, dagster_run_id FROM public.extraction_requests"
            " WHERE request_id::text = ANY(%s)", (request_ids,)).fetchall()
    return {r[0]: {"case_id": r[1], "status": r[2], "error": r[3], "attempts": r[4], "run_id": r[5]} for r in rows}


def wait_terminal(stack: Stack, request_ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        state = requests_state(stack, request_ids)
        if len(state) == len(set(request_ids)) and all(s["status"] in TERMINAL for s in state.values()):
            return state
        if time.monotonic() > deadline:
            pending = {k: v for k, v in state.items() if v["status"] not in TERMINAL}
            missing = set(request_ids) - set(state)
            raise AssertionError(f"not finished after {timeout:.0f}s: {len(pending)} pending "
                                 f"(e.g. {list(pending.values())[:5]}), {len(missing)} missing")
        time.sleep(1.0)


def runs_per_request(stack: Stack) -> dict[str, list[str]]:
    """{request_id: [run ids]} from Dagster's run storage: the request id in the run's tags
    (one-case runs) or in its run config (sensor batches)."""
    query = ("query { runsOrError(limit: 10000) { ... on Runs { results { runId status runConfigYaml "
             "tags { key value } } } } }")
    data = httpx.post(f"{stack.dagster_url}/graphql", json={"query": query}, timeout=60).json()
    out: dict[str, list[str]] = {}
    for run in data["data"]["runsOrError"]["results"]:
        ids = set()
        tags = {t["key"]: t["value"] for t in run["tags"]}
        if tags.get("request_id"):
            ids.add(tags["request_id"])
        try:
            config = yaml.safe_load(run["runConfigYaml"] or "{}") or {}
            ids |= {r for r in config["ops"]["bronze_case_extraction"]["config"].get("request_ids", []) if r}
        except (KeyError, TypeError, yaml.YAMLError):
            pass
        for rid in ids:
            out.setdefault(rid, []).append(run["runId"])
    return out


def layer_counts(stack: Stack, case_ids: list[str]) -> dict[tuple[str, str], int]:
    with stack.db() as conn:
        tables = [t for t in LAYER_TABLES + BRONZE_TABLES
                  if conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'"
                                  " AND table_name = %s AND column_name = 'case_id'", (t,)).fetchone()]
        out = {}
        for t in tables:
            for case_id, n in conn.execute(f"SELECT case_id, count(*) FROM public.{t} WHERE case_id = ANY(%s)"
                                           " GROUP BY case_id", (case_ids,)).fetchall():
                out[(t, case_id)] = n
        return out


def duplicated_rows(stack: Stack, case_ids: list[str]) -> list[str]:
    """Silver/gold rows a clean re-derivation would not produce, and bronze rows stored twice.

    Oracle: rebuild_from_bronze(case) re-derives the case's silver and gold from its latest bronze
    rows (make rebuild); if the pipeline had duplicated a row, the counts shrink. The sandbox
    answers identically every time, so a second bronze row per (case, source) is a duplicate too."""
    before = layer_counts(stack, case_ids)
    problems = [f"{t} case {c}: {n} rows" for (t, c), n in before.items() if t in BRONZE_TABLES and n > 1]
    with stack.db() as conn:
        for case_id in case_ids:
            conn.execute("SELECT * FROM public.rebuild_from_bronze(%s)", (case_id,))
    after = layer_counts(stack, case_ids)
    for key in sorted(set(before) | set(after)):
        if key[0] in LAYER_TABLES and before.get(key, 0) != after.get(key, 0):
            problems.append(f"{key[0]} case {key[1]}: {before.get(key, 0)} rows, clean re-derivation "
                            f"{after.get(key, 0)}")
    return problems


def plain_reason(error: str | None) -> bool:
    return bool(error) and "Traceback" not in error and 'File "' not in error and len(error) < 2000
