"""Running wrk and reading the summary line its Lua `done()` prints."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
RESULT_PREFIX = "BENCH_RESULT "
INSTALL_HINT = "sudo apt-get install -y wrk"


@dataclass(frozen=True)
class LoadResult:
    """One load run: throughput, latency percentiles (ms) and error count."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_detail: dict[str, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def pooled(loads: Sequence[LoadResult]) -> LoadResult:
    """Several runs against one server as one: throughput over their summed time.

    Their percentiles cannot be merged exactly from summaries: p50 and p90 are
    the runs' averages weighted by requests, p99 and max the worst run's (a
    pooled row never shows a better tail than one of its runs had).
    """
    requests = sum(load.requests for load in loads)

    def weighted(values: Sequence[float]) -> float:
        pairs = zip(values, loads, strict=True)
        return sum(v * load.requests for v, load in pairs) / requests if requests else 0

    errors: Counter[str] = Counter()
    for load in loads:
        errors.update(load.error_detail)
    return LoadResult(
        requests=requests,
        seconds=sum(load.seconds for load in loads),
        p50_ms=weighted([load.p50_ms for load in loads]),
        p90_ms=weighted([load.p90_ms for load in loads]),
        p99_ms=max(load.p99_ms for load in loads),
        max_ms=max(load.max_ms for load in loads),
        errors=sum(load.errors for load in loads),
        error_detail=dict(errors),
    )


def parse_wrk_output(text: str) -> LoadResult:
    """The `BENCH_RESULT {...}` line of wrk's output as a `LoadResult`."""
    for line in text.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise ValueError(f"no {RESULT_PREFIX.strip()} line in wrk output:\n{text}")
    errors = {key: int(value) for key, value in data["errors"].items()}
    return LoadResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
        errors=sum(errors.values()),
        error_detail=errors,
    )


def wrk_binary() -> str:
    """The wrk executable, or SystemExit telling the user how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(f"wrk is not installed; install it with: {INSTALL_HINT}")
    return path


def run_wrk(
    url: str,
    script: str,
    *,
    connections: int,
    seconds: float,
    args: dict[str, str] | None = None,
    threads: int = 2,
    timeout_s: int = 5,
) -> LoadResult:
    """Drive `url` with `bench/lua/<script>` for `seconds`; wrk runs from lua/."""
    command = [
        wrk_binary(),
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout_s}s",
        "-s",
        script,
        url,
        "--",
        *(f"{key}={value}" for key, value in (args or {}).items()),
    ]
    completed = subprocess.run(
        command, cwd=LUA_DIR, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return parse_wrk_output(completed.stdout)
