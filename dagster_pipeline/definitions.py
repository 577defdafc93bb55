"""The Definitions object: `dagster dev -m dagster_pipeline` (see dagster_pipeline/README.md)."""

from __future__ import annotations

import os

import dagster as dg

from backend.app.config import LOCAL_TIPARSER_API_KEY, get_settings
from dagster_pipeline.assets.bronze_assets import bronze_case_extraction, bronze_pdf_archive
from dagster_pipeline.assets.layer_specs import layer_specs
from dagster_pipeline.assets.monitoring_assets import monitoring_assets, monitoring_checks
from dagster_pipeline.jobs import case_ingestion_job, health_check_job, pdf_archive_job
from dagster_pipeline.resources.casehelper_resource import CaseHelperResource
from dagster_pipeline.resources.supabase_resource import SupabaseResource
from dagster_pipeline.resources.tiparser_resource import TiParserResource
from dagster_pipeline.schedules.health_check_schedule import case_refresh_schedule, health_check_schedule
from dagster_pipeline.sensors.alert_sensor import run_failure_alert_sensor
from dagster_pipeline.sensors.case_sensor import case_sensor
from dagster_pipeline.settings import deployment, get_pipeline_settings


def _secret(name: str, local_default: str | None) -> str | dg.EnvVar | None:
    """Secrets come from the environment (dg.EnvVar, resolved at run time, never stored in the
    run config). LOCAL only: the sandbox's well-known defaults when the variable is unset."""
    if os.environ.get(name) or deployment() != "LOCAL":
        return dg.EnvVar(name)
    return local_default


def build_resources() -> dict:
    """The environment switch: LOCAL talks to the sandboxes, STAGING/PROD to the real upstreams
    (backend.app.config.Settings refuses placeholder values outside local)."""
    settings = get_settings()
    pipeline = get_pipeline_settings()
    supabase_key = (
        "SUPABASE_SERVICE_ROLE_KEY" if os.environ.get("SUPABASE_SERVICE_ROLE_KEY") else "SUPABASE_KEY"
    )
    return {
        "supabase": SupabaseResource(
            database_url=dg.EnvVar("DATABASE_URL"),
            supabase_url=settings.supabase_url,
            service_role_key=dg.EnvVar(supabase_key) if settings.supabase_url else None,
            pdf_bucket=settings.pdf_storage_bucket,
            pdf_local_dir=str(settings.pdf_local_dir),
        ),
        "tiparser": TiParserResource(
            base_url=settings.tiparser_base_url,
            api_key=_secret("TIPARSER_API_KEY", LOCAL_TIPARSER_API_KEY),
            connect_timeout=settings.tiparser_connect_timeout,
            read_timeout=settings.tiparser_read_timeout,
            max_retries=pipeline.tiparser_max_retries,
            backoff_base=pipeline.backoff_base_s,
            max_connections=pipeline.tiparser_max_connections,
        ),
        "casehelper": CaseHelperResource(
            base_url=settings.casehelper_base_url,
            username=_secret("CASEHELPER_USERNAME", settings.casehelper_username),
            password=_secret("CASEHELPER_PASSWORD", settings.casehelper_password),
            app_type=settings.casehelper_app_type,
            api_key=_secret("CASEHELPER_API_KEY", None)
            if (os.environ.get("CASEHELPER_API_KEY") or settings.casehelper_api_key)
            else None,
            timeout=settings.casehelper_timeout,
            max_retries=pipeline.casehelper_max_retries,
            backoff_base=pipeline.backoff_base_s,
            max_connections=pipeline.casehelper_max_connections,
        ),
    }


defs = dg.Definitions(
    assets=[bronze_case_extraction, bronze_pdf_archive, *layer_specs, *monitoring_assets],
    asset_checks=monitoring_checks,
    jobs=[case_ingestion_job, pdf_archive_job, health_check_job],
    sensors=[case_sensor, run_failure_alert_sensor],
    schedules=[health_check_schedule, case_refresh_schedule],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
