"""The `place-order` ceiling: pgbench running bench/order_txn.sql."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.stats import percentile
from bench.wrk import LoadResult

SCRIPT = Path(__file__).resolve().parent / "order_txn.sql"
_TPS_RE = re.compile(r"^tps = ([\d.]+)", re.MULTILINE)
_FAILED_RE = re.compile(r"number of failed transactions: (\d+)")


def parse_pgbench(stdout: str, latencies_us: list[int], seconds: float) -> LoadResult:
    """pgbench's summary plus its per-transaction log as a `LoadResult`."""
    tps = _TPS_RE.search(stdout)
    if tps is None:
        raise ValueError(f"no tps line in pgbench output:\n{stdout}")
    failed = _FAILED_RE.search(stdout)
    ordered = sorted(latencies_us)
    return LoadResult(
        requests=round(float(tps[1]) * seconds),
        seconds=seconds,
        p50_ms=percentile(ordered, 50) / 1e3,
        p90_ms=percentile(ordered, 90) / 1e3,
        p99_ms=percentile(ordered, 99) / 1e3,
        max_ms=(ordered[-1] if ordered else 0) / 1e3,
        errors=int(failed[1]) if failed else 0,
        error_detail={"failed": int(failed[1]) if failed else 0},
    )


def run_pgbench(dsn: str, *, clients: int, seconds: float) -> LoadResult:
    binary = shutil.which("pgbench")
    if binary is None:
        raise SystemExit(
            "pgbench is missing: sudo apt-get install -y postgresql-client"
        )
    duration = max(1, round(seconds))
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            binary,
            "-n",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(duration),
            "-f",
            str(SCRIPT),
            "-l",
            "--log-prefix",
            f"{tmp}/txn",
            dsn,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench failed: {completed.stderr}")
        latencies = [
            int(line.split()[2])
            for log in Path(tmp).glob("txn*")
            for line in log.read_text().splitlines()
            if line.strip()
        ]
    return parse_pgbench(completed.stdout, latencies, duration)
