"""A second local user, for tests that play a hostile neighbour on the host.

Acting as another user needs root and `setpriv` (util-linux). Without them the
tests skip, except where the suite must run in full (`REQUIRE_POSTGRES=1`, as
in CI), where they fail.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import databases

USER, GROUP = "nobody", "nogroup"


def other_user_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "acting as a second local user needs root"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    try:
        pwd.getpwnam(USER)
        grp.getgrnam(GROUP)
    except KeyError:
        return f"there is no user {USER} or group {GROUP}"
    return None


def require_other_user() -> None:
    reason = other_user_unavailable_reason()
    if reason is None:
        return
    if databases.postgres_required():
        pytest.fail(f"REQUIRE_POSTGRES=1 runs every test, but {reason}")
    pytest.skip(reason)


def other_uid() -> int:
    return pwd.getpwnam(USER).pw_uid


def as_other_user(*command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` as the other user, with no supplementary groups."""
    require_other_user()
    return subprocess.run(
        ["setpriv", f"--reuid={USER}", f"--regid={GROUP}", "--clear-groups", *command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@contextmanager
def shared_temp_directory() -> Iterator[Path]:
    """A fresh world-writable, sticky directory like /tmp that both users reach."""
    path = Path(tempfile.mkdtemp(prefix="shared-", dir=tempfile.gettempdir()))
    try:
        path.chmod(0o1777)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
