"""The durability net: queued extraction requests (and new cases nobody asked for yet) become
runs. A request recorded while Dagster was down runs once Dagster is back.

* Pending requests: `extraction_requests` rows still `queued` after MEDALLION_SENSOR_MIN_AGE_SECONDS
  (younger ones are being submitted by the API / CLI right now), oldest first, in batches of
  MEDALLION_BATCH_SIZE cases per run.
* New cases: `cases` rows with no bronze and no request at all.

The cursor (small JSON: the last (requested_at, request_id) and (created_at, case_id) seen) makes
each row be emitted once; each RunRequest's run_key is derived from the ids it carries, so even
a replayed tick cannot launch the same batch twice; and the run claims each request atomically
(dagster_pipeline/requests_store.py). The sensor only reads: it never writes the database or the
Dagster instance.
"""

import hashlib
import json

import dagster as dg

from dagster_pipeline import requests_store
from dagster_pipeline.assets.bronze_assets import case_batch_run_config, case_run_tags
from dagster_pipeline.jobs import case_ingestion_job
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from dagster_pipeline.settings import get_pipeline_settings


def _key(prefix: str, ids: list[str]) -> str:
    return f"{prefix}:{hashlib.sha256(','.join(ids).encode()).hexdigest()[:24]}"


def load_cursor(raw: str | None) -> dict:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def new_cases(conn, *, min_age_s: int, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str]]:
    params: dict = {"age": min_age_s, "limit": limit}
    where = ""
    if after:
        where = " AND (c.created_at, c.case_id) > (%(ts)s::timestamptz, %(cid)s)"
        params.update(ts=after[0], cid=after[1])
    rows = conn.execute(
        "SELECT c.created_at, c.case_id FROM public.cases c"
        " WHERE c.created_at < now() - make_interval(secs => %(age)s)"
        + where
        + " AND NOT EXISTS (SELECT 1 FROM public.extraction_requests r WHERE r.case_id = c.case_id)"
        " AND NOT EXISTS (SELECT 1 FROM public.bronze_at_raw b WHERE b.case_id = c.case_id)"
        " AND NOT EXISTS (SELECT 1 FROM public.bronze_wi_raw b WHERE b.case_id = c.case_id)"
        " ORDER BY c.created_at, c.case_id LIMIT %(limit)s",
        params,
    ).fetchall()
    return [(r[0].isoformat(), r[1]) for r in rows]


@dg.sensor(
    name="case_sensor",
    job=case_ingestion_job,
    minimum_interval_seconds=get_pipeline_settings().sensor_interval_s,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Queued extraction requests and new cases without bronze -> batched ingestion runs.",
)
def case_sensor(context: dg.SensorEvaluationContext, supabase: SupabaseResource) -> dg.SensorResult:
    s = get_pipeline_settings()
    cursor = load_cursor(context.cursor)
    limit = s.batch_size * s.sensor_max_runs_per_tick
    run_requests: list[dg.RunRequest] = []
    with supabase.connect() as conn:
        pending = requests_store.pending_requests(
            conn,
            min_age_s=s.sensor_min_age_s,
            after=tuple(cursor["req"]) if cursor.get("req") else None,
            limit=limit,
        )
        fresh = (
            new_cases(
                conn,
                min_age_s=s.sensor_min_age_s,
                after=tuple(cursor["case"]) if cursor.get("case") else None,
                limit=limit,
            )
            if s.sensor_new_cases
            else []
        )
    for i in range(0, len(pending), s.batch_size):
        batch = pending[i : i + s.batch_size]
        request_ids = [b[1] for b in batch]
        case_ids = [b[2] for b in batch]
        run_requests.append(
            dg.RunRequest(
                run_key=_key("requests", request_ids),
                run_config=case_batch_run_config(case_ids, request_ids, origin="sensor"),
                tags=case_run_tags(case_ids, request_ids, origin="sensor"),
            )
        )
    if pending:
        cursor["req"] = [pending[-1][0], pending[-1][1]]
    for i in range(0, len(fresh), s.batch_size):
        case_ids = [c for _, c in fresh[i : i + s.batch_size]]
        run_requests.append(
            dg.RunRequest(
                run_key=_key("new-cases", case_ids),
                run_config=case_batch_run_config(case_ids, origin="sensor"),
                tags=case_run_tags(case_ids, origin="sensor"),
            )
        )
    if fresh:
        cursor["case"] = [fresh[-1][0], fresh[-1][1]]
    if not run_requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("no queued requests or new cases"), cursor=json.dumps(cursor)
        )
    context.log.info(
        f"{len(pending)} queued request(s), {len(fresh)} new case(s) -> {len(run_requests)} run(s)"
    )
    return dg.SensorResult(run_requests=run_requests, cursor=json.dumps(cursor))
