"""Annotated dependencies shared by the routers: DbDep, CurrentUser, ValidCaseId, ...

Everything that does not block is `async def`: FastAPI runs a plain `def` dependency in its
threadpool, and a thread hop per dependency cost more than the status query itself. Only the
ones holding a sync database connection (get_db, existing_case_id) stay `def`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from backend.app.config import Settings
from backend.app.errors import CaseNotFound, NotAuthenticated
from backend.app.logging_config import bind
from backend.app.schemas.common import CASE_ID_PATTERN
from backend.app.security import TokenError, TokenVerifier, User
from backend.app.services.case_status import CaseStatusService
from backend.app.services.dagster_trigger import DagsterTrigger

_bearer = HTTPBearer(auto_error=False, description="A Supabase access token (`make token` prints one locally).")


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


async def get_async_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.async_pool


def get_db(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection for the request; committed when the route returns, rolled back on error.
    An unreachable database surfaces as 503 through the app's exception handlers."""
    with request.app.state.pool.connection() as conn:
        yield conn


async def get_trigger(request: Request) -> DagsterTrigger:
    return request.app.state.trigger


async def get_status_service(request: Request) -> CaseStatusService:
    return request.app.state.status_service


async def get_current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated()
    verifier: TokenVerifier = request.app.state.verifier
    token = credentials.credentials
    try:
        user = verifier.cached(token)
        if user is None:
            # HS256 is a microsecond HMAC: on the loop. A JWKS token may fetch keys: off the loop.
            user = (await run_in_threadpool(verifier.verify, token) if verifier.needs_network(token)
                    else verifier.verify(token))
    except TokenError as exc:
        raise NotAuthenticated(f"Sign in required: {exc}") from None
    bind(user_id=user.id)
    return user


# The case id path parameter without a dependency around it (hot routes bind it to the log
# context themselves): same OpenAPI parameter, same 422 for a bad id.
CaseIdPath = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="1 to 12 digits", examples=["1295022"])]


async def valid_case_id(case_id: Annotated[str, Path(pattern=CASE_ID_PATTERN, description="1 to 12 digits",
                                               examples=["1295022"])]) -> str:
    bind(case_id=case_id)
    return case_id


def existing_case_id(case_id: Annotated[str, Depends(valid_case_id)],
                     conn: Annotated[psycopg.Connection, Depends(get_db)]) -> str:
    """The case id of a case that exists, else 404."""
    if conn.execute("SELECT 1 FROM public.cases WHERE case_id = %s", (case_id,)).fetchone() is None:
        raise CaseNotFound(case_id)
    return case_id


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DbDep = Annotated[psycopg.Connection, Depends(get_db)]
PoolDep = Annotated[ConnectionPool, Depends(get_pool)]
AsyncPoolDep = Annotated[AsyncConnectionPool, Depends(get_async_pool)]
TriggerDep = Annotated[DagsterTrigger, Depends(get_trigger)]
StatusDep = Annotated[CaseStatusService, Depends(get_status_service)]
CurrentUser = Annotated[User, Depends(get_current_user)]
ValidCaseId = Annotated[str, Depends(valid_case_id)]
ExistingCaseId = Annotated[str, Depends(existing_case_id)]
