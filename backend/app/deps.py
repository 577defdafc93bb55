"""Annotated dependencies shared by the routers: DbDep, CurrentUser, ValidCaseId, ..."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from backend.app.config import Settings
from backend.app.database import Catalog
from backend.app.errors import CaseNotFound, NotAuthenticated
from backend.app.logging_config import bind
from backend.app.schemas.common import CASE_ID_PATTERN
from backend.app.security import TokenError, TokenVerifier, User
from backend.app.services.case_status import CaseStatusService
from backend.app.services.dagster_trigger import DagsterTrigger

_bearer = HTTPBearer(auto_error=False, description="A Supabase access token (`make token` prints one locally).")


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


def get_db(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection for the request; committed when the route returns, rolled back on error.
    An unreachable database surfaces as 503 through the app's exception handlers."""
    with request.app.state.pool.connection() as conn:
        yield conn


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def get_trigger(request: Request) -> DagsterTrigger:
    return request.app.state.trigger


def get_status_service(request: Request) -> CaseStatusService:
    return request.app.state.status_service


def get_current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated()
    verifier: TokenVerifier = request.app.state.verifier
    try:
        user = verifier.verify(credentials.credentials)
    except TokenError as exc:
        raise NotAuthenticated(f"Sign in required: {exc}") from None
    bind(user_id=user.id)
    return user


def valid_case_id(case_id: Annotated[str, Path(pattern=CASE_ID_PATTERN, description="1 to 12 digits",
                                               examples=["1295022"])]) -> str:
    bind(case_id=case_id)
    return case_id


def existing_case_id(case_id: Annotated[str, Depends(valid_case_id)], conn: Annotated[psycopg.Connection, Depends(get_db)]) -> str:
    """The case id of a case that exists, else 404."""
    if conn.execute("SELECT 1 FROM public.cases WHERE case_id = %s", (case_id,)).fetchone() is None:
        raise CaseNotFound(case_id)
    return case_id


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DbDep = Annotated[psycopg.Connection, Depends(get_db)]
PoolDep = Annotated[ConnectionPool, Depends(get_pool)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
TriggerDep = Annotated[DagsterTrigger, Depends(get_trigger)]
StatusDep = Annotated[CaseStatusService, Depends(get_status_service)]
CurrentUser = Annotated[User, Depends(get_current_user)]
ValidCaseId = Annotated[str, Depends(valid_case_id)]
ExistingCaseId = Annotated[str, Depends(existing_case_id)]
