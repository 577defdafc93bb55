"""`make bench`: run every benchmark and write docs/benchmarks.md.

Each benchmark module exposes `run() -> list[Figure]`. A benchmark that fails is reported as
failed in the document (with its error) instead of stopping the others.
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from backend.app.config import PROJECT_ROOT
from bench.common import Figure

BENCHMARKS = [
    "bench.bench_triggers",  # issue 3: bronze insert -> gold complete
    "bench.bench_api_trigger",  # issue 5: trigger p99 at 50 clients
    "bench.bench_api_status",  # issue 5: status throughput and p99
    "bench.bench_dagster_e2e",  # issue 4: one case end to end through the running Dagster
    "bench.bench_dagster_backlog",  # issue 4: 500-case backlog throughput
]
OUTPUT = PROJECT_ROOT / "docs" / "benchmarks.md"


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
            f"{mem_gib:.0f} GiB, Python {platform.python_version()}")


def _commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def _load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def render(results: list[tuple[str, list[Figure] | str]], loads: dict[str, tuple[str, str]] | None = None) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run_all.py); do not edit by hand.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {_machine()}",
        f"- Commit: {_commit()}",
        "",
        "Each figure sits beside a baseline measured in the same run; the ratio (figure / baseline)",
        "is what compares across runs, since these machines are noisy.",
        "",
        *([f"Load average (1 min) before / after each benchmark, on {os.cpu_count()} cores: "
           + "; ".join(f"`{m.removeprefix('bench.')}` {a} / {b}" for m, (a, b) in loads.items()), ""]
          if loads else []),
        "| Benchmark | Figure | Value | Baseline | Baseline value | Ratio | Target | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for module, outcome in results:
        if isinstance(outcome, str):
            lines.append(f"| {module} | failed to run | - | - | - | - | - | no |")
            notes.append(f"- `{module}` failed: {outcome}")
            continue
        for f in outcome:
            met = "-" if f.met is None else ("yes" if f.met else "**no**")
            lines.append(f"| {f.benchmark} | {f.name} | {_fmt(f.value)} {f.unit} | {f.baseline_name or '-'} | "
                         f"{_fmt(f.baseline_value)} | {_fmt(f.ratio)} | {f.target or '-'} | {met} |")
            if f.notes:
                notes.append(f"- {f.benchmark} / {f.name}: {f.notes}")
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"


def main() -> int:
    results: list[tuple[str, list[Figure] | str]] = []
    loads: dict[str, tuple[str, str]] = {}
    for module_name in BENCHMARKS:
        sys.stdout.write(f"running {module_name} ...\n")
        sys.stdout.flush()
        before = _load_average()
        try:
            results.append((module_name, importlib.import_module(module_name).run()))
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            traceback.print_exc()
            results.append((module_name, f"{type(exc).__name__}: {exc}".splitlines()[0]))
        loads[module_name] = (before, _load_average())
    OUTPUT.write_text(render(results, loads), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT.relative_to(PROJECT_ROOT)}\n")
    return 0 if all(not isinstance(o, str) for _, o in results) else 1


if __name__ == "__main__":
    sys.exit(main())
