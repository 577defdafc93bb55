"""Named asset jobs: what the trigger, the sensor and the schedules submit (the GraphQL client
has no asset-selection argument, so every submission names one of these)."""

from __future__ import annotations

import dagster as dg

from dagster_pipeline.assets.bronze_assets import bronze_case_extraction, bronze_pdf_archive

# In-process: a run is one process working through its batch with threads, which starts in a
# fraction of the time a per-step subprocess would (multiprocess executor).
case_ingestion_job = dg.define_asset_job(
    "case_ingestion_job",
    selection=dg.AssetSelection.assets(bronze_case_extraction),
    executor_def=dg.in_process_executor,
    description="Extract AT, WI, TRT and the interview of the cases in the run config into bronze "
    "(silver and gold follow by SQL trigger). Config: ops.bronze_case_extraction.config.case_ids.",
    tags={"medallion/job": "ingestion"},
)

pdf_archive_job = dg.define_asset_job(
    "pdf_archive_job",
    selection=dg.AssetSelection.assets(bronze_pdf_archive),
    executor_def=dg.in_process_executor,
    description="Archive the transcript PDFs of the cases in the run config (ops.bronze_pdf_archive.config).",
    tags={"medallion/job": "pdf_archive"},
)

health_check_job = dg.define_asset_job(
    "health_check_job",
    selection=dg.AssetSelection.groups("monitoring"),
    executor_def=dg.in_process_executor,
    description="Monitoring assets and their checks (bronze->silver->gold health, business functions).",
    tags={"medallion/job": "health_check"},
)

MONITORED_JOBS = [case_ingestion_job, pdf_archive_job, health_check_job]
