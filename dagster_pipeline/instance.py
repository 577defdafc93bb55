"""Dagster instance configuration for `make run` (DAGSTER_HOME under var/).

Run, event-log and schedule storage live in Postgres (dagster-postgres), not SQLite, which
locks under parallel runs. The URL comes from DAGSTER_POSTGRES_URL at run time; the file
only names the variable, so no credential is ever written to disk.
"""

from __future__ import annotations

import argparse
import os
import sys
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
  config:
    dequeue_interval_seconds: 1
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    default_limit: 3
sensors:
  use_threads: true
  num_workers: 4
telemetry:
  enabled: false
"""


def sqlalchemy_url(url: str) -> str:
    """dagster-postgres with SQLAlchemy 2.x needs an explicit psycopg2 driver in the URL;
    with a bare postgresql:// URL runs stay stuck in NOT_STARTED."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def write_local_instance_config(dagster_home: Path) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(LOCAL_INSTANCE_YAML, encoding="utf-8")
    return path


PRODUCTION_INSTANCE_YAML = Path(__file__).with_name("dagster.production.yaml")

# Cross-run limits per upstream pool (ops tagged pool="..."). dagster.yaml only holds a default
# for all pools; explicit limits live in the instance's storage and are set here.
POOL_LIMITS = {
    "tiparser_api": int(os.environ.get("MEDALLION_POOL_TIPARSER_API", "3")),
    "casehelper_api": int(os.environ.get("MEDALLION_POOL_CASEHELPER_API", "3")),
}


def apply_pool_limits(instance, limits: dict[str, int] | None = None) -> dict[str, int]:
    """Set the per-pool limits on a DagsterInstance (idempotent); returns what was set."""
    limits = dict(limits or POOL_LIMITS)
    for pool, limit in limits.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
    return limits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Dagster instance helpers (DAGSTER_HOME must be set).")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("set-pool-limits", help="apply POOL_LIMITS (MEDALLION_POOL_* env) to the instance")
    args = parser.parse_args(argv)
    if args.command == "set-pool-limits":
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            applied = apply_pool_limits(instance)
        sys.stdout.write(f"pool limits set: {applied}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
