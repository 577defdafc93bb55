"""The only code in the API that starts Dagster work.

A trigger is recorded durably first (a row in `extraction_requests`), answered at once, and
handed to ONE long-lived background thread that batches queued requests and submits them with
`trigger_case_ingestion.submit_requests` (imported once, so there is no Python start-up per
click). A second trigger for a case that already has an active request returns that request
unless `force=True`. If Dagster cannot be reached the rows go back to `queued` and the
Dagster case sensor submits them when Dagster is back: nothing a user asked for is lost.

No FastAPI imports here: routers translate HTTP, this module holds the logic.
"""

from __future__ import annotations

import importlib
import inspect
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from backend.app.config import PROJECT_ROOT
from backend.app.database import fetch_all, fetch_one
from backend.app.logging_config import get_logger
from backend.app.services.coalesce import Coalescer
from dagster_pipeline.requests_store import (
    RECORD_ATTEMPTS,
    RECORD_REQUEST_SQL,
    RECORD_REQUESTS_BATCH_SQL,
    REQUEST_COLUMNS,
    plan_batch,
    record_requests,
    resolve_batch,
)

log = get_logger("dagster_trigger")

ACTIVE_STATUSES = ("queued", "submitted", "running")
Submitter = Callable[..., list[dict[str, Any]]]
DAGSTER_DOWN_MESSAGE = "Dagster was not reachable; the request is kept and will run when Dagster is back."
DOWN_PROBE_EVERY_S = 1.0  # after a failed submission: how often the worker asks whether Dagster is back
# Group commit of API triggers: at most this many requests per statement, and this many
# statements in flight at once (each on its own connection of the async pool).
RECORD_BATCH_MAX = 200
RECORD_BATCHES_IN_FLIGHT = 1
# No connection within the pool's timeout (the database is down): a batch failing so fails the
# triggers waiting for the next batch too, none of them recorded, so that each answers 503 after
# at most one pool timeout instead of queueing behind one failing batch after another.
DB_UNREACHABLE = (PoolTimeout,)
# Refusals that concern the transaction, not the connection (a deadlock with another writer).
_ROLLBACK_ERRORS = (psycopg.errors.TransactionRollback, psycopg.errors.DeadlockDetected,
                    psycopg.errors.SerializationFailure)



@dataclass(frozen=True)
class TriggerOutcome:
    request: dict[str, Any]
    created: bool  # False: an active request for the case already existed and is returned

    @property
    def request_id(self) -> str:
        return str(self.request["request_id"])


def load_default_submitter() -> Submitter | None:
    """`trigger_case_ingestion.submit_requests`, imported once; None when it is not installed."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.append(str(PROJECT_ROOT))
    try:
        module = importlib.import_module("trigger_case_ingestion")
    except ImportError as exc:
        log.warning("trigger_case_ingestion not importable; requests stay queued for the sensor (%s)", exc)
        return None
    return getattr(module, "submit_requests", None)


# What submit_requests imports on its first call. Imported once at start-up instead: importing
# Dagster takes a second or more of CPU, and on the batching thread it would hold the GIL and
# stall the event loop (every request in flight) at the first click.
_SUBMITTER_IMPORTS = ("dagster_graphql", "dagster_pipeline.assets.bronze_assets", "dagster_pipeline.settings")


def warm_submitter() -> None:
    started = time.monotonic()
    for name in _SUBMITTER_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            log.warning("could not pre-import %s (%s); it is imported at the first submission", name, exc)
    log.info("Dagster submitter loaded in %.1f s", time.monotonic() - started)


class DagsterTrigger:
    def __init__(
        self,
        pool: ConnectionPool,
        *,
        dagster_host: str,
        dagster_port: int,
        dagster_ui_url: str,
        submitter: Submitter | None = None,
        load_submitter: bool = True,
        batch_max: int = 50,
        linger_s: float = 0.05,
        on_change: Callable[..., None] | None = None,
    ) -> None:
        self.pool = pool
        self.dagster_host = dagster_host
        self.dagster_port = dagster_port
        self.dagster_ui_url = dagster_ui_url.rstrip("/")
        self._submitter = submitter
        self._load_submitter = load_submitter and submitter is None
        self.batch_max = batch_max
        self.linger_s = linger_s
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._health_cache: tuple[float, bool] = (0.0, False)
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()
        # After a failed submission the worker does not call the submitter again until the cheap
        # reachability probe (GET /server_info, at most once a second) says Dagster is back.
        self._dagster_down = False
        self.submitted_batches = 0
        # Called with the case ids whose request this object just recorded or changed (the API's
        # status cache invalidates them). Must be cheap and thread-safe.
        self._on_change = on_change or (lambda *_case_ids: None)
        # Group commit (request_async): built on first use, on the event loop that uses it.
        self._recorder: Coalescer[dict[str, Any], dict[str, Any] | None] | None = None
        self._recorder_pool: AsyncConnectionPool | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        if self._load_submitter and self._submitter is None:
            self._submitter = load_default_submitter()
            if self._submitter is not None:
                warm_submitter()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dagster-trigger", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Requests still in the in-memory queue stay `queued` in the database (the sensor has them)."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    @property
    def worker_alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Until the in-memory queue is drained (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    # ---------------------------------------------------------------- requests
    def request(self, case_id: str, *, case_number: str | None = None, force: bool = False,
                requested_by: str | None = None, origin: str = "api") -> TriggerOutcome:
        with self.pool.connection() as conn:
            outcome = self._record(conn, case_id, case_number, force, requested_by, origin)
        self._on_change(case_id)
        if outcome.created:
            self._enqueue(outcome.request_id)
        return outcome

    async def request_async(self, apool: AsyncConnectionPool, case_id: str, *, case_number: str | None = None,
                            force: bool = False, requested_by: str | None = None,
                            origin: str = "api") -> TriggerOutcome:
        """`request` on the event loop, with group commit: the requests that arrive while a
        statement is in flight are recorded together by the next one (RECORD_REQUESTS_BATCH_SQL:
        one round trip, one WAL flush), each answered as if recorded alone. Durable when it
        returns (autocommit); then a hand-off to the batching thread (a queue put)."""
        params = _record_params(case_id, case_number, force, requested_by, origin)
        recorder = self.recorder(apool)
        row = None
        for _ in range(RECORD_ATTEMPTS):
            row = await recorder.submit(params)
            if row is not None:
                break
        outcome = _outcome(row, case_id)
        self._on_change(case_id)
        if outcome.created:
            self._enqueue(outcome.request_id)
        return outcome

    def recorder(self, apool: AsyncConnectionPool) -> Coalescer[dict[str, Any], dict[str, Any] | None]:
        """The group-commit coalescer of request_async (its counters tell tests how many
        statements recorded how many requests)."""
        if self._recorder is None or self._recorder_pool is not apool:
            async def run(batch: list[dict[str, Any]]) -> list[Any]:
                return await self._record_batch(apool, batch)

            self._recorder = Coalescer(run, max_batch=RECORD_BATCH_MAX, max_in_flight=RECORD_BATCHES_IN_FLIGHT,
                                       fail_waiting=DB_UNREACHABLE)
            self._recorder_pool = apool
        return self._recorder

    async def _record_batch(self, apool: AsyncConnectionPool, batch: list[dict[str, Any]]) -> list[Any]:
        """One statement for the batch. If the database refuses it for a reason that may be one
        request's own (bad input, a deadlock with another writer), each request is recorded on its
        own so that only the bad one fails. Connection trouble fails the whole batch: every caller
        gets the error (503); autocommit means nothing of the batch was half-recorded."""
        plan = plan_batch(batch)
        try:
            async with apool.connection() as aconn:
                async with aconn.cursor(row_factory=dict_row) as cur:
                    # Planned at each execution (once per batch, not per request), never a cached
                    # generic plan: one made while `cases` was small kept scanning the whole table
                    # for the case-number update as it grew (triggers ~1.5x slower until autoanalyze).
                    await cur.execute(RECORD_REQUESTS_BATCH_SQL, plan.params, prepare=False)
                    rows = await cur.fetchall()
        except (*_ROLLBACK_ERRORS, psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError,
                psycopg.InternalError, psycopg.NotSupportedError):
            if len(batch) == 1:
                raise
            log.warning("recording %d extraction requests in one statement failed; recording them one by one",
                        len(batch), exc_info=True)
            return await self._record_one_by_one(apool, batch)
        return resolve_batch(plan, rows)

    async def _record_one_by_one(self, apool: AsyncConnectionPool, batch: list[dict[str, Any]]) -> list[Any]:
        results: list[Any] = []
        async with apool.connection() as aconn:
            for params in batch:
                try:
                    async with aconn.cursor(row_factory=dict_row) as cur:
                        await cur.execute(RECORD_REQUEST_SQL, params)
                        results.append(await cur.fetchone())
                except _ROLLBACK_ERRORS as exc:
                    results.append(exc)
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    raise  # the connection: every caller of the batch gets it
                except psycopg.Error as exc:
                    results.append(exc)
        return results

    def request_many(self, case_ids: Sequence[str], *, force: bool = False, requested_by: str | None = None,
                     origin: str = "bulk") -> list[TriggerOutcome]:
        unique = list(dict.fromkeys(case_ids))  # de-duplicated, order kept
        params = [_record_params(case_id, None, force, requested_by, origin) for case_id in unique]
        with self.pool.connection() as conn:
            rows = record_requests(conn, params) if params else []
        outcomes = [_outcome(row, case_id) for row, case_id in zip(rows, unique, strict=True)]
        self._on_change(*(o.request["case_id"] for o in outcomes))
        for outcome in outcomes:
            if outcome.created:
                self._enqueue(outcome.request_id)
        return outcomes

    def _record(self, conn: Any, case_id: str, case_number: str | None, force: bool,
                requested_by: str | None, origin: str) -> TriggerOutcome:
        params = _record_params(case_id, case_number, force, requested_by, origin)
        row = None
        for _ in range(RECORD_ATTEMPTS):
            row = fetch_one(conn, RECORD_REQUEST_SQL, params)
            if row is not None:
                break
        return _outcome(row, case_id)

    def get_request(self, request_id: str) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return fetch_one(conn, f"SELECT {REQUEST_COLUMNS} FROM public.extraction_requests WHERE request_id = %s",
                             (request_id,))

    # ---------------------------------------------------------------- worker
    def _enqueue(self, request_id: str) -> None:
        self._queue.put(request_id)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.25)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.linger_s
            while len(batch) < self.batch_max:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            try:
                self._submit_batch(batch)
            except Exception:  # never let the worker die; the rows stay queued for the sensor
                log.exception("submitting a batch of %d extraction requests failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _submit_batch(self, request_ids: list[str]) -> None:
        if self._dagster_down and not self.reachable(max_age_s=DOWN_PROBE_EVERY_S):
            # Dagster failed a moment ago and still does not answer: no claim, no submission
            # attempt (each costs the submitter a new HTTP client and TLS context, CPU that holds
            # the GIL the event loop needs). The rows stay queued, with the reason, for the sensor.
            with self.pool.connection() as conn:
                conn.execute(
                    "UPDATE public.extraction_requests SET error = %s, updated_at = now()"
                    " WHERE request_id = ANY(%s::uuid[]) AND status = 'queued'",
                    (DAGSTER_DOWN_MESSAGE, request_ids),
                )
            return
        with self.pool.connection() as conn:
            claimed = fetch_all(
                conn,
                "UPDATE public.extraction_requests SET status = 'submitted', submitted_at = now(),"
                " attempts = attempts + 1, error = NULL, updated_at = now()"
                " WHERE request_id = ANY(%s::uuid[]) AND status = 'queued' RETURNING request_id, case_id",
                (request_ids,),
            )
        if not claimed:
            return
        pairs = [(row["case_id"], str(row["request_id"])) for row in claimed]
        self._on_change(*(case_id for case_id, _ in pairs))
        submitter = self._submitter
        try:
            if submitter is None:
                raise RuntimeError("trigger_case_ingestion.submit_requests is not available")
            kwargs: dict[str, Any] = {"dagster_host": self.dagster_host, "dagster_port": self.dagster_port}
            if _accepts(submitter, "database_url"):
                kwargs["database_url"] = self.pool.conninfo
            results = submitter(pairs, **kwargs)
        except Exception as exc:
            self._dagster_down = True
            self._health_cache = (time.monotonic(), False)
            self._requeue(pairs, DAGSTER_DOWN_MESSAGE)
            log.warning("Dagster submission failed for %d request(s), left queued for the sensor: %s",
                        len(pairs), type(exc).__name__ + (f": {exc}" if str(exc) else ""))
            return
        self._dagster_down = False
        self.submitted_batches += 1
        self._record_results(pairs, results or [])

    def _record_results(self, pairs: list[tuple[str, str]], results: Iterable[Any]) -> None:
        by_request = {rid: case_id for case_id, rid in pairs}
        by_case = {case_id: rid for case_id, rid in pairs}
        runs: list[tuple[str, str]] = []
        failed: list[tuple[str, str]] = []
        for result in results:
            if not isinstance(result, dict):
                continue
            rid = str(result.get("request_id") or by_case.get(str(result.get("case_id")), ""))
            if rid not in by_request:
                continue
            run_id = result.get("run_id") or result.get("dagster_run_id") or result.get("runId")
            if run_id:
                runs.append((str(run_id), rid))
            elif result.get("error") or result.get("ok") is False:
                failed.append((by_request[rid], rid))
        with self.pool.connection() as conn:
            for run_id, rid in runs:
                conn.execute(
                    "UPDATE public.extraction_requests SET dagster_run_id = %s, updated_at = now()"
                    " WHERE request_id = %s AND dagster_run_id IS NULL",
                    (run_id, rid),
                )
                log.info("extraction request submitted", extra={"extraction_request_id": rid, "run_id": run_id,
                                                                  "case_id": by_request[rid]})
        self._on_change(*(by_request[rid] for _, rid in runs))
        if failed:
            self._requeue(failed, "Dagster did not accept the run; the request is kept and will be retried.")

    def _requeue(self, pairs: list[tuple[str, str]], message: str) -> None:
        """(case_id, request_id) pairs back to queued (the case sensor has them from there)."""
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE public.extraction_requests SET status = 'queued', submitted_at = NULL, error = %s,"
                " updated_at = now() WHERE request_id = ANY(%s::uuid[]) AND status = 'submitted'"
                " AND dagster_run_id IS NULL",
                (message, [rid for _, rid in pairs]),
            )
        self._on_change(*(case_id for case_id, _ in pairs))

    # ---------------------------------------------------------------- Dagster itself
    def _server_info_response(self, timeout_s: float) -> httpx.Response:
        """GET /server_info on one long-lived client (httpx.get would build a new client, with a
        TLS context loaded from disk, on every call)."""
        with self._http_lock:
            if self._http is None:
                self._http = httpx.Client()
            client = self._http
        return client.get(f"http://{self.dagster_host}:{self.dagster_port}/server_info", timeout=timeout_s)

    def reachable(self, *, max_age_s: float = 5.0, timeout_s: float = 1.5) -> bool:
        """Is the Dagster webserver answering? Cached for a few seconds (readyz, status pages)."""
        checked_at, ok = self._health_cache
        if time.monotonic() - checked_at < max_age_s:
            return ok
        try:
            ok = self._server_info_response(timeout_s).status_code == 200
        except httpx.HTTPError:
            ok = False
        self._health_cache = (time.monotonic(), ok)
        return ok

    def server_info(self, timeout_s: float = 1.5) -> dict[str, Any] | None:
        try:
            response = self._server_info_response(timeout_s)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return {}

    def ui_url(self, *, run_id: str | None = None, case_id: str | None = None) -> str:
        if run_id:
            return f"{self.dagster_ui_url}/runs/{run_id}"
        if case_id:
            return f"{self.dagster_ui_url}/runs?q%5B0%5D=tag%3Acase_id%3D{case_id}"
        return f"{self.dagster_ui_url}/runs"


def _record_params(case_id: str, case_number: str | None, force: bool, requested_by: str | None,
                   origin: str) -> dict[str, Any]:
    return {"case_id": case_id, "case_number": case_number, "force": force, "origin": origin,
            "requested_by": requested_by}


def _outcome(row: dict[str, Any] | None, case_id: str) -> TriggerOutcome:
    if row is None:
        raise RuntimeError(f"could not record an extraction request for case {case_id}")
    created = bool(row.pop("created"))
    return TriggerOutcome(row, created=created)


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
