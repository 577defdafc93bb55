"""The bronze writer: the one place that stores raw upstream payloads and per-source state.

Used by the Dagster bronze assets and by the legacy synchronous extraction path. The SQL
triggers do everything after the INSERT (silver, gold, error rows); an identical repeat of a
case's latest payload is skipped by the database, which `save_bronze` reports as unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

Source = Literal["at", "wi", "trt", "interview"]
SOURCES: tuple[Source, ...] = ("at", "wi", "trt", "interview")
ENDPOINTS: dict[str, str] = {
    "at": "/analysis/at/{case_id}",
    "wi": "/analysis/wi/{case_id}",
    "trt": "/analysis/trt/{case_id}",
    "interview": "/api/cases/{case_id}/interview",
}


@dataclass(frozen=True)
class SaveResult:
    bronze_id: str | None  # None when the payload equals the case's latest one (nothing written)

    @property
    def unchanged(self) -> bool:
        return self.bronze_id is None


def save_bronze(
    conn: psycopg.Connection,
    source: Source,
    case_id: str,
    payload: Any,
    *,
    run_id: str | None = None,
    endpoint: str | None = None,
) -> SaveResult:
    """Insert one raw payload; the caller owns the transaction."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    row = conn.execute(
        f"INSERT INTO public.bronze_{source}_raw (case_id, raw_response, api_endpoint, dagster_run_id)"  # noqa: S608
        " VALUES (%s, %s, %s, %s) RETURNING bronze_id",
        (case_id, Jsonb(payload), endpoint or ENDPOINTS[source].format(case_id=case_id), run_id),
    ).fetchone()
    return SaveResult(str(row[0]) if row else None)


def save_rejected_payload(
    conn: psycopg.Connection,
    source: str,
    case_id: str,
    body_text: str,
    error: str,
    *,
    http_status: int | None = None,
    run_id: str | None = None,
    endpoint: str | None = None,
) -> None:
    """Keep a body that is not valid JSON verbatim, so nothing received is lost."""
    conn.execute("SELECT public.ensure_case(%s)", (case_id,))
    conn.execute(
        "INSERT INTO public.bronze_rejected_payloads"
        " (case_id, source, api_endpoint, http_status, body_text, error, dagster_run_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (case_id, source, endpoint or ENDPOINTS.get(source, "").format(case_id=case_id), http_status,
         body_text, error, run_id),
    )


def set_source_state(
    conn: psycopg.Connection,
    case_id: str,
    source: str,
    state: str,
    *,
    run_id: str | None = None,
    request_id: str | None = None,
    bronze_id: str | None = None,
    http_status: int | None = None,
    error: str | None = None,
) -> None:
    """Upsert where one source of a case stands (read by the status endpoint)."""
    conn.execute("SELECT public.ensure_case(%s)", (case_id,))
    conn.execute(
        """INSERT INTO public.case_ingestion_status
               (case_id, source, state, request_id, dagster_run_id, bronze_id, http_status, error, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
           ON CONFLICT (case_id, source) DO UPDATE SET
               state = excluded.state, request_id = excluded.request_id,
               dagster_run_id = excluded.dagster_run_id,
               bronze_id = coalesce(excluded.bronze_id, case_ingestion_status.bronze_id),
               http_status = excluded.http_status, error = excluded.error, updated_at = now()""",
        (case_id, source, state, request_id, run_id, bronze_id, http_status, error),
    )
