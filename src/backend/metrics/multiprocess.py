"""Where a server's workers keep their metric files, and keeping it clean.

One directory per running server (its Hypercorn master), under this user's
private host directory: `<private>/metrics/server-<pid>-<start>`, both made
and checked by the host-file policy (`host.files`), as are this worker's
value files, created 0600 before prometheus-client opens them by name. The start
time of the master (Linux: from /proc) tells a live server from an earlier one
whose pid was reused, so a new server never adds up an old one's counters.

Cleaning, at every worker start and every scrape:
- directories of servers that are gone are removed;
- a dead worker's live gauges (subscribers, pool use) are removed with
  `mark_process_dead`; its counters and histograms stay, so totals never go
  backwards when Hypercorn replaces a worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from backend.host.files import open_private, private_directory, private_subdirectory

PREFIX = "server-"
# prometheus-client's file per value kind and process: `<kind>_<pid>.db`; the
# kinds are those of `instruments` (gauges by their multiprocess mode).
KINDS = ("counter", "histogram", "gauge_livesum", "gauge_mostrecent")
# Zeros read as an empty file to both the writer and a scrape (a file of size 0
# would break a scrape); prometheus-client starts its own files at this size.
_VALUE_FILE_SIZE = 1 << 16


def in_worker() -> bool:
    """Whether this process is one of several workers of a Hypercorn master."""
    return multiprocessing.parent_process() is not None


def server_directory(root: Path | None = None) -> Path:
    """This worker's server's directory (not created)."""
    root = root or private_directory() / "metrics"
    return root / f"{PREFIX}{_identity(os.getppid())}"


def prepare(directory: Path) -> None:
    """Create `directory` and this worker's value files; remove gone servers'
    directories and sweep dead workers."""
    root = private_subdirectory(directory.parent)
    for other in root.glob(f"{PREFIX}*"):
        if other != directory and not _still_running(other.name[len(PREFIX) :]):
            shutil.rmtree(other, ignore_errors=True)
    private_subdirectory(directory)
    for kind in KINDS:
        _create_value_file(directory / f"{kind}_{os.getpid()}.db")
    sweep_dead_workers(directory)


def sweep_dead_workers(directory: Path) -> None:
    """Remove the live-gauge files of workers that are no longer running."""
    pids = {_pid_of(path) for path in directory.glob("*.db")}
    for pid in pids - {None}:
        assert pid is not None
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))


def worker_exiting(directory: Path) -> None:
    """This worker's live gauges go with it (its counters stay)."""
    with contextlib.suppress(OSError):
        multiprocess.mark_process_dead(os.getpid(), str(directory))


def exposition(directory: Path) -> bytes:
    """The text format of every worker's metrics added up (reads files: a thread)."""
    sweep_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry)


def _create_value_file(path: Path) -> None:
    descriptor = open_private(path)
    try:
        if os.fstat(descriptor).st_size == 0:
            os.ftruncate(descriptor, _VALUE_FILE_SIZE)
    finally:
        os.close(descriptor)


def _pid_of(path: Path) -> int | None:
    # prometheus-client names them <type>[_<mode>]_<pid>.db
    tail = path.stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process holds the pid now: ours is gone
    return True


def _identity(pid: int) -> str:
    """`<pid>-<start time>` where /proc tells the start time, else `<pid>`."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return str(pid)
    # Field 22 (starttime), counted after the command name's closing parenthesis.
    return f"{pid}-{stat.rsplit(')', 1)[1].split()[19]}"


def _still_running(identity: str) -> bool:
    pid = identity.split("-", 1)[0]
    return pid.isdigit() and _alive(int(pid)) and _identity(int(pid)) == identity
