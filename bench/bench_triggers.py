"""Bronze insert -> gold complete, through the real triggers, with realistic sandbox payloads.

Figures:
  * bulk, one connection: cases/s when a batch of cases (all four sources each) is inserted, one
    multi-row INSERT per source, triggers on; baseline: the same rows into copies of the bronze
    tables without triggers. The median of --rounds batches (new cases each), alternating with
    the baseline's: one batch moved 15-30% from one minute to the next on these machines.
  * bulk on both cores: the same, with the batch split over two connections inserting at once
    (one per core: how concurrent Dagster runs ingest); baseline: the same without triggers.
    This is the figure held to issue 3's ">= 200 cases/s in bulk on a 2-core machine"; the
    one-connection figure is what one core of the two manages (docs/05, section 3).
  * rebuild: cases/s of `rebuild_from_bronze()` over every case the run stored (what `make
    rebuild` does after a rule change); beside it, the one-connection bulk ingest above.
  * single case: median and p95 milliseconds to insert one case's four payloads in one
    transaction (gold complete at commit); baseline: the same without triggers.

    python -m bench.bench_triggers [--cases 500] [--rounds 3] [--single 60] [--migrations DIR]

Both sides send the payloads the same way: one INSERT per source whose parameters go in
binary format. (In text format psycopg escapes every quote of every payload in Python to build
the jsonb[] array literal: ~0.5 s per 100 cases of client work inside the timed region, which
made the no-trigger baseline look 3x slower than the database is.)
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from bench.common import Figure, Timer, median, percentile, scratch_database
from sandbox import data

SOURCES = ("at", "wi", "trt", "interview")
BENCH = "bronze -> gold triggers"


def _payloads(case_ids: list[str]) -> dict[str, list[tuple[str, Jsonb]]]:
    builders = {"at": data.at_payload, "wi": data.wi_payload, "trt": data.trt_payload,
                "interview": data.interview_payload}
    rows: dict[str, list[tuple[str, Jsonb]]] = {s: [] for s in SOURCES}
    for case_id in case_ids:
        for source in SOURCES:
            payload = builders[source](case_id)
            if payload is not None:
                rows[source].append((case_id, Jsonb(payload)))
    return rows


def _case_ids(start: int, count: int) -> list[str]:
    # Plain "normal" sandbox cases (ids outside the behaviour table).
    return [str(start + i) for i in range(count)]


def _make_plain_tables(conn: psycopg.Connection) -> None:
    for source in SOURCES:
        conn.execute(f"CREATE TABLE plain_bronze_{source}"
                     f" (LIKE bronze_{source}_raw INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING COMPRESSION)")
        conn.execute(f"ALTER TABLE plain_bronze_{source} ALTER COLUMN payload_hash DROP NOT NULL")


def _insert(conn: psycopg.Connection, table: str, rows: list[tuple[str, Jsonb]]) -> None:
    """One multi-row INSERT statement (executemany would send one statement per row, so the
    statement-level promotion trigger would run once per case instead of once per batch).
    %b: binary parameters, no Python-side escaping of the payload text (see the module doc)."""
    if rows:
        conn.execute(f"INSERT INTO {table} (case_id, raw_response)"
                     " SELECT * FROM unnest(%b::text[], %b::jsonb[])",
                     ([case_id for case_id, _ in rows], [payload for _, payload in rows]))


def _warm_up(conn: psycopg.Connection) -> None:
    """Five cases through every source, committed: caches and plans warm for what is measured next."""
    rows = _payloads(_case_ids(7_100_000, 5))
    for source in SOURCES:
        _insert(conn, f"bronze_{source}_raw", rows[source])
    conn.commit()


def _bulk(url: str, case_ids: list[str], *, triggers: bool) -> float:
    rows = _payloads(case_ids)
    with psycopg.connect(url) as conn:
        if not triggers:
            conn.execute("INSERT INTO cases (case_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
                         (case_ids,))
        with Timer() as timer:
            for source in SOURCES:
                table = f"bronze_{source}_raw" if triggers else f"plain_bronze_{source}"
                _insert(conn, table, rows[source])
            conn.commit()
    return len(case_ids) / timer.seconds


def _bulk_parallel(url: str, case_ids: list[str], *, triggers: bool, streams: int = 2) -> float:
    """_bulk's statements for `streams` disjoint parts of the batch, each on its own connection,
    all at once; cases/s from the first statement to the last commit."""
    parts = [case_ids[i::streams] for i in range(streams)]
    rows = [_payloads(part) for part in parts]
    conns = [psycopg.connect(url) for _ in parts]
    try:
        if not triggers:
            conns[0].execute("INSERT INTO cases (case_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
                             (case_ids,))
            conns[0].commit()
        start = threading.Barrier(len(parts) + 1)
        failures: list[BaseException] = []

        def ingest(conn: psycopg.Connection, part_rows: dict[str, list[tuple[str, Jsonb]]]) -> None:
            start.wait()
            try:
                for source in SOURCES:
                    _insert(conn, f"bronze_{source}_raw" if triggers else f"plain_bronze_{source}",
                            part_rows[source])
                conn.commit()
            except BaseException as exc:  # reported below: a failed stream must not pass as fast
                failures.append(exc)

        threads = [threading.Thread(target=ingest, args=(c, r)) for c, r in zip(conns, rows, strict=True)]
        for thread in threads:
            thread.start()
        with Timer() as timer:
            start.wait()
            for thread in threads:
                thread.join()
        if failures:
            raise failures[0]
    finally:
        for conn in conns:
            conn.close()
    return len(case_ids) / timer.seconds


def _single(url: str, case_ids: list[str], *, triggers: bool) -> list[float]:
    rows = _payloads(case_ids)
    by_case = {c: {s: [r for r in rows[s] if r[0] == c] for s in SOURCES} for c in case_ids}
    timings = []
    with psycopg.connect(url) as conn:
        for case_id in case_ids:
            with Timer() as timer:
                for source in SOURCES:
                    table = f"bronze_{source}_raw" if triggers else f"plain_bronze_{source}"
                    _insert(conn, table, by_case[case_id][source])
                conn.commit()
            timings.append(timer.seconds * 1000)
    return timings


def _rebuild(url: str) -> tuple[float, int]:
    """rebuild_from_bronze() of every case stored so far: (cases/s, cases)."""
    with psycopg.connect(url) as conn:
        with Timer() as timer:
            cases = len({case for (case,) in conn.execute("SELECT case_id FROM rebuild_from_bronze()")})
        conn.commit()
    return cases / timer.seconds, cases


def _errors(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM transformation_errors").fetchone()[0]


def run(cases: int = 500, single: int = 60, migrations: Path | None = None, rounds: int = 3) -> list[Figure]:
    rates: dict[str, list[float]] = {"plain": [], "triggers": [], "plain_parallel": [], "parallel": []}
    with scratch_database(migrations) as url:
        with psycopg.connect(url) as conn:
            _make_plain_tables(conn)
            conn.commit()
        # Warm up caches and plans on cases not measured.
        _bulk(url, _case_ids(7_100_000, 20), triggers=True)
        bases = [10_000_000 + i * 100_000 for i in range(rounds)]  # disjoint case ids per batch
        for base in bases:  # each side alternates with its baseline
            rates["plain"].append(_bulk(url, _case_ids(base + 7_200_000, cases), triggers=False))
            rates["triggers"].append(_bulk(url, _case_ids(base + 7_300_000, cases), triggers=True))
        for base in bases:
            rates["plain_parallel"].append(_bulk_parallel(url, _case_ids(base + 7_600_000, cases), triggers=False))
            rates["parallel"].append(_bulk_parallel(url, _case_ids(base + 7_700_000, cases), triggers=True))
        plain_single = _single(url, _case_ids(7_400_000, single), triggers=False)
        with_triggers = _single(url, _case_ids(7_500_000, single), triggers=True)
        rebuild_rate, rebuilt = _rebuild(url)
        errors = _errors(url)
    rate, plain_rate = median(rates["triggers"]), median(rates["plain"])
    parallel, plain_parallel = median(rates["parallel"]), median(rates["plain_parallel"])
    batches = {k: ", ".join(f"{v:.1f}" for v in values) for k, values in rates.items()}
    note = f"{cases} cases x 4 sources; transformation errors during the run: {errors}"
    return [
        # The target (>= 200 cases/s "on a 2-core machine") is the machine's: judged on both cores
        # below. One connection uses one core; its figure is kept to show how close that comes.
        Figure(BENCH, f"bulk ingest, one connection (one core), median of {rounds} batches (cases/s)", rate,
               "cases/s", "plain bronze insert, no triggers", plain_rate, None, None,
               f"{note}; batches {batches['triggers']} (plain {batches['plain']})"),
        Figure(BENCH, f"bulk ingest on both cores, 2 connections, median of {rounds} batches (cases/s)",
               parallel, "cases/s", "plain bronze insert, 2 connections", plain_parallel, ">= 200 cases/s",
               parallel >= 200, f"{note}; the batch split in two, inserted at once on two connections;"
               f" batches {batches['parallel']} (plain {batches['plain_parallel']})"),
        Figure(BENCH, "make rebuild: rebuild_from_bronze() of every stored case (cases/s)", rebuild_rate,
               "cases/s", "bulk ingest, one connection (above)", rate, None, None,
               f"{rebuilt} cases, one transaction on one connection; payloads unchanged since their ingestion"),
        Figure(BENCH, "single case, 4 payloads, median (ms)", median(with_triggers), "ms",
               "plain insert, median", median(plain_single), "<= 25 ms", median(with_triggers) <= 25),
        Figure(BENCH, "single case, 4 payloads, p95 (ms)", percentile(with_triggers, 95), "ms",
               "plain insert, p95", percentile(plain_single, 95), None, None),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="bulk batches per figure (the median is reported)")
    parser.add_argument("--single", type=int, default=60)
    parser.add_argument("--migrations", type=Path, default=None,
                        help="another directory of migrations (e.g. an older set, for old/new comparisons)")
    args = parser.parse_args(argv)
    figures = run(args.cases, args.single, args.migrations, args.rounds)
    sys.stdout.write(json.dumps([f.as_dict() for f in figures], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
