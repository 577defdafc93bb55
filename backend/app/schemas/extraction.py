"""Request/response models of the extraction endpoints (Dagster path and legacy path)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.app.schemas.common import CASE_ID_PATTERN

CaseIdStr = Annotated[str, StringConstraints(pattern=CASE_ID_PATTERN)]
CaseStatusValue = Literal["not_started", "queued", "running", "bronze_only", "silver_only", "complete",
                          "partial", "failed"]
SourceName = Literal["at", "wi", "trt", "interview"]


class ExtractRequest(BaseModel):
    case_id: CaseIdStr = Field(examples=["1295022"])
    case_number: str | None = Field(None, max_length=100, examples=["TRA-2024-0117"])
    async_mode: bool = Field(True, description="true: answer at once; false: wait for the run to finish "
                                               "(bounded by wait_seconds).")
    force: bool = Field(False, description="Start a new extraction even if one is queued or running.")
    wait_seconds: float | None = Field(None, gt=0, le=600, description="Upper bound for async_mode=false.")


class BulkExtractRequest(BaseModel):
    case_ids: list[CaseIdStr] = Field(min_length=1, max_length=1000, examples=[["1295022", "1000001"]])
    force: bool = False


class ExtractionRequestInfo(BaseModel):
    request_id: str
    status: Literal["queued", "submitted", "running", "complete", "partial", "failed", "cancelled"]
    force: bool = False
    origin: str | None = None
    dagster_run_id: str | None = None
    error: str | None = None
    attempts: int = 0
    requested_at: datetime | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None


class SourceState(BaseModel):
    state: Literal["pending", "fetching", "stored", "unchanged", "no_data", "failed"] | None = Field(
        None, description="null: this source has not been fetched yet.")
    rows: int = Field(0, description="Bronze rows held for this source (history included).")
    error: str | None = Field(None, description="Why the source failed, in plain words.")
    http_status: int | None = None
    updated_at: datetime | None = None


class BronzeSummary(BaseModel):
    at: bool
    wi: bool
    trt: bool
    interview: bool
    counts: dict[str, int]
    total_records: int


class SilverSummary(BaseModel):
    tax_years: int = 0
    income_documents: int = 0
    account_activity: int = 0
    trt_records: int = 0
    csed_assessments: int = 0
    csed_tolling_events: int = 0
    interview: int = Field(0, description="logiqs_raw_data rows (the typed interview).")
    total_records: int = 0


class GoldSummary(BaseModel):
    employment: int = 0
    household: int = 0
    financial_accounts: int = 0
    income_sources: int = 0
    monthly_expenses: int = 0
    vehicles: int = 0
    real_property: int = 0
    tax_projections: int = 0
    total_records: int = 0


class CaseStatus(BaseModel):
    case_id: str
    case_exists: bool
    status: CaseStatusValue
    message: str
    run_id: str | None = Field(None, description="Dagster run id of the latest extraction, when known.")
    dagster_ui: str | None = Field(None, description="Link to the run (or the case's runs) in the Dagster UI.")
    request: ExtractionRequestInfo | None = None
    sources: dict[SourceName, SourceState]
    errors: list[str] = Field(default_factory=list, examples=[["AT: TiParser API key invalid or expired"]])
    transformation_errors: int = 0
    bronze: BronzeSummary
    silver: SilverSummary
    gold: GoldSummary
    checked_at: datetime


class TriggerResponse(BaseModel):
    status: Literal["triggered", "already_active", "not_started", "queued", "running", "bronze_only",
                    "silver_only", "complete", "partial", "failed"] = Field(
        description="triggered: a new request was recorded; already_active: the case already had one "
                    "queued or running, which is returned. With async_mode=false: the case status at the end.")
    case_id: str
    case_number: str | None = None
    request_id: str
    request_status: str
    run_id: str | None = None
    deduplicated: bool = Field(False, description="true when an existing active request was returned.")
    message: str
    dagster_ui: str
    status_url: str
    timestamp: datetime
    timed_out: bool | None = Field(None, description="async_mode=false only: the wait limit was reached.")
    case_status: CaseStatus | None = Field(None, description="async_mode=false only: the final case status.")


class BulkTriggerResponse(BaseModel):
    requested: int
    created: int
    deduplicated: int
    results: list[TriggerResponse]
    timestamp: datetime


class DagsterHealth(BaseModel):
    status: Literal["healthy", "unreachable"]
    reachable: bool
    dagster_ui: str
    version: str | None = None
    worker_alive: bool
    queued_requests: int | None = Field(None, description="Requests waiting for submission (database).")
    message: str


class LegacySourceResult(BaseModel):
    state: Literal["stored", "unchanged", "no_data", "failed"]
    bronze_id: str | None = None
    http_status: int | None = None
    error: str | None = None
    seconds: float


class LegacyExtractionResponse(BaseModel):
    case_id: str
    status: Literal["complete", "partial", "failed"]
    message: str
    sources: dict[SourceName, LegacySourceResult]
    case_status: CaseStatus
    seconds: float
    extra: dict[str, Any] | None = None
