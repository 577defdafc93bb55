"""FastAPI app factory: lifespan (DB pool, Dagster submitter thread), middleware, error
handlers, routers. `uvicorn backend.app.main:app` serves the module-level `app`."""

from __future__ import annotations

import gc
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.app.config import Settings, get_settings
from backend.app.database import create_async_pool, create_pool
from backend.app.deps import get_current_user
from backend.app.errors import AppError, DatabaseUnavailable
from backend.app.logging_config import bind, configure_logging, get_logger, new_request_context
from backend.app.routers import calculations, cases, dagster_extraction, extraction, health
from backend.app.security import TokenVerifier
from backend.app.services.case_status import CaseStatusService
from backend.app.services.dagster_trigger import DagsterTrigger
from backend.app.services.status_cache import StatusCache

log = get_logger("api")
access_log = get_logger("access")
VERSION = "1.0.0"
# Request ids: a random per-process prefix and a counter (32 hex digits, unique, and no
# os.urandom call per request as uuid4 would make).
_REQUEST_ID_PREFIX = secrets.token_hex(10)
_request_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter):012x}"


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids: "<tag>-<function name>" (e.g. dagster-extract_case)."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


class RequestContextMiddleware:
    """Pure ASGI: a request id per request (X-Request-ID in and out), the log context, and one
    JSON access line with method, path, status, duration, case id and run id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")[:64]
                if candidate.replace("-", "").isalnum():
                    request_id = candidate
                break
        request_id = request_id or new_request_id()
        ctx = new_request_context(request_id=request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                self._log(scope, ctx, status_code, started)

    @staticmethod
    def _log(scope: Scope, ctx: dict[str, Any], status_code: int, started: float) -> None:
        path_params = scope.get("path_params") or {}
        if ctx.get("case_id") is None and isinstance(path_params.get("case_id"), str):
            ctx["case_id"] = path_params["case_id"][:32]
        access_log.info(
            "%s %s %s", scope.get("method"), scope.get("path"), status_code,
            extra={"method": scope.get("method"), "path": scope.get("path"), "status": status_code,
                   "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
        )


def _error_body(exc: AppError) -> dict[str, Any]:
    return {"type": exc.type, "detail": exc.detail}


def install_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        if exc.status_code >= 500:
            log.warning("%s: %s", exc.type, exc.detail)
        return JSONResponse(_error_body(exc), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        case_id_bad = False
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            about_case_id = (loc and loc[-1] == "case_id") or (len(loc) >= 2 and loc[-2] == "case_ids")
            if about_case_id and err.get("type") in ("string_pattern_mismatch", "string_type"):
                case_id_bad = True
            errors.append({"loc": loc, "msg": err.get("msg"), "type": err.get("type")})
        if case_id_bad:
            body = {"type": "invalid_case_id", "detail": "A case id is 1 to 12 digits.", "errors": errors}
        else:
            body = {"type": "validation_error", "detail": "The request is not valid: "
                    + "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors), "errors": errors}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # Starlette's answer to a body that is not JSON at all; it is invalid input like any other.
            return JSONResponse({"type": "validation_error", "detail": "The request body is not valid JSON."},
                                status_code=422)
        kinds = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated", 403: "forbidden"}
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such endpoint. See /docs for the API reference."
        return JSONResponse({"type": kinds.get(exc.status_code, "http_error"), "detail": detail},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(psycopg.OperationalError)
    async def db_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        # While the database is down, polls answer 503 rather than a status cached just before.
        cache = getattr(request.app.state, "status_cache", None)
        if cache is not None:
            cache.clear()
        return JSONResponse(_error_body(DatabaseUnavailable()), status_code=503)

    @app.exception_handler(psycopg.DataError)
    async def unstorable_input(_request: Request, exc: psycopg.DataError) -> JSONResponse:
        # e.g. a NUL byte in a search term or a name: Postgres text cannot hold it.
        log.info("input refused by the database: %s", type(exc).__name__)
        return JSONResponse({"type": "validation_error",
                             "detail": "The input contains characters that cannot be stored (e.g. a NUL byte)."},
                            status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return JSONResponse({"type": "internal_error",
                             "detail": "Something went wrong on our side. The error has been logged."},
                            status_code=500)


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    submitter: Callable[..., list[dict[str, Any]]] | None = None,
    load_submitter: bool = True,
    log_file: Any = "default",
) -> FastAPI:
    """Build the app. Tests pass `database_url` (their migrated database) and a fake
    `submitter`; production resolves the database from settings and imports
    trigger_case_ingestion.submit_requests."""
    settings = settings or get_settings()
    if log_file == "default":
        log_file = Path(settings.log_file) if settings.log_file else None
    configure_logging(settings, log_file=log_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url
        if url is None:
            from backend.app.db.location import resolve_database_url

            url = resolve_database_url(settings, stop_on_exit=False)
        pool: ConnectionPool = create_pool(url)
        pool.open(wait=False)
        app.state.pool = pool
        async_pool = create_async_pool(url)
        await async_pool.open(wait=False)
        app.state.async_pool = async_pool
        app.state.status_service = CaseStatusService()
        app.state.status_cache = StatusCache(settings.status_cache_ttl_s)
        trigger = DagsterTrigger(pool, dagster_host=settings.dagster_host, dagster_port=settings.dagster_port,
                                 dagster_ui_url=settings.dagster_ui_url, submitter=submitter,
                                 load_submitter=load_submitter, on_change=app.state.status_cache.invalidate)
        trigger.start()
        app.state.trigger = trigger
        app.state.legacy = None
        # Everything loaded so far (FastAPI, pydantic, psycopg, the Dagster client) lives as long
        # as the process: keep it out of the garbage collector's full passes, which otherwise
        # walk it under load: ~170 ms per full pass with the Dagster client loaded, a latency spike
        # for every request in flight.
        gc.collect()
        gc.freeze()
        log.info("API started", extra={"environment": settings.environment})
        try:
            yield
        finally:
            trigger.stop()
            if app.state.legacy is not None:
                app.state.legacy.close()
            await async_pool.close()
            pool.close()
            log.info("API stopped")

    docs_public = settings.environment != "production"
    app = FastAPI(
        title="Medallion API",
        version=VERSION,
        description=("Extraction, case data and calculations for tax-resolution cases. Every `/api` route "
                     "needs a Supabase access token (`Authorization: Bearer ...`; `make token` prints one "
                     "locally). Errors are `{type, detail}`."),
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url="/docs" if docs_public else None,
        redoc_url="/redoc" if docs_public else None,
        openapi_url="/openapi.json" if docs_public else None,
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    install_exception_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID"],
    )
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health.router)
    signed_in = [Depends(get_current_user)]
    for module in (dagster_extraction, extraction, cases, calculations):
        app.include_router(module.router, dependencies=signed_in)
    bind()  # a context for start-up log lines
    return app


app = create_app()
