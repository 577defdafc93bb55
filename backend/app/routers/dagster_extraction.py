"""Extraction through Dagster: trigger (single, body, bulk), status, Dagster health, UI link.

Triggers answer at once (202): the request is recorded in `extraction_requests` and handed to
the background submitter. `async_mode=false` waits (without blocking the event loop) until the
case's status is final or the wait limit is reached.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from backend.app.deps import AsyncPoolDep, CaseIdPath, CurrentUser, PoolDep, SettingsDep, StatusDep, TriggerDep
from backend.app.logging_config import bind
from backend.app.schemas.common import AUTH_ERRORS, error_responses
from backend.app.schemas.extraction import (
    BulkExtractRequest,
    BulkTriggerResponse,
    CaseStatus,
    DagsterHealth,
    ExtractRequest,
    TriggerResponse,
)
from backend.app.services.case_status import CaseStatusService
from backend.app.services.dagster_trigger import DagsterTrigger, TriggerOutcome

router = APIRouter(prefix="/api/dagster", tags=["dagster"])

MAX_WAIT_S = 600.0
POLL_INTERVAL_S = 1.0
FINAL_STATUSES = {"complete", "partial", "failed", "bronze_only", "silver_only", "not_started"}


def _trigger_response(outcome: TriggerOutcome, trigger: DagsterTrigger, case_number: str | None) -> TriggerResponse:
    req = outcome.request
    run_id = req.get("dagster_run_id")
    case_id = req["case_id"]
    bind(case_id=case_id, run_id=run_id)
    if outcome.created:
        message = f"Extraction started for case {case_id}. Poll the status URL for progress."
    else:
        message = (f"An extraction for case {case_id} is already {req['status']}; returning that request "
                   "(send force=true to start another).")
    return TriggerResponse(
        status="triggered" if outcome.created else "already_active",
        case_id=case_id,
        case_number=req.get("case_number") or case_number,
        request_id=outcome.request_id,
        request_status=req["status"],
        run_id=run_id,
        deduplicated=not outcome.created,
        message=message,
        dagster_ui=trigger.ui_url(run_id=run_id, case_id=case_id),
        status_url=f"/api/dagster/status/{case_id}",
        timestamp=datetime.now(UTC),
    )


async def _status(apool: Any, service: CaseStatusService, trigger: DagsterTrigger, case_id: str) -> CaseStatus:
    """One statement on the async pool, on the event loop (no threadpool hop)."""
    async with apool.connection() as aconn:
        data = await service.fetch_async(aconn, case_id)
    data["dagster_ui"] = trigger.ui_url(run_id=data.get("run_id"), case_id=case_id)
    bind(run_id=data.get("run_id"))
    return CaseStatus.model_validate(data)


async def _status_json(apool: Any, service: CaseStatusService, trigger: DagsterTrigger,
                       case_id: str) -> tuple[bytes, str | None]:
    """The status answer serialised once (what the status cache holds), with its run id. Read
    together with the other polls in flight (one statement for all their cases)."""
    data = await service.fetch_coalesced(apool, case_id)
    data["dagster_ui"] = trigger.ui_url(run_id=data.get("run_id"), case_id=case_id)
    status_model = CaseStatus.model_validate(data)
    return status_model.__pydantic_serializer__.to_json(status_model), status_model.run_id


def _answer(result: TriggerResponse, response: Response) -> Response:
    """The trigger answer serialised once: the route builds a valid TriggerResponse itself, so
    FastAPI's response_model pass (dump, validate again, serialise) would only repeat the work.
    Same JSON as FastAPI writes for the response_model (every field, nulls included)."""
    return Response(result.__pydantic_serializer__.to_json(result), status_code=response.status_code or 202,
                    media_type="application/json")


async def _extract(request: ExtractRequest, user: Any, trigger: DagsterTrigger, apool: Any,
                   service: CaseStatusService, response: Response, default_wait_s: float) -> TriggerResponse:
    bind(case_id=request.case_id)
    outcome = await trigger.request_async(apool, request.case_id, case_number=request.case_number,
                                          force=request.force, requested_by=user.id)
    result = _trigger_response(outcome, trigger, request.case_number)
    if request.async_mode:
        response.status_code = status.HTTP_202_ACCEPTED
        return result
    limit = min(request.wait_seconds or default_wait_s, MAX_WAIT_S)
    deadline = time.monotonic() + limit
    current = await _status(apool, service, trigger, request.case_id)
    while current.status not in FINAL_STATUSES and time.monotonic() < deadline:
        await asyncio.sleep(min(POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))
        current = await _status(apool, service, trigger, request.case_id)
    timed_out = current.status not in FINAL_STATUSES
    result.status = current.status
    result.timed_out = timed_out
    result.case_status = current
    result.run_id = current.run_id or result.run_id
    result.dagster_ui = current.dagster_ui or result.dagster_ui
    result.message = (f"Still {current.status} after {limit:.0f} s; keep polling the status URL."
                      if timed_out else current.message)
    response.status_code = status.HTTP_202_ACCEPTED if timed_out else status.HTTP_200_OK
    return result


@router.post(
    "/cases/{case_id}/extract",
    response_model=TriggerResponse,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Extract one case through Dagster",
    responses={200: {"model": TriggerResponse, "description": "async_mode=false: the run finished in time."},
               **AUTH_ERRORS},
)
async def extract_case(
    case_id: CaseIdPath,
    user: CurrentUser,
    request: Request,
    response: Response,
    async_mode: Annotated[bool, Query(description="false: wait for the run to finish")] = True,
    force: Annotated[bool, Query(description="start another run even if one is active")] = False,
    case_number: Annotated[str | None, Query(max_length=100)] = None,
    wait_seconds: Annotated[float | None, Query(gt=0, le=MAX_WAIT_S)] = None,
) -> Response:
    """Record an extraction request for the case and answer at once (`202`, `status: "triggered"`).
    A second call while the case is queued or running returns the same request
    (`status: "already_active"`, same `request_id`) unless `force=true`."""
    # app.state read here rather than through four dependencies: each one costs FastAPI more than
    # the dedup statement costs Postgres.
    state = request.app.state
    body = ExtractRequest(case_id=case_id, case_number=case_number, async_mode=async_mode, force=force,
                          wait_seconds=wait_seconds)
    result = await _extract(body, user, state.trigger, state.async_pool, state.status_service, response,
                            state.settings.extract_sync_timeout_s)
    return _answer(result, response)


@router.post(
    "/extract",
    response_model=TriggerResponse,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Extract one case (JSON body)",
    responses={200: {"model": TriggerResponse, "description": "async_mode=false: the run finished in time."},
               **AUTH_ERRORS},
)
async def extract(body: Annotated[ExtractRequest, Body()], user: CurrentUser, trigger: TriggerDep,
                  apool: AsyncPoolDep, service: StatusDep, response: Response,
                  settings: SettingsDep) -> Response:
    """Same as `POST /api/dagster/cases/{case_id}/extract`, with `{case_id, case_number?, async_mode?, force?}`."""
    result = await _extract(body, user, trigger, apool, service, response, settings.extract_sync_timeout_s)
    return _answer(result, response)


@router.post(
    "/extract/bulk",
    response_model=BulkTriggerResponse,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Extract many cases",
    responses=AUTH_ERRORS,
)
def extract_bulk(body: BulkExtractRequest, user: CurrentUser, trigger: TriggerDep) -> BulkTriggerResponse:
    """Record one request per case (duplicates in the list are merged; cases already queued or
    running return their active request) and hand them to Dagster in batches."""
    outcomes = trigger.request_many(body.case_ids, force=body.force, requested_by=user.id)
    results = [_trigger_response(o, trigger, None) for o in outcomes]
    created = sum(1 for o in outcomes if o.created)
    return BulkTriggerResponse(requested=len(outcomes), created=created, deduplicated=len(outcomes) - created,
                               results=results, timestamp=datetime.now(UTC))


@router.get("/status/{case_id}", response_model=CaseStatus, summary="Where a case's extraction stands",
            responses=AUTH_ERRORS)
async def case_status(case_id: CaseIdPath, request: Request) -> Response:
    """Layer counts, each source's state, plain errors and the run id. Poll this every few
    seconds after a trigger; stop when `status` is `complete`, `partial` or `failed`.
    An unknown case answers `not_started` (it is not an error to ask). The answer may be up to
    1 s old (`checked_at` says when it was observed; STATUS_CACHE_TTL_S, 0 turns that off); a
    trigger from this API shows at once."""
    bind(case_id=case_id)  # the caller is signed in: the router's get_current_user dependency
    state = request.app.state
    body, run_id = await state.status_cache.get(
        case_id, lambda: _status_json(state.async_pool, state.status_service, state.trigger, case_id))
    bind(run_id=run_id)
    return Response(body, media_type="application/json")


@router.get("/health", response_model=DagsterHealth, summary="Is Dagster reachable",
            responses={**error_responses(401),
                       503: {"model": DagsterHealth, "description": "Dagster is not reachable."}})
def dagster_health(_user: CurrentUser, trigger: TriggerDep, pool: PoolDep, response: Response) -> DagsterHealth:
    """`200` with `status: healthy` when the Dagster webserver answers, else `503` with
    `status: unreachable` (requests still queue and run when it is back)."""
    info = trigger.server_info()
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM public.extraction_requests WHERE status = 'queued'").fetchone()
    queued = int(row[0]) if row else None
    reachable = info is not None
    if not reachable:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    version = (info or {}).get("dagster_webserver_version") or (info or {}).get("dagster_version")
    return DagsterHealth(
        status="healthy" if reachable else "unreachable",
        reachable=reachable,
        dagster_ui=trigger.dagster_ui_url,
        version=version,
        worker_alive=trigger.worker_alive,
        queued_requests=queued,
        message="Dagster is reachable." if reachable else
        "Dagster is not reachable. Extraction requests are kept and run when it is back; "
        "POST /api/extraction/trigger/{case_id} works meanwhile.",
    )


@router.get("/ui", summary="Redirect to the Dagster UI", status_code=status.HTTP_307_TEMPORARY_REDIRECT,
            response_class=RedirectResponse,
            responses={307: {"description": "Redirect to the run page (run_id), the case's runs (case_id) "
                                            "or the runs list."}, **error_responses(401, 422)})
def dagster_ui(
    _user: CurrentUser,
    trigger: TriggerDep,
    request: Request,
    run_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9-]{1,64}$")] = None,
    case_id: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}$")] = None,
) -> RedirectResponse:
    """With `run_id`: that run's page. With `case_id`: the latest run of the case if known, else the
    runs filtered by the case's tag. Without either: the runs list."""
    if case_id and not run_id:
        with request.app.state.pool.connection() as conn:
            row = conn.execute(
                "SELECT dagster_run_id FROM public.extraction_requests WHERE case_id = %s"
                " AND dagster_run_id IS NOT NULL ORDER BY requested_at DESC LIMIT 1", (case_id,)).fetchone()
        run_id = row[0] if row else None
    return RedirectResponse(trigger.ui_url(run_id=run_id, case_id=case_id),
                            status_code=status.HTTP_307_TEMPORARY_REDIRECT)
