"""Domain errors: services raise these, one handler turns them into `{type, detail}`.

Services never raise HTTPException; the HTTP status lives on the error class. Anything else
that escapes a route becomes a 500 with a plain message (the traceback goes to the log only).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code: int = 500
    type: str = "internal_error"
    detail: str = "Something went wrong on our side. The error has been logged."
    headers: dict[str, str] | None = None

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.detail
        self.extra = extra
        super().__init__(self.detail)


class NotAuthenticated(AppError):
    status_code = 401
    type = "not_authenticated"
    detail = "Sign in required: send a valid Supabase access token as 'Authorization: Bearer <token>'."
    headers = {"WWW-Authenticate": "Bearer"}


class InvalidCaseId(AppError):
    status_code = 422
    type = "invalid_case_id"
    detail = "A case id is 1 to 12 digits."


class CaseNotFound(AppError):
    status_code = 404
    type = "case_not_found"

    def __init__(self, case_id: str) -> None:
        super().__init__(f"Case {case_id} not found.", case_id=case_id)


class CaseAlreadyExists(AppError):
    status_code = 409
    type = "case_exists"

    def __init__(self, case_id: str) -> None:
        super().__init__(f"Case {case_id} already exists.", case_id=case_id)


class DatabaseUnavailable(AppError):
    status_code = 503
    type = "database_unavailable"
    detail = "The database is not reachable right now. Try again in a minute."


class DagsterUnavailable(AppError):
    status_code = 503
    type = "dagster_unavailable"
    detail = ("Dagster is not reachable right now. Extraction requests are kept and will run "
              "when it is back; the legacy path POST /api/extraction/trigger/{case_id} works meanwhile.")


class UpstreamUnavailable(AppError):
    status_code = 503
    type = "upstream_unavailable"
    detail = "An upstream service (TiParser or CaseHelper) is not reachable right now."


class FeatureUnavailable(AppError):
    status_code = 503
    type = "feature_unavailable"
