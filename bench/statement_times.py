"""Where one bulk statement per source spends its time, statement by statement (docs/05 section 12).

A scratch database, a warm-up, then one multi-row INSERT of --cases sandbox cases per source with
`auto_explain` logging every nested statement that takes at least --min-ms (a few dozen per
source: the loaders, their large statements and the gold refreshes, not the per-row foreign-key
queries, whose logging would cost more than they do). Prints the slowest --top per source, with
their durations in ms. On a noisy machine, compare two migration sets by running this
alternately on each (--migrations): a statement's own duration moves less than a whole run.

    python -m bench.statement_times [--cases 500] [--top 12] [--min-ms 2] [--migrations DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import psycopg

from bench.bench_triggers import SOURCES, _case_ids, _insert, _payloads, _warm_up
from bench.common import scratch_database


def statement_times(cases: int, min_ms: float, migrations: Path | None) -> dict[str, list[tuple[float, str]]]:
    out: dict[str, list[tuple[float, str]]] = {}
    with scratch_database(migrations) as url, psycopg.connect(url) as conn:
        _warm_up(conn)
        logged: list[str] = []
        conn.add_notice_handler(lambda d: logged.append(d.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (("log_min_duration", str(min_ms)), ("log_analyze", "off"),
                               ("log_nested_statements", "on"), ("log_level", "notice")):
            conn.execute(f"SET auto_explain.{setting} = '{value}'")
        conn.commit()
        rows = _payloads(_case_ids(7_300_000, cases))
        for source in SOURCES:
            logged.clear()
            _insert(conn, f"bronze_{source}_raw", rows[source])
            conn.commit()
            timed = []
            for message in logged:
                duration = re.match(r"duration: ([\d.]+) ms", message)
                text = re.search(r"Query Text: (.*?)\n\S", message, re.S)
                if duration:
                    timed.append((float(duration.group(1)), re.sub(r"\s+", " ", text.group(1) if text else message)))
            out[source] = sorted(timed, reverse=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--min-ms", type=float, default=2)
    parser.add_argument("--migrations", type=Path, default=None)
    args = parser.parse_args(argv)
    lines = []
    for source, timed in statement_times(args.cases, args.min_ms, args.migrations).items():
        lines.append(f"== {source}: {len(timed)} statements of >= {args.min_ms} ms")
        lines += [f"{ms:9.1f}  {text[:150]}" for ms, text in timed[:args.top]]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
