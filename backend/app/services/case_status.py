"""Where a case stands: one query over our own tables (bronze/silver/gold counts, the latest
extraction request, the per-source ingestion state). Dagster is never polled per case.

Status values: not_started, queued, running, bronze_only, silver_only, complete, partial, failed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import PoolTimeout

from backend.app.database import fetch_one
from backend.app.services.coalesce import Coalescer

SOURCES = ("at", "wi", "trt", "interview")
TERMINAL_SOURCE_STATES = ("stored", "unchanged", "no_data", "failed")
ACTIVE_REQUEST_STATUSES = ("queued", "submitted", "running")
STALE_FETCHING = timedelta(minutes=15)  # a 'fetching' state older than this is not "running" any more

# key in the response -> table (supabase/migrations; every one is keyed by case_id)
SILVER_TABLES: dict[str, str] = {
    "tax_years": "tax_years",
    "income_documents": "income_documents",
    "account_activity": "account_activity",
    "trt_records": "trt_records",
    "csed_assessments": "csed_assessments",
    "csed_tolling_events": "csed_tolling_events",
    "interview": "logiqs_raw_data",
}
GOLD_TABLES: dict[str, str] = {
    "employment": "employment_information",
    "household": "household_information",
    "financial_accounts": "financial_accounts",
    "income_sources": "income_sources",
    "monthly_expenses": "monthly_expenses",
    "vehicles": "vehicles",
    "real_property": "real_property",
    "tax_projections": "tax_projections",
}
# Coalesced status reads (the status route): at most this many cases per statement, and two
# statements in flight (measured: one makes a poll wait behind the batch in flight at low load,
# paced p99 5-8 ms vs 4.5-7 ms; four was no better than two).
STATUS_BATCH_MAX = 100
# No connection within the pool's timeout (the database is down): the polls waiting for the next
# batch fail with the batch (503 after at most one pool timeout, as without coalescing).
DB_UNREACHABLE = (PoolTimeout,)
STATUS_BATCHES_IN_FLIGHT = 2
# business-rules.md section 11: the layer totals that decide the status
SILVER_DECIDING = ("tax_years", "income_documents")
GOLD_DECIDING = ("employment", "household")

MESSAGES = {
    "not_started": "No data found. Trigger extraction to begin.",
    "queued": "Extraction requested; waiting for Dagster to start the run.",
    "running": "Extraction running.",
    "bronze_only": "Raw data ingested. Triggers are processing...",
    "silver_only": "Typed data ready. Gold layer processing...",
    "complete": "Data fully processed and ready to use.",
}


def _build_status_query(case_id: str = "%(case_id)s") -> str:
    """One statement, one round trip: every count is an index-only scan on (case_id, ...).
    `case_id` is the SQL expression of the case id (a parameter, or a column of the batch)."""
    parts = [f"EXISTS (SELECT 1 FROM public.cases WHERE case_id = {case_id}) AS case_exists"]
    for source in SOURCES:
        parts.append(f"(SELECT count(*) FROM public.bronze_{source}_raw WHERE case_id = {case_id})"
                     f" AS bronze__{source}")
    for layer, tables in (("silver", SILVER_TABLES), ("gold", GOLD_TABLES)):
        for key, table in tables.items():
            parts.append(f"(SELECT count(*) FROM public.{table} WHERE case_id = {case_id}) AS {layer}__{key}")
    parts.append(
        "(SELECT to_jsonb(r) FROM (SELECT request_id, status, force, origin, dagster_run_id, error, attempts,"
        " requested_at, submitted_at, started_at, finished_at, updated_at FROM public.extraction_requests"
        f" WHERE case_id = {case_id} ORDER BY requested_at DESC LIMIT 1) r) AS request")
    parts.append(
        "(SELECT coalesce(jsonb_agg(to_jsonb(s)), '[]'::jsonb) FROM (SELECT source, state, http_status, error,"
        f" dagster_run_id, request_id, updated_at FROM public.case_ingestion_status"
        f" WHERE case_id = {case_id}) s) AS sources")
    parts.append(f"(SELECT count(*) FROM public.transformation_errors WHERE case_id = {case_id})"
                 " AS transformation_errors")
    return "SELECT " + ", ".join(parts)


STATUS_QUERY = _build_status_query()
# The same columns for many cases in one statement (the status route coalesces concurrent polls
# of different cases into one round trip): one row per distinct case id, with `batch_case_id`.
STATUS_BATCH_QUERY = (_build_status_query("b.case_id").replace("SELECT ", "SELECT b.case_id AS batch_case_id, ", 1)
                      + " FROM unnest(%(case_ids)s::text[]) AS b(case_id)")


class CaseStatusService:
    """The status of a case from one query; `fetch` on a sync connection (threadpool routes, the
    legacy path), `fetch_async` on an async one (the status route, on the event loop)."""

    query = STATUS_QUERY

    def __init__(self) -> None:
        self._reader: Coalescer[str, dict[str, Any]] | None = None
        self._reader_pool: Any = None

    def reader(self, apool: Any) -> Coalescer[str, dict[str, Any]]:
        """Concurrent status reads of different cases coalesced into one statement
        (STATUS_BATCH_QUERY): `await reader(apool).submit(case_id)` is the case's raw row, what
        `fetch_async` derives from. Built on first use, on the event loop that uses it."""
        if self._reader is None or self._reader_pool is not apool:
            async def run(case_ids: list[str]) -> list[dict[str, Any]]:
                async with apool.connection() as aconn:
                    rows = await self.fetch_rows_async(aconn, case_ids)
                return [rows.get(case_id, {}) for case_id in case_ids]

            self._reader = Coalescer(run, max_batch=STATUS_BATCH_MAX, max_in_flight=STATUS_BATCHES_IN_FLIGHT,
                                     fail_waiting=DB_UNREACHABLE)
            self._reader_pool = apool
        return self._reader

    async def fetch_coalesced(self, apool: Any, case_id: str) -> dict[str, Any]:
        """`fetch_async`'s answer, read together with the other polls in flight."""
        row = await self.reader(apool).submit(case_id)
        return self.derive(case_id, dict(row))

    def fetch(self, conn: Any, case_id: str) -> dict[str, Any]:
        row = fetch_one(conn, self.query, {"case_id": case_id}) or {}
        return self.derive(case_id, row)

    async def fetch_async(self, aconn: Any, case_id: str) -> dict[str, Any]:
        async with aconn.cursor(row_factory=dict_row) as cur:
            await cur.execute(self.query, {"case_id": case_id})
            row = await cur.fetchone() or {}
        return self.derive(case_id, row)

    async def fetch_rows_async(self, aconn: Any, case_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The raw status rows of many cases from one statement (STATUS_BATCH_QUERY), by case id;
        `derive(case_id, row)` turns each into the answer `fetch_async` gives."""
        distinct = list(dict.fromkeys(case_ids))
        async with aconn.cursor(row_factory=dict_row) as cur:
            await cur.execute(STATUS_BATCH_QUERY, {"case_ids": distinct})
            rows = await cur.fetchall()
        return {row.pop("batch_case_id"): row for row in rows}

    # ----------------------------------------------------------------------------------
    def derive(self, case_id: str, row: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        bronze = {s: int(row.get(f"bronze__{s}") or 0) for s in SOURCES}
        silver = {k: int(row.get(f"silver__{k}") or 0) for k in SILVER_TABLES}
        gold = {k: int(row.get(f"gold__{k}") or 0) for k in GOLD_TABLES}
        request = row.get("request") or None
        states = {s["source"]: s for s in (row.get("sources") or [])}
        transformation_errors = int(row.get("transformation_errors") or 0)

        bronze_total = sum(bronze.values())
        silver_total = sum(silver[k] for k in SILVER_DECIDING)
        gold_total = sum(gold[k] for k in GOLD_DECIDING)

        sources: dict[str, dict[str, Any]] = {}
        errors: list[str] = []
        for source in SOURCES:
            state = states.get(source)
            entry = {"state": state["state"] if state else None, "rows": bronze[source], "error": None,
                     "http_status": state.get("http_status") if state else None,
                     "updated_at": state.get("updated_at") if state else None}
            if state and state["state"] == "failed":
                entry["error"] = plain_error(source, state.get("http_status"), state.get("error"))
                errors.append(f"{source.upper()}: {entry['error']}")
            sources[source] = entry

        run_id = (request or {}).get("dagster_run_id") or next(
            (s.get("dagster_run_id") for s in states.values() if s.get("dagster_run_id")), None)
        status, message = self._decide(request, states, bronze_total, silver_total, gold_total, errors,
                                       transformation_errors, now)
        return {
            "case_id": case_id,
            "case_exists": bool(row.get("case_exists")),
            "status": status,
            "message": message,
            "run_id": run_id,
            "request": request,
            "sources": sources,
            "errors": errors,
            "transformation_errors": transformation_errors,
            "bronze": {**{s: bronze[s] > 0 for s in SOURCES}, "counts": bronze, "total_records": bronze_total},
            "silver": {**silver, "total_records": sum(silver.values())},
            "gold": {**gold, "total_records": sum(gold.values())},
            "checked_at": now,
        }

    @staticmethod
    def _decide(request: dict[str, Any] | None, states: dict[str, dict[str, Any]], bronze_total: int,
                silver_total: int, gold_total: int, errors: list[str], transformation_errors: int,
                now: datetime) -> tuple[str, str]:
        core = [states.get(s) for s in SOURCES]
        if request and request["status"] in ACTIVE_REQUEST_STATUSES:
            since = _ts(request.get("requested_at"))
            done = all(s and s["state"] in TERMINAL_SOURCE_STATES
                       and (since is None or (_ts(s.get("updated_at")) or now) >= since)
                       for s in core)
            if not done:
                if request["status"] == "queued":
                    extra = f" {request['error']}" if request.get("error") else ""
                    return "queued", MESSAGES["queued"] + extra
                finished = sum(1 for s in core if s and s["state"] in TERMINAL_SOURCE_STATES
                               and (since is None or (_ts(s.get("updated_at")) or now) >= since))
                return "running", f"Extraction running: {finished} of {len(SOURCES)} sources done."
        elif any(s and s["state"] in ("pending", "fetching")
                 and now - (_ts(s.get("updated_at")) or now) < STALE_FETCHING
                 for s in core):
            finished = sum(1 for s in core if s and s["state"] in TERMINAL_SOURCE_STATES)
            return "running", f"Extraction running: {finished} of {len(SOURCES)} sources done."

        failed = [s for s in core if s and s["state"] == "failed"]
        succeeded = [s for s in core if s and s["state"] in ("stored", "unchanged", "no_data")]
        request_status = (request or {}).get("status")
        if request_status == "failed" or (failed and not succeeded and bronze_total == 0):
            detail = "; ".join(errors) or (request or {}).get("error") or "see the Dagster run for details"
            return "failed", f"Extraction failed: {detail}."
        if failed or request_status == "partial":
            detail = "; ".join(errors) or (request or {}).get("error") or "some sources failed"
            return "partial", f"Extraction finished with errors: {detail}. Data from the other sources is ready."
        if bronze_total == 0:
            if request is None and not states:
                return "not_started", MESSAGES["not_started"]
            return "complete", "Extraction finished: the upstream services have no data for this case."
        if silver_total == 0:
            if transformation_errors:
                return "bronze_only", (f"Raw data stored, but {transformation_errors} transformation error(s) were "
                                       "recorded; typed data could not be built from it.")
            return "bronze_only", MESSAGES["bronze_only"]
        if gold_total == 0:
            interview = states.get("interview")
            if interview and interview["state"] == "no_data":
                return "complete", ("Data processed and ready to use. CaseHelper has no interview for this case, "
                                    "so employment and household are empty.")
            return "silver_only", MESSAGES["silver_only"]
        return "complete", MESSAGES["complete"]


def plain_error(source: str, http_status: int | None, error: str | None) -> str:
    """An upstream failure in words a case worker can act on."""
    upstream = "CaseHelper" if source == "interview" else "TiParser"
    if http_status in (401, 403):
        if upstream == "TiParser":
            return "TiParser API key invalid or expired"
        return "CaseHelper rejected our credentials (check CASEHELPER_USERNAME / CASEHELPER_PASSWORD)"
    text = (error or "").strip().splitlines()[0][:300] if error and error.strip() else ""
    if text:
        return text
    if http_status and http_status >= 500:
        return f"{upstream} is unavailable (HTTP {http_status})"
    if http_status:
        return f"{upstream} answered HTTP {http_status}"
    return f"{upstream} request failed"


def _ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
