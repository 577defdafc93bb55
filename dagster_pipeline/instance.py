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

from dagster import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from sqlalchemy.exc import IntegrityError

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
# DefaultRunLauncher + a worker health check (the run worker's pid), so run monitoring can
# fail a run whose process died (dagster dev killed, OOM) instead of leaving it STARTED.
run_launcher:
  module: dagster_pipeline.instance
  class: LocalRunLauncher
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
  max_runtime_seconds: 3600
  poll_interval_seconds: 30
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


class LocalRunLauncher(DefaultRunLauncher):
    """Dagster's DefaultRunLauncher (one process per run, started by the code server) plus the
    worker health check the DefaultRunLauncher does not implement.

    Without it, run monitoring cannot tell that a STARTED run's process died (`dagster dev` or
    the machine killed, OOM): the run stays STARTED until max_runtime_seconds, and its extraction
    requests stay `running`. The run worker records its pid in its first engine event ("Started
    process for run (pid: N)"); the monitoring daemon (run_monitoring in dagster.yaml) calls
    check_run_worker_health every poll_interval_seconds and fails the run when that process is
    gone. Valid where the DefaultRunLauncher is: the daemon and the code server on one host. With
    the Docker or Kubernetes launchers, use theirs (they implement the same check).
    """

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        started = worker_pid(self._instance, run.run_id)
        if started is None:
            # No pid recorded (yet): say nothing; max_runtime_seconds still bounds the run.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "run worker pid not recorded yet")
        pid, started_at, exited = started
        if exited:
            return CheckRunHealthResult(
                WorkerStatus.FAILED, f"the run worker (pid {pid}) exited without ending the run"
            )
        if process_alive(pid, started_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.NOT_FOUND,
            f"the run worker process (pid {pid}) is gone: it was killed or the machine restarted",
        )


def worker_pid(instance, run_id: str) -> tuple[int, float, bool] | None:
    """(pid, timestamp of the 'Started process' event, whether the process reported its exit)."""
    from dagster import DagsterEventType

    found: tuple[int, float] | None = None
    exited = False
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        message = (entry.dagster_event.message or "") if entry.dagster_event else ""
        if message.startswith(("Started process for run", "Started process for resuming job")):
            data = entry.dagster_event.event_specific_data
            raw = getattr(data, "metadata", {}).get("pid") if data is not None else None
            value = getattr(raw, "value", raw)
            try:
                found = (int(str(value)), entry.timestamp)
                exited = False
            except (TypeError, ValueError):
                continue
        elif message.startswith("Process for run exited") and found and f"pid: {found[0]})" in message:
            exited = True
    return None if found is None else (found[0], found[1], exited)


def process_alive(pid: int, started_at: float) -> bool:
    """The process exists, is not a zombie, and is not a later process that reused the pid."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return proc.create_time() <= started_at + 5
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # cannot tell (permissions): do not fail a run on a guess


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

# Cross-run limit on the step that calls the upstreams (pool "tiparser_api": the four fetches of
# a case share one step so they overlap, CaseHelper included). Within a run, each client caps
# its calls in flight (MEDALLION_*_MAX_CONNECTIONS), so across runs an upstream sees at most
# (this limit) x (its max connections). dagster.yaml only holds a default for all pools;
# explicit limits live in the instance's storage and are set here.
POOL_LIMITS = {
    "tiparser_api": int(os.environ.get("MEDALLION_POOL_TIPARSER_API", "3")),
}


def apply_pool_limits(instance, limits: dict[str, int] | None = None) -> dict[str, int]:
    """Set the per-pool limits on a DagsterInstance (idempotent); returns what was set."""
    limits = dict(limits or POOL_LIMITS)
    for pool, limit in limits.items():
        try:
            instance.event_log_storage.set_concurrency_slots(pool, limit)
        except IntegrityError:
            # A running daemon created the pool's row (at dagster.yaml's default limit) between
            # Dagster's existence check and its insert; the row is there now, so this updates it.
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
