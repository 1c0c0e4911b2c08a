"""Starting and stopping a Hypercorn process tree, and measuring its memory.

The launch harness here (`launch`, `wait_until_serving`, `terminate`) is also
the one the end-to-end tests use (tests/support/server.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
# BENCH_PORT moves it: Hypercorn binds with SO_REUSEPORT, so a second
# benchmark on the same port would silently share the first one's load.
PORT = int(os.environ.get("BENCH_PORT", "8731"))


def service_env(dsn: str) -> dict[str, str]:
    """The production configuration, plus what the benchmark itself needs."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": SECRET + "-jwt",
        # Tokens are issued before the run and must outlive a full run.
        "ACCESS_TOKEN_TTL": "3600",
        # All load comes from 127.0.0.1: a per-address login limit would turn
        # the login storm into a 429 storm and measure nothing.
        "RATE_LIMIT_LOGIN": "0",
        # place-order and fan-out place thousands of orders per user and pay
        # none: the placement rate and the pending cap would answer 429 and 409
        # and measure nothing. The cap's check still runs (and is measured).
        "RATE_LIMIT_ORDERS": "0",
        "ORDER_MAX_PENDING": "1000000",
        # fan-out subscribes thousands of sockets as a handful of admin users.
        "WS_MAX_CONNECTIONS_PER_USER": "100000",
        "LOG_LEVEL": "WARNING",
        # The webhooks scenario's receiver listens on 127.0.0.1.
        "WEBHOOK_ALLOW_PRIVATE": "true",
    }


def hypercorn_command(app: str) -> list[str]:
    """`hypercorn -c hypercorn.toml <app>`, as production runs it (see `launch`)."""
    return [sys.executable, "-m", "hypercorn", "-c", "hypercorn.toml", app]


def launch(
    command: list[str],
    *,
    port: int,
    workers: int,
    env: Mapping[str, str],
    log: IO[bytes],
    cwd: Path = PROJECT_ROOT,
) -> subprocess.Popen[bytes]:
    """Start `command` (a Hypercorn command line) bound to 127.0.0.1:`port`.

    The one launch harness of tests/support/server.py and the benchmark. The
    server gets a process group of its own, which `terminate` and `kill_all`
    sweep: workers whose master was killed outlive it otherwise, still polling
    their database.
    """
    return subprocess.Popen(
        [*command, *bind_args(port, workers), "--workers", str(workers)],
        cwd=cwd,
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_serving(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    timeout: float,
    logs: Callable[[], str],
    need_ok: bool = True,
) -> None:
    """Poll `url` until it answers (200 if `need_ok`); fail if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{logs()}")
        try:
            status = httpx.get(url, timeout=1).status_code
        except httpx.HTTPError:
            pass
        else:
            if status == 200 or not need_ok:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not come up at {url}:\n{logs()}")


def terminate(process: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM (graceful), then SIGKILL if it will not go; the exit code.

    Whatever is left of the server's process group afterwards is killed.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _kill_group(process)
    return process.returncode


def kill_all(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server, master and workers at once, as a crash of the host would."""
    _kill_group(process)
    process.wait()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Server:
    app: str
    env: dict[str, str]
    log_path: Path
    workers: int = 2
    port: int = PORT
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, health_path: str = "/health", timeout: float = 30.0) -> None:
        if _listening(self.port):
            raise RuntimeError(
                f"something already listens on port {self.port}; set BENCH_PORT"
            )
        with self.log_path.open("ab") as log:
            self.process = launch(
                hypercorn_command(self.app),
                port=self.port,
                workers=self.workers,
                env=self.env,
                log=log,
            )
        wait_until_serving(
            self.process,
            self.url + health_path,
            timeout=timeout,
            logs=lambda: self.log_path.read_text(errors="replace")[-2000:],
            need_ok=False,
        )

    def rss_mib(self) -> float:
        """Resident memory of the server and its workers, in MiB."""
        if self.process is None:
            return 0.0
        return sum(_rss_kib(pid) for pid in _tree(self.process.pid)) / 1024

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 20)


@dataclass
class Worker:
    """`quart worker`: a jobs-only process, beside a web tier that runs none.

    `niceness` lowers its CPU priority, as a worker sharing a host with the
    web tier should run: background work takes the CPU requests leave idle.
    The process leads a session of its own, and Linux schedules each session
    as a group (autogroup) whose weight only the group's own niceness sets,
    so that is lowered too (systemd's `CPUWeight=` does the same for a unit).
    """

    env: dict[str, str]
    log_path: Path
    concurrency: int
    niceness: int = 10
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "quart", "--app", "backend.asgi:app"]
        command += ["worker", "--concurrency", str(self.concurrency)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["nice", "-n", str(self.niceness), *command],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with contextlib.suppress(OSError):  # no autogroups: `nice` alone
            Path(f"/proc/{self.process.pid}/autogroup").write_text(str(self.niceness))
        deadline = time.monotonic() + 30
        while "Worker running jobs" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self._log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 20)

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def bind_args(port: int, workers: int) -> list[str]:
    """`--bind 127.0.0.1:port` once for each address hypercorn.toml binds.

    The production configuration lists its address several times, one
    listening socket each (see the comment there); a server started here keeps
    that shape and moves only the address. One worker can listen on only one
    socket per address (Hypercorn sets SO_REUSEPORT for several).
    """
    config = tomllib.loads((PROJECT_ROOT / "hypercorn.toml").read_text())
    sockets = len(config["bind"]) if workers > 1 else 1
    return [arg for _ in range(sockets) for arg in ("--bind", f"127.0.0.1:{port}")]


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids.extend(_tree(int(child)))
    return pids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
