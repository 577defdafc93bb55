"""Dagster instance configuration for `make run` (DAGSTER_HOME under var/).

Run, event-log and schedule storage live in Postgres (dagster-postgres), not SQLite, which
locks under parallel runs. The URL comes from DAGSTER_POSTGRES_URL at run time; the file
only names the variable, so no credential is ever written to disk.
"""

from __future__ import annotations

from pathlib import Path

LOCAL_INSTANCE_YAML = """\
# Written by `make run` (dagster_pipeline/instance.py); edits are overwritten.
storage:
  postgres:
    postgres_url:
      env: DAGSTER_POSTGRES_URL_SQLALCHEMY
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
"""


def sqlalchemy_url(url: str) -> str:
    """dagster-postgres with SQLAlchemy 2.x needs an explicit psycopg2 driver in the URL;
    with a bare postgresql:// URL runs stay stuck in NOT_STARTED."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def write_local_instance_config(dagster_home: Path) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(LOCAL_INSTANCE_YAML, encoding="utf-8")
    return path
