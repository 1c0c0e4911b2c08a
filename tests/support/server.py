"""A real Hypercorn process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.server import PROJECT_ROOT as PROJECT_ROOT
from bench.server import hypercorn_command, launch, terminate, wait_until_serving

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running `hypercorn -c hypercorn.toml backend.asgi:app`."""

    database_url: str
    workers: int = 1
    env: Mapping[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    cwd: Path = PROJECT_ROOT
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, log_dir: Path, timeout: float = 30.0) -> LiveServer:
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": TEST_SECRET,
            "JWT_SECRET_KEY": TEST_SECRET + "-jwt",
            "LOG_LEVEL": "WARNING",
            # Load and event tests place many orders from few accounts; the
            # order caps are tested where they are the subject (and set there).
            "ORDER_MAX_PENDING": "1000000",
            "RATE_LIMIT_ORDERS": "0",
            # Several test processes share the host's hashing slots.
            "PASSWORD_HASH_WAIT": "30",
            **self.env,
        }
        self.log_path = log_dir / f"hypercorn-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = launch(
            self.command or hypercorn_command("backend.asgi:app"),
            port=self.port,
            workers=self.workers,
            cwd=self.cwd,
            env=env,
            log=self._log,
        )
        wait_until_serving(
            self.process, f"{self.base_url}/health", timeout=timeout, logs=self.logs
        )
        return self

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it will not go; the exit code."""
        try:
            return None if self.process is None else terminate(self.process, timeout)
        finally:
            if self._log is not None:
                self._log.close()
