"""A real Hypercorn process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from bench.server import bind_args

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
        command = self.command or [
            sys.executable,
            "-m",
            "hypercorn",
            "-c",
            "hypercorn.toml",
            "backend.asgi:app",
        ]
        command = [
            *command,
            *bind_args(self.port, self.workers),
            "--workers",
            str(self.workers),
        ]
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": TEST_SECRET,
            "JWT_SECRET_KEY": TEST_SECRET + "-jwt",
            "LOG_LEVEL": "WARNING",
            **self.env,
        }
        self.log_path = log_dir / f"hypercorn-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it will not go; the exit code."""
        try:
            if self.process is None or self.process.poll() is not None:
                return self.process.returncode if self.process else None
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        finally:
            if self._log is not None:
                self._log.close()
