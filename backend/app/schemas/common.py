"""Shared response models: the error body and the OpenAPI error responses of each route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

CASE_ID_PATTERN = r"^[0-9]{1,12}$"


class ErrorResponse(BaseModel):
    """Every error the API returns has this shape; `detail` is plain words, never a stack trace."""

    type: str = Field(examples=["case_not_found"])
    detail: str = Field(examples=["Case 1295022 not found."])
    errors: list[dict[str, Any]] | None = Field(None, description="Field-level problems (validation errors only).")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        401: "Missing, expired, forged or wrong-audience token.",
        404: "Unknown case.",
        409: "Conflict (the case already exists).",
        422: "Invalid input, e.g. a case id that is not 1 to 12 digits.",
        503: "The database, Dagster or an upstream service is not reachable.",
    }
    return {code: {"model": ErrorResponse, "description": descriptions.get(code, "Error")} for code in codes}


AUTH_ERRORS = error_responses(401, 422, 503)
CASE_ERRORS = error_responses(401, 404, 422, 503)


class Page(BaseModel):
    total: int
    limit: int
    offset: int
