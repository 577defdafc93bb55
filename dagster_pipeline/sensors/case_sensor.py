"""The durability net: queued extraction requests (and new cases nobody asked for yet) become
runs. A request recorded while Dagster was down runs once Dagster is back.

* Pending requests: `extraction_requests` rows still `queued` after MEDALLION_SENSOR_MIN_AGE_SECONDS
  (younger ones are being submitted by the API / CLI right now), oldest first, in batches of
  MEDALLION_BATCH_SIZE cases per run.
* New cases: `cases` rows with no bronze and no request at all.

The cursor (small JSON: the last (requested_at, request_id) and (created_at, case_id) seen) makes
each row be emitted once; each RunRequest's run_key is derived from the ids it carries, so even
a replayed tick cannot launch the same batch twice; and the run claims each request atomically
(dagster_pipeline/requests_store.py).

Reconciliation (every tick, before the above): requests left behind by something that died.
Dagster decides whether a run is alive (run monitoring, dagster.yaml: a dead worker, a start
timeout or max runtime fails the run); this step decides what happens to the request:
* `submitted`/`running` whose run is finished (SUCCESS/FAILURE/CANCELED without having finished
  the request) or unknown to this instance;
* `submitted` with no run id for MEDALLION_RECONCILE_AFTER_SECONDS (the API died between marking
  it and calling Dagster);
* `queued` with a run id (requeued by the run-failure sensor or by this step);
* `queued` behind the cursor for MEDALLION_RECONCILE_AFTER_SECONDS (put back after the sensor
  passed it).
Unless a queued or in-progress run of this job carries it, such a request gets a new attempt:
`queued`, attempts + 1, and a one-case run with run key `<request_id>:<attempts>` (deterministic:
a replayed tick launches nothing twice; a later interruption gets a new key). After
MEDALLION_MAX_REQUEST_ATTEMPTS it is `failed` with the reason instead. These updates are the only
writes the sensor makes (conditional on the row being unchanged, so a concurrent claim wins).
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


ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _run_request_ids(run: dg.DagsterRun) -> set[str]:
    ids = {run.tags["request_id"]} if run.tags.get("request_id") else set()
    config = (run.run_config or {}).get("ops", {}).get("bronze_case_extraction", {}).get("config", {})
    return ids | {r for r in config.get("request_ids", []) or [] if r}


def active_runs(instance: dg.DagsterInstance) -> tuple[set[str], set[str]]:
    """(run ids, request ids) of the ingestion runs queued or in progress."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=case_ingestion_job.name, statuses=ACTIVE_RUN_STATUSES)
    )
    return {r.run_id for r in runs}, set().union(*(_run_request_ids(r) for r in runs)) if runs else set()


def reconcile(context: dg.SensorEvaluationContext, conn, cursor: dict, s) -> list[dg.RunRequest]:
    """Requests left behind by a dead run or submitter -> new attempts (see the module doc)."""
    candidates = requests_store.interrupted_candidates(
        conn,
        min_age_s=s.sensor_min_age_s,
        no_run_age_s=s.reconcile_after_s,
        cursor=tuple(cursor["req"]) if cursor.get("req") else None,
        limit=s.sensor_max_runs_per_tick,
    )
    if not candidates:
        return []
    instance = context.instance
    run_ids, carried = active_runs(instance)
    out: list[dg.RunRequest] = []
    for c in candidates:
        rid, run_id = c["request_id"], c["run_id"]
        if rid in carried or (run_id and run_id in run_ids):
            continue  # a live (or queued) run has it; run monitoring watches that run
        attempts = c["attempts"]
        if c["status"] in ("submitted", "running"):
            if run_id:
                run = instance.get_run_by_id(run_id)
                reason = (
                    f"its run {run_id} ended ({run.status.value}) without finishing it"
                    if run
                    else f"its run {run_id} is not known to Dagster"
                )
            else:
                reason = "it was never handed to Dagster (the submitter stopped)"
            outcome = requests_store.requeue_or_fail(
                conn, rid, reason, expect_run_id=run_id, max_attempts=s.max_request_attempts,
                statuses=(c["status"],),
            )
            conn.commit()
            if outcome is None:
                continue
            context.log.warning(f"request {rid} (case {c['case_id']}): {reason} -> {outcome[0]}")
            if outcome[0] != "queued":
                continue
            attempts += 1
        out.append(
            dg.RunRequest(
                run_key=f"{rid}:{attempts}",
                run_config=case_batch_run_config([c["case_id"]], [rid], origin="sensor"),
                tags={**case_run_tags([c["case_id"]], [rid], origin="sensor"), "medallion/attempt": str(attempts)},
            )
        )
    return out


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
        retries = reconcile(context, conn, cursor, s)
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
    run_requests += retries
    if not run_requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("no queued requests or new cases"), cursor=json.dumps(cursor)
        )
    context.log.info(
        f"{len(pending)} queued request(s), {len(fresh)} new case(s), {len(retries)} interrupted request(s)"
        f" -> {len(run_requests)} run(s)"
    )
    return dg.SensorResult(run_requests=run_requests, cursor=json.dumps(cursor))
