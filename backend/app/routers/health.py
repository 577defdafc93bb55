"""Open health endpoints (no sign-in): /health, /healthz (process up), /readyz (dependencies)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from backend.app.logging_config import get_logger

router = APIRouter(tags=["health"])
log = get_logger("health")


class Health(BaseModel):
    status: Literal["ok"]
    environment: str
    version: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    database: Literal["ok", "unreachable"]
    dagster: Literal["ok", "unreachable"]
    detail: str


@router.get("/health", response_model=Health, summary="Process is up")
@router.get("/healthz", response_model=Health, summary="Process is up (Kubernetes style)", include_in_schema=False)
async def health(request: Request) -> Health:
    """The process answers. Checks nothing else."""
    return Health(status="ok", environment=request.app.state.settings.environment, version=request.app.version)


@router.get("/readyz", response_model=Readiness, summary="Database and Dagster reachable",
            responses={503: {"model": Readiness, "description": "Not ready: the database is unreachable."}})
def readyz(request: Request, response: Response) -> Readiness:
    """Ready to serve: the database answers (required) and Dagster answers (reported; when it is
    down, extraction requests queue up and the legacy path still works, so the API stays ready)."""
    db_ok = True
    try:
        with request.app.state.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure here means "not ready"; the reason goes to the log
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        db_ok = False
    dagster_ok = request.app.state.trigger.reachable()
    if not db_ok:
        response.status_code = 503
    detail = "All dependencies reachable." if db_ok and dagster_ok else " ".join(filter(None, [
        "The database is not reachable." if not db_ok else "",
        "Dagster is not reachable; extraction requests will queue until it is back." if not dagster_ok else "",
    ]))
    return Readiness(status="ready" if db_ok else "not_ready", database="ok" if db_ok else "unreachable",
                     dagster="ok" if dagster_ok else "unreachable", detail=detail)
