"""The benchmark's pure helpers: reading wrk and pgbench output, percentiles."""

from __future__ import annotations

import pytest
from bench.pgbench import parse_pgbench
from bench.report import Row, format_table
from bench.stats import percentile, thin
from bench.wrk import parse_wrk_output

WRK_OUTPUT = """\
Running 4s test @ http://127.0.0.1:8731
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    20.12ms    5.01ms  80.00ms   90.00%
  9000 requests in 4.00s, 3.00MB read
Requests/sec:   2250.00
BENCH_RESULT {"requests": 9000, "duration_us": 4000000, "bytes": 3145728, \
"p50_us": 19000, "p90_us": 25000, "p99_us": 61000, "max_us": 80000, \
"mean_us": 20120.0, "errors": {"connect": 0, "read": 1, "write": 0, \
"status": 3, "timeout": 2}}
"""


def test_wrk_summary_line_gives_throughput_latency_and_errors() -> None:
    result = parse_wrk_output(WRK_OUTPUT)

    assert result.rps == pytest.approx(2250.0)
    assert (result.p50_ms, result.p99_ms, result.max_ms) == (19.0, 61.0, 80.0)
    assert result.errors == 6
    assert result.error_detail["status"] == 3


def test_wrk_output_without_summary_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="BENCH_RESULT"):
        parse_wrk_output("Requests/sec: 10\n")


def test_pgbench_tps_and_logged_latencies_make_a_result() -> None:
    stdout = "number of failed transactions: 0 (0.000%)\ntps = 512.5 (without ...)\n"

    result = parse_pgbench(stdout, [3000, 1000, 2000, 4000], seconds=2)

    assert result.requests == 1025
    assert result.p50_ms == 2.0
    assert result.p99_ms == 4.0
    assert result.errors == 0


def test_percentile_is_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 101)]

    assert percentile(ordered, 50) == 50
    assert percentile(ordered, 99) == 99
    assert percentile(ordered, 100) == 100
    assert percentile([], 99) == 0


def test_thin_keeps_the_spread_of_a_sorted_sample() -> None:
    sample = thin([float(n) for n in range(1000)], 10)

    assert len(sample) == 10
    assert sample[0] == 0
    assert sample[-1] == 900


def test_tail_check_and_table_render_pass_and_fail() -> None:
    starved = Row("read-one", 256, 1000.0, p50_ms=10.0, p99_ms=41.0, errors=0)
    fair = Row("read-one", 256, 1000.0, p50_ms=10.0, p99_ms=40.0, errors=0)
    fair.passed = fair.tail_ok()

    assert not starved.tail_ok()
    assert fair.tail_ok()
    assert "PASS" in format_table([fair])
