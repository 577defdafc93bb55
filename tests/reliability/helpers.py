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


# What a client saw and which bearer tokens it used: the last scenario searches them (and every
# log) for secrets.
TOKENS: set[str] = set()
RESPONSES: list[tuple[str, int, str]] = []


def token() -> str:
    value = create_dev_token(Settings(supabase_jwt_secret=JWT_SECRET, environment="test"))
    TOKENS.add(value)
    return value


def record(label: str, response: httpx.Response) -> None:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    RESPONSES.append((label, response.status_code, headers + "\n\n" + response.text))


def trigger_many(stack: Stack, case_ids: list[str], workers: int = 16) -> list[tuple[str, int, dict]]:
    """POST /api/dagster/cases/{id}/extract for each id, concurrently: [(case_id, status, body)]."""
    headers = {"Authorization": f"Bearer {token()}"}

    def one(case_id: str) -> tuple[str, int, dict]:
        with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as c:
            r = c.post(f"/api/dagster/cases/{case_id}/extract")
            record(f"POST extract {case_id}", r)
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


def unfinished(request_ids: list[str], state: dict[str, dict[str, Any]]) -> list[str]:
    """One line per accepted request that is lost (no row) or not in a final state."""
    problems = [f"request {rid}: lost (no extraction_requests row)" for rid in dict.fromkeys(request_ids)
                if rid not in state]
    problems += [f"request {rid} case {s['case_id']}: still {s['status']} (attempts {s['attempts']}, run "
                 f"{s['run_id']}, error {s['error']!r})" for rid, s in state.items()
                 if rid in request_ids and s["status"] not in TERMINAL]
    return problems


def wait_terminal(stack: Stack, request_ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Until every request is final; else fail naming each lost or unfinished request."""
    deadline = time.monotonic() + timeout
    while True:
        state = requests_state(stack, request_ids)
        problems = unfinished(request_ids, state)
        if not problems:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(problems)} of {len(set(request_ids))} requests not final after "
                                 f"{timeout:.0f}s:\n" + "\n".join(problems[:15]))
        time.sleep(1.0)


def ran_more_than_once(runs: dict[str, list[str]], request_ids: list[str]) -> list[str]:
    """One line per request carried by no Dagster run or by more than one."""
    out = []
    for rid in dict.fromkeys(request_ids):
        n = len(runs.get(rid, []))
        if n != 1:
            out.append(f"request {rid}: {n} Dagster runs {runs.get(rid, [])}")
    return out


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


def layer_counts(stack: Any, case_ids: list[str]) -> dict[tuple[str, str], int]:
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


def duplicate_problems(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> list[str]:
    """Bronze stored twice for a (table, case), and silver/gold counts a clean re-derivation changes."""
    problems = [f"{t} case {c}: {n} rows (one expected)" for (t, c), n in sorted(before.items())
                if t in BRONZE_TABLES and n > 1]
    for key in sorted(set(before) | set(after)):
        if key[0] in LAYER_TABLES and before.get(key, 0) != after.get(key, 0):
            problems.append(f"{key[0]} case {key[1]}: {before.get(key, 0)} rows, clean re-derivation "
                            f"{after.get(key, 0)}")
    return problems


def duplicated_rows(stack: Any, case_ids: list[str]) -> list[str]:
    """Silver/gold rows a clean re-derivation would not produce, and bronze rows stored twice.

    Oracle: rebuild_from_bronze(case) re-derives the case's silver and gold from its latest bronze
    rows (make rebuild); if the pipeline had duplicated a row, the counts shrink. The sandbox
    answers identically every time, so a second bronze row per (case, source) is a duplicate too.
    `stack`: anything with db() -> an autocommit connection to the app database."""
    before = layer_counts(stack, case_ids)
    with stack.db() as conn:
        for case_id in case_ids:
            conn.execute("SELECT * FROM public.rebuild_from_bronze(%s)", (case_id,))
    return duplicate_problems(before, layer_counts(stack, case_ids))


def plain_reason(error: str | None) -> bool:
    return bool(error) and "Traceback" not in error and 'File "' not in error and len(error) < 2000


def find_secrets(texts: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """'<secret name> in <where>' for each secret value found in each text."""
    return [f"{name} in {where}" for where, text in texts.items() for name, value in secrets.items()
            if value and value in text]
