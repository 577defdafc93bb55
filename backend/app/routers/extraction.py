"""The legacy synchronous path: POST /api/extraction/trigger/{case_id}."""

from __future__ import annotations

from fastapi import APIRouter, Request

from backend.app.deps import CurrentUser, PoolDep, StatusDep, ValidCaseId
from backend.app.schemas.common import AUTH_ERRORS
from backend.app.schemas.extraction import CaseStatus, LegacyExtractionResponse
from backend.app.services.legacy_extraction import LegacyExtractor

router = APIRouter(prefix="/api/extraction", tags=["extraction"])


def _extractor(request: Request) -> LegacyExtractor:
    state = request.app.state
    if getattr(state, "legacy", None) is None:
        state.legacy = LegacyExtractor(state.pool, state.settings)
    return state.legacy


@router.post("/trigger/{case_id}", response_model=LegacyExtractionResponse, summary="Extract a case now (no Dagster)",
             responses=AUTH_ERRORS)
def trigger_legacy(case_id: ValidCaseId, user: CurrentUser, request: Request, pool: PoolDep,
                   service: StatusDep) -> LegacyExtractionResponse:
    """Fallback for when Dagster is down: fetches AT, WI, TRT and the interview itself (concurrently),
    stores the raw answers in bronze and returns when the triggers have built silver and gold.
    Takes as long as the upstream services take (seconds). Upstream failures are reported per
    source in plain words; the answer is `200` with `status` complete, partial or failed."""
    result = _extractor(request).extract(case_id, requested_by=user.id)
    request.app.state.status_cache.invalidate(case_id)
    with pool.connection() as conn:
        status = service.fetch(conn, case_id)
    status["dagster_ui"] = None
    result["case_status"] = CaseStatus.model_validate(status)
    return LegacyExtractionResponse.model_validate(result)
