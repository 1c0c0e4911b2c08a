"""`python -m bench [--quick] [--scenarios a,b]`: the whole benchmark, end to end.

Creates and seeds a fresh PostgreSQL database, measures the ceilings (a raw
ASGI app on the same Hypercorn configuration; pgbench running the order
transaction), starts the real service with its production configuration, runs
the scenarios with wrk and websocket client processes, prints one table, writes
bench/results/<timestamp>.json, stops everything it started and drops the
database.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import dataset
from bench.report import Row, format_table, write_json
from bench.runner import SCENARIOS, Runner
from bench.wrk import wrk_binary


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every scenario, briefly")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of: {', '.join(SCENARIOS)}",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    args.chosen = chosen
    return args


def raise_file_limit() -> int:
    """Lift the soft open-files limit to the hard one (1,024 clients need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    wrk_binary()  # fail fast, with the install command, before any setup
    print(f"open files limit: {raise_file_limit()}")
    started = datetime.now(UTC)
    name = f"bench_{started.strftime('%Y%m%d%H%M%S')}"
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        dsn = asyncio.run(dataset.create_database(name))
        try:
            rows = _run(dsn, Path(tmp), args)
        finally:
            asyncio.run(dataset.drop_database(name))
    print()
    print(format_table(rows))
    path = write_json(rows, mode="quick" if args.quick else "full", started=started)
    print(f"\n{len(rows)} rows in {time.monotonic() - clock:.0f} s; written to {path}")
    return 0 if all(row.passed is not False for row in rows) else 1


def _run(dsn: str, workdir: Path, args: argparse.Namespace) -> list[Row]:
    step("migrating", lambda: dataset.migrate(dsn))
    runner = Runner(dsn, workdir, quick=args.quick)
    step("seeding 10,000 products and 1,000 users", runner.seed)
    try:
        return runner.run(args.chosen)
    finally:
        runner.stop_all()


def step(what: str, action: Callable[[], object]) -> None:
    start = time.monotonic()
    print(f"{what} ...", end=" ", flush=True)
    action()
    print(f"{time.monotonic() - start:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
