"""`read-list`: the service against its ceiling and against the seed, per variant.

Three variants of a random page (1..50) of 20 active products
(bench/lua/read_list.lua): `plain`, `filter` (a price range) and `sort`, each
at 64 and 256 connections, against three servers running side by side, each
warmed up first: the ceiling (bench/ceiling_list.py on the service's Hypercorn
configuration), the seed (bench/seed_flask_app.py under Gunicorn) and the
service. The ceiling and the seed run in halves around the service's run
(`scenarios.bracketed`). The service's rows carry the targets: at least 0.7x
its ceiling with p99 within 4x p50, and at least twice the seed's throughput
with a lower p99.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.report import Row
from bench.scenarios import Plan, bracketed, warm_up
from bench.server import PORT, PROJECT_ROOT, Server, wait_until_serving
from bench.wrk import LoadResult

SCRIPT = "read_list.lua"
VARIANTS = ("plain", "filter", "sort")
CONNS = (64, 256)
CEILING_MIN = 0.7
SEED_MIN = 2.0
# Gunicorn's threaded worker: 2 workers (one per core, as the service runs),
# 4 threads each. A plain sync worker serves one connection at a time and
# closes it after every response (no keep-alive), so under 64 to 256 wrk
# connections it measures reconnects and its accept queue; gthread keeps
# connections alive and is what Gunicorn picks once `--threads` is above 1.
SEED_WORKERS = 2
SEED_THREADS = 4


def measure(service: str, ceiling: str, seed: str, plan: Plan) -> list[Row]:
    """Every variant at every connection count: the baselines' rows, the service's."""
    rows: list[Row] = []
    for variant in VARIANTS:
        args = {"variant": variant}
        for base in (ceiling, seed, service):
            warm_up(base, SCRIPT, plan, args)
        for conns in CONNS:
            load, (ceiling_load, seed_load) = bracketed(
                service, [ceiling, seed], SCRIPT, conns, plan, args
            )
            rows += [
                Row.from_load(
                    f"ceiling: raw ASGI+asyncpg list {variant}", conns, ceiling_load
                ),
                Row.from_load(f"seed Flask+Gunicorn {variant}", conns, seed_load),
                against_ceiling(variant, conns, load, ceiling_load),
                against_seed(variant, conns, load, seed_load),
            ]
    return rows


def against_ceiling(
    variant: str, conns: int, load: LoadResult, ceiling: LoadResult
) -> Row:
    row = Row.from_load(f"read-list {variant}", conns, load)
    row.target = f">={CEILING_MIN}x ceiling, p99<=4x p50"
    row.ratio = load.rps / ceiling.rps if ceiling.rps else None
    row.passed = (
        row.ratio is not None
        and row.ratio >= CEILING_MIN
        and row.tail_ok()
        and load.errors == 0
    )
    row.extra["p99_over_p50"] = load.p99_ms / load.p50_ms if load.p50_ms else None
    return row


def against_seed(variant: str, conns: int, load: LoadResult, seed: LoadResult) -> Row:
    """The ratio column is service/seed throughput; p99 columns are the service's."""
    row = Row.from_load(f"read-list {variant} vs seed Flask", conns, load)
    row.ratio = load.rps / seed.rps if seed.rps else None
    row.target = f">={SEED_MIN}x seed, p99 < seed's {seed.p99_ms:,.0f} ms"
    row.passed = (
        row.ratio is not None
        and row.ratio >= SEED_MIN
        and load.p99_ms < seed.p99_ms
        and load.errors == 0
    )
    row.extra.update(
        seed_rps=seed.rps, seed_p50_ms=seed.p50_ms, seed_p99_ms=seed.p99_ms
    )
    return row


@dataclass
class SeedServer(Server):
    """The seed Flask app under Gunicorn, on the benchmark's port."""

    def start(self, health_path: str = "/health", timeout: float = 30.0) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(PROJECT_ROOT / "bench"),
            "--workers",
            str(SEED_WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(SEED_THREADS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--backlog",
            "2048",
            self.app,
        ]
        env = {**self.env, "SEED_THREADS": str(SEED_THREADS)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
            )
        wait_until_serving(
            self.process,
            self.url + health_path,
            timeout=timeout,
            logs=lambda: self.log_path.read_text(errors="replace")[-2000:],
        )


@contextlib.contextmanager
def seed_running(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """The seed, serving beside the service for as long as the block runs."""
    server = SeedServer("seed_flask_app:app", env, log_path, port=PORT + 2)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
