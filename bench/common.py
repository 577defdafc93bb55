"""Shared benchmark plumbing: a scratch database, timing, and the result record that
`make bench` (bench/run_all.py) turns into docs/benchmarks.md.

Every figure is reported beside a baseline measured in the same run on the same machine
(these machines are noisy; only ratios compare across runs).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from backend.app.config import VAR_DIR
from backend.app.db import embedded
from backend.app.db.migrate import MIGRATIONS_DIR, apply_migrations


@dataclass
class Figure:
    benchmark: str
    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    target: str | None = None
    met: bool | None = None
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def server_url() -> str:
    return os.environ.get("DATABASE_URL") or embedded.start(VAR_DIR / "pg-bench")


@contextmanager
def scratch_database(migrations: Path | None = None) -> Iterator[str]:
    """A fresh database with every migration applied; dropped afterwards. `migrations`: another
    directory of migration files (e.g. an older set, to compare old and new triggers)."""
    server = server_url()
    name = f"medallion_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = embedded.with_database(server, name)
    try:
        apply_migrations(url, migrations or MIGRATIONS_DIR, log=lambda _m: None)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
