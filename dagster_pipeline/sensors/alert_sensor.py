"""Run-failure alerting: when an ingestion, PDF or health-check run fails, post a short message
(case, source, the error in plain words, a link to the run) to ALERT_WEBHOOK_URL and record it
in `pipeline_alerts`; requests the run still held go back to the queue for another attempt
(the case sensor gives up after MEDALLION_MAX_REQUEST_ATTEMPTS)."""

import dagster as dg

from backend.app.config import get_settings
from dagster_pipeline import requests_store
from dagster_pipeline.alerts import Alert, run_url, send_alert
from dagster_pipeline.jobs import MONITORED_JOBS
from dagster_pipeline.resources.supabase_resource import SupabaseResource

MAX_CASE_ALERTS = 10


def _step_errors(context: dg.RunFailureSensorContext) -> list[str]:
    messages = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data and data.user_failure_data and data.user_failure_data.description:
            messages.append(data.user_failure_data.description)
        elif data and data.error:
            messages.append(data.error.message.strip().splitlines()[-1] if data.error.message else "")
    return [m for m in messages if m]


def _failed_sources(conn, case_id: str, run_id: str) -> str | None:
    rows = conn.execute(
        "SELECT source FROM public.case_ingestion_status WHERE case_id = %s AND dagster_run_id = %s"
        " AND state = 'failed' ORDER BY source",
        (case_id, run_id),
    ).fetchall()
    return ",".join(r[0] for r in rows) or None


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    monitored_jobs=MONITORED_JOBS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alert (webhook + pipeline_alerts) on every failed Medallion run.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, supabase: SupabaseResource) -> None:
    settings = get_settings()
    run = context.dagster_run
    url = run_url(settings.dagster_ui_url, run.run_id)
    step_errors = _step_errors(context)
    fallback = step_errors[0] if step_errors else (context.failure_event.message or "run failed")
    with supabase.connect() as conn:
        requests_store.fail_active_for_run(conn, run.run_id, fallback)
        config = (run.run_config or {}).get("ops", {}).get("bronze_case_extraction", {}).get("config", {})
        requests_store.fail_queued(
            conn,
            [r for r in config.get("request_ids", []) if r],
            run.run_id,
            fallback,  # fail_queued says "the run <id> died before starting: " itself
        )
        failed = [r for r in requests_store.requests_for_run(conn, run.run_id) if r[2] == "failed"]
        alerts: list[Alert] = []
        for _request_id, case_id, _status, error in failed[:MAX_CASE_ALERTS]:
            alerts.append(
                Alert(
                    "run_failure",
                    f"{run.job_name}: {error or fallback}",
                    case_id=case_id,
                    source=_failed_sources(conn, case_id, run.run_id),
                    dagster_run_id=run.run_id,
                    run_url=url,
                )
            )
        if len(failed) > MAX_CASE_ALERTS:
            alerts.append(
                Alert(
                    "run_failure",
                    f"{run.job_name}: {len(failed) - MAX_CASE_ALERTS} more case(s) failed in this run",
                    dagster_run_id=run.run_id,
                    run_url=url,
                )
            )
        if not alerts:
            alerts.append(
                Alert(
                    "run_failure",
                    f"{run.job_name}: {fallback}",
                    case_id=run.tags.get("case_id"),
                    dagster_run_id=run.run_id,
                    run_url=url,
                )
            )
        for alert in alerts:
            send_alert(conn, alert, settings.alert_webhook_url)
        conn.commit()
    context.log.info(f"run {run.run_id}: {len(alerts)} alert(s) recorded")
