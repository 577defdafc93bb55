"""Case CRUD and the per-case grid reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from backend.app.schemas.extraction import CaseIdStr


class CaseCreate(BaseModel):
    case_id: CaseIdStr = Field(examples=["1295022"])
    case_number: str | None = Field(None, max_length=100)
    client_name: str | None = Field(None, max_length=200)
    status_code: str = Field("NEW", max_length=40)


class CaseUpdate(BaseModel):
    case_number: str | None = Field(None, max_length=100)
    client_name: str | None = Field(None, max_length=200)
    status_code: str | None = Field(None, min_length=1, max_length=40)


class LatestExtraction(BaseModel):
    request_id: str
    status: str
    requested_at: datetime
    dagster_run_id: str | None = None
    error: str | None = None


class CaseOut(BaseModel):
    case_id: str
    case_number: str | None = None
    client_name: str | None = None
    status_code: str
    created_at: datetime
    updated_at: datetime
    latest_extraction: LatestExtraction | None = None


class CaseList(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int
    q: str | None = None


class CaseRows(BaseModel):
    """Rows of one silver/gold table for a case, columns as stored (see docs/ for each column)."""

    case_id: str
    table: str
    available: bool = Field(description="false while the table does not exist in this database yet.")
    count: int
    total: int | None = Field(None, description="All matching rows (when paged).")
    items: list[dict[str, Any]]


class TaxYearRows(BaseModel):
    """Tax years with their CSEDs: each item is a tax_years row plus `assessments`
    (csed_assessments) and `suspensions` (csed_tolling_events) of that year."""

    case_id: str
    available: bool
    count: int
    items: list[dict[str, Any]]
