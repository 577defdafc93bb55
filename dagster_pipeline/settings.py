"""Pipeline settings that are not in backend.app.config.Settings, read from MEDALLION_* env vars,
plus the one environment switch that picks resources (local sandboxes vs real upstreams).

Every value has a production-sensible default; tests override them through the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from backend.app.config import Settings, get_settings


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class PipelineSettings:
    # Upstream client behaviour
    tiparser_max_retries: int
    casehelper_max_retries: int
    backoff_base_s: float
    # Per-upstream limit of calls in flight per run process. A run holds one `tiparser_api` pool
    # slot, so across runs: at most (pool limit) x these.
    tiparser_max_connections: int
    casehelper_max_connections: int
    # Step-level RetryPolicy (on top of the client retries): for an upstream that stays down.
    step_max_retries: int
    step_retry_delay_s: float
    # Runs
    max_concurrent_cases: int  # cases fetched at once inside one run (x4 upstream calls)
    batch_size: int  # cases per run launched by the sensor / refresh schedule
    # Cases per run when the API / CLI submit several requests at once (a burst of clicks, a bulk
    # call). 1: one run per request, tagged case_id/request_id (filterable in the UI).
    submit_cases_per_run: int
    # Case sensor
    sensor_interval_s: int
    sensor_min_age_s: int  # a queued request this old is the sensor's (younger: the API/CLI submit it)
    sensor_max_runs_per_tick: int
    sensor_new_cases: bool
    # Reconciliation (case sensor): requests left behind by a run or a submitter that died
    reconcile_after_s: int  # a `submitted` request with no run id this old was never submitted
    max_request_attempts: int  # submissions + claims + requeues before an interrupted request fails
    # Schedules
    health_check_cron: str
    refresh_cron: str
    refresh_active_days: int  # cases with an extraction request in this window are "active"
    refresh_min_age_h: float  # ...and are refreshed when their last extraction is older than this
    stale_case_days: int  # monitoring: an active case whose bronze is older is stale
    timezone: str


@lru_cache
def get_pipeline_settings() -> PipelineSettings:
    return PipelineSettings(
        tiparser_max_retries=_int("MEDALLION_TIPARSER_MAX_RETRIES", 4),
        casehelper_max_retries=_int("MEDALLION_CASEHELPER_MAX_RETRIES", 4),
        backoff_base_s=_float("MEDALLION_BACKOFF_BASE_SECONDS", 0.5),
        tiparser_max_connections=_int("MEDALLION_TIPARSER_MAX_CONNECTIONS", 16),
        casehelper_max_connections=_int("MEDALLION_CASEHELPER_MAX_CONNECTIONS", 8),
        step_max_retries=_int("MEDALLION_STEP_MAX_RETRIES", 2),
        step_retry_delay_s=_float("MEDALLION_STEP_RETRY_DELAY_SECONDS", 30.0),
        max_concurrent_cases=_int("MEDALLION_MAX_CONCURRENT_CASES", 8),
        batch_size=_int("MEDALLION_BATCH_SIZE", 25),
        submit_cases_per_run=max(1, _int("MEDALLION_SUBMIT_CASES_PER_RUN", 1)),
        sensor_interval_s=_int("MEDALLION_SENSOR_INTERVAL_SECONDS", 15),
        sensor_min_age_s=_int("MEDALLION_SENSOR_MIN_AGE_SECONDS", 10),
        sensor_max_runs_per_tick=_int("MEDALLION_SENSOR_MAX_RUNS_PER_TICK", 20),
        sensor_new_cases=_str("MEDALLION_SENSOR_NEW_CASES", "true").lower() in ("1", "true", "yes"),
        reconcile_after_s=_int("MEDALLION_RECONCILE_AFTER_SECONDS", 180),
        max_request_attempts=_int("MEDALLION_MAX_REQUEST_ATTEMPTS", 6),
        health_check_cron=_str("MEDALLION_HEALTH_CHECK_CRON", "0 6 * * *"),
        refresh_cron=_str("MEDALLION_REFRESH_CRON", "0 2 * * *"),
        refresh_active_days=_int("MEDALLION_REFRESH_ACTIVE_DAYS", 90),
        refresh_min_age_h=_float("MEDALLION_REFRESH_MIN_AGE_HOURS", 20.0),
        stale_case_days=_int("MEDALLION_STALE_CASE_DAYS", 7),
        timezone=_str("MEDALLION_TIMEZONE", "UTC"),
    )


def app_settings() -> Settings:
    return get_settings()


def deployment() -> str:
    """LOCAL (sandboxes, local folder for PDFs) / STAGING / PROD, from ENVIRONMENT."""
    env = app_settings().environment
    return {"local": "LOCAL", "test": "LOCAL", "staging": "STAGING", "production": "PROD"}[env]
