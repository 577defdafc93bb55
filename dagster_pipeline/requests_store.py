"""SQL on `extraction_requests`: what a user (or the sensor, or the refresh schedule) asked for.

Lifecycle: queued -> submitted (a Dagster run id is known) -> running (the run claimed it)
-> complete | partial | failed; or cancelled. One active request per case (unique index).
The run claims a request atomically, so a request is worked by one run only.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

ACTIVE = ("queued", "submitted", "running")


def create_or_reuse_request(conn: psycopg.Connection, case_id: str, *, origin: str = "cli",
                            requested_by: str | None = None, case_number: str | None = None,
                            force: bool = False) -> tuple[str, bool]:
    """(request_id, created): the case's active request, or a new queued one. With force, always
    a new one (the unique index leaves forced requests out). The one place requests are made:
    the API, the CLI and the tests all come through here."""
    conn.execute(
        "INSERT INTO public.cases (case_id, case_number) VALUES (%s, %s) ON CONFLICT (case_id) DO UPDATE"
        " SET case_number = excluded.case_number, updated_at = now()"
        " WHERE cases.case_number IS NULL AND excluded.case_number IS NOT NULL",
        (case_id, case_number),
    )
    for _ in range(3):
        if not force:
            row = conn.execute(
                "SELECT request_id FROM public.extraction_requests WHERE case_id = %s AND status = ANY(%s)"
                " ORDER BY requested_at DESC LIMIT 1", (case_id, list(ACTIVE))).fetchone()
            if row:
                return str(row[0]), False
        row = conn.execute(
            "INSERT INTO public.extraction_requests (case_id, case_number, force, origin, requested_by)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (case_id) WHERE status IN ('queued', 'submitted', 'running')"
            " AND NOT force DO NOTHING RETURNING request_id",
            (case_id, case_number, force, origin, requested_by),
        ).fetchone()
        if row:
            return str(row[0]), True
        # Lost a race with a concurrent request for the same case: return that one.
    raise RuntimeError(f"could not record an extraction request for case {case_id}")


def mark_submitted(conn: psycopg.Connection, request_id: str, run_id: str) -> None:
    """queued -> submitted. A run that already claimed the request (running) is left alone."""
    conn.execute(
        "UPDATE public.extraction_requests SET status = 'submitted', dagster_run_id = %s,"
        " submitted_at = now(), updated_at = now(), error = NULL"
        " WHERE request_id = %s AND status = 'queued'",
        (run_id, request_id),
    )


def claim(
    conn: psycopg.Connection, case_id: str, request_id: str | None, run_id: str, origin: str
) -> str | None:
    """Make this run the owner of the case's request; returns its id, or None when another run
    owns it or it is already finished (the case is then skipped by this run)."""
    conn.execute("SELECT public.ensure_case(%s)", (case_id,))
    claim_sql = (
        "UPDATE public.extraction_requests SET status = 'running', dagster_run_id = %(run)s,"
        " started_at = coalesce(started_at, now()), attempts = attempts + 1, updated_at = now(),"
        " error = NULL, finished_at = NULL"
        " WHERE request_id = %(rid)s AND (status IN ('queued', 'submitted')"
        "   OR (dagster_run_id = %(run)s AND status IN ('running', 'failed')))"
        " RETURNING request_id"
    )
    if request_id:
        row = conn.execute(claim_sql, {"run": run_id, "rid": request_id}).fetchone()
        return str(row[0]) if row else None
    active = conn.execute(
        "SELECT request_id FROM public.extraction_requests WHERE case_id = %s"
        " AND (status IN ('queued', 'submitted', 'running') OR (dagster_run_id = %s AND status = 'failed'))"
        " ORDER BY requested_at DESC LIMIT 1",
        (case_id, run_id),
    ).fetchone()
    if active:
        row = conn.execute(claim_sql, {"run": run_id, "rid": active[0]}).fetchone()
        return str(row[0]) if row else None
    row = conn.execute(
        "INSERT INTO public.extraction_requests (case_id, case_number, origin, status, dagster_run_id,"
        " started_at, attempts) VALUES (%s, %s, %s, 'running', %s, now(), 1)"
        " ON CONFLICT (case_id) WHERE status IN ('queued', 'submitted', 'running') AND NOT force DO NOTHING"
        " RETURNING request_id",
        (case_id, case_id, origin, run_id),
    ).fetchone()
    return str(row[0]) if row else None


def finish(conn: psycopg.Connection, request_id: str, status: str, error: str | None) -> None:
    conn.execute(
        "UPDATE public.extraction_requests SET status = %s, error = %s, finished_at = now(),"
        " updated_at = now()"
        " WHERE request_id = %s",
        (status, error, request_id),
    )


def fail_active_for_run(conn: psycopg.Connection, run_id: str, error: str) -> list[tuple[str, str]]:
    """A run that died: its requests still submitted/running become failed. [(request_id, case_id)]"""
    rows = conn.execute(
        "UPDATE public.extraction_requests SET status = 'failed', error = coalesce(error, %s),"
        " finished_at = now(), updated_at = now()"
        " WHERE dagster_run_id = %s AND status IN ('submitted', 'running') RETURNING request_id, case_id",
        (error, run_id),
    ).fetchall()
    return [(str(r[0]), r[1]) for r in rows]


def fail_queued(conn: psycopg.Connection, request_ids: list[str], run_id: str, error: str) -> int:
    """Requests a run was launched for but never claimed (it died before starting): failed,
    so they do not sit in `queued` behind the sensor's cursor."""
    if not request_ids:
        return 0
    rows = conn.execute(
        "UPDATE public.extraction_requests SET status = 'failed', error = %s, dagster_run_id = %s,"
        " finished_at = now(), updated_at = now() WHERE request_id::text = ANY(%s) AND status = 'queued'"
        " RETURNING request_id",
        (error, run_id, request_ids),
    ).fetchall()
    return len(rows)


def requests_for_run(conn: psycopg.Connection, run_id: str) -> list[tuple[str, str, str, str | None]]:
    """[(request_id, case_id, status, error)] of one Dagster run."""
    rows = conn.execute(
        "SELECT request_id, case_id, status, error FROM public.extraction_requests WHERE dagster_run_id = %s"
        " ORDER BY case_id",
        (run_id,),
    ).fetchall()
    return [(str(r[0]), r[1], r[2], r[3]) for r in rows]


def pending_requests(
    conn: psycopg.Connection, *, min_age_s: int, after: tuple[str, str] | None, limit: int
) -> list[tuple[str, str, str]]:
    """Queued requests older than min_age_s, after the cursor (requested_at iso, request_id).
    Returns [(requested_at iso, request_id, case_id)] oldest first."""
    params: dict = {"age": min_age_s, "limit": limit}
    where = ""
    if after:
        where = " AND (requested_at, request_id::text) > (%(ts)s::timestamptz, %(rid)s)"
        params.update(ts=after[0], rid=after[1])
    rows = conn.execute(
        "SELECT requested_at, request_id::text, case_id FROM public.extraction_requests"
        " WHERE status = 'queued' AND requested_at < now() - make_interval(secs => %(age)s)"
        + where
        + " ORDER BY requested_at, request_id::text LIMIT %(limit)s",
        params,
    ).fetchall()
    return [(r[0].isoformat(), r[1], r[2]) for r in rows]


def ids(values: Iterable[str]) -> list[str]:
    return [v for v in values if v]
