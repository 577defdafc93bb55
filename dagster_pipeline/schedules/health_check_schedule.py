"""Schedules: the daily health checks, and the refresh that re-extracts active cases.

* `health_check_schedule` (MEDALLION_HEALTH_CHECK_CRON, default 06:00 daily) runs
  `health_check_job`: the monitoring assets and their checks.
* `case_refresh_schedule` (MEDALLION_REFRESH_CRON, default 02:00 daily; off with
  MEDALLION_REFRESH_ENABLED=false) re-extracts active cases: a request in the last
  MEDALLION_REFRESH_ACTIVE_DAYS days, none active now, the last one older than
  MEDALLION_REFRESH_MIN_AGE_HOURS. Batches of MEDALLION_BATCH_SIZE cases per run; run keys
  carry the tick time so a tick never launches twice.
"""

import os

import dagster as dg

from dagster_pipeline.assets.bronze_assets import case_batch_run_config, case_run_tags
from dagster_pipeline.jobs import case_ingestion_job, health_check_job
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from dagster_pipeline.settings import get_pipeline_settings

_s = get_pipeline_settings()

health_check_schedule = dg.ScheduleDefinition(
    name="health_check_schedule",
    job=health_check_job,
    cron_schedule=_s.health_check_cron,
    execution_timezone=_s.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily bronze/silver/gold health checks and business-function checks.",
)


def cases_due_for_refresh(conn, *, active_days: int, min_age_h: float, limit: int = 10_000) -> list[str]:
    rows = conn.execute(
        "SELECT case_id FROM public.extraction_requests GROUP BY case_id"
        " HAVING max(requested_at) > now() - make_interval(days => %s)"
        "   AND max(coalesce(finished_at, requested_at)) < now() - make_interval(secs => %s)"
        "   AND bool_and(status NOT IN ('queued', 'submitted', 'running'))"
        " ORDER BY case_id LIMIT %s",
        (active_days, int(min_age_h * 3600), limit),
    ).fetchall()
    return [r[0] for r in rows]


@dg.schedule(
    name="case_refresh_schedule",
    job=case_ingestion_job,
    cron_schedule=_s.refresh_cron,
    execution_timezone=_s.timezone,
    default_status=(
        dg.DefaultScheduleStatus.RUNNING
        if os.environ.get("MEDALLION_REFRESH_ENABLED", "true").lower() in ("1", "true", "yes")
        else dg.DefaultScheduleStatus.STOPPED
    ),
    description="Re-extract active cases on the configured cadence, in batches.",
)
def case_refresh_schedule(context: dg.ScheduleEvaluationContext, supabase: SupabaseResource):
    s = get_pipeline_settings()
    with supabase.connect() as conn:
        case_ids = cases_due_for_refresh(
            conn, active_days=s.refresh_active_days, min_age_h=s.refresh_min_age_h
        )
    if not case_ids:
        return dg.SkipReason("no active case is due for a refresh")
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
    return [
        dg.RunRequest(
            run_key=f"refresh:{tick}:{i // s.batch_size}",
            run_config=case_batch_run_config(case_ids[i : i + s.batch_size], origin="schedule"),
            tags=case_run_tags(case_ids[i : i + s.batch_size], origin="schedule"),
        )
        for i in range(0, len(case_ids), s.batch_size)
    ]
