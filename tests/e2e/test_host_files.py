"""A server whose host files are not safely its own refuses to start, loudly.

Whether the bad file is met while the app is built (the hash slots) or in its
startup hooks (the rate-limit counters), `hypercorn -c hypercorn.toml
backend.asgi:app` with two workers must exit non-zero, never 0, and its log
must name the path. (Hypercorn's master alone would report 0:
`backend.server.startup` says why.)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.host.counters import HostCounter
from tests.support.local_users import as_other_user, shared_temp_directory
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    with shared_temp_directory() as path:
        yield path


def refuses_to_start(url: str, shared_tmp: Path, log_dir: Path) -> str:
    """Start a two-worker server with `shared_tmp` as its temp directory; its log."""
    server = LiveServer(
        url, workers=2, env={"TMPDIR": str(shared_tmp), "XDG_RUNTIME_DIR": ""}
    )
    try:
        with pytest.raises(RuntimeError, match="server exited early"):
            server.start(log_dir)
        assert server.process is not None
        assert server.process.wait(15) != 0, "a failed start must not exit 0"
    finally:
        server.stop()
    return server.logs()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_bad_file_met_while_building_the_app_stops_the_server(
    fresh_database_url: FreshDatabase, shared_tmp: Path, tmp_path: Path, backend: str
) -> None:
    url = await fresh_database_url(backend)
    directory = shared_tmp / f"backend-{os.geteuid()}"
    directory.mkdir(mode=0o700)
    (directory / "argon2-0.lock").touch(mode=0o644)
    (directory / "argon2-0.lock").chmod(0o644)

    logs = refuses_to_start(url, shared_tmp, tmp_path)

    assert "the server cannot start" in logs
    assert f"host file {directory / 'argon2-0.lock'} refused: its mode is 0644" in logs


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_bad_file_met_in_a_startup_hook_stops_the_server(
    fresh_database_url: FreshDatabase,
    shared_tmp: Path,
    tmp_path: Path,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = await fresh_database_url(backend)
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    counters = HostCounter.for_database(url).path  # where the server will look
    counters.symlink_to(shared_tmp / "elsewhere.sqlite3")

    logs = refuses_to_start(url, shared_tmp, tmp_path)

    assert f"host file {counters} refused: it is a symbolic link" in logs
    assert not (shared_tmp / "elsewhere.sqlite3").exists()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_directory_planted_by_another_user_stops_the_server(
    fresh_database_url: FreshDatabase, shared_tmp: Path, tmp_path: Path, backend: str
) -> None:
    url = await fresh_database_url(backend)
    directory = shared_tmp / f"backend-{os.geteuid()}"
    assert as_other_user("mkdir", "-m", "0777", str(directory)).returncode == 0

    logs = refuses_to_start(url, shared_tmp, tmp_path)

    assert f"host file {directory} refused: it belongs to uid" in logs
    assert list(directory.iterdir()) == []  # nothing of ours went into theirs
