"""Submit case extractions to the running Dagster.

    python trigger_case_ingestion.py CASE_ID [CASE_ID ...]

For each case: record (or reuse) an `extraction_requests` row, submit one run of
`case_ingestion_job` tagged `case_id` and `request_id` through Dagster's GraphQL API (so it goes
through the run queue, the concurrency limits and the UI), mark the request `submitted` with
its run id, and print JSON (with MEDALLION_SUBMIT_CASES_PER_RUN > 1, several cases share a run):

    {"submitted": [{"case_id": ..., "request_id": ..., "run_id": ...}], "failed": [], "dagster_ui": ...}

When Dagster cannot be reached it exits with status 2 and a plain message; the requests stay
`queued` and the case sensor submits them once Dagster is back (nothing asked for is lost).

Importable without a subprocess (the API's background worker does this):

    from trigger_case_ingestion import submit_requests, DagsterUnavailable
    submit_requests([(case_id, request_id)], dagster_host="127.0.0.1", dagster_port=3000)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence

import httpx
import psycopg

JOB_NAME = "case_ingestion_job"
_CASE_ID = re.compile(r"^\d{1,12}$")


class DagsterUnavailable(RuntimeError):
    """Dagster's webserver did not answer. `.submitted` lists what went through before that."""

    def __init__(self, message: str, submitted: list[dict] | None = None) -> None:
        super().__init__(message)
        self.submitted = submitted or []


class SubmissionError(RuntimeError):
    """Dagster answered but refused the run (unknown job, invalid config): a deployment problem."""


def _database_url(database_url: str | None) -> str:
    if database_url:
        return database_url
    from backend.app.config import get_settings
    from backend.app.db.location import resolve_database_url

    return resolve_database_url(get_settings(), stop_on_exit=False)


def dagster_reachable(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        return httpx.get(f"http://{host}:{port}/server_info", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def submit_requests(
    requests: Sequence[tuple[str, str]],
    *,
    dagster_host: str,
    dagster_port: int,
    database_url: str | None = None,
    origin: str = "api",
    timeout: int = 30,
    cases_per_run: int | None = None,
) -> list[dict]:
    """Submit the (case_id, request_id) pairs; returns [{"case_id", "request_id", "run_id"}], one
    item per request.

    cases_per_run (default MEDALLION_SUBMIT_CASES_PER_RUN, 1): 1 is one run per request, tagged
    `case_id`/`request_id`; more groups the pairs, in order, into runs of up to that many cases
    (tagged `case_ids`, the request ids in the run config), which amortises Dagster's per-run
    process launch over a burst of clicks or a bulk call. Each request is marked `submitted` with
    its run id as soon as its run exists (a request the run already claimed is left `running`).
    Raises DagsterUnavailable when the webserver cannot be reached (requests not yet submitted
    stay `queued` for the case sensor)."""
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    from dagster_pipeline.assets.bronze_assets import case_batch_run_config, case_run_tags
    from dagster_pipeline.requests_store import mark_submitted

    if not requests:
        return []
    if not dagster_reachable(dagster_host, dagster_port):
        raise DagsterUnavailable(
            f"Dagster is not reachable at http://{dagster_host}:{dagster_port}; "
            "the request(s) stay queued and "
            "the case sensor will submit them when Dagster is back"
        )
    try:
        client = DagsterGraphQLClient(dagster_host, port_number=dagster_port, timeout=timeout)
    except DagsterGraphQLClientError as exc:
        raise DagsterUnavailable(f"Dagster is not reachable: {exc}") from exc
    if cases_per_run is None:
        from dagster_pipeline.settings import get_pipeline_settings

        cases_per_run = get_pipeline_settings().submit_cases_per_run
    size = max(1, cases_per_run)
    pairs = list(requests)
    submitted: list[dict] = []
    with psycopg.connect(_database_url(database_url)) as conn:
        for start in range(0, len(pairs), size):
            chunk = pairs[start : start + size]
            case_ids = [c for c, _ in chunk]
            request_ids = [r for _, r in chunk]
            try:
                run_id = client.submit_job_execution(
                    JOB_NAME,
                    run_config=case_batch_run_config(case_ids, request_ids, origin=origin),
                    tags=case_run_tags(case_ids, request_ids, origin=origin),
                )
            except DagsterGraphQLClientError as exc:
                if not dagster_reachable(dagster_host, dagster_port):
                    raise DagsterUnavailable(
                        f"Dagster stopped answering after {len(submitted)} submission(s): {exc}", submitted
                    ) from exc
                raise SubmissionError(
                    f"Dagster refused the run for case(s) {', '.join(case_ids)}: {exc}"
                ) from exc
            for case_id, request_id in chunk:
                mark_submitted(conn, request_id, run_id)
                submitted.append({"case_id": case_id, "request_id": request_id, "run_id": run_id})
            conn.commit()
    return submitted


def record_requests(
    case_ids: Sequence[str], *, database_url: str | None = None, origin: str = "cli"
) -> list[tuple[str, str]]:
    """A queued (or the already active) request per case: [(case_id, request_id)]."""
    from dagster_pipeline.requests_store import create_or_reuse_request

    out = []
    with psycopg.connect(_database_url(database_url)) as conn:
        for case_id in dict.fromkeys(case_ids):
            request_id, _created = create_or_reuse_request(conn, case_id, origin=origin)
            conn.commit()
            out.append((case_id, request_id))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from backend.app.config import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description="Submit case extractions to the running Dagster.")
    parser.add_argument("case_ids", nargs="+", metavar="CASE_ID", help="Logiqs case id (digits)")
    parser.add_argument("--dagster-host", default=settings.dagster_host)
    parser.add_argument("--dagster-port", type=int, default=settings.dagster_port)
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or the embedded Postgres")
    args = parser.parse_args(argv)

    bad = [c for c in args.case_ids if not _CASE_ID.match(c)]
    if bad:
        sys.stderr.write(f"error: case ids must be 1 to 12 digits: {', '.join(bad)}\n")
        return 64
    try:
        pairs = record_requests(args.case_ids, database_url=args.database_url, origin="cli")
    except psycopg.Error as exc:
        sys.stderr.write(f"error: could not record the request(s) in the database: {exc}\n")
        return 3
    try:
        submitted = submit_requests(
            pairs,
            dagster_host=args.dagster_host,
            dagster_port=args.dagster_port,
            database_url=args.database_url,
            origin="cli",
        )
    except DagsterUnavailable as exc:
        done = {s["request_id"] for s in exc.submitted}
        sys.stdout.write(
            json.dumps(
                {
                    "submitted": exc.submitted,
                    "queued": [{"case_id": c, "request_id": r} for c, r in pairs if r not in done],
                    "error": str(exc),
                },
                indent=2,
            )
            + "\n"
        )
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except SubmissionError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(
        json.dumps(
            {
                "submitted": submitted,
                "failed": [],
                "dagster_ui": f"{settings.dagster_ui_url.rstrip('/')}/runs",
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
