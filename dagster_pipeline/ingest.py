"""Extract a batch of cases into bronze: the work behind the bronze assets, free of Dagster.

For each case the four fetches (TiParser AT / WI / TRT, CaseHelper interview) run at the same
time in a thread pool, and several cases run at once. Each source is written as soon as its
answer arrives, in its own transaction, so one failing source never takes the others' rows
with it. `case_ingestion_status` follows every source (fetching -> stored / unchanged /
no_data / failed) and `extraction_requests` the case as a whole.

When is a request complete, partial or failed?
  * complete: AT and WI stored (or unchanged), TRT and interview stored, unchanged or no_data
    (TiParser often has no TRT; not every case has an interview).
  * failed:   AT or WI failed (error, refused key, upstream down, body not JSON).
  * partial:  everything else: AT or WI answered 404 (no transcripts on file), or TRT or the
    interview failed while AT and WI are in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from backend.app.services.data_saver import save_bronze, save_rejected_payload, set_source_state
from dagster_pipeline import requests_store
from dagster_pipeline.resources.casehelper_resource import CaseHelperClient
from dagster_pipeline.resources.common import FetchResult, MalformedPayload, UpstreamAuthError, UpstreamError
from dagster_pipeline.resources.tiparser_resource import TiParserClient

log = logging.getLogger(__name__)

SOURCES = ("at", "wi", "trt", "interview")
REQUIRED = ("at", "wi")
OK_STATES = ("stored", "unchanged")


@dataclass
class SourceOutcome:
    source: str
    state: str  # stored | unchanged | no_data | failed | skipped
    bronze_id: str | None = None
    http_status: int | None = None
    error: str | None = None
    retryable: bool = False
    auth_error: bool = False
    attempts: int = 0
    elapsed_s: float = 0.0
    size_bytes: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseOutcome:
    case_id: str
    request_id: str | None
    status: str  # complete | partial | failed | skipped
    sources: dict[str, SourceOutcome] = field(default_factory=dict)
    error: str | None = None

    @property
    def retryable(self) -> bool:
        failed = [o for o in self.sources.values() if o.state == "failed"]
        return bool(failed) and all(o.retryable for o in failed)

    @property
    def auth_error(self) -> bool:
        return any(o.auth_error for o in self.sources.values())


def case_status(states: dict[str, str]) -> str:
    if any(states.get(s) == "failed" for s in REQUIRED):
        return "failed"
    if all(states.get(s) in OK_STATES for s in REQUIRED) and all(
        states.get(s) in (*OK_STATES, "no_data") for s in ("trt", "interview")
    ):
        return "complete"
    return "partial"


def case_error(outcomes: dict[str, SourceOutcome]) -> str | None:
    problems = [(s, o.error) for s, o in outcomes.items() if o.state == "failed" and o.error]
    for s in REQUIRED:
        if outcomes.get(s) and outcomes[s].state == "no_data":
            problems.append((s, f"TiParser has no {s.upper()} transcripts for this case (404)"))
    if not problems:
        return None
    unique = list(dict.fromkeys(msg for _, msg in problems))
    if len(unique) == 1:
        return unique[0]
    return "; ".join(f"{s.upper()}: {msg}" for s, msg in problems)


def summarize(source: str, payload: Any) -> dict[str, Any]:
    """A few numbers a person reads at a glance (years, records, forms)."""
    try:
        if source == "at" and isinstance(payload, dict):
            records = payload.get("at_records") or payload.get("records") or payload.get("data") or []
            years = sorted(
                {
                    str(r.get("tax_year") or r.get("taxYear") or r.get("year") or "?")
                    for r in records
                    if isinstance(r, dict)
                }
            )
            tx = sum(
                len(r.get("transactions") or r.get("activity") or r.get("account_activity") or [])
                for r in records
                if isinstance(r, dict)
            )
            return {"records": len(records), "years": years, "transactions": tx}
        if source == "wi" and isinstance(payload, dict):
            years_data = payload.get("years_data")
            if isinstance(years_data, dict):
                forms = sum(
                    len(v.get("forms", []) if isinstance(v, dict) else v or []) for v in years_data.values()
                )
                return {"years": sorted(years_data), "forms": forms}
            forms = payload.get("forms") or payload.get("data") or []
            return {"forms": len(forms)}
        if source == "trt" and isinstance(payload, dict):
            records = payload.get("records") or payload.get("trt_records") or payload.get("data") or []
            return {"records": len(records)}
        if source == "interview" and isinstance(payload, dict):
            return {"sections": sorted(k for k, v in payload.items() if v)}
    except Exception:  # noqa: BLE001 - a summary must never fail an ingestion
        return {}
    return {}


class BatchIngestor:
    """Works through a batch of cases. One instance per run attempt; thread-safe."""

    def __init__(
        self,
        *,
        tiparser: TiParserClient,
        casehelper: CaseHelperClient,
        connection: Callable[[], Any],  # context manager factory yielding a psycopg connection
        run_id: str | None,
        origin: str = "dagster",
        max_concurrent_cases: int = 8,
        log_fn: Callable[[str], None] | None = None,
    ) -> None:
        self.tiparser = tiparser
        self.casehelper = casehelper
        self.connection = connection
        self.run_id = run_id
        self.origin = origin
        self.max_concurrent_cases = max(1, max_concurrent_cases)
        self.log = log_fn or log.info
        self._fetch_pool = ThreadPoolExecutor(
            self.max_concurrent_cases * len(SOURCES), thread_name_prefix="fetch"
        )
        # A refused TiParser key fails every later case the same way: stop calling TiParser.
        self._tiparser_refused: UpstreamAuthError | None = None
        self._refused_lock = threading.Lock()

    def close(self) -> None:
        self._fetch_pool.shutdown(wait=True, cancel_futures=True)

    # -- batch -------------------------------------------------------------------------------
    def run(self, case_ids: list[str], request_ids: list[str | None] | None = None) -> list[CaseOutcome]:
        request_ids = list(request_ids or [])
        request_ids += [None] * (len(case_ids) - len(request_ids))
        with ThreadPoolExecutor(self.max_concurrent_cases, thread_name_prefix="case") as cases:
            futures = [
                cases.submit(self.ingest_case, c, r) for c, r in zip(case_ids, request_ids, strict=True)
            ]
            return [f.result() for f in futures]

    # -- one case ----------------------------------------------------------------------------
    def ingest_case(self, case_id: str, request_id: str | None = None) -> CaseOutcome:
        with self.connection() as conn:
            claimed = requests_store.claim(conn, case_id, request_id, self.run_id or "local", self.origin)
            if claimed is None:
                conn.commit()
                self.log(f"case {case_id}: request already handled by another run; skipped")
                return CaseOutcome(case_id, request_id, "skipped")
            for source in SOURCES:
                set_source_state(conn, case_id, source, "fetching", run_id=self.run_id, request_id=claimed)
            conn.commit()

        fetchers: dict[str, Callable[[], FetchResult]] = {
            "at": lambda: self._tiparser_fetch("at", case_id),
            "wi": lambda: self._tiparser_fetch("wi", case_id),
            "trt": lambda: self._tiparser_fetch("trt", case_id),
            "interview": lambda: self.casehelper.fetch_interview(case_id),
        }
        futures: dict[str, Future] = {
            s: self._fetch_pool.submit(self._fetch_and_store, s, case_id, claimed, f)
            for s, f in fetchers.items()
        }
        outcomes = {s: fut.result() for s, fut in futures.items()}
        status = case_status({s: o.state for s, o in outcomes.items()})
        error = case_error(outcomes)
        with self.connection() as conn:
            requests_store.finish(conn, claimed, status, error)
            conn.commit()
        self.log(
            f"case {case_id}: {status}"
            + (f" ({error})" if error else "")
            + " | "
            + ", ".join(f"{s}={o.state}" for s, o in outcomes.items())
        )
        return CaseOutcome(case_id, claimed, status, outcomes, error)

    def _tiparser_fetch(self, source: str, case_id: str) -> FetchResult:
        refused = self._tiparser_refused
        if refused is not None:
            raise UpstreamAuthError(str(refused), http_status=refused.http_status, attempts=0)
        try:
            return self.tiparser.fetch(source, case_id)  # type: ignore[arg-type]
        except UpstreamAuthError as exc:
            with self._refused_lock:
                self._tiparser_refused = self._tiparser_refused or exc
            raise

    def _fetch_and_store(
        self, source: str, case_id: str, request_id: str, fetch: Callable[[], FetchResult]
    ) -> SourceOutcome:
        try:
            result = fetch()
        except MalformedPayload as exc:
            with self.connection() as conn:
                save_rejected_payload(
                    conn,
                    source,
                    case_id,
                    exc.body_text,
                    str(exc),
                    http_status=exc.http_status,
                    run_id=self.run_id,
                )
                set_source_state(
                    conn,
                    case_id,
                    source,
                    "failed",
                    run_id=self.run_id,
                    request_id=request_id,
                    http_status=exc.http_status,
                    error=str(exc),
                )
                conn.commit()
            return SourceOutcome(
                source,
                "failed",
                http_status=exc.http_status,
                error=str(exc),
                attempts=exc.attempts,
                size_bytes=len(exc.body_text.encode()),
            )
        except UpstreamError as exc:
            self._record_failure(case_id, source, request_id, str(exc), exc.http_status)
            return SourceOutcome(
                source,
                "failed",
                http_status=exc.http_status,
                error=str(exc),
                retryable=exc.retryable,
                auth_error=isinstance(exc, UpstreamAuthError),
                attempts=exc.attempts,
            )
        except Exception as exc:  # noqa: BLE001 - a bug in one source must not lose the others
            message = f"{type(exc).__name__}: {exc}"
            log.exception("case %s %s: unexpected error", case_id, source)
            self._record_failure(case_id, source, request_id, message, None)
            return SourceOutcome(source, "failed", error=message, retryable=True)

        base = {
            "http_status": result.http_status,
            "attempts": result.attempts,
            "elapsed_s": result.elapsed_s,
            "size_bytes": result.size_bytes,
        }
        if result.status == "no_data":
            with self.connection() as conn:
                set_source_state(
                    conn,
                    case_id,
                    source,
                    "no_data",
                    run_id=self.run_id,
                    request_id=request_id,
                    http_status=result.http_status,
                )
                conn.commit()
            return SourceOutcome(source, "no_data", **base)
        try:
            with self.connection() as conn:
                saved = save_bronze(conn, source, case_id, result.payload, run_id=self.run_id)  # type: ignore[arg-type]
                state = "unchanged" if saved.unchanged else "stored"
                set_source_state(
                    conn,
                    case_id,
                    source,
                    state,
                    run_id=self.run_id,
                    request_id=request_id,
                    bronze_id=saved.bronze_id,
                    http_status=result.http_status,
                )
                conn.commit()
        except Exception as exc:  # noqa: BLE001 - database trouble: say so plainly, keep going
            message = f"could not store the {source.upper()} payload: {type(exc).__name__}: {exc}"
            log.exception("case %s %s: store failed", case_id, source)
            self._record_failure(case_id, source, request_id, message, result.http_status)
            return SourceOutcome(source, "failed", error=message, retryable=True, **base)
        return SourceOutcome(
            source, state, bronze_id=saved.bronze_id, summary=summarize(source, result.payload), **base
        )

    def _record_failure(
        self, case_id: str, source: str, request_id: str, error: str, http_status: int | None
    ) -> None:
        with self.connection() as conn:
            set_source_state(
                conn,
                case_id,
                source,
                "failed",
                run_id=self.run_id,
                request_id=request_id,
                http_status=http_status,
                error=error,
            )
            conn.commit()
