"""A case's sandbox payloads stored the way an extraction stores them: each source through the
bronze writer (the SQL triggers build silver and gold) with its ingestion state; a source the
sandbox has no data for is recorded as no_data (404). Used by tests and benchmarks."""

from __future__ import annotations

import psycopg

from backend.app.services import data_saver
from sandbox import data as sandbox_data

PAYLOADS = {"at": sandbox_data.at_payload, "wi": sandbox_data.wi_payload, "trt": sandbox_data.trt_payload,
            "interview": sandbox_data.interview_payload}


def store_sandbox_case(conn: psycopg.Connection, case_id: str) -> None:
    """In the caller's transaction."""
    for source, build in PAYLOADS.items():
        payload = build(case_id)
        if payload is None:
            data_saver.set_source_state(conn, case_id, source, "no_data", http_status=404)
            continue
        saved = data_saver.save_bronze(conn, source, case_id, payload)
        data_saver.set_source_state(conn, case_id, source, "stored", bronze_id=saved.bronze_id, http_status=200)
