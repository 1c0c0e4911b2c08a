"""The per-server directory: workers' files added up, dead workers swept."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.host.files import HostFileError
from backend.metrics import multiprocess

WORKER = """
import sys
from pathlib import Path
from backend.metrics import instruments
instruments.configure(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    instruments.http_request("/things/<int:id>", "GET", 200, 0.01)
instruments.subscriber_opened("websocket")
"""


def run_worker(directory: Path, requests: int) -> None:
    """A process that records `requests` requests and one open socket, then ends."""
    process = subprocess.run(
        [sys.executable, "-c", WORKER, str(directory), str(requests)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr


def dead_pid() -> int:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(ended.stdout)


def values(text: str, name: str) -> list[float]:
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_one_exposition_adds_up_every_process(tmp_path: Path) -> None:
    directory = tmp_path / "server-1"
    directory.mkdir()
    run_worker(directory, 3)
    run_worker(directory, 4)

    text = multiprocess.exposition(directory).decode()

    assert values(text, "backend_http_requests_total") == [7]
    assert values(text, "backend_http_request_duration_seconds_count") == [7]


def test_dead_workers_keep_their_counts_but_not_their_live_gauges(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "server-1"
    directory.mkdir()
    run_worker(directory, 2)  # the process has exited: its socket is gone
    assert list(directory.glob("gauge_livesum_*.db"))

    text = multiprocess.exposition(directory).decode()

    assert not list(directory.glob("gauge_livesum_*.db"))
    assert values(text, "backend_http_requests_total") == [2]
    assert values(text, "backend_event_subscribers") in ([], [0.0])


def test_prepare_removes_the_directories_of_servers_that_are_gone(
    tmp_path: Path,
) -> None:
    root = tmp_path / "metrics"
    root.mkdir(mode=0o700)
    gone = root / f"{multiprocess.PREFIX}{dead_pid()}-12345"
    gone.mkdir()
    (gone / "counter_1.db").write_bytes(b"")
    ours = multiprocess.server_directory(root)

    multiprocess.prepare(ours)

    assert ours.is_dir()
    assert not gone.exists()


def test_prepare_makes_the_workers_files_private_and_readable(
    tmp_path: Path,
) -> None:
    ours = multiprocess.server_directory(tmp_path / "metrics")

    multiprocess.prepare(ours)

    assert stat.S_IMODE(ours.stat().st_mode) == 0o700
    files = list(ours.iterdir())
    assert len(files) == len(multiprocess.KINDS)
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    # Created before any value: a scrape reads them as empty.
    assert (
        values(multiprocess.exposition(ours).decode(), "backend_http_requests_total")
        == []
    )


def test_a_metrics_directory_others_can_enter_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "metrics"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    with pytest.raises(HostFileError, match="its mode is 0755"):
        multiprocess.prepare(multiprocess.server_directory(root))
    assert list(root.iterdir()) == []


def test_the_server_directory_is_named_for_the_running_master(tmp_path: Path) -> None:
    ours = multiprocess.server_directory(tmp_path)
    identity = ours.name.removeprefix(multiprocess.PREFIX)
    assert multiprocess._still_running(identity)
    assert not multiprocess._still_running(identity + "0")
