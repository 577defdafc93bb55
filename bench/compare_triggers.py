"""Old vs new triggers, finely interleaved, for a noisy machine.

Two scratch databases (old and new migration sets) side by side. Each round inserts, in turn
on each database, one bulk batch (one INSERT per source for --batch new cases) and --single
single cases (four payloads, one transaction), triggers on, and the same rows into the
no-trigger copies of the bronze tables. Other load on the machine then hits both sides alike;
the minimum over rounds is the figure least disturbed by it, the median the typical one. The
server process's CPU time per case (from /proc, so the server must run on this machine) is
also reported: it does not grow when other processes take the cores.

    python -m bench.compare_triggers [--old DIR] [--new DIR] [--rounds 8] [--batch 25] [--single 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

import psycopg

from backend.app.db.migrate import MIGRATIONS_DIR
from bench.bench_triggers import SOURCES, _insert, _make_plain_tables, _payloads
from bench.common import Timer, scratch_database
from bench.diff_triggers import _default_old


def _cpu_ms(conn: psycopg.Connection) -> float:
    """CPU time the connection's server process has used so far: unlike wall time, it does not
    grow when other processes take the cores. From /proc/PID/schedstat (nanoseconds on a CPU)
    where the kernel has it, else user + system time from /proc/PID/stat (one clock tick, 10 ms:
    too coarse for a few cases)."""
    schedstat = Path(f"/proc/{conn.info.backend_pid}/schedstat")
    if schedstat.exists():
        return int(schedstat.read_text().split()[0]) / 1e6
    fields = Path(f"/proc/{conn.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _bulk(conn: psycopg.Connection, ids: list[str], *, triggers: bool) -> float:
    rows = _payloads(ids)
    if not triggers:
        conn.execute("INSERT INTO cases (case_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (ids,))
        conn.commit()
    with Timer() as timer:
        for source in SOURCES:
            _insert(conn, f"bronze_{source}_raw" if triggers else f"plain_bronze_{source}", rows[source])
        conn.commit()
    return len(ids) / timer.seconds


def _single(conn: psycopg.Connection, ids: list[str], *, triggers: bool) -> list[float]:
    rows = _payloads(ids)
    out = []
    if not triggers:
        conn.execute("INSERT INTO cases (case_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (ids,))
        conn.commit()
    for case_id in ids:
        with Timer() as timer:
            for source in SOURCES:
                _insert(conn, f"bronze_{source}_raw" if triggers else f"plain_bronze_{source}",
                        [r for r in rows[source] if r[0] == case_id])
            conn.commit()
        out.append(timer.seconds * 1000)
    return out


def run(old_dir: Path, new_dir: Path, rounds: int, batch: int, single: int) -> str:
    results: dict[str, dict[str, list[float]]] = {
        side: {"bulk": [], "bulk_plain": [], "single": [], "single_plain": [], "bulk_cpu": [], "single_cpu": [],
               "single_round": []}
        for side in ("old", "new")}
    with scratch_database(old_dir) as old_url, scratch_database(new_dir) as new_url:
        conns = {"old": psycopg.connect(old_url), "new": psycopg.connect(new_url)}
        try:
            for conn in conns.values():
                _make_plain_tables(conn)
                conn.commit()
                _bulk(conn, [str(7_000_000 + i) for i in range(10)], triggers=True)  # warm-up
            next_id = 7_100_000
            for r in range(rounds):
                order = ("old", "new") if r % 2 == 0 else ("new", "old")
                for side in order:
                    conn = conns[side]
                    ids = [str(next_id + i) for i in range(batch)]
                    cpu = _cpu_ms(conn)
                    results[side]["bulk"].append(_bulk(conn, ids, triggers=True))
                    results[side]["bulk_cpu"].append((_cpu_ms(conn) - cpu) / batch)
                    results[side]["bulk_plain"].append(_bulk(conn, ids, triggers=False))
                    sids = [str(next_id + batch + i) for i in range(single)]
                    cpu = _cpu_ms(conn)
                    timings = _single(conn, sids, triggers=True)
                    results[side]["single"] += timings
                    results[side]["single_round"].append(statistics.median(timings))
                    results[side]["single_cpu"].append((_cpu_ms(conn) - cpu) / single)
                    results[side]["single_plain"] += _single(conn, sids, triggers=False)
                next_id += batch + single
            errors = {side: conns[side].execute("SELECT count(*) FROM transformation_errors").fetchone()[0]
                      for side in conns}
        finally:
            for conn in conns.values():
                conn.close()
    lines = [f"{rounds} rounds, bulk batches of {batch} cases, {single} single cases per round and side;"
             f" transformation errors old {errors['old']}, new {errors['new']}",
             f"{'':6s} {'bulk cases/s max / median':>26s} {'plain':>14s} {'ratio':>6s}"
             f" {'single ms min / median':>24s} {'plain':>12s} {'ratio':>6s}"]
    for side in ("old", "new"):
        v = results[side]
        bulk_max, bulk_med = max(v["bulk"]), statistics.median(v["bulk"])
        plain_max, plain_med = max(v["bulk_plain"]), statistics.median(v["bulk_plain"])
        s_min, s_med = min(v["single"]), statistics.median(v["single"])
        sp_min, sp_med = min(v["single_plain"]), statistics.median(v["single_plain"])
        lines.append(f"{side:6s} {bulk_max:12.1f} / {bulk_med:11.1f} {plain_max:6.0f} / {plain_med:5.0f}"
                     f" {bulk_med / plain_med:6.3f} {s_min:11.1f} / {s_med:10.1f} {sp_min:5.1f} / {sp_med:4.1f}"
                     f" {s_med / sp_med:6.1f}")
    lines.append("server CPU ms per case (the database process's own CPU time, robust to other load):")
    for side in ("old", "new"):
        v = results[side]
        lines.append(f"{side:6s} bulk median {statistics.median(v['bulk_cpu']):6.2f} (min {min(v['bulk_cpu']):6.2f}),"
                     f" single median {statistics.median(v['single_cpu']):6.2f} (min {min(v['single_cpu']):6.2f})")
    old_b, new_b = statistics.median(results["old"]["bulk"]), statistics.median(results["new"]["bulk"])
    old_s, new_s = statistics.median(results["old"]["single"]), statistics.median(results["new"]["single"])
    cpu = {side: (statistics.median(results[side]["bulk_cpu"]), statistics.median(results[side]["single_cpu"]))
           for side in results}
    lines.append(f"server CPU per case new/old: bulk x{cpu['old'][0] / cpu['new'][0]:.2f} less,"
                 f" single x{cpu['old'][1] / cpu['new'][1]:.2f} less")
    # paired: old and new ran back to back within each round, so their ratio cancels most of
    # the load that changes from round to round
    paired_bulk = statistics.median(n / o for n, o in zip(results["new"]["bulk"], results["old"]["bulk"], strict=True))
    paired_single = statistics.median(o / n for n, o in zip(results["new"]["single_round"],
                                                            results["old"]["single_round"], strict=True))
    lines.append(f"paired per round (median of new/old ratios): bulk x{paired_bulk:.2f} faster,"
                 f" single x{paired_single:.2f} faster")
    lines.append(f"new/old: bulk median x{new_b / old_b:.2f}, single median x{old_s / new_s:.2f} faster;"
                 f" best: bulk x{max(results['new']['bulk']) / max(results['old']['bulk']):.2f},"
                 f" single x{min(results['old']['single']) / min(results['new']['single']):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", type=Path, default=None, help="old migrations (default: current minus 011/012/015)")
    parser.add_argument("--new", type=Path, default=MIGRATIONS_DIR)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--single", type=int, default=5)
    args = parser.parse_args(argv)
    old_dir = args.old or _default_old()
    try:
        sys.stdout.write(run(old_dir, args.new, args.rounds, args.batch, args.single) + "\n")
    finally:
        if args.old is None:  # the temporary copy made by _default_old
            shutil.rmtree(old_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
