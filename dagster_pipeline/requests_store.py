"""SQL on `extraction_requests`: what a user (or the sensor, or the refresh schedule) asked for.

Lifecycle: queued -> submitted (a Dagster run id is known) -> running (the run claimed it)
-> complete | partial | failed; or cancelled. One active request per case (unique index).
The run claims a request atomically, so a request is worked by one run only. A request whose
run died (or never came) goes back to queued for a new attempt (requeue_or_fail), at most
MEDALLION_MAX_REQUEST_ATTEMPTS times; the case sensor's reconciliation finds those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

ACTIVE = ("queued", "submitted", "running")
# The error text of a request put back for a new attempt: such a row belongs to the case sensor's
# reconciliation (one-case run, key <request_id>:<attempts>), never to its pending scan.
RETRY_PREFIX = "interrupted, retrying: "


REQUEST_COLUMNS = ("request_id, case_id, case_number, status, force, requested_by, origin, dagster_run_id,"
                   " error, attempts, requested_at, submitted_at, started_at, finished_at, updated_at")

# One statement records a request: the case row (created if new; its number filled in if it had
# none), then either the case's active request (reused, unless force) or a new queued one; the
# row comes back with `created`. No row lock is taken on the reuse path (ON CONFLICT DO NOTHING on
# the case, a plain read of the active request), so 50 clicks on one case do not queue behind
# each other. An empty result means a concurrent request for the same case won the unique index
# between our read and our insert: run it again and it returns that request.
RECORD_REQUEST_SQL = f"""
WITH new_case AS (
    INSERT INTO public.cases (case_id, case_number) VALUES (%(case_id)s::text, %(case_number)s::text)
    ON CONFLICT (case_id) DO NOTHING
    RETURNING case_id
), named AS (
    UPDATE public.cases SET case_number = %(case_number)s::text, updated_at = now()
    WHERE case_id = %(case_id)s::text AND case_number IS NULL AND %(case_number)s::text IS NOT NULL
    RETURNING case_id
), active AS (
    SELECT {REQUEST_COLUMNS} FROM public.extraction_requests
    WHERE case_id = %(case_id)s::text AND status IN ('queued', 'submitted', 'running') AND NOT %(force)s::boolean
    ORDER BY requested_at DESC LIMIT 1
), created AS (
    INSERT INTO public.extraction_requests (case_id, case_number, force, origin, requested_by)
    SELECT %(case_id)s::text, %(case_number)s::text, %(force)s::boolean, %(origin)s::text, %(requested_by)s::text
    WHERE NOT EXISTS (SELECT 1 FROM active)
    ON CONFLICT (case_id) WHERE status IN ('queued', 'submitted', 'running') AND NOT force DO NOTHING
    RETURNING {REQUEST_COLUMNS}
)
SELECT true AS created, {REQUEST_COLUMNS} FROM created
UNION ALL
SELECT false AS created, {REQUEST_COLUMNS} FROM active
"""
RECORD_ATTEMPTS = 3

_REQUEST_COLUMN_NAMES = [c.strip() for c in REQUEST_COLUMNS.split(",")]

# Group commit: many requests in ONE statement (one round trip, one WAL flush), with the answers
# RECORD_REQUEST_SQL would give run one after the other in the order given. plan_batch decides in
# Python what does not depend on the database: within a batch, a request that is not forced and
# follows another request for the same case returns what that one returned (created = false), so
# the statement gets at most one unforced request per case (the case's first in the batch: it is
# deduplicated against the database exactly as RECORD_REQUEST_SQL does) plus every forced one
# (each creates a request). Per case, the number kept is the first non-null one given (what the
# sequence of single statements leaves). Requests created for one case in one batch get
# requested_at one microsecond apart, in order, so "the latest request" stays the last one asked
# for. Rows come back with `ord` (1-based position in the statement's arrays); an unforced
# request that lost the unique index to a concurrent transaction has no row: run it again.
RECORD_REQUESTS_BATCH_SQL = f"""
WITH input AS (
    SELECT * FROM unnest(%(case_id)s::text[], %(case_number)s::text[], %(force)s::boolean[], %(origin)s::text[],
                         %(requested_by)s::text[])
    WITH ORDINALITY AS t(case_id, case_number, force, origin, requested_by, ord)
), case_rows AS (  -- every request of the batch, also those answered in Python: their case numbers count
    SELECT case_id, (array_agg(case_number ORDER BY ord) FILTER (WHERE case_number IS NOT NULL))[1] AS case_number
    FROM unnest(%(all_case_id)s::text[], %(all_case_number)s::text[]) WITH ORDINALITY AS a(case_id, case_number, ord)
    GROUP BY case_id
), new_case AS (
    INSERT INTO public.cases (case_id, case_number)
    SELECT case_id, case_number FROM case_rows ORDER BY case_id
    ON CONFLICT (case_id) DO NOTHING
    RETURNING case_id
), named AS (
    UPDATE public.cases c SET case_number = r.case_number, updated_at = now()
    FROM case_rows r
    WHERE c.case_id = r.case_id AND c.case_number IS NULL AND r.case_number IS NOT NULL
    RETURNING c.case_id
), active AS (
    SELECT DISTINCT ON (i.ord) i.ord, {", ".join("e." + c for c in _REQUEST_COLUMN_NAMES)}
    FROM input i JOIN public.extraction_requests e
      ON e.case_id = i.case_id AND e.status IN ('queued', 'submitted', 'running')
    WHERE NOT i.force
    ORDER BY i.ord, e.requested_at DESC
), to_create AS (
    SELECT gen_random_uuid() AS request_id, i.*,
           now() + (row_number() OVER (PARTITION BY i.case_id ORDER BY i.ord) - 1) * interval '1 microsecond'
             AS requested_at
    FROM input i
    WHERE i.force OR NOT EXISTS (SELECT 1 FROM active a WHERE a.ord = i.ord)
), created AS (
    INSERT INTO public.extraction_requests (request_id, case_id, case_number, force, origin, requested_by,
                                            requested_at)
    SELECT request_id, case_id, case_number, force, origin, requested_by, requested_at
    FROM to_create ORDER BY case_id, ord
    ON CONFLICT (case_id) WHERE status IN ('queued', 'submitted', 'running') AND NOT force DO NOTHING
    RETURNING {REQUEST_COLUMNS}
)
SELECT t.ord, true AS created, {", ".join("c." + c for c in _REQUEST_COLUMN_NAMES)}
FROM created c JOIN to_create t ON t.request_id = c.request_id
UNION ALL
SELECT a.ord, false AS created, {", ".join("a." + c for c in _REQUEST_COLUMN_NAMES)} FROM active a
"""


@dataclass(frozen=True)
class BatchPlan:
    """What goes into RECORD_REQUESTS_BATCH_SQL for a list of requests, and where each request's
    answer comes from: `sent` are the positions (in the given list) that are in the statement,
    `source[i]` the position whose answer request i gets (i itself when it is sent)."""

    params: dict[str, list]
    sent: list[int]
    source: list[int]


def plan_batch(requests: Sequence[Mapping[str, Any]]) -> BatchPlan:
    """requests: dicts with case_id, case_number, force, origin, requested_by (in arrival order)."""
    sent: list[int] = []
    source: list[int] = []
    last_sent: dict[str, int] = {}  # case id -> position of its latest request in the statement
    for i, req in enumerate(requests):
        case_id = req["case_id"]
        if req["force"] or case_id not in last_sent:
            last_sent[case_id] = i
            sent.append(i)
        source.append(last_sent[case_id])
    params: dict[str, list] = {key: [requests[i][key] for i in sent]
                               for key in ("case_id", "case_number", "force", "origin", "requested_by")}
    params["all_case_id"] = [req["case_id"] for req in requests]
    params["all_case_number"] = [req["case_number"] for req in requests]
    return BatchPlan(params=params, sent=sent, source=source)


def resolve_batch(plan: BatchPlan, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
    """One answer per request of the plan: the request row with `created`, or None for a request
    that lost a race with a concurrent transaction (run it again)."""
    by_sent: dict[int, Mapping[str, Any]] = {}
    for row in rows:
        by_sent[plan.sent[int(row["ord"]) - 1]] = row
    answers: list[dict[str, Any] | None] = []
    for i, src in enumerate(plan.source):
        row = by_sent.get(src)
        if row is None:
            answers.append(None)
            continue
        answer = {k: v for k, v in row.items() if k != "ord"}
        if src != i:
            answer["created"] = False  # the same case asked again in this batch: the request above is active
        answers.append(answer)
    return answers


def record_requests(conn: psycopg.Connection, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sync: record many requests in one statement (RECORD_REQUESTS_BATCH_SQL; bulk triggers),
    each answered as RECORD_REQUEST_SQL would, in order. Requests that lost a race run again."""
    answers: list[dict[str, Any] | None] = [None] * len(requests)
    todo = list(range(len(requests)))
    for _ in range(RECORD_ATTEMPTS):
        if not todo:
            break
        plan = plan_batch([requests[i] for i in todo])
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(RECORD_REQUESTS_BATCH_SQL, plan.params, prepare=False)  # see DagsterTrigger._record_batch
            rows = cur.fetchall()
        for i, answer in zip(todo, resolve_batch(plan, rows), strict=True):
            answers[i] = answer
        todo = [i for i in todo if answers[i] is None]
    if todo:
        raise RuntimeError(f"could not record an extraction request for case {requests[todo[0]]['case_id']}")
    return answers  # type: ignore[return-value]


def create_or_reuse_request(conn: psycopg.Connection, case_id: str, *, origin: str = "cli",
                            requested_by: str | None = None, case_number: str | None = None,
                            force: bool = False) -> tuple[str, bool]:
    """(request_id, created): the case's active request, or a new queued one. With force, always
    a new one (the unique index leaves forced requests out). RECORD_REQUEST_SQL is the one way
    requests are made: the API runs it on its async pool, the CLI, the sensor and the tests here."""
    params = {"case_id": case_id, "case_number": case_number, "force": force, "origin": origin,
              "requested_by": requested_by}
    for _ in range(RECORD_ATTEMPTS):
        row = conn.execute(RECORD_REQUEST_SQL, params).fetchone()
        if row:
            return str(row[1]), bool(row[0])
    raise RuntimeError(f"could not record an extraction request for case {case_id}")


def mark_submitted(conn: psycopg.Connection, request_id: str, run_id: str) -> None:
    """queued -> submitted with its run id; also records the run id on a request the API already
    marked submitted (it does so before calling Dagster). A run that already claimed the request
    (running) is left alone."""
    conn.execute(
        "UPDATE public.extraction_requests SET status = 'submitted', dagster_run_id = %s,"
        " submitted_at = coalesce(submitted_at, now()), updated_at = now(), error = NULL"
        " WHERE request_id = %s AND (status = 'queued' OR (status = 'submitted' AND dagster_run_id IS NULL))",
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


def fail_active_for_run(conn: psycopg.Connection, run_id: str, error: str,
                        max_attempts: int | None = None) -> list[tuple[str, str]]:
    """A run that failed while it still held requests (submitted/running): its process died or
    was failed by run monitoring before it could finish them (a case the run finished is never
    active). Each gets another attempt (requeued; the case sensor launches it under run key
    `<request_id>:<attempt>`), or, past max_attempts, becomes failed with the reason.
    Returns [(request_id, case_id)] of those failed."""
    rows = conn.execute(
        "SELECT request_id::text FROM public.extraction_requests"
        " WHERE dagster_run_id = %s AND status IN ('submitted', 'running')",
        (run_id,),
    ).fetchall()
    failed = []
    for (request_id,) in rows:
        outcome = requeue_or_fail(conn, request_id, f"the run {run_id} ended before finishing it: {error}",
                                  expect_run_id=run_id, max_attempts=max_attempts)
        if outcome and outcome[0] == "failed":
            failed.append((request_id, outcome[1]))
    return failed


def fail_queued(conn: psycopg.Connection, request_ids: list[str], run_id: str, error: str,
                max_attempts: int | None = None) -> int:
    """Requests a run was launched for but never claimed (it died before starting): requeued for
    a new attempt with this run recorded (so the case sensor's reconciliation relaunches them
    although they are behind its cursor), or failed past max_attempts. Returns how many failed."""
    if not request_ids:
        return 0
    rows = conn.execute(
        "UPDATE public.extraction_requests SET dagster_run_id = %s, updated_at = now()"
        " WHERE request_id::text = ANY(%s) AND status = 'queued' RETURNING request_id::text",
        (run_id, request_ids),
    ).fetchall()
    failed = 0
    for (request_id,) in rows:
        outcome = requeue_or_fail(conn, request_id, f"the run {run_id} died before starting: {error}",
                                  expect_run_id=run_id, max_attempts=max_attempts, statuses=("queued",))
        failed += bool(outcome and outcome[0] == "failed")
    return failed


def requeue_or_fail(conn: psycopg.Connection, request_id: str, reason: str, *, expect_run_id: str | None,
                    max_attempts: int | None = None,
                    statuses: tuple[str, ...] = ("submitted", "running")) -> tuple[str, str] | None:
    """An interrupted request (its run died, vanished or never came): back to `queued` for a new
    attempt (attempts + 1, so the retry's run key `<request_id>:<attempts>` is new), or `failed`
    with the reason once it has used max_attempts. Only if it is still in one of `statuses` with
    the run id seen (None: no run id), so a concurrent claim or finish wins.
    Returns (new status, case_id), or None when the row had moved on."""
    if max_attempts is None:
        from dagster_pipeline.settings import get_pipeline_settings

        max_attempts = get_pipeline_settings().max_request_attempts
    row = conn.execute(
        "UPDATE public.extraction_requests SET"
        " status = CASE WHEN attempts + 1 >= %(max)s THEN 'failed' ELSE 'queued' END,"
        " attempts = attempts + 1,"
        " error = CASE WHEN attempts + 1 >= %(max)s"
        "   THEN 'gave up after ' || (attempts + 1) || ' attempts; last: ' || %(reason)s"
        "   ELSE %(prefix)s || %(reason)s END,"
        " finished_at = CASE WHEN attempts + 1 >= %(max)s THEN now() END,"
        " submitted_at = NULL, updated_at = now()"
        " WHERE request_id::text = %(rid)s AND status = ANY(%(statuses)s)"
        " AND dagster_run_id IS NOT DISTINCT FROM %(run)s"
        " RETURNING status, case_id",
        {"max": max_attempts, "reason": reason[:500], "prefix": RETRY_PREFIX, "rid": request_id,
         "statuses": list(statuses), "run": expect_run_id},
    ).fetchone()
    return (row[0], row[1]) if row else None


def interrupted_candidates(conn: psycopg.Connection, *, min_age_s: int, no_run_age_s: int,
                           cursor: tuple[str, str] | None, limit: int) -> list[dict]:
    """Requests that may have been left behind by a run or a submitter that died:
    * submitted/running with a run id, not touched for min_age_s (is the run still alive?);
    * submitted without a run id for no_run_age_s (the API died between marking and submitting);
    * queued for a new attempt (requeue_or_fail: RETRY_PREFIX, or a run id);
    * queued without a run id for no_run_age_s and behind the sensor's cursor (put back by the
      API after the sensor had passed them: the sensor's pending scan will never see them).
    [{request_id, case_id, status, run_id, attempts}] oldest first."""
    params: dict = {"age": min_age_s, "no_run_age": no_run_age_s, "limit": limit, "prefix": RETRY_PREFIX}
    behind = "false"
    if cursor:
        behind = "(requested_at, request_id::text) <= (%(ts)s::timestamptz, %(rid)s)"
        params.update(ts=cursor[0], rid=cursor[1])
    rows = conn.execute(
        "SELECT request_id::text, case_id, status, dagster_run_id, attempts FROM public.extraction_requests"
        " WHERE (status IN ('submitted', 'running') AND dagster_run_id IS NOT NULL"
        "        AND updated_at < now() - make_interval(secs => %(age)s))"
        "    OR (status = 'submitted' AND dagster_run_id IS NULL"
        "        AND updated_at < now() - make_interval(secs => %(no_run_age)s))"
        "    OR (status = 'queued' AND (dagster_run_id IS NOT NULL OR starts_with(coalesce(error, ''), %(prefix)s)))"
        "    OR (status = 'queued' AND dagster_run_id IS NULL"
        "        AND updated_at < now() - make_interval(secs => %(no_run_age)s) AND " + behind + ")"
        " ORDER BY updated_at LIMIT %(limit)s",
        params,
    ).fetchall()
    return [{"request_id": r[0], "case_id": r[1], "status": r[2], "run_id": r[3], "attempts": r[4]}
            for r in rows]


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
    """Queued requests never run yet, older than min_age_s, after the cursor (requested_at iso, request_id).
    Returns [(requested_at iso, request_id, case_id)] oldest first."""
    params: dict = {"age": min_age_s, "limit": limit, "prefix": RETRY_PREFIX}
    where = ""
    if after:
        where = " AND (requested_at, request_id::text) > (%(ts)s::timestamptz, %(rid)s)"
        params.update(ts=after[0], rid=after[1])
    rows = conn.execute(
        "SELECT requested_at, request_id::text, case_id FROM public.extraction_requests"
        " WHERE status = 'queued' AND dagster_run_id IS NULL"
        " AND NOT starts_with(coalesce(error, ''), %(prefix)s)"  # a retry: the reconciliation's
        " AND requested_at < now() - make_interval(secs => %(age)s)"
        + where
        + " ORDER BY requested_at, request_id::text LIMIT %(limit)s",
        params,
    ).fetchall()
    return [(r[0].isoformat(), r[1], r[2]) for r in rows]


def ids(values: Iterable[str]) -> list[str]:
    return [v for v in values if v]
