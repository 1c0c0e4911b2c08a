"""The results table, its targets, and the JSON record of a run."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.wrk import LoadResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One line of the table; `passed` is None when the row has no target."""

    scenario: str
    conns: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_load(cls, scenario: str, conns: int, load: LoadResult) -> Row:
        return cls(
            scenario,
            conns,
            load.rps,
            load.p50_ms,
            load.p99_ms,
            load.errors,
            extra={
                "p90_ms": load.p90_ms,
                "max_ms": load.max_ms,
                "requests": load.requests,
                "error_detail": load.error_detail,
            },
        )

    def tail_ok(self) -> bool:
        """p99 within 4x p50: nobody starved."""
        return bool(self.p50_ms and self.p99_ms and self.p99_ms <= 4 * self.p50_ms)


def _cell(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


HEADER = (
    "scenario",
    "conns",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "ratio",
    "target",
    "result",
)


def format_table(rows: list[Row]) -> str:
    lines = [HEADER] + [
        (
            row.scenario,
            str(row.conns),
            _cell(row.rps, ",.0f"),
            _cell(row.p50_ms, ".1f"),
            _cell(row.p99_ms, ".1f"),
            _cell(row.errors, "d"),
            _cell(row.ratio, ".2f") + ("x" if row.ratio else ""),
            row.target,
            {True: "PASS", False: "FAIL", None: ""}[row.passed],
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in rendered)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        # Other work on the machine skews every number; record how busy it was.
        "loadavg_1_5_15": os.getloadavg(),
    }


def write_json(rows: list[Row], *, mode: str, started: datetime) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    record = {
        "started": started.isoformat(),
        "mode": mode,
        "machine": machine(),
        "rows": [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
